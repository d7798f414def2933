/* ready.c - the readiness state machine (ready.h): the gate's decisions,
 * the probe schedule and the dependency conditions, with no engine call
 * and no clock of its own. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/ready.h"
#include "util/json.h"

void
ready_init (struct ready_gate *g)
{
  g->deadline = g->timeout_ns ? g->t_start + g->timeout_ns : 0;
  g->backoff = PROBE_MIN_NS;
  g->cycle_now = 0;
  g->said_waiting = g->probed = g->probe_ok = false;
  g->trig_seen = TRIG_NONE;
  g->signals_seen = g->signals;
  g->next_probe = 0;
  g->nprobes = 0;
  g->pending = g->cause = CAUSE_BLIND;
}

int64_t
ready_look_ns (unsigned lookers, int64_t cost_ns)
{
  if (cost_ns <= 0 || lookers == 0)
    return LOOK_MIN_NS;
  /* lookers * cost / interval <= LOOK_SHARE / 100 */
  int64_t ns = (int64_t) lookers * cost_ns * 100 / LOOK_SHARE;
  return ns < LOOK_MIN_NS ? LOOK_MIN_NS : ns > LOOK_MAX_NS ? LOOK_MAX_NS : ns;
}

const char *
ready_cause_name (enum ready_cause c)
{
  static const char *const names[] = { "blind", "port", "processes", "listen", "log", "files",
                                        "engine" };
  return (size_t) c < sizeof names / sizeof *names ? names[c] : "blind";
}

int64_t
ready_plain_probe_at (unsigned k)
{
  /* 0, 50, 150, 350, 750, 1550 ms, then every second */
  if (k <= 5)
    return PROBE_MIN_NS * ((1LL << k) - 1);
  return PROBE_MIN_NS * 31 + (int64_t) (k - 5) * PROBE_MAX_NS;
}

/* When the budget allows the next probe (absolute). */
static int64_t
budget_at (const struct ready_gate *g)
{
  if (g->nprobes < PROBE_SPARE)
    return 0;
  return g->t_start + ready_plain_probe_at (g->nprobes - PROBE_SPARE);
}

static struct ready_step
step (enum ready_action act)
{
  return (struct ready_step){ .act = act };
}

static struct ready_step
fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static struct ready_step
fail (const char *fmt, ...)
{
  struct ready_step s = { .act = READY_FAIL };
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (s.why, sizeof s.why, fmt, ap);
  va_end (ap);
  return s;
}

/* The wait before the next look without a probe: the poll interval,
 * never past the deadline, never 0. */
static struct ready_step
wait_until (const struct ready_gate *g, int64_t at, int64_t now)
{
  if (g->deadline && g->deadline < at)
    at = g->deadline;
  struct ready_step s = step (READY_WAIT);
  s.wait_ns = at - now > 0 ? at - now : 1000000;
  return s;
}

/* After a failed probe (asked for at cycle_now): the next blind one a
 * backoff later, which then doubles up to its cap. */
static void
schedule_after_fail (struct ready_gate *g)
{
  int64_t cap = g->trig == TRIG_CLOSED ? PROBE_MAX_CLOSED_NS : PROBE_MAX_NS;
  if (g->backoff > cap)
    g->backoff = cap;
  g->next_probe = g->cycle_now + g->backoff;
  g->backoff = g->backoff * 2 > cap ? cap : g->backoff * 2;
}

/* With a probe: the probe now, or the wait until its time (the trigger's
 * next look, while the ports are still closed or the process table is
 * watched, comes sooner). */
static struct ready_step
probe_or_wait (struct ready_gate *g, int64_t now)
{
  if (g->trig == TRIG_OPEN && g->trig_seen != TRIG_OPEN)
    {
      /* the port opened: probe at once, burst from the shortest backoff */
      g->next_probe = now;
      g->backoff = PROBE_MIN_NS;
      g->pending = CAUSE_PORT;
    }
  g->trig_seen = g->trig;
  if (g->signals != g->signals_seen)
    {
      /* the process table changed and settled: a probe at once, the
       * doubling goes on from it */
      g->signals_seen = g->signals;
      if (g->next_probe > now)
        g->next_probe = now;
      g->pending = g->signal_cause;
    }
  int64_t at = g->next_probe, b = budget_at (g);
  if (b > at)
    at = b;
  if (now >= at)
    {
      g->cycle_now = now;
      g->cause = g->pending;
      g->pending = CAUSE_BLIND;
      return step (READY_PROBE);
    }
  int64_t look = g->look_ns > 0 ? g->look_ns : LOOK_MIN_NS;
  if ((g->trig == TRIG_CLOSED || g->watch) && now + look < at)
    at = now + look;
  return wait_until (g, at, now);
}

/* What the facts decide on their own, or READY_WAIT for "nothing yet". */
static struct ready_step
decide (struct ready_gate *g, const struct ready_facts *f)
{
  if (f->oom)
    return fail ("killed: out of memory");
  if (f->died)
    {
      if (f->exit_code == 0 && g->gate != GATE_HEALTHY)
        return step (READY_READY);
      if (g->gate == GATE_COMPLETED || f->exit_code != 0)
        return fail ("exited with code %d%s", f->exit_code,
                     g->gate == GATE_COMPLETED ? " (service_completed_successfully needs 0)"
                                               : " while it was awaited");
      return fail ("exited with code 0 before it was healthy");
    }
  if (g->gate == GATE_RUNNING)
    return step (READY_READY);
  if (g->gate == GATE_HEALTHY && f->healthy)
    {
      g->cause = CAUSE_ENGINE;
      return step (READY_READY);
    }
  if (g->gate == GATE_HEALTHY && f->unhealthy)
    return fail ("the engine reports it unhealthy");
  return step (READY_WAIT);
}

