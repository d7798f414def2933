/* cmd-ns.c - itm-env ns create|drop|list: data namespaces (src/data/datans.c),
 * an isolated copy of the seeded data per test or worker. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn/conn.h"
#include "data/data.h"
#include "out/out.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum { OPT_FORMAT = OPT_FIRST_COMMAND_OPT, OPT_JSON };

static int
ns_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  enum conn_format fmt = CONN_FMT_SHELL;
  bool json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_ns, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FORMAT:
        if (conn_parse_format ("ns", arg, &fmt, err) < 0)
          return -1;
        json = fmt == CONN_FMT_JSON;
        break;
      case OPT_JSON:
        fmt = CONN_FMT_JSON;
        json = true;
        break;
      }
  if (opt < 0)
    return -1;
  if (json)
    ctx->json_errors = true;
  if (optind >= argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "ns: expected create, drop or list");
  const char *sub = argv[optind++];
  bool create = strcmp (sub, "create") == 0, drop = strcmp (sub, "drop") == 0,
       list = strcmp (sub, "list") == 0;
  if (!create && !drop && !list)
    return itm_err_set (err, ITM_EXIT_USAGE, "ns: unknown subcommand '%s' (create, drop, list)",
                        sub);
  if (list ? optind != argc : optind + 1 != argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "ns %s: expected %s", sub,
                        list ? "no argument" : "one NAME");
  const char *name = list ? NULL : argv[optind];
  if (name && data_ns_check_name (name, err) < 0)
    return -1;

  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *st = NULL;
  if (ctx_namespace (ctx, create ? CTX_STACK_REQUIRED : CTX_STACK_NONE, &ns, create ? &st : NULL,
                     err) < 0)
    return -1;
  if (list)
    {
      json_object *all = NULL;
      if (data_ns_list (ns, &all, err) < 0)
        return -1;
      if (json)
        print_json (all);
      else
        for (size_t i = 0; i < json_object_array_length (all); i++)
          {
            json_object *en = json_object_array_get_idx (all, i), *v, *svcs;
            json_object_object_get_ex (en, "name", &v);
            printf ("%s", json_object_get_string (v));
            if (json_object_object_get_ex (en, "created", &v))
              printf ("\t%s", json_object_get_string (v));
            if (json_object_object_get_ex (en, "services", &svcs))
              for (size_t k = 0; k < json_object_array_length (svcs); k++)
                {
                  json_object *s = json_object_array_get_idx (svcs, k), *sv, *kd;
                  json_object_object_get_ex (s, "service", &sv);
                  json_object_object_get_ex (s, "kind", &kd);
                  printf ("%s%s:%s", k ? "," : "\t", json_object_get_string (sv),
                          json_object_get_string (kd));
                }
            putchar ('\n');
          }
      json_object_put (all);
      return 0;
    }
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  if (drop)
    return data_ns_drop (e, ns, name, err);
  if (ctx_reach (ctx, NULL, err) < 0)
    return -1;
  cleanup_conn_vars struct conn_vars vars = { 0 };
  if (data_ns_create (e, st, ns, name, &vars, err) < 0)
    return -1;
  if (conn_print (stdout, &vars, fmt, err) < 0)
    {
      /* its variables cannot be printed: it is of no use, undo it */
      cleanup_err struct itm_err e2 = { 0 };
      if (data_ns_drop (e, ns, name, &e2) < 0)
        out_warn ("%s", e2.msg);
      return -1;
    }
  return 0;
}

static const struct itm_opt ns_opts[] = {
  { .group = cmd_stack_opts },
  { .argname = "create NAME", .help = "clone the seeded data of every x-itm.data service\n"
                                      "and print its connection variables" },
  { .argname = "drop NAME", .help = "remove that copy" },
  { .argname = "list", .help = "the namespace's data namespaces" },
  { OPT_FORMAT, 0, "format", OPT_ARG_REQUIRED, "shell|dotenv|json",
    "create's output, as `itm-env env` prints it" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the same as --format json; list as JSON" },
  { 0 },
};

const struct itm_cmd cmd_ns = {
  .name = "ns",
  .args = "create NAME | drop NAME | list",
  .summary = "data namespaces: an isolated copy of the seeded data per test or worker",
  .opts = ns_opts,
  .fn = ns_main,
};
