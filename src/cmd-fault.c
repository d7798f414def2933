/* cmd-fault.c - itm-env fault add|list|remove|reset|partition|heal: the
 * namespace's fault proxy (x-itm.proxy, src/prov/proxy.c) driven through
 * its Toxiproxy API, and network partitions through the Engine API. */
#include <config.h>

#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cmd.h"
#include "conn/conn.h"
#include "engine/engine.h"
#include "out/out.h"
#include "prov/prov.h"
#include "proxy/proxy.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

enum {
  OPT_LATENCY = OPT_FIRST_COMMAND_OPT, OPT_JITTER, OPT_RATE, OPT_DELAY, OPT_TIMEOUT, OPT_BYTES,
  OPT_AVG, OPT_VAR, OPT_CONNS, /* the attribute options: keep them first and in this order */
  OPT_UPSTREAM, OPT_DOWNSTREAM, OPT_TOXICITY, OPT_NAME, OPT_PORT, OPT_JSON, OPT_FROM,
};
#define NATTR_OPTS (OPT_CONNS - OPT_LATENCY + 1)

/* Which attribute of which toxic an option sets, and its unit. */
enum unit { U_MS, U_US, U_NUM };
static const struct {
  int opt;
  enum px_type type;
  const char *attr;
  enum unit unit;
} attr_opts[] = {
  { OPT_LATENCY, PX_LATENCY, "latency", U_MS },
  { OPT_JITTER, PX_LATENCY, "jitter", U_MS },
  { OPT_RATE, PX_BANDWIDTH, "rate", U_NUM },
  { OPT_DELAY, PX_SLOW_CLOSE, "delay", U_MS },
  { OPT_TIMEOUT, PX_TIMEOUT, "timeout", U_MS },
  { OPT_TIMEOUT, PX_RESET_PEER, "timeout", U_MS },
  { OPT_AVG, PX_SLICER, "average_size", U_NUM },
  { OPT_VAR, PX_SLICER, "size_variation", U_NUM },
  { OPT_DELAY, PX_SLICER, "delay", U_US },
  { OPT_BYTES, PX_LIMIT_DATA, "bytes", U_NUM },
  { OPT_CONNS, PX_FAIL_FIRST, "connections", U_NUM },
};
static const char *const attr_opt_names[NATTR_OPTS] = {
  "latency", "jitter", "rate", "delay", "timeout", "bytes", "average-size", "size-variation",
  "connections",
};

/* The proxies standing for service (named SERVICE or SERVICE-PORT; with
 * port, that one): their names, a new strv (*n of them). */
static char **
service_proxies (json_object *all, const char *service, unsigned port, size_t *n,
                 struct itm_err *err)
{
  char **v = NULL;
  struct buf names = { 0 };
  size_t sl = strlen (service);
  *n = 0;
  json_object_object_foreach (all, name, p)
    {
      (void) p;
      buf_addf (&names, "%s%s", names.len ? ", " : "", name);
      bool mine = strcmp (name, service) == 0
        || (strncmp (name, service, sl) == 0 && name[sl] == '-'
            && strspn (name + sl + 1, "0123456789") == strlen (name + sl + 1) && name[sl + 1]);
      if (!mine)
        continue;
      if (port)
        {
          const char *up = json_key_str (p, "upstream");
          const char *c = up ? strrchr (up, ':') : NULL;
          if (c == NULL || strtoul (c + 1, NULL, 10) != port)
            continue;
        }
      strv_push (&v, n, name);
    }
  if (*n == 0)
    {
      if (port)
        itm_err_set (err, ITM_EXIT_NOT_FOUND, "service '%s' has no proxy for port %u", service,
                     port);
      else
        itm_err_set (err, ITM_EXIT_NOT_FOUND, "service '%s' is not behind the fault proxy",
                     service);
      itm_err_hint (err, "its proxies: %s (x-itm.proxy in the stack)",
                    names.len ? names.data : "none");
    }
  buf_free (&names);
  return v;
}

