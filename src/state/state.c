/* state.c - a namespace's containers, networks and volumes, read from the
 * engine by label (io.itm-env.namespace=<ns>); containers are inspected in
 * parallel for what the list does not carry (health, exit code, start time,
 * TTY, environment). */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "state/state.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

static char *
dupnull (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

/* "2026-11-23T22:00:00.123456789Z" (or with an offset) -> unix ns; 0 for
 * the engine's zero time or anything malformed. */
long long
state_parse_time (const char *s)
{
  struct tm tm = { 0 };
  long long frac = 0;
  int digits = 0;
  const char *p;

  if (s == NULL || strncmp (s, "0001-", 5) == 0)
    return 0;
  p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == NULL)
    return 0;
  if (*p == '.')
    for (p++; isdigit ((unsigned char) *p); p++)
      if (digits < 9)
        {
          frac = frac * 10 + (*p - '0');
          digits++;
        }
  while (digits < 9)
    {
      frac *= 10;
      digits++;
    }
  time_t t = timegm (&tm);
  if (*p == '+' || *p == '-')
    {
      int hh = 0, mm = 0;
      if (sscanf (p + 1, "%2d:%2d", &hh, &mm) == 2)
        t -= (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    }
  return (long long) t * 1000000000LL + frac;
}

static void
container_free (struct state_container *c)
{
  free (c->id);
  free (c->name);
  free (c->service);
  free (c->image);
  free (c->config_hash);
  free (c->state);
  free (c->health);
  for (size_t i = 0; i < c->nports; i++)
    {
      free (c->ports[i].host_ip);
      free (c->ports[i].protocol);
    }
  free (c->ports);
  strv_free (c->networks);
  strv_free (c->env);
  free (c->project_dir);
  free (c->stack_files);
  state_ready_free (c->ready);
  memset (c, 0, sizeof *c);
}

static int
cmp_port (const void *a, const void *b)
{
  const struct state_port *x = a, *y = b;
  if (x->container_port != y->container_port)
    return x->container_port < y->container_port ? -1 : 1;
  int r = strcmp (x->protocol, y->protocol);
  if (r)
    return r;
  r = strcmp (x->host_ip ? x->host_ip : "", y->host_ip ? y->host_ip : "");
  if (r)
    return r;
  return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* NetworkSettings.Ports: {"5432/tcp": [{"HostIp": "...", "HostPort": "..."}] | null} */
static void
parse_ports (struct state_container *c, json_object *ports)
{
  size_t cap = 0;
  if (ports == NULL || !json_object_is_type (ports, json_type_object))
    return;
  json_object_object_foreach (ports, key, val)
    {
      unsigned cport = 0;
      char proto[16] = "tcp";
      if (sscanf (key, "%u/%15s", &cport, proto) < 1)
        continue;
      size_t nb = val && json_object_is_type (val, json_type_array)
                    ? json_object_array_length (val) : 0;
      for (size_t i = 0; i < (nb ? nb : 1); i++)
        {
          json_object *b = nb ? json_object_array_get_idx (val, i) : NULL;
          const char *hip = json_str (b, "HostIp"), *hport = json_str (b, "HostPort");
          c->ports = xgrow (c->ports, &cap, c->nports + 1, sizeof *c->ports);
          struct state_port *p = &c->ports[c->nports++];
          p->container_port = cport;
          p->protocol = xstrdup (proto);
          p->host_ip = hip && *hip ? xstrdup (hip) : NULL;
          p->host_port = hport ? (unsigned) strtoul (hport, NULL, 10) : 0;
        }
    }
  if (c->nports > 1)
    qsort (c->ports, c->nports, sizeof *c->ports, cmp_port);
}

static void
fill_from_inspect (struct state_container *c, json_object *in)
{
  json_object *st = json_key (in, "State"), *cfg = json_key (in, "Config");
  json_object *ns = json_key (in, "NetworkSettings");

  if (json_str (st, "Status"))
    {
      free (c->state);
      c->state = xstrdup (json_str (st, "Status"));
    }
  json_object *h = json_key (st, "Health");
  free (c->health);
  c->health = dupnull (json_str (h, "Status"));
  if (c->health && strcmp (c->health, "none") == 0)
    {
      free (c->health);
      c->health = NULL;
    }
  json_object *ec = json_key (st, "ExitCode");
  c->exit_code = ec ? json_object_get_int (ec) : 0;
  c->started_at = state_parse_time (json_str (st, "StartedAt"));
  json_object *tty = json_key (cfg, "Tty");
  c->tty = tty && json_object_get_boolean (tty);
  json_object *env = json_key (cfg, "Env");
  if (env && json_object_is_type (env, json_type_array))
    {
      size_t n = json_object_array_length (env);
      c->env = xcalloc (n + 1, sizeof *c->env);
      for (size_t i = 0; i < n; i++)
        {
          const char *s = json_object_get_string (json_object_array_get_idx (env, i));
          if (s)
            c->env[c->nenv++] = xstrdup (s);
        }
    }
  parse_ports (c, json_key (ns, "Ports"));
  json_object *nets = json_key (ns, "Networks");
  if (nets && json_object_is_type (nets, json_type_object))
    {
      c->networks = xcalloc (json_object_object_length (nets) + 1, sizeof *c->networks);
      json_object_object_foreach (nets, name, v)
        {
          (void) v;
          c->networks[c->nnetworks++] = xstrdup (name);
        }
      if (c->nnetworks > 1)
        qsort (c->networks, c->nnetworks, sizeof *c->networks, cmp_str);
    }
}

struct inspect_job {
  struct state_container *c;
  bool gone;               /* removed between the list and the inspect */
};

static int
inspect_one (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  struct inspect_job *jobs = ctx;
  struct state_container *c = jobs[i].c;
  cleanup_free char *path = xasprintf ("/containers/%s/json", c->id);
  json_object *in = NULL;
  struct itm_err e2 = { 0 };

  if (engine_get (e, path, &in, &e2) < 0)
    {
      if (e2.http_status == 404)
        {
          jobs[i].gone = true;
          itm_err_clear (&e2);
          return 0;
        }
      itm_err_move (err, &e2);
      return itm_err_prefix (err, "inspecting container %s", c->name);
    }
  fill_from_inspect (c, in);
  json_object_put (in);
  return 0;
}

static int
cmp_container (const void *a, const void *b)
{
  const struct state_container *x = a, *y = b;
  int r = strcmp (x->service ? x->service : "", y->service ? y->service : "");
  if (r)
    return r;
  if (x->number != y->number)
    return x->number < y->number ? -1 : 1;
  return strcmp (x->name, y->name);
}

static int
cmp_resource (const void *a, const void *b)
{
  const struct state_resource *x = a, *y = b;
  return strcmp (x->name, y->name);
}

static int
load_containers (struct engine *e, struct state *st, const char *filter, struct itm_err *err)
{
  cleanup_free char *path = xasprintf ("/containers/json?all=1&filters=%s", filter);
  cleanup_json json_object *list = NULL;

  if (engine_get (e, path, &list, err) < 0)
    return itm_err_prefix (err, "listing the containers of namespace '%s'", st->ns);
  if (!json_object_is_type (list, json_type_array))
    return itm_err_set (err, ITM_EXIT_ENGINE, "the container list is not a JSON array");
  size_t n = json_object_array_length (list);
  st->containers = xcalloc (n ? n : 1, sizeof *st->containers);
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx (list, i);
      json_object *names = json_key (o, "Names");
      const char *id = json_str (o, "Id");
      if (id == NULL)
        continue;
      struct state_container *c = &st->containers[st->ncontainers++];
      c->id = xstrdup (id);
      const char *name = names && json_object_is_type (names, json_type_array)
                           ? json_object_get_string (json_object_array_get_idx (names, 0))
                           : NULL;
      if (name && *name == '/')
        name++;
      c->name = xstrdup (name ? name : id);
      c->service = xstrdup (json_label (o, ITM_LABEL_SERVICE) ? json_label (o, ITM_LABEL_SERVICE)
                                                               : c->name);
      const char *num = json_label (o, ITM_LABEL_NUMBER);
      c->number = num ? atoi (num) : 1;
      c->image = dupnull (json_str (o, "Image"));
      c->config_hash = dupnull (json_label (o, ITM_LABEL_CONFIG_HASH));
      c->project_dir = dupnull (json_label (o, ITM_LABEL_PROJECT_DIR));
      c->stack_files = dupnull (json_label (o, ITM_LABEL_STACK_FILES));
      c->state = xstrdup (json_str (o, "State") ? json_str (o, "State") : "unknown");
    }
  json_object_put (steal_pointer (&list));   /* not needed for the inspections */

  if (st->ncontainers > 0)
    {
      struct inspect_job *jobs = xcalloc (st->ncontainers, sizeof *jobs);
      for (size_t i = 0; i < st->ncontainers; i++)
        jobs[i].c = &st->containers[i];
      int r;
      if (st->ncontainers == 1)
        r = inspect_one (e, 0, jobs, err);
      else
        r = engine_parallel (e, st->ncontainers, 4, inspect_one, jobs, NULL, err);
      if (r < 0)
        {
          free (jobs);
          return -1;
        }
      size_t k = 0;
      for (size_t i = 0; i < st->ncontainers; i++)
        if (jobs[i].gone)
          container_free (&st->containers[i]);
        else
          {
            if (k != i)
              st->containers[k] = st->containers[i];
            k++;
          }
      st->ncontainers = k;
      free (jobs);
    }
  if (st->ncontainers > 1)
    qsort (st->containers, st->ncontainers, sizeof *st->containers, cmp_container);
  return 0;
}

static int
load_resources (struct engine *e, const char *ns, const char *path, const char *what,
                const char *keylabel, struct state_resource **out, size_t *nout,
                struct itm_err *err)
{
  json_object *body = NULL, *list;

  if (engine_get (e, path, &body, err) < 0)
    return itm_err_prefix (err, "listing the %s of namespace '%s'", what, ns);
  list = strcmp (what, "volumes") == 0 ? json_key (body, "Volumes") : body;
  size_t n = list && json_object_is_type (list, json_type_array) ? json_object_array_length (list)
                                                                : 0;
  *out = xcalloc (n ? n : 1, sizeof **out);
  *nout = 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx (list, i);
      const char *name = json_str (o, "Name");
      if (name == NULL)
        continue;
      struct state_resource *r = &(*out)[(*nout)++];
      r->name = xstrdup (name);
      r->id = xstrdup (json_str (o, "Id") ? json_str (o, "Id") : name);
      r->key = dupnull (json_label (o, keylabel));
    }
  json_object_put (body);
  if (*nout > 1)
    qsort (*out, *nout, sizeof **out, cmp_resource);
  return 0;
}

