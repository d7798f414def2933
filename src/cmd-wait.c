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
  OPT_KEEP_ON_FAILURE,
  OPT_JSON,
  OPT_TTL,
};

static int
wait_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { NULL, 0, NULL, 0 },
  };
  struct prov_opts po = { .timeout_ns = 300 * 1000000000LL };
  bool quiet = false, json = false;
  int opt;
  while ((opt = getopt_long (argc, argv, ":" ITM_STACK_SHORTOPTS "H:q", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      switch (opt)
        {
        case OPT_TIMEOUT:
          if (cmd_parse_secs ("wait", "--timeout", optarg, &po.timeout_ns, err) < 0)
            return -1;
          break;
        case 'q':
          quiet = true;
          break;
        case OPT_JSON:
          json = true;
          ctx->json_errors = true;
          break;
        default:
          return cmd_bad_option (&cmd_wait, argv, opt, err);
        }
    }
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

const struct itm_cmd cmd_wait = {
  .name = "wait",
  .usage = "[--timeout DURATION] [--quiet] [--json] [SERVICE...]",
  .summary = "wait until the services of a namespace already up are ready",
  .help = ITM_STACK_HELP
  "      --timeout DURATION     give up after this long (default 5m)\n"
  "  -q, --quiet                no progress output\n"
  "      --json                 progress as JSON event lines on stdout\n",
  .fn = wait_main,
};