static int
attr_value (int opt, enum unit unit, const char *s, int64_t *out, struct itm_err *err)
{
  const char *name = attr_opt_names[opt - OPT_LATENCY];
  if (unit == U_NUM)
    {
      char *end;
      errno = 0;
      long long v = strtoll (s, &end, 10);
      if (end == s || *end || errno || v < 0)
        return itm_err_set (err, ITM_EXIT_USAGE, "fault add: --%s: expected a non-negative "
                            "integer, got '%s'", name, s);
      *out = v;
      return 0;
    }
  int64_t ns;
  cleanup_free char *what = xasprintf ("--%s", name);
  if (cmd_parse_secs ("fault add", what, s, &ns, err) < 0)
    return -1;
  if (ns < 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "fault add: --%s: must not be negative", name);
  *out = unit == U_MS ? ns / 1000000 : ns / 1000;
  return 0;
}

/* The toxic's body from the command line (type, options); NULL with a
 * usage error before anything is sent. */
static json_object *
toxic_body (const char *type, const char *const val[NATTR_OPTS], int stream, double toxicity,
            const char *name, struct itm_err *err)
{
  int ty = px_type_find (type);
  if (ty < 0)
    {
      struct buf b = { 0 };
      for (int t = 0; t < PX_NTYPES; t++)
        buf_addf (&b, "%s%s", t ? ", " : "", px_type_name ((enum px_type) t));
      itm_err_set (err, ITM_EXIT_USAGE, "fault add: unknown toxic '%s' (%s)", type, b.data);
      buf_free (&b);
      return NULL;
    }
  json_object *o = json_object_new_object (), *a = json_object_new_object ();
  json_object_object_add (o, "type", json_object_new_string (type));
  json_object_object_add (o, "stream", json_object_new_string (stream ? "upstream"
                                                                        : "downstream"));
  json_object_object_add (o, "toxicity", json_object_new_double (toxicity));
  if (name)
    json_object_object_add (o, "name", json_object_new_string (name));
  json_object_object_add (o, "attributes", a);
  for (int k = 0; k < NATTR_OPTS; k++)
    {
      if (val[k] == NULL)
        continue;
      size_t i;
      for (i = 0; i < sizeof attr_opts / sizeof attr_opts[0]; i++)
        if (attr_opts[i].opt == OPT_LATENCY + k && attr_opts[i].type == (enum px_type) ty)
          break;
      if (i == sizeof attr_opts / sizeof attr_opts[0])
        {
          struct buf b = { 0 };
          for (size_t j = 0; j < sizeof attr_opts / sizeof attr_opts[0]; j++)
            if (attr_opts[j].type == (enum px_type) ty)
              buf_addf (&b, "%s--%s", b.len ? ", " : "",
                        attr_opt_names[attr_opts[j].opt - OPT_LATENCY]);
          itm_err_set (err, ITM_EXIT_USAGE, "fault add: --%s does not apply to toxic '%s' (%s)",
                       attr_opt_names[k], type, b.len ? b.data : "it has no option");
          buf_free (&b);
          json_object_put (o);
          return NULL;
        }
      int64_t v = 0;
      if (attr_value (OPT_LATENCY + k, attr_opts[i].unit, val[k], &v, err) < 0)
        {
          json_object_put (o);
          return NULL;
        }
      json_object_object_add (a, attr_opts[i].attr, json_object_new_int64 (v));
    }
  return o;
}

static void
print_list (json_object *all)
{
  printf ("%-20s %-22s %-26s %-8s %s\n", "PROXY", "LISTEN", "UPSTREAM", "ENABLED", "TOXICS");
  json_object_object_foreach (all, name, p)
    {
      struct buf t = { 0 };
      json_object *tx = json_key (p, "toxics");
      for (size_t i = 0; tx && i < json_object_array_length (tx); i++)
        {
          json_object *x = json_object_array_get_idx (tx, i);
          buf_addf (&t, "%s%s(%s %s", t.len ? ", " : "", json_key_str (x, "name"),
                    json_key_str (x, "type"), json_key_str (x, "stream"));
          json_object_object_foreach (json_key (x, "attributes"), k, v)
            buf_addf (&t, " %s=%s", k, json_object_get_string (v));
          double tox = json_object_get_double (json_key (x, "toxicity"));
          if (tox < 1)
            buf_addf (&t, " toxicity=%g", tox);
          buf_adds (&t, ")");
        }
      printf ("%-20s %-22s %-26s %-8s %s\n", name, json_key_str (p, "listen"),
              json_key_str (p, "upstream"),
              json_object_get_boolean (json_key (p, "enabled")) ? "yes" : "no",
              t.len ? t.data : "-");
      buf_free (&t);
    }
}

