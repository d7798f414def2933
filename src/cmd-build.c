/* cmd-build.c - itm-env build: build the services' images from their
 * contexts (src/image/), skipping those whose build digest is unchanged. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "image/image.h"
#include "ns/ns.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_FORCE,
};

static int
build_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, OPT_JSON },
    { "force", no_argument, NULL, OPT_FORCE },
    { NULL, 0, NULL, 0 },
  };
  struct image_opts io = { 0 };
  int opt;
  while ((opt = getopt_long (argc, argv, ":" ITM_STACK_SHORTOPTS "H:q", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      switch (opt)
        {
        case 'q':
          io.progress = IMAGE_PROGRESS_QUIET;
          break;
        case OPT_JSON:
          io.progress = IMAGE_PROGRESS_JSON;
          ctx->json_errors = true;
          break;
        case OPT_FORCE:
          io.build = 1;
          break;
        default:
          return cmd_bad_option (&cmd_build, argv, opt, err);
        }
    }
  const char *const *services = (const char *const *) argv + optind;
  size_t nservices = (size_t) (argc - optind);
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, services, nservices, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      const struct stack_service *svc = stack_service (st, services[i]);
      if (svc == NULL)
        return itm_err_set (err, ITM_EXIT_NOT_FOUND, "build: no service '%s' in the stack",
                            services[i]);
      if (!svc->build.set)
        return itm_err_set (err, ITM_EXIT_USAGE, "build: service %s has no build: section",
                            services[i]);
    }
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  io.ns = ns;
  io.build_only = true;
  io.services = services;
  io.nservices = nservices;
  return image_ensure (e, st, &io, err);
}

const struct itm_cmd cmd_build = {
  .name = "build",
  .usage = "[--force] [--quiet] [--json] [SERVICE...]",
  .summary = "build the services' images (unchanged contexts are not rebuilt)",
  .help = ITM_STACK_HELP
  "      --force                build even when the build digest is unchanged\n"
  "  -q, --quiet                no progress output (a failing step's output still shown)\n"
  "      --json                 progress as JSON event lines on stdout\n",
  .fn = build_main,
};
