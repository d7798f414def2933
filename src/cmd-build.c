/* cmd-build.c - itm-env build: build the services' images from their
 * contexts (src/image/), skipping those whose build digest is unchanged. */
#include <config.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "engine/engine.h"
#include "image/image.h"
#include "ns/ns.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_FORCE,
  OPT_SELF,
  OPT_BUILDER,
};

/* SIGINT and SIGTERM stop the builds in flight (the engine cancels a
 * build whose client went away): exit 130 or 143. */
static atomic_int interrupted;

static void
on_signal (int sig)
{
  itm_exit_signal_note (sig);
  interrupted = 1;
  engine_cancel_wake ();
}

static int
build_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct image_opts io = { 0 };
  bool self = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_build, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case 'q':
        io.progress = IMAGE_PROGRESS_QUIET;
        break;
      case OPT_JSON:
        io.progress = IMAGE_PROGRESS_JSON;
        break;
      case OPT_FORCE:
        io.build = 1;
        break;
      case OPT_SELF:
        self = true;
        break;
      case OPT_BUILDER:
        {
          enum image_builder b;
          if (image_builder_parse (arg, "--builder", &b, err) < 0)
            return -1;
          io.builder = arg;
        }
        break;
      }
  if (opt < 0)
    return -1;
  if (self)
    {
      /* itm-env's own image (the reaper's): no stack needed */
      if (optind < argc)
        return itm_err_set (err, ITM_EXIT_USAGE, "build --self takes no service");
      struct engine *e = ctx_engine (ctx, err);
      if (e == NULL)
        return -1;
      cleanup_free char *ref = NULL;
      if (image_self (e, &ref, err) < 0)
        return -1;
      printf ("%s\n", ref);
      return 0;
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
  io.cancel = &interrupted;
  struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  int ret = image_ensure (e, st, &io, err);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  return ret;
}

static const struct itm_opt build_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_FORCE, 0, "force", OPT_ARG_NONE, NULL,
    "build even when the build digest is unchanged" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL,
    "no progress output (a failing step's output still shown)" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { OPT_BUILDER, 0, "builder", OPT_ARG_REQUIRED, "BUILDER",
    "buildkit, classic or auto (default: $ITM_ENV_BUILDER, else auto)" },
  { OPT_SELF, 0, "self", OPT_ARG_NONE, NULL,
    "make itm-env's own image (the reaper's) if missing and print its name" },
  { 0 },
};

const struct itm_cmd cmd_build = {
  .name = "build",
  .args = "[SERVICE...]",
  .summary = "build the services' images (unchanged contexts are not rebuilt)",
  .opts = build_opts,
  .fn = build_main,
};
