/* conn.h - connection variables: the names derived from services and
 * ports (NAME_HOST, NAME_PORT, NAME_PORT_<n>), $VAR templates, the
 * variables of a namespace (what `itm-env env` prints, `run` passes to its
 * command) and their printing as shell, dotenv or JSON (also `ns create`).
 *
 * Ownership: everything passed in is borrowed.  A struct conn_vars owns
 * its names and values (conn_vars_free, or cleanup_conn_vars); strings and
 * arrays handed out are new, for the caller to free.
 */
#ifndef ITM_CONN_H
#define ITM_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/err.h"
#include "util/xalloc.h"

struct stack;
struct state;
struct state_container;
struct state_port;

/* ---- a list of variables, in the order they were first set ---- */
struct conn_vars {
  char **names, **values;     /* n of each */
  size_t n, cap, vcap;
};
/* Set name to value: an existing name keeps its place, else it is added. */
void conn_vars_set (struct conn_vars *vs, const char *name, const char *value);
/* Add name=value at the end, even when name is there already. */
void conn_vars_add (struct conn_vars *vs, const char *name, const char *value);
/* The value of the name of len bytes, or NULL. */
const char *conn_vars_get (const struct conn_vars *vs, const char *name, size_t len);
/* "NAME=value" strings: a new NULL-terminated array (util/strv.h). */
char **conn_vars_environ (const struct conn_vars *vs);
void conn_vars_free (struct conn_vars *vs);
#define cleanup_conn_vars __attribute__ ((cleanup (conn_vars_free)))

/* ---- how the variables reach the services ----
 * Process-wide, set once by the command before any variable is computed
 * (cmd-common.c's ctx_reach decides):
 * - CONN_REACH_HOST: the published bindings (127.0.0.1 for a wildcard, the
 *   host port), as seen from the engine's host: the default;
 * - CONN_REACH_JOINED: itm-env's own container is on the namespace's
 *   networks: HOST is the service name, PORT the container port;
 * - CONN_REACH_OVERRIDE: HOST is the given address (ITM_ENV_HOST_OVERRIDE:
 *   host.docker.internal, a gateway), PORT the published port. */
enum conn_reach { CONN_REACH_HOST, CONN_REACH_JOINED, CONN_REACH_OVERRIDE };
void conn_set_reach (enum conn_reach reach, const char *host);
enum conn_reach conn_get_reach (void);
/* --connect: whether to join the namespace's networks. */
enum conn_connect { CONN_CONNECT_AUTO, CONN_CONNECT_ALWAYS, CONN_CONNECT_NEVER };
/* "auto", "always", "never"; a usage error naming what otherwise. */
int conn_parse_connect (const char *what, const char *arg, enum conn_connect *out,
                        struct itm_err *err);
/* The HOST of container c's binding p (p may be NULL: no published
 * port) and its PORT (port: 16 bytes), as the reach says. */
const char *conn_reach_host (const struct state_container *c, const struct state_port *p);
void conn_reach_port (const struct state_port *p, char port[static 16]);

/* ---- names and ports ---- */
/* A service (or protocol) name as a variable prefix: upper-cased, every
 * character outside [A-Za-z0-9] as '_' ("my-db" -> "MY_DB"): a new string. */
char *conn_var_name (const char *service);
/* [A-Za-z_][A-Za-z0-9_]* */
bool conn_valid_name (const char *s);
/* Where to connect to a binding's address: the wildcards 0.0.0.0 and ::
 * (or none) as 127.0.0.1 and ::1. */
const char *conn_host (const char *host_ip);
/* The published binding of container port cport/tcp; with cport 0 or when
 * that one is not published, the first published port (the lowest
 * container port: the one NAME_PORT names).  NULL when nothing is. */
const struct state_port *conn_port (const struct state_container *c, unsigned cport);
/* The container whose variables are the service's: the first running
 * one, else the first; NULL when the service has none. */
struct state_container *conn_container (const struct state *st, const char *service);
/* A variable of the container's environment (as the engine reports it). */
const char *conn_container_env (const struct state_container *c, const char *name, size_t len);
/* The container's own template variables, in this order: SERVICE,
 * CONTAINER, NAMESPACE, HOST (127.0.0.1 without a published port), PORT
 * (the first published port), PORT_<n> for each published tcp port
 * (HOST and the ports as conn_set_reach says),
 * PORT_<n>_UDP / PORT_<n>_SCTP for the others. */
void conn_service_vars (const struct state_container *c, const char *ns, struct conn_vars *out);

/* ---- templates ---- */
/* Where a template's variables come from, first match wins. */
struct conn_scope {
  const struct conn_vars *local;         /* may be NULL */
  const struct state_container *c;       /* its environment; may be NULL */
  const struct conn_vars *global;        /* may be NULL */
  const char *hint;                      /* for an undefined variable; may be NULL */
};
/* Expand tpl into out: $VAR, ${VAR}, ${VAR:-default} (also when VAR is
 * empty), ${VAR-default} (only when VAR is undefined), and $$ as $; a '$'
 * before anything else stays as it is.  -1 with ITM_EXIT_STACK, prefixed
 * with what: a malformed or unterminated ${...}, an undefined variable
 * without a default. */
int conn_expand (const char *tpl, const struct conn_scope *scope, const char *what,
                 struct buf *out, struct itm_err *err);

/* ---- a namespace's variables ---- */
/* What `itm-env env` prints for namespace state st, into out: for every
 * service with a published port NAME_HOST, NAME_PORT and NAME_PORT_<n>...
 * (services sorted by name), then each stack service's x-itm.exports (stack
 * order; stack may be NULL: none).  services (nservices; none: all) limits
 * what goes to out; templates see every service's variables.  A stack
 * service without a container: its exports are skipped with a warning. */
int conn_namespace_vars (const struct state *st, const struct stack *stack,
                         const char *const *services, size_t nservices, struct conn_vars *out,
                         struct itm_err *err);
/* The same with data (may be NULL: the variables of the services' seeded
 * data, src/data/'s data_default_vars, for the selected services) set
 * after the port variables and before the exports, which see them. */
int conn_namespace_vars_with (const struct state *st, const struct stack *stack,
                              const char *const *services, size_t nservices,
                              const struct conn_vars *data, struct conn_vars *out,
                              struct itm_err *err);

/* ---- printing ---- */
enum conn_format {
  CONN_FMT_SHELL,    /* export NAME='value': single quotes, a ' as '\'': safe to
                      * eval or source (nothing in a value is run) */
  CONN_FMT_DOTENV,   /* NAME=value, unquoted, the rest of the line literally (as
                      * docker run --env-file and $GITHUB_ENV read it); not for
                      * sourcing in a shell */
  CONN_FMT_JSON,     /* one object (pretty when f is a TTY) */
};
/* "shell", "dotenv", "json"; a usage error naming cmd otherwise. */
int conn_parse_format (const char *cmd, const char *arg, enum conn_format *fmt,
                       struct itm_err *err);
/* Print vs in fmt.  dotenv refuses (ITM_EXIT_FAILURE naming the variable,
 * nothing printed) a value those readers cannot carry: a line break (LF or
 * CR), invalid UTF-8, a line of 64 KiB or more. */
int conn_print (FILE *f, const struct conn_vars *vs, enum conn_format fmt, struct itm_err *err);

#endif
