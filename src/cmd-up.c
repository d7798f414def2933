/* cmd-up.c - itm-env up: bring the stack up in its namespace, gated on
 * readiness; and the pieces up, down and wait share (prov_cmd_*). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum {
  OPT_TIMEOUT = OPT_FIRST_COMMAND_OPT,
  OPT_KEEP_ON_FAILURE,
  OPT_JSON,
  OPT_TTL,
};

/* A duration: Go syntax ("30s", "1m30s") or plain seconds. */
static int
parse_secs (const char *cmd, const char *opt, const char *s, int64_t *ns, struct itm_err *err)
{
  char *end;
  double d = strtod (s, &end);
  if (end != s && *end == '\0' && d >= 0)
    {
      *ns = (int64_t) (d * 1e9);
      return 0;
    }
  const char *why = NULL;
  if (stack_parse_duration (s, ns, &why) < 0 || *ns < 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: %s: invalid duration '%s'%s%s", cmd, opt, s,
                        why ? ": " : "", why ? why : "");
  return 0;
}

static int
load (struct itm_ctx *ctx, struct stack **st, struct itm_err *err)
{
  struct stack_opts o = {
    .files = ctx->files, .nfiles = ctx->nfiles, .project_dir = ctx->project_dir,
    .env_files = ctx->env_files, .nenv_files = ctx->nenv_files,
    .profiles = ctx->profiles, .nprofiles = ctx->nprofiles,
  };
  struct stack_diags diags = { 0 };
  int ret = stack_load (&o, st, &diags, err);
  fflush (stdout);
  stack_diags_print (&diags, stderr);
  stack_diags_free (&diags);
  return ret;
}

static void
out_mode (bool quiet, bool json)
{
  enum prov_out_mode m = quiet ? PROV_OUT_QUIET
                         : isatty (STDERR_FILENO) ? PROV_OUT_TTY : PROV_OUT_PLAIN;
  prov_out_init (m, json);
}

static int
up_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "keep-on-failure", no_argument, NULL, OPT_KEEP_ON_FAILURE },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { "ttl", required_argument, NULL, OPT_TTL },
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
          if (parse_secs ("up", "--timeout", optarg, &po.timeout_ns, err) < 0)
            return -1;
          break;
        case OPT_TTL:
          {
            int64_t t;
            if (parse_secs ("up", "--ttl", optarg, &t, err) < 0)
              return -1;
            po.ttl = (long) (t / 1000000000LL);
            break;
          }
        case OPT_KEEP_ON_FAILURE:
          po.keep_on_failure = true;
          break;
        case 'q':
          quiet = true;
          break;
        case OPT_JSON:
          json = true;
          ctx->json_errors = true;
          break;
        default:
          return cmd_bad_option (&cmd_up, argv, opt, err);
        }
    }
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "up: unexpected argument '%s'", argv[optind]);
  cleanup_stack struct stack *st = NULL;
  if (load (ctx, &st, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  po.ns = ns;
  out_mode (quiet, json);
  prov_signals_install (ns);
  return prov_up (e, st, &po, err);
}

const struct itm_cmd cmd_up = {
  .name = "up",
  .usage = "[--timeout DURATION] [--keep-on-failure] [--quiet] [--json] [--ttl DURATION]",
  .summary = "create and start the stack in its namespace, gated on readiness",
  .help = ITM_STACK_HELP
  "      --timeout DURATION     give up when not all ready by then (default 5m)\n"
  "      --keep-on-failure      leave what was created when a gate fails\n"
  "  -q, --quiet                no progress output\n"
  "      --json                 progress as JSON event lines on stdout\n"
  "      --ttl DURATION         expiry label for gc (default 24h)\n",
  .fn = up_main,
};

/* ---- down ---- */
static int
down_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    { "keep-volumes", no_argument, NULL, 'k' },
    { "timeout", required_argument, NULL, 't' },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { NULL, 0, NULL, 0 },
  };
  struct prov_down_opts o = { .grace_s = -1 };
  bool quiet = false, json = false;
  int opt;
  while ((opt = getopt_long (argc, argv, ":" ITM_STACK_SHORTOPTS "H:kqt:", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      switch (opt)
        {
        case 'k':
          o.keep_volumes = true;
          break;
        case 't':
          {
            int64_t t;
            if (parse_secs ("down", "--timeout", optarg, &t, err) < 0)
              return -1;
            o.grace_s = (int) (t / 1000000000LL);
            break;
          }
        case 'q':
          quiet = true;
          break;
        case OPT_JSON:
          json = true;
          ctx->json_errors = true;
          break;
        default:
          return cmd_bad_option (&cmd_down, argv, opt, err);
        }
    }
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "down: unexpected argument '%s'", argv[optind]);
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  o.ns = ns;
  out_mode (quiet, json);
  if (!quiet && !json)
    prov_out_init (PROV_OUT_PLAIN, false);
  return prov_down (e, &o, err);
}

const struct itm_cmd cmd_down = {
  .name = "down",
  .usage = "[-p NAMESPACE] [--keep-volumes] [--timeout DURATION] [--quiet] [--json]",
  .summary = "remove the namespace's containers, networks and volumes",
  .help = ITM_STACK_HELP
  "  -k, --keep-volumes         keep volumes (containers are then stopped gracefully)\n"
  "  -t, --timeout DURATION     stop grace with --keep-volumes (default: each one's own)\n"
  "  -q, --quiet                print nothing on success\n"
  "      --json                 the summary as a JSON event line on stdout\n",
  .fn = down_main,
};

/* ---- wait ---- */
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
          if (parse_secs ("wait", "--timeout", optarg, &po.timeout_ns, err) < 0)
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
  cleanup_stack struct stack *st = NULL;
  if (load (ctx, &st, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  po.ns = ns;
  po.services = (const char *const *) argv + optind;
  po.nservices = (size_t) (argc - optind);
  out_mode (quiet, json);
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
