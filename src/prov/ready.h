/* ready.h - private to src/prov/: the readiness state machine without the
 * engine.  up.c feeds it what the events (or an inspect) said about one
 * container, the time, and the outcome of each exec probe; it answers
 * with the next thing to do.  tests/unit/test-ready.c drives it from
 * tests/prov/ready.cases.
 *
 * Ownership: nothing is allocated; a step's text lives in the step. */
#ifndef ITM_PROV_READY_H
#define ITM_PROV_READY_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "stack/stack.h"

/* One value of the engine's /events stream, decoded (ready_event_decode):
 * the container it names and what it says.  Pure: up.c's events thread
 * and fuzz/fuzz-events.c both use it. */
enum ready_event_kind { EV_OTHER, EV_START, EV_DIE, EV_OOM, EV_HEALTHY, EV_UNHEALTHY };
struct ready_event {
  const char *id;               /* borrowed from the value */
  enum ready_event_kind kind;
  int exit_code;                /* EV_DIE: Actor.Attributes.exitCode, -1 when absent or not
                                   a number */
};

/* What a service must reach to be ready. */
enum gate_kind { GATE_RUNNING, GATE_HEALTHY, GATE_COMPLETED };
/* Where a service is; dependents look at it (ready_dep_holds). */
enum phase { P_PENDING, P_CREATED, P_STARTED, P_SEEDING, P_READY, P_FAILED, P_SKIPPED };

/* The readiness schedule (itm-env(1), READINESS).
 *
 * The truth is the service's own check (its healthcheck test, run through
 * exec: the "probe"); the engine's health events count too.  A probe
 * costs 20-45 ms of CPU, so probes are spent where they are likely to
 * pass, and a cheap trigger says when that is:
 *
 * - The trigger: when the container exposes TCP ports that can be
 *   reached from here, the gate connects to them at each look (below)
 *   (a connect() that is refused costs microseconds) until one accepts.
 *   That moment, "the port opened", runs a probe at once and restarts the
 *   doubling below from PROBE_MIN_NS.
 * - Blind probes: the first at once, then doubling from PROBE_MIN_NS to
 *   PROBE_MAX_NS (no trigger, or the port is open), or to
 *   PROBE_MAX_CLOSED_NS while the trigger says the port is still closed
 *   (the check is unlikely to pass: half the blind probes, saved for the
 *   burst after the port opens).
 * - Signals: when the engine runs on this host (the container's init is
 *   a process here, in a cgroup named after the container), the gate
 *   looks at
 *     - the process table: the cgroup's processes and their names
 *       (cgroup.procs, /proc/PID/stat): PostgreSQL starting its
 *       background workers, a start script's `sleep` ending, an `exec`
 *       into the server;
 *     - the listen table: the TCP sockets listening in its network
 *       namespace (sock_diag), also ones on 127.0.0.1 or not exposed;
 *     - its log: its json-file log grew (it printed "ready");
 *     - its files: a write in its writable layer (overlay2's upper
 *       directory) or its mounts (volumes, binds, tmpfs; inotify, at
 *       most TRIGGER_MAX_DIRS directories).
 *   A change that then holds still for one look and is not what it was
 *   when it last settled (not a process that came and went, as the
 *   probe's own exec) is a "signal": a probe at once; the blind doubling
 *   goes on from that probe (it is not reset).
 *   Signals never change the blind caps: a service that gives none (its
 *   check depends on time alone, or on memory behind a socket that is
 *   open already: "silent") keeps the plain doubling to 1 s.
 * - The looks: every LOOK_MIN_NS while few gates look at once; with more,
 *   less often (ready_look_ns), so that all of them together take at
 *   most LOOK_SHARE percent of one core at what a look costs (measured by
 *   the caller: about 40 us for a container of three processes; so 25
 *   gates at 10 ms, 100 at 40 ms, 500 at 200 ms), never rarer than
 *   LOOK_MAX_NS.
 * - The budget: never more probes than the plain schedule would have run
 *   by now (at 0, 50, 150, 350, 750, 1550 ms, then every second), plus
 *   PROBE_SPARE; a probe over the budget (the port's or a signal's too)
 *   waits for the plain schedule's next time.  So the probe CPU is never
 *   above what it was without trigger (plus PROBE_SPARE probes).
 * - Correctness: only the check decides.  The trigger never makes a
 *   service ready; a check that passes is final (as the engine's own
 *   healthy status is after one pass), one that fails waits for the next
 *   turn.
 */
#define PROBE_MIN_NS (50 * 1000000LL)
#define PROBE_MAX_NS (1000 * 1000000LL)
#define PROBE_MAX_CLOSED_NS (2000 * 1000000LL)
#define PROBE_SPARE 2
#define LOOK_MIN_NS (10 * 1000000LL)
#define LOOK_MAX_NS (500 * 1000000LL)
#define LOOK_SHARE 10
/* How often a gate without a probe looks again (the events wake it too). */
#define READY_POLL_NS (100 * 1000000LL)

