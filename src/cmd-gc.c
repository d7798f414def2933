/* cmd-gc.c - itm-env gc: remove the namespaces nobody will remove: those
 * whose owner process is gone (created on this host by a process that no
 * longer runs, and not handed over to the user by a successful up) and
 * those whose expiry label has passed.  Nothing without our label is ever
 * looked at.
 *
 * Also the crash-safety watchdog's entry point (hidden options
 * --watchdog NS --watchdog-fd FD, src/verify/watchdog.c). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "state/state.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_OLDER_THAN,
  OPT_ONLY,
  OPT_WATCHDOG,
  OPT_WATCHDOG_FD,
  OPT_WATCHDOG_LOCK_FD,
  OPT_REAPER,
  OPT_REAPER_WATCH,
};

struct gc_args {
  bool dry, json;
  int64_t older_ns;
  const char *only;          /* -p: only this namespace */
  const char *watch;         /* --watchdog NS */
  int watch_fd;
  int lock_fd;               /* --watchdog-lock-fd: the dead up's lock, held until done */
  const char *reaper;        /* --reaper NS */
  const char *reaper_watch;  /* --reaper-watch CONTAINER */
};

/* A namespace found: what its resources' labels say. */
struct found {
  char *ns;
  char *host;
  long pid;
  time_t created;       /* earliest, 0 unknown */
  time_t expires;       /* earliest, 0 unknown */
  size_t count[3];      /* containers, networks, volumes */
};

static const char *const kinds[] = { "containers", "networks", "volumes" };

static struct found *
find_or_add (struct found **v, size_t *n, size_t *cap, const char *ns)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*v)[i].ns, ns) == 0)
      return &(*v)[i];
  *v = xgrow (*v, cap, *n + 1, sizeof **v);
  (*v)[*n] = (struct found){ .ns = xstrdup (ns) };
  return &(*v)[(*n)++];
}

static void
found_free (struct found *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].ns);
      free (v[i].host);
    }
  free (v);
}

static void
account (struct found *g, json_object *o)
{
  const char *h = json_label (o, ITM_LABEL_CREATOR_HOST), *p = json_label (o, ITM_LABEL_CREATOR_PID);
  const char *c = json_label (o, ITM_LABEL_CREATED), *x = json_label (o, ITM_LABEL_EXPIRES);
  time_t t;
  if (h && g->host == NULL)
    g->host = xstrdup (h);
  if (p && g->pid == 0)
    g->pid = atol (p);
  if (c && ns_parse_time (c, &t) == 0 && (g->created == 0 || t < g->created))
    g->created = t;
  if (x && ns_parse_time (x, &t) == 0 && (g->expires == 0 || t < g->expires))
    g->expires = t;
}

/* When process pid started (unix time), from /proc; 0 when unknown. */
static time_t
proc_start (long pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return 0;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  char *p = strrchr (buf, ')');   /* comm may hold spaces */
  if (p == NULL)
    return 0;
  unsigned long long ticks = 0;
  /* after ')': field 3 (state) ... field 22 (starttime) */
  int field = 2;
  for (char *tok = strtok (p + 1, " "); tok; tok = strtok (NULL, " "))
    if (++field == 22)
      {
        ticks = strtoull (tok, NULL, 10);
        break;
      }
  f = fopen ("/proc/stat", "re");
  if (f == NULL)
    return 0;
  char line[256];
  unsigned long long btime = 0;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "btime %llu", &btime) == 1)
      break;
  fclose (f);
  long hz = sysconf (_SC_CLK_TCK);
  if (btime == 0 || hz <= 0)
    return 0;
  return (time_t) (btime + ticks / (unsigned long long) hz);
}

/* Every namespace with something labelled (only: just that one). */
static int
gc_scan (struct engine *e, const char *only, struct found **out, size_t *nout,
         struct itm_err *err)
{
  struct found *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t k = 0; k < 3; k++)
    {
      cleanup_json json_object *l = NULL;
      if (state_list_ours (e, kinds[k], NULL, &l, err) < 0)
        {
          found_free (v, n);
          return -1;
        }
      for (size_t i = 0; i < json_object_array_length (l); i++)
        {
          json_object *o = json_object_array_get_idx (l, i);
          const char *ns = json_label (o, ITM_LABEL_NAMESPACE);
          if (ns == NULL || (only && strcmp (ns, only) != 0))
            continue;
          struct found *g = find_or_add (&v, &n, &cap, ns);
          account (g, o);
          g->count[k]++;
        }
    }
  *out = v;
  *nout = n;
  return 0;
}

