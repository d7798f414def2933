/* up.c - up and wait: networks, volumes and containers created from the
 * stack, each service started the moment its last depends_on condition
 * holds (its runner on a bounded pool, taken in dependency order, each
 * pool thread with its own engine handle), and readiness read from one
 * live /events stream of the namespace, with the service's own
 * healthcheck run through exec while Docker's first probe is still an
 * interval away.  What to do next is ready.c's decision; this file does
 * it on the engine. */
#include <config.h>

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/self.h"
#include "image/image.h"
#include "data/data.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "prov/ready.h"
#include "prov/trigger.h"
#include "stack/stack.h"
#include "state/state.h"
#include "report/report.h"
#include "state/state.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "out/out.h"
#include "util/clock.h"

#define NPROBE_OUT 3
/* Gates running at once: they mostly wait, so the bound is generous. */
#define GATE_WORKERS 64
/* Calls that create or start a container in flight at once (of the
 * gates' runners).  The engine does that work on its own few cores: more
 * at once does not finish sooner, it only makes each call take longer
 * (100 starts on a loaded 2-core engine: the same 55-70 s in all, the
 * slowest call 47 s at 64 in flight, 15 s at 16, 10 s at 8), and at 64
 * the slowest passed the 60 s request timeout with 200 services
 * (bench/scale-bench.sh). */
#define ENGINE_CALLS 16

struct run;
struct svc {
  struct run *r;
  const struct stack_service *ss;   /* NULL for wait without a stack */
  char *name;                        /* the service, or with replicas <service>-<index> */
  int index, nrep;                   /* replica index (1..nrep) and the service's count */
  char *cname;
  char *image;
  char *hash;
  char *id;                          /* the container, once created or found */
  char *old_id;                      /* an existing container to replace */
  bool keep;                         /* an existing container is used as is */
  long long started_ns;              /* a kept one's State.StartedAt (unix ns): events before
                                      * it are about an earlier run (the replayed second of
                                      * a restart: its die, its old health) */
  bool created;                      /* created by this run */
  bool tty;
  enum gate_kind gate;
  char **probe;                      /* exec argv of the healthcheck test, or NULL */
  int64_t probe_timeout_ns;
  int64_t timeout_ns;                /* x-itm.timeout, 0: none */
  size_t *deps;
  enum stack_condition *conds;
  size_t ndeps;
  struct ready_facts ev;             /* from events or an inspect (run.mu) */
  enum phase phase;
  char *reason;
  int64_t t_start, t_ready;
  int64_t t_failed;                  /* when it failed (0: it did not) */
  int64_t probe_ns;                  /* the successful probe's duration, -1: none */
  const char *ready_by;              /* what asked for that probe (ready_cause_name), NULL */
  char *probe_out[NPROBE_OUT];
  int probe_rc[NPROBE_OUT];
  unsigned nprobes;
  struct itm_err err;                /* why it failed */
};

struct run {
  struct engine *e;
  const struct stack *st;
  const struct prov_opts *o;
  const char *ns;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct svc *s;
  size_t n;
  bool failed;
  atomic_int abort;                  /* runners and calls stop */
  atomic_int stop_events;            /* the events stream ends */
  int64_t t0;
  pthread_t events_th, gates_th;
  bool events_started, gates_started;
  struct engine *events_e;           /* the events thread's handle */
  struct itm_err events_err;
  size_t *order;                     /* r->s in dependency order (the gates' queue) */
  int calls;                         /* free ENGINE_CALLS slots (mu) */
  pthread_cond_t calls_cv;           /* a slot was given back */
  bool calls_init;
  char **nets, **vols;               /* created by this run */
  size_t nnets, nvols;
  unsigned lookers;                  /* gates that look at a trigger now (mu) */
  int64_t look_cost_ns;              /* a look's CPU, averaged over the last ones (mu) */
};

/* ---- signals ---- */
/* atomic_int is lock-free here, so the handler may touch it */
static atomic_int sig_count;
static char sig_msg[256];

static void
on_signal (int sig)
{
  int n = atomic_fetch_add (&sig_count, 1) + 1;
  engine_cancel_wake ();        /* builds, pulls in flight look at sig_count */
  itm_exit_signal_note (sig);
  if (n >= 2 && sig == SIGINT)
    {
      ssize_t r = write (2, sig_msg, strlen (sig_msg));
      (void) r;
      _exit (ITM_EXIT_INTERRUPTED);
    }
}

void
prov_signals_install (const char *ns)
{
  snprintf (sig_msg, sizeof sig_msg,
            "\nitm-env: interrupted again: stopping at once; what was created is left in "
            "namespace %s ('itm-env down -p %s' removes it)\n", ns, ns);
  struct sigaction sa = { 0 };
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

int
prov_interrupted (void)
{
  return sig_count > 0;
}

/* ---- failure ---- */

/* Mark s failed (mu held) and wake everyone. */
static void
fail_locked (struct run *r, struct svc *s, int code, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));
static void
fail_locked (struct run *r, struct svc *s, int code, const char *fmt, ...)
{
  if (s->phase == P_FAILED)
    return;
  va_list ap;
  va_start (ap, fmt);
  free (s->reason);
  s->reason = xvasprintf (fmt, ap);
  va_end (ap);
  s->phase = P_FAILED;
  s->t_failed = mono_ns ();
  if (!itm_err_isset (&s->err))
    itm_err_set (&s->err, code, "%s: %s", s->name, s->reason);
  r->failed = true;
  r->abort = 1;
  engine_cancel_wake ();
  pthread_cond_broadcast (&r->cv);
}

/* ---- events ---- */
static struct svc *
svc_by_id (struct run *r, const char *id)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->s[i].id && strcmp (r->s[i].id, id) == 0)
      return &r->s[i];
  return NULL;
}

static int
on_event (json_object *ev, void *ctx)
{
  struct run *r = ctx;
  struct ready_event e;
  if (!ready_event_decode (ev, &e))
    return 0;
  long long tn = (long long) json_int (ev, "timeNano", 0);
  pthread_mutex_lock (&r->mu);
  struct svc *s = svc_by_id (r, e.id);
  if (s && s->started_ns && tn && tn < s->started_ns)
    s = NULL;
  if (s)
    {
      ready_event_apply (&s->ev, &e);
      pthread_cond_broadcast (&r->cv);
    }
  pthread_mutex_unlock (&r->mu);
  return 0;
}

static void *
events_main (void *arg)
{
  struct run *r = arg;
  struct engine *e = r->events_e;
  cleanup_json json_object *f = json_object_new_object ();
  json_object *l = json_object_new_array ();
  cleanup_free char *lv = xasprintf (ITM_LABEL_NAMESPACE "=%s", r->ns);
  json_object_array_add (l, json_object_new_string (lv));
  json_object_object_add (f, "label", l);
  json_object *t = json_object_new_array ();
  json_object_array_add (t, json_object_new_string ("container"));
  json_object_object_add (f, "type", t);
  long long since = (long long) time (NULL) - 1;
  int rc = engine_events (e, f, since, 0, on_event, r, &r->stop_events,
                          &r->events_err);
  if (rc < 0 && !r->stop_events)
    {
      pthread_mutex_lock (&r->mu);
      r->failed = true;
      r->abort = 1;
      engine_cancel_wake ();
      pthread_cond_broadcast (&r->cv);
      pthread_mutex_unlock (&r->mu);
    }
  return NULL;
}

/* ---- probes ---- */
static int
probe_collect (int stream, const char *data, size_t len, void *ctx)
{
  struct buf *b = ctx;
  if (b->len < 4096)
    buf_add (b, data, len < 4096 - b->len ? len : 4096 - b->len);
  return 0;
}

