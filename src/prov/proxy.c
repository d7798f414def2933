/* proxy.c - x-itm.proxy: one fault proxy container per namespace, from
 * itm-env's own image with `itm-env proxy` as its command, on the networks
 * of the proxied services.  It takes their names there (the services' own
 * containers answer to <service>.itm-real, spec.c) and publishes the
 * proxied ports and its API (8474) on 127.0.0.1; its ITM_PROXY_MAP
 * ("db:5432,cache:6379") tells conn which host ports are the proxy's. */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn/conn.h"
#include "image/image.h"
#include "ns/ns.h"
#include "out/out.h"
#include "engine/engine.h"
#include "prov/prov.h"
#include "report/report.h"
#include "state/state.h"
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

static int
collect (int stream, const char *data, size_t len, void *ctx)
{
  (void) stream;
  buf_add (ctx, data, len);
  return 0;
}

int
prov_proxy_ready (struct engine *e, const char *ns, struct itm_err *err)
{
  cleanup_free char *cname = ns_container_name (ns, PROV_PROXY_SERVICE, 1);
  cleanup_free char *enc = engine_urlencode (cname);
  cleanup_free char *p = xasprintf ("/containers/%s/kill?signal=SIGUSR1", enc);
  cleanup_err struct itm_err kerr = { 0 };
  if (engine_post (e, p, NULL, NULL, &kerr) == 0 || kerr.http_status != 409)
    return 0;   /* started (or no proxy: nothing to start) */
  /* 409: the proxy is not running: it died after its start (a binary
   * that cannot run in its image, a port it could not listen on) */
  cleanup_free char *ip = xasprintf ("/containers/%s/json", enc);
  cleanup_json json_object *info = NULL;
  cleanup_err struct itm_err ierr = { 0 };
  int64_t code = -1;
  if (engine_get (e, ip, &info, &ierr) == 0)
    code = json_int (info, "State.ExitCode", -1);
  cleanup_free char *lp = xasprintf ("/containers/%s/logs?stdout=1&stderr=1&tail=3", enc);
  cleanup_buf struct buf b = { 0 };
  struct engine_call c = { .method = "GET", .path = lp, .on_frame = collect, .ctx = &b,
                           .timeout_ms = 10000 };
  cleanup_err struct itm_err lerr = { 0 };
  engine_call (e, &c, NULL, &lerr);
  while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
    b.data[--b.len] = '\0';
  const char *last = b.len ? strrchr (b.data, '\n') : NULL;
  last = last ? last + 1 : (b.len ? b.data : NULL);
  return itm_err_set (err, ITM_EXIT_FAILURE, "the fault proxy %s exited (code %lld)%s%s", cname,
                      (long long) code, last ? ": " : "", last ? last : "");
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

/* ---- the proxy's API: a small HTTP/1.1 client (fault, ps, the report) ---- */
/* METHOD url+path with body (may be NULL): the status (or -1 with err set,
 * ITM_EXIT_CONNECT) and *resp the body (new). */
static int
api_call (const char *url, const char *method, const char *path, const char *body, char **resp,
          struct itm_err *err)
{
  const char *hp = strncmp (url, "http://", 7) == 0 ? url + 7 : url;
  cleanup_free char *host = NULL;
  const char *port;
  if (hp[0] == '[')
    {
      const char *e = strchr (hp, ']');
      host = xstrndup (hp + 1, e ? (size_t) (e - hp - 1) : 0);
      port = e && e[1] == ':' ? e + 2 : "80";
    }
  else
    {
      const char *c = strrchr (hp, ':');
      host = c ? xstrndup (hp, (size_t) (c - hp)) : xstrdup (hp);
      port = c ? c + 1 : "80";
    }
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
  if (getaddrinfo (host, port, &hints, &res) != 0)
    return itm_err_set (err, ITM_EXIT_CONNECT, "the fault proxy at %s: cannot resolve %s", url,
                        host);
  int fd = socket (res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { 30, 0 };
  if (fd >= 0)
    {
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
  if (fd < 0 || connect (fd, res->ai_addr, res->ai_addrlen) < 0)
    {
      int e = errno;
      freeaddrinfo (res);
      if (fd >= 0)
        close (fd);
      errno = e;
      return itm_err_errno (err, ITM_EXIT_CONNECT, "the fault proxy at %s", url);
    }
  freeaddrinfo (res);
  struct buf req = { 0 }, in = { 0 };
  buf_addf (&req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: itm-env/" PACKAGE_VERSION
            "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %zu"
            "\r\n\r\n%s", method, path, hp, body ? strlen (body) : 0, body ? body : "");
  size_t off = 0;
  while (off < req.len)
    {
      ssize_t n = send (fd, req.data + off, req.len - off, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      off += (size_t) n;
    }
  for (;;)
    {
      char b[8192];
      ssize_t n = recv (fd, b, sizeof b, 0);
      if (n <= 0)
        break;
      buf_add (&in, b, (size_t) n);
    }
  close (fd);
  buf_free (&req);
  int status = 0;
  char *hdr_end = in.data ? strstr (in.data, "\r\n\r\n") : NULL;
  if (in.data == NULL || sscanf (in.data, "HTTP/1.%*c %d", &status) != 1 || hdr_end == NULL)
    {
      buf_free (&in);
      return itm_err_set (err, ITM_EXIT_CONNECT, "the fault proxy at %s: no HTTP answer to "
                          "%s %s", url, method, path);
    }
  *resp = xstrdup (hdr_end + 4);
  buf_free (&in);
  return status;
}

/* A call whose answer must be `want`: the JSON answer (NULL for none) in
 * *out, or -1 with err set to the proxy's own words. */
int
prov_proxy_api (const char *url, const char *method, const char *path, json_object *body, int want,
     json_object **out, struct itm_err *err)
{
  cleanup_free char *resp = NULL;
  int st = api_call (url, method, path,
                     body ? json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN) : NULL,
                     &resp, err);
  if (st < 0)
    return -1;
  cleanup_json json_object *o = resp && *resp ? json_tokener_parse (resp) : NULL;
  if (st != want)
    return itm_err_set (err, st == 404 ? ITM_EXIT_NOT_FOUND : ITM_EXIT_FAILURE,
                        "the fault proxy answered %d to %s %s: %s", st, method, path,
                        json_key_str (o, "error") ? json_key_str (o, "error") : resp);
  if (out)
    *out = steal_pointer (&o);
  return 0;
}

/* The namespace's proxy API URL (TOXIPROXY_URL of env), or NULL with a
 * NOT_FOUND error. */
char *
prov_proxy_url (const struct state *st, struct itm_err *err)
{
  cleanup_conn_vars struct conn_vars vs = { 0 };
  if (conn_namespace_vars (st, NULL, NULL, 0, &vs, err) < 0)
    return NULL;
  const char *u = conn_vars_get (&vs, "TOXIPROXY_URL", 13);
  if (u == NULL)
    {
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "namespace '%s' has no fault proxy", st->ns);
      itm_err_hint (err, "give a service 'x-itm: {proxy: true}' in the stack and run up");
      return NULL;
    }
  return xstrdup (u);
}

/* The upstream's service: "db.itm-real:5432" -> "db" (new), or NULL. */
static char *
upstream_service (json_object *p)
{
  const char *up = json_key_str (p, "upstream");
  const char *sfx = up ? strstr (up, ".itm-real:") : NULL;
  return sfx ? xstrndup (up, (size_t) (sfx - up)) : NULL;
}

json_object *
prov_proxy_faults (const struct state *st)
{
  cleanup_err struct itm_err e = { 0 };
  cleanup_free char *url = NULL;
  cleanup_json json_object *all = NULL;
  if ((url = prov_proxy_url (st, &e)) == NULL
      || prov_proxy_api (url, "GET", "/proxies", NULL, 200, &all, &e) < 0
      || !json_object_is_type (all, json_type_object))
    return NULL;
  json_object *res = json_object_new_object ();
  json_object_object_foreach (all, name, p)
    {
      cleanup_free char *svc = upstream_service (p);
      if (svc == NULL)
        continue;
      json_object *a = json_key (res, svc);
      if (a == NULL)
        {
          a = json_object_new_array ();
          json_object_object_add (res, svc, a);
        }
      if (!json_object_get_boolean (json_key (p, "enabled")))
        {
          json_object *d = json_object_new_object ();
          json_object_object_add (d, "proxy", json_object_new_string (name));
          json_object_object_add (d, "type", json_object_new_string ("disabled"));
          json_object_array_add (a, d);
        }
      json_object *tx = json_key (p, "toxics");
      if (!json_object_is_type (tx, json_type_array))
        continue;
      for (size_t i = 0; i < json_object_array_length (tx); i++)
        {
          json_object *x = json_object_array_get_idx (tx, i);
          if (!json_object_is_type (x, json_type_object))
            continue;
          json_object_get (x);
          json_object_object_add (x, "proxy", json_object_new_string (name));
          json_object_array_add (a, x);
        }
    }
  return res;
}

char *
prov_proxy_fault_text (json_object *f)
{
  struct buf t = { 0 };
  const char *proxy = json_key_str (f, "proxy"), *name = json_key_str (f, "name");
  const char *type = json_key_str (f, "type"), *stream = json_key_str (f, "stream");
  if (type && strcmp (type, "disabled") == 0)
    {
      buf_addf (&t, "%s: disabled", proxy ? proxy : "?");
      return buf_steal (&t);
    }
  buf_addf (&t, "%s: %s(%s %s", proxy ? proxy : "?", name ? name : "?", type ? type : "?",
            stream ? stream : "downstream");
  json_object *attrs = json_key (f, "attributes");
  if (json_object_is_type (attrs, json_type_object))
    {
      json_object_object_foreach (attrs, k, v)
        buf_addf (&t, " %s=%s", k, json_object_get_string (v));
    }
  json_object *tj = json_key (f, "toxicity");
  double tox = tj ? json_object_get_double (tj) : 1;
  if (tox < 1)
    buf_addf (&t, " toxicity=%g", tox);
  buf_adds (&t, ")");
  return buf_steal (&t);
}

void
prov_proxy_report (struct engine *e, const struct stack *stk, const char *ns, struct report *r)
{
  if (r == NULL)
    return;
  bool any = false;
  for (size_t i = 0; stk && i < stk->nservices; i++)
    {
      const struct stack_service *svc = &stk->services[i];
      unsigned ports[MAXP];
      if (stack_xproxy_ports (svc, ports, MAXP) == 0)
        continue;
      any = true;
      size_t nf = 0;
      struct stack_fault *f = stack_xproxy_faults (svc, &nf);
      for (size_t k = 0; k < nf; k++)
        {
          json_object *x = json_object_get (f[k].toxic);
          json_object_object_add (x, "proxy", json_object_new_string (svc->name));
          cleanup_free char *t = prov_proxy_fault_text (x);
          json_object_put (x);
          struct buf b = { 0 };
          buf_addf (&b, "%s at %gs", t, (double) f[k].at_ns / 1e9);
          if (f[k].for_ns)
            buf_addf (&b, " for %gs", (double) f[k].for_ns / 1e9);
          if (f[k].port)
            buf_addf (&b, " port %u", f[k].port);
          report_fault (r, svc->name, "scheduled", b.data);
          buf_free (&b);
        }
      stack_xproxy_faults_free (f, nf);
    }
  if (!any)
    return;
  cleanup_err struct itm_err err = { 0 };
  cleanup_state struct state *st = NULL;
  if (state_load (e, ns, &st, &err) < 0)
    return;
  cleanup_json json_object *faults = prov_proxy_faults (st);
  if (faults == NULL)
    return;
  json_object_object_foreach (faults, svc, a)
    for (size_t i = 0; i < json_object_array_length (a); i++)
      {
        cleanup_free char *t = prov_proxy_fault_text (json_object_array_get_idx (a, i));
        report_fault (r, svc, "active", t);
      }
}
