/* ready-sim.c - the readiness schedule (src/prov/ready.c, the real state
 * machine) run on simulated time, so that its own lag can be told apart
 * from the engine's: bench/ready-lag.sh measures both on a real engine,
 * where a loaded machine's exec round trip (seconds at a load of 40)
 * hides what the schedule does.  For services ready at every 10 ms from
 * 0.1 s to 60 s of each of ready-lag.sh's kinds (what each gives a
 * trigger: its port opens early, at the truth or never; its process
 * table's pids change at the truth or not; one of the newer triggers
 * (process names, listen table, files, log) sees a change at the truth or
 * not), with every probe taking EXEC ms (argument, default 60: an idle
 * machine's exec round trip; the check runs at its middle), under four
 * schedules: plain (no trigger), port (the port trigger only: before the
 * process table), procs (the port and the cgroup's pids: before the
 * newer triggers) and now (the port and every signal), it prints the lag
 * (report - the moment the check could first pass) p50/p95/max and the
 * probes against plain's.  A signal is a change that then holds for one
 * look (trigger.c; LOOK_MIN_NS apart), whatever trigger saw it; the
 * service's change comes at the truth exactly (ready-lag.sh's services
 * make it 0.2-5 ms later).  Figures, not a test. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/ready.h"

#define MS 1000000LL

enum port { P_NEVER, P_EARLY, P_TRUTH };
static const struct kind {
  const char *name;
  enum port port;   /* when its exposed port accepts a connection */
  bool pids;        /* its cgroup's pids change at the truth */
  bool sig;         /* a trigger of "now" sees a change at the truth */
} kinds[] = {
  { "port", P_TRUTH, false, true },     /* httpd listens: port, listen table */
  { "early", P_EARLY, true, true },     /* a child sleep ends */
  { "none", P_NEVER, true, true },      /* a child sleep ends */
  { "files", P_NEVER, false, true },    /* a file is written */
  { "listen", P_NEVER, false, true },   /* listens on 127.0.0.1, not exposed */
  { "log", P_NEVER, false, true },      /* prints a line */
  { "exec", P_NEVER, false, true },     /* PID 1 execs: its name changes */
  { "silent", P_NEVER, false, false },  /* nothing */
};
enum sched { S_PLAIN, S_PORT, S_PROCS, S_NOW };
static const char *const sched_names[] = { "plain", "port", "procs", "now" };

/* One service ready at `truth` (ns from its start): the lag, and the
 * probes spent through *probes. */
static int64_t
run_one (const struct kind *k, enum sched sc, int64_t truth, int64_t exec, unsigned *probes)
{
  struct ready_gate g = { .gate = GATE_HEALTHY, .has_probe = true };
  struct ready_facts f = { .started = true };
  ready_init (&g);
  bool port = sc != S_PLAIN && k->port != P_NEVER;
  /* the process table (and, now, the other tables) is watched from the
   * start, whether the kind changes it or not */
  bool watch = sc >= S_PROCS;
  bool changes = (sc == S_PROCS && k->pids) || (sc == S_NOW && k->sig);
  /* the tables as trigger.c sees them: a look that holds what the last
   * one held and not what it held when it last settled is a signal (the
   * first look learns it; a probe's exec comes and goes unseen) */
  int last = -1, base = -1;
  int64_t now = 0;
  for (;;)
    {
      if (port)
        g.trig = k->port == P_EARLY || now >= truth ? TRIG_OPEN : TRIG_CLOSED;
      if (watch)
        {
          int v = changes && now >= truth;
          g.watch = true;
          if (base < 0)
            last = base = v;
          else if (v != last)
            last = v;
          else if (v != base)
            base = v, g.signals++;
        }
      struct ready_step st = ready_next (&g, &f, false, now);
      switch (st.act)
        {
        case READY_PROBE:
          {
            bool pass = now + exec / 2 >= truth;
            now += exec;
            ready_probed (&g, pass ? 0 : 1);
          }
          break;
        case READY_WAIT:
          now += st.wait_ns;
          break;
        case READY_READY:
          *probes = g.nprobes;
          return now - truth;
        case READY_SAY:
          break;
        default:
          *probes = g.nprobes;
          return -1;
        }
    }
}

static int
cmp (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int64_t exec = (argc > 1 ? atoll (argv[1]) : 60) * MS;
  enum { N = (60000 - 100) / 10 + 1 };
  static int64_t lag[N];
  printf ("ready-sim: exec round trip %lld ms, services ready every 10 ms from 0.1 to 60 s\n",
          (long long) (exec / MS));
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    {
      unsigned long plain_probes = 0;
      for (int sc = S_PLAIN; sc <= S_NOW; sc++)
        {
          unsigned long total = 0;
          for (int i = 0; i < N; i++)
            {
              unsigned p = 0;
              lag[i] = run_one (&kinds[k], (enum sched) sc, (100 + 10LL * i) * MS, exec, &p);
              total += p;
            }
          if (sc == S_PLAIN)
            plain_probes = total;
          qsort (lag, N, sizeof lag[0], cmp);
          printf ("%-6s %-5s lag p50 %5lld p95 %5lld max %5lld ms  probes %.2fx plain\n",
                  kinds[k].name, sched_names[sc], (long long) (lag[N / 2] / MS),
                  (long long) (lag[N * 95 / 100] / MS), (long long) (lag[N - 1] / MS),
                  (double) total / (double) plain_probes);
        }
    }
  return 0;
}