/* Run the healthcheck test once: its exit code, or -1 when it could not run. */
static int
probe_once (struct engine *e, struct run *r, struct svc *s, struct buf *out)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_json json_object *body = json_object_new_object ();
  json_object *cmd = json_object_new_array ();
  for (char **p = s->probe; *p; p++)
    json_object_array_add (cmd, json_object_new_string (*p));
  json_object_object_add (body, "Cmd", cmd);
  json_object_object_add (body, "AttachStdout", json_object_new_boolean (1));
  json_object_object_add (body, "AttachStderr", json_object_new_boolean (1));
  cleanup_json json_object *res = NULL;
  cleanup_free char *path = xasprintf ("/containers/%s/exec", s->id);
  if (engine_post (e, path, body, &res, &err) < 0)
    {
      buf_adds (out, err.msg ? err.msg : "exec failed");
      return -1;
    }
  cleanup_free char *eid = xstrdup (json_str (res, "Id") ? json_str (res, "Id") : "");
  cleanup_json json_object *sb = json_object_new_object ();
  json_object_object_add (sb, "Detach", json_object_new_boolean (0));
  json_object_object_add (sb, "Tty", json_object_new_boolean (0));
  cleanup_free char *spath = xasprintf ("/exec/%s/start", eid);
  struct engine_call c = {
    .method = "POST", .path = spath, .body = sb, .on_frame = probe_collect, .ctx = out,
    .timeout_ms = (long) (s->probe_timeout_ns / 1000000) + 1000,
    .cancel = &r->abort,
  };
  if (engine_call (e, &c, NULL, &err) < 0)
    {
      buf_adds (out, err.msg ? err.msg : "exec start failed");
      return -1;
    }
  cleanup_free char *ipath = xasprintf ("/exec/%s/json", eid);
  cleanup_json json_object *info = NULL;
  if (engine_get (e, ipath, &info, &err) < 0)
    return -1;
  json_object *code = json_path (info, "ExitCode");
  return code ? json_object_get_int (code) : -1;
}

static void
keep_probe_output (struct svc *s, int rc, struct buf *out)
{
  unsigned k = s->nprobes % NPROBE_OUT;
  free (s->probe_out[k]);
  s->probe_out[k] = xstrdup (out->data ? out->data : "");
  s->probe_rc[k] = rc;
  s->nprobes++;
}

static void
timed_wait (struct run *r, int64_t ns)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  int64_t t = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec + ns;
  ts.tv_sec = (time_t) (t / 1000000000LL);
  ts.tv_nsec = (long) (t % 1000000000LL);
  pthread_cond_timedwait (&r->cv, &r->mu, &ts);
}

/* ---- one service's runner ---- */

/* Connect the new container to the service's networks not given at create. */
static int
connect_networks (struct engine *e, struct run *r, struct svc *s, struct itm_err *err)
{
  size_t nnet = 0;
  cleanup_strv char **nets = prov_service_networks (r->st, s->ss, r->ns, &nnet);
  for (size_t i = prov_networks_at_create (engine_api_version (e), nnet); i < nnet; i++)
    {
      cleanup_json json_object *b = json_object_new_object ();
      json_object_object_add (b, "Container", json_object_new_string (s->id));
      json_object_object_add (b, "EndpointConfig", prov_endpoint_spec (s->ss, i));
      cleanup_free char *np = xasprintf ("/networks/%s/connect", nets[i]);
      if (engine_post (e, np, b, NULL, err) < 0)
        return itm_err_prefix (err, "connecting %s to network %s", s->cname, nets[i]);
    }
  return 0;
}

/* Copy the service's secrets and configs into the new container. */
static int
copy_files (struct engine *e, struct run *r, struct svc *s, struct itm_err *err)
{
  cleanup_free char *tar = NULL;
  size_t tlen = 0;
  if (prov_files_tar (r->st, s->ss, &tar, &tlen, err) < 0)
    return itm_err_prefix (err, "%s", s->name);
  if (tlen == 0)
    return 0;
  cleanup_free char *ap = xasprintf ("/containers/%s/archive?path=/", s->id);
  struct engine_call c = { .method = "PUT", .path = ap, .raw = tar, .raw_len = tlen };
  if (engine_call (e, &c, NULL, err) < 0)
    return itm_err_prefix (err, "copying secrets and configs into %s", s->cname);
  return 0;
}

static int
create_container (struct engine *e, struct run *r, struct svc *s, struct itm_err *err)
{
  if (s->old_id)
    {
      cleanup_free char *p = xasprintf ("/containers/%s?force=1&v=1", s->old_id);
      if (engine_delete (e, p, err) < 0 && err->code != ITM_EXIT_NOT_FOUND)
        return itm_err_prefix (err, "removing the old container");
      itm_err_clear (err);
      out_event (s->name, "removed", -1, "its configuration changed");
    }
  cleanup_json json_object *spec = prov_replica_spec (engine_api_version (e), r->st, s->ss,
                                                      r->ns, r->o->ttl, s->hash, s->index);
  /* the image as image_ensure() made it (<ns>-<service> for a build without image:) */
  json_object_object_add (spec, "Image", json_object_new_string (s->image));
  /* in a container on the engine: bind sources as the engine's host has them */
  if (prov_spec_host_paths (spec, s->ss, self_probe (e), err) < 0)
    return -1;
  cleanup_free char *enc = engine_urlencode (s->cname);
  cleanup_free char *path = xasprintf ("/containers/create?name=%s", enc);
  cleanup_json json_object *res = NULL;
  if (engine_post (e, path, spec, &res, err) < 0)
    return itm_err_prefix (err, "creating container %s", s->cname);
  pthread_mutex_lock (&r->mu);
  s->id = xstrdup (json_str (res, "Id") ? json_str (res, "Id") : "");
  s->created = true;
  if (s->phase == P_PENDING)
    s->phase = P_CREATED;
  pthread_mutex_unlock (&r->mu);
  if (connect_networks (e, r, s, err) < 0 || copy_files (e, r, s, err) < 0)
    return -1;
  out_event (s->name, "created", -1, NULL);
  return 0;
}

/* Run one turn's exec probe (mu held on entry and exit). */
static int
gate_probe (struct engine *e, struct run *r, struct svc *s, struct buf *out)
{
  pthread_mutex_unlock (&r->mu);
  buf_reset (out);
  buf_adds (out, "");
  int64_t tp = mono_ns ();
  int rc = probe_once (e, r, s, out);
  tp = mono_ns () - tp;
  pthread_mutex_lock (&r->mu);
  keep_probe_output (s, rc, out);
  if (rc == 0)
    s->probe_ns = tp;
  return rc;
}

static int64_t
thread_cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One look at the trigger (mu held on entry and exit): what the ports say,
 * a signal, and how often to look next (ready.h, "The looks"). */
static void
gate_look (struct run *r, struct ready_gate *g, struct trigger *trig, bool *looking)
{
  bool now = (trig->n && g->trig != TRIG_OPEN) || trigger_watching (trig);
  if (now != *looking)
    {
      *looking = now;
      if (now)
        r->lookers++;
      else
        r->lookers--;
    }
  if (!now)
    return;
  pthread_mutex_unlock (&r->mu);
  int64_t c = thread_cpu_ns ();
  if (trig->n && g->trig != TRIG_OPEN)
    g->trig = trigger_look (trig);
  if (trigger_signal_look (trig, &g->signal_cause))
    g->signals++;
  g->watch = trigger_watching (trig);
  c = thread_cpu_ns () - c;
  pthread_mutex_lock (&r->mu);
  r->look_cost_ns = r->look_cost_ns ? (7 * r->look_cost_ns + c) / 8 : c;
  g->look_ns = ready_look_ns (r->lookers, r->look_cost_ns);
}

/* The readiness gate (ready.c decides, this does): until ready, failed or
 * aborted (mu held on entry and exit). */
static void
gate_wait_on (struct engine *e, struct run *r, struct svc *s, struct trigger *trig,
              bool *looking)
{
  cleanup_buf struct buf out = { 0 };
  struct ready_gate g = { .gate = s->gate, .has_probe = s->probe != NULL,
                          .timeout_ns = s->timeout_ns, .t_start = s->t_start };
  ready_init (&g);
  if (g.gate == GATE_HEALTHY && g.has_probe && s->id)
    {
      pthread_mutex_unlock (&r->mu);
      trigger_find (e, s->id, trig);    /* the readiness trigger: ready.h */
      pthread_mutex_lock (&r->mu);
    }
  for (;;)
    {
      gate_look (r, &g, trig, looking);
      struct ready_step st = ready_next (&g, &s->ev, r->abort || s->phase == P_FAILED,
                                         mono_ns ());
      switch (st.act)
        {
        case READY_STOP:
          return;
        case READY_READY:
          s->phase = P_READY;
          if (g.gate == GATE_HEALTHY && (g.ever_probed || g.cause == CAUSE_ENGINE))
            s->ready_by = ready_cause_name (g.cause);
          return;
        case READY_FAIL:
          fail_locked (r, s, ITM_EXIT_READINESS, "%s", st.why);
          return;
        case READY_SAY:
          pthread_mutex_unlock (&r->mu);
          out_event (s->name, "waiting", -1, st.why);
          pthread_mutex_lock (&r->mu);
          break;
        case READY_PROBE:
          ready_probed (&g, gate_probe (e, r, s, &out));
          break;
        case READY_WAIT:
          timed_wait (r, st.wait_ns);
          break;
        }
    }
}

