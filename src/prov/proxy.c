/* proxy.c - x-itm.proxy: one fault proxy container per namespace, from
 * itm-env's own image with `itm-env proxy` as its command, on the networks
 * of the proxied services.  It takes their names there (the services' own
 * containers answer to <service>.itm-real, spec.c) and publishes the
 * proxied ports and its API (8474) on 127.0.0.1; its ITM_PROXY_MAP
 * ("db:5432,cache:6379") tells conn which host ports are the proxy's. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "ns/ns.h"
#include "out/out.h"
#include "engine/engine.h"
#include "prov/prov.h"
#include "stack/xproxy.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define MAXP 64

struct pxport {
  const struct stack_service *svc;
  unsigned port;
};

/* Every proxied (service, port); two services proxied on one port are a
 * stack error (the proxy listens on the service's own port numbers). */
static size_t
proxied (const struct stack *st, struct pxport **out, struct itm_err *err)
{
  size_t n = 0, cap = 0;
  *out = NULL;
  for (size_t i = 0; i < st->nservices; i++)
    {
      unsigned ports[MAXP];
      size_t np = stack_xproxy_ports (&st->services[i], ports, MAXP);
      for (size_t k = 0; k < np; k++)
        {
          for (size_t j = 0; j < n; j++)
            if ((*out)[j].port == ports[k])
              {
                itm_err_set (err, ITM_EXIT_STACK, "x-itm.proxy: services '%s' and '%s' are both "
                             "proxied on port %u (one proxy listens on each port once)",
                             (*out)[j].svc->name, st->services[i].name, ports[k]);
                free (*out);
                *out = NULL;
                return (size_t) -1;
              }
          *out = xgrow (*out, &cap, n + 1, sizeof **out);
          (*out)[n++] = (struct pxport) { &st->services[i], ports[k] };
        }
    }
  return n;
}

static bool
is_proxied (const struct pxport *px, size_t n, const struct stack_service *svc)
{
  for (size_t i = 0; i < n; i++)
    if (px[i].svc == svc)
      return true;
  return false;
}

static size_t
nports_of (const struct pxport *px, size_t n, const struct stack_service *svc)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += px[i].svc == svc;
  return k;
}

/* The proxy container's endpoint on network net: the names of the proxied
 * services attached to it. */
static json_object *
endpoint (const struct stack *st, const struct pxport *px, size_t n, const char *ns,
          const char *net)
{
  json_object *ep = json_object_new_object (), *al = json_object_new_array ();
  for (size_t i = 0; i < st->nservices; i++)
    {
      const struct stack_service *svc = &st->services[i];
      if (!is_proxied (px, n, svc))
        continue;
      size_t nn = 0;
      cleanup_strv char **nets = prov_service_networks (st, svc, ns, &nn);
      for (size_t k = 0; k < nn; k++)
        if (strcmp (nets[k], net) == 0)
          json_object_array_add (al, json_object_new_string (svc->name));
    }
  json_object_object_add (ep, "Aliases", al);
  return ep;
}

static void
remove_old (struct engine *e, const char *cname)
{
  cleanup_free char *enc = engine_urlencode (cname);
  cleanup_free char *p = xasprintf ("/containers/%s?force=1&v=1", enc);
  cleanup_err struct itm_err err = { 0 };
  engine_delete (e, p, &err);
}

void
prov_proxy_ready (struct engine *e, const char *ns)
{
  cleanup_free char *cname = ns_container_name (ns, PROV_PROXY_SERVICE, 1);
  cleanup_free char *enc = engine_urlencode (cname);
  cleanup_free char *p = xasprintf ("/containers/%s/kill?signal=SIGUSR1", enc);
  cleanup_err struct itm_err err = { 0 };
  engine_post (e, p, NULL, NULL, &err);   /* no proxy: nothing to start */
}

void
prov_proxy_remove (struct engine *e, const char *ns)
{
  cleanup_free char *cname = ns_container_name (ns, PROV_PROXY_SERVICE, 1);
  remove_old (e, cname);
}

int
prov_proxy_up (struct engine *e, const struct stack *st, const char *ns, long ttl,
               struct itm_err *err)
{
  struct pxport *px = NULL;
  size_t n = proxied (st, &px, err);
  if (n == (size_t) -1)
    return -1;
  cleanup_free char *cname = ns_container_name (ns, PROV_PROXY_SERVICE, 1);
  if (n == 0)
    {
      /* a stack that no longer proxies anything: no proxy left behind */
      remove_old (e, cname);
      return 0;
    }
  cleanup_free char *ref = NULL;
  if (image_self (e, &ref, err) < 0)
    {
      free (px);
      return itm_err_prefix (err, "the fault proxy's image");
    }

