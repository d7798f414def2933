/* verify.h - the teardown verifier, the engine snapshot taken before up,
 * and the crash-safety watchdog.
 *
 * Verification of a namespace NS (after down, or alone: itm-env verify):
 *   1. "labelled":  nothing labelled io.itm-env.namespace=NS remains
 *                   (containers, networks, volumes unless kept); with
 *                   --rmi, "images": none of the images down removed
 *                   exists under that name any more;
 *   2. "attached":  no container, labelled or not, is attached to NS's
 *                   networks;
 *   3. "snapshot":  resources that appeared since the snapshot taken before
 *                   up and carry no owner label (io.itm-env.*, Compose,
 *                   Testcontainers, ...) are suspects: a warning only;
 *   4. "data":      every data namespace of NS is gone.
 * Leftovers (checks 1, 2, 4) make the verification dirty: ITM_EXIT_LEAK.
 *
 * Ownership: a struct verify_result owns every string and array in it;
 * verify_result_free() releases it.  JSON values returned are new
 * references.
 */
#ifndef ITM_VERIFY_H
#define ITM_VERIFY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

struct engine;
struct prov_down_opts;

/* ---- results (read by the reports) ---- */
enum verify_kind { VERIFY_CONTAINER, VERIFY_NETWORK, VERIFY_VOLUME, VERIFY_DATA_NS,
                   VERIFY_IMAGE };

struct verify_item {
  enum verify_kind kind;
  char *id;             /* engine id (volumes, data namespaces, images: the name) */
  char *name;           /* container name without '/', network or volume name */
  char *reason;         /* leftovers and suspects: why ("labelled ...",
                           "attached to network x", "appeared since up ...") */
  bool removed;         /* --force removed it (left[] only) */
};

struct verify_list {
  struct verify_item *v;
  size_t n, cap;
};

struct verify_result {
  char *ns;
  /* what was checked */
  bool checked_labelled, checked_attached, checked_snapshot, checked_data;
  const char *checked_images;   /* with --rmi: "local" or "all"; else NULL */
  char *snapshot_time;          /* RFC 3339, when checked_snapshot */
  size_t engine_resources;      /* containers + networks + volumes compared (check 3) */
  /* with down: the namespace's resources before down ("created") and
   * those of them gone after it ("removed") */
  struct verify_list created, removed;
  struct verify_list left;      /* checks 1, 2 and 4 */
  struct verify_list suspects;  /* check 3 (warnings) */
  struct verify_list strays;    /* unlabelled containers that were on our
                                   networks when down began */
  size_t forced;                /* how many leftovers --force removed */
  bool clean;                   /* left.n == 0 (after --force) */
  long long duration_ms;
};

/* A new, empty result for namespace ns. */
struct verify_result *verify_result_new (const char *ns);
void verify_result_free (struct verify_result *r);
#define cleanup_verify_result __attribute__ ((cleanup (verify_result_freep)))
void verify_result_freep (struct verify_result **r);
const char *verify_kind_name (enum verify_kind k);   /* "container", ... */

/* ---- the snapshot (snapshot.c) ---- */
/* Take the engine's ids of containers, networks and volumes (three list
 * calls) into ns_state_dir(ns)/snapshot.json, unless one is there and
 * replace is false.  Failures are warnings (returns -1, nothing kept). */
int verify_snapshot_take (struct engine *e, const char *ns, bool replace);

/* ---- verification (verify.c) ---- */
struct verify_opts {
  bool force;           /* remove leftovers (labelled, or on our networks) */
  bool keep_volumes;    /* labelled volumes are not leftovers (down -k) */
  const char *rmi;      /* "local", "all": images must be gone too; NULL: not checked */
  const char *const *images;  /* those images (by name) */
  size_t nimages;
};
/* Verify ns as it is now.  Returns 0 clean, 1 dirty (err set to
 * ITM_EXIT_LEAK naming the count), -1 when the engine could not be asked
 * (err set).  *out is set in the first two cases. */
int verify_namespace (struct engine *e, const char *ns, const struct verify_opts *o,
                      struct verify_result **out, struct itm_err *err);
/* down, then verify: records what the namespace has before (created, and
 * stray containers on its networks, removed first with force; with d->rmi
 * the images down is to remove, which are then checked), runs
 * prov_down (a failure is a warning when the verification names what is
 * left), verifies, and removes the namespace's state dir when clean.
 * Returns like verify_namespace; *out set unless the engine failed. */
int verify_down (struct engine *e, const struct prov_down_opts *d, const struct verify_opts *o,
                 struct verify_result **out, struct itm_err *err);

/* ---- the checks, pure (scan.c): a view of the engine in, a verdict out ---- */
/* What the checks look at, as verify.c loads it (the unit tests give it
 * from tests/verify/cases/).  Every member is owned (verify_view_free). */
struct verify_view {
  json_object *containers;  /* GET /containers/json?all=1 (array) */
  json_object *networks;    /* GET /networks (array); the namespace's own
                               with "Containers" from GET /networks/ID
                               (none when it went meanwhile) */
  json_object *volumes;     /* GET /volumes: its "Volumes" (array) */
  json_object *images;      /* with --rmi: {NAME: [containers using it]} for
                               each of the images that still exists; the
                               containers: GET /containers/json with the
                               ancestor filter */
  json_object *snapshot;    /* snapshot.json (verify_snapshot_take); NULL:
                               none, check 3 not run */
  json_object *data;        /* the data namespaces left ([{"name"}]); NULL:
                               not checked (check 4 not run) */
};
void verify_view_free (struct verify_view *v);
/* Checks 1-4 (and, with r->strays, the strays seen when down began that
 * still exist) into r: left, suspects, what was checked, engine_resources,
 * snapshot_time, clean (nothing left).  Replaces r's earlier left and
 * suspects. */
