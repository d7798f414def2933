/* test-ready.c - the readiness state machine (src/prov/ready.c) driven by
 * tests/prov/ready.cases: a sequence of inputs (facts from the events, the
 * time, probe results) and the step expected after each.  One TAP line per
 * expectation; the file's format is described at its top. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prov/fswatch.h"
#include "prov/ready.h"
#include "prov/trigger.h"
#include "tap.h"
#include "util/xalloc.h"

#define MS 1000000LL

struct cur {
  char name[128];
  struct ready_gate g;
  struct ready_facts f;
  bool aborted;
  int64_t now;
  int line;
};

static const char *const act_names[] = { "stop", "ready", "fail", "say", "probe", "wait" };

static bool
parse_gate (const char *s, enum gate_kind *g)
{
  if (strcmp (s, "running") == 0)
    *g = GATE_RUNNING;
  else if (strcmp (s, "healthy") == 0)
    *g = GATE_HEALTHY;
  else if (strcmp (s, "completed") == 0)
    *g = GATE_COMPLETED;
  else
    return false;
  return true;
}

static bool
parse_cond (const char *s, enum stack_condition *c)
{
  if (strcmp (s, "started") == 0)
    *c = STACK_COND_STARTED;
  else if (strcmp (s, "healthy") == 0)
    *c = STACK_COND_HEALTHY;
  else if (strcmp (s, "completed") == 0)
    *c = STACK_COND_COMPLETED;
  else
    return false;
  return true;
}

static bool
parse_phase (const char *s, enum phase *p)
{
  static const char *const names[] = { "pending", "created", "started", "seeding",
                                       "ready", "failed", "skipped" };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp (s, names[i]) == 0)
      {
        *p = (enum phase) i;
        return true;
      }
  return false;
}

static const char *
gate_str (enum gate_kind g)
{
  return g == GATE_HEALTHY ? "healthy" : g == GATE_COMPLETED ? "completed" : "running";
}

/* "expect ACTION [ARG]": ARG is the wait in ms, or the text of say/fail. */
static void
expect (struct cur *c, const char *act, const char *arg)
{
  struct ready_step st = ready_next (&c->g, &c->f, c->aborted, c->now);
  const char *got = act_names[st.act];
  char want_txt[256], got_txt[256];
  snprintf (want_txt, sizeof want_txt, "%s%s%s", act, arg ? " " : "", arg ? arg : "");
  if (st.act == READY_WAIT)
    snprintf (got_txt, sizeof got_txt, "%s %lld", got, (long long) (st.wait_ns / MS));
  else if (st.act == READY_SAY || st.act == READY_FAIL)
    snprintf (got_txt, sizeof got_txt, "%s %s", got, st.why);
  else
    snprintf (got_txt, sizeof got_txt, "%s", got);
  tap_is_str (got_txt, want_txt, "%s (line %d): at %lld ms: %s", c->name, c->line,
              (long long) (c->now / MS), want_txt);
}

static void
bad_line (struct cur *c, const char *l)
{
  tap_ok (0, "ready.cases line %d: cannot read '%s'", c->line, l);
}