static void
gate_wait (struct engine *e, struct run *r, struct svc *s)
{
  __attribute__ ((cleanup (trigger_free))) struct trigger trig = { 0 };
  bool looking = false;
  gate_wait_on (e, r, s, &trig, &looking);
  if (looking)
    r->lookers--;
}

/* API 1.44+: the engine probes every StartInterval until healthy (spec.c),
 * so its own health follows itm-env's probe within about one: wait that
 * long for it, so that ps, docker ps and Compose agree with up right after
 * it returns.  Bounded (a slow engine probe leaves "starting"; ps shows the
 * readiness itm-env saw either way); dependents do not wait for it. */
#define HEALTH_AGREE_NS (5 * 1000000000LL)
static void
agree_health (struct engine *e, struct run *r, struct svc *s)
{
  if (engine_api_cmp (e, "1.44") < 0)
    return;
  pthread_mutex_lock (&r->mu);
  int64_t until = mono_ns () + HEALTH_AGREE_NS;
  if (s->phase == P_READY && s->probe && !s->keep)
    while (!s->ev.healthy && !s->ev.unhealthy && !s->ev.died && !r->abort && mono_ns () < until)
      timed_wait (r, until - mono_ns ());
  pthread_mutex_unlock (&r->mu);
}

static void
gate (struct engine *e, struct run *r, struct svc *s)
{
  pthread_mutex_lock (&r->mu);
  gate_wait (e, r, s);
  /* x-itm.seed: after the gate, before dependents see the service ready
   * (P_SEEDING is not P_READY); a container kept as is is not seeded again */
  if (s->phase == P_READY && !s->keep && s->ss && s->index <= 1 && data_has_seed (s->ss))
    {
      s->phase = P_SEEDING;
      pthread_mutex_unlock (&r->mu);
      out_event (s->name, "seeding", -1, NULL);
      cleanup_err struct itm_err serr = { 0 };
      int rc = data_seed_service (e, r->st, s->ss, s->id, r->ns, false, &serr);
      pthread_mutex_lock (&r->mu);
      if (rc < 0)
        {
          itm_err_move (&s->err, &serr);
          fail_locked (r, s, ITM_EXIT_DATA, "seed failed");
        }
      else if (s->phase == P_SEEDING)
        s->phase = P_READY;
    }
  bool ready = s->phase == P_READY;
  if (ready)
    s->t_ready = mono_ns ();
  pthread_cond_broadcast (&r->cv);
  pthread_mutex_unlock (&r->mu);
  if (ready)
    {
      out_event (s->name, "ready", s->t_ready - s->t_start, NULL);
      agree_health (e, r, s);
    }
}

/* Wait until every depends_on condition of s holds; false when the run
 * is aborted first. */
static bool
await_deps (struct run *r, struct svc *s)
{
  pthread_mutex_lock (&r->mu);
  for (;;)
    {
      if (r->abort)
        {
          bool failed = r->failed;
          pthread_mutex_unlock (&r->mu);
          /* created but never started: say so, not "created" */
          out_event (s->name, "not started", -1, failed ? "a dependency failed" : "interrupted");
          return false;
        }
      bool all = true;
      for (size_t i = 0; i < s->ndeps && all; i++)
        all = ready_dep_holds (r->s[s->deps[i]].phase, s->conds[i]);
      if (all)
        break;
      /* every phase change broadcasts: the timeout is only a safety net
       * (at 200 ms, 64 waiting runners doubled up's CPU in a chain) */
      timed_wait (r, 1000 * 1000000LL);
    }
  pthread_mutex_unlock (&r->mu);
  return true;
}

/* A slot for a create or start call (ENGINE_CALLS), and giving it back.
 * Every taken slot is given back when its call returns: a waiter needs no
 * look at the abort flag. */
static void
call_slot_take (struct run *r)
{
  pthread_mutex_lock (&r->mu);
  while (r->calls == 0)
    pthread_cond_wait (&r->calls_cv, &r->mu);
  r->calls--;
  pthread_mutex_unlock (&r->mu);
}

static void
call_slot_give (struct run *r)
{
  pthread_mutex_lock (&r->mu);
  r->calls++;
  pthread_cond_signal (&r->calls_cv);
  pthread_mutex_unlock (&r->mu);
}

/* The runner's failure: s failed with err (taken). */
static void
runner_fail (struct run *r, struct svc *s, struct itm_err *err)
{
  pthread_mutex_lock (&r->mu);
  itm_err_move (&s->err, err);
  fail_locked (r, s, s->err.code, "%s", s->err.msg);
  pthread_mutex_unlock (&r->mu);
}

/* One service, on one of the gates' pool threads: create its container,
 * wait for its dependencies, start it, gate it.  Failures are the
 * service's (s->err); the job itself always succeeds. */
static int
runner (struct engine *e, size_t i, void *ctx, struct itm_err *jerr)
{
  struct run *r = ctx;
  struct svc *s = &r->s[r->order[i]];
  cleanup_err struct itm_err err = { 0 };

  if (s->phase == P_READY)
    return 0;
  if (!s->keep)
    {
      call_slot_take (r);
      if (r->abort)
        {
          /* failing or interrupted while it waited for its slot: no more
           * containers to remove again (await_deps says why) */
          call_slot_give (r);
          await_deps (r, s);
          return 0;
        }
      int rc = create_container (e, r, s, &err);
      call_slot_give (r);
      if (rc < 0)
        {
          runner_fail (r, s, &err);
          return 0;
        }
    }
  if (!await_deps (r, s))
    return 0;
  s->t_start = mono_ns ();
  if (!s->keep)
    {
      cleanup_free char *p = xasprintf ("/containers/%s/start", s->id);
      call_slot_take (r);
      int rc = engine_post (e, p, NULL, NULL, &err);
      call_slot_give (r);
      if (rc < 0)
        {
          itm_err_prefix (&err, "starting %s", s->cname);
          runner_fail (r, s, &err);
          return 0;
        }
      out_event (s->name, "started", -1, NULL);
    }
  pthread_mutex_lock (&r->mu);
  if (s->phase != P_FAILED)
    s->phase = P_STARTED;
  pthread_cond_broadcast (&r->cv);
  pthread_mutex_unlock (&r->mu);
  gate (e, r, s);
  return 0;
}

/* The gates: every service's runner on a pool of at most GATE_WORKERS
 * threads, taken in dependency order (so a runner waits only on services
 * already taken, and the pool cannot starve itself). */
static void *
gates_main (void *arg)
{
  struct run *r = arg;
  cleanup_err struct itm_err err = { 0 };
  engine_parallel (r->e, r->n, GATE_WORKERS, runner, r, NULL, &err);
  return NULL;
}

/* ---- failure report ---- */
struct logctx {
  struct buf b;
};
static int
log_collect (int stream, const char *data, size_t len, void *ctx)
{
  buf_add (&((struct logctx *) ctx)->b, data, len);
  return 0;
}

static void
print_failure (struct run *r, struct svc *s)
{
  if (s->id && s->phase == P_FAILED)
    {
      cleanup_err struct itm_err err = { 0 };
      cleanup_free char *p = xasprintf ("/containers/%s/logs?stdout=1&stderr=1&tail=40", s->id);
      struct logctx lc = { { 0 } };
      struct engine_call c = { .method = "GET", .path = p, .on_frame = log_collect,
                               .frames_raw = s->tty, .ctx = &lc, .timeout_ms = 10000 };
      if (engine_call (r->e, &c, NULL, &err) >= 0 && lc.b.len)
        {
          fprintf (stderr, "itm-env: last log lines of %s:\n", s->name);
          char *line = lc.b.data, *nl;
          while (line && *line)
            {
              nl = strchr (line, '\n');
              if (nl)
                *nl = '\0';
              cleanup_free char *masked = data_mask (line);
              fprintf (stderr, "  %s | %s\n", s->name, masked);
              line = nl ? nl + 1 : NULL;
            }
        }
      buf_free (&lc.b);
    }
  if (s->nprobes)
    {
      fprintf (stderr, "itm-env: last probes of %s (%u run):\n", s->name, s->nprobes);
      unsigned first = s->nprobes > NPROBE_OUT ? s->nprobes - NPROBE_OUT : 0;
      for (unsigned i = first; i < s->nprobes; i++)
        {
          unsigned k = i % NPROBE_OUT;
          const char *o = s->probe_out[k];
          size_t n = strlen (o);
          while (n && (o[n - 1] == '\n' || o[n - 1] == ' '))
            n--;
          fprintf (stderr, "  exit %d: %.*s\n", s->probe_rc[k], (int) n, o);
        }
    }
}

