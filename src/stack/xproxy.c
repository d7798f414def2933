/* xproxy.c - x-itm.proxy: parsed from the service's x-itm JSON, checked
 * against the ports the service exposes. */
#include <config.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

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

void
stack_xproxy_check (struct diags *d, const struct node *svc_node, const struct stack_service *svc)
{
  unsigned ports[MAX_PORTS];
  size_t n;
  cleanup_free char *msg = NULL;
  if (parse (svc, ports, MAX_PORTS, &n, &msg) < 0)
    {
      const struct node *at = svc_node ? node_map_get (svc_node, "x-itm") : NULL;
      const struct node *p = at ? node_map_get (at, "proxy") : NULL;
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
