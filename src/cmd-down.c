/* cmd-down.c - itm-env down: remove a namespace from its labels alone. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
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
  OPT_FORCE,
  OPT_RMI,
  OPT_COMPOSE_NOOP,
  OPT_VOLUMES,
};

static struct report_opts down_report;

static int
down_command (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    REPORT_LONGOPTS,
    { "keep-volumes", no_argument, NULL, 'k' },
    { "timeout", required_argument, NULL, 't' },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { "force", no_argument, NULL, OPT_FORCE },
    { "rmi", required_argument, NULL, OPT_RMI },
    /* Compose's, for scripts written for it: down always removes every
     * container of the namespace and, unless --keep-volumes, its volumes */
    { "remove-orphans", no_argument, NULL, OPT_COMPOSE_NOOP },
    { "volumes", no_argument, NULL, OPT_VOLUMES },
    { NULL, 0, NULL, 0 },
  };
  struct prov_down_opts o = { .grace_s = -1 };
  bool quiet = false, json = false, force = false, volumes = false;
  int opt;
  while ((opt = getopt_long (argc, argv, ":" ITM_STACK_SHORTOPTS "H:kqt:", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      if (report_option (&down_report, opt, optarg))
        continue;
      switch (opt)
        {
        case 'k':
          o.keep_volumes = true;
          break;
        case 't':
          {
            int64_t t;
            if (cmd_parse_secs ("down", "--timeout", optarg, &t, err) < 0)
              return -1;
            o.grace_s = (int) (t / 1000000000LL);
            break;
          }
        case 'q':
          quiet = true;
          break;
        case OPT_FORCE:
          force = true;
          break;
        case OPT_RMI:
          if (prov_rmi_parse ("down", optarg, &o.rmi, err) < 0)
            return -1;
          break;
        case OPT_COMPOSE_NOOP:
          break;
        case OPT_VOLUMES:
          volumes = true;
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
  if (volumes && o.keep_volumes)
    return itm_err_set (err, ITM_EXIT_USAGE, "down: --volumes and --keep-volumes exclude each other");
  if (report_begin ("down", &down_report, NULL, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *st = NULL;
  /* --rmi: the stack file, when there is one, names images too (Compose
   * removes what the file names) */
  if (ctx_namespace (ctx, o.rmi != PROV_RMI_NONE ? CTX_STACK_WANTED : CTX_STACK_NONE, &ns,
                     o.rmi != PROV_RMI_NONE ? &st : NULL, err) < 0)
    return -1;
  o.stack = st;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  o.ns = ns;
  out_auto (quiet, json);
  if (!quiet && !json)
    out_init (OUT_PLAIN, false);
  /* down, then the verification (src/verify/) */
  struct verify_opts vo = { .force = force };
  cleanup_verify_result struct verify_result *vr = NULL;
  int vret = verify_down (e, &o, &vo, &vr, err);
  verify_report (report_current (), vr);
  if (vr && json)
    {
      json_object *v = verify_json (vr);
      json_object_object_add (v, "event", json_object_new_string ("verified"));
      puts (json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
      fflush (stdout);
      json_object_put (v);
      if (vret > 0)
        ctx->json_errors = false;   /* the line above says what is left */
    }
  else if (vr && (!quiet || !vr->clean))
    verify_print (vr, stderr);
  return vret == 0 ? 0 : -1;
}

/* The report around the command (src/report/): begun once the options
 * are read, written whatever happened. */
static int
down_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  int rc = down_command (ctx, argc, argv, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &down_report, rc, err);
}

const struct itm_cmd cmd_down = {
  .name = "down",
  .usage = "[-p NAMESPACE] [--keep-volumes] [--rmi local|all] [--timeout DURATION] [--force] "
           "[--quiet] [--json]",
  .summary = "remove the namespace's containers, networks and volumes",
  .help = ITM_STACK_HELP REPORT_HELP
  "  -k, --keep-volumes         keep volumes (containers are then stopped gracefully)\n"
  "      --rmi local|all        also remove images: local, those built under the namespace's\n"
  "                             own names (build: without image:); all, every service's image\n"
  "      --remove-orphans, --volumes\n"
  "                             accepted for Compose's sake: down always does both\n"
  "  -t, --timeout DURATION     stop grace with --keep-volumes (default: each one's own)\n"
  "      --force                remove leftovers the verification finds (labelled, or on\n"
  "                             the namespace's networks: disconnected, then removed)\n"
  "  -q, --quiet                print nothing on success\n"
  "      --json                 the summary as a JSON event line on stdout\n",
  .fn = down_main,
};

