/* private.h - what the files of src/image/ share among themselves (not a
 * module interface: other modules include image.h only). */
#ifndef ITM_IMAGE_PRIVATE_H
#define ITM_IMAGE_PRIVATE_H

#include <json-c/json.h>
#include <pthread.h>

#include "image/image.h"
#include "util/xalloc.h"

struct stack_build;
struct stack;

/* Progress of one image job (progress.c); fields after `mu` under the
 * printer's lock. */
struct layer {
  char *id;
  int64_t cur, total;
  bool done;
};
struct image_prog {
  const char *label;           /* "db" or "db, cache" (services) */
  const char *image;
  const char *verb;            /* "pull", "build" */
  int64_t t0, t_last;          /* ns */
  struct layer *l;
  size_t nl, capl;
  char *status;                /* last status / output line */
  bool finished, failed;
  /* build output kept for a failure report */
  char *lines[40];
  size_t nlines;
  struct buf partial;          /* an output line not yet ended */
  char *step;                  /* the last "Step N/M : ..." line */
  bool step_fixed;             /* lines/step are the failed step's (BuildKit): kept */
};

void progress_start (enum image_progress mode, struct image_prog *jobs, size_t n);
/* A pull progress message (status, id, progressDetail). */
void progress_pull (struct image_prog *p, json_object *v);
/* Build output text (from "stream"). */
void progress_build (struct image_prog *p, const char *text);
/* BuildKit: the step that failed and its own output, for the failure
 * report (replaces what progress_build kept; later lines are not kept). */
void progress_build_step (struct image_prog *p, const char *step, char **lines, size_t n);
/* A one-off event: "cached", "exists", "pulled", "built", "failed"... */
void progress_event (struct image_prog *p, const char *event, const char *detail);
void progress_finish (void);

/* build.c: build svc's image and tag it name.  build: 1 always (--build),
 * -1 never (--no-build: the image must exist), 0 only when the digest of
 * the context and build inputs differs from the image's label.  0, or -1
 * with err set. */
int image_build_one (struct engine *e, const struct stack *st,
                     const struct stack_service *svc, const char *name, int build, enum image_builder builder, struct image_prog *p,
                     atomic_int *cancel, struct itm_err *err);

/* buildkit.c: BuildKit's progress (the "moby.buildkit.trace" aux payloads)
 * as the text lines `docker build --progress=plain` shows. */
struct bk_trace;
typedef void (*bk_line_fn) (void *ctx, const char *text); /* text ends with '\n' */
struct bk_trace *bk_trace_new (void);
void bk_trace_free (struct bk_trace *t);
/* Decode one payload (base64 StatusResponse) and call fn with each line it
 * means.  0, or -1 when it is not base64 or not a StatusResponse. */
int bk_trace_feed (struct bk_trace *t, const char *b64, bk_line_fn fn, void *ctx);
/* The first failed vertex: true with *step ("#5 [2/2] RUN false") and its
 * last output lines (new, *lines NULL-terminated), false when none failed. */
bool bk_trace_failed (const struct bk_trace *t, char **step, char ***lines, size_t *nlines);
/* pull.c: pull name for platform (may be NULL).  0, or -1 with err set. */
int image_pull_one (struct engine *e, const char *name, const char *platform,
                    struct image_prog *p, atomic_int *cancel, struct itm_err *err);
/* Both stop when *cancel (may be NULL) becomes non-zero: ITM_EXIT_INTERRUPTED. */
/* GET /images/NAME/json: 1 when it exists (with out: *out is the inspect
 * body, a new reference), 0 when it does not, -1 with err set. */
int image_inspect (struct engine *e, const char *name, json_object **out, struct itm_err *err);

#endif