struct ready_step
ready_next (struct ready_gate *g, const struct ready_facts *f, bool aborted, int64_t now)
{
  if (g->probe_ok)
    return step (READY_READY);
  if (g->probed)
    {
      g->probed = false;
      schedule_after_fail (g);
    }
  if (aborted)
    return step (READY_STOP);
  struct ready_step s = decide (g, f);
  if (s.act != READY_WAIT)
    return s;
  /* past the deadline before any probe ran (the start itself took that
   * long, e.g. a loaded engine): one probe first, so that a failure rests
   * on what the check said and its output can be shown */
  if (g->deadline && now >= g->deadline && g->gate == GATE_HEALTHY && g->has_probe
      && !g->ever_probed)
    {
      g->cycle_now = now;
      g->cause = CAUSE_BLIND;
      return step (READY_PROBE);
    }
  if (g->deadline && now >= g->deadline)
    {
      char d[32];
      stack_format_duration (g->timeout_ns, d, sizeof d);
      return fail ("not %s within its timeout (x-itm.timeout %s)",
                   g->gate == GATE_HEALTHY ? "healthy" : "completed", d);
    }
  if (!g->said_waiting)
    {
      g->said_waiting = true;
      s = step (READY_SAY);
      snprintf (s.why, sizeof s.why, "%s", g->gate == GATE_HEALTHY ? "for health" : "for its exit");
      return s;
    }
  if (g->gate == GATE_HEALTHY && g->has_probe)
    return probe_or_wait (g, now);
  return wait_until (g, now + READY_POLL_NS, now);
}

void
ready_probed (struct ready_gate *g, int rc)
{
  g->ever_probed = true;
  g->nprobes++;
  if (rc == 0)
    g->probe_ok = true;
  else
    g->probed = true;
}

/* "137" -> 137; -1 for anything that is not a whole int ("", "x", "1x",
 * out of range). */
static int
exit_code_of (const char *v)
{
  char *end;
  if (v == NULL || *v == '\0')
    return -1;
  errno = 0;
  long c = strtol (v, &end, 10);
  if (errno || *end != '\0' || c < INT_MIN || c > INT_MAX)
    return -1;
  return (int) c;
}

bool
ready_event_decode (json_object *ev, struct ready_event *out)
{
  const char *action = json_str (ev, "Action");
  if (action == NULL)
    action = json_str (ev, "status");
  const char *id = json_str (ev, "Actor.ID");
  if (id == NULL)
    id = json_str (ev, "id");
  *out = (struct ready_event){ .id = id, .kind = EV_OTHER, .exit_code = -1 };
  if (action == NULL || id == NULL)
    return false;
  if (strcmp (action, "start") == 0)
    out->kind = EV_START;
  else if (strcmp (action, "die") == 0)
    {
      out->kind = EV_DIE;
      out->exit_code = exit_code_of (json_str (ev, "Actor.Attributes.exitCode"));
    }
  else if (strcmp (action, "oom") == 0)
    out->kind = EV_OOM;
  else if (strcmp (action, "health_status: healthy") == 0)
    out->kind = EV_HEALTHY;
  else if (strcmp (action, "health_status: unhealthy") == 0)
    out->kind = EV_UNHEALTHY;
  return true;
}

void
ready_event_apply (struct ready_facts *f, const struct ready_event *e)
{
  switch (e->kind)
    {
    case EV_START:
      f->started = true;
      break;
    case EV_DIE:
      f->died = true;
      f->exit_code = e->exit_code;
      break;
    case EV_OOM:
      f->oom = true;
      break;
    case EV_HEALTHY:
      f->healthy = true;
      break;
    case EV_UNHEALTHY:
      f->unhealthy = true;
      break;
    case EV_OTHER:
      break;
    }
}

bool
ready_dep_holds (enum phase p, enum stack_condition c)
{
  if (c == STACK_COND_STARTED)
    return p == P_STARTED || p == P_READY;
  return p == P_READY;
}

enum gate_kind
ready_gate_raise (enum gate_kind g, enum stack_condition c)
{
  if (c == STACK_COND_COMPLETED)
    return GATE_COMPLETED;
  if (c == STACK_COND_HEALTHY && g == GATE_RUNNING)
    return GATE_HEALTHY;
  return g;
}

bool
ready_gate_fix (enum gate_kind *g, bool has_healthcheck)
{
  if (*g == GATE_RUNNING && has_healthcheck)
    *g = GATE_HEALTHY;
  return !(*g == GATE_HEALTHY && !has_healthcheck);
}

enum gate_kind
ready_gate_of_container (bool exited, bool has_healthcheck)
{
  return exited ? GATE_COMPLETED : has_healthcheck ? GATE_HEALTHY : GATE_RUNNING;
}

const char *
ready_gate_name (enum gate_kind g)
{
  return g == GATE_HEALTHY ? "healthcheck" : g == GATE_COMPLETED ? "completed" : "running";
}
