/* cmd-seed.c - itm-env seed [SERVICE...]: run the x-itm.seed steps again
 * on a namespace that is up (src/data/seed.c). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "data/data.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/xalloc.h"
#include "out/out.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

static int
seed_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool quiet = false, json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_seed, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case 'q':
        quiet = true;
        break;
      case OPT_JSON:
        json = true;
        break;
      }
  if (opt < 0)
    return -1;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);
  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *st = NULL;
  if (ctx_namespace (ctx, CTX_STACK_REQUIRED, &ns, &st, err) < 0)
    return -1;
  if (data_validate (st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      const struct stack_service *svc = stack_service (st, services[i]);
      if (svc == NULL)
        return itm_err_set (err, ITM_EXIT_NOT_FOUND, "no service '%s' in the stack", services[i]);
      if (!data_has_seed (svc))
        return itm_err_set (err, ITM_EXIT_USAGE, "service '%s' has no x-itm.seed", services[i]);
    }
  cleanup_state struct state *state = NULL;
  if (ctx_state (ctx, ns, true, &state, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  out_auto (quiet, json);
  int ret = 0;
  size_t nseeded = 0;
  /* in start order: a seed may rely on what an earlier service's seed made */
  struct stack_wave *waves = NULL;
  size_t nw = stack_waves (st, &waves);
  for (size_t w = 0; w < nw && ret == 0; w++)
    for (size_t k = 0; k < waves[w].n && ret == 0; k++)
      {
        const struct stack_service *svc = waves[w].services[k];
        bool named = nservices == 0;
        for (size_t i = 0; i < nservices; i++)
          named = named || strcmp (services[i], svc->name) == 0;
        if (!named || !data_has_seed (svc))
          continue;
        struct state_container *c = ctx_pick_container (state, svc->name, 0, err);
        if (c == NULL)
          ret = -1;
        else if (strcmp (c->state, "running") != 0)
          ret = itm_err_set (err, ITM_EXIT_DATA, "service '%s' is not running (%s)", svc->name,
                             c->state);
        else
          {
            out_event (svc->name, "seeding", -1, NULL);
            ret = data_seed_service (e, st, svc, c->id, ns, false, err);
            nseeded++;
          }
      }
  stack_waves_free (waves, nw);
  out_finish ();
  if (ret == 0 && nseeded == 0)
    fprintf (stderr, "itm-env: no service has x-itm.seed steps\n");
  return ret;
}

static const struct itm_opt seed_opts[] = {
  { .group = cmd_stack_opts },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { 0 },
};

const struct itm_cmd cmd_seed = {
  .name = "seed",
  .args = "[SERVICE...]",
  .summary = "run the services' x-itm.seed steps again on a namespace that is up",
  .opts = seed_opts,
  .fn = seed_main,
};
