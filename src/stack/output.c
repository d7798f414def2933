/* output.c - the normalized stack as JSON, and canonical YAML of it.
 *
 * One tree for both formats and for the config hash: keys of a service in
 * alphabetical order, services and top-level entries sorted by name, maps
 * from the file (environment, labels...) sorted by key, lists in file
 * order.  Defaults that Compose's `config` shows are filled in. */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "util/xalloc.h"

typedef struct json_object jo;

static void
add (jo *o, const char *k, jo *v)
{
  json_object_object_add (o, k, v);
}

static void
add_str (jo *o, const char *k, const char *v)
{
  if (v)
    add (o, k, json_object_new_string (v));
}

static jo *
strv_json (const struct stack_strv *v)
{
  jo *a = json_object_new_array ();
  for (size_t i = 0; i < v->n; i++)
    json_object_array_add (a, json_object_new_string (v->v[i]));
  return a;
}

static void
add_strv (jo *o, const char *k, const struct stack_strv *v)
{
  if (v->set || v->n)
    add (o, k, strv_json (v));
}

static int
cmp_kv (const void *a, const void *b)
{
  return strcmp (((const struct stack_kv *) a)->name, ((const struct stack_kv *) b)->name);
}

static jo *
kvs_json (const struct stack_kvs *kv)
{
  jo *o = json_object_new_object ();
  struct stack_kv *v = xcalloc (kv->n + 1, sizeof *v);
  if (kv->n)
    memcpy (v, kv->v, kv->n * sizeof *v);
  qsort (v, kv->n, sizeof *v, cmp_kv);
  for (size_t i = 0; i < kv->n; i++)
    add (o, v[i].name, v[i].value ? json_object_new_string (v[i].value) : NULL);
  free (v);
  return o;
}

static void
add_kvs (jo *o, const char *k, const struct stack_kvs *kv)
{
  if (kv->n)
    add (o, k, kvs_json (kv));
}

static void
add_dur (jo *o, const char *k, int64_t ns)
{
  char buf[64];
  stack_format_duration (ns, buf, sizeof buf);
  add (o, k, json_object_new_string (buf));
}

static jo *
double_json (double d)
{
  char buf[64];
  snprintf (buf, sizeof buf, "%.6g", d);
  return json_object_new_double_s (d, buf);
}

static jo *
extra_hosts_json (const struct stack_kvs *kv)
{
  jo *a = json_object_new_array ();
  for (size_t i = 0; i < kv->n; i++)
    {
      char *s = xasprintf ("%s=%s", kv->v[i].name, kv->v[i].value ? kv->v[i].value : "");
      json_object_array_add (a, json_object_new_string (s));
      free (s);
    }
  return a;
}

static jo *
port_json (const struct stack_port *p, unsigned i)
{
  jo *o = json_object_new_object ();
  char buf[32];
  add_str (o, "name", p->name);
  add_str (o, "mode", p->mode);
  add_str (o, "host_ip", p->host_ip);
  add (o, "target", json_object_new_int (p->target_start + i));
  if (p->published_start)
    {
      if (p->target_end != p->target_start)
        snprintf (buf, sizeof buf, "%u", p->published_start + i);
      else if (p->published_end != p->published_start)
        snprintf (buf, sizeof buf, "%u-%u", p->published_start, p->published_end);
      else
        snprintf (buf, sizeof buf, "%u", p->published_start);
      add (o, "published", json_object_new_string (buf));
    }
  add_str (o, "protocol", p->protocol);
  add_str (o, "app_protocol", p->app_protocol);
  return o;
}