/* ---- partitions (Engine API) ---- */
static int
partition (struct itm_ctx *ctx, const struct state *st, const char *service, const char *from,
           bool heal, struct itm_err *err)
{
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  struct stack *stk = NULL;
  if (heal && ctx_stack_from_labels (ctx, st, &stk, err) <= 0)
    {
      if (!itm_err_isset (err))
        itm_err_set (err, ITM_EXIT_NOT_FOUND, "fault heal: the namespace's containers name no "
                     "stack file to take the networks and aliases from");
      return -1;
    }
  int ret = 0;
  size_t done = 0;
  for (size_t i = 0; i < st->ncontainers && ret == 0; i++)
    {
      const struct state_container *c = &st->containers[i];
      if (c->service == NULL || (service && strcmp (c->service, service) != 0))
        continue;
      if (heal)
        {
          const struct stack_service *ss = stack_service (stk, c->service);
          size_t nn = 0;
          cleanup_strv char **nets = ss ? prov_service_networks (stk, ss, st->ns, &nn) : NULL;
          for (size_t k = 0; k < nn && ret == 0; k++)
            {
              if (strv_contains (c->networks, nets[k]))
                continue;
              cleanup_json json_object *b = json_object_new_object ();
              json_object_object_add (b, "Container", json_object_new_string (c->id));
              json_object_object_add (b, "EndpointConfig", prov_endpoint_spec (ss, k));
              cleanup_free char *p = xasprintf ("/networks/%s/connect", nets[k]);
              if ((ret = engine_post (e, p, b, NULL, err)) < 0)
                itm_err_prefix (err, "reconnecting %s to %s", c->name, nets[k]);
              else
                {
                  out_event (c->service, "healed", -1, nets[k]);
                  done++;
                }
            }
          continue;
        }
      const struct state_container *other = NULL;
      if (from)
        {
          for (size_t k = 0; k < st->ncontainers && other == NULL; k++)
            if (st->containers[k].service && strcmp (st->containers[k].service, from) == 0)
              other = &st->containers[k];
          if (other == NULL)
            {
              ret = itm_err_set (err, ITM_EXIT_NOT_FOUND, "fault partition: no service '%s' "
                                 "in namespace '%s'", from, st->ns);
              break;
            }
        }
      for (size_t k = 0; k < c->nnetworks && ret == 0; k++)
        {
          if (other && !strv_contains (other->networks, c->networks[k]))
            continue;
          cleanup_json json_object *b = json_object_new_object ();
          json_object_object_add (b, "Container", json_object_new_string (c->id));
          json_object_object_add (b, "Force", json_object_new_boolean (true));
          cleanup_free char *p = xasprintf ("/networks/%s/disconnect", c->networks[k]);
          if ((ret = engine_post (e, p, b, NULL, err)) < 0)
            itm_err_prefix (err, "disconnecting %s from %s", c->name, c->networks[k]);
          else
            {
              out_event (c->service, "partitioned", -1, c->networks[k]);
              done++;
            }
        }
    }
  if (stk)
    stack_free (stk);
  if (ret == 0 && !heal && done == 0 && !itm_err_isset (err))
    {
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "fault partition: service '%s' has no container "
                   "on a network%s%s", service, from ? " shared with " : "", from ? from : "");
      return -1;
    }
  return ret < 0 ? -1 : 0;
}

