/* output.c - the normalized stack as JSON, and canonical YAML of it.
 *
 * One walk of the model for every format and for the config hash: keys of
 * a service in alphabetical order, services and top-level entries sorted
 * by name, maps from the file (environment, labels...) sorted by key,
 * lists in file order.  Defaults that Compose's `config` shows are filled
 * in.  The walk drives an emitter (begin a map or a list, a key, a
 * scalar, end): one builds the json-c tree of stack_to_json (the config
 * hash reads it), the others write canonical YAML or compact JSON text
 * straight from the model, without a tree in between. */
#include <config.h>

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "util/xalloc.h"

typedef struct json_object jo;

/* ---- the emitter interface */

struct emitter;
struct emitter_ops {
  void (*begin) (struct emitter *e, bool list);    /* a map or a list value */
  void (*end) (struct emitter *e);
  void (*key) (struct emitter *e, const char *k);  /* in a map, before each value */
  void (*str) (struct emitter *e, const char *s);
  void (*num) (struct emitter *e, int64_t v);
  void (*dbl) (struct emitter *e, double d);       /* written "%.6g" */
  void (*boolean) (struct emitter *e, bool b);
  void (*null) (struct emitter *e);
  /* a borrowed json-c value (x-* extensions); v may be NULL (null) */
  void (*json) (struct emitter *e, jo *v);
};
struct emitter {
  const struct emitter_ops *ops;
};

static inline void
e_map (struct emitter *e)
{
  e->ops->begin (e, false);
}
static inline void
e_list (struct emitter *e)
{
  e->ops->begin (e, true);
}
static inline void
e_end (struct emitter *e)
{
  e->ops->end (e);
}
static inline void
e_key (struct emitter *e, const char *k)
{
  e->ops->key (e, k);
}
static inline void
e_str (struct emitter *e, const char *s)
{
  e->ops->str (e, s);
}
static inline void
e_num (struct emitter *e, int64_t v)
{
  e->ops->num (e, v);
}
static inline void
e_bool (struct emitter *e, bool b)
{
  e->ops->boolean (e, b);
}

/* ---- the walk of the model: what each field becomes */

static void
put_str (struct emitter *e, const char *k, const char *v)
{
  if (v)
    {
      e_key (e, k);
      e_str (e, v);
    }
}

static void
put_num (struct emitter *e, const char *k, int64_t v)
{
  e_key (e, k);
  e_num (e, v);
}

static void
put_bool (struct emitter *e, const char *k, bool b)
{
  e_key (e, k);
  e_bool (e, b);
}

static void
put_dbl (struct emitter *e, const char *k, double d)
{
  e_key (e, k);
  e->ops->dbl (e, d);
}

static void
walk_strv (struct emitter *e, const struct stack_strv *v)
{
  e_list (e);
  for (size_t i = 0; i < v->n; i++)
    e_str (e, v->v[i]);
  e_end (e);
}

static void
put_strv (struct emitter *e, const char *k, const struct stack_strv *v)
{
  if (v->set || v->n)
    {
      e_key (e, k);
      walk_strv (e, v);
    }
}

static int
cmp_kv (const void *a, const void *b)
{
  return strcmp (((const struct stack_kv *) a)->name, ((const struct stack_kv *) b)->name);
}

/* Sorted by name.  A name given twice (the model removes duplicates, but
 * this is the json-c tree's rule) is written once, at its first place,
 * with its last value. */
static void
walk_kvs (struct emitter *e, const struct stack_kvs *kv)
{
  struct stack_kv small[16];
  struct stack_kv *v = kv->n <= 16 ? small : xcalloc (kv->n, sizeof *v);
  if (kv->n)
    memcpy (v, kv->v, kv->n * sizeof *v);
  if (kv->n > 1)
    qsort (v, kv->n, sizeof *v, cmp_kv);
  e_map (e);
  for (size_t i = 0; i < kv->n; i++)
    {
      if (i + 1 < kv->n && strcmp (v[i].name, v[i + 1].name) == 0)
        continue;
      size_t first = i;
      while (first > 0 && strcmp (v[first - 1].name, v[i].name) == 0)
        first--;
      e_key (e, v[first].name);
      if (v[i].value)
        e_str (e, v[i].value);
      else
        e->ops->null (e);
    }
  e_end (e);
  if (v != small)
    free (v);
}

static void
put_kvs (struct emitter *e, const char *k, const struct stack_kvs *kv)
{
  if (kv->n)
    {
      e_key (e, k);
      walk_kvs (e, kv);
    }
}

static void
put_dur (struct emitter *e, const char *k, int64_t ns)
{
  char buf[64];
  stack_format_duration (ns, buf, sizeof buf);
  e_key (e, k);
  e_str (e, buf);
}

