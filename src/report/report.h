/* report.h - what a command did, collected as it happens and written at
 * the end as a text, JSON or JUnit XML report (--report FILE,
 * --report-format FMT), the log files written for it (--logs-dir DIR; the
 * provisioner writes them) and GitHub Actions annotations.  Only util/ and
 * out/ are below it: it knows neither the engine nor the verifier, whose
 * results come in through the plain report_* calls below.
 *
 * The command (up, down, run) creates the collector with report_new(),
 * makes it current with report_set_current(), and writes it with
 * report_write() whatever happened.  Modules deeper down (the provisioner,
 * the data module, the verifier) report into report_current() and need not
 * know whether a report was asked for: every report_* function accepts a
 * NULL collector and then does nothing.  The collector is thread-safe
 * (services are gated in parallel threads).
 *
 * Ownership: every string passed in is copied; nothing passed in is kept.
 * Durations are nanoseconds; a negative duration means "not measured".
 */
#ifndef ITM_REPORT_H
#define ITM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct report;

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_MARKDOWN };

/* ---- the collector ---- */
/* command: "up", "down", "run".  Starts the report's clock. */
struct report *report_new (const char *command);
void report_free (struct report *r);
/* The process's current collector (NULL: none asked for). */
void report_set_current (struct report *r);
struct report *report_current (void);

/* The engine: endpoint, version (the engine's own, "24.0.5"; may be NULL),
 * negotiated API version. */
void report_engine (struct report *r, const char *endpoint, const char *version,
                    const char *api_version);
void report_namespace (struct report *r, const char *ns);
/* The stack files (repeatable). */
void report_stack_file (struct report *r, const char *path);
/* The command's outcome: its exit code and, when it failed, the error's
 * message (may be NULL).  Stops the report's clock. */
void report_finish (struct report *r, int exit_code, const char *message);

/* ---- what happened ---- */
/* A service's readiness gate.  state: "ready", "failed", "timeout",
 * "interrupted", "skipped" (a dependency failed), "running" (no gate).
 * time_to_ready_ns: from its start to ready (<0: not ready); probe_ns: the
 * successful probe's own response time (exec probe duration; <0: none);
 * gate: "healthcheck", "probe", "running", "completed" (may be NULL);
 * detail: why it failed, or NULL.  A second call for the same service
 * updates it. */
void report_service (struct report *r, const char *service, const char *state,
                     int64_t time_to_ready_ns, int64_t probe_ns, const char *gate,
                     const char *detail);
/* What asked for the probe that found a service ready: "blind" (the
 * schedule), "port", "processes", "listen", "log", "files", or "engine"
 * (the engine's own health status); the readiness schedule, itm-env(1)
 * READINESS. */
void report_service_ready_by (struct report *r, const char *service, const char *by);
/* The time a service's gate took, whether it ended ready or failed (the
 * JUnit testcase's time when it did not become ready). */
void report_service_time (struct report *r, const char *service, int64_t gate_ns);
/* A failure of a service, with its last log lines (may be NULL) and last
 * probe outputs (may be NULL).  Also prints a GitHub annotation (see
 * report_annotate), even when r is NULL.  service may be NULL (the stack). */
void report_failure (struct report *r, const char *service, const char *reason,
                     const char *last_logs, const char *probe_output);
/* A seed step of a service: step is its description ("copy init.sql",
 * "exec psql -f ..."); rows: rows loaded (<0: unknown); output: the step's
 * output when it failed (may be NULL). */
void report_seed (struct report *r, const char *service, const char *step, bool ok,
                  int64_t duration_ns, long long rows, const char *output);
/* A data check (x-itm.verify): name its description; expected/actual
 * outputs (may be NULL). */
void report_check (struct report *r, const char *service, const char *name, bool ok,
                   int64_t duration_ns, const char *expected, const char *actual);
/* An x-itm.checks result (src/check/), added to the report_check() entry
 * of the same service and name made just before: its kind ("http",
 * "sql"...), its failures' text and shape diff (detail, may be NULL) and,
 * for a repeated http check, its latency figures (ns; NULL: none). */
struct report_figures {
  size_t count, failed;
  int64_t min, p50, p95, p99, max;
  double throughput;           /* requests per second */
};
void report_check_detail (struct report *r, const char *service, const char *name,
                          const char *kind, const char *detail,
                          const struct report_figures *figures);