static int
fault_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  const char *val[NATTR_OPTS] = { 0 }, *arg, *name = NULL, *from = NULL;
  int opt, stream = 0;
  double toxicity = 1.0;
  unsigned port = 0;
  bool json = false;
  while ((opt = cmd_getopt (&cmd_fault, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_UPSTREAM:
        stream = 1;
        break;
      case OPT_DOWNSTREAM:
        stream = 0;
        break;
      case OPT_TOXICITY:
        {
          char *end;
          toxicity = strtod (arg, &end);
          if (end == arg || *end || !(toxicity >= 0 && toxicity <= 1))
            return itm_err_set (err, ITM_EXIT_USAGE, "fault: --toxicity: expected a number "
                                "from 0 to 1, got '%s'", arg);
          break;
        }
      case OPT_NAME:
        name = arg;
        break;
      case OPT_PORT:
        {
          char *end;
          unsigned long v = strtoul (arg, &end, 10);
          if (end == arg || *end || v == 0 || v > 65535)
            return itm_err_set (err, ITM_EXIT_USAGE, "fault: --port: expected a port, got "
                                "'%s'", arg);
          port = (unsigned) v;
          break;
        }
      case OPT_JSON:
        json = true;
        ctx->json_errors = true;
        break;
      case OPT_FROM:
        from = arg;
        break;
      default:
        if (opt >= OPT_LATENCY && opt <= OPT_CONNS)
          val[opt - OPT_LATENCY] = arg;
        break;
      }
  if (opt < 0)
    return -1;
  static const char *const subs[] = { "add", "list", "remove", "reset", "partition", "heal" };
  static const int nargs[][2] = { { 2, 2 }, { 0, 0 }, { 1, 2 }, { 0, 0 }, { 1, 1 }, { 0, 1 } };
  if (optind >= argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "fault: expected add, list, remove, reset, "
                        "partition or heal");
  const char *sub = argv[optind++];
  int k;
  for (k = 0; k < 6 && strcmp (sub, subs[k]) != 0; k++)
    ;
  if (k == 6)
    return itm_err_set (err, ITM_EXIT_USAGE, "fault: unknown subcommand '%s' (add, list, "
                        "remove, reset, partition, heal)", sub);
  int n = argc - optind;
  if (n < nargs[k][0] || n > nargs[k][1])
    {
      static const char *const usage[] = { "SERVICE TOXIC", "no argument", "SERVICE [TOXIC]",
                                           "no argument", "SERVICE", "[SERVICE]" };
      itm_err_set (err, ITM_EXIT_USAGE, "fault %s: expected %s", sub, usage[k]);
      return itm_err_hint (err, "'itm-env help fault'");
    }
  cleanup_json json_object *body = NULL;
  if (k == 0 && (body = toxic_body (argv[optind + 1], val, stream, toxicity, name, err)) == NULL)
    return -1;

  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  if (k >= 4)
    {
      if (partition (ctx, st, n ? argv[optind] : NULL, from, k == 5, err) < 0)
        return -1;
      /* a service behind the proxy: its proxies refuse while it is cut
       * off (its name is the proxy's), and take connections again on heal */
      cleanup_err struct itm_err e2 = { 0 };
      cleanup_free char *purl = prov_proxy_url (st, &e2);
      cleanup_json json_object *pall = NULL;
      if (purl == NULL || prov_proxy_api (purl, "GET", "/proxies", NULL, 200, &pall, &e2) < 0)
        return 0;
      json_object_object_foreach (pall, pname, pobj)
        {
          const char *up = json_key_str (pobj, "upstream");
          const char *sfx = up ? strstr (up, ".itm-real:") : NULL;
          if (sfx == NULL || (n && ((size_t) (sfx - up) != strlen (argv[optind])
                                    || strncmp (up, argv[optind], (size_t) (sfx - up)) != 0)))
            continue;
          cleanup_free char *pp = xasprintf ("/proxies/%s", pname);
          cleanup_json json_object *b = json_object_new_object ();
          json_object_object_add (b, "enabled", json_object_new_boolean (k == 5));
          if (prov_proxy_api (purl, "POST", pp, b, 200, NULL, err) < 0)
            return -1;
        }
      return 0;
    }

  cleanup_free char *url = prov_proxy_url (st, err);
  if (url == NULL)
    return -1;
  if (k == 3)
    return prov_proxy_api (url, "POST", "/reset", NULL, 204, NULL, err);
  cleanup_json json_object *all = NULL;
  if (prov_proxy_api (url, "GET", "/proxies", NULL, 200, &all, err) < 0)
    return -1;
  if (k == 1)
    {
      if (json)
        print_json (all);
      else
        print_list (all);
      return 0;
    }
  size_t np = 0;
  cleanup_strv char **proxies = service_proxies (all, argv[optind], port, &np, err);
  if (proxies == NULL)
    return -1;
  if (k == 2)
    {
      /* the toxic named (or all of the service's proxies' toxics) */
      size_t removed = 0;
      for (size_t i = 0; i < np; i++)
        {
          json_object *tx = json_key (json_key (all, proxies[i]), "toxics");
          for (size_t t = 0; tx && t < json_object_array_length (tx); t++)
            {
              const char *tn = json_key_str (json_object_array_get_idx (tx, t), "name");
              if (n == 2 && strcmp (tn, argv[optind + 1]) != 0)
                continue;
              cleanup_free char *p = xasprintf ("/proxies/%s/toxics/%s", proxies[i], tn);
              if (prov_proxy_api (url, "DELETE", p, NULL, 204, NULL, err) < 0)
                return -1;
              removed++;
            }
        }
      if (n == 2 && removed == 0)
        return itm_err_set (err, ITM_EXIT_NOT_FOUND, "service '%s' has no toxic '%s'",
                            argv[optind], argv[optind + 1]);
      return 0;
    }
  /* add: on every proxy of the service, or none (the ones added are removed
   * again when one fails) */
  for (size_t i = 0; i < np; i++)
    {
      cleanup_free char *p = xasprintf ("/proxies/%s/toxics", proxies[i]);
      cleanup_json json_object *res = NULL;
      if (prov_proxy_api (url, "POST", p, body, 200, &res, err) < 0)
        {
          const char *tn = json_key_str (body, "name");
          cleanup_free char *dflt = xasprintf ("%s_%s", argv[optind + 1],
                                               stream ? "upstream" : "downstream");
          for (size_t j = 0; j < i; j++)
            {
              cleanup_free char *dp = xasprintf ("/proxies/%s/toxics/%s", proxies[j],
                                                 tn ? tn : dflt);
              cleanup_err struct itm_err e2 = { 0 };
              prov_proxy_api (url, "DELETE", dp, NULL, 204, NULL, &e2);
            }
          return -1;
        }
      if (json)
        print_json (res);
      else
        printf ("%s: %s added\n", proxies[i], json_key_str (res, "name"));
    }
  return 0;
}

static const struct itm_opt fault_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_LATENCY, 0, "latency", OPT_ARG_REQUIRED, "D", "latency: the delay (e.g. 300ms)" },
  { OPT_JITTER, 0, "jitter", OPT_ARG_REQUIRED, "D", "latency: +/- this much at random" },
  { OPT_RATE, 0, "rate", OPT_ARG_REQUIRED, "KBPS", "bandwidth: KB per second" },
  { OPT_DELAY, 0, "delay", OPT_ARG_REQUIRED, "D", "slow_close, slicer: the delay" },
  { OPT_TIMEOUT, 0, "timeout", OPT_ARG_REQUIRED, "D",
    "timeout, reset_peer: after this long (timeout 0: hold)" },
  { OPT_BYTES, 0, "bytes", OPT_ARG_REQUIRED, "N", "limit_data: close after N bytes" },
  { OPT_AVG, 0, "average-size", OPT_ARG_REQUIRED, "N", "slicer: bytes per slice" },
  { OPT_VAR, 0, "size-variation", OPT_ARG_REQUIRED, "N", "slicer: +/- bytes" },
  { OPT_CONNS, 0, "connections", OPT_ARG_REQUIRED, "N", "fail_first: how many" },
  { OPT_UPSTREAM, 0, "upstream", OPT_ARG_NONE, NULL, "" },
  { OPT_DOWNSTREAM, 0, "downstream", OPT_ARG_NONE, NULL,
    "the direction: client to service, or (the default) service to client" },
  { OPT_TOXICITY, 0, "toxicity", OPT_ARG_REQUIRED, "F", "the share of connections (0 to 1)" },
  { OPT_NAME, 0, "name", OPT_ARG_REQUIRED, "NAME", "the toxic's name (default TOXIC_STREAM)" },
  { OPT_PORT, 0, "port", OPT_ARG_REQUIRED, "PORT", "only the proxy of this port" },
  { OPT_FROM, 0, "from", OPT_ARG_REQUIRED, "SERVICE",
    "partition: only the networks shared with SERVICE" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "list, add: JSON (Toxiproxy's shapes)" },
  { 0 },
};

const struct itm_cmd cmd_fault = {
  .name = "fault",
  .args = "add SERVICE TOXIC | list | remove SERVICE [TOXIC] | reset | partition SERVICE | heal [SERVICE]",
  .summary = "faults: toxics on the fault proxy (x-itm.proxy), network partitions",
  .opts = fault_opts,
  .fn = fault_main,
};