static void
walk_extra_hosts (struct emitter *e, const struct stack_kvs *kv)
{
  char small[256];
  e_list (e);
  for (size_t i = 0; i < kv->n; i++)
    {
      const char *val = kv->v[i].value ? kv->v[i].value : "";
      size_t ln = strlen (kv->v[i].name), lv = strlen (val);
      char *s = ln + lv + 2 <= sizeof small ? small : xmalloc (ln + lv + 2);
      memcpy (s, kv->v[i].name, ln);
      s[ln] = '=';
      memcpy (s + ln + 1, val, lv + 1);
      e_str (e, s);
      if (s != small)
        free (s);
    }
  e_end (e);
}

static void
walk_port (struct emitter *e, const struct stack_port *p, unsigned i)
{
  char buf[32];
  e_map (e);
  put_str (e, "name", p->name);
  put_str (e, "mode", p->mode);
  put_str (e, "host_ip", p->host_ip);
  put_num (e, "target", p->target_start + i);
  if (p->published_start)
    {
      if (p->target_end != p->target_start)
        snprintf (buf, sizeof buf, "%u", p->published_start + i);
      else if (p->published_end != p->published_start)
        snprintf (buf, sizeof buf, "%u-%u", p->published_start, p->published_end);
      else
        snprintf (buf, sizeof buf, "%u", p->published_start);
      put_str (e, "published", buf);
    }
  put_str (e, "protocol", p->protocol);
  put_str (e, "app_protocol", p->app_protocol);
  e_end (e);
}

static void
walk_mount (struct emitter *e, const struct stack_mount *v)
{
  static const char *const types[] = { "volume", "bind", "tmpfs" };
  e_map (e);
  put_str (e, "type", types[v->type]);
  put_str (e, "source", v->source);
  put_str (e, "target", v->target);
  if (v->read_only)
    put_bool (e, "read_only", true);
  put_str (e, "consistency", v->consistency);
  if (v->type == STACK_MOUNT_BIND)
    {
      e_key (e, "bind");
      e_map (e);
      put_str (e, "propagation", v->propagation);
      put_bool (e, "create_host_path", v->create_host_path);
      put_str (e, "selinux", v->selinux);
      e_end (e);
    }
  if (v->type == STACK_MOUNT_VOLUME && (v->nocopy || v->subpath))
    {
      e_key (e, "volume");
      e_map (e);
      if (v->nocopy)
        put_bool (e, "nocopy", true);
      put_str (e, "subpath", v->subpath);
      e_end (e);
    }
  if (v->type == STACK_MOUNT_TMPFS && (v->tmpfs_size || v->tmpfs_mode))
    {
      e_key (e, "tmpfs");
      e_map (e);
      if (v->tmpfs_size)
        put_num (e, "size", (int64_t) v->tmpfs_size);
      if (v->tmpfs_mode)
        put_num (e, "mode", (int) v->tmpfs_mode);
      e_end (e);
    }
  e_end (e);
}

static void
put_filerefs (struct emitter *e, const char *k, const struct stack_file_ref *r, size_t n)
{
  if (n == 0)
    return;
  e_key (e, k);
  e_list (e);
  for (size_t i = 0; i < n; i++)
    {
      e_map (e);
      put_str (e, "source", r[i].source);
      put_str (e, "target", r[i].target);
      put_str (e, "uid", r[i].uid);
      put_str (e, "gid", r[i].gid);
      if (r[i].mode >= 0)
        put_num (e, "mode", r[i].mode);
      e_end (e);
    }
  e_end (e);
}

static void
put_resources (struct emitter *e, const char *k, const struct stack_resources *r)
{
  if (!(r->cpus > 0 || r->memory))
    return;
  e_key (e, k);
  e_map (e);
  if (r->cpus > 0)
    put_dbl (e, "cpus", r->cpus);
  if (r->memory)
    put_num (e, "memory", (int64_t) r->memory);
  e_end (e);
}

/* x-* keys, into the map being written */
static void
put_extensions (struct emitter *e, jo *x)
{
  if (x == NULL)
    return;
  json_object_object_foreach (x, k, v)
    {
      e_key (e, k);
      e->ops->json (e, v);
    }
}

/* The first of a run of equal names in a sorted array of structs whose
 * first member is the name, and the last (whose value is written: the
 * json-c tree's rule for a key added twice). */
static bool
last_of_run (const void *arr, size_t n, size_t elsize, size_t i, size_t *first)
{
#define NAME_AT(j) (*(char *const *) ((const char *) arr + (j) * elsize))
  if (i + 1 < n && strcmp (NAME_AT (i), NAME_AT (i + 1)) == 0)
    return false;
  *first = i;
  while (*first > 0 && strcmp (NAME_AT (*first - 1), NAME_AT (i)) == 0)
    (*first)--;
  return true;
#undef NAME_AT
}

