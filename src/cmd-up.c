/* cmd-up.c - itm-env up: bring the stack up in its namespace, gated on
 * readiness (src/prov/). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "data/data.h"
#include "image/image.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"

enum {
  OPT_TIMEOUT = OPT_FIRST_COMMAND_OPT,
  OPT_KEEP_ON_FAILURE,
  OPT_JSON,
  OPT_TTL,
  OPT_VERIFY_DATA,
  OPT_BUILD,
  OPT_NO_BUILD,
  OPT_PULL,
  OPT_FORCE_RECREATE,
  OPT_REMOVE_ORPHANS,
};

/* Around up's work (src/verify/): the verifier's snapshot of the engine
 * before anything is created, and the watchdog that removes the namespace
 * if this process dies before up is done. */
struct up_guard {
  int wd;                       /* watchdog_start's answer: 1 when this up started it */
};

static void
guard_before_create (void *arg, struct engine *e, const char *ns, bool fresh)
{
  struct up_guard *g = arg;
  verify_snapshot_take (e, ns, fresh);
  g->wd = watchdog_start (e, ns);
}

static void
guard_after (void *arg, bool keep)
{
  struct up_guard *g = arg;
  if (g->wd > 0)
    watchdog_release (keep);
}

static struct report_opts up_report;

static int
up_command (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    REPORT_LONGOPTS,
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "keep-on-failure", no_argument, NULL, OPT_KEEP_ON_FAILURE },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "verify-data", no_argument, NULL, OPT_VERIFY_DATA },
    { "build", no_argument, NULL, OPT_BUILD },
    { "no-build", no_argument, NULL, OPT_NO_BUILD },
    { "pull", required_argument, NULL, OPT_PULL },
    { "force-recreate", no_argument, NULL, OPT_FORCE_RECREATE },
    { "remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS },
    { NULL, 0, NULL, 0 },
  };
  struct prov_opts po = { .timeout_ns = 300 * 1000000000LL };
  struct image_opts io = { 0 };
  bool quiet = false, json = false, verify_data = false;
  int opt;
  while ((opt = getopt_long (argc, argv, ":" ITM_STACK_SHORTOPTS "H:q", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      if (report_option (&up_report, opt, optarg))
        continue;
      switch (opt)
        {
        case OPT_TIMEOUT:
          if (cmd_parse_secs ("up", "--timeout", optarg, &po.timeout_ns, err) < 0)
            return -1;
          break;
        case OPT_TTL:
          {
            int64_t t;
            if (cmd_parse_secs ("up", "--ttl", optarg, &t, err) < 0)
              return -1;
            po.ttl = (long) (t / 1000000000LL);
            break;
          }
        case OPT_KEEP_ON_FAILURE:
          po.keep_on_failure = true;
          break;
        case OPT_FORCE_RECREATE:
          po.force_recreate = true;
          break;
        case OPT_REMOVE_ORPHANS:
          po.remove_orphans = true;
          break;
        case 'q':
          quiet = true;
          break;
        case OPT_VERIFY_DATA:
          verify_data = true;
          break;
        case OPT_BUILD:
        case OPT_NO_BUILD:
          if (io.build)
            return itm_err_set (err, ITM_EXIT_USAGE, "up: --build and --no-build exclude each other");
          io.build = opt == OPT_BUILD ? 1 : -1;
          break;
        case OPT_PULL:
          if (image_check_policy (optarg, err) < 0)
            return -1;
          io.pull = optarg;
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
  if (report_begin ("up", &up_report, NULL, err) < 0)
    return -1;
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, NULL, 0, &st, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  po.ns = ns;
  struct up_guard guard = { 0 };
  po.hooks = (struct prov_hooks){ .before_create = guard_before_create, .after = guard_after,
                                  .arg = &guard };
  io.progress = quiet ? IMAGE_PROGRESS_QUIET : json ? IMAGE_PROGRESS_JSON : IMAGE_PROGRESS_AUTO;
  po.image = &io;
  if (data_validate (st, err) < 0)
    return -1;
  out_auto (quiet, json);
  prov_signals_install (ns);
  if (prov_up (e, st, &po, err) < 0)
    return -1;
  /* with --json, stdout holds only JSON event lines: the check lines go
   * to stderr (the report has them as data) */
  return verify_data ? data_verify (e, st, ns, json ? stderr : stdout, err) : 0;
}

/* The report around the command (src/report/): begun once the options
 * are read, written whatever happened. */
static int
up_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  int rc = up_command (ctx, argc, argv, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &up_report, rc, err);
}

const struct itm_cmd cmd_up = {
  .name = "up",
  .usage = "[--build|--no-build] [--pull POLICY] [--timeout DURATION] [--keep-on-failure] [--force-recreate] [--remove-orphans] [--quiet] [--json] [--ttl DURATION] [--verify-data]",
  .summary = "create and start the stack in its namespace, gated on readiness",
  .help = ITM_STACK_HELP REPORT_HELP
  "      --timeout DURATION     give up when not all ready by then (default 5m)\n"
  "      --keep-on-failure      leave what was created when a gate fails\n"
  "      --force-recreate       recreate the containers even when nothing changed\n"
  "      --remove-orphans       remove containers of services the stack no longer has\n"
  "  -q, --quiet                no progress output\n"
  "      --json                 progress as JSON event lines on stdout\n"
  "      --build                build images even when their build digest is unchanged\n"
  "      --no-build             never build; an image that is missing is an error\n"
  "      --pull POLICY          always, missing, never or build, over each pull_policy\n"
  "      --ttl DURATION         expiry label for gc (default 24h)\n"
  "      --verify-data          run the x-itm.verify data checks once all is ready\n",
  .fn = up_main,
};