static jo *
mount_json (const struct stack_mount *v)
{
  static const char *const types[] = { "volume", "bind", "tmpfs" };
  jo *o = json_object_new_object ();
  add (o, "type", json_object_new_string (types[v->type]));
  add_str (o, "source", v->source);
  add_str (o, "target", v->target);
  if (v->read_only)
    add (o, "read_only", json_object_new_boolean (true));
  add_str (o, "consistency", v->consistency);
  if (v->type == STACK_MOUNT_BIND)
    {
      jo *b = json_object_new_object ();
      add_str (b, "propagation", v->propagation);
      add (b, "create_host_path", json_object_new_boolean (v->create_host_path));
      add_str (b, "selinux", v->selinux);
      add (o, "bind", b);
    }
  if (v->type == STACK_MOUNT_VOLUME && (v->nocopy || v->subpath))
    {
      jo *b = json_object_new_object ();
      if (v->nocopy)
        add (b, "nocopy", json_object_new_boolean (true));
      add_str (b, "subpath", v->subpath);
      add (o, "volume", b);
    }
  if (v->type == STACK_MOUNT_TMPFS && (v->tmpfs_size || v->tmpfs_mode))
    {
      jo *b = json_object_new_object ();
      if (v->tmpfs_size)
        add (b, "size", json_object_new_int64 ((int64_t) v->tmpfs_size));
      if (v->tmpfs_mode)
        add (b, "mode", json_object_new_int ((int) v->tmpfs_mode));
      add (o, "tmpfs", b);
    }
  return o;
}

static jo *
filerefs_json (const struct stack_file_ref *r, size_t n)
{
  jo *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    {
      jo *o = json_object_new_object ();
      add_str (o, "source", r[i].source);
      add_str (o, "target", r[i].target);
      add_str (o, "uid", r[i].uid);
      add_str (o, "gid", r[i].gid);
      if (r[i].mode >= 0)
        add (o, "mode", json_object_new_int (r[i].mode));
      json_object_array_add (a, o);
    }
  return a;
}

static jo *
resources_json (const struct stack_resources *r)
{
  jo *o = json_object_new_object ();
  if (r->cpus > 0)
    add (o, "cpus", double_json (r->cpus));
  if (r->memory)
    add (o, "memory", json_object_new_int64 ((int64_t) r->memory));
  return o;
}

static void
add_extensions (jo *o, struct json_object *x)
{
  if (x == NULL)
    return;
  json_object_object_foreach (x, k, v)
    add (o, k, v ? json_object_get (v) : NULL);
}

