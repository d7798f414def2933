/* check.h - x-itm.checks evaluated on a namespace that is up: http
 * contracts (libcurl from itm-env itself, to the published 127.0.0.1
 * port), sql, redis and exec through the service's container (the
 * engine's exec, as src/data/ runs commands), tcp connects, image digests.
 * `itm-env check`, `up --check` and `run --check` use it.
 *
 * The checks are data (stack/checks.h); a run gives one struct
 * check_result per check, with what failed in the stack's terms (the JSON
 * pointer, the expected and the actual value; a shape diff) and, for http
 * checks repeated (--repeat), latency figures.
 *
 * Ownership: struct check_run owns its results and their strings;
 * check_run_free() releases them.  Pointers to the stack's checks are
 * borrowed: the stack must outlive the run.
 */
#ifndef ITM_CHECK_H
#define ITM_CHECK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct engine;
struct report;
struct stack;
struct stack_check;

struct check_opts {
  const char *const *services; /* only these (none: every service) */
  size_t nservices;
  unsigned repeat;             /* http checks: requests (0, 1: one) */
  unsigned concurrency;        /* at once (0: 1) */
};

/* Latency figures of the requests of an http check (ns). */
struct check_figures {
  size_t count, failed;
  int64_t min, p50, p95, p99, max;
  int64_t wall;                /* from the first request to the last answer */
  double throughput;           /* requests per second */
};

/* One failed expectation: what (a JSON pointer, "status", "latency",
 * "header X", "output", "exit code"...), expected, actual. */
struct check_failure {
  char *what, *expected, *actual;
};

struct check_result {
  const char *service;
  const struct stack_check *check;
  bool ok;
  int64_t ns;                  /* the (first) evaluation's time; latency for http */
  struct check_failure *failures;
  size_t nfailures;
  char *shape_diff;            /* http: "- expected\n+ actual" lines, or NULL */
  bool has_figures;
  struct check_figures fig;
};

struct check_run {
  struct check_result *v;
  size_t n, nfailed;
  unsigned repeat, concurrency;
};

/* Evaluate the checks of the services (o->services) of st on namespace
 * ns.  0 when they ran (r->nfailed says how many failed); -1 with err set
 * when they could not (a service named that does not exist: NOT_FOUND). */
int check_all (struct engine *e, const struct stack *st, const char *ns,
               const struct check_opts *o, struct check_run *r, struct itm_err *err);
void check_run_free (struct check_run *r);
/* How many checks the services have (all: nservices 0). */
size_t check_count (const struct stack *st, const char *const *services, size_t nservices);

/* One line per check ("ok"/"FAILED"), under a failed one its failures,
 * the shape diff, and the figures of repeated checks. */
void check_print (const struct check_run *r, FILE *f);
/* {"checks":[...], "passed", "failed"}: a new reference. */
json_object *check_json (const struct check_run *r);
/* Each result into the report (report_check, report_check_figures). */
void check_report (struct report *rep, const struct check_run *r);

/* up --check, run --check: every check once, printed on f and reported;
 * -1 with ITM_EXIT_CHECK when one failed ("N of M checks failed"). */
int check_gate (struct engine *e, const struct stack *st, const char *ns, FILE *f,
                struct itm_err *err);

/* The figures of n latencies (sorted in place): nearest-rank
 * percentiles. */
void check_figures (int64_t *lat, size_t n, int64_t wall, struct check_figures *f);

#endif