/* What gc_plan needs to know: the labels, the released marker, and on
 * this host whether the owner process runs and since when. */
static struct gc_ns
gc_input (const struct found *g, const char *host)
{
  struct gc_ns in = { .ns = g->ns, .host = g->host, .pid = g->pid, .created = g->created,
                      .expires = g->expires, .released = watchdog_released (g->ns),
                      .owner_alive = true };
  if (g->host && strcmp (g->host, host) == 0 && g->pid > 0)
    {
      in.owner_alive = !(kill ((pid_t) g->pid, 0) < 0 && errno == ESRCH);
      in.owner_started = in.owner_alive ? proc_start (g->pid) : 0;
    }
  return in;
}

/* down on g's namespace (unless dry): false when it failed (a warning). */
static bool
gc_remove (struct engine *e, const struct found *g, bool dry)
{
  if (dry)
    return true;
  struct prov_down_opts d = { .ns = g->ns, .grace_s = -1 };
  cleanup_err struct itm_err derr = { 0 };
  out_init (OUT_QUIET, false);
  if (prov_down (e, &d, &derr) < 0)
    {
      out_warn ("gc: namespace %s: %s", g->ns, derr.msg);
      return false;
    }
  cleanup_err struct itm_err serr = { 0 };
  ns_state_remove (g->ns, &serr);
  return true;
}

static json_object *
removed_json (const struct found *g, const char *why, bool removed)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "namespace", json_object_new_string (g->ns));
  json_object_object_add (o, "reason", json_object_new_string (why));
  for (size_t k = 0; k < 3; k++)
    json_object_object_add (o, kinds[k], json_object_new_int64 ((int64_t) g->count[k]));
  json_object_object_add (o, "removed", json_object_new_boolean (removed));
  return o;
}

static json_object *
kept_json (const struct found *g, const char *why)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "namespace", json_object_new_string (g->ns));
  json_object_object_add (o, "reason", json_object_new_string (why));
  return o;
}

/* Decide, remove, and say what happened. */
static int
gc_run (struct itm_ctx *ctx, struct engine *e, const struct gc_args *a, struct found *v,
        size_t n, struct itm_err *err)
{
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  struct gc_ns *in = xcalloc (n + 1, sizeof *in);
  for (size_t i = 0; i < n; i++)
    in[i] = gc_input (&v[i], host);
  struct gc_verdict *verdicts = xcalloc (n + 1, sizeof *verdicts);
  gc_plan (in, n, host, time (NULL), a->older_ns, verdicts);
  free (in);

  cleanup_json json_object *jrem = json_object_new_array (), *jkept = json_object_new_array ();
  size_t nrem = 0, nkept = 0, nfail = 0;
  for (size_t i = 0; i < n; i++)
    {
      const struct found *g = &v[i];
      const char *why = verdicts[i].why;
      if (!verdicts[i].remove)
        {
          nkept++;
          json_object_array_add (jkept, kept_json (g, why));
          if (ctx->verbose && !a->json)
            printf ("kept %s: %s\n", g->ns, why);
          continue;
        }
      bool ok = gc_remove (e, g, a->dry);
      if (ok)
        nrem++;
      else
        nfail++;
      json_object_array_add (jrem, removed_json (g, why, ok && !a->dry));
      if (!a->json)
        printf ("%s %s (%zu container%s, %zu network%s, %zu volume%s): %s%s\n",
                a->dry ? "would remove" : ok ? "removed" : "FAILED to remove", g->ns,
                g->count[0], g->count[0] == 1 ? "" : "s", g->count[1],
                g->count[1] == 1 ? "" : "s", g->count[2], g->count[2] == 1 ? "" : "s", why,
                ok ? "" : " (see the warning above)");
    }
  gc_verdicts_free (verdicts, n);
  if (a->json)
    {
      cleanup_json json_object *o = json_object_new_object ();
      json_object_object_add (o, "dry_run", json_object_new_boolean (a->dry));
      json_object_object_add (o, "removed", json_object_get (jrem));
      json_object_object_add (o, "kept", json_object_get (jkept));
      print_json (o);
    }
  else
    printf ("gc: %s %zu namespace%s, kept %zu\n", a->dry ? "would remove" : "removed", nrem,
            nrem == 1 ? "" : "s", nkept);
  if (nfail)
    return itm_err_set (err, ITM_EXIT_ENGINE, "gc: %zu namespace%s could not be removed", nfail,
                        nfail == 1 ? "" : "s");
  return 0;
}