static void
walk_service (struct emitter *e, const struct stack_service *s)
{
  static const char *const cond[] = { "service_started", "service_healthy",
                                      "service_completed_successfully" };
  e_map (e);
  if (s->build.set)
    {
      const struct stack_build *b = &s->build;
      e_key (e, "build");
      e_map (e);
      put_str (e, "context", b->context);
      put_str (e, "dockerfile", b->dockerfile ? b->dockerfile : "Dockerfile");
      put_kvs (e, "args", &b->args);
      if (b->ssh.n)
        {
          /* "ID" or "ID=PATH", the list form both Compose and the loader
           * read back (Compose prints "ID: PATH", which neither does) */
          e_key (e, "ssh");
          e_list (e);
          for (size_t i = 0; i < b->ssh.n; i++)
            {
              cleanup_free char *v = b->ssh.v[i].value
                ? xasprintf ("%s=%s", b->ssh.v[i].name, b->ssh.v[i].value) : NULL;
              e_str (e, v ? v : b->ssh.v[i].name);
            }
          e_end (e);
        }
      put_str (e, "target", b->target);
      put_kvs (e, "labels", &b->labels);
      put_str (e, "network", b->network);
      if (b->extra_hosts.n)
        {
          e_key (e, "extra_hosts");
          walk_extra_hosts (e, &b->extra_hosts);
        }
      if (b->shm_size)
        put_num (e, "shm_size", (int64_t) b->shm_size);
      put_filerefs (e, "secrets", b->secrets, b->nsecrets);
      e_end (e);
    }
  put_strv (e, "cap_add", &s->cap_add);
  put_strv (e, "cap_drop", &s->cap_drop);
  put_strv (e, "command", &s->command);
  put_filerefs (e, "configs", s->configs, s->nconfigs);
  put_str (e, "container_name", s->container_name);
  if (s->cpus > 0)
    put_dbl (e, "cpus", s->cpus);
  if (s->limits.cpus > 0 || s->limits.memory || s->reservations.cpus > 0
      || s->reservations.memory)
    {
      e_key (e, "deploy");
      e_map (e);
      e_key (e, "resources");
      e_map (e);
      put_resources (e, "limits", &s->limits);
      put_resources (e, "reservations", &s->reservations);
      e_end (e);
      e_end (e);
    }
  if (s->ndepends_on)
    {
      e_key (e, "depends_on");
      e_map (e);
      for (size_t i = 0, first; i < s->ndepends_on; i++)
        if (last_of_run (s->depends_on, s->ndepends_on, sizeof *s->depends_on, i, &first))
          {
            const struct stack_dep *dp = &s->depends_on[i];
            e_key (e, s->depends_on[first].service);
            e_map (e);
            put_str (e, "condition", cond[dp->condition]);
            put_bool (e, "required", dp->required);
            if (dp->restart)
              put_bool (e, "restart", true);
            e_end (e);
          }
      e_end (e);
    }
  put_strv (e, "dns", &s->dns);
  put_strv (e, "entrypoint", &s->entrypoint);
  put_kvs (e, "environment", &s->environment);
  put_strv (e, "expose", &s->expose);
  if (s->extra_hosts.n)
    {
      e_key (e, "extra_hosts");
      walk_extra_hosts (e, &s->extra_hosts);
    }
  if (s->healthcheck.set)
    {
      const struct stack_healthcheck *h = &s->healthcheck;
      e_key (e, "healthcheck");
      e_map (e);
      if (h->test.n)
        {
          e_key (e, "test");
          walk_strv (e, &h->test);
        }
      if (h->interval)
        put_dur (e, "interval", h->interval);
      if (h->timeout)
        put_dur (e, "timeout", h->timeout);
      if (h->retries >= 0)
        put_num (e, "retries", h->retries);
      if (h->start_period)
        put_dur (e, "start_period", h->start_period);
      if (h->start_interval)
        put_dur (e, "start_interval", h->start_interval);
      if (h->disable)
        put_bool (e, "disable", true);
      e_end (e);
    }
  put_str (e, "hostname", s->hostname);
  put_str (e, "image", s->image);
  if (s->init >= 0)
    put_bool (e, "init", s->init);
  put_kvs (e, "labels", &s->labels);
  if (s->mem_limit)
    put_num (e, "mem_limit", (int64_t) s->mem_limit);
  put_str (e, "network_mode", s->network_mode);
  if (s->nnetworks)
    {
      e_key (e, "networks");
      e_map (e);
      for (size_t i = 0, first; i < s->nnetworks; i++)
        if (last_of_run (s->networks, s->nnetworks, sizeof *s->networks, i, &first))
          {
            const struct stack_service_network *sn = &s->networks[i];
            e_key (e, s->networks[first].name);
            if (!(sn->aliases.n || sn->ipv4_address || sn->ipv6_address || sn->priority))
              {
                e->ops->null (e);
                continue;
              }
            e_map (e);
            if (sn->aliases.n)
              {
                e_key (e, "aliases");
                walk_strv (e, &sn->aliases);
              }
            put_str (e, "ipv4_address", sn->ipv4_address);
            put_str (e, "ipv6_address", sn->ipv6_address);
            if (sn->priority)
              put_num (e, "priority", sn->priority);
            e_end (e);
          }
      e_end (e);
    }
  put_str (e, "platform", s->platform);
  if (s->nports)
    {
      e_key (e, "ports");
      e_list (e);
      for (size_t i = 0; i < s->nports; i++)
        {
          const struct stack_port *p = &s->ports[i];
          unsigned span = p->target_end - p->target_start;
          for (unsigned k = 0; k <= span; k++)
            walk_port (e, p, k);
        }
      e_end (e);
    }
  if (s->privileged)
    put_bool (e, "privileged", true);
  put_strv (e, "profiles", &s->profiles);
  put_str (e, "pull_policy", s->pull_policy);
  if (s->read_only)
    put_bool (e, "read_only", true);
  put_str (e, "restart", s->restart);
  put_str (e, "runtime", s->runtime);
  put_filerefs (e, "secrets", s->secrets, s->nsecrets);
  if (s->shm_size)
    put_num (e, "shm_size", (int64_t) s->shm_size);
  if (s->stdin_open)
    put_bool (e, "stdin_open", true);
  if (s->stop_grace_period >= 0)
    put_dur (e, "stop_grace_period", s->stop_grace_period);
  put_str (e, "stop_signal", s->stop_signal);
  put_kvs (e, "sysctls", &s->sysctls);
  put_strv (e, "tmpfs", &s->tmpfs);
  if (s->tty)
    put_bool (e, "tty", true);
  if (s->nulimits)
    {
      e_key (e, "ulimits");
      e_map (e);
      for (size_t i = 0; i < s->nulimits; i++)
        {
          e_key (e, s->ulimits[i].name);
          e_map (e);
          put_num (e, "soft", s->ulimits[i].soft);
          put_num (e, "hard", s->ulimits[i].hard);
          e_end (e);
        }
      e_end (e);
    }
  put_str (e, "user", s->user);
  if (s->nvolumes)
    {
      e_key (e, "volumes");
      e_list (e);
      for (size_t i = 0; i < s->nvolumes; i++)
        walk_mount (e, &s->volumes[i]);
      e_end (e);
    }
  put_str (e, "working_dir", s->working_dir);
  put_extensions (e, s->x);
  e_end (e);
}

