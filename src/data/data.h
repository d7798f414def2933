/* data.h - the data module: seed steps (x-itm.seed), data namespaces
 * (x-itm.data, `itm-env ns`), data checks (x-itm.verify) and generated
 * secrets (top-level x-itm.secrets).
 *
 * Everything here runs inside the namespace's containers through the
 * engine's exec and archive endpoints; nothing runs on the host.
 *
 * Ownership: everything passed in is borrowed; strings handed out are new
 * (the caller frees them).  Every failure is ITM_EXIT_DATA unless the engine
 * or the command line says otherwise.
 *
 * Secrets: data_secrets_prepare() gives the stack-loading path the
 * variables to interpolate with (ITM_SECRET_<NAME>; the process
 * environment is not changed); after it, every generated value is
 * registered with the masker and data_mask() replaces it with "********"
 * in any text itm-env prints (seed outputs, check outputs, up's failure
 * logs).
 */
#ifndef ITM_DATA_H
#define ITM_DATA_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "util/err.h"
#include "util/xalloc.h"

struct conn_vars;
struct engine;
struct stack;
struct stack_service;
struct state;

/* ---- exec.c: one command in a container ---- */
struct data_exec {
  const char *const *argv;      /* NULL-terminated */
  const char *user;             /* may be NULL */
  const char *const *env;       /* "NAME=value", NULL-terminated, may be NULL */
  const char *workdir;          /* may be NULL */
  long timeout_ms;              /* 0: 600000 */
};
/* Run it; *exit_code its exit code, output (stdout and stderr interleaved,
 * capped at 64 KiB) appended to out.  -1 only when it could not run. */
int data_exec_run (struct engine *e, const char *cid, const struct data_exec *x, struct buf *out,
                   int *exit_code, struct itm_err *err);
/* Send files as a tar stream to dir in the container (PUT archive).
 * paths: host paths (files or directories, recursively), each stored under
 * its basename; modes kept. */
int data_copy_in (struct engine *e, const char *cid, const char *const *paths, size_t n,
                  const char *dir, struct itm_err *err);

/* ---- seed.c ---- */
/* Run the service's x-itm.seed steps in container cid, in order.  A failing
 * step: -1, ITM_EXIT_DATA naming the step, with its (masked) output.  A
 * service without seeds: 0.  quiet: no progress lines. */
int data_seed_service (struct engine *e, const struct stack *st, const struct stack_service *svc,
                       const char *cid, const char *ns, bool quiet, struct itm_err *err);
/* Whether the service has x-itm.seed steps (validated shape not implied). */
bool data_has_seed (const struct stack_service *svc);

/* ---- validate.c ---- */
/* Check every service's x-itm.seed / data / verify shape and the top-level
 * x-itm.secrets (before anything is created): -1 with ITM_EXIT_STACK naming
 * the first problem. */
int data_validate (const struct stack *st, struct itm_err *err);

/* ---- datans.c: data namespaces ---- */
/* Names: [a-z][a-z0-9_]*, at most DATA_NS_MAX_LEN. */
#define DATA_NS_MAX_LEN 40
int data_ns_check_name (const char *name, struct itm_err *err);
/* Create data namespace name in every service with x-itm.data; its
 * connection variables (ITM_DATA_NS, SVC_HOST...) are added to vars (left
 * empty on failure). */
int data_ns_create (struct engine *e, const struct stack *st, const char *ns, const char *name,
                    struct conn_vars *vars, struct itm_err *err);
/* The connection variables of the seeded data (the default data
 * namespace) of every service with x-itm.data: postgres or redis among
 * services (nservices; none: all) that has a container in s, as
 * data_ns_create gives them for a data namespace: SVC_HOST, SVC_PORT,
 * SVC_DB (POSTGRES_DB; Redis: 0), SVC_USER and SVC_PASSWORD (PostgreSQL),
 * SVC_URL, added to out. */
void data_default_vars (const struct stack *st, const struct state *s,
                        const char *const *services, size_t nservices, struct conn_vars *out);
int data_ns_drop (struct engine *e, const char *ns, const char *name, struct itm_err *err);
/* The data namespaces of ns: a new JSON array of
 * {"name","created","services":[{"service","kind",...}]}. */
int data_ns_list (const char *ns, json_object **out, struct itm_err *err);
/* Drop every data namespace of ns (down): warns and goes on. */
int data_ns_drop_all (struct engine *e, const char *ns, struct itm_err *err);

/* ---- check.c ---- */
/* Run every service's x-itm.verify checks; prints one line per check on
 * f ("ok"/"FAILED", expected and actual on a mismatch).  -1 with
 * ITM_EXIT_DATA when one failed. */
int data_verify (struct engine *e, const struct stack *st, const char *ns, FILE *f,
                 struct itm_err *err);

/* ---- secrets.c ---- */
/* When st has top-level x-itm.secrets: read (or generate, then keep in
 * ns_state_dir/secrets, 0600) each secret of namespace ns; *vars: a new
 * strv (util/strv.h) of "ITM_SECRET_<NAME>=value", NULL when there are
 * none.  Returns how many there are (the caller loads the stack again with
 * them when > 0), or -1. */
int data_secrets_prepare (const struct stack *st, const char *ns, char ***vars,
                          struct itm_err *err);
/* persist false (config): data_secrets_prepare reads what the namespace
 * keeps but creates neither the state directory nor the file: a missing
 * secret is generated in memory only (and masked).  Default true. */
void data_secrets_persist (bool on);
/* Register a value to mask (done by data_secrets_prepare). */
void data_mask_add (const char *value);
/* s with every registered secret replaced by "********": a new string. */
char *data_mask (const char *s);
/* The same, in place in a buffer. */
void data_mask_buf (struct buf *b);
/* Masking a stream (container output): bytes fed in come out masked in
 * out, except a tail that may be the beginning of a secret, held until the
 * next feed completes or clears it (a secret split across two frames is
 * still masked; bytes that cannot begin one are never held).  Flush at the
 * end: what is held comes out, and the masker is empty again. */
struct data_masker {
  struct buf held;
};
void data_mask_feed (struct data_masker *m, const char *data, size_t len, struct buf *out);
void data_mask_flush (struct data_masker *m, struct buf *out);
/* Register namespace ns's generated secrets (its state directory's
 * secrets file, read, never created) with the masker: how many (0 when
 * there is no file), or -1. */
int data_secrets_load (const char *ns, struct itm_err *err);

#endif
