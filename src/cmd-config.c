/* cmd-config.c - itm-env config: load, validate and print the normalized
 * stack. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "data/data.h"
#include "image/image.h"
#include "ns/ns.h"
#include "stack/stack.h"
#include "util/json.h"
#include "util/xalloc.h"

enum {
  OPT_FORMAT = OPT_FIRST_COMMAND_OPT,
  OPT_SERVICES,
  OPT_VOLUMES,
  OPT_NETWORKS,
  OPT_PROFILES,
  OPT_HASH,
  OPT_IMAGES,
};

static void
print_names (struct json_object *list, bool json)
{
  if (json)
    print_json (list);
  else
    for (size_t i = 0; i < json_object_array_length (list); i++)
      puts (json_object_get_string (json_object_array_get_idx (list, i)));
}

static int
config_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false, quiet = false;
  int list = 0;
  const char *hash = NULL, *arg;
  int opt;

  while ((opt = cmd_getopt (&cmd_config, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FORMAT:
        if (strcmp (arg, "json") == 0)
          json = true;
        else if (strcmp (arg, "yaml") != 0)
          return itm_err_set (err, ITM_EXIT_USAGE,
                              "config: unknown format '%s' (expected yaml or json)", arg);
        break;
      case OPT_SERVICES:
      case OPT_VOLUMES:
      case OPT_NETWORKS:
      case OPT_PROFILES:
      case OPT_IMAGES:
        if (list && list != opt)
          return itm_err_set (err, ITM_EXIT_USAGE,
                              "config: --services, --volumes, --networks, --profiles and "
                              "--images exclude each other");
        list = opt;
        break;
      case OPT_HASH:
        hash = arg;
        break;
      case 'q':
        quiet = true;
        break;
      }
  if (opt < 0)
    return -1;

  /* the shared path: generated secrets (x-itm.secrets) are in the
   * interpolation environment, so hashes match up's; the text printed is
   * masked */
  cleanup_stack struct stack *st = NULL;
  /* config creates nothing: secrets the namespace does not keep yet are
   * made in memory (masked in what is printed), not in its state dir */
  data_secrets_persist (false);
  int ret = ctx_stack_load (ctx, (const char *const *) argv + optind, (size_t) (argc - optind),
                            &st, err);
  if (ret < 0)
    return -1;
  if (quiet)
    return 0;

  if (hash)
    {
      bool all = strcmp (hash, "*") == 0;
      if (!all && stack_service (st, hash) == NULL)
        return itm_err_set (err, ITM_EXIT_NOT_FOUND, "config: no such service: '%s'", hash);
      for (size_t i = 0; i < st->nservices; i++)
        if (all || strcmp (st->services[i].name, hash) == 0)
          {
            cleanup_free char *h = stack_service_hash (&st->services[i]);
            printf ("%s %s\n", st->services[i].name, h);
          }
      return 0;
    }
  if (list)
    {
      cleanup_json struct json_object *a = json_object_new_array ();
      if (list == OPT_SERVICES || list == OPT_IMAGES)
        {
          /* the image a service runs: image:, else the one built for it,
           * named from the namespace (as up names it) */
          cleanup_free char *ns = NULL;
          if (list == OPT_IMAGES
              && ns_resolve (ctx->namespace, st->name, st->project_dir, &ns, err) < 0)
            return -1;
          /* start order: wave by wave, by name within a wave */
          struct stack_wave *w;
          size_t nw = stack_waves (st, &w);
          for (size_t i = 0; i < nw; i++)
            for (size_t k = 0; k < w[i].n; k++)
              {
                const struct stack_service *svc = w[i].services[k];
                if (list == OPT_SERVICES)
                  json_object_array_add (a, json_object_new_string (svc->name));
                else
                  {
                    cleanup_free char *ref = image_service_ref (svc, ns);
                    json_object_array_add (a, json_object_new_string (ref));
                  }
              }
          stack_waves_free (w, nw);
        }
      else if (list == OPT_VOLUMES)
        for (size_t i = 0; i < st->nvolumes; i++)
          json_object_array_add (a, json_object_new_string (st->volumes[i].key));
      else if (list == OPT_NETWORKS)
        for (size_t i = 0; i < st->nnetworks; i++)
          json_object_array_add (a, json_object_new_string (st->networks[i].key));
      else
        for (size_t i = 0; i < st->nprofiles; i++)
          json_object_array_add (a, json_object_new_string (st->profiles[i]));
      print_names (a, json);
      return 0;
    }
  /* one write at the end rather than one per line (stdout is line-buffered),
   * with generated secrets masked */
  char *text = NULL;
  size_t len = 0;
  if (json && isatty (STDOUT_FILENO))
    {
      struct json_object *tree = stack_to_json (st);
      text = xasprintf ("%s\n", json_object_to_json_string_ext (tree, JSON_C_TO_STRING_PRETTY
                                                                         | JSON_C_TO_STRING_SPACED
                                                                         | JSON_C_TO_STRING_NOSLASHESCAPE));
      json_object_put (tree);
    }
  else
    {
      FILE *mem = open_memstream (&text, &len);
      if (mem == NULL)
        oom ();
      stack_print (st, mem, json);
      fclose (mem);
    }
  cleanup_free char *masked = data_mask (text);
  free (text);
  fputs (masked, stdout);
  fflush (stdout);
  return 0;
}

static const struct itm_opt config_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_FORMAT, 0, "format", OPT_ARG_REQUIRED, "yaml|json", "output format (default yaml)" },
  { OPT_SERVICES, 0, "services", OPT_ARG_NONE, NULL, "list the active services, in start order" },
  { OPT_VOLUMES, 0, "volumes", OPT_ARG_NONE, NULL, "list the volume keys" },
  { OPT_NETWORKS, 0, "networks", OPT_ARG_NONE, NULL, "list the network keys" },
  { OPT_PROFILES, 0, "profiles", OPT_ARG_NONE, NULL, "list every profile the stack names" },
  { OPT_IMAGES, 0, "images", OPT_ARG_NONE, NULL,
    "list the image each active service runs, in start order" },
  { OPT_HASH, 0, "hash", OPT_ARG_REQUIRED, "SERVICE",
    "print \"SERVICE HASH\" (config hash; '*': every service)" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "only validate: print nothing but diagnostics" },
  { .argname = "SERVICE...", .help = "activate these services whatever their profiles" },
  { 0 },
};

const struct itm_cmd cmd_config = {
  .name = "config",
  .args = "[SERVICE...]",
  .summary = "validate the stack and print it normalized",
  .opts = config_opts,
  .fn = config_main,
};
