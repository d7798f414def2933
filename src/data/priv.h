/* priv.h - what the data module's files share (internal to src/data/). */
#ifndef ITM_DATA_PRIV_H
#define ITM_DATA_PRIV_H

#include "data/data.h"

struct data_pg {
  const char *user, *db, *password;
};
/* The service's environment value of name (as the stack has it), or NULL. */
const char *data_svc_env (const struct stack_service *svc, const char *name);
/* POSTGRES_USER (default postgres), POSTGRES_DB (default the user) unless
 * db is given, POSTGRES_PASSWORD. */
void data_pg_creds (const struct stack_service *svc, const char *db, struct data_pg *pg);
/* psql -X -v ON_ERROR_STOP=1 -U user -d db ARGS... in the container. */
int data_run_psql (struct engine *e, const char *cid, const struct data_pg *pg,
                   const char *const *args, struct buf *out, int *ec, struct itm_err *err);
/* sh -c script with REDISCLI_AUTH; an error line in the output is exit 1. */
int data_run_redis (struct engine *e, const char *cid, const char *password, const char *script,
                    struct buf *out, int *ec, struct itm_err *err);
/* The kind of a step (its one key among copy, exec, sql, redis), or NULL. */
const char *data_step_kind (json_object *step);
/* Check a step's shape; extra: other keys allowed (verify's expect). */
int data_step_validate (json_object *step, const char *what, const char *const *extra,
                        struct itm_err *err);
/* exec: as a new NULL-terminated argv. */
char **data_exec_argv (json_object *step, const char *what, struct itm_err *err);
/* Files named by a pattern or a list of them, relative to project_dir
 * (*out: a strv, util/strv.h). */
int data_files (const char *project_dir, json_object *v, char ***out, size_t *n,
                struct itm_err *err);
/* The member k of object o as a string: numbers and booleans as their
 * text (a step's `user: 999`, `database: 1`); NULL when o is not an
 * object, or k is absent, null, an object or an array. */
const char *data_jstr (json_object *o, const char *k);
/* The top-level x-itm.secrets' shape (secrets.c). */
int data_secrets_validate (const struct stack *st, struct itm_err *err);

#endif