  /* the networks: every proxied service's, in a stable order */
  char **nets = NULL;
  size_t nnets = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && px[i].svc == px[i - 1].svc)
        continue;
      size_t nn = 0;
      cleanup_strv char **sn = prov_service_networks (st, px[i].svc, ns, &nn);
      for (size_t k = 0; k < nn; k++)
        if (!strv_contains (nets, sn[k]))
          strv_push (&nets, &nnets, sn[k]);
    }

  cleanup_json json_object *spec = json_object_new_object ();
  json_object *cmd = json_object_new_array (), *exposed = json_object_new_object ();
  json_object *bindings = json_object_new_object (), *labels = ns_labels (ns, ttl);
  struct buf map = { 0 };
  json_object_array_add (cmd, json_object_new_string ("proxy"));
  json_object_array_add (cmd, json_object_new_string ("--listen"));
  json_object_array_add (cmd, json_object_new_string ("0.0.0.0:" PROV_PROXY_API_PORT));
  for (size_t i = 0; i < n; i++)
    {
      char *arg = nports_of (px, n, px[i].svc) > 1
        ? xasprintf ("%s-%u=0.0.0.0:%u=%s" STACK_PROXY_REAL_SUFFIX ":%u", px[i].svc->name,
                     px[i].port, px[i].port, px[i].svc->name, px[i].port)
        : xasprintf ("%s=0.0.0.0:%u=%s" STACK_PROXY_REAL_SUFFIX ":%u", px[i].svc->name,
                     px[i].port, px[i].svc->name, px[i].port);
      json_object_array_add (cmd, json_object_new_string ("--proxy"));
      json_object_array_add (cmd, json_object_new_string (arg));
      free (arg);
      buf_addf (&map, "%s%s:%u", map.len ? "," : "", px[i].svc->name, px[i].port);
    }
  /* x-itm.faults: scheduled in the proxy, counted from prov_proxy_ready() */
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && px[i].svc == px[i - 1].svc)
        continue;
      size_t nf = 0;
      struct stack_fault *f = stack_xproxy_faults (px[i].svc, &nf);
      for (size_t k = 0; k < nf; k++)
        for (size_t j = i; j < n && px[j].svc == px[i].svc; j++)
          {
            if (f[k].port && f[k].port != px[j].port)
              continue;
            json_object *o = json_object_new_object ();
            char *pname = nports_of (px, n, px[j].svc) > 1
              ? xasprintf ("%s-%u", px[j].svc->name, px[j].port) : xstrdup (px[j].svc->name);
            json_object_object_add (o, "proxy", json_object_new_string (pname));
            json_object_object_add (o, "at_ms", json_object_new_int64 (f[k].at_ns / 1000000));
            json_object_object_add (o, "for_ms", json_object_new_int64 (f[k].for_ns / 1000000));
            json_object_object_add (o, "toxic", json_object_get (f[k].toxic));
            json_object_array_add (cmd, json_object_new_string ("--fault"));
            json_object_array_add (cmd, json_object_new_string (
              json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN)));
            json_object_put (o);
            free (pname);
          }
      stack_xproxy_faults_free (f, nf);
    }
  for (size_t i = 0; i <= n; i++)
    {
      char key[32];
      if (i == n)
        snprintf (key, sizeof key, "%s/tcp", PROV_PROXY_API_PORT);
      else
        snprintf (key, sizeof key, "%u/tcp", px[i].port);
      json_object_object_add (exposed, key, json_object_new_object ());
      json_object *b = json_object_new_object (), *arr = json_object_new_array ();
      json_object_object_add (b, "HostIp", json_object_new_string ("127.0.0.1"));
      json_object_object_add (b, "HostPort", json_object_new_string (""));
      json_object_array_add (arr, b);
      json_object_object_add (bindings, key, arr);
    }
  json_object_object_add (labels, PROV_PROXY_LABEL, json_object_new_string (map.data));
  json_object_object_add (spec, "Image", json_object_new_string (ref));
  json_object_object_add (spec, "Cmd", cmd);
  json_object *env = json_object_new_array ();
  char *e1 = xasprintf ("ITM_PROXY_MAP=%s", map.data);
  json_object_array_add (env, json_object_new_string (e1));
  free (e1);
  json_object_object_add (spec, "Env", env);
  json_object_object_add (spec, "Labels", labels);
  json_object_object_add (spec, "ExposedPorts", exposed);
  json_object *hc = json_object_new_object ();
  json_object_object_add (hc, "PortBindings", bindings);
  json_object_object_add (spec, "HostConfig", hc);
  json_object *nc = json_object_new_object (), *eps = json_object_new_object ();
  json_object_object_add (eps, nets[0], endpoint (st, px, n, ns, nets[0]));
  json_object_object_add (nc, "EndpointsConfig", eps);
  json_object_object_add (spec, "NetworkingConfig", nc);
  buf_free (&map);

  int ret = -1;
  remove_old (e, cname);
  cleanup_free char *enc = engine_urlencode (cname);
  cleanup_free char *path = xasprintf ("/containers/create?name=%s", enc);
  cleanup_json json_object *res = NULL;
  if (engine_post (e, path, spec, &res, err) < 0)
    {
      itm_err_prefix (err, "creating the fault proxy %s", cname);
      goto out;
    }
  for (size_t i = 1; i < nnets; i++)
    {
      cleanup_json json_object *b = json_object_new_object ();
      json_object_object_add (b, "Container", json_object_new_string (cname));
      json_object_object_add (b, "EndpointConfig", endpoint (st, px, n, ns, nets[i]));
      cleanup_free char *np = xasprintf ("/networks/%s/connect", nets[i]);
      if (engine_post (e, np, b, NULL, err) < 0)
        {
          itm_err_prefix (err, "connecting the fault proxy to network %s", nets[i]);
          goto out;
        }
    }
  cleanup_free char *sp = xasprintf ("/containers/%s/start", enc);
  if (engine_post (e, sp, NULL, NULL, err) < 0)
    {
      itm_err_prefix (err, "starting the fault proxy %s", cname);
      goto out;
    }
  out_event (PROV_PROXY_SERVICE, "started", -1, NULL);
  ret = 0;
out:
  if (ret < 0)
    remove_old (e, cname);
  strv_free (nets);
  free (px);
  return ret;
}
