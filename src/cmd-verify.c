/* cmd-verify.c - itm-env verify: check that a namespace left nothing on
 * the engine (src/verify/).  A thin dispatcher: the checks live in the
 * verifier module. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "data/data.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "verify/verify.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_FORCE,
  OPT_DATA,
  OPT_RMI,
};

static int
verify_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct verify_opts vo = { 0 };
  bool json = false, data = false;
  enum prov_rmi rmi = PROV_RMI_NONE;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_verify, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FORCE:
        vo.force = true;
        break;
      case OPT_DATA:
        data = true;
        break;
      case OPT_RMI:
        if (prov_rmi_parse ("verify", arg, &rmi, err) < 0)
          return -1;
        break;
      case OPT_JSON:
        json = true;
        break;
      }
  if (opt < 0)
    return -1;
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "verify: unexpected argument '%s'", argv[optind]);
  if (data)
    {
      /* --data: the stack's x-itm.verify checks on the running namespace */
      cleanup_free char *dns = NULL;
      cleanup_stack struct stack *st = NULL;
      if (ctx_namespace (ctx, CTX_STACK_REQUIRED, &dns, &st, err) < 0)
        return -1;
      struct engine *de = ctx_engine (ctx, err);
      if (de == NULL || data_validate (st, err) < 0)
        return -1;
      return data_verify (de, st, dns, stdout, err);
    }
  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *st = NULL;
  if (ctx_namespace (ctx, rmi != PROV_RMI_NONE ? CTX_STACK_WANTED : CTX_STACK_NONE, &ns,
                     rmi != PROV_RMI_NONE ? &st : NULL, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  /* --rmi: the images the namespace's containers (those still there) and
   * its stack file name must be gone */
  struct prov_down_opts d = { .ns = ns, .rmi = rmi, .stack = st };
  char **imgs = NULL;
  if (rmi != PROV_RMI_NONE)
    {
      imgs = prov_rmi_images (e, &d, &vo.nimages, err);
      if (imgs == NULL)
        return -1;
      vo.images = (const char *const *) imgs;
      vo.rmi = prov_rmi_name (rmi);
    }
  cleanup_verify_result struct verify_result *r = NULL;
  int ret = verify_namespace (e, ns, &vo, &r, err);
  strv_free (imgs);
  if (ret < 0)
    return -1;
  if (json)
    {
      json_object *o = verify_json (r);
      print_json (o);
      json_object_put (o);
      if (ret > 0)
        {
          /* the JSON above says what is left; no second JSON document */
          ctx->json_errors = false;
        }
    }
  else
    verify_print (r, stdout);
  fflush (stdout);
  return ret > 0 ? -1 : 0;
}

static const struct itm_opt verify_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_FORCE, 0, "force", OPT_ARG_NONE, NULL,
    "remove the leftovers: labelled, or on the namespace's networks\n(disconnected first)" },
  { OPT_RMI, 0, "rmi", OPT_ARG_REQUIRED, "local|all",
    "also check that the namespace's images are gone (as\n"
    "'down --rmi' removes them; from its containers and stack file)" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the result as one JSON object on stdout" },
  { OPT_DATA, 0, "data", OPT_ARG_NONE, NULL,
    "instead: run the stack's x-itm.verify data checks (exit 8 on a\n"
    "mismatch, expected and actual shown)" },
  { 0 },
};

const struct itm_cmd cmd_verify = {
  .name = "verify",
  .summary = "check that a namespace left nothing on the engine",
  .opts = verify_opts,
  .fn = verify_main,
};