void verify_scan (const struct verify_view *v, const struct verify_opts *o,
                  struct verify_result *r);
/* Before down: r->created (what carries ns's label, volumes included;
 * with o->rmi the images that exist) and r->strays (the strays already in
 * r that still exist, and the unlabelled containers on ns's networks). */
void verify_scan_before (const struct verify_view *v, const struct verify_opts *o,
                         struct verify_result *r);
/* After down and verify_scan: r->removed, what of r->created is not left. */
void verify_scan_removed (struct verify_result *r);

/* ---- the result told (print.c) ---- */
/* Text on f: each suspect as an "itm-env: warning: suspect ..." line, each
 * leftover (and what --force removed) on a line, then one summary line. */
void verify_print (const struct verify_result *r, FILE *f);
/* {"namespace","clean","checked":{...},"snapshot_time" (when checked),
 *  "created":[...],"removed":[...],"left":[...],"suspects":[...],
 *  "forced":N,"duration_ms":N} */
json_object *verify_json (const struct verify_result *r);
/* Into the report (r may be NULL; v may be NULL): created, removed, left
 * (a leftover --force removed counts as left, then removed), suspects, and
 * report_verify() with the verdict and what was checked. */
struct report;
void verify_report (struct report *r, const struct verify_result *v);

/* ---- crash safety (watchdog.c) ---- */
/* Start the namespace's watchdog: a process in its own session that holds
 * the read end of a pipe only this process writes.  When the pipe closes
 * without a "done" message (this process died, even by SIGKILL), it removes
 * the namespace (down, repeated until nothing is left for 3 s, at most
 * 25 s) and its state dir.  Returns 1 when started, 0 when one is already
 * running for this process (the caller then does not release it), -1 on
 * failure (a warning is printed; crash safety is then off). */
int watchdog_start (struct engine *e, const char *ns);
/* A child process the watchdog should SIGTERM if this process dies (run's
 * command). */
void watchdog_child (long pid);
/* Tell the watchdog all is well and let it go.  keep: the namespace stays
 * on purpose (up succeeded, --keep-on-failure): it is marked "released" in
 * its state dir, and gc then removes it only when it expires. */
void watchdog_release (bool keep);
/* The watchdog's own side (itm-env gc --watchdog NS --watchdog-fd FD):
 * wait reads the pipe until EOF: true when "done" came (nothing to do);
 * false when the owner died (run's command, if any, is sent SIGTERM).
 * clean then removes the namespace: 0, or -1 (ITM_EXIT_LEAK) when
 * something is still there after 25 s. */
bool watchdog_wait (const char *ns, int fd);
int watchdog_clean (struct engine *e, const char *ns, struct itm_err *err);
/* Whether ns was released by a successful up (ns_state_dir/released). */
bool watchdog_released (const char *ns);

/* ---- crash safety beyond this container (reaper.c) ---- */
/* The reaper container's label: its namespace (an owner for the
 * verifier: another namespace's reaper is not a suspect). */
#define VERIFY_REAPER_LABEL "io.itm-env.reaper"
/* Whether a reaper container is wanted: $ITM_ENV_REAPER never / always,
 * else when this process runs in a container (/.dockerenv,
 * /run/.containerenv). */
bool reaper_wanted (void);
/* Started by watchdog_start when wanted: a container itm-env-reaper-NS
 * from the self image (image_self) that follows this process's container
 * through the engine's event stream and removes ns (watchdog_clean) when
 * that container dies or is removed, then goes (AutoRemove).  1 started,
 * 0 not wanted or not possible (a note or warning says why), -1 failed (a
 * warning). */
int reaper_start (struct engine *e, const char *ns);
/* Remove ns's reaper container (released, or cleaned by the watchdog);
 * nothing when there is none. */
void reaper_remove (struct engine *e, const char *ns);
/* The reaper's own side (itm-env gc --reaper NS --reaper-watch ID): waits
 * for container ID to die or go, then watchdog_clean. */
int reaper_main (struct engine *e, const char *ns, const char *watch, struct itm_err *err);

/* ---- gc.c: gc's keep-or-remove decision, from plain data ---- */
#include <stdint.h>
#include <time.h>

/* A namespace found on the engine, from its resources' labels (the
 * earliest times of them all) and what the caller found out about its
 * owner.  Strings are borrowed. */
struct gc_ns {
  const char *ns;
  const char *host;          /* io.itm-env.creator-host, NULL unknown */
  long pid;                  /* io.itm-env.creator-pid, 0 unknown */
  time_t created;            /* 0 unknown */
  time_t expires;            /* 0 unknown */
  bool released;             /* handed over by a successful up (watchdog_released) */
  bool owner_alive;          /* on this host: a process with that pid exists */
  time_t owner_started;      /* on this host: when that process started, 0 unknown */
};
/* The verdict for one namespace: remove it or keep it, and why (a new
 * string: "expired at ...", "owner process ... is gone", "not expired,
 * owner alive or released", ...). */
struct gc_verdict {
  bool remove;
  char *why;
};
/* Decide for each of v[0..n) (out has room for n): removed
 * when its expiry has passed, or when it was created on this host (host),
 * not released, by a process that is gone (not alive, or its pid now
 * belongs to a process started more than 2 s after the namespace was
 * created); but kept when older_than_ns > 0 and it was created less than
 * that long before now. */
void gc_plan (const struct gc_ns *v, size_t n, const char *host, time_t now,
              int64_t older_than_ns, struct gc_verdict *out);
/* Free the n verdicts' strings and out itself (malloc'd by the caller). */
void gc_verdicts_free (struct gc_verdict *out, size_t n);

#endif