static int
gc_parse (struct itm_ctx *ctx, int argc, char **argv, struct gc_args *a, struct itm_err *err)
{
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_gc, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_ONLY:
        if (ns_check (arg, "-p", err) < 0)
          return -1;
        a->only = arg;
        break;
      case 'n':
        a->dry = true;
        break;
      case OPT_OLDER_THAN:
        if (cmd_parse_secs ("gc", "--older-than", arg, &a->older_ns, err) < 0)
          return -1;
        break;
      case OPT_JSON:
        a->json = true;
        break;
      case OPT_WATCHDOG:
        a->watch = arg;
        break;
      case OPT_WATCHDOG_FD:
        a->watch_fd = atoi (arg);
        break;
      case OPT_WATCHDOG_LOCK_FD:
        a->lock_fd = atoi (arg);
        break;
      case OPT_REAPER:
        a->reaper = arg;
        break;
      case OPT_REAPER_WATCH:
        a->reaper_watch = arg;
        break;
      }
  if (opt < 0)
    return -1;
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "gc: unexpected argument '%s'", argv[optind]);
  if (a->only == NULL && ctx->namespace && !a->watch && !a->reaper)
    {
      if (ns_check (ctx->namespace, "-p", err) < 0)
        return -1;
      a->only = ctx->namespace;
    }
  return 0;
}

/* The watchdog: block on the pipe; the engine is needed only when the
 * owner died. */
static int
gc_watchdog (struct itm_ctx *ctx, const struct gc_args *a, struct itm_err *err)
{
  if (ns_check (a->watch, "--watchdog", err) < 0)
    return -1;
  if (a->watch_fd < 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "gc: --watchdog needs --watchdog-fd");
  if (watchdog_wait (a->watch, a->watch_fd))
    return 0;
  /* the up lock: inherited from a dead up (--watchdog-lock-fd, kept until
   * exit), else (run's watchdog) taken now if free, so that an up waiting
   * on the namespace, or another command's reaping, leaves it to us */
  cleanup_close int own = -1;
  if (a->lock_fd < 0)
    {
      cleanup_err struct itm_err lerr = { 0 };
      own = ns_state_file (a->watch, "up.lock", O_RDWR | O_CREAT, 0600, &lerr);
      if (own >= 0 && flock (own, LOCK_EX | LOCK_NB) < 0)
        {
          close (own);
          own = -1;
        }
    }
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  int r = watchdog_clean (e, a->watch, err);
  /* a reaper container of the namespace has nothing left to do */
  reaper_remove (e, a->watch);
  return r;
}

/* The reaper container: follow the watched container until it is gone. */
static int
gc_reaper (struct itm_ctx *ctx, const struct gc_args *a, struct itm_err *err)
{
  if (ns_check (a->reaper, "--reaper", err) < 0)
    return -1;
  if (a->reaper_watch == NULL)
    return itm_err_set (err, ITM_EXIT_USAGE, "gc: --reaper needs --reaper-watch");
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  return reaper_main (e, a->reaper, a->reaper_watch, err);
}

