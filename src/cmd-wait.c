/* cmd-wait.c - itm-env wait: the readiness gate alone, on a namespace
 * already up. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "util/xalloc.h"
#include "out/out.h"

enum {
  OPT_TIMEOUT = OPT_FIRST_COMMAND_OPT,
  OPT_JSON,
};

static int
wait_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct prov_opts po = { .timeout_ns = 300 * 1000000000LL };
  bool quiet = false, json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_wait, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_TIMEOUT:
        if (cmd_parse_secs ("wait", "--timeout", arg, &po.timeout_ns, err) < 0)
          return -1;
        break;
      case 'q':
        quiet = true;
        break;
      case OPT_JSON:
        json = true;
        break;
      }
  if (opt < 0)
    return -1;
  /* the stack is optional with -p: without it, gates come from labels */
  cleanup_stack struct stack *st = NULL;
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_WANTED, &ns, &st, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  po.ns = ns;
  po.services = (const char *const *) argv + optind;
  po.nservices = (size_t) (argc - optind);
  out_auto (quiet, json);
  prov_signals_install (ns);
  return prov_wait (e, st, &po, err);
}

static const struct itm_opt wait_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_TIMEOUT, 0, "timeout", OPT_ARG_REQUIRED, "DURATION",
    "give up after this long (default 5m)" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { 0 },
};

const struct itm_cmd cmd_wait = {
  .name = "wait",
  .args = "[SERVICE...]",
  .summary = "wait until the services of a namespace already up are ready",
  .opts = wait_opts,
  .fn = wait_main,
};
