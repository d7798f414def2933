/* priv.h - the report collector's data, shared by the collector
 * (report.c) and its renderings (render.c: what all three share and
 * writing; text.c, json.c, junit.c: one format each).  Private to
 * src/report/.
 *
 * Ownership: struct report owns every string and array in it (report.c
 * copies what it is given through report_clean_dup); the renderers only
 * read it, with r->mu held by report_render().
 */
#ifndef ITM_REPORT_PRIV_H
#define ITM_REPORT_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "report/report.h"
#include "util/xalloc.h"

struct rsvc {
  char *name, *state, *gate, *detail;
  char *ready_by;                /* what asked for the passing probe, NULL */
  int64_t ready_ns, probe_ns;
  int64_t gate_ns;               /* the gate's time, ready or not (-1: unknown) */
  bool failed;                   /* report_failure was called */
  char *reason, *logs, *probes;
  char *logs_file;
};
struct rseed {
  char *service, *step, *output;
  bool ok;
  int64_t ns;
  long long rows;
};
struct rcheck {
  char *service, *name, *expected, *actual;
  bool ok;
  int64_t ns;
  char *kind;                    /* x-itm.checks: "http"...; NULL: a data check */
  char *detail;                  /* x-itm.checks: failures and shape diff, or NULL */
  bool has_fig;
  struct report_figures fig;
};
struct rfault {
  char *service, *when, *fault;
};
enum { RES_CREATED = 1, RES_REMOVED = 2, RES_LEFT = 4, RES_SUSPECT = 8 };
struct rres {
  char *kind, *name, *detail;
  unsigned flags;
};
struct ralias {
  char *kind, *id, *name;
};

struct report {
  pthread_mutex_t mu;
  char *command, *ns;
  char *endpoint, *version, *api;
  char **files;
  size_t nfiles;
  int64_t t0, t1;
  time_t wall0;
  bool finished;
  int exit_code;
  char *message;
  struct rsvc *svc;
  size_t nsvc;
  struct rseed *seeds;
  size_t nseeds;
  struct rcheck *checks;
  size_t nchecks;
  struct rfault *faults;
  size_t nfaults;
  struct rres *res;
  size_t nres;
  struct ralias *alias;
  size_t nalias;
  bool verified, clean;
  char *checked;
  char **argv;
  int cmd_exit;
  int64_t cmd_ns;
  bool has_cmd;
  char *cmd_out;                 /* the tail of its output, or NULL */
  int64_t td_ns;                 /* the teardown's time (-1: unknown) */
  char *logs_dir;
  bool annotated;
};

/* A copy of s, masked (report_set_mask) and made valid UTF-8 (invalid
 * bytes become U+FFFD), or NULL when s is NULL.  (report.c) */
char *report_clean_dup (const char *s);

/* ---- what the renderings share (render.c) ---- */
double report_secs (int64_t ns);
/* The command's duration so far (its end once finished). */
int64_t report_duration (const struct report *r);
/* t as "2024-01-02T03:04:05Z" into out. */
void report_iso_time (time_t t, char *out, size_t n);
/* Resources with flag (and of kind, NULL: any). */
size_t report_count_res (const struct report *r, unsigned flag, const char *kind);
bool report_svc_failed (const struct rsvc *s);
bool report_svc_skipped (const struct rsvc *s);
/* Whether there is a teardown to show (verified, or resources reported),
 * and whether it is clean (verified clean, nothing left). */
bool report_has_teardown (const struct report *r);
bool report_teardown_ok (const struct report *r);

/* ---- the renderings: the report appended to b ---- */
void report_render_text (const struct report *r, struct buf *b);    /* text.c */
void report_render_json (const struct report *r, struct buf *b);    /* json.c */
void report_render_junit (const struct report *r, struct buf *b);   /* junit.c */
void report_render_markdown (const struct report *r, struct buf *b); /* markdown.c */

#endif
