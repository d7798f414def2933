/* cmd-down.c - itm-env down: remove a namespace from its labels alone. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "util/clock.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_FORCE,
  OPT_RMI,
  OPT_COMPOSE_NOOP,
  OPT_VOLUMES,
};

static int
down_command (struct itm_ctx *ctx, int argc, char **argv, struct report_opts *ro,
              struct itm_err *err)
{
  struct prov_down_opts o = { .grace_s = -1 };
  bool quiet = false, json = false, force = false, volumes = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_down, ctx, argc, argv, &arg, err)) > 0)
    {
      if (cmd_report_option (ro, opt, arg))
        continue;
      switch (opt)
        {
        case 'k':
          o.keep_volumes = true;
          break;
        case 't':
          {
            int64_t t;
            if (cmd_parse_secs ("down", "--timeout", arg, &t, err) < 0)
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
          if (prov_rmi_parse ("down", arg, &o.rmi, err) < 0)
            return -1;
          break;
        case OPT_COMPOSE_NOOP:
          break;
        case OPT_VOLUMES:
          volumes = true;
          break;
        case OPT_JSON:
          json = true;
          break;
        }
    }
  if (opt < 0)
    return -1;
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "down: unexpected argument '%s'", argv[optind]);
  if (volumes && o.keep_volumes)
    return itm_err_set (err, ITM_EXIT_USAGE, "down: --volumes and --keep-volumes exclude each other");
  if (report_begin ("down", ro, NULL, err) < 0)
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
  /* no longer handed over: a down killed midway leaves a namespace the
   * next command's reaping (gc_reap) removes, not one kept until expiry */
  if (!o.keep_volumes)
    {
      cleanup_err struct itm_err serr = { 0 };
      int dfd = ns_state_open (ns, false, NULL, &serr);
      if (dfd >= 0)
        {
          unlinkat (dfd, "released", 0);
          close (dfd);
        }
    }
  out_auto (quiet, json);
  if (!quiet && !json)
    out_init (OUT_PLAIN, false);
  /* down, then the verification (src/verify/) */
  struct verify_opts vo = { .force = force };
  cleanup_verify_result struct verify_result *vr = NULL;
  int64_t t0 = mono_ns ();
  int vret = verify_down (e, &o, &vo, &vr, err);
  report_teardown_time (report_current (), mono_ns () - t0);
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
  struct report_opts ro = { 0 };
  int rc = down_command (ctx, argc, argv, &ro, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &ro, rc, err);
}

static const struct itm_opt down_opts[] = {
  { .group = cmd_stack_opts },
  { .group = cmd_report_opts },
  { 'k', 'k', "keep-volumes", OPT_ARG_NONE, NULL,
    "keep volumes (containers are then stopped gracefully)" },
  { OPT_RMI, 0, "rmi", OPT_ARG_REQUIRED, "local|all",
    "also remove images: local, those built under the namespace's\n"
    "own names (build: without image:); all, every service's image" },
  /* Compose's, for scripts written for it: down always removes every
   * container of the namespace and, unless --keep-volumes, its volumes */
  { OPT_COMPOSE_NOOP, 0, "remove-orphans", OPT_ARG_NONE, NULL, "" },
  { OPT_VOLUMES, 0, "volumes", OPT_ARG_NONE, NULL,
    "accepted for Compose's sake: down always does both" },
  { 't', 't', "timeout", OPT_ARG_REQUIRED, "DURATION",
    "stop grace with --keep-volumes (default: each one's own)" },
  { OPT_FORCE, 0, "force", OPT_ARG_NONE, NULL,
    "remove leftovers the verification finds (labelled, or on\n"
    "the namespace's networks: disconnected, then removed)" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "print nothing on success" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the summary as a JSON event line on stdout" },
  { 0 },
};

const struct itm_cmd cmd_down = {
  .name = "down",
  .summary = "remove the namespace's containers, networks and volumes",
  .opts = down_opts,
  .fn = down_main,
};
