/* cmd-check.c - itm-env check: the stack's x-itm.checks on a namespace
 * that is up (src/check/): contracts, environment parity, response times
 * (--repeat, --concurrency).  Exit ITM_EXIT_CHECK when one failed. */
#include <config.h>

#include <json-c/json.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cmd.h"
#include "data/data.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_REPEAT,
  OPT_CONCURRENCY,
};

static int
count_arg (const char *opt, const char *arg, unsigned max, unsigned *out, struct itm_err *err)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul (arg, &end, 10);
  if (*arg == '\0' || *end || *arg == '-' || errno || v < 1 || v > max)
    return itm_err_set (err, ITM_EXIT_USAGE, "check: %s: expected a number from 1 to %u, got '%s'",
                        opt, max, arg);
  *out = (unsigned) v;
  return 0;
}

static int
check_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct check_opts o = { .repeat = 1, .concurrency = 1 };
  bool json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_check, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_REPEAT:
        if (count_arg ("--repeat", arg, 10000000, &o.repeat, err) < 0)
          return -1;
        break;
      case OPT_CONCURRENCY:
        if (count_arg ("--concurrency", arg, 256, &o.concurrency, err) < 0)
          return -1;
        break;
      case OPT_JSON:
        json = true;
        break;
      }
  if (opt < 0)
    return -1;
  o.services = (const char *const *) argv + optind;
  o.nservices = (size_t) (argc - optind);
  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *st = NULL;
  if (ctx_namespace (ctx, CTX_STACK_REQUIRED, &ns, &st, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  /* generated secrets (x-itm.secrets) are masked, as everywhere */
  if (data_secrets_load (ns, err) < 0)
    return -1;
  /* how the services are reached: as `itm-env env`'s variables say */
  if (ctx_reach (ctx, NULL, err) < 0)
    return -1;
  struct check_run r;
  if (check_all (e, st, ns, &o, &r, err) < 0)
    {
      check_run_free (&r);
      return -1;
    }
  if (json)
    {
      json_object *j = check_json (&r);
      print_json (j);
      json_object_put (j);
      /* the JSON above says what failed; no second JSON document */
      if (r.nfailed)
        ctx->json_errors = false;
    }
  else
    check_print (&r, stdout);
  fflush (stdout);
  int rc = 0;
  if (r.n == 0)
    fprintf (stderr, "itm-env: check: the stack has no x-itm.checks%s\n",
             o.nservices ? " for these services" : "");
  if (r.nfailed)
    rc = itm_err_set (err, ITM_EXIT_CHECK, "%zu of %zu check%s failed", r.nfailed, r.n,
                      r.n == 1 ? "" : "s");
  check_run_free (&r);
  return rc;
}

static const struct itm_opt check_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_REPEAT, 0, "repeat", OPT_ARG_REQUIRED, "N",
    "send each http check's request N times: latency figures\n"
    "(min, p50, p95, p99, max, throughput); every answer is checked" },
  { OPT_CONCURRENCY, 0, "concurrency", OPT_ARG_REQUIRED, "C",
    "with --repeat: C requests at once (default 1)" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the results as one JSON object on stdout" },
  { .argname = "SERVICE...", .help = "only these services' checks (default: all)" },
  { 0 },
};

const struct itm_cmd cmd_check = {
  .name = "check",
  .args = "[SERVICE...]",
  .summary = "run the stack's x-itm.checks on a namespace that is up",
  .opts = check_opts,
  .fn = check_main,
};