static void
walk_object (struct emitter *e, const struct stack_object *ob)
{
  e_map (e);
  put_str (e, "name", ob->name);
  put_str (e, "file", ob->file);
  put_str (e, "environment", ob->environment);
  put_str (e, "content", ob->content);
  if (ob->external)
    put_bool (e, "external", true);
  e_end (e);
}

static void
walk_network (struct emitter *e, const struct stack_network *n)
{
  e_map (e);
  put_str (e, "name", n->name);
  put_str (e, "driver", n->driver);
  put_kvs (e, "driver_opts", &n->driver_opts);
  if (n->ipam_driver || n->nipam_config || n->ipam_options.n)
    {
      e_key (e, "ipam");
      e_map (e);
      put_str (e, "driver", n->ipam_driver);
      if (n->nipam_config)
        {
          e_key (e, "config");
          e_list (e);
          for (size_t k = 0; k < n->nipam_config; k++)
            {
              const struct stack_ipam_config *c = &n->ipam_config[k];
              e_map (e);
              put_str (e, "subnet", c->subnet);
              put_str (e, "ip_range", c->ip_range);
              put_str (e, "gateway", c->gateway);
              put_kvs (e, "aux_addresses", &c->aux_addresses);
              e_end (e);
            }
          e_end (e);
        }
      put_kvs (e, "options", &n->ipam_options);
      e_end (e);
    }
  if (n->external)
    put_bool (e, "external", true);
  if (n->internal)
    put_bool (e, "internal", true);
  if (n->attachable)
    put_bool (e, "attachable", true);
  if (n->enable_ipv6)
    put_bool (e, "enable_ipv6", true);
  put_kvs (e, "labels", &n->labels);
  e_end (e);
}

static void
walk_volume (struct emitter *e, const struct stack_volume *v)
{
  e_map (e);
  put_str (e, "name", v->name);
  put_str (e, "driver", v->driver);
  put_kvs (e, "driver_opts", &v->driver_opts);
  if (v->external)
    put_bool (e, "external", true);
  put_kvs (e, "labels", &v->labels);
  e_end (e);
}

/* The top level (keys unique by construction: map keys of the file). */
static void
walk_stack (struct emitter *e, const struct stack *st)
{
  e_map (e);
  put_str (e, "name", st->name);
  e_key (e, "services");
  e_map (e);
  for (size_t i = 0; i < st->nservices; i++)
    {
      e_key (e, st->services[i].name);
      walk_service (e, &st->services[i]);
    }
  e_end (e);
  if (st->nnetworks)
    {
      e_key (e, "networks");
      e_map (e);
      for (size_t i = 0; i < st->nnetworks; i++)
        {
          e_key (e, st->networks[i].key);
          walk_network (e, &st->networks[i]);
        }
      e_end (e);
    }
  if (st->nvolumes)
    {
      e_key (e, "volumes");
      e_map (e);
      for (size_t i = 0; i < st->nvolumes; i++)
        {
          e_key (e, st->volumes[i].key);
          walk_volume (e, &st->volumes[i]);
        }
      e_end (e);
    }
  if (st->nsecrets)
    {
      e_key (e, "secrets");
      e_map (e);
      for (size_t i = 0; i < st->nsecrets; i++)
        {
          e_key (e, st->secrets[i].key);
          walk_object (e, &st->secrets[i]);
        }
      e_end (e);
    }
  if (st->nconfigs)
    {
      e_key (e, "configs");
      e_map (e);
      for (size_t i = 0; i < st->nconfigs; i++)
        {
          e_key (e, st->configs[i].key);
          walk_object (e, &st->configs[i]);
        }
      e_end (e);
    }
  put_extensions (e, st->x);
  e_end (e);
}

