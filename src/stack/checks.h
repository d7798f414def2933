/* checks.h - a service's x-itm.checks as data: contracts, environment
 * parity and response times, parsed and validated at load time (checks.c)
 * and evaluated by src/check/ (itm-env check, up --check, run --check).
 *
 * Everything here belongs to the struct stack (its arena) and lives until
 * stack_free(); nothing in it changes after the load.  The forms are
 * itm-env-stack(5)'s CHECKS section.
 */
#ifndef ITM_STACK_CHECKS_H
#define ITM_STACK_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

enum stack_check_kind {
  STACK_CHECK_HTTP,
  STACK_CHECK_SQL,
  STACK_CHECK_REDIS,
  STACK_CHECK_EXEC,
  STACK_CHECK_TCP,
  STACK_CHECK_IMAGE,
};

/* A JSON value's type or a string's format, as a body rule or a shape
 * field states it. */
enum stack_check_type {
  STACK_TYPE_ANY,
  STACK_TYPE_STRING, STACK_TYPE_NUMBER, STACK_TYPE_INTEGER, STACK_TYPE_BOOLEAN,
  STACK_TYPE_NULL, STACK_TYPE_ARRAY, STACK_TYPE_OBJECT,
  /* formats: strings of that form */
  STACK_TYPE_EMAIL, STACK_TYPE_UUID, STACK_TYPE_DATE_TIME, STACK_TYPE_URI,
};

/* A rule on the JSON body at pointer (RFC 6901; "" is the whole body).
 * Each part is optional; all given must hold. */
struct stack_check_rule {
  char *pointer;
  char *equals;                /* the expected value as compact JSON, or NULL */
  char *matches;               /* POSIX extended regex on the value's text, or NULL */
  enum stack_check_type type;  /* STACK_TYPE_ANY: not given */
  bool from_shape;             /* from `shape` (reported as a shape diff) */
};

struct stack_check {
  char *name;                  /* given, or made from the kind and its target */
  const char *file;            /* where it was defined */
  int line, col;
  enum stack_check_kind kind;
  /* http */
  char *method;                /* default GET */
  char *path;                  /* default / */
  struct stack_kvs headers;    /* request headers */
  char *body;                  /* request body, or NULL */
  /* http, tcp: the container port (published on the host); 0: the
   * service's first published port */
  unsigned port;
  int64_t timeout;             /* ns: http request, tcp connect (default 2s for tcp,
                                  10s for http), 0: the default */
  /* sql (query), redis (command as one string; argv split) */
  char *query;
  char *database;              /* sql: POSTGRES_DB unless given */
  struct stack_strv argv;      /* exec, and redis's split command */
  /* image */
  char *digest;
  /* expect */
  int *status;                 /* http: the allowed codes; none: 2xx */
  size_t nstatus;
  struct stack_kvs expect_headers;  /* name: regex on the header's value */
  struct stack_check_rule *rules;   /* http body rules, then shape rules */
  size_t nrules;
  int64_t max_latency;         /* ns, 0: none */
  char *equals;                /* sql/redis/exec output (trimmed) equals */
  char *match;                 /* sql/redis/exec output matches (regex) */
  char **rows;                 /* sql: each row as psql -tA prints it ("a|b") */
  size_t nrows;
  bool rows_set;
  int exit_code;               /* exec (default 0) */
};

/* A service's checks (NULL, 0 when none). */
const struct stack_check *stack_checks (const struct stack_service *svc, size_t *n);
/* "http", "sql", ... and a type's name ("date-time"). */
const char *stack_check_kind_name (enum stack_check_kind k);
const char *stack_check_type_name (enum stack_check_type t);

/* ---- internal to src/stack/: the hook model.c calls per service ---- */
struct diags;
struct node;
struct stack_arena;
/* Parse the service's x-itm.checks (node: the service's map) into s,
 * every problem a diagnostic at its place. */
void stack_checks_parse (struct diags *d, struct stack_arena *a, const struct node *svcnode,
                         struct stack_service *s);

#endif
