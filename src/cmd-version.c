/* cmd-version.c - itm-env version [--json]: the client's version, then the
 * engine's (version, API version, negotiated API version, endpoint, OS and
 * architecture).  Without an engine, the client part and then the error. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "cmd.h"
#include "engine/engine.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

static json_object *
jstr_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

static int
version_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false;
  const char *arg;
  int opt;

  while ((opt = cmd_getopt (&cmd_version, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_JSON)
      {
        json = true;
      }
  if (opt < 0)
    return -1;
  if (optind < argc)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "version: unexpected argument '%s'", argv[optind]);
      return itm_err_hint (err, "'itm-env help version' lists its options");
    }

  struct utsname u;
  const char *cos = "linux", *carch = "unknown";
  if (uname (&u) == 0)
    carch = u.machine;

  json_object *client = json_object_new_object ();
  json_object_object_add (client, "version", json_object_new_string (PACKAGE_VERSION));
  json_object_object_add (client, "api_min", json_object_new_string (ENGINE_API_MIN));
  json_object_object_add (client, "api_max", json_object_new_string (ENGINE_API_MAX));
  json_object_object_add (client, "os", json_object_new_string (cos));
  json_object_object_add (client, "arch", json_object_new_string (carch));
  cleanup_json json_object *top = json_object_new_object ();
  json_object_object_add (top, "client", client);

  if (!json)
    {
      printf ("client version:     %s\n", PACKAGE_VERSION);
      printf ("client api:         %s-%s\n", ENGINE_API_MIN, ENGINE_API_MAX);
      printf ("client os/arch:     %s/%s\n", cos, carch);
    }

  cleanup_json json_object *ver = NULL;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL || engine_get (e, "/version", &ver, err) < 0)
    {
      if (json)
        print_json (top);
      return -1;
    }

  const char *os = json_str (ver, "Os"), *arch = json_str (ver, "Arch");
  json_object *eng = json_object_new_object ();
  json_object_object_add (eng, "endpoint", json_object_new_string (engine_endpoint (e)));
  json_object_object_add (eng, "version", jstr_or_null (json_str (ver, "Version")));
  json_object_object_add (eng, "api_version", jstr_or_null (engine_server_api_version (e)));
  json_object_object_add (eng, "min_api_version", jstr_or_null (json_str (ver, "MinAPIVersion")));
  json_object_object_add (eng, "os", jstr_or_null (os));
  json_object_object_add (eng, "arch", jstr_or_null (arch));
  json_object_object_add (eng, "kernel_version", jstr_or_null (json_str (ver, "KernelVersion")));
  json_object_object_add (top, "engine", eng);
  json_object_object_add (top, "negotiated_api_version",
                          json_object_new_string (engine_api_version (e)));

  if (json)
    print_json (top);
  else
    {
      printf ("endpoint:           %s\n", engine_endpoint (e));
      printf ("engine version:     %s\n", json_str (ver, "Version") ? json_str (ver, "Version") : "unknown");
      printf ("engine api:         %s\n", engine_server_api_version (e));
      printf ("negotiated api:     %s\n", engine_api_version (e));
      printf ("engine os/arch:     %s/%s\n", os ? os : "unknown", arch ? arch : "unknown");
    }
  return 0;
}

/* the stack options are accepted (as everywhere) but not shown */
static const struct itm_opt version_opts[] = {
  { .group = cmd_stack_opts, .hidden = true },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "print one JSON object" },
  { OPT_HOST, 'H', "host", OPT_ARG_REQUIRED, "HOST", "engine address (as a global option)" },
  { 0 },
};

const struct itm_cmd cmd_version = {
  .name = "version",
  .summary = "show the client's and the engine's versions",
  .opts = version_opts,
  .fn = version_main,
};