/* ---- reaping in passing (cmd.h) ---- */
void
gc_reap (struct engine *e)
{
  if (getenv ("ITM_ENV_NO_REAP") && *getenv ("ITM_ENV_NO_REAP"))
    return;
  cleanup_strv char **names = ns_state_namespaces ();
  size_t n = strv_len (names), nc = 0;
  if (n == 0)
    return;
  /* candidates: not released by a successful up, nobody at work on them
   * (an up, or the watchdog of a dead one, holds up.lock) */
  int *locks = xcalloc (n + 1, sizeof *locks);
  for (size_t i = 0; i < n; i++)
    {
      locks[i] = -1;
      if (watchdog_released (names[i]))
        continue;
      cleanup_err struct itm_err lerr = { 0 };
      int fd = ns_state_file (names[i], "up.lock", O_RDWR | O_CREAT, 0600, &lerr);
      if (fd < 0)
        continue;
      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          close (fd);
          continue;
        }
      locks[i] = fd;
      nc++;
    }
  struct found *v = NULL;
  size_t nv = 0;
  cleanup_err struct itm_err err = { 0 };
  if (nc > 0 && gc_scan (e, NULL, &v, &nv, &err) == 0)
    {
      char host[256] = "";
      gethostname (host, sizeof host - 1);
      for (size_t j = 0; j < nv; j++)
        {
          size_t i = 0;
          while (i < n && (locks[i] < 0 || strcmp (names[i], v[j].ns) != 0))
            i++;
          if (i == n)
            continue;
          struct gc_ns in = gc_input (&v[j], host);
          struct gc_verdict *vd = xcalloc (1, sizeof *vd);
          gc_plan (&in, 1, host, time (NULL), 0, vd);
          if (vd->remove)
            {
              struct prov_down_opts d = { .ns = v[j].ns, .grace_s = -1 };
              cleanup_err struct itm_err derr = { 0 };
              enum out_mode m;
              bool js;
              out_get (&m, &js);
              out_init (OUT_QUIET, false);
              int r = prov_down (e, &d, &derr);
              out_init (m, js);
              if (r == 0)
                {
                  cleanup_err struct itm_err serr = { 0 };
                  ns_state_remove (v[j].ns, &serr);
                  fprintf (stderr, "itm-env: removed namespace %s (%zu containers, %zu networks, "
                           "%zu volumes) in passing: %s\n", v[j].ns, v[j].count[0],
                           v[j].count[1], v[j].count[2], vd->why);
                  close (locks[i]);
                  locks[i] = -1;
                }
            }
          gc_verdicts_free (vd, 1);
        }
      /* nothing on the engine (a down killed after its last removal, an up
       * killed before it created anything): the state directory goes when
       * the up that last held its lock is gone */
      for (size_t i = 0; i < n; i++)
        {
          if (locks[i] < 0)
            continue;
          bool on_engine = false;
          for (size_t j = 0; j < nv && !on_engine; j++)
            on_engine = strcmp (v[j].ns, names[i]) == 0;
          char pid[32] = "";
          ssize_t r = on_engine ? 0 : pread (locks[i], pid, sizeof pid - 1, 0);
          pid[r > 0 ? r : 0] = '\0';
          long p = atol (pid);
          if (p <= 0 || p == (long) getpid () || !(kill ((pid_t) p, 0) < 0 && errno == ESRCH))
            continue;
          cleanup_err struct itm_err serr = { 0 };
          if (ns_state_remove (names[i], &serr) == 0)
            {
              fprintf (stderr, "itm-env: removed the state directory of namespace %s in passing: "
                       "nothing of it is on the engine and its up (pid %ld) is gone\n", names[i],
                       p);
              close (locks[i]);
              locks[i] = -1;
            }
        }
    }
  found_free (v, nv);
  for (size_t i = 0; i < n; i++)
    if (locks[i] >= 0)
      ns_unlock (names[i], locks[i]);
  free (locks);
}

static int
gc_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct gc_args a = { .watch_fd = -1, .lock_fd = -1 };
  if (gc_parse (ctx, argc, argv, &a, err) < 0)
    return -1;
  if (a.watch)
    return gc_watchdog (ctx, &a, err);
  if (a.reaper)
    return gc_reaper (ctx, &a, err);
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  struct found *v = NULL;
  size_t n = 0;
  if (gc_scan (e, a.only, &v, &n, err) < 0)
    return -1;
  int ret = gc_run (ctx, e, &a, v, n, err);
  found_free (v, n);
  return ret;
}