struct json_object *
stack_service_to_json (const struct stack_service *s)
{
  static const char *const cond[] = { "service_started", "service_healthy",
                                      "service_completed_successfully" };
  jo *o = json_object_new_object ();

  if (s->build.set)
    {
      const struct stack_build *b = &s->build;
      jo *bo = json_object_new_object ();
      add_str (bo, "context", b->context);
      add_str (bo, "dockerfile", b->dockerfile ? b->dockerfile : "Dockerfile");
      add_kvs (bo, "args", &b->args);
      add_str (bo, "target", b->target);
      add_kvs (bo, "labels", &b->labels);
      add_str (bo, "network", b->network);
      if (b->extra_hosts.n)
        add (bo, "extra_hosts", extra_hosts_json (&b->extra_hosts));
      if (b->shm_size)
        add (bo, "shm_size", json_object_new_int64 ((int64_t) b->shm_size));
      add (o, "build", bo);
    }
  add_strv (o, "cap_add", &s->cap_add);
  add_strv (o, "cap_drop", &s->cap_drop);
  add_strv (o, "command", &s->command);
  if (s->nconfigs)
    add (o, "configs", filerefs_json (s->configs, s->nconfigs));
  add_str (o, "container_name", s->container_name);
  if (s->cpus > 0)
    add (o, "cpus", double_json (s->cpus));
  if (s->limits.cpus > 0 || s->limits.memory || s->reservations.cpus > 0
      || s->reservations.memory)
    {
      jo *r = json_object_new_object ();
      if (s->limits.cpus > 0 || s->limits.memory)
        add (r, "limits", resources_json (&s->limits));
      if (s->reservations.cpus > 0 || s->reservations.memory)
        add (r, "reservations", resources_json (&s->reservations));
      jo *d = json_object_new_object ();
      add (d, "resources", r);
      add (o, "deploy", d);
    }
  if (s->ndepends_on)
    {
      jo *d = json_object_new_object ();
      for (size_t i = 0; i < s->ndepends_on; i++)
        {
          jo *e = json_object_new_object ();
          add (e, "condition", json_object_new_string (cond[s->depends_on[i].condition]));
          add (e, "required", json_object_new_boolean (s->depends_on[i].required));
          if (s->depends_on[i].restart)
            add (e, "restart", json_object_new_boolean (true));
          add (d, s->depends_on[i].service, e);
        }
      add (o, "depends_on", d);
    }
  add_strv (o, "dns", &s->dns);
  add_strv (o, "entrypoint", &s->entrypoint);
  add_kvs (o, "environment", &s->environment);
  add_strv (o, "expose", &s->expose);
  if (s->extra_hosts.n)
    add (o, "extra_hosts", extra_hosts_json (&s->extra_hosts));
  if (s->healthcheck.set)
    {
      const struct stack_healthcheck *h = &s->healthcheck;
      jo *ho = json_object_new_object ();
      if (h->test.n)
        add (ho, "test", strv_json (&h->test));
      if (h->interval)
        add_dur (ho, "interval", h->interval);
      if (h->timeout)
        add_dur (ho, "timeout", h->timeout);
      if (h->retries >= 0)
        add (ho, "retries", json_object_new_int (h->retries));
      if (h->start_period)
        add_dur (ho, "start_period", h->start_period);
      if (h->start_interval)
        add_dur (ho, "start_interval", h->start_interval);
      if (h->disable)
        add (ho, "disable", json_object_new_boolean (true));
      add (o, "healthcheck", ho);
    }
  add_str (o, "hostname", s->hostname);
  add_str (o, "image", s->image);
  if (s->init >= 0)
    add (o, "init", json_object_new_boolean (s->init));
  add_kvs (o, "labels", &s->labels);
  if (s->mem_limit)
    add (o, "mem_limit", json_object_new_int64 ((int64_t) s->mem_limit));
  add_str (o, "network_mode", s->network_mode);
  if (s->nnetworks)
    {
      jo *n = json_object_new_object ();
      for (size_t i = 0; i < s->nnetworks; i++)
        {
          const struct stack_service_network *sn = &s->networks[i];
          jo *e = NULL;
          if (sn->aliases.n || sn->ipv4_address || sn->ipv6_address || sn->priority)
            {
              e = json_object_new_object ();
              if (sn->aliases.n)
                add (e, "aliases", strv_json (&sn->aliases));
              add_str (e, "ipv4_address", sn->ipv4_address);
              add_str (e, "ipv6_address", sn->ipv6_address);
              if (sn->priority)
                add (e, "priority", json_object_new_int (sn->priority));
            }
          add (n, sn->name, e);
        }
      add (o, "networks", n);
    }
  add_str (o, "platform", s->platform);
  if (s->nports)
    {
      jo *a = json_object_new_array ();
      for (size_t i = 0; i < s->nports; i++)
        {
          const struct stack_port *p = &s->ports[i];
          unsigned span = p->target_end - p->target_start;
          for (unsigned k = 0; k <= span; k++)
            json_object_array_add (a, port_json (p, k));
        }
      add (o, "ports", a);
    }
  if (s->privileged)
    add (o, "privileged", json_object_new_boolean (true));
  add_strv (o, "profiles", &s->profiles);
  add_str (o, "pull_policy", s->pull_policy);
  if (s->read_only)
    add (o, "read_only", json_object_new_boolean (true));
  add_str (o, "restart", s->restart);
  add_str (o, "runtime", s->runtime);
  if (s->nsecrets)
    add (o, "secrets", filerefs_json (s->secrets, s->nsecrets));
  if (s->shm_size)
    add (o, "shm_size", json_object_new_int64 ((int64_t) s->shm_size));
  if (s->stdin_open)
    add (o, "stdin_open", json_object_new_boolean (true));
  if (s->stop_grace_period >= 0)
    add_dur (o, "stop_grace_period", s->stop_grace_period);
  add_str (o, "stop_signal", s->stop_signal);
  add_kvs (o, "sysctls", &s->sysctls);
  add_strv (o, "tmpfs", &s->tmpfs);
  if (s->tty)
    add (o, "tty", json_object_new_boolean (true));
  if (s->nulimits)
    {
      jo *u = json_object_new_object ();
      for (size_t i = 0; i < s->nulimits; i++)
        {
          jo *e = json_object_new_object ();
          add (e, "soft", json_object_new_int64 (s->ulimits[i].soft));
          add (e, "hard", json_object_new_int64 (s->ulimits[i].hard));
          add (u, s->ulimits[i].name, e);
        }
      add (o, "ulimits", u);
    }
  add_str (o, "user", s->user);
  if (s->nvolumes)
    {
      jo *a = json_object_new_array ();
      for (size_t i = 0; i < s->nvolumes; i++)
        json_object_array_add (a, mount_json (&s->volumes[i]));
      add (o, "volumes", a);
    }
  add_str (o, "working_dir", s->working_dir);
  add_extensions (o, s->x);
  return o;
}