static void
do_line (struct cur *c, char *l)
{
  char *rest = strchr (l, ' ');
  if (rest)
    *rest++ = '\0';
  char a[64] = "", b[64] = "", d[64] = "";
  int n = rest ? sscanf (rest, "%63s %63s %63s", a, b, d) : 0;

  if (strcmp (l, "case") == 0 && rest)
    {
      snprintf (c->name, sizeof c->name, "%s", rest);
      c->g = (struct ready_gate){ 0 };
      c->f = (struct ready_facts){ 0 };
      c->aborted = false;
      c->now = 0;
      ready_init (&c->g);
    }
  else if (strcmp (l, "gate") == 0 && n >= 1 && parse_gate (a, &c->g.gate))
    {
      /* gate KIND [probe] [timeout MS] [start MS] */
      char *save = NULL;
      strtok_r (rest, " ", &save);
      for (char *t; (t = strtok_r (NULL, " ", &save)) != NULL;)
        if (strcmp (t, "probe") == 0)
          c->g.has_probe = true;
        else if (strcmp (t, "timeout") == 0 && (t = strtok_r (NULL, " ", &save)))
          c->g.timeout_ns = strtoll (t, NULL, 10) * MS;
        else if (strcmp (t, "start") == 0 && (t = strtok_r (NULL, " ", &save)))
          c->g.t_start = strtoll (t, NULL, 10) * MS;
      ready_init (&c->g);
    }
  else if (strcmp (l, "at") == 0 && n == 1)
    c->now = strtoll (a, NULL, 10) * MS;
  else if (strcmp (l, "event") == 0 && n >= 1)
    {
      if (strcmp (a, "started") == 0)
        c->f.started = true;
      else if (strcmp (a, "healthy") == 0)
        c->f.healthy = true;
      else if (strcmp (a, "unhealthy") == 0)
        c->f.unhealthy = true;
      else if (strcmp (a, "oom") == 0)
        c->f.oom = true;
      else if (strcmp (a, "died") == 0 && n == 2)
        {
          c->f.died = true;
          c->f.exit_code = atoi (b);
        }
      else
        bad_line (c, l);
    }
  else if (strcmp (l, "port") == 0 && n == 1)
    c->g.trig = strcmp (a, "open") == 0 ? TRIG_OPEN : strcmp (a, "closed") == 0 ? TRIG_CLOSED
                                                                                : TRIG_NONE;
  else if (strcmp (l, "procs") == 0 && n >= 1)
    {
      /* procs watched|signal [CAUSE]: the signals are looked at; one changed and settled */
      c->g.watch = true;
      if (strcmp (a, "signal") == 0)
        {
          c->g.signals++;
          c->g.signal_cause = CAUSE_PROCS;
          for (int k = CAUSE_BLIND; n == 2 && k <= CAUSE_ENGINE; k++)
            if (strcmp (b, ready_cause_name ((enum ready_cause) k)) == 0)
              c->g.signal_cause = (enum ready_cause) k;
        }
      else if (strcmp (a, "watched") != 0)
        bad_line (c, l);
    }
  else if (strcmp (l, "look") == 0 && n == 1)
    c->g.look_ns = strtoll (a, NULL, 10) * MS;
  else if (strcmp (l, "cause") == 0 && n == 1)
    /* cause NAME: what asked for the last probe (after ready: the one that passed) */
    tap_is_str (ready_cause_name (c->g.cause), a, "%s (line %d): the probe's cause is %s",
                c->name, c->line, a);
  else if (strcmp (l, "abort") == 0)
    c->aborted = true;
  else if (strcmp (l, "probed") == 0 && n == 1)
    ready_probed (&c->g, atoi (a));
  else if (strcmp (l, "expect") == 0 && n >= 1)
    {
      char *arg = strchr (rest, ' ');
      if (arg)
        *arg++ = '\0';
      expect (c, rest, arg);
    }
  else if (strcmp (l, "holds") == 0 && n == 3)
    {
      /* holds PHASE CONDITION yes|no */
      enum phase p;
      enum stack_condition cd;
      if (!parse_phase (a, &p) || !parse_cond (b, &cd))
        return bad_line (c, l);
      tap_is_str (ready_dep_holds (p, cd) ? "yes" : "no", d, "line %d: a dependency %s meets %s: %s",
                  c->line, a, b, d);
    }
  else if (strcmp (l, "raise") == 0 && n == 3)
    {
      /* raise GATE CONDITION GATE' */
      enum gate_kind g;
      enum stack_condition cd;
      if (!parse_gate (a, &g) || !parse_cond (b, &cd))
        return bad_line (c, l);
      tap_is_str (gate_str (ready_gate_raise (g, cd)), d, "line %d: %s raised by %s: %s", c->line,
                  a, b, d);
    }
  else if (strcmp (l, "fix") == 0 && n == 3)
    {
      /* fix GATE hc|nohc GATE'|refused */
      enum gate_kind g;
      if (!parse_gate (a, &g))
        return bad_line (c, l);
      bool ok = ready_gate_fix (&g, strcmp (b, "hc") == 0);
      tap_is_str (ok ? gate_str (g) : "refused", d, "line %d: %s with %s: %s", c->line, a, b, d);
    }
  else if (strcmp (l, "container") == 0 && n == 3)
    {
      /* container exited|running hc|nohc GATE */
      enum gate_kind g = ready_gate_of_container (strcmp (a, "exited") == 0,
                                                  strcmp (b, "hc") == 0);
      tap_is_str (gate_str (g), d, "line %d: a container %s with %s: %s", c->line, a, b, d);
    }
  else
    bad_line (c, l);
}

