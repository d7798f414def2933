/* cmd-events.c - itm-env events: the engine's event stream filtered to the
 * namespace's label, one line per event (or a JSON object, as Compose's
 * --json), until SIGINT or --until. */
#include <config.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT, OPT_SINCE, OPT_UNTIL };

static atomic_int interrupted;

static void
on_signal (int sig)
{
  itm_exit_signal_note (sig);
  interrupted = 1;
  engine_cancel_wake ();
}

struct ev_ctx {
  bool json;
  char **services;
  size_t nservices;
};

/* "2026-12-02T03:04:05.123456789Z" from the event's timeNano. */
static void
event_time (json_object *ev, char out[48])
{
  long long tn = (long long) json_int (ev, "timeNano", 0);
  time_t t = tn ? (time_t) (tn / 1000000000LL) : (time_t) json_int (ev, "time", 0);
  struct tm tm;
  gmtime_r (&t, &tm);
  char b[32];
  strftime (b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out, 48, "%s.%09lldZ", b, tn ? tn % 1000000000LL : 0);
}

static int
on_event (json_object *ev, void *arg)
{
  struct ev_ctx *x = arg;
  json_object *attrs = json_path (ev, "Actor.Attributes");
  const char *svc = attrs ? json_key_str (attrs, ITM_LABEL_SERVICE) : NULL;
  if (x->nservices)
    {
      bool sel = false;
      for (size_t i = 0; i < x->nservices && svc && !sel; i++)
        sel = strcmp (x->services[i], svc) == 0;
      if (!sel)
        return 0;
    }
  const char *type = json_str (ev, "Type"), *action = json_str (ev, "Action");
  const char *id = json_str (ev, "Actor.ID");
  char t[48];
  event_time (ev, t);
  if (x->json)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "time", json_object_new_string (t));
      json_object_object_add (o, "type", json_object_new_string (type ? type : ""));
      json_object_object_add (o, "action", json_object_new_string (action ? action : ""));
      json_object_object_add (o, "id", json_object_new_string (id ? id : ""));
      json_object_object_add (o, "service", svc ? json_object_new_string (svc) : NULL);
      json_object_object_add (o, "attributes", attrs ? json_object_get (attrs)
                                                     : json_object_new_object ());
      printf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE));
      json_object_put (o);
    }
  else
    {
      const char *name = attrs ? json_key_str (attrs, "name") : NULL;
      printf ("%s %s %s %s (name=%s%s%s)\n", t, type ? type : "?", action ? action : "?",
              id ? id : "?", name ? name : "?", svc ? ", service=" : "", svc ? svc : "");
    }
  fflush (stdout);
  return 0;
}

int
cmd_parse_time (const char *cmd, const char *opt, const char *s, long long *out,
                struct itm_err *err)
{
  char *end;
  long long v = strtoll (s, &end, 10);
  if (*s && *end == '\0' && v >= 0)
    {
      *out = v;
      return 0;
    }
  time_t t;
  if (ns_parse_time (s, &t) == 0)
    {
      *out = (long long) t;
      return 0;
    }
  int64_t ns;
  if (cmd_parse_secs (cmd, opt, s, &ns, err) < 0)
    return itm_err_hint (err, "a unix time, an RFC 3339 UTC time or a duration before now");
  *out = (long long) time (NULL) - ns / 1000000000LL;
  return 0;
}

static int
events_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct ev_ctx x = { 0 };
  long long since = 0, until = 0;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_events, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_JSON:
        x.json = true;
        break;
      case OPT_SINCE:
        if (cmd_parse_time ("events", "--since", arg, &since, err) < 0)
          return -1;
        break;
      case OPT_UNTIL:
        if (cmd_parse_time ("events", "--until", arg, &until, err) < 0)
          return -1;
        break;
      }
  if (opt < 0)
    return -1;
  x.services = argv + optind;
  x.nservices = (size_t) (argc - optind);
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  cleanup_free char *label = xasprintf ("%s=%s", ITM_LABEL_NAMESPACE, ns);
  cleanup_json json_object *filters = json_object_new_object ();
  json_object *labels = json_object_new_array ();
  json_object_array_add (labels, json_object_new_string (label));
  json_object_object_add (filters, "label", labels);

  struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  interrupted = 0;
  int ret = engine_events (e, filters, since, until, on_event, &x, &interrupted, err);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  if (interrupted)
    {
      itm_err_clear (err);
      return itm_exit_interrupted ();
    }
  return ret;
}

static const struct itm_opt events_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_SINCE, 0, "since", OPT_ARG_REQUIRED, "TIME",
    "events from TIME on (unix seconds, RFC 3339, or a duration before now)" },
  { OPT_UNTIL, 0, "until", OPT_ARG_REQUIRED, "TIME", "stop at TIME (same forms)" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "one JSON object per event" },
  { 0 },
};

const struct itm_cmd cmd_events = {
  .name = "events",
  .args = "[SERVICE...]",
  .summary = "print the engine's events about the namespace's containers (until SIGINT)",
  .opts = events_opts,
  .fn = events_main,
};