static jo *
object_json (const struct stack_object *ob)
{
  jo *o = json_object_new_object ();
  add_str (o, "name", ob->name);
  add_str (o, "file", ob->file);
  add_str (o, "environment", ob->environment);
  add_str (o, "content", ob->content);
  if (ob->external)
    add (o, "external", json_object_new_boolean (true));
  return o;
}

/* The top level; services only when with_services. */
static jo *
top_json (const struct stack *st, bool with_services)
{
  jo *o = json_object_new_object ();
  if (with_services)
    {
      add_str (o, "name", st->name);
      jo *svcs = json_object_new_object ();
      for (size_t i = 0; i < st->nservices; i++)
        add (svcs, st->services[i].name, stack_service_to_json (&st->services[i]));
      add (o, "services", svcs);
    }
  if (st->nnetworks)
    {
      jo *ns = json_object_new_object ();
      for (size_t i = 0; i < st->nnetworks; i++)
        {
          const struct stack_network *n = &st->networks[i];
          jo *e = json_object_new_object ();
          add_str (e, "name", n->name);
          add_str (e, "driver", n->driver);
          add_kvs (e, "driver_opts", &n->driver_opts);
          if (n->ipam_driver || n->nipam_config || n->ipam_options.n)
            {
              jo *ip = json_object_new_object ();
              add_str (ip, "driver", n->ipam_driver);
              if (n->nipam_config)
                {
                  jo *a = json_object_new_array ();
                  for (size_t k = 0; k < n->nipam_config; k++)
                    {
                      const struct stack_ipam_config *c = &n->ipam_config[k];
                      jo *ce = json_object_new_object ();
                      add_str (ce, "subnet", c->subnet);
                      add_str (ce, "ip_range", c->ip_range);
                      add_str (ce, "gateway", c->gateway);
                      add_kvs (ce, "aux_addresses", &c->aux_addresses);
                      json_object_array_add (a, ce);
                    }
                  add (ip, "config", a);
                }
              add_kvs (ip, "options", &n->ipam_options);
              add (e, "ipam", ip);
            }
          if (n->external)
            add (e, "external", json_object_new_boolean (true));
          if (n->internal)
            add (e, "internal", json_object_new_boolean (true));
          if (n->attachable)
            add (e, "attachable", json_object_new_boolean (true));
          if (n->enable_ipv6)
            add (e, "enable_ipv6", json_object_new_boolean (true));
          add_kvs (e, "labels", &n->labels);
          add (ns, n->key, e);
        }
      add (o, "networks", ns);
    }
  if (st->nvolumes)
    {
      jo *vs = json_object_new_object ();
      for (size_t i = 0; i < st->nvolumes; i++)
        {
          const struct stack_volume *v = &st->volumes[i];
          jo *e = json_object_new_object ();
          add_str (e, "name", v->name);
          add_str (e, "driver", v->driver);
          add_kvs (e, "driver_opts", &v->driver_opts);
          if (v->external)
            add (e, "external", json_object_new_boolean (true));
          add_kvs (e, "labels", &v->labels);
          add (vs, v->key, e);
        }
      add (o, "volumes", vs);
    }
  if (st->nsecrets)
    {
      jo *ss = json_object_new_object ();
      for (size_t i = 0; i < st->nsecrets; i++)
        add (ss, st->secrets[i].key, object_json (&st->secrets[i]));
      add (o, "secrets", ss);
    }
  if (st->nconfigs)
    {
      jo *cs = json_object_new_object ();
      for (size_t i = 0; i < st->nconfigs; i++)
        add (cs, st->configs[i].key, object_json (&st->configs[i]));
      add (o, "configs", cs);
    }
  add_extensions (o, st->x);
  return o;
}