/* A fault of the fault proxy (x-itm.proxy): when is "scheduled" (an
 * x-itm.faults entry of the stack) or "active" (on the proxy when up
 * ended, or at run's teardown); fault its text ("db: latency_downstream(
 * latency downstream latency=300 jitter=0)", "at 5s for 10s" for a
 * schedule). */
void report_fault (struct report *r, const char *service, const char *when, const char *fault);

/* Teardown: one call per resource.  kind: "container", "network",
 * "volume", "image", "data-namespace"; status: created (by up), removed,
 * left (still there after teardown), suspect (appeared since the snapshot,
 * no owner; a warning).  detail may be NULL ("attached to ns_default"). */
enum report_res { REPORT_RES_CREATED, REPORT_RES_REMOVED, REPORT_RES_LEFT, REPORT_RES_SUSPECT };
void report_resource (struct report *r, const char *kind, const char *name,
                      enum report_res status, const char *detail);
/* The resource of kind known by engine id is called name: later
 * report_resource() calls may name it by its id. */
void report_resource_id (struct report *r, const char *kind, const char *id, const char *name);
/* The verifier's verdict: checked says what was checked (its one-line
 * summary); clean: nothing left.  Without this call the report has no
 * verification testcase. */
void report_verify (struct report *r, bool clean, const char *checked);
/* The time the teardown (removal and verification) took. */
void report_teardown_time (struct report *r, int64_t ns);
/* run: the command's output, its last lines (stdout and stderr as they
 * came; masked like everything else): the JUnit testcase's <system-out>,
 * and its <failure> when the command failed. */
void report_command_output (struct report *r, const char *tail);
/* run: the command run and its exit status (-1: not run). */
void report_command (struct report *r, const char *const *argv, int exit_code,
                     int64_t duration_ns);
/* A service's logs written to path (--logs-dir). */
void report_logs_file (struct report *r, const char *service, const char *path);

/* ---- writing (render.c) ---- */
/* "text", "json", "junit" (also "xml"), "markdown" (also "md"); a usage
 * error otherwise. */
int report_format_parse (const char *s, enum report_format *fmt, struct itm_err *err);
/* From the file name: .json: JSON, .xml: JUnit, .md: markdown, else text. */
enum report_format report_format_guess (const char *path);
/* Write the report to path ("-": stdout), atomically (a temp file renamed). */
int report_write (struct report *r, const char *path, enum report_format fmt,
                  struct itm_err *err);
/* The report in memory (a new string). */
char *report_render (struct report *r, enum report_format fmt);

/* Secrets: every string the report keeps, and every annotation, goes
 * through mask first (a new malloc'd string; data_mask() of src/data/ fits);
 * NULL: none.  Process-wide; set it before reporting. */
void report_set_mask (char *(*mask) (const char *s));

/* ---- annotations (annotate.c) ---- */
/* With GITHUB_ACTIONS=true: "::error title=T::MESSAGE" on stdout (on
 * stderr with --json, whose stdout is JSON lines only), with %,
 * CR and LF escaped (and : and , in the title) as GitHub requires.  No-op
 * otherwise. */
void report_annotate (const char *title, const char *message);

/* ---- the commands' options ---- */
/* --report FILE, --report-format FMT, --logs-dir DIR on up, down and run. */
struct report_opts {
  const char *path;         /* NULL: no report */
  const char *format;       /* NULL: from the file's extension */
  const char *logs_dir;     /* NULL: no log files */
};
/* The command's collector, made current (always made: failures are
 * annotated and --logs-dir honoured even without --report).  A bad
 * --report-format or an unusable --logs-dir (created when missing) is a
 * usage error (-1).  out may be NULL (then reach it with report_current()). */
int report_begin (const char *command, const struct report_opts *o, struct report **out,
                  struct itm_err *err);
/* Finish (exit code from err when set, else rc), annotate err when no
 * service failure was, write the report when asked (up and run with
 * GITHUB_ACTIONS=true and $GITHUB_STEP_SUMMARY set: the markdown report is
 * appended to that file too), unset and free the collector.  Returns rc, or -1 when the report could not be written: a
 * warning on stderr when err is already set, else err set. */
int report_end (struct report *r, const struct report_opts *o, int rc, struct itm_err *err);
/* The directory for log files (--logs-dir), or NULL. */
const char *report_logs_dir (struct report *r);

#endif
