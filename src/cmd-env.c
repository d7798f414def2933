/* cmd-env.c - itm-env env: connection variables for the namespace's
 * published ports, plus the stack's x-itm.exports templates.
 *
 * For every service with a published port (NAME: the service name upper-
 * cased, every character outside [A-Z0-9_] as '_'):
 *   NAME_HOST           where to connect (0.0.0.0 and :: as loopback)
 *   NAME_PORT           the host port of the first published port (lowest
 *                       container port)
 *   NAME_PORT_<cport>   the host port of each published tcp container port
 *                       (<cport>_UDP, <cport>_SCTP for the others)
 * then for each service with x-itm.data: postgres or redis, its seeded
 * data's NAME_DB, NAME_USER, NAME_PASSWORD (PostgreSQL) and NAME_URL, as
 * `ns create` prints them for a data namespace (src/data/), then each
 * service's x-itm.exports (NAME: template), in file order.  A
 * template (as it is after the loader's interpolation, so the file writes
 * $${PORT}) expands $VAR, ${VAR}, ${VAR:-default} and ${VAR-default}, and
 * $$ to $; VAR is, in this order: HOST, PORT, PORT_<cport>, SERVICE,
 * CONTAINER, NAMESPACE of that service; a variable of the container's
 * environment (as the engine reports it); a variable printed above for any
 * service (DB_PORT).  An undefined variable without a default is an error.
 * src/conn/ computes and prints them (also for run and ns create). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn/conn.h"
#include "data/data.h"
#include "out/out.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/xalloc.h"

enum { OPT_FORMAT = OPT_FIRST_COMMAND_OPT, OPT_JSON };

static int
env_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  enum conn_format fmt = CONN_FMT_SHELL;
  const char *arg;
  int opt;

  while ((opt = cmd_getopt (&cmd_env, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FORMAT:
        if (conn_parse_format ("env", arg, &fmt, err) < 0)
          return -1;
        break;
      case OPT_JSON:
        fmt = CONN_FMT_JSON;
        break;
      }
  if (opt < 0)
    return -1;
  if (fmt == CONN_FMT_JSON)
    ctx->json_errors = true;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);

  ctx->read_side = true;
  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *stack = NULL;
  if (ctx_namespace (ctx, CTX_STACK_WANTED, &ns, &stack, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      size_t n;
      if (state_service (st, services[i], &n) == NULL)
        return state_no_service (st, services[i], err);
    }
  /* no stack file given or found: the one its labels name */
  cleanup_stack struct stack *own = NULL;
  if (stack == NULL)
    {
      struct itm_err lerr = { 0 };
      if (ctx_stack_from_labels (ctx, st, &own, &lerr) < 0)
        out_warn ("%s; x-itm.exports skipped", lerr.msg);
      itm_err_clear (&lerr);
    }
  /* services with x-itm.data: postgres|redis: their seeded data's
   * credentials and URL, as ns create gives them for a data namespace */
  if (ctx_reach (ctx, NULL, err) < 0)
    return -1;
  cleanup_conn_vars struct conn_vars data = { 0 };
  data_default_vars (stack ? stack : own, st, (const char *const *) services, nservices, &data);
  cleanup_conn_vars struct conn_vars out = { 0 };
  if (conn_namespace_vars_with (st, stack ? stack : own, (const char *const *) services,
                                nservices, &data, &out, err) < 0)
    return -1;
  return conn_print (stdout, &out, fmt, err);
}

static const struct itm_opt env_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_FORMAT, 0, "format", OPT_ARG_REQUIRED, "shell|dotenv|json",
    "shell: export NAME='value' lines for eval (default);\n"
    "dotenv: NAME=value lines; json: one object" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the same as --format json" },
  { 0 },
};

const struct itm_cmd cmd_env = {
  .name = "env",
  .args = "[SERVICE...]",
  .summary = "print connection variables for the namespace's services",
  .opts = env_opts,
  .fn = env_main,
};