struct json_object *
stack_to_json (const struct stack *st)
{
  return top_json (st, true);
}

/* ---- YAML */

/* The YAML text goes to a buffer of our own, handed to the FILE in large
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

static void
ob_write (struct obuf *o, const char *s, size_t len)
{
  if (len > sizeof o->b - o->n)
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

/* Character classes for needs_quotes, filled on first use. */
enum { CQ_FIRST = 1, CQ_NUM = 2, CQ_CTRL = 4 };
static unsigned char cq[256];

static void
cq_init (void)
{
  for (const char *p = "-?:,[]{}#&*!|>'\"%@` \t"; *p; p++)
    cq[(unsigned char) *p] |= CQ_FIRST;
  for (int c = 0; c < 256; c++)
    {
      /* what strtod may read after its first character (it skips white
       * space only before the number) */
      if (isalnum (c) || c == '.' || c == '+' || c == '-' || c == '(' || c == ')' || c == '_')
        cq[c] |= CQ_NUM;
      if (c < 0x20 || c == 0x7f)
        cq[c] |= CQ_CTRL;
    }
}

static bool
lower3_is (const char *s, const char *w)
{
  return s[0] && (s[0] | 0x20) == w[0] && s[1] && (s[1] | 0x20) == w[1] && s[2]
         && (s[2] | 0x20) == w[2];
}

