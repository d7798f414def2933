/* cmd-pull.c - itm-env pull: pull the services' images with the registry
 * credentials of the docker CLI's config (src/image/). */
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
};

static int
pull_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct image_opts io = { 0 };
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_pull, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case 'q':
        io.progress = IMAGE_PROGRESS_QUIET;
        break;
      case OPT_JSON:
        io.progress = IMAGE_PROGRESS_JSON;
        break;
      }
  if (opt < 0)
    return -1;
  const char *const *services = (const char *const *) argv + optind;
  size_t nservices = (size_t) (argc - optind);
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, services, nservices, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    if (stack_service (st, services[i]) == NULL)
      return itm_err_set (err, ITM_EXIT_NOT_FOUND, "pull: no service '%s' in the stack",
                          services[i]);
  cleanup_free char *ns = NULL;
  if (ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  io.ns = ns;
  io.pull_only = true;
  io.services = services;
  io.nservices = nservices;
  return image_ensure (e, st, &io, err);
}

static const struct itm_opt pull_opts[] = {
  { .group = cmd_stack_opts },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { 0 },
};

const struct itm_cmd cmd_pull = {
  .name = "pull",
  .args = "[SERVICE...]",
  .summary = "pull the services' images (services with build: are skipped)",
  .opts = pull_opts,
  .fn = pull_main,
};