/* --watchdog NS --watchdog-fd FD: hidden, the watchdog's entry point;
 * --reaper NS --reaper-watch CONTAINER: hidden, the reaper container's */
static const struct itm_opt gc_opts[] = {
  { 'n', 'n', "dry-run", OPT_ARG_NONE, NULL, "say what would be removed, remove nothing" },
  { OPT_OLDER_THAN, 0, "older-than", OPT_ARG_REQUIRED, "DURATION",
    "only namespaces created at least DURATION ago" },
  { OPT_ONLY, 'p', "namespace", OPT_ARG_REQUIRED, "NS", "only this namespace" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the result as one JSON object on stdout" },
  { OPT_HOST, 'H', "host", OPT_ARG_REQUIRED, "HOST", "engine address" },
  { OPT_WATCHDOG, 0, "watchdog", OPT_ARG_REQUIRED, "NS", NULL },
  { OPT_WATCHDOG_FD, 0, "watchdog-fd", OPT_ARG_REQUIRED, "FD", NULL },
  { OPT_WATCHDOG_LOCK_FD, 0, "watchdog-lock-fd", OPT_ARG_REQUIRED, "FD", NULL },
  { OPT_REAPER, 0, "reaper", OPT_ARG_REQUIRED, "NS", NULL },
  { OPT_REAPER_WATCH, 0, "reaper-watch", OPT_ARG_REQUIRED, "CONTAINER", NULL },
  { 0 },
};

const struct itm_cmd cmd_gc = {
  .name = "gc",
  .summary = "remove namespaces whose owner is gone or whose expiry has passed",
  .opts = gc_opts,
  .fn = gc_main,
};

/* ls (cmd-ls.c): every namespace gc's scan finds, with its owner, times,
 * counts and gc's verdict; one object each, sorted by namespace. */
static int
cmp_found (const void *a, const void *b)
{
  return strcmp (((const struct found *) a)->ns, ((const struct found *) b)->ns);
}

int
gc_list_json (struct engine *e, const char *only, json_object **out, struct itm_err *err)
{
  struct found *v = NULL;
  size_t n = 0;
  *out = NULL;
  if (gc_scan (e, only, &v, &n, err) < 0)
    return -1;
  if (n)
    qsort (v, n, sizeof *v, cmp_found);
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  struct gc_ns *in = xcalloc (n + 1, sizeof *in);
  for (size_t i = 0; i < n; i++)
    in[i] = gc_input (&v[i], host);
  struct gc_verdict *verdicts = xcalloc (n + 1, sizeof *verdicts);
  gc_plan (in, n, host, time (NULL), 0, verdicts);
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_new_object ();
      char t[32];
      json_object_object_add (o, "namespace", json_object_new_string (v[i].ns));
      for (size_t k = 0; k < 3; k++)
        json_object_object_add (o, kinds[k], json_object_new_int64 ((int64_t) v[i].count[k]));
      json_object_object_add (o, "owner_host", v[i].host ? json_object_new_string (v[i].host)
                                                         : NULL);
      json_object_object_add (o, "owner_pid", v[i].pid ? json_object_new_int64 (v[i].pid) : NULL);
      json_object_object_add (o, "owner_alive", v[i].host && strcmp (v[i].host, host) == 0
                                                  ? json_object_new_boolean (in[i].owner_alive)
                                                  : NULL);
      json_object_object_add (o, "released", json_object_new_boolean (in[i].released));
      json_object *c = NULL, *x = NULL;
      if (v[i].created)
        c = json_object_new_string ((ns_format_time (v[i].created, t), t));
      if (v[i].expires)
        x = json_object_new_string ((ns_format_time (v[i].expires, t), t));
      json_object_object_add (o, "created", c);
      json_object_object_add (o, "expires", x);
      json_object_object_add (o, "gc", json_object_new_string (verdicts[i].remove ? "remove"
                                                                                 : "keep"));
      json_object_object_add (o, "gc_reason", json_object_new_string (verdicts[i].why
                                                                      ? verdicts[i].why : ""));
      json_object_array_add (a, o);
    }
  gc_verdicts_free (verdicts, n);
  free (in);
  found_free (v, n);
  *out = a;
  return 0;
}