/* Whether s must be written quoted; *lenp gets its length when not. */
static bool
needs_quotes (const char *s, size_t *lenp)
{
  static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y", "n",
                                       "null", "~", NULL };
  static bool init;
  if (!init)
    cq_init (), init = true;
  const unsigned char *u = (const unsigned char *) s;
  if (*u == '\0' || (cq[*u] & CQ_FIRST))
    return true;
  /* one pass: length, control characters, ": ", " #", number characters */
  unsigned all = CQ_NUM;
  size_t l = 0;
  for (const unsigned char *p = u; *p; p++, l++)
    {
      unsigned c = cq[*p];
      all &= c;
      if (c & CQ_CTRL)
        return true;
      if (*p == ':' && (p[1] == ' ' || p[1] == '\t'))
        return true;
      if (*p == '#' && p > u && (p[-1] == ' ' || p[-1] == '\t'))
        return true;
    }
  *lenp = l;
  if (u[l - 1] == ' ' || u[l - 1] == ':' || u[l - 1] == '\t')
    return true;
  /* 0x1f, 0o7, 1e3, .inf */
  if (s[0] == '.' || (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')))
    return true;
  if (l <= 5 && strchr ("tfynoTFYNO~", s[0]))
    for (size_t i = 0; words[i]; i++)
      if (strcasecmp (s, words[i]) == 0)
        return true;
  if ((all & CQ_NUM)
      && (strchr ("0123456789.+-", s[0]) || lower3_is (s, "inf") || lower3_is (s, "nan")))
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

static bool
is_inline (jo *v)
{
  if (v == NULL)
    return true;
  switch (json_object_get_type (v))
    {
    case json_type_object:
      return json_object_object_length (v) == 0;
    case json_type_array:
      return json_object_array_length (v) == 0;
    default:
      return true;
    }
}

static void
yaml_scalar (struct obuf *out, jo *v)
{
  if (v == NULL)
    {
      ob_write (out, "null", 4);
      return;
    }
  switch (json_object_get_type (v))
    {
    case json_type_object: ob_write (out, "{}", 2); break;
    case json_type_array: ob_write (out, "[]", 2); break;
    case json_type_string: yaml_str (out, json_object_get_string (v)); break;
    case json_type_boolean:
      if (json_object_get_boolean (v))
        ob_write (out, "true", 4);
      else
        ob_write (out, "false", 5);
      break;
    default: ob_puts (out, json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN)); break;
    }
}

static void yaml_node (struct obuf *out, jo *v, int indent);

static void
yaml_map (struct obuf *out, jo *v, int indent, bool first_inline)
{
  bool first = true;
  json_object_object_foreach (v, k, val)
    {
      if (!(first && first_inline))
        ob_spaces (out, indent);
      first = false;
      yaml_str (out, k);
      ob_putc (out, ':');
      if (is_inline (val))
        {
          ob_putc (out, ' ');
          yaml_scalar (out, val);
          ob_putc (out, '\n');
        }
      else
        {
          ob_putc (out, '\n');
          yaml_node (out, val, json_object_get_type (val) == json_type_array ? indent : indent + 2);
        }
    }
}

static void
yaml_node (struct obuf *out, jo *v, int indent)
{
  if (json_object_get_type (v) == json_type_object)
    yaml_map (out, v, indent, false);
  else
    {
      size_t n = json_object_array_length (v);
      for (size_t i = 0; i < n; i++)
        {
          jo *it = json_object_array_get_idx (v, i);
          ob_spaces (out, indent);
          ob_write (out, "- ", 2);
          if (is_inline (it))
            {
              yaml_scalar (out, it);
              ob_putc (out, '\n');
            }
          else if (json_object_get_type (it) == json_type_object)
            yaml_map (out, it, indent + 2, true);
          else
            {
              /* a list in a list */
              ob_putc (out, '\n');
              yaml_node (out, it, indent + 2);
            }
        }
    }
}

void
stack_print_yaml (struct json_object *v, FILE *out)
{
  struct obuf *o = xmalloc (sizeof *o);
  o->out = out;
  o->n = 0;
  if (is_inline (v))
    {
      yaml_scalar (o, v);
      ob_putc (o, '\n');
    }
  else
    yaml_node (o, v, 0);
  ob_flush (o);
  free (o);
}

/* ---- streaming: one service's tree at a time (bounded memory) */

static void
json_key (FILE *out, const char *k)
{
  jo *ks = json_object_new_string (k);
  fputs (json_object_to_json_string_ext (ks, JSON_C_TO_STRING_PLAIN
                                               | JSON_C_TO_STRING_NOSLASHESCAPE), out);
  json_object_put (ks);
  fputc (':', out);
}

void
stack_print (const struct stack *st, FILE *out, bool json)
{
  const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
  jo *rest = top_json (st, false);
  if (json)
    {
      fputc ('{', out);
      if (st->name)
        {
          json_key (out, "name");
          jo *n = json_object_new_string (st->name);
          fputs (json_object_to_json_string_ext (n, fl), out);
          json_object_put (n);
          fputc (',', out);
        }
      json_key (out, "services");
      fputc ('{', out);
      for (size_t i = 0; i < st->nservices; i++)
        {
          jo *s = stack_service_to_json (&st->services[i]);
          if (i)
            fputc (',', out);
          json_key (out, st->services[i].name);
          fputs (json_object_to_json_string_ext (s, fl), out);
          json_object_put (s);
        }
      fputc ('}', out);
      json_object_object_foreach (rest, k, v)
        {
          fputc (',', out);
          json_key (out, k);
          fputs (v ? json_object_to_json_string_ext (v, fl) : "null", out);
        }
      fputs ("}\n", out);
    }
  else
    {
      struct obuf *ob = xmalloc (sizeof *ob);
      ob->out = out;
      ob->n = 0;
      if (st->name)
        {
          ob_write (ob, "name: ", 6);
          yaml_str (ob, st->name);
          ob_putc (ob, '\n');
        }
      if (st->nservices == 0)
        ob_puts (ob, "services: {}\n");
      else
        ob_puts (ob, "services:\n");
      for (size_t i = 0; i < st->nservices; i++)
        {
          jo *one = json_object_new_object ();
          add (one, st->services[i].name, stack_service_to_json (&st->services[i]));
          yaml_map (ob, one, 2, false);
          json_object_put (one);
        }
      if (json_object_object_length (rest))
        yaml_map (ob, rest, 0, false);
      ob_flush (ob);
      free (ob);
    }
  json_object_put (rest);
}
