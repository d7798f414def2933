/* cmd-top.c - itm-env top: the processes running in the namespace's
 * containers (the engine's /containers/{id}/top), one table per running
 * container, as Compose prints them. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/engine.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

static bool
selected (const char *service, char **services, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (services[i], service) == 0)
      return true;
  return n == 0;
}

/* One container's table: the titles and rows, columns padded. */
static void
print_top (const char *name, json_object *top)
{
  json_object *titles = json_path (top, "Titles"), *procs = json_path (top, "Processes");
  size_t nc = titles ? json_object_array_length (titles) : 0;
  size_t nr = procs ? json_object_array_length (procs) : 0;
  size_t *w = xcalloc (nc + 1, sizeof *w);
  for (size_t k = 0; k < nc; k++)
    {
      w[k] = strlen (json_object_get_string (json_object_array_get_idx (titles, k)));
      for (size_t r = 0; r < nr; r++)
        {
          const char *s = json_object_get_string (
            json_object_array_get_idx (json_object_array_get_idx (procs, r), k));
          if (s && strlen (s) > w[k])
            w[k] = strlen (s);
        }
    }
  printf ("%s\n", name);
  for (size_t r = 0; r <= nr; r++)
    {
      json_object *row = r == 0 ? titles : json_object_array_get_idx (procs, r - 1);
      for (size_t k = 0; k < nc; k++)
        {
          const char *s = json_object_get_string (json_object_array_get_idx (row, k));
          if (k + 1 < nc)
            printf ("%-*s   ", (int) w[k], s ? s : "");
          else
            printf ("%s\n", s ? s : "");
        }
    }
  free (w);
}

static int
top_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_top, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_JSON)
      json = true;
  if (opt < 0)
    return -1;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);
  cleanup_free char *ns = NULL;
  cleanup_state struct state *st = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0
      || ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      size_t n;
      if (state_service (st, services[i], &n) == NULL)
        return state_no_service (st, services[i], err);
    }
  cleanup_json json_object *all = json_object_new_array ();
  bool first = true;
  for (size_t i = 0; i < st->ncontainers; i++)
    {
      const struct state_container *c = &st->containers[i];
      if (!selected (c->service, services, nservices) || strcmp (c->state, "running") != 0)
        continue;
      cleanup_free char *path = xasprintf ("/containers/%s/top", c->id);
      json_object *top = NULL;
      if (engine_get (ctx->engine, path, &top, err) < 0)
        {
          if (err->http_status == 404 || err->http_status == 409)
            {
              itm_err_clear (err); /* gone or stopped meanwhile */
              continue;
            }
          return itm_err_prefix (err, "top of %s", c->name);
        }
      if (json)
        {
          json_object *o = json_object_new_object ();
          json_object_object_add (o, "service", json_object_new_string (c->service));
          json_object_object_add (o, "container", json_object_new_string (c->name));
          json_object_object_add (o, "titles", json_object_get (json_path (top, "Titles")));
          json_object_object_add (o, "processes", json_object_get (json_path (top, "Processes")));
          json_object_array_add (all, o);
        }
      else
        {
          if (!first)
            printf ("\n");
          print_top (c->name, top);
          first = false;
        }
      json_object_put (top);
    }
  if (json)
    print_json (all);
  return 0;
}

static const struct itm_opt top_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "a JSON array of objects instead of the tables" },
  { 0 },
};

const struct itm_cmd cmd_top = {
  .name = "top",
  .args = "[SERVICE...]",
  .summary = "show the processes running in the namespace's containers",
  .opts = top_opts,
  .fn = top_main,
};