int
state_load (struct engine *e, const char *ns, struct state **out, struct itm_err *err)
{
  struct state *st = xzalloc (sizeof *st);
  cleanup_free char *filter = ns_filter_query (ns);
  cleanup_free char *npath = xasprintf ("/networks?filters=%s", filter);
  cleanup_free char *vpath = xasprintf ("/volumes?filters=%s", filter);

  st->ns = xstrdup (ns);
  if (load_containers (e, st, filter, err) < 0
      || load_resources (e, ns, npath, "networks", ITM_LABEL_NETWORK, &st->networks,
                         &st->nnetworks, err) < 0
      || load_resources (e, ns, vpath, "volumes", ITM_LABEL_VOLUME, &st->volumes, &st->nvolumes,
                         err) < 0)
    {
      state_free (st);
      *out = NULL;
      return -1;
    }
  *out = st;
  return 0;
}

int
state_load_containers (struct engine *e, const char *ns, struct state **out,
                       struct itm_err *err)
{
  struct state *st = xzalloc (sizeof *st);
  cleanup_free char *filter = ns_filter_query (ns);

  st->ns = xstrdup (ns);
  if (load_containers (e, st, filter, err) < 0)
    {
      state_free (st);
      *out = NULL;
      return -1;
    }
  *out = st;
  return 0;
}