/* ---- the report (src/report/): every service's outcome, the failed
 * ones' last log lines and probe outputs, what this run created, and with
 * --logs-dir each service's logs in DIR/SERVICE.log ---- */
static void
report_run (struct run *r, bool interrupted)
{
  struct report *rep = report_current ();
  const char *dir = report_logs_dir (rep);
  if (rep)
    {
      report_namespace (rep, r->ns);
      prov_report_engine (rep, r->e);
    }
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      bool ready = s->phase == P_READY, failed = s->phase == P_FAILED;
      const char *state = ready ? "ready" : failed ? "failed"
                          : interrupted ? "interrupted" : "skipped";
      report_service (rep, s->name, state, ready && s->t_ready ? s->t_ready - s->t_start : -1,
                      ready && s->probe_ns > 0 ? s->probe_ns : -1, ready_gate_name (s->gate),
                      ready || failed ? NULL : "not started: a dependency failed");
      if (ready && s->ready_by)
        report_service_ready_by (rep, s->name, s->ready_by);
      if (failed && s->t_start && s->t_failed > s->t_start)
        report_service_time (rep, s->name, s->t_failed - s->t_start);
      if (s->created && s->id)
        {
          report_resource_id (rep, "container", s->id, s->cname);
          report_resource (rep, "container", s->cname, REPORT_RES_CREATED, NULL);
        }
      if (failed)
        {
          cleanup_buf struct buf probes = { 0 };
          unsigned first = s->nprobes > NPROBE_OUT ? s->nprobes - NPROBE_OUT : 0;
          for (unsigned k = first; k < s->nprobes; k++)
            buf_addf (&probes, "exit %d: %s%s", s->probe_rc[k % NPROBE_OUT],
                      s->probe_out[k % NPROBE_OUT],
                      strchr (s->probe_out[k % NPROBE_OUT], '\n') ? "" : "\n");
          struct logctx lc = { { 0 } };
          if (rep && s->id)
            {
              cleanup_err struct itm_err err = { 0 };
              cleanup_free char *p = xasprintf ("/containers/%s/logs?stdout=1&stderr=1&tail=40",
                                                s->id);
              struct engine_call c = { .method = "GET", .path = p, .on_frame = log_collect,
                                       .frames_raw = s->tty, .ctx = &lc, .timeout_ms = 10000 };
              engine_call (r->e, &c, NULL, &err);
            }
          report_failure (rep, s->name, s->reason ? s->reason : s->err.msg, lc.b.data,
                          probes.data);
          buf_free (&lc.b);
        }
      if (dir && s->id)
        {
          cleanup_err struct itm_err err = { 0 };
          cleanup_free char *path = xasprintf ("%s/%s.log", dir, s->name);
          if (prov_save_logs (r->e, s->id, path, &err) < 0)
            out_warn ("--logs-dir: %s", err.msg);
          else
            report_logs_file (rep, s->name, path);
        }
    }
  for (size_t i = 0; i < r->nnets; i++)
    report_resource (rep, "network", r->nets[i], REPORT_RES_CREATED, NULL);
  for (size_t i = 0; i < r->nvols; i++)
    report_resource (rep, "volume", r->vols[i], REPORT_RES_CREATED, NULL);
}

/* ---- what the gates established, kept for ps (state/ready.c): each
 * service gated this run, ready (with its time to ready, unless its
 * container was kept as it was) or failed ---- */
static void
record_ready (struct run *r, bool for_wait)
{
  struct state_ready *v = xcalloc (r->n + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      bool ready = s->phase == P_READY && s->t_ready > 0, failed = s->phase == P_FAILED;
      if (s->id == NULL || !*s->id || !(ready || failed))
        continue;
      v[k++] = (struct state_ready){
        .id = s->id, .service = s->name, .state = (char *) (ready ? "ready" : "failed"),
        .gate = (char *) ready_gate_name (s->gate),
        .ready_ns = ready && !s->keep ? s->t_ready - s->t_start : -1,
        .detail = failed ? s->reason : NULL,
      };
    }
  cleanup_err struct itm_err err = { 0 };
  /* nothing gated: no file (an up that created nothing leaves no state) */
  if (k && state_ready_save (r->ns, v, k, !for_wait, &err) < 0)
    out_warn ("keeping the readiness for ps: %s", err.msg);
  free (v);
}

/* ---- setup ---- */
static void
run_free (struct run *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      free (s->name);
      free (s->cname);
      free (s->image);
      free (s->hash);
      free (s->id);
      free (s->old_id);
      strv_free (s->probe);
      free (s->deps);
      free (s->conds);
      free (s->reason);
      for (int k = 0; k < NPROBE_OUT; k++)
        free (s->probe_out[k]);
      itm_err_clear (&s->err);
    }
  free (r->s);
  free (r->order);
  strv_free (r->nets);
  strv_free (r->vols);
  itm_err_clear (&r->events_err);
  if (r->events_e)
    engine_close (r->events_e);
  pthread_mutex_destroy (&r->mu);
  pthread_cond_destroy (&r->cv);
  if (r->calls_init)
    pthread_cond_destroy (&r->calls_cv);
}

static void
alloc_deps (struct run *r, struct svc *s, size_t n)
{
  s->r = r;
  s->deps = xcalloc (n + 1, sizeof *s->deps);
  s->conds = xcalloc (n + 1, sizeof *s->conds);
  s->ndeps = 0;
}

static int64_t
x_itm_timeout (const struct stack_service *ss, struct itm_err *err)
{
  json_object *t = ss->x_itm ? json_path (ss->x_itm, "timeout") : NULL;
  if (t == NULL)
    return 0;
  if (json_object_is_type (t, json_type_int) || json_object_is_type (t, json_type_double))
    return (int64_t) (json_object_get_double (t) * 1e9);
  const char *why = NULL;
  int64_t ns = 0;
  if (stack_parse_duration (json_object_get_string (t), &ns, &why) < 0)
    return itm_err_set (err, ITM_EXIT_STACK, "service %s: x-itm.timeout: %s", ss->name, why);
  return ns;
}

/* Healthcheck test and timeout for a container from its inspect. */
static void
probe_from_config (struct svc *s, json_object *hc)
{
  json_object *test = json_path (hc, "Test");
  strv_free (s->probe);
  s->probe = prov_probe_argv (test);
  json_object *to = json_path (hc, "Timeout");
  s->probe_timeout_ns = to && json_object_get_int64 (to) > 0 ? json_object_get_int64 (to)
                                                             : 30000000000LL;
}

struct img_job {
  struct run *r;
  char **images;
  json_object **hcs;
  size_t n;
};

static int
image_job (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  struct img_job *j = ctx;
  cleanup_free char *p = xasprintf ("/images/%s/json", j->images[i]);
  json_object *res = NULL;
  if (engine_get (e, p, &res, err) < 0)
    return -1;
  json_object *hc = json_path (res, "Config.Healthcheck");
  j->hcs[i] = hc ? json_object_get (hc) : NULL;
  json_object_put (res);
  return 0;
}

/* A service's probe and its timeout: the stack's healthcheck, else its
 * image's (ihc, may be NULL). */
static void
probe_from_stack (struct svc *s, json_object *ihc)
{
  const struct stack_healthcheck *h = &s->ss->healthcheck;
  if (h->disable)
    return;
  cleanup_json json_object *t = NULL;
  if (h->test.n >= 1)
    {
      t = json_object_new_array ();
      for (size_t k = 0; k < h->test.n; k++)
        json_object_array_add (t, json_object_new_string (h->test.v[k]));
    }
  else if (ihc && json_path (ihc, "Test"))
    t = json_object_get (json_path (ihc, "Test"));
  if (t)
    {
      strv_free (s->probe);
      s->probe = prov_probe_argv (t);
    }
  json_object *ito = ihc ? json_path (ihc, "Timeout") : NULL;
  s->probe_timeout_ns = h->timeout ? h->timeout
                        : ito && json_object_get_int64 (ito) > 0 ? json_object_get_int64 (ito)
                                                                 : 30000000000LL;
}

/* err from the first service whose image could not be inspected (ie:
 * its image's error). */
static void
image_error (struct svc *s, struct itm_err *ie, struct itm_err *err)
{
  if (ie->code == ITM_EXIT_NOT_FOUND)
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "service %s: image %s is not on the engine", s->name,
                   s->image);
      itm_err_hint (err, "'itm-env pull' or 'itm-env build' makes it");
      return;
    }
  itm_err_move (err, ie);
  itm_err_prefix (err, "service %s: image %s", s->name, s->image);
}