/* ---- emitter 1: the json-c tree */

struct tree_emitter {
  struct emitter e;
  jo *root;
  jo **open;                   /* the maps and lists being filled */
  size_t depth, cap;
  const char *key;             /* the key of the next value, in a map */
};

static void
tree_put (struct tree_emitter *t, jo *v)
{
  if (t->depth == 0)
    {
      t->root = v;
      return;
    }
  jo *c = t->open[t->depth - 1];
  if (json_object_is_type (c, json_type_array))
    json_object_array_add (c, v);
  else
    json_object_object_add (c, t->key, v);
}

static void
tree_begin (struct emitter *e, bool list)
{
  struct tree_emitter *t = (struct tree_emitter *) e;
  jo *c = list ? json_object_new_array () : json_object_new_object ();
  tree_put (t, c);
  t->open = xgrow (t->open, &t->cap, t->depth + 1, sizeof *t->open);
  t->open[t->depth++] = c;
}

static void
tree_end (struct emitter *e)
{
  ((struct tree_emitter *) e)->depth--;
}

static void
tree_key (struct emitter *e, const char *k)
{
  ((struct tree_emitter *) e)->key = k;
}

static void
tree_str (struct emitter *e, const char *s)
{
  tree_put ((struct tree_emitter *) e, json_object_new_string (s));
}

static void
tree_num (struct emitter *e, int64_t v)
{
  tree_put ((struct tree_emitter *) e, json_object_new_int64 (v));
}

static void
tree_dbl (struct emitter *e, double d)
{
  char buf[64];
  snprintf (buf, sizeof buf, "%.6g", d);
  tree_put ((struct tree_emitter *) e, json_object_new_double_s (d, buf));
}

static void
tree_bool (struct emitter *e, bool b)
{
  tree_put ((struct tree_emitter *) e, json_object_new_boolean (b));
}

static void
tree_null (struct emitter *e)
{
  tree_put ((struct tree_emitter *) e, NULL);
}

static void
tree_json (struct emitter *e, jo *v)
{
  tree_put ((struct tree_emitter *) e, v ? json_object_get (v) : NULL);
}

static const struct emitter_ops tree_ops = {
  .begin = tree_begin, .end = tree_end, .key = tree_key, .str = tree_str, .num = tree_num,
  .dbl = tree_dbl, .boolean = tree_bool, .null = tree_null, .json = tree_json,
};

static jo *
tree_finish (struct tree_emitter *t)
{
  free (t->open);
  return t->root;
}

struct json_object *
stack_service_to_json (const struct stack_service *s)
{
  struct tree_emitter t = { .e = { &tree_ops } };
  walk_service (&t.e, s);
  return tree_finish (&t);
}

struct json_object *
stack_to_json (const struct stack *st)
{
  struct tree_emitter t = { .e = { &tree_ops } };
  walk_stack (&t.e, st);
  return tree_finish (&t);
}

/* ---- text output */

/* The text goes to a buffer of our own, handed to the FILE in large
 * blocks: one stdio call per character or token was most of the time of
 * `config` on a big stack. */
struct obuf {
  FILE *out;
  size_t n;
  char b[64 * 1024];
};

static void
ob_flush (struct obuf *o)
{
  if (o->n)
    fwrite (o->b, 1, o->n, o->out);
  o->n = 0;
}

static inline void
ob_write (struct obuf *o, const char *s, size_t len)
{
  if (__builtin_expect (len > sizeof o->b - o->n, 0))
    {
      ob_flush (o);
      if (len > sizeof o->b)
        {
          fwrite (s, 1, len, o->out);
          return;
        }
    }
  memcpy (o->b + o->n, s, len);
  o->n += len;
}

static inline void
ob_putc (struct obuf *o, char c)
{
  if (o->n == sizeof o->b)
    ob_flush (o);
  o->b[o->n++] = c;
}

static void
ob_puts (struct obuf *o, const char *s)
{
  ob_write (o, s, strlen (s));
}

static void
ob_spaces (struct obuf *o, int n)
{
  static const char sp[] = "                                                                ";
  while (n > 0)
    {
      int k = n < (int) sizeof sp - 1 ? n : (int) sizeof sp - 1;
      ob_write (o, sp, (size_t) k);
      n -= k;
    }
}

