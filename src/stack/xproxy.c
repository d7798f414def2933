/* xproxy.c - x-itm.proxy: parsed from the service's x-itm JSON, checked
 * against the ports the service exposes. */
#include <config.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "stack/xproxy.h"
#include "util/xalloc.h"

#define MAX_PORTS 64

/* The ports the service exposes over TCP: ports' targets and expose. */
static size_t
exposed (const struct stack_service *svc, unsigned *out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < svc->nports; i++)
    if (svc->ports[i].protocol == NULL || strcmp (svc->ports[i].protocol, "tcp") == 0)
      for (unsigned p = svc->ports[i].target_start; p && p <= svc->ports[i].target_end && n < max; p++)
        out[n++] = p;
  for (size_t i = 0; i < svc->expose.n; i++)
    {
      char *end;
      unsigned long a = strtoul (svc->expose.v[i], &end, 10), b = a;
      if (*end == '-')
        b = strtoul (end + 1, &end, 10);
      if (*end == '/' && strcmp (end, "/tcp") != 0)
        continue;
      for (unsigned long p = a; p && p <= b && p <= 65535 && n < max; p++)
        out[n++] = (unsigned) p;
    }
  return n;
}

static int
cmp_u (const void *a, const void *b)
{
  unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
  return x < y ? -1 : x > y;
}

static size_t
uniq (unsigned *v, size_t n)
{
  qsort (v, n, sizeof *v, cmp_u);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || v[u - 1] != v[i])
      v[u++] = v[i];
  return u;
}

static bool
has (const unsigned *v, size_t n, unsigned p)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == p)
      return true;
  return false;
}

/* A port of the ports: list: an integer (or a string of one) 1..65535. */
static unsigned
port_of (json_object *v)
{
  if (json_object_is_type (v, json_type_int))
    {
      int64_t x = json_object_get_int64 (v);
      return x >= 1 && x <= 65535 ? (unsigned) x : 0;
    }
  if (json_object_is_type (v, json_type_string))
    {
      char *end;
      unsigned long x = strtoul (json_object_get_string (v), &end, 10);
      return *end == '\0' && x >= 1 && x <= 65535 ? (unsigned) x : 0;
    }
  return 0;
}

/* -1 with *msg (new) when x-itm.proxy is malformed; else the ports. */
static int
parse (const struct stack_service *svc, unsigned *ports, size_t max, size_t *n, char **msg)
{
  json_object *px = NULL;
  *n = 0;
  if (svc->x_itm == NULL || !json_object_is_type (svc->x_itm, json_type_object)
      || !json_object_object_get_ex (svc->x_itm, "proxy", &px) || px == NULL)
    return 0;
  unsigned ex[MAX_PORTS];
  size_t nex = uniq (ex, exposed (svc, ex, MAX_PORTS));
  if (json_object_is_type (px, json_type_boolean))
    {
      if (!json_object_get_boolean (px))
        return 0;
      if (nex == 0)
        {
          *msg = xasprintf ("x-itm.proxy: service '%s' exposes no TCP port to proxy (give it "
                            "ports: or expose:)", svc->name);
          return -1;
        }
      for (size_t i = 0; i < nex && *n < max; i++)
        ports[(*n)++] = ex[i];
      return 0;
    }
  if (!json_object_is_type (px, json_type_object))
    {
      *msg = xstrdup ("x-itm.proxy: expected true, false or a map with 'ports'");
      return -1;
    }
  json_object_object_foreach (px, key, val)
    {
      (void) val;
      if (strcmp (key, "ports") != 0)
        {
          *msg = xasprintf ("x-itm.proxy: unknown key '%s' (the key is 'ports')", key);
          return -1;
        }
    }
  json_object *list = NULL;
  json_object_object_get_ex (px, "ports", &list);
  if (!json_object_is_type (list, json_type_array) || json_object_array_length (list) == 0)
    {
      *msg = xstrdup ("x-itm.proxy.ports: expected a list of ports, e.g. [5432]");
      return -1;
    }
  for (size_t i = 0; i < json_object_array_length (list) && *n < max; i++)
    {
      json_object *v = json_object_array_get_idx (list, i);
      unsigned p = port_of (v);
      if (p == 0)
        {
          *msg = xasprintf ("x-itm.proxy.ports[%zu]: expected a port number (1 to 65535), got "
                            "'%s'", i, v ? json_object_get_string (v) : "null");
          return -1;
        }
      if (!has (ex, nex, p))
        {
          struct buf b = { 0 };
          for (size_t k = 0; k < nex; k++)
            buf_addf (&b, "%s%u", k ? ", " : "", ex[k]);
          *msg = xasprintf ("x-itm.proxy.ports: service '%s' does not expose port %u (%s%s)",
                            svc->name, p, nex ? "its ports: " : "it exposes no TCP port",
                            b.data ? b.data : "");
          buf_free (&b);
          return -1;
        }
      ports[(*n)++] = p;
    }
  *n = uniq (ports, *n);
  return 0;
}

/* A duration: a string in Compose's syntax ("5s", "1m30s") or a number
 * of seconds. */
static int
duration (json_object *v, int64_t *ns)
{
  const char *why;
  if (json_object_is_type (v, json_type_int) || json_object_is_type (v, json_type_double))
    {
      double d = json_object_get_double (v);
      if (!(d >= 0 && d < 1e9))
        return -1;
      *ns = (int64_t) (d * 1e9);
      return 0;
    }
  if (json_object_is_type (v, json_type_string))
    return stack_parse_duration (json_object_get_string (v), ns, &why);
  return -1;
}