/* Check every image; fill each service's probe from its healthcheck or the image's. */
static int
check_images (struct run *r, struct itm_err *err)
{
  struct img_job j = { .r = r };
  j.images = xcalloc (r->n + 1, sizeof *j.images);
  size_t *which = xcalloc (r->n + 1, sizeof *which);
  for (size_t i = 0; i < r->n; i++)
    {
      size_t k;
      for (k = 0; k < j.n; k++)
        if (strcmp (j.images[k], r->s[i].image) == 0)
          break;
      if (k == j.n)
        j.images[j.n++] = r->s[i].image;
      which[i] = k;
    }
  j.hcs = xcalloc (j.n + 1, sizeof *j.hcs);
  struct itm_err *errs = xcalloc (j.n + 1, sizeof *errs);
  cleanup_err struct itm_err perr = { 0 };
  int ret = engine_parallel (r->e, j.n, 4, image_job, &j, errs, &perr);
  for (size_t i = 0; i < r->n; i++)
    if (ret == 0)
      probe_from_stack (&r->s[i], j.hcs[which[i]]);
    else if (itm_err_isset (&errs[which[i]]))
      {
        image_error (&r->s[i], &errs[which[i]], err);
        break;
      }
  for (size_t k = 0; k < j.n; k++)
    {
      json_object_put (j.hcs[k]);
      itm_err_clear (&errs[k]);
    }
  free (errs);
  free (j.hcs);
  free (j.images);
  free (which);
  return ret;
}

/* Existing containers of the namespace: service -> inspect. */
static json_object *
list_containers (struct engine *e, const char *ns, struct itm_err *err)
{
  cleanup_free char *q = ns_filter_query (ns);
  cleanup_free char *p = xasprintf ("/containers/json?all=1&filters=%s", q);
  json_object *res = NULL;
  if (engine_get (e, p, &res, err) < 0)
    return NULL;
  return res;
}

/* The container of replica `index` of service (no number label: 1). */
static json_object *
find_service_container (json_object *list, const char *service, int index)
{
  for (size_t i = 0; list && i < json_object_array_length (list); i++)
    {
      json_object *c = json_object_array_get_idx (list, i);
      const char *sv = json_label (c, ITM_LABEL_SERVICE);
      const char *num = json_label (c, ITM_LABEL_NUMBER);
      if (sv && strcmp (sv, service) == 0 && (num ? atoi (num) : 1) == index)
        return c;
    }
  return NULL;
}

/* Set a kept container's known state from its inspect. */
static int
adopt (struct engine *e, struct svc *s, struct itm_err *err)
{
  cleanup_free char *p = xasprintf ("/containers/%s/json", s->id);
  json_object *res = NULL;
  if (engine_get (e, p, &res, err) < 0)
    return -1;
  const char *status = json_str (res, "State.Status");
  const char *health = json_str (res, "State.Health.Status");
  json_object *ec = json_path (res, "State.ExitCode");
  s->ev.started = status && strcmp (status, "running") == 0;
  if (status && (strcmp (status, "exited") == 0 || strcmp (status, "dead") == 0))
    {
      s->ev.died = true;
      s->ev.exit_code = ec ? json_object_get_int (ec) : -1;
    }
  s->ev.healthy = health && strcmp (health, "healthy") == 0;
  s->started_ns = state_parse_time (json_str (res, "State.StartedAt"));
  s->tty = json_path (res, "Config.Tty") && json_object_get_boolean (json_path (res, "Config.Tty"));
  if (s->probe == NULL)
    probe_from_config (s, json_path (res, "Config.Healthcheck"));
  json_object_put (res);
  return 0;
}

/* The service s belongs to (s->name is the replica's with replicas). */
static const char *
svc_service (const struct svc *s)
{
  return s->ss ? s->ss->name : s->name;
}

/* How many containers ss runs: up --scale, else scale:/deploy.replicas, else 1. */
static int
replicas_of (const struct run *r, const struct stack_service *ss)
{
  for (size_t i = 0; i < r->o->nscale; i++)
    if (strcmp (r->o->scale[i].service, ss->name) == 0)
      return r->o->scale[i].n;
  return ss->replicas > 0 ? ss->replicas : 1;
}

/* One replica's own settings from the stack. */
static int
setup_one (struct run *r, struct svc *s, const struct stack_service *ss, int index, int nrep,
           struct itm_err *err)
{
  s->ss = ss;
  s->index = index;
  s->nrep = nrep;
  s->name = nrep > 1 ? xasprintf ("%s-%d", ss->name, index) : xstrdup (ss->name);
  s->cname = ss->container_name && nrep == 1 ? xstrdup (ss->container_name)
                                             : ns_container_name (r->ns, ss->name, index);
  s->image = image_service_ref (ss, r->ns);
  s->hash = stack_service_hash (ss);
  s->tty = ss->tty;
  s->gate = GATE_RUNNING;
  int64_t t = x_itm_timeout (ss, err);
  if (t < 0)
    return -1;
  s->timeout_ns = t;
  return 0;
}

/* Each service's dependencies (the active ones) and the gates their
 * conditions give. */
static void
link_deps (struct run *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      const struct stack_service *ss = s->ss;
      /* a dependency with replicas: every one of them (none: not active,
       * optional or in another profile) */
      size_t nd = 0;
      for (size_t k = 0; k < ss->ndepends_on; k++)
        for (size_t j = 0; j < r->n; j++)
          nd += strcmp (svc_service (&r->s[j]), ss->depends_on[k].service) == 0;
      alloc_deps (r, s, nd);
      for (size_t k = 0; k < ss->ndepends_on; k++)
        {
          const struct stack_dep *d = &ss->depends_on[k];
          for (size_t j = 0; j < r->n; j++)
            if (strcmp (svc_service (&r->s[j]), d->service) == 0)
              {
                s->deps[s->ndeps] = j;
                s->conds[s->ndeps++] = d->condition;
                r->s[j].gate = ready_gate_raise (r->s[j].gate, d->condition);
              }
        }
    }
}

/* Whether s's existing container c must be recreated: changed, not
 * running (or exited 0), its image replaced, a dependency recreated, or
 * --force-recreate.  wait never recreates. */
static bool
is_dirty (struct run *r, struct svc *s, json_object *c, bool for_wait)
{
  if (for_wait)
    return false;
  const char *h = json_label (c, ITM_LABEL_CONFIG_HASH);
  const char *state = json_str (c, "State");
  const char *status = json_str (c, "Status");
  bool ok_state = state && (strcmp (state, "running") == 0
                            || (strcmp (state, "exited") == 0 && status
                                && strncmp (status, "Exited (0)", 10) == 0));
  bool dirty = !(h && strcmp (h, s->hash) == 0 && ok_state)
               || !image_is_current (r->e, s->image, json_str (c, "ImageID"));
  /* a dependency recreated; a replica added by scaling up is not one */
  for (size_t d = 0; d < s->ndeps && !dirty; d++)
    {
      const struct svc *dep = &r->s[s->deps[d]];
      dirty = !dep->keep && !(dep->old_id == NULL && dep->index > 1);
    }
  return dirty || r->o->force_recreate;
}

static struct svc *
svc_by_name (struct run *r, const char *name)
{
  for (size_t i = 0; i < r->n; i++)
    if (strcmp (r->s[i].name, name) == 0)
      return &r->s[i];
  return NULL;
}

static int
setup_services (struct run *r, json_object *existing, bool for_wait, struct itm_err *err)
{
  const struct stack *st = r->st;
  r->n = 0;
  for (size_t i = 0; i < st->nservices; i++)
    r->n += (size_t) replicas_of (r, &st->services[i]);
  r->s = xcalloc (r->n + 1, sizeof *r->s);
  size_t si = 0;
  for (size_t i = 0; i < st->nservices; i++)
    for (int x = 1, nrep = replicas_of (r, &st->services[i]); x <= nrep; x++)
      if (setup_one (r, &r->s[si++], &st->services[i], x, nrep, err) < 0)
        return -1;
  link_deps (r);
  /* existing containers: keep the unchanged ones; a changed one is
   * recreated with everything that depends on it (waves: dependencies
   * are decided first) */
  struct stack_wave *w = NULL;
  size_t nw = stack_waves (st, &w);
  int ret = 0;
  for (size_t wi = 0; wi < nw && ret == 0; wi++)
    for (size_t k = 0; k < w[wi].n && ret == 0; k++)
      for (size_t x = 0; x < r->n && ret == 0; x++)
      {
        struct svc *s = &r->s[x];
        if (strcmp (svc_service (s), w[wi].services[k]->name) != 0)
          continue;
        json_object *c = find_service_container (existing, svc_service (s), s->index);
        if (c == NULL)
          continue;
        if (is_dirty (r, s, c, for_wait))
          s->old_id = xstrdup (json_str (c, "Id"));
        else
          {
            s->keep = true;
            s->id = xstrdup (json_str (c, "Id"));
            ret = adopt (r->e, s, err);
          }
      }
  stack_waves_free (w, nw);
  return ret;
}