/* What the trigger says about the container's ports (set by the caller
 * before each ready_next). */
enum ready_trigger { TRIG_NONE, TRIG_CLOSED, TRIG_OPEN };
/* What asked for a probe: the schedule, the port opening, a signal (its
 * kind), or (for the gate's end) the engine's own health status. */
enum ready_cause { CAUSE_BLIND, CAUSE_PORT, CAUSE_PROCS, CAUSE_LISTEN, CAUSE_LOG, CAUSE_FILES,
                   CAUSE_ENGINE };

/* What the engine said about the container so far. */
struct ready_facts {
  bool started, healthy, unhealthy, died, oom;
  int exit_code;
};

/* One gate: set gate, has_probe, timeout_ns and t_start, then ready_init. */
struct ready_gate {
  enum gate_kind gate;
  bool has_probe;               /* an exec probe can be run */
  int64_t timeout_ns;           /* x-itm.timeout, 0: none */
  int64_t t_start;              /* when the container was started */
  /* the machine's own */
  int64_t deadline;             /* 0: none */
  int64_t backoff;
  int64_t cycle_now;            /* the time the probe of this turn was asked at */
  bool said_waiting;
  bool probed;                  /* a probe ran and failed this turn */
  bool probe_ok;
  bool ever_probed;             /* a probe ran at least once */
  enum ready_trigger trig;      /* the caller's: what the ports say now */
  enum ready_trigger trig_seen; /* what they said at the last look */
  bool watch;                   /* the caller's: it looks at the process table */
  int64_t look_ns;              /* the caller's: how often it looks (ready_look_ns), 0:
                                   LOOK_MIN_NS */
  unsigned signals;             /* the caller's: signals so far */
  enum ready_cause signal_cause;/* the caller's: the latest signal's kind */
  unsigned signals_seen;        /* the ones a probe answered */
  enum ready_cause pending;     /* what asked for the next probe */
  enum ready_cause cause;       /* READY_READY: what asked for the probe that passed, or
                                   CAUSE_ENGINE */
  int64_t next_probe;           /* the next blind probe (absolute), 0: at once */
  unsigned nprobes;             /* probes run */
};

enum ready_action {
  READY_STOP,                   /* aborted: leave the gate, nothing to say */
  READY_READY,                  /* the gate holds */
  READY_FAIL,                   /* it never will: why */
  READY_SAY,                    /* print "waiting" with why, then ask again */
  READY_PROBE,                  /* run the exec probe, give ready_probed its exit code */
  READY_WAIT,                   /* wait wait_ns (or until an event), then ask again */
};

struct ready_step {
  enum ready_action act;
  int64_t wait_ns;
  char why[160];
};

void ready_init (struct ready_gate *g);
/* The next step given the facts, whether the run is aborting, and now. */
struct ready_step ready_next (struct ready_gate *g, const struct ready_facts *f, bool aborted,
                              int64_t now);
/* "blind", "port", "processes", "listen", "log", "files", "engine". */
const char *ready_cause_name (enum ready_cause c);
/* How often each of `lookers` gates that look at once looks, when one
 * look costs `cost_ns` of CPU: ready.h's "The looks". */
int64_t ready_look_ns (unsigned lookers, int64_t cost_ns);
/* The time (from the start) the plain schedule runs its k-th probe
 * (k from 0): the budget's clock. */
int64_t ready_plain_probe_at (unsigned k);
/* The exit code of the probe READY_PROBE asked for (-1: it could not run). */
void ready_probed (struct ready_gate *g, int rc);

/* Decode one event (a container event as /events gives it, old "status"/
 * "id" spellings too): false when it names no action or no container. */
bool ready_event_decode (json_object *ev, struct ready_event *out);
/* What the event changes in a container's facts: only the fact its kind
 * names (EV_OTHER: nothing). */
void ready_event_apply (struct ready_facts *f, const struct ready_event *e);

/* Whether a dependency in phase p meets condition c. */
bool ready_dep_holds (enum phase p, enum stack_condition c);
/* The gate a service gets when a dependent waits on it with condition c. */
enum gate_kind ready_gate_raise (enum gate_kind g, enum stack_condition c);
/* The gate a service gets from its healthcheck (one with a healthcheck is
 * ready when healthy, whoever awaits it); false when the gate asks for a
 * healthcheck the service does not have. */
bool ready_gate_fix (enum gate_kind *g, bool has_healthcheck);
/* wait without a stack: the gate from a container's state alone. */
enum gate_kind ready_gate_of_container (bool exited, bool has_healthcheck);
const char *ready_gate_name (enum gate_kind g);   /* "healthcheck", "completed", "running" */

#endif