/* x-itm.faults: -1 with *msg, else the faults (out may be NULL: checked
 * only). */
static int
parse_faults (const struct stack_service *svc, const unsigned *ports, size_t nports,
              struct stack_fault **out, size_t *nout, char **msg)
{
  json_object *list = NULL;
  *nout = 0;
  if (svc->x_itm == NULL || !json_object_is_type (svc->x_itm, json_type_object)
      || !json_object_object_get_ex (svc->x_itm, "faults", &list) || list == NULL)
    return 0;
  if (nports == 0)
    {
      *msg = xstrdup ("x-itm.faults: the service is not behind the fault proxy (give it "
                      "x-itm.proxy)");
      return -1;
    }
  if (!json_object_is_type (list, json_type_array))
    {
      *msg = xstrdup ("x-itm.faults: expected a list of {at, for, toxic, attributes, ...}");
      return -1;
    }
  static const char *const keys[] = { "at", "for", "toxic", "attributes", "stream", "toxicity",
                                      "name", "port", NULL };
  size_t n = json_object_array_length (list);
  struct stack_fault *f = out ? xcalloc (n + 1, sizeof *f) : NULL;
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx (list, i), *v;
      if (!json_object_is_type (e, json_type_object))
        {
          *msg = xasprintf ("x-itm.faults[%zu]: expected a map", i);
          goto bad;
        }
      json_object_object_foreach (e, key, val)
        {
          (void) val;
          size_t k;
          for (k = 0; keys[k] && strcmp (keys[k], key) != 0; k++)
            ;
          if (keys[k] == NULL)
            {
              *msg = xasprintf ("x-itm.faults[%zu]: unknown key '%s' (at, for, toxic, "
                                "attributes, stream, toxicity, name, port)", i, key);
              goto bad;
            }
        }
      int64_t at = 0, dur = 0;
      if (!json_object_object_get_ex (e, "at", &v) || duration (v, &at) < 0)
        {
          *msg = xasprintf ("x-itm.faults[%zu].at: expected a duration after readiness "
                            "(e.g. 5s)", i);
          goto bad;
        }
      if (json_object_object_get_ex (e, "for", &v) && (duration (v, &dur) < 0 || dur == 0))
        {
          *msg = xasprintf ("x-itm.faults[%zu].for: expected a duration (e.g. 10s)", i);
          goto bad;
        }
      unsigned port = 0;
      if (json_object_object_get_ex (e, "port", &v))
        {
          port = port_of (v);
          if (!has (ports, nports, port))
            {
              *msg = xasprintf ("x-itm.faults[%zu].port: %s is not a proxied port of '%s'", i,
                                json_object_get_string (v), svc->name);
              goto bad;
            }
        }
      /* the body the proxy gets, checked by its own rules */
      json_object *body = json_object_new_object ();
      json_object_object_foreach (e, k2, v2)
        if (strcmp (k2, "at") && strcmp (k2, "for") && strcmp (k2, "port"))
          json_object_object_add (body, strcmp (k2, "toxic") == 0 ? "type" : k2,
                                  json_object_get (v2));
      struct px_toxic t;
      char *pmsg = NULL;
      if (px_toxic_parse (body, &t, &pmsg) != 0)
        {
          *msg = xasprintf ("x-itm.faults[%zu]: %s", i, pmsg);
          free (pmsg);
          json_object_put (body);
          goto bad;
        }
      json_object_object_add (body, "name", json_object_new_string (t.name));
      px_toxic_clear (&t);
      if (f)
        f[(*nout)++] = (struct stack_fault) { at, dur, port, body };
      else
        json_object_put (body);
    }
  if (out)
    *out = f;
  return 0;
bad:
  if (f)
    stack_xproxy_faults_free (f, *nout);
  *nout = 0;
  return -1;
}

void
stack_xproxy_faults_free (struct stack_fault *f, size_t n)
{
  for (size_t i = 0; f && i < n; i++)
    json_object_put (f[i].toxic);
  free (f);
}

struct stack_fault *
stack_xproxy_faults (const struct stack_service *svc, size_t *n)
{
  unsigned ports[MAX_PORTS];
  size_t np;
  cleanup_free char *msg = NULL;
  struct stack_fault *f = NULL;
  *n = 0;
  if (parse (svc, ports, MAX_PORTS, &np, &msg) < 0
      || parse_faults (svc, ports, np, &f, n, &msg) < 0)
    return NULL;
  return f;
}

void
stack_xproxy_check (struct diags *d, const struct node *svc_node, const struct stack_service *svc)
{
  unsigned ports[MAX_PORTS];
  size_t n, nf;
  cleanup_free char *msg = NULL;
  const char *key = "proxy";
  int rc = parse (svc, ports, MAX_PORTS, &n, &msg);
  if (rc == 0)
    {
      key = "faults";
      rc = parse_faults (svc, ports, n, NULL, &nf, &msg);
    }
  if (rc < 0)
    {
      const struct node *at = svc_node ? node_map_get (svc_node, "x-itm") : NULL;
      const struct node *p = at ? node_map_get (at, key) : NULL;
      diag_add (d, DIAG_ERROR, p ? p : at ? at : svc_node, "%s", msg);
    }
}

size_t
stack_xproxy_ports (const struct stack_service *svc, unsigned *ports, size_t max)
{
  size_t n;
  cleanup_free char *msg = NULL;
  return parse (svc, ports, max, &n, &msg) < 0 ? 0 : n;
}