static int
cmp_strp (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Containers of the namespace whose service the stack no longer defines
 * (removed or renamed; a service only a profile leaves out is not one):
 * a warning naming them, as Compose gives, or with --remove-orphans their
 * removal.  -1 when that fails. */
static int
orphans (struct run *r, json_object *existing, struct itm_err *err)
{
  size_t n = json_object_array_length (existing), no = 0;
  const char **ids = xcalloc (n + 1, sizeof *ids);
  cleanup_buf struct buf names = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      json_object *c = json_object_array_get_idx (existing, i);
      const char *sv = json_label (c, ITM_LABEL_SERVICE);
      if (sv == NULL || stack_service (r->st, sv)
          || bsearch (&sv, r->st->disabled, r->st->ndisabled, sizeof *r->st->disabled,
                      cmp_strp))
        continue;
      json_object *nm = json_path (c, "Names");
      const char *name = nm ? json_object_get_string (json_object_array_get_idx (nm, 0)) : sv;
      name += name && name[0] == '/';
      ids[no++] = json_str (c, "Id");
      buf_addf (&names, "%s%s", names.len ? ", " : "", name);
    }
  int ret = 0;
  if (no && !r->o->remove_orphans)
    out_warn ("orphan container%s in namespace %s: %s (%s no longer in the stack); "
              "'up --remove-orphans' removes %s",
             no == 1 ? "" : "s", r->ns, names.data, no == 1 ? "its service is" : "their services are",
             no == 1 ? "it" : "them");
  else if (no)
    {
      out_note ("itm-env: removing orphan container%s %s", no == 1 ? "" : "s", names.data);
      ret = prov_remove (r->e, ids, no, NULL, 0, NULL, 0, true, 0, err);
    }
  free (ids);
  return ret;
}

/* Replicas past a service's count (an up with a smaller scale than the
 * last): removed, as Compose scales down.  -1 when that fails. */
static int
surplus (struct run *r, json_object *existing, struct itm_err *err)
{
  size_t n = json_object_array_length (existing), no = 0;
  const char **ids = xcalloc (n + 1, sizeof *ids);
  cleanup_buf struct buf names = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      json_object *c = json_object_array_get_idx (existing, i);
      const char *sv = json_label (c, ITM_LABEL_SERVICE);
      const char *num = json_label (c, ITM_LABEL_NUMBER);
      const struct stack_service *ss = sv ? stack_service (r->st, sv) : NULL;
      if (ss == NULL || (num ? atoi (num) : 1) <= replicas_of (r, ss))
        continue;
      json_object *nm = json_path (c, "Names");
      const char *name = nm ? json_object_get_string (json_object_array_get_idx (nm, 0)) : sv;
      name += name && name[0] == '/';
      ids[no++] = json_str (c, "Id");
      buf_addf (&names, "%s%s", names.len ? ", " : "", name);
    }
  int ret = 0;
  if (no)
    {
      out_note ("itm-env: scaling down: removing %s", names.data);
      ret = prov_remove (r->e, ids, no, NULL, 0, NULL, 0, false, -1, err);
    }
  free (ids);
  return ret;
}

/* up --scale SERVICE=N: a service of the stack, 1..STACK_REPLICAS_MAX, not
 * one with container_name when N > 1. */
static int
check_scale (const struct stack *st, const struct prov_opts *o, struct itm_err *err)
{
  for (size_t i = 0; i < o->nscale; i++)
    {
      const struct stack_service *ss = stack_service (st, o->scale[i].service);
      if (ss == NULL)
        return itm_err_set (err, ITM_EXIT_USAGE, "up: --scale %s=%d: no such service",
                            o->scale[i].service, o->scale[i].n);
      if (o->scale[i].n > 1 && ss->container_name)
        return itm_err_set (err, ITM_EXIT_USAGE, "up: --scale %s=%d: service %s has "
                            "container_name, a unique name", ss->name, o->scale[i].n, ss->name);
    }
  return 0;
}

/* A service with a healthcheck is ready when healthy, whoever awaits it.
 * service_healthy on one without (neither in the stack nor in its image)
 * can never be met: an error naming both services, before anything is
 * created, as Compose refuses it. */
static int
fix_gates (struct run *r, struct itm_err *err)
{
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      bool hc = s->probe != NULL && !(s->ss && s->ss->healthcheck.disable);
      if (!ready_gate_fix (&s->gate, hc))
        {
          const char *who = NULL;
          for (size_t k = 0; k < r->n && who == NULL; k++)
            for (size_t d = 0; d < r->s[k].ndeps; d++)
              if (r->s[k].deps[d] == i && r->s[k].conds[d] == STACK_COND_HEALTHY)
                who = svc_service (&r->s[k]);
          itm_err_set (err, ITM_EXIT_STACK, "service %s depends on %s with condition "
                       "service_healthy, but %s has no healthcheck (%s)",
                       who ? who : "?", svc_service (s), svc_service (s),
                       s->ss && s->ss->healthcheck.disable ? "disabled in the stack"
                                                           : "none in the stack or its image");
          return itm_err_hint (err, "give %s a healthcheck, or depend on it with "
                                    "service_started", svc_service (s));
        }
    }
  return 0;
}

/* Create a network or volume of the stack (kind "network" or "volume",
 * spec from prov_*_spec, borrowed) unless the engine has one by that name
 * already; one it creates is remembered in *made for rollback. */
static int
ensure_resource (struct run *r, const char *kind, json_object *spec, char ***made, size_t *nmade,
                 struct itm_err *err)
{
  const char *name = json_str (spec, "Name");
  cleanup_free char *p = xasprintf ("/%ss/%s", kind, name);
  cleanup_json json_object *res = NULL;
  cleanup_err struct itm_err e2 = { 0 };
  if (engine_get (r->e, p, &res, &e2) == 0)
    return 0;
  if (e2.code != ITM_EXIT_NOT_FOUND)
    {
      itm_err_move (err, &e2);
      return -1;
    }
  cleanup_free char *cp = xasprintf ("/%ss/create", kind);
  if (engine_post (r->e, cp, spec, NULL, err) < 0)
    return itm_err_prefix (err, "creating %s %s", kind, name);
  strv_push (made, nmade, name);
  cleanup_free char *what = xasprintf ("%s created", kind);
  out_event (NULL, what, -1, name);
  return 0;
}

/* The stack's external networks and volumes must exist: the engine
 * would make a missing volume on mount (and leak it), and a missing network
 * shows only once containers exist.  Checked before anything is built,
 * pulled or created; the error is the stack's (exit 3), worded as Compose
 * words it. */
static int
check_externals (struct engine *e, const struct stack *st, const char *ns, long ttl,
                 struct itm_err *err)
{
  for (size_t i = 0; i < st->nnetworks + st->nvolumes; i++)
    {
      bool net = i < st->nnetworks;
      const struct stack_network *n = net ? &st->networks[i] : NULL;
      const struct stack_volume *v = net ? NULL : &st->volumes[i - st->nnetworks];
      if (!(net ? n->external : v->external))
        continue;
      cleanup_json json_object *spec = net ? prov_network_spec (st, n, ns, ttl)
                                           : prov_volume_spec (st, v, ns, ttl);
      const char *name = json_str (spec, "Name");
      cleanup_free char *enc = engine_urlencode (name);
      cleanup_free char *p = xasprintf (net ? "/networks/%s" : "/volumes/%s", enc);
      cleanup_json json_object *res = NULL;
      cleanup_err struct itm_err e2 = { 0 };
      if (engine_get (e, p, &res, &e2) == 0)
        continue;
      if (e2.code != ITM_EXIT_NOT_FOUND)
        {
          itm_err_move (err, &e2);
          return itm_err_prefix (err, "checking external %s %s", net ? "network" : "volume",
                                 name);
        }
      if (net)
        itm_err_set (err, ITM_EXIT_STACK, "network %s declared as external, but could not be "
                     "found", name);
      else
        itm_err_set (err, ITM_EXIT_STACK, "external volume %s not found", name);
      return itm_err_hint (err, "create it (docker %s create %s), or drop 'external: true' so "
                           "that up creates it", net ? "network" : "volume", name);
    }
  return 0;
}