static void
resources_free (struct state_resource *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].id);
      free (r[i].name);
      free (r[i].key);
    }
  free (r);
}

void
state_free (struct state *st)
{
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->ncontainers; i++)
    container_free (&st->containers[i]);
  free (st->containers);
  resources_free (st->networks, st->nnetworks);
  resources_free (st->volumes, st->nvolumes);
  free (st->ns);
  free (st);
}

void
state_freep (struct state **st)
{
  state_free (*st);
  *st = NULL;
}

bool
state_empty (const struct state *st)
{
  return st == NULL || (st->ncontainers == 0 && st->nnetworks == 0 && st->nvolumes == 0);
}

struct state_container *
state_service (const struct state *st, const char *service, size_t *n)
{
  size_t i = 0, k = 0;
  *n = 0;
  if (st == NULL)
    return NULL;
  while (i < st->ncontainers && strcmp (st->containers[i].service, service) != 0)
    i++;
  if (i == st->ncontainers)
    return NULL;
  while (i + k < st->ncontainers && strcmp (st->containers[i + k].service, service) == 0)
    k++;
  *n = k;
  return &st->containers[i];
}

size_t
state_services (const struct state *st, const char ***out)
{
  const char **v = xcalloc (st->ncontainers + 1, sizeof *v);
  size_t n = 0;
  for (size_t i = 0; i < st->ncontainers; i++)
    if (n == 0 || strcmp (v[n - 1], st->containers[i].service) != 0)
      v[n++] = st->containers[i].service;
  *out = v;
  return n;
}

int
state_no_service (const struct state *st, const char *service, struct itm_err *err)
{
  const char **names = NULL;
  size_t n = state_services (st, &names);
  struct buf b = { 0 };

  for (size_t i = 0; i < n; i++)
    buf_addf (&b, "%s%s", i ? ", " : "", names[i]);
  itm_err_set (err, ITM_EXIT_NOT_FOUND, "no service '%s' in namespace '%s'", service, st->ns);
  if (n)
    itm_err_hint (err, "its services: %s", b.data);
  else
    itm_err_hint (err, "namespace '%s' has no containers (is it up? 'itm-env ps -p %s')",
                  st->ns, st->ns);
  buf_free (&b);
  free (names);
  return -1;
}

struct state_port *
state_port (const struct state_container *c, unsigned container_port, const char *protocol)
{
  struct state_port *first = NULL;
  for (size_t i = 0; i < c->nports; i++)
    {
      struct state_port *p = &c->ports[i];
      if (p->container_port != container_port
          || strcmp (p->protocol, protocol ? protocol : "tcp") != 0 || p->host_port == 0)
        continue;
      /* Prefer an IPv4 binding when the engine also bound [::]. */
      if (first == NULL || (first->host_ip && strchr (first->host_ip, ':')
                            && !(p->host_ip && strchr (p->host_ip, ':'))))
        first = p;
    }
  return first;
}
