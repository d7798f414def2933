/* cmd-up.c - itm-env up: bring the stack up in its namespace, gated on
 * readiness (src/prov/). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cmd.h"
#include "data/data.h"
#include "image/image.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "util/strv.h"
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
  OPT_BUILDER,
  OPT_PULL,
  OPT_FORCE_RECREATE,
  OPT_REMOVE_ORPHANS,
  OPT_CHECK,
  OPT_SCALE,
  OPT_DETACH,
  OPT_WAIT,
  OPT_WAIT_TIMEOUT,
  OPT_NO_DEPS,
};

/* --scale SERVICE=N (repeatable; a later one for the same service wins). */
static int
parse_scale (const char *arg, struct prov_scale **v, size_t *n, struct itm_err *err)
{
  const char *eq = strrchr (arg, '=');
  char *end = NULL;
  long k = eq ? strtol (eq + 1, &end, 10) : 0;
  if (eq == NULL || eq == arg || !eq[1] || *end || eq[1] == '-' || eq[1] == '+' || k < 1
      || k > 99)
    return itm_err_set (err, ITM_EXIT_USAGE, "up: --scale %s: expected SERVICE=N, N from 1 "
                        "to 99", arg);
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = (struct prov_scale){ .service = xstrndup (arg, (size_t) (eq - arg)),
                                      .n = (int) k };
  return 0;
}

static void
scale_free (struct prov_scale **v)
{
  free (*v);
}

static int
up_command (struct itm_ctx *ctx, int argc, char **argv, struct report_opts *ro,
            struct itm_err *err)
{
  struct prov_opts po = { .timeout_ns = 300 * 1000000000LL };
  struct image_opts io = { 0 };
  __attribute__ ((cleanup (scale_free))) struct prov_scale *scale = NULL;
  cleanup_strv char **scale_names = NULL;
  size_t nscale = 0;
  bool quiet = false, json = false, verify_data = false, check = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_up, ctx, argc, argv, &arg, err)) > 0)
    {
      if (cmd_report_option (ro, opt, arg))
        continue;
      switch (opt)
        {
        case OPT_DETACH:
        case OPT_WAIT:
          break; /* Compose's: up always detaches, and waits */
        case OPT_NO_DEPS:
          po.no_deps = true;
          break;
        case OPT_WAIT_TIMEOUT:
        case OPT_TIMEOUT:
          po.timeout_opt = opt == OPT_TIMEOUT ? "--timeout" : "--wait-timeout";
          if (cmd_parse_secs ("up", po.timeout_opt, arg, &po.timeout_ns, err) < 0)
            return -1;
          break;
        case OPT_TTL:
          {
            int64_t t;
            if (cmd_parse_secs ("up", "--ttl", arg, &t, err) < 0)
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
        case OPT_SCALE:
          if (parse_scale (arg, &scale, &nscale, err) < 0)
            return -1;
          scale_names = xrealloc (scale_names, (nscale + 1) * sizeof *scale_names);
          scale_names[nscale - 1] = (char *) scale[nscale - 1].service;
          scale_names[nscale] = NULL;
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
        case OPT_BUILDER:
          {
            enum image_builder b;
            if (image_builder_parse (arg, "--builder", &b, err) < 0)
              return -1;
            io.builder = arg;
          }
          break;
        case OPT_PULL:
          if (image_check_policy (arg, err) < 0)
            return -1;
          io.pull = arg;
          break;
        case OPT_JSON:
          json = true;
          break;
        case OPT_CHECK:
          check = true;
          break;
        }
    }
  if (opt < 0)
    return -1;
  po.services = (const char *const *) argv + optind;
  po.nservices = (size_t) (argc - optind);
  if (po.no_deps && po.nservices == 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "up: --no-deps needs the services to bring up");
  if (report_begin ("up", ro, NULL, err) < 0)
    return -1;
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, po.services, po.nservices, &st, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  if (ctx_reach (ctx, &po.join, err) < 0)
    return -1;
  po.ns = ns;
  /* the last --scale of a service first: replicas_of takes the first match */
  for (size_t i = 0; i < nscale / 2; i++)
    {
      struct prov_scale t = scale[i];
      scale[i] = scale[nscale - 1 - i];
      scale[nscale - 1 - i] = t;
    }
  po.scale = scale;
  po.nscale = nscale;
  /* namespaces of ups that died with their watchdog: removed in passing */
  gc_reap (e);
  struct cmd_up_guard guard = { 0 };
  cmd_up_guard (&po, &guard);
  io.progress = quiet ? IMAGE_PROGRESS_QUIET : json ? IMAGE_PROGRESS_JSON : IMAGE_PROGRESS_AUTO;
  po.image = &io;
  if (data_validate (st, err) < 0)
    return -1;
  out_auto (quiet, json);
  prov_signals_install (ns);
  if (prov_up (e, st, &po, err) < 0)
    return -1;
  prov_proxy_report (e, st, ns, report_current ());
  /* with --json, stdout holds only JSON event lines: the check lines go
   * to stderr (the report has them as data) */
  if (verify_data && data_verify (e, st, ns, json ? stderr : stdout, err) < 0)
    return -1;
  /* --check: x-itm.checks (src/check/), after the data checks */
  return check ? check_gate (e, st, ns, json ? stderr : stdout, err) : 0;
}