/* A text emitter: the output buffer and the maps and lists open. */
struct tframe {
  bool list;
  bool any;                    /* a key or an item was written */
  bool first_inline;           /* YAML: a map in a list, its first key after "- " */
  int indent;                  /* YAML: of the keys or items */
  const char *owed;            /* YAML: written before the first key or item */
  const char *empty;           /* YAML: written when there is none */
};

struct text_emitter {
  struct emitter e;
  bool yaml;                   /* else JSON */
  struct obuf *ob;
  struct tframe *f;
  size_t depth, cap;
};

static struct tframe *
text_push (struct text_emitter *t)
{
  t->f = xgrow (t->f, &t->cap, t->depth + 1, sizeof *t->f);
  struct tframe *f = &t->f[t->depth++];
  memset (f, 0, sizeof *f);
  return f;
}

/* ---- emitter 2: canonical YAML */

/* Character classes of needs_quotes. */
enum {
  CQ_FIRST = 1,                /* quoted when first */
  CQ_NUM = 2,                  /* what strtod may read after its first character */
  CQ_LOOK = 4,                 /* look closer: control characters, ':' and '#' */
  CQ_DIGIT = 8,
};
static const unsigned char cq[256] = {
  [0 ... 8] = CQ_LOOK, [10 ... 0x1f] = CQ_LOOK, [0x7f] = CQ_LOOK,
  ['0' ... '9'] = CQ_NUM | CQ_DIGIT, ['a' ... 'z'] = CQ_NUM, ['A' ... 'Z'] = CQ_NUM,
  ['.'] = CQ_NUM, ['+'] = CQ_NUM, ['('] = CQ_NUM, [')'] = CQ_NUM, ['_'] = CQ_NUM,
  ['-'] = CQ_FIRST | CQ_NUM,
  ['\t'] = CQ_FIRST | CQ_LOOK,
  [':'] = CQ_FIRST | CQ_LOOK, ['#'] = CQ_FIRST | CQ_LOOK,
  ['?'] = CQ_FIRST, [','] = CQ_FIRST, ['['] = CQ_FIRST, [']'] = CQ_FIRST, ['{'] = CQ_FIRST,
  ['}'] = CQ_FIRST, ['&'] = CQ_FIRST, ['*'] = CQ_FIRST, ['!'] = CQ_FIRST, ['|'] = CQ_FIRST,
  ['>'] = CQ_FIRST, ['\''] = CQ_FIRST, ['"'] = CQ_FIRST, ['%'] = CQ_FIRST, ['@'] = CQ_FIRST,
  ['`'] = CQ_FIRST, [' '] = CQ_FIRST,
};

static bool
lower3_is (const char *s, const char *w)
{
  return s[0] && (s[0] | 0x20) == w[0] && s[1] && (s[1] | 0x20) == w[1] && s[2]
         && (s[2] | 0x20) == w[2];
}

/* Whether s, of length l, is a YAML 1.1 boolean or null in any case:
 * true false yes no on off y n null ~ */
static bool
is_bool_null_word (const char *s, size_t l)
{
  /* | 0x20: ASCII lower case, exact for letters (only 'T' and 't' give
   * 't') */
#define LC(i, c) ((s[i] | 0x20) == (c))
  switch (l)
    {
    case 1: return LC (0, 'y') || LC (0, 'n') || s[0] == '~';
    case 2: return (LC (0, 'n') && LC (1, 'o')) || (LC (0, 'o') && LC (1, 'n'));
    case 3: return (LC (0, 'y') && LC (1, 'e') && LC (2, 's'))
                   || (LC (0, 'o') && LC (1, 'f') && LC (2, 'f'));
    case 4: return (LC (0, 't') && LC (1, 'r') && LC (2, 'u') && LC (3, 'e'))
                   || (LC (0, 'n') && LC (1, 'u') && LC (2, 'l') && LC (3, 'l'));
    case 5: return LC (0, 'f') && LC (1, 'a') && LC (2, 'l') && LC (3, 's') && LC (4, 'e');
    default: return false;
    }
#undef LC
}

/* Whether s must be written quoted; *lenp gets its length when not.  The
 * common case (a path, an image, a word) is one pass over the table. */
