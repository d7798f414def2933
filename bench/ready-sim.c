/* ready-sim.c - the readiness schedule (src/prov/ready.c, the real state
 * machine) run on simulated time, so that its own lag can be told apart
 * from the engine's: bench/ready-lag.sh measures both on a real engine,
 * where a loaded machine's exec round trip (seconds at a load of 40)
 * hides what the schedule does.  For services ready at every 10 ms from
 * 0.1 s to 60 s of each kind (ready-lag.sh's: port, early, none, silent),
 * with every probe taking EXEC ms (argument, default 60: an idle
 * machine's exec round trip; the check runs at its middle), under three
 * schedules: plain (no trigger), port (the port trigger only: before the
 * process table) and now (port and process table), it prints the lag
 * (report - the moment the check could first pass) p50/p95/max and the
 * probes against plain's.  Figures, not a test. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/ready.h"

#define MS 1000000LL

enum kind { K_PORT, K_EARLY, K_NONE, K_SILENT };
static const char *const kind_names[] = { "port", "early", "none", "silent" };
enum sched { S_PLAIN, S_PORT, S_NOW };
static const char *const sched_names[] = { "plain", "port", "now" };

/* One service ready at `truth` (ns from its start): the lag, and the
 * probes spent through *probes. */
static int64_t
run_one (enum kind k, enum sched sc, int64_t truth, int64_t exec, unsigned *probes)
{
  struct ready_gate g = { .gate = GATE_HEALTHY, .has_probe = true };
  struct ready_facts f = { .started = true };
  ready_init (&g);
  bool port = sc != S_PLAIN && (k == K_PORT || k == K_EARLY);
  bool procs = sc == S_NOW && (k == K_EARLY || k == K_NONE);
  /* the process table as trigger.c sees it: a look that holds what the
   * last one held and not what it held when it last settled is a signal
   * (the first look learns it; a probe's exec comes and goes unseen) */
  int last = -1, base = -1;
  int64_t now = 0;
  for (;;)
    {
      if (port)
        g.trig = k == K_EARLY || now >= truth ? TRIG_OPEN : TRIG_CLOSED;
      if (procs)
        {
          int v = now >= truth;
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
  for (int k = K_PORT; k <= K_SILENT; k++)
    {
      unsigned long plain_probes = 0;
      for (int sc = S_PLAIN; sc <= S_NOW; sc++)
        {
          unsigned long total = 0;
          for (int i = 0; i < N; i++)
            {
              unsigned p = 0;
              lag[i] = run_one ((enum kind) k, (enum sched) sc, (100 + 10LL * i) * MS, exec, &p);
              total += p;
            }
          if (sc == S_PLAIN)
            plain_probes = total;
          qsort (lag, N, sizeof lag[0], cmp);
          printf ("%-6s %-5s lag p50 %5lld p95 %5lld max %5lld ms  probes %.2fx plain\n",
                  kind_names[k], sched_names[sc], (long long) (lag[N / 2] / MS),
                  (long long) (lag[N * 95 / 100] / MS), (long long) (lag[N - 1] / MS),
                  (double) total / (double) plain_probes);
        }
    }
  return 0;
}