static int
create_networks_volumes (struct run *r, struct itm_err *err)
{
  const struct stack *st = r->st;
  for (size_t i = 0; i < st->nnetworks; i++)
    {
      if (st->networks[i].external)
        continue;
      cleanup_json json_object *spec = prov_network_spec (st, &st->networks[i], r->ns, r->o->ttl);
      if (ensure_resource (r, "network", spec, &r->nets, &r->nnets, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < st->nvolumes; i++)
    {
      if (st->volumes[i].external)
        continue;
      cleanup_json json_object *spec = prov_volume_spec (st, &st->volumes[i], r->ns, r->o->ttl);
      if (ensure_resource (r, "volume", spec, &r->vols, &r->nvols, err) < 0)
        return -1;
    }
  return 0;
}

/* o->join (itm-env's own container) onto the namespace's networks, as
 * soon as they exist: the services' names resolve there for what runs
 * beside itm-env (run's command, the variables of env).  Left again by
 * prov_remove before the networks go. */
static int
join_networks (struct run *r, struct itm_err *err)
{
  const struct stack *st = r->st;
  for (size_t i = 0; r->o->join && i < st->nnetworks; i++)
    {
      if (st->networks[i].external)
        continue;
      cleanup_json json_object *spec = prov_network_spec (st, &st->networks[i], r->ns, r->o->ttl);
      const char *name = json_str (spec, "Name");
      if (self_join (r->e, name, err) < 0)
        return -1;
      out_event (NULL, "joined", -1, name);
    }
  return 0;
}

static void
rollback (struct run *r)
{
  size_t n = 0;
  char **ids = xcalloc (r->n + 1, sizeof *ids);
  for (size_t i = 0; i < r->n; i++)
    if (r->s[i].created && r->s[i].id)
      ids[n++] = r->s[i].id;
  cleanup_err struct itm_err err = { 0 };
  int64_t t0 = mono_ns ();
  if (r->st)
    prov_proxy_remove (r->e, r->ns);
  prov_remove (r->e, (const char *const *) ids, n, (const char *const *) r->nets, r->nnets,
               (const char *const *) r->vols, r->nvols, true, 0, &err);
  report_teardown_time (report_current (), mono_ns () - t0);
  if (itm_err_isset (&err))
    out_warn ("removing what this up created: %s", err.msg);
  else
    out_note ("itm-env: removed what this up created (%zu container%s, %zu network%s, "
              "%zu volume%s)", n, n == 1 ? "" : "s", r->nnets, r->nnets == 1 ? "" : "s",
              r->nvols, r->nvols == 1 ? "" : "s");
  free (ids);
}

/* r->order: the services in dependency order (the stack's waves; without
 * a stack, or for one a wave misses, the list's order). */
static void
dependency_order (struct run *r)
{
  r->order = xcalloc (r->n + 1, sizeof *r->order);
  bool *placed = xcalloc (r->n + 1, sizeof *placed);
  size_t k = 0;
  struct stack_wave *w = NULL;
  size_t nw = r->st ? stack_waves (r->st, &w) : 0;
  for (size_t wi = 0; wi < nw; wi++)
    for (size_t j = 0; j < w[wi].n; j++)
      for (size_t i = 0; i < r->n; i++)
        if (!placed[i] && strcmp (r->s[i].name, w[wi].services[j]->name) == 0)
          {
            placed[i] = true;
            r->order[k++] = i;
            break;
          }
  if (r->st)
    stack_waves_free (w, nw);
  for (size_t i = 0; i < r->n; i++)
    if (!placed[i])
      r->order[k++] = i;
  free (placed);
}

/* The events thread and the gates' thread. */
static void
threads_start (struct run *r)
{
  r->events_e = engine_dup (r->e);
  r->events_started = pthread_create (&r->events_th, NULL, events_main, r) == 0;
  dependency_order (r);
  r->calls = ENGINE_CALLS;
  pthread_cond_init (&r->calls_cv, NULL);
  r->calls_init = true;
  r->gates_started = pthread_create (&r->gates_th, NULL, gates_main, r) == 0;
  if (!r->gates_started)
    for (size_t i = 0; i < r->n; i++)
      if (r->s[i].phase != P_READY)
        {
          pthread_mutex_lock (&r->mu);
          fail_locked (r, &r->s[i], ITM_EXIT_FAILURE, "cannot start a thread");
          pthread_mutex_unlock (&r->mu);
          break;
        }
}

/* Wait until every service is ready, one failed, a signal came or the
 * overall timeout passed (which fails the first service not ready);
 * whether it was a signal. */
static bool
watch (struct run *r)
{
  int64_t overall = r->o->timeout_ns ? r->t0 + r->o->timeout_ns : 0;
  bool interrupted = false;
  pthread_mutex_lock (&r->mu);
  for (;;)
    {
      /* an interruption first: a gate whose probe the signal cancelled
       * may have failed because of it (signal-exit.sh saw exit 7) */
      if (prov_interrupted ())
        {
          interrupted = true;
          r->abort = 1;
          engine_cancel_wake ();
          pthread_cond_broadcast (&r->cv);
          break;
        }
      bool done = true;
      for (size_t i = 0; i < r->n && done; i++)
        done = r->s[i].phase == P_READY;
      if (done || r->failed)
        break;
      if (overall && mono_ns () >= overall)
        {
          char d[32];
          stack_format_duration (r->o->timeout_ns, d, sizeof d);
          for (size_t i = 0; i < r->n; i++)
            if (r->s[i].phase != P_READY)
              {
                fail_locked (r, &r->s[i], ITM_EXIT_READINESS, "not ready within %s %s",
                             r->o->timeout_opt ? r->o->timeout_opt : "--timeout", d);
                break;
              }
          break;
        }
      timed_wait (r, 100 * 1000000LL);
      pthread_mutex_unlock (&r->mu);
      out_tick ();
      pthread_mutex_lock (&r->mu);
    }
  pthread_mutex_unlock (&r->mu);
  return interrupted;
}

/* Tell the events thread to stop and join it: engine_cancel_wake() makes
 * its call look at the flag at once. */
static void
events_stop (struct run *r)
{
  r->stop_events = 1;
  engine_cancel_wake ();
  if (r->events_started)
    pthread_join (r->events_th, NULL);
  r->events_started = false;
}

/* After a failure: the first failed service's story, or the events
 * stream's; err set. */
static void
failure (struct run *r, struct itm_err *err)
{
  struct svc *first = NULL;
  for (size_t i = 0; i < r->n && first == NULL; i++)
    if (r->s[i].phase == P_FAILED)
      first = &r->s[i];
  if (first)
    {
      out_event (first->name, "failed", -1, first->reason);
      out_finish ();
      print_failure (r, first);
      itm_err_move (err, &first->err);
      return;
    }
  out_finish ();
  if (itm_err_isset (&r->events_err))
    {
      itm_err_move (err, &r->events_err);
      itm_err_prefix (err, "watching the engine's events");
    }
  else
    itm_err_set (err, ITM_EXIT_READINESS, "readiness failed");
}

static int
drive (struct run *r, bool for_wait, struct itm_err *err)
{
  int ret = 0;
  threads_start (r);
  bool interrupted = watch (r);
  if (r->gates_started)
    pthread_join (r->gates_th, NULL);
  pthread_mutex_lock (&r->mu);
  bool failed = r->failed;
  r->stop_events = 1;
  engine_cancel_wake ();
  pthread_mutex_unlock (&r->mu);
  if (!interrupted && !failed)
    out_event (NULL, "all ready", mono_ns () - r->t0, r->ns);
  if (failed && !interrupted)
    events_stop (r); /* its error, if any, is part of the story */
  if (interrupted)
    {
      out_finish (); /* the live lines stay as they were; what follows goes below */
      itm_err_set (err, ITM_EXIT_INTERRUPTED, "interrupted");
      ret = -1;
    }
  else if (failed)
    {
      failure (r, err);
      ret = -1;
    }
  report_run (r, interrupted);
  if (!interrupted && (ret == 0 || for_wait || r->o->keep_on_failure))
    record_ready (r, for_wait);
  if (ret < 0 && !for_wait)
    {
      if (r->o->keep_on_failure && !interrupted)
        out_note ("itm-env: --keep-on-failure: namespace %s left as it is", r->ns);
      else
        rollback (r);
    }
  out_finish ();
  events_stop (r);
  return ret;
}

/* up SERVICE...: the named services and (unless no_deps) what they
 * depend on, transitively; the others are left as they are, as wait
 * leaves the services it was not asked about. */
static int
select_services (struct run *r, struct itm_err *err)
{
  const struct prov_opts *o = r->o;
  if (o->nservices == 0)
    return 0;
  bool *sel = xcalloc (r->n + 1, sizeof *sel);
  for (size_t k = 0; k < o->nservices; k++)
    {
      struct svc *s = svc_by_name (r, o->services[k]);
      if (s == NULL)
        {
          free (sel);
          return itm_err_set (err, ITM_EXIT_NOT_FOUND, "no such service: %s", o->services[k]);
        }
      sel[s - r->s] = true;
    }
  for (bool grew = !o->no_deps; grew;)
    {
      grew = false;
      for (size_t i = 0; i < r->n; i++)
        for (size_t d = 0; sel[i] && d < r->s[i].ndeps; d++)
          if (!sel[r->s[i].deps[d]])
            sel[r->s[i].deps[d]] = grew = true;
    }
  for (size_t i = 0; i < r->n; i++)
    if (!sel[i])
      {
        r->s[i].keep = true;
        r->s[i].gate = GATE_RUNNING;
        r->s[i].phase = P_READY;
      }
  free (sel);
  return 0;
}

/* A failed up that left nothing on the engine (rolled back, or failed
 * before creating anything) leaves no state either: the state directory
 * (snapshot, secrets, watchdog log, lock) goes, under the lock (a waiter
 * finds the lock file gone and starts over on a fresh one). */
static void
drop_state_if_gone (struct engine *e, const char *ns)
{
  cleanup_err struct itm_err err = { 0 };
  struct state *st = NULL;
  if (state_load (e, ns, &st, &err) < 0)
    return;
  bool empty = state_empty (st);
  state_free (st);
  if (empty && ns_state_remove (ns, &err) < 0)
    out_warn ("%s", err.msg);
}

int
prov_up (struct engine *e, const struct stack *st, const struct prov_opts *o, struct itm_err *err)
{
  /* one up at a time on a namespace: a second one waits, then finds what
   * the first made */
  int lockfd = ns_lock (o->ns, err);
  if (lockfd < 0)
    return -1;
  struct run *r = xzalloc (sizeof *r);
  *r = (struct run){ .e = e, .st = st, .o = o, .ns = o->ns, .t0 = mono_ns () };
  pthread_mutex_init (&r->mu, NULL);
  pthread_cond_init (&r->cv, NULL);
  int ret = -1;
  json_object *existing = NULL;
  if (check_scale (st, o, err) < 0 || check_externals (e, st, o->ns, o->ttl, err) < 0
      || prov_binds_check (st, self_probe (e), err) < 0)
    goto out;
  existing = list_containers (e, o->ns, err);
  if (existing == NULL)
    goto out;
  /* images first (built or pulled): nothing is created when one fails, and
   * a container whose image was rebuilt or re-pulled is recreated */
  struct image_opts io = o->image ? *o->image : (struct image_opts){ 0 };
  io.ns = o->ns;
  io.cancel = &sig_count;   /* SIGINT stops builds and pulls in flight */
  if (image_ensure (e, st, &io, err) < 0)
    goto out;
  if (o->hooks.before_create)
    o->hooks.before_create (o->hooks.arg, e, o->ns, json_object_array_length (existing) == 0);
  r->n = 0;
  if (setup_services (r, existing, false, err) < 0)
    goto out;
  if (select_services (r, err) < 0 || orphans (r, existing, err) < 0
      || surplus (r, existing, err) < 0)
    goto out;
  if (check_images (r, err) < 0)
    goto out;
  if (fix_gates (r, err) < 0)
    goto out;
  if (create_networks_volumes (r, err) < 0 || join_networks (r, err) < 0
      || prov_proxy_up (e, st, o->ns, o->ttl, err) < 0)
    {
      rollback (r);
      goto out;
    }
  ret = drive (r, false, err);
  if (ret == 0 && prov_proxy_ready (e, o->ns, err) < 0)
    {
      /* every service is ready but the proxy in front of them died: a
       * failed up, undone as a failed gate's is */
      ret = -1;
      if (o->keep_on_failure)
        out_note ("itm-env: --keep-on-failure: namespace %s left as it is", o->ns);
      else
        rollback (r);
    }
out:
  json_object_put (existing);
  if (o->hooks.after)
    o->hooks.after (o->hooks.arg, ret == 0 || o->keep_on_failure);
  if (ret < 0)
    drop_state_if_gone (e, o->ns);
  ns_unlock (o->ns, lockfd);
  run_free (r);
  free (r);
  return ret;
}

/* wait without a stack file: one gate per container of the namespace, from
 * its labels and inspect: a healthcheck -> healthy; exited -> it must have
 * exited 0; otherwise running. */
static void
setup_from_labels (struct run *r, json_object *existing)
{
  size_t n = json_object_array_length (existing);
  r->s = xcalloc (n + 1, sizeof *r->s);
  r->n = 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *c = json_object_array_get_idx (existing, i);
      const char *svc = json_label (c, ITM_LABEL_SERVICE);
      const char *id = json_str (c, "Id");
      if (svc == NULL || id == NULL)
        continue;
      struct svc *s = &r->s[r->n++];
      json_object *names = json_path (c, "Names");
      const char *nm = names ? json_object_get_string (json_object_array_get_idx (names, 0)) : NULL;
      /* a service with replicas: each by its own name, <service>-<n> */
      size_t same = 0;
      for (size_t k = 0; k < n; k++)
        {
          const char *o = json_label (json_object_array_get_idx (existing, k), ITM_LABEL_SERVICE);
          same += o && strcmp (o, svc) == 0;
        }
      const char *num = json_label (c, ITM_LABEL_NUMBER);
      s->index = num ? atoi (num) : 1;
      s->name = same > 1 ? xasprintf ("%s-%d", svc, s->index) : xstrdup (svc);
      s->cname = xstrdup (nm ? nm + (nm[0] == '/') : svc);
      s->image = xstrdup (json_str (c, "Image") ? json_str (c, "Image") : "");
      s->id = xstrdup (id);
      s->keep = true;
      alloc_deps (r, s, 0);
      cleanup_err struct itm_err err = { 0 };
      if (adopt (r->e, s, &err) < 0)
        continue;
      s->gate = ready_gate_of_container (s->ev.died, s->probe != NULL);
    }
}

int
prov_wait (struct engine *e, const struct stack *st, const struct prov_opts *o,
           struct itm_err *err)
{
  struct run *r = xzalloc (sizeof *r);
  *r = (struct run){ .e = e, .st = st, .o = o, .ns = o->ns, .t0 = mono_ns () };
  pthread_mutex_init (&r->mu, NULL);
  pthread_cond_init (&r->cv, NULL);
  int ret = -1;
  json_object *existing = list_containers (e, o->ns, err);
  if (existing == NULL)
    goto out;
  if (json_object_array_length (existing) == 0)
    {
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "namespace %s has no containers", o->ns);
      goto out;
    }
  if (st == NULL)
    setup_from_labels (r, existing);
  else if (setup_services (r, existing, true, err) < 0)
    goto out;
  /* only the named services (and nothing to create) */
  for (size_t i = 0; i < r->n; i++)
    {
      struct svc *s = &r->s[i];
      bool wanted = o->nservices == 0;
      for (size_t k = 0; k < o->nservices && !wanted; k++)
        wanted = strcmp (o->services[k], svc_service (s)) == 0;
      s->ndeps = 0;
      if (!wanted)
        {
          s->keep = true;
          s->gate = GATE_RUNNING;
          s->phase = P_READY;
          continue;
        }
      if (!s->keep)
        {
          itm_err_set (err, ITM_EXIT_NOT_FOUND, "service %s has no container in namespace %s",
                       s->name, o->ns);
          goto out;
        }
    }
  if (fix_gates (r, err) < 0)
    goto out;
  for (size_t k = 0; k < o->nservices; k++)
    if (st ? stack_service (st, o->services[k]) == NULL : svc_by_name (r, o->services[k]) == NULL)
      {
        itm_err_set (err, ITM_EXIT_NOT_FOUND, "no such service: %s", o->services[k]);
        goto out;
      }
  ret = drive (r, true, err);
out:
  json_object_put (existing);
  run_free (r);
  free (r);
  return ret;
}