/* ready_event_decode on one event: "KIND EXIT" or "-" when it decodes to nothing. */
static void
decode_is (const char *json, const char *want)
{
  static const char *const kinds[] = { "other", "start", "die", "oom", "healthy", "unhealthy" };
  json_object *v = json_tokener_parse (json);
  struct ready_event e;
  char got[64] = "-";
  if (ready_event_decode (v, &e))
    snprintf (got, sizeof got, "%s %s %d", e.id, kinds[e.kind], e.exit_code);
  tap_is_str (got, want, "event %s", json);
  json_object_put (v);
}

static void
decode_cases (void)
{
  decode_is ("{\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":{\"exitCode\":\"137\"}}}",
             "c1 die 137");
  /* exitCode is read whole: atoi would have said 1 */
  decode_is ("{\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":{\"exitCode\":\"1x\"}}}",
             "c1 die -1");
  decode_is ("{\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":{\"exitCode\":\"\"}}}",
             "c1 die -1");
  decode_is ("{\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":{\"exitCode\":\"99999999999\"}}}",
             "c1 die -1");
  decode_is ("{\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\"}}", "c1 die -1");
  decode_is ("{\"status\":\"start\",\"id\":\"c2\"}", "c2 start -1");
  decode_is ("{\"Action\":\"health_status: healthy\",\"Actor\":{\"ID\":\"c3\"}}", "c3 healthy -1");
  decode_is ("{\"Action\":\"exec_create: sh\",\"Actor\":{\"ID\":\"c3\"}}", "c3 other -1");
  decode_is ("{\"Action\":\"start\"}", "-");
  decode_is ("[1,2]", "-");
}

/* Write the process table trigger_procs_look reads. */
static void
procs_write (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f)
    {
      fputs (text, f);
      fclose (f);
    }
}

/* A child that waits to be killed; its pid. */
static pid_t
child (void)
{
  pid_t p = fork ();
  if (p == 0)
    {
      pause ();
      _exit (0);
    }
  return p;
}

/* A process whose parent is not this one (an "exec": its parent is
 * outside the table): a child's child, its parent gone at once. */
static pid_t
orphan (void)
{
  int fd[2];
  if (pipe (fd) < 0)
    return -1;
  pid_t p = fork ();
  if (p == 0)
    {
      pid_t g = fork ();
      if (g == 0)
        {
          close (fd[0]);
          close (fd[1]);
          pause ();
          _exit (0);
        }
      (void) !write (fd[1], &g, sizeof g);
      _exit (0);
    }
  pid_t g = -1;
  close (fd[1]);
  (void) !read (fd[0], &g, sizeof g);
  close (fd[0]);
  waitpid (p, NULL, 0);
  return g;
}

/* trigger_signal_look on a file standing in for a cgroup.procs, this
 * process standing in for the container's init: a change that then holds
 * for one look is a signal, one that goes on is not yet; one that came
 * and went is none; a process whose parent is outside (an exec) is not
 * in the table; a name that changes (an exec into the server) is; a
 * table that goes away ends the watch. */
static void
procs_cases (void)
{
  char dir[] = "/tmp/itm-test-ready.XXXXXX";
  if (!tap_ok (mkdtemp (dir) != NULL, "a temporary directory"))
    return;
  pid_t c1 = child (), c2 = child (), c3 = child (), o = orphan ();
  struct trigger t = { .pid = getpid () };
  enum ready_cause why = CAUSE_BLIND;
  char self[17] = "";
  prctl (PR_GET_NAME, self);
  snprintf (t.procs, sizeof t.procs, "%s/cgroup.procs", dir);
  char tab[256];
#define TABLE(...)                                                                                \
  do                                                                                              \
    {                                                                                             \
      pid_t _p[] = { __VA_ARGS__ };                                                               \
      size_t _n = 0;                                                                              \
      for (size_t _i = 0; _i < sizeof _p / sizeof *_p; _i++)                                      \
        _n += (size_t) snprintf (tab + _n, sizeof tab - _n, "%d\n", (int) _p[_i]);                \
      procs_write (t.procs, tab);                                                                 \
    }                                                                                             \
  while (0)
  pid_t me = getpid ();
  TABLE (me, c1);
  tap_ok (trigger_watching (&t), "procs: watched");
  tap_ok (!trigger_signal_look (&t, &why), "procs: the first look learns the table");
  tap_ok (!trigger_signal_look (&t, &why), "procs: the same table: no signal");
  TABLE (me, c1, c2);
  tap_ok (!trigger_signal_look (&t, &why), "procs: it changed: not yet (it may go on changing)");
  TABLE (me, c2);
  tap_ok (!trigger_signal_look (&t, &why), "procs: it changed again: not yet");
  tap_ok (trigger_signal_look (&t, &why), "procs: it held for one look: a signal");
  tap_is_str (ready_cause_name (why), "processes", "procs: named processes");
  tap_ok (!trigger_signal_look (&t, &why), "procs: still the same: no second signal");
  TABLE (me, c2, c3);
  tap_ok (!trigger_signal_look (&t, &why), "procs: a process in the table: not yet");
  TABLE (me, c2);
  tap_ok (!trigger_signal_look (&t, &why), "procs: gone again: not yet");
  tap_ok (!trigger_signal_look (&t, &why), "procs: settled where it was: no signal (it came and went)");
  TABLE (me, c2, o);
  tap_ok (!trigger_signal_look (&t, &why), "procs: an exec (its parent outside) in the table: nothing");
  tap_ok (!trigger_signal_look (&t, &why), "procs: it stays: still nothing (the engine's own probe)");
  TABLE (me, c2, 4194399);
  tap_ok (!trigger_signal_look (&t, &why), "procs: a pid gone before it is read: nothing");
  tap_ok (!trigger_signal_look (&t, &why), "procs: and still nothing");
  prctl (PR_SET_NAME, "itm-exec");
  tap_ok (!trigger_signal_look (&t, &why), "procs: a name changed (an exec into the server): not yet");
  tap_ok (trigger_signal_look (&t, &why), "procs: it held: a signal");
  prctl (PR_SET_NAME, self);
  TABLE (me, c2, c1, c3);
  tap_ok (!trigger_signal_look (&t, &why), "procs: workers started (seen first during a probe): not yet");
  tap_ok (trigger_signal_look (&t, &why), "procs: they stay: a signal");
  unlink (t.procs);
  tap_ok (!trigger_signal_look (&t, &why), "procs: the table gone: no signal");
  tap_ok (!trigger_watching (&t), "procs: and no more looks");
#undef TABLE
  rmdir (dir);
  pid_t all[] = { c1, c2, c3, o };
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i] > 0)
      kill (all[i], SIGKILL);
  for (size_t i = 0; i < 3; i++)
    waitpid (all[i], NULL, 0);
}

/* ready_look_ns: how often each gate looks when many look at once */
static void
look_cases (void)
{
  tap_is_int (ready_look_ns (1, 40000), LOOK_MIN_NS, "look: one gate: every LOOK_MIN_NS");
  tap_is_int (ready_look_ns (0, 0), LOOK_MIN_NS, "look: nothing known: every LOOK_MIN_NS");
  tap_is_int (ready_look_ns (25, 40000), LOOK_MIN_NS, "look: 25 gates at 40 us: 10 ms (10%% of a core)");
  tap_is_int (ready_look_ns (100, 40000), 40 * MS, "look: 100 gates at 40 us: 40 ms (10%% of a core)");
  tap_is_int (ready_look_ns (500, 40000), 200 * MS, "look: 500 gates: 200 ms");
  tap_is_int (ready_look_ns (100, 400000), 400 * MS, "look: 100 gates of costly looks: 400 ms");
  tap_is_int (ready_look_ns (5000, 400000), LOOK_MAX_NS, "look: never rarer than LOOK_MAX_NS");
}

/* trigger_settle alone: the rule every signal follows */
static void
settle_cases (void)
{
  struct settle s = { 0 };
  tap_ok (!trigger_settle (&s, 5), "settle: the first look learns");
  tap_ok (!trigger_settle (&s, 6), "settle: changed: not yet");
  tap_ok (!trigger_settle (&s, 7), "settle: still changing: not yet");
  tap_ok (trigger_settle (&s, 7), "settle: held one look: a signal");
  tap_ok (!trigger_settle (&s, 7), "settle: held on: no second signal");
  tap_ok (!trigger_settle (&s, 8), "settle: a count that grows: not yet");
  tap_ok (trigger_settle (&s, 8), "settle: and pauses: a signal");
}

/* A thread in a network namespace of its own, with two TCP sockets made
 * there (one listening): the listen table, read through
 * trigger_listen_open (the thread's namespace, by its tid), changes when
 * the second listens and when the first closes, and with nothing else
 * (a private namespace: no other test's sockets). */
struct netns_thread
{
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int state;                    /* 0 making, 1 ready (or failed: a < 0), 2 may end */
  pid_t tid;
  int a, b;
};

static void *
netns_main (void *arg)
{
  struct netns_thread *n = arg;
  struct sockaddr_in any = { .sin_family = AF_INET };
  n->tid = (pid_t) syscall (SYS_gettid);
  n->a = n->b = -1;
  if (unshare (CLONE_NEWNET) == 0)
    {
      n->a = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      n->b = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (bind (n->a, (struct sockaddr *) &any, sizeof any) < 0 || listen (n->a, 1) < 0
          || bind (n->b, (struct sockaddr *) &any, sizeof any) < 0)
        n->a = -1;
    }
  pthread_mutex_lock (&n->mu);
  n->state = 1;
  pthread_cond_broadcast (&n->cv);
  while (n->state != 2)
    pthread_cond_wait (&n->cv, &n->mu);
  pthread_mutex_unlock (&n->mu);
  return NULL;
}

static void
listen_cases (void)
{
  if (geteuid () != 0)
    {
      tap_skip (7, "listen: needs root (a network namespace)");
      return;
    }
  struct netns_thread n = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
  pthread_t th;
  if (!tap_ok (pthread_create (&th, NULL, netns_main, &n) == 0, "listen: a thread"))
    return;
  pthread_mutex_lock (&n.mu);
  while (n.state != 1)
    pthread_cond_wait (&n.cv, &n.mu);
  pthread_mutex_unlock (&n.mu);
  struct listen_table lt = { .diag = -1, .stat = { -1, -1 } };
  bool open = n.a >= 0 && trigger_listen_open (n.tid, &lt);
  uint64_t h1 = 0, h2 = 0, h3 = 0, h4 = 0;
  tap_ok (open && trigger_listen_sum (&lt, &h1), "listen: the namespace's table can be read");
  tap_ok (lt.stat[0] >= 0 && lt.stat[1] >= 0, "listen: and its sockstat, sockstat6");
  unsigned d = lt.dumps;
  trigger_listen_sum (&lt, &h2);
  tap_ok (h1 == h2, "listen: nothing changed: the same table");
  tap_is_int (lt.dumps, d, "listen: ... not asked again (the count in use is the same)");
  listen (n.b, 1);
  trigger_listen_sum (&lt, &h3);
  tap_ok (h3 != h2, "listen: a second socket listens: another table");
  tap_is_int (lt.dumps, d + 1, "listen: ... asked once");
  close (n.a);
  trigger_listen_sum (&lt, &h4);
  tap_ok (h4 != h3 && h4 != h2, "listen: the first one closed: another table again");
  if (open)
    trigger_listen_close (&lt);
  close (n.b);
  pthread_mutex_lock (&n.mu);
  n.state = 2;
  pthread_cond_broadcast (&n.cv);
  pthread_mutex_unlock (&n.mu);
  pthread_join (th, NULL);
}

static void
touch (const char *path)
{
  FILE *f = fopen (path, "a");
  if (f)
    {
      fputs ("x\n", f);
      fclose (f);
    }
}

/* fswatch: a tree's activity, its new directories watched too, the cap,
 * two slots on one directory, nothing left after remove */
static void
fswatch_cases (void)
{
  char dir[] = "/tmp/itm-test-fswatch.XXXXXX";
  if (!tap_ok (mkdtemp (dir) != NULL, "a temporary directory"))
    return;
  cleanup_free char *sub = xasprintf ("%s/a", dir), *deep = xasprintf ("%s/a/b", dir),
                    *f1 = xasprintf ("%s/a/b/up", dir), *log = xasprintf ("%s/log", dir),
                    *f2 = xasprintf ("%s/a/x", dir), *nope = xasprintf ("%s/none", dir);
  mkdir (sub, 0700);
  touch (log);
  size_t before = fswatch_watches ();
  const char *paths[] = { dir, nope };
  int w = fswatch_add (paths, 2, 8), l = fswatch_add ((const char *[]){ log }, 1, 0);
  tap_ok (w > 0 && l > 0, "fswatch: slots given");
  tap_ok (fswatch_add ((const char *[]){ nope }, 1, 8) == 0, "fswatch: nothing to watch: no slot");
  tap_ok (fswatch_watches () == before + 3, "fswatch: the tree (2 directories) and the log: 3 watches");
  uint64_t c0 = fswatch_count (w);
  tap_ok (fswatch_count (w) == c0, "fswatch: quiet: the count holds");
  mkdir (deep, 0700);
  uint64_t c1 = fswatch_count (w);
  tap_ok (c1 > c0, "fswatch: a new directory counts");
  tap_ok (fswatch_watches () == before + 4, "fswatch: and is watched");
  touch (f1);
  uint64_t c2 = fswatch_count (w);
  tap_ok (c2 > c1, "fswatch: a file made in the new directory counts");
  tap_ok (fswatch_count (l) == 0, "fswatch: the log's slot saw none of it");
  touch (log);
  tap_ok (fswatch_count (l) > 0, "fswatch: the log grew");
  int w2 = fswatch_add ((const char *[]){ sub }, 1, 1);
  touch (f2);
  tap_ok (fswatch_count (w2) > 0 && fswatch_count (w) > c2,
          "fswatch: two slots on one directory both count");
  fswatch_remove (w2);
  tap_ok (fswatch_watches () == before + 4, "fswatch: removing one slot keeps the other's watch");
  for (int i = 0; i < 10; i++)
    {
      cleanup_free char *d = xasprintf ("%s/d%d", dir, i);
      mkdir (d, 0700);
    }
  fswatch_count (w);
  tap_ok (fswatch_watches () == before + 1 + 8, "fswatch: at most max_dirs directories a slot");
  fswatch_remove (w);
  fswatch_remove (l);
  tap_ok (fswatch_watches () == before, "fswatch: nothing held after remove");
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
  tap_ok (system (cmd) == 0, "fswatch: the directory removed");
}

int
main (void)
{
  decode_cases ();
  procs_cases ();
  settle_cases ();
  look_cases ();
  listen_cases ();
  fswatch_cases ();
  const char *srcdir = getenv ("ITM_SRCDIR");
  cleanup_free char *path = xasprintf ("%s/tests/prov/ready.cases", srcdir ? srcdir : ".");
  FILE *f = fopen (path, "r");
  if (!tap_ok (f != NULL, "%s opens", path))
    return tap_done ();
  struct cur c = { .name = "?" };
  char line[512];
  while (fgets (line, sizeof line, f))
    {
      c.line++;
      line[strcspn (line, "\n")] = '\0';
      char *l = line + strspn (line, " \t");
      if (*l == '\0' || *l == '#')
        continue;
      do_line (&c, l);
    }
  fclose (f);
  return tap_done ();
}
