/* cmd-proxy.c - itm-env proxy [--listen ADDR] [--config FILE] [--proxy
 * NAME=LISTEN=UPSTREAM]...: the fault proxy, driven by Toxiproxy's HTTP
 * API on ADDR, until SIGTERM or SIGINT.  The entrypoint of the proxy
 * container of a stack with x-itm proxies, and usable on its own. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "proxy/proxy.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_LISTEN = OPT_FIRST_COMMAND_OPT, OPT_CONFIG, OPT_PROXY, OPT_SEED, OPT_FAULT };

static volatile sig_atomic_t stop, go;

static void
on_usr1 (int sig)
{
  go = 1;
}

static void
on_signal (int sig)
{
  stop = sig;
}

/* NAME=LISTEN=UPSTREAM as a proxy object. */
static json_object *
proxy_arg (const char *s, struct itm_err *err)
{
  const char *a = strchr (s, '='), *b = a ? strchr (a + 1, '=') : NULL;
  if (a == NULL || b == NULL || a == s || b == a + 1 || b[1] == '\0')
    {
      itm_err_set (err, ITM_EXIT_USAGE, "proxy: --proxy '%s' is not NAME=LISTEN=UPSTREAM", s);
      itm_err_hint (err, "e.g. --proxy db=0.0.0.0:5432=db-real:5432");
      return NULL;
    }
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "name", json_object_new_string_len (s, (int) (a - s)));
  json_object_object_add (o, "listen", json_object_new_string_len (a + 1, (int) (b - a - 1)));
  json_object_object_add (o, "upstream", json_object_new_string (b + 1));
  return o;
}

static int
proxy_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  const char *listen = "127.0.0.1:8474", *arg;
  uint64_t seed = 0;
  int opt;
  cleanup_json json_object *proxies = json_object_new_array ();
  cleanup_json json_object *config = NULL;
  cleanup_json json_object *faults = json_object_new_array ();

  while ((opt = cmd_getopt (&cmd_proxy, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_LISTEN:
        listen = arg;
        break;
      case OPT_CONFIG:
        {
          cleanup_free char *text = file_read (arg, 16 << 20, NULL, ITM_EXIT_USAGE, err);
          if (text == NULL)
            return itm_err_prefix (err, "proxy: --config: ");
          json_object_put (config);
          config = json_tokener_parse (text);
          if (!json_object_is_type (config, json_type_array))
            return itm_err_set (err, ITM_EXIT_USAGE,
                                "proxy: --config %s: not a JSON array of proxies"
                                " (Toxiproxy's -config format)", arg);
          break;
        }
      case OPT_PROXY:
        {
          json_object *o = proxy_arg (arg, err);
          if (o == NULL)
            return -1;
          json_object_array_add (proxies, o);
          break;
        }
      case OPT_FAULT:
        {
          json_object *f = json_tokener_parse (arg);
          if (!json_object_is_type (f, json_type_object))
            {
              json_object_put (f);
              return itm_err_set (err, ITM_EXIT_USAGE, "proxy: --fault: not a JSON object");
            }
          json_object_array_add (faults, f);
          break;
        }
      case OPT_SEED:
        seed = strtoull (arg, NULL, 0);
        break;
      }
  if (opt < 0)
    return -1;
  if (optind < argc)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "proxy: unexpected argument '%s'", argv[optind]);
      return itm_err_hint (err, "'itm-env help proxy' lists its options");
    }
  for (size_t i = 0; config && i < json_object_array_length (config); i++)
    json_object_array_add (proxies, json_object_get (json_object_array_get_idx (config, i)));

  struct px_server *s = px_server_new (seed);
  cleanup_free char *bound = NULL;
  if (px_server_listen (s, listen, &bound, err) < 0
      || (json_object_array_length (proxies) && px_server_populate (s, proxies, err) < 0))
    {
      px_server_free (s);
      return -1;
    }
  for (size_t i = 0; i < json_object_array_length (faults); i++)
    if (px_server_schedule (s, json_object_array_get_idx (faults, i), err) < 0)
      {
        px_server_free (s);
        return -1;
      }
  px_server_trigger (s, &go);
  struct sigaction sa = { .sa_handler = on_signal }, su = { .sa_handler = on_usr1 };
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGUSR1, &su, NULL);
  signal (SIGPIPE, SIG_IGN);
  printf ("itm-env proxy: API on %s\n", bound);
  fflush (stdout);
  int rc = px_server_run (s, &stop, err);
  px_server_free (s);
  return rc;
}

static const struct itm_opt proxy_opts[] = {
  { OPT_LISTEN, 0, "listen", OPT_ARG_REQUIRED, "ADDR",
    "the API's address, HOST:PORT (default 127.0.0.1:8474; port 0: any free one)" },
  { OPT_CONFIG, 0, "config", OPT_ARG_REQUIRED, "FILE",
    "create the proxies of a JSON file (Toxiproxy's -config: [{name, listen, upstream}])" },
  { OPT_PROXY, 0, "proxy", OPT_ARG_REQUIRED, "NAME=LISTEN=UPSTREAM",
    "create a proxy (e.g. db=0.0.0.0:5432=db-real:5432)", .repeat = true },
  { OPT_FAULT, 0, "fault", OPT_ARG_REQUIRED, "JSON",
    "schedule a toxic: {\"proxy\", \"at_ms\", \"for_ms\", \"toxic\"}, counted from SIGUSR1",
    .repeat = true },
  { OPT_SEED, 0, "seed", OPT_ARG_REQUIRED, "N", NULL },
  { 0 },
};

const struct itm_cmd cmd_proxy = {
  .name = "proxy",
  .summary = "run the fault proxy (Toxiproxy's HTTP API)",
  .opts = proxy_opts,
  .fn = proxy_main,
};