static bool
needs_quotes (const char *s, size_t *lenp)
{
  const unsigned char *u = (const unsigned char *) s;
  if (*u == '\0' || (cq[*u] & CQ_FIRST))
    return true;
  /* one pass: length, control characters, ": ", " #", number characters */
  unsigned all = CQ_NUM | CQ_DIGIT;
  const unsigned char *p = u;
  for (; *p; p++)
    {
      unsigned c = cq[*p];
      all &= c;
      if (__builtin_expect (c & CQ_LOOK, 0))
        {
          if (*p < 0x20 || *p == 0x7f)
            return true;
          if (*p == ':' && (p[1] == ' ' || p[1] == '\t'))
            return true;
          if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t'))
            return true;
        }
    }
  size_t l = (size_t) (p - u);
  *lenp = l;
  /* digits only: a number (what strtod below would say) */
  if (all & CQ_DIGIT)
    return true;
  if (u[l - 1] == ' ' || u[l - 1] == ':')
    return true;
  /* 0x1f, 0o7, 1e3, .inf */
  if (s[0] == '.' || (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')))
    return true;
  if (is_bool_null_word (s, l))
    return true;
  if ((all & CQ_NUM)
      && ((cq[u[0]] & CQ_DIGIT) || s[0] == '+' || lower3_is (s, "inf") || lower3_is (s, "nan")))
    {
      char *end;
      (void) strtod (s, &end);
      if (*end == '\0')
        return true;
    }
  return false;
}

static void
yaml_str (struct obuf *out, const char *s)
{
  size_t len = 0;
  if (!needs_quotes (s, &len))
    {
      ob_write (out, s, len);
      return;
    }
  ob_putc (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    switch (*p)
      {
      case '"': ob_write (out, "\\\"", 2); break;
      case '\\': ob_write (out, "\\\\", 2); break;
      case '\n': ob_write (out, "\\n", 2); break;
      case '\t': ob_write (out, "\\t", 2); break;
      case '\r': ob_write (out, "\\r", 2); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          {
            static const char hex[] = "0123456789abcdef";
            char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };
            ob_write (out, e, 4);
          }
        else
          ob_putc (out, (char) *p);
      }
  ob_putc (out, '"');
}

/* Where a value goes: the top, an item of a list ("- " written), or the
 * value of a key ("KEY:" written). */
enum { AT_TOP, AT_ITEM, AT_VALUE };

static int
yaml_value (struct text_emitter *t)
{
  if (t->depth == 0)
    return AT_TOP;
  struct tframe *p = &t->f[t->depth - 1];
  if (!p->list)
    return AT_VALUE;
  if (!p->any)
    {
      ob_puts (t->ob, p->owed);
      p->any = true;
    }
  ob_spaces (t->ob, p->indent);
  ob_write (t->ob, "- ", 2);
  return AT_ITEM;
}

static void
yaml_raw (struct text_emitter *t, const char *s, size_t len)
{
  if (yaml_value (t) == AT_VALUE)
    ob_putc (t->ob, ' ');
  ob_write (t->ob, s, len);
  ob_putc (t->ob, '\n');
}

static void
yaml_begin (struct emitter *e, bool list)
{
  struct text_emitter *t = (struct text_emitter *) e;
  int at = yaml_value (t);
  int pindent = t->depth ? t->f[t->depth - 1].indent : 0;
  struct tframe *f = text_push (t);
  f->list = list;
  f->indent = at == AT_TOP ? 0 : list && at == AT_VALUE ? pindent : pindent + 2;
  f->first_inline = !list && at == AT_ITEM;
  f->owed = at == AT_VALUE || (list && at == AT_ITEM) ? "\n" : "";
  if (list)
    f->empty = at == AT_VALUE ? " []\n" : "[]\n";
  else
    f->empty = at == AT_VALUE ? " {}\n" : "{}\n";
}

static void
yaml_end (struct emitter *e)
{
  struct text_emitter *t = (struct text_emitter *) e;
  struct tframe *f = &t->f[--t->depth];
  if (!f->any)
    ob_puts (t->ob, f->empty);
}

static void
yaml_key (struct emitter *e, const char *k)
{
  struct text_emitter *t = (struct text_emitter *) e;
  struct tframe *f = &t->f[t->depth - 1];
  if (!f->any)
    {
      ob_puts (t->ob, f->owed);
      f->any = true;
      if (!f->first_inline)
        ob_spaces (t->ob, f->indent);
    }
  else
    ob_spaces (t->ob, f->indent);
  yaml_str (t->ob, k);
  ob_putc (t->ob, ':');
}

static void
yaml_string (struct emitter *e, const char *s)
{
  struct text_emitter *t = (struct text_emitter *) e;
  if (yaml_value (t) == AT_VALUE)
    ob_putc (t->ob, ' ');
  yaml_str (t->ob, s);
  ob_putc (t->ob, '\n');
}

/* ---- emitter 3: compact JSON (json-c's JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, byte for byte) */

static void
json_value (struct text_emitter *t)
{
  if (t->depth == 0)
    return;
  struct tframe *p = &t->f[t->depth - 1];
  if (p->list)
    {
      if (p->any)
        ob_putc (t->ob, ',');
      p->any = true;
    }
}

static void
json_raw (struct text_emitter *t, const char *s, size_t len)
{
  json_value (t);
  ob_write (t->ob, s, len);
}

/* json-c's escapes: \b \f \n \r \t \" \\, other control characters as
 * \u00XX; '/' and bytes from 0x7f on as they are */
static const bool json_esc[256] = { [0 ... 0x1f] = true, ['"'] = true, ['\\'] = true };

static void
json_quoted (struct obuf *out, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *) s, *run = p;
  ob_putc (out, '"');
  for (; *p; p++)
    {
      if (!json_esc[*p])
        continue;
      if (p > run)
        ob_write (out, (const char *) run, (size_t) (p - run));
      run = p + 1;
      switch (*p)
        {
        case '\b': ob_write (out, "\\b", 2); break;
        case '\n': ob_write (out, "\\n", 2); break;
        case '\r': ob_write (out, "\\r", 2); break;
        case '\t': ob_write (out, "\\t", 2); break;
        case '\f': ob_write (out, "\\f", 2); break;
        case '"': ob_write (out, "\\\"", 2); break;
        case '\\': ob_write (out, "\\\\", 2); break;
        default:
          {
            char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
            ob_write (out, e, 6);
          }
        }
    }
  if (p > run)
    ob_write (out, (const char *) run, (size_t) (p - run));
  ob_putc (out, '"');
}

static void
json_begin (struct emitter *e, bool list)
{
  struct text_emitter *t = (struct text_emitter *) e;
  json_value (t);
  ob_putc (t->ob, list ? '[' : '{');
  text_push (t)->list = list;
}

static void
json_end (struct emitter *e)
{
  struct text_emitter *t = (struct text_emitter *) e;
  ob_putc (t->ob, t->f[--t->depth].list ? ']' : '}');
}

static void
json_key (struct emitter *e, const char *k)
{
  struct text_emitter *t = (struct text_emitter *) e;
  struct tframe *f = &t->f[t->depth - 1];
  if (f->any)
    ob_putc (t->ob, ',');
  f->any = true;
  json_quoted (t->ob, k);
  ob_putc (t->ob, ':');
}

static void
json_string (struct emitter *e, const char *s)
{
  struct text_emitter *t = (struct text_emitter *) e;
  json_value (t);
  json_quoted (t->ob, s);
}

/* ---- what the two text emitters share: scalars as text, and json-c
 * values (x-*) walked */

static void
text_raw (struct emitter *e, const char *s, size_t len)
{
  struct text_emitter *t = (struct text_emitter *) e;
  if (t->yaml)
    yaml_raw (t, s, len);
  else
    json_raw (t, s, len);
}

static void
text_num (struct emitter *e, int64_t v)
{
  /* "%" PRId64, without stdio */
  char buf[24], *end = buf + sizeof buf, *q = end;
  uint64_t u = v < 0 ? -(uint64_t) v : (uint64_t) v;
  do
    *--q = (char) ('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0)
    *--q = '-';
  text_raw (e, q, (size_t) (end - q));
}

static void
text_dbl (struct emitter *e, double d)
{
  char buf[64];
  int n = snprintf (buf, sizeof buf, "%.6g", d);
  text_raw (e, buf, (size_t) n);
}

static void
text_bool (struct emitter *e, bool b)
{
  text_raw (e, b ? "true" : "false", b ? 4 : 5);
}

static void
text_null (struct emitter *e)
{
  text_raw (e, "null", 4);
}

static void
text_json (struct emitter *e, jo *v)
{
  if (v == NULL)
    {
      text_null (e);
      return;
    }
  switch (json_object_get_type (v))
    {
    case json_type_object:
      e_map (e);
      json_object_object_foreach (v, k, val)
        {
          e_key (e, k);
          text_json (e, val);
        }
      e_end (e);
      break;
    case json_type_array:
      {
        size_t n = json_object_array_length (v);
        e_list (e);
        for (size_t i = 0; i < n; i++)
          text_json (e, json_object_array_get_idx (v, i));
        e_end (e);
      }
      break;
    case json_type_string:
      e_str (e, json_object_get_string (v));
      break;
    case json_type_boolean:
      text_bool (e, json_object_get_boolean (v));
      break;
    case json_type_null:
      text_null (e);
      break;
    default:
      /* numbers as json-c writes them (a double keeps the text it was
       * read from) */
      {
        const char *s = json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE);
        text_raw (e, s, strlen (s));
      }
    }
}

static const struct emitter_ops yaml_ops = {
  .begin = yaml_begin, .end = yaml_end, .key = yaml_key, .str = yaml_string, .num = text_num,
  .dbl = text_dbl, .boolean = text_bool, .null = text_null, .json = text_json,
};

static const struct emitter_ops json_ops = {
  .begin = json_begin, .end = json_end, .key = json_key, .str = json_string, .num = text_num,
  .dbl = text_dbl, .boolean = text_bool, .null = text_null, .json = text_json,
};

static void
text_init (struct text_emitter *t, FILE *out, bool yaml)
{
  memset (t, 0, sizeof *t);
  t->e.ops = yaml ? &yaml_ops : &json_ops;
  t->yaml = yaml;
  t->ob = xmalloc (sizeof *t->ob);
  t->ob->out = out;
  t->ob->n = 0;
}

static void
text_finish (struct text_emitter *t)
{
  ob_flush (t->ob);
  free (t->ob);
  free (t->f);
}

void
stack_print (const struct stack *st, FILE *out, bool json)
{
  struct text_emitter t;
  text_init (&t, out, !json);
  walk_stack (&t.e, st);
  if (json)
    ob_putc (t.ob, '\n');
  text_finish (&t);
}