/* The report around the command (src/report/): begun once the options
 * are read, written whatever happened. */
static int
up_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct report_opts ro = { 0 };
  int rc = up_command (ctx, argc, argv, &ro, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &ro, rc, err);
}

static const struct itm_opt up_opts[] = {
  { .group = cmd_stack_opts },
  { .group = cmd_report_opts },
  { OPT_TIMEOUT, 0, "timeout", OPT_ARG_REQUIRED, "DURATION",
    "give up when not all ready by then (default 5m)" },
  { OPT_KEEP_ON_FAILURE, 0, "keep-on-failure", OPT_ARG_NONE, NULL,
    "leave what was created when a gate fails" },
  { OPT_FORCE_RECREATE, 0, "force-recreate", OPT_ARG_NONE, NULL,
    "recreate the containers even when nothing changed" },
  { OPT_REMOVE_ORPHANS, 0, "remove-orphans", OPT_ARG_NONE, NULL,
    "remove containers of services the stack no longer has" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { OPT_SCALE, 0, "scale", OPT_ARG_REQUIRED, "SERVICE=N",
    "run N containers of SERVICE (over scale: and deploy.replicas)", .repeat = true },
  { OPT_BUILD, 0, "build", OPT_ARG_NONE, NULL,
    "build images even when their build digest is unchanged" },
  { OPT_NO_BUILD, 0, "no-build", OPT_ARG_NONE, NULL,
    "never build; an image that is missing is an error" },
  { OPT_BUILDER, 0, "builder", OPT_ARG_REQUIRED, "BUILDER",
    "buildkit, classic or auto (default: $ITM_ENV_BUILDER, else auto)" },
  { OPT_PULL, 0, "pull", OPT_ARG_REQUIRED, "POLICY",
    "always, missing, never or build, over each pull_policy" },
  { OPT_TTL, 0, "ttl", OPT_ARG_REQUIRED, "DURATION", "expiry label for gc (default 24h)" },
  { OPT_VERIFY_DATA, 0, "verify-data", OPT_ARG_NONE, NULL,
    "run the x-itm.verify data checks once all is ready" },
  { OPT_CHECK, 0, "check", OPT_ARG_NONE, NULL,
    "run the x-itm.checks once all is ready (exit 11 when one fails)" },
  { OPT_NO_DEPS, 0, "no-deps", OPT_ARG_NONE, NULL,
    "with SERVICE...: not the services they depend on" },
  { OPT_DETACH, 'd', "detach", OPT_ARG_NONE, NULL, "" },
  { OPT_WAIT, 0, "wait", OPT_ARG_NONE, NULL,
    "accepted for Compose: up always detaches and waits" },
  { OPT_WAIT_TIMEOUT, 0, "wait-timeout", OPT_ARG_REQUIRED, "DURATION", "the same as --timeout" },
  { 0, 0, NULL, OPT_ARG_NONE, "SERVICE...",
    "only these services and what they depend on (default: all)" },
  { 0 },
};

const struct itm_cmd cmd_up = {
  .name = "up",
  .args = "[SERVICE...]",
  .summary = "create and start the stack in its namespace, gated on readiness",
  .opts = up_opts,
  .fn = up_main,
};
