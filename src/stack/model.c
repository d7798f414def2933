/* model.c - the merged document tree to struct stack: keys and types
 * checked against Compose's specification, values normalized, references
 * and profiles resolved.  Every problem is recorded (never only the first)
 * with the place of the node it concerns. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack/checks.h"
#include "stack/files.h"
#include "stack/model.h"
#include "stack/replicas.h"
#include "stack/xproxy.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* ---- arena */

struct stack_arena {
  struct stack_arena *next;
  size_t used, size;
  max_align_t data[];
};

struct stack_arena *
stack_arena_new (void)
{
  struct stack_arena *a = xzalloc (sizeof *a);
  return a;
}

void
stack_arena_free (struct stack_arena *a)
{
  while (a)
    {
      struct stack_arena *n = a->next;
      free (a);
      a = n;
    }
}

/* n bytes, not zeroed, aligned to align (1 or 8) */
static void *
sa_alloc_raw (struct stack_arena *head, size_t n, size_t align)
{
  /* the model is pointers, sizes, integers, doubles and text: 8-byte
   * alignment (max_align_t's 16 only served long double); text needs
   * none */
  if (n == 0)
    n = 1;
  struct stack_arena *c = head->next;
  size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
  if (c == NULL || c->size < at || c->size - at < n)
    {
      size_t sz = n > 60000 ? n : 64000;
      c = xmalloc (sizeof *c + sz);
      c->size = sz;
      c->used = 0;
      c->next = head->next;
      head->next = c;
      /* a big one-off block goes behind the current one */
      if (n > 60000 && c->next)
        {
          head->next = c->next;
          c->next = head->next->next;
          head->next->next = c;
        }
      at = 0;
    }
  void *p = (char *) c->data + at;
  c->used = at + n;
  return p;
}

void *
sa_alloc (struct stack_arena *head, size_t n)
{
  void *p = sa_alloc_raw (head, n, 8);
  memset (p, 0, n);
  return p;
}

char *
sa_strdup (struct stack_arena *a, const char *s)
{
  if (s == NULL)
    return NULL;
  size_t l = strlen (s);
  char *r = sa_alloc_raw (a, l + 1, 1);
  memcpy (r, s, l + 1);
  return r;
}

char *
sa_printf (struct stack_arena *a, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *t = xvasprintf (fmt, ap);
  va_end (ap);
  char *r = sa_strdup (a, t);
  free (t);
  return r;
}

/* ---- the context of one model build */

struct mctx {
  struct stack *st;
  struct stack_arena *a;
  struct diags *d;
  const struct stack_env *env;
  const char *project_dir;
  char path[1024];
  size_t plen;
  size_t nsuggest;             /* "did you mean" computed so far */
};

static size_t
path_push (struct mctx *m, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static size_t
path_push (struct mctx *m, const char *fmt, ...)
{
  size_t mark = m->plen;
  va_list ap;
  va_start (ap, fmt);
  /* the common forms without vsnprintf (called for every key and item);
   * the same text and the same truncation */
  char num[3 * sizeof (size_t) + 3];
  const char *pre = NULL, *str = NULL;
  size_t prelen = 0, slen = 0;
  if (fmt[0] == '.' && fmt[1] == '%' && fmt[2] == 's' && fmt[3] == '\0')
    {
      pre = ".", prelen = 1;
      str = va_arg (ap, const char *);
      slen = strlen (str);
    }
  else if (fmt[0] == '[' && strcmp (fmt, "[%zu]") == 0)
    {
      size_t v = va_arg (ap, size_t);
      char *e = num + sizeof num, *q = e;
      *--q = ']';
      do
        *--q = (char) ('0' + v % 10);
      while ((v /= 10) != 0);
      *--q = '[';
      str = q, slen = (size_t) (e - q);
    }
  else if (strchr (fmt, '%') == NULL)
    str = fmt, slen = strlen (fmt);
  if (str)
    {
      size_t avail = sizeof m->path - m->plen - 1;
      char *d = m->path + m->plen;
      size_t k = prelen < avail ? prelen : avail;
      if (k)
        memcpy (d, pre, k);
      d += k, avail -= k;
      k = slen < avail ? slen : avail;
      memcpy (d, str, k);
      d[k] = '\0';
      m->plen += prelen + slen;
    }
  else
    {
      int n = vsnprintf (m->path + m->plen, sizeof m->path - m->plen, fmt, ap);
      if (n > 0)
        m->plen += (size_t) n;
    }
  va_end (ap);
  if (m->plen >= sizeof m->path)
    m->plen = sizeof m->path - 1;
  return mark;
}

static void
path_pop (struct mctx *m, size_t mark)
{
  m->plen = mark;
  m->path[mark] = '\0';
}

static void
report (struct mctx *m, enum diag_severity sev, const struct node *at, const char *fmt, va_list ap)
{
  cleanup_free char *msg = xvasprintf (fmt, ap);
  if (m->plen)
    diag_add (m->d, sev, at, "%s: %s", m->path, msg);
  else
    diag_add (m->d, sev, at, "%s", msg);
}

static void merr (struct mctx *m, const struct node *at, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
static void
merr (struct mctx *m, const struct node *at, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  report (m, DIAG_ERROR, at, fmt, ap);
  va_end (ap);
}

static void mwarn (struct mctx *m, const struct node *at, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
static void
mwarn (struct mctx *m, const struct node *at, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  report (m, DIAG_WARNING, at, fmt, ap);
  va_end (ap);
}

/* node_map_get with a first-character test before strcmp: the model looks
 * up every key of every service. */
static const struct node *
mget (const struct node *map, const char *key)
{
  if (map == NULL || map->kind != NODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->npairs; i++)
    {
      const char *k = map->pairs[i].key->scalar;
      if (k[0] == key[0] && strcmp (k, key) == 0)
        return map->pairs[i].value;
    }
  return NULL;
}

/* ---- types */

static bool
is_bool_word (const char *s, bool *v)
{
  static const char *const t[] = { "true", "yes", "on", "y" };
  static const char *const f[] = { "false", "no", "off", "n" };
  for (size_t i = 0; i < 4; i++)
    {
      if (strcasecmp (s, t[i]) == 0)
        return *v = true, true;
      if (strcasecmp (s, f[i]) == 0)
        return *v = false, true;
    }
  return false;
}

static bool
is_number (const char *s)
{
  char *end;
  if (*s == '\0')
    return false;
  errno = 0;
  (void) strtod (s, &end);
  return *end == '\0' && errno == 0;
}

static const char *
got (const struct node *n)
{
  bool b;
  switch (n->kind)
    {
    case NODE_NULL: return "null";
    case NODE_SEQ: return "a list";
    case NODE_MAP: return "a map";
    default:
      if (n->plain && (strcmp (n->scalar, "true") == 0 || strcmp (n->scalar, "false") == 0))
        return "a boolean";
      if (n->plain && is_number (n->scalar))
        return "a number";
      (void) b;
      return "a string";
    }
}

static char *
get_str (struct mctx *m, const struct node *n)
{
  if (n == NULL || n->kind == NODE_NULL)
    return NULL;
  if (n->kind != NODE_SCALAR)
    {
      merr (m, n, "expected a string, got %s", got (n));
      return NULL;
    }
  return sa_strdup (m->a, n->scalar);
}

static bool
get_bool (struct mctx *m, const struct node *n, bool *out)
{
  if (n == NULL || n->kind == NODE_NULL)
    return false;
  if (n->kind == NODE_SCALAR && is_bool_word (n->scalar, out))
    return true;
  if (n->kind == NODE_SCALAR)
    merr (m, n, "expected a boolean (true or false), got '%s'", n->scalar);
  else
    merr (m, n, "expected a boolean (true or false), got %s", got (n));
  return false;
}

static bool
get_int (struct mctx *m, const struct node *n, long long min, long long max, long long *out)
{
  if (n == NULL || n->kind == NODE_NULL)
    return false;
  if (n->kind == NODE_SCALAR)
    {
      char *end;
      errno = 0;
      long long v = strtoll (n->scalar, &end, 10);
      if (*n->scalar && *end == '\0' && errno == 0 && v >= min && v <= max)
        return *out = v, true;
      merr (m, n, "expected an integer from %lld to %lld, got '%s'", min, max, n->scalar);
      return false;
    }
  merr (m, n, "expected an integer, got %s", got (n));
  return false;
}

static bool
get_double (struct mctx *m, const struct node *n, double *out)
{
  if (n == NULL || n->kind == NODE_NULL)
    return false;
  if (n->kind == NODE_SCALAR && is_number (n->scalar))
    {
      double v = strtod (n->scalar, NULL);
      if (v >= 0)
        return *out = v, true;
    }
  if (n->kind == NODE_SCALAR)
    merr (m, n, "expected a non-negative number, got '%s'", n->scalar);
  else
    merr (m, n, "expected a number, got %s", got (n));
  return false;
}

static bool
get_duration (struct mctx *m, const struct node *n, int64_t *out)
{
  const char *why;
  if (n == NULL || n->kind == NODE_NULL)
    return false;
  if (n->kind != NODE_SCALAR)
    {
      merr (m, n, "expected a duration such as 1m30s, got %s", got (n));
      return false;
    }
  if (stack_parse_duration (n->scalar, out, &why) < 0)
    {
      merr (m, n, "invalid duration '%s': %s (e.g. 10s, 1m30s, 500ms)", n->scalar,
            why);
      return false;
    }
  return true;
}

static bool
get_size (struct mctx *m, const struct node *n, uint64_t *out)
{
  const char *why;
  if (n == NULL || n->kind == NODE_NULL)
    return false;
  if (n->kind != NODE_SCALAR)
    {
      merr (m, n, "expected a size such as 512m, got %s", got (n));
      return false;
    }
  if (stack_parse_size (n->scalar, out, &why) < 0)
    {
      merr (m, n, "invalid size '%s': %s", n->scalar, why);
      return false;
    }
  return true;
}

/* A list of strings; a single string too when allow_string. */
static void
get_strv (struct mctx *m, const struct node *n, bool allow_string, struct stack_strv *out)
{
  if (n == NULL)
    return;
  if (n->kind == NODE_NULL)
    {
      out->set = true;
      return;
    }
  if (n->kind == NODE_SCALAR && allow_string)
    {
      out->v = sa_alloc (m->a, 2 * sizeof (char *));
      out->v[0] = sa_strdup (m->a, n->scalar);
      out->n = 1;
      out->set = true;
      return;
    }
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected %s, got %s",
            allow_string ? "a string or a list of strings" : "a list of strings", got (n));
      return;
    }
  out->v = sa_alloc (m->a, (n->nitems + 1) * sizeof (char *));
  out->set = true;
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      if (it->kind != NODE_SCALAR)
        {
          size_t mk = path_push (m, "[%zu]", i);
          merr (m, it, "expected a string, got %s", got (it));
          path_pop (m, mk);
          continue;
        }
      out->v[out->n++] = sa_strdup (m->a, it->scalar);
    }
}

static void
kvs_add (struct mctx *m, struct stack_kvs *kv, const char *name, const char *value)
{
  kv->v[kv->n].name = sa_strdup (m->a, name);
  kv->v[kv->n].value = sa_strdup (m->a, value);
  kv->n++;
}

struct kv_pos {
  const char *name;
  size_t i;
};

static int
cmp_kv_pos (const void *a, const void *b)
{
  const struct kv_pos *x = a, *y = b;
  int c = strcmp (x->name, y->name);
  return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

/* A name given twice keeps its first place and takes its last value
 * (O(n log n): lists may be long). */
static void
kvs_dedupe (struct stack_kvs *kv)
{
  if (kv->n < 2)
    return;
  struct kv_pos *p = xcalloc (kv->n, sizeof *p);
  bool *drop = xcalloc (kv->n, sizeof *drop);
  bool any = false;
  for (size_t i = 0; i < kv->n; i++)
    p[i] = (struct kv_pos) { kv->v[i].name, i };
  qsort (p, kv->n, sizeof *p, cmp_kv_pos);
  for (size_t k = 1; k < kv->n; k++)
    if (strcmp (p[k - 1].name, p[k].name) == 0)
      {
        size_t first = p[k - 1].i;   /* the group's first, carried along */
        kv->v[first].value = kv->v[p[k].i].value;
        drop[p[k].i] = true;
        p[k].i = first;
        any = true;
      }
  if (any)
    {
      size_t o = 0;
      for (size_t i = 0; i < kv->n; i++)
        if (!drop[i])
          kv->v[o++] = kv->v[i];
      kv->n = o;
    }
  free (p);
  free (drop);
}

/* Drop an entry whose name and value an earlier one has (extra_hosts). */
static void
kvs_dedupe_pairs (struct stack_kvs *kv)
{
  if (kv->n < 2)
    return;
  struct kv_pos *p = xcalloc (kv->n, sizeof *p);
  bool *drop = xcalloc (kv->n, sizeof *drop);
  char **keys = xcalloc (kv->n, sizeof *keys);
  for (size_t i = 0; i < kv->n; i++)
    {
      keys[i] = xasprintf ("%s=%s", kv->v[i].name, kv->v[i].value ? kv->v[i].value : "");
      p[i] = (struct kv_pos) { keys[i], i };
    }
  qsort (p, kv->n, sizeof *p, cmp_kv_pos);
  for (size_t k = 1; k < kv->n; k++)
    if (strcmp (p[k - 1].name, p[k].name) == 0)
      drop[p[k].i] = true;
  size_t o = 0;
  for (size_t i = 0; i < kv->n; i++)
    {
      if (!drop[i])
        kv->v[o++] = kv->v[i];
      free (keys[i]);
    }
  kv->n = o;
  free (keys);
  free (p);
  free (drop);
}

/* A map, or a list of "NAME<sep>VALUE" strings.  Values of a map are
 * scalars (numbers and booleans as written) or null; list items without
 * sep have no value. */
static void
get_dict (struct mctx *m, const struct node *n, const char *seps, struct stack_kvs *out)
{
  if (n == NULL || n->kind == NODE_NULL)
    return;
  if (n->kind == NODE_MAP)
    {
      out->v = sa_alloc (m->a, (n->npairs + 1) * sizeof *out->v);
      for (size_t i = 0; i < n->npairs; i++)
        {
          const struct node *v = n->pairs[i].value;
          if (v->kind == NODE_SEQ || v->kind == NODE_MAP)
            {
              size_t mk = path_push (m, ".%s", n->pairs[i].key->scalar);
              merr (m, v, "expected a string, number, boolean or null, got %s", got (v));
              path_pop (m, mk);
              continue;
            }
          kvs_add (m, out, n->pairs[i].key->scalar, v->kind == NODE_SCALAR ? v->scalar : NULL);
        }
      return;
    }
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected a map or a list of \"KEY%cVALUE\" strings, got %s", seps[0], got (n));
      return;
    }
  out->v = sa_alloc (m->a, (n->nitems + 1) * sizeof *out->v);
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      if (it->kind != NODE_SCALAR)
        {
          size_t mk = path_push (m, "[%zu]", i);
          merr (m, it, "expected a \"KEY%cVALUE\" string, got %s", seps[0], got (it));
          path_pop (m, mk);
          continue;
        }
      size_t k = strcspn (it->scalar, seps);
      cleanup_free char *name = xstrndup (it->scalar, k);
      if (k == 0)
        {
          size_t mk = path_push (m, "[%zu]", i);
          merr (m, it, "empty name in '%s'", it->scalar);
          path_pop (m, mk);
          continue;
        }
      kvs_add (m, out, name, it->scalar[k] ? it->scalar + k + 1 : NULL);
    }
  kvs_dedupe (out);
}


/* The same, for map[key], with ".key" in the path of any message. */
#define KEYED(call)                                     \
  ({                                                    \
    size_t mk_ = path_push (m, ".%s", key);             \
    __auto_type r_ = (call);                            \
    path_pop (m, mk_);                                  \
    r_;                                                 \
  })
static char *
kstr (struct mctx *m, const struct node *map, const char *key)
{
  return KEYED (get_str (m, mget (map, key)));
}
static bool
kbool (struct mctx *m, const struct node *map, const char *key, bool *out)
{
  return KEYED (get_bool (m, mget (map, key), out));
}
static bool
kint (struct mctx *m, const struct node *map, const char *key, long long min, long long max,
      long long *out)
{
  return KEYED (get_int (m, mget (map, key), min, max, out));
}
static bool
ksize (struct mctx *m, const struct node *map, const char *key, uint64_t *out)
{
  return KEYED (get_size (m, mget (map, key), out));
}
static void
kdict (struct mctx *m, const struct node *map, const char *key, struct stack_kvs *out)
{
  size_t mk = path_push (m, ".%s", key);
  get_dict (m, mget (map, key), "=", out);
  path_pop (m, mk);
}

/* The label prefix itm-env keeps for its own labels (ns.h's
 * ITM_LABEL_PREFIX; the loader sits below ns): a stack's label under it
 * would be dropped or clash with ours, so it is refused.  n is a labels
 * map or list. */
#define RESERVED_LABEL_PREFIX "io.itm-env."
static void
reserved_labels (struct mctx *m, const struct node *n)
{
  size_t pl = strlen (RESERVED_LABEL_PREFIX);
  if (n && n->kind == NODE_MAP)
    for (size_t i = 0; i < n->npairs; i++)
      {
        const struct node *k = n->pairs[i].key;
        if (k->kind == NODE_SCALAR && strncmp (k->scalar, RESERVED_LABEL_PREFIX, pl) == 0)
          merr (m, k, "label '%s': labels under '" RESERVED_LABEL_PREFIX "' are itm-env's own",
                k->scalar);
      }
  else if (n && n->kind == NODE_SEQ)
    for (size_t i = 0; i < n->nitems; i++)
      {
        const struct node *it = n->items[i];
        if (it->kind == NODE_SCALAR && strncmp (it->scalar, RESERVED_LABEL_PREFIX, pl) == 0)
          {
            size_t k = strcspn (it->scalar, "=");
            merr (m, it, "label '%.*s': labels under '" RESERVED_LABEL_PREFIX "' are itm-env's own",
                  (int) k, it->scalar);
          }
      }
}

/* A path with a ".." component ("..", "../x", "x/..", "x/../y"). */
static bool
has_dotdot (const char *p)
{
  for (const char *c = p; *c;)
    {
      size_t l = strcspn (c, "/");
      if (l == 2 && c[0] == '.' && c[1] == '.')
        return true;
      c += l;
      c += strspn (c, "/");
    }
  return false;
}

/* kdict for labels: the same, refusing our prefix. */
static void
klabels (struct mctx *m, const struct node *map, const char *key, struct stack_kvs *out)
{
  kdict (m, map, key, out);
  /* a label without a value ("- b") is empty, as Compose */
  for (size_t i = 0; i < out->n; i++)
    if (out->v[i].value == NULL)
      out->v[i].value = sa_strdup (m->a, "");
  size_t mk = path_push (m, ".%s", key);
  reserved_labels (m, mget (map, key));
  path_pop (m, mk);
}

/* ---- key tables */

enum keyuse { K_USE, K_WARN, K_ORDER /* warned; only the start order it implies is used */ };
struct keyspec {
  const char *name;
  enum keyuse use;
};
#define KEND { NULL, 0 }

static const struct keyspec top_keys[] = {
  { "name", K_USE }, { "version", K_USE }, { "services", K_USE }, { "networks", K_USE },
  { "volumes", K_USE }, { "secrets", K_USE }, { "configs", K_USE }, { "include", K_USE },
  { "models", K_WARN }, KEND,
};

static const struct keyspec service_keys[] = {
  { "build", K_USE }, { "cap_add", K_USE }, { "cap_drop", K_USE }, { "command", K_USE },
  { "configs", K_USE }, { "container_name", K_USE }, { "cpus", K_USE }, { "depends_on", K_USE },
  { "deploy", K_USE }, { "dns", K_USE }, { "entrypoint", K_USE }, { "env_file", K_USE },
  { "environment", K_USE }, { "expose", K_USE }, { "extends", K_USE }, { "extra_hosts", K_USE },
  { "healthcheck", K_USE }, { "hostname", K_USE }, { "image", K_USE }, { "init", K_USE },
  { "labels", K_USE }, { "mem_limit", K_USE }, { "network_mode", K_USE }, { "networks", K_USE },
  { "platform", K_USE }, { "ports", K_USE }, { "privileged", K_USE }, { "profiles", K_USE },
  { "pull_policy", K_USE }, { "read_only", K_USE }, { "restart", K_USE }, { "runtime", K_USE },
  { "secrets", K_USE }, { "shm_size", K_USE }, { "stdin_open", K_USE },
  { "stop_grace_period", K_USE }, { "stop_signal", K_USE }, { "sysctls", K_USE },
  { "tmpfs", K_USE }, { "tty", K_USE }, { "ulimits", K_USE }, { "user", K_USE },
  { "volumes", K_USE }, { "working_dir", K_USE },
  /* defined by the specification, not acted on */
  { "annotations", K_WARN }, { "attach", K_WARN }, { "blkio_config", K_WARN },
  { "cgroup", K_WARN }, { "cgroup_parent", K_WARN }, { "cpu_count", K_WARN },
  { "cpu_percent", K_WARN }, { "cpu_period", K_WARN }, { "cpu_quota", K_WARN },
  { "cpu_rt_period", K_WARN }, { "cpu_rt_runtime", K_WARN }, { "cpu_shares", K_WARN },
  { "cpuset", K_WARN }, { "credential_spec", K_WARN }, { "develop", K_WARN },
  { "device_cgroup_rules", K_WARN }, { "devices", K_WARN }, { "dns_opt", K_WARN },
  { "dns_search", K_WARN }, { "domainname", K_WARN }, { "external_links", K_WARN },
  { "gpus", K_WARN }, { "group_add", K_WARN }, { "ipc", K_ORDER }, { "isolation", K_WARN },
  { "label_file", K_WARN }, { "links", K_ORDER }, { "logging", K_WARN },
  { "mac_address", K_WARN }, { "mem_reservation", K_WARN }, { "mem_swappiness", K_WARN },
  { "memswap_limit", K_WARN }, { "models", K_WARN }, { "oom_kill_disable", K_WARN },
  { "oom_score_adj", K_WARN }, { "pid", K_WARN }, { "pids_limit", K_WARN },
  { "post_start", K_WARN }, { "pre_start", K_WARN }, { "pre_stop", K_WARN },
  { "provider", K_WARN }, { "pull_refresh_after", K_WARN }, { "scale", K_USE },
  { "security_opt", K_WARN }, { "storage_opt", K_WARN }, { "use_api_socket", K_WARN },
  { "userns_mode", K_WARN }, { "uts", K_WARN }, { "volumes_from", K_ORDER }, KEND,
};

static const struct keyspec build_keys[] = {
  { "context", K_USE }, { "dockerfile", K_USE }, { "args", K_USE }, { "target", K_USE },
  { "labels", K_USE }, { "network", K_USE }, { "extra_hosts", K_USE }, { "shm_size", K_USE },
  { "additional_contexts", K_WARN }, { "cache_from", K_WARN }, { "cache_to", K_WARN },
  { "dockerfile_inline", K_WARN }, { "entitlements", K_WARN }, { "isolation", K_WARN },
  { "no_cache", K_WARN }, { "no_cache_filter", K_WARN }, { "platforms", K_WARN },
  { "privileged", K_WARN }, { "provenance", K_WARN }, { "pull", K_WARN }, { "sbom", K_WARN },
  { "secrets", K_USE }, { "ssh", K_USE }, { "tags", K_WARN }, { "ulimits", K_WARN }, KEND,
};

static const struct keyspec deploy_keys[] = {
  { "resources", K_USE }, { "endpoint_mode", K_WARN }, { "labels", K_WARN },
  { "mode", K_WARN }, { "placement", K_WARN }, { "replicas", K_USE },
  { "restart_policy", K_WARN }, { "rollback_config", K_WARN }, { "update_config", K_WARN }, KEND,
};
static const struct keyspec resources_keys[] = {
  { "limits", K_USE }, { "reservations", K_USE }, KEND,
};
static const struct keyspec limits_keys[] = {
  { "cpus", K_USE }, { "memory", K_USE }, { "pids", K_WARN }, KEND,
};
static const struct keyspec reservations_keys[] = {
  { "cpus", K_USE }, { "memory", K_USE }, { "generic_resources", K_WARN }, { "devices", K_WARN },
  KEND,
};
static const struct keyspec healthcheck_keys[] = {
  { "test", K_USE }, { "interval", K_USE }, { "timeout", K_USE }, { "retries", K_USE },
  { "start_period", K_USE }, { "start_interval", K_USE }, { "disable", K_USE }, KEND,
};
static const struct keyspec port_keys[] = {
  { "target", K_USE }, { "published", K_USE }, { "host_ip", K_USE }, { "protocol", K_USE },
  { "mode", K_USE }, { "name", K_USE }, { "app_protocol", K_USE }, KEND,
};
static const struct keyspec mount_keys[] = {
  { "type", K_USE }, { "source", K_USE }, { "target", K_USE }, { "read_only", K_USE },
  { "bind", K_USE }, { "volume", K_USE }, { "tmpfs", K_USE }, { "consistency", K_USE },
  { "image", K_WARN }, KEND,
};
static const struct keyspec mount_bind_keys[] = {
  { "create_host_path", K_USE }, { "propagation", K_USE }, { "selinux", K_USE },
  { "recursive", K_WARN }, KEND,
};
static const struct keyspec mount_volume_keys[] = {
  { "nocopy", K_USE }, { "subpath", K_USE }, { "labels", K_WARN }, KEND,
};
static const struct keyspec mount_tmpfs_keys[] = {
  { "size", K_USE }, { "mode", K_USE }, KEND,
};
static const struct keyspec svc_network_keys[] = {
  { "aliases", K_USE }, { "ipv4_address", K_USE }, { "ipv6_address", K_USE },
  { "priority", K_USE }, { "interface_name", K_WARN }, { "link_local_ips", K_WARN },
  { "mac_address", K_WARN }, { "driver_opts", K_WARN }, { "gw_priority", K_WARN }, KEND,
};
static const struct keyspec dep_keys[] = {
  { "condition", K_USE }, { "required", K_USE }, { "restart", K_USE }, KEND,
};
static const struct keyspec fileref_keys[] = {
  { "source", K_USE }, { "target", K_USE }, { "uid", K_USE }, { "gid", K_USE },
  { "mode", K_USE }, KEND,
};
static const struct keyspec ulimit_keys[] = {
  { "soft", K_USE }, { "hard", K_USE }, KEND,
};
static const struct keyspec env_file_keys[] = {
  { "path", K_USE }, { "required", K_USE }, { "format", K_USE }, KEND,
};
static const struct keyspec network_keys[] = {
  { "driver", K_USE }, { "driver_opts", K_USE }, { "internal", K_USE }, { "attachable", K_USE },
  { "ipam", K_USE }, { "external", K_USE }, { "name", K_USE }, { "labels", K_USE },
  { "enable_ipv6", K_USE }, { "enable_ipv4", K_WARN }, KEND,
};
static const struct keyspec ipam_keys[] = {
  { "driver", K_USE }, { "config", K_USE }, { "options", K_USE }, KEND,
};
static const struct keyspec ipam_config_keys[] = {
  { "subnet", K_USE }, { "ip_range", K_USE }, { "gateway", K_USE }, { "aux_addresses", K_USE },
  KEND,
};
static const struct keyspec volume_keys[] = {
  { "driver", K_USE }, { "driver_opts", K_USE }, { "external", K_USE }, { "name", K_USE },
  { "labels", K_USE }, KEND,
};
static const struct keyspec object_keys[] = {
  { "file", K_USE }, { "environment", K_USE }, { "content", K_USE }, { "external", K_USE },
  { "name", K_USE }, { "driver", K_WARN }, { "driver_opts", K_WARN }, { "labels", K_WARN },
  { "template_driver", K_WARN }, KEND,
};
static const struct keyspec external_keys[] = {
  { "name", K_USE }, KEND,
};

static size_t
edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  if (la > 40 || lb > 40)
    return 99;
  size_t row[42];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++)
    {
      size_t prev = row[0];
      row[0] = i;
      for (size_t j = 1; j <= lb; j++)
        {
          size_t cur = row[j];
          size_t best = prev + (a[i - 1] != b[j - 1]);
          if (row[j] + 1 < best)
            best = row[j] + 1;
          if (row[j - 1] + 1 < best)
            best = row[j - 1] + 1;
          row[j] = best;
          prev = cur;
        }
    }
  return row[lb];
}

/* The big key tables sorted by name, for the lookups of check_keys (the
 * tables themselves keep their order: messages list keys in it). */
struct keyindex {
  const struct keyspec *table;
  const struct keyspec **byname;
  size_t n;
};
static struct keyindex keyindex[] = { { service_keys }, { build_keys } };
static pthread_once_t keyindex_once = PTHREAD_ONCE_INIT;

static int
cmp_keyspec (const void *a, const void *b)
{
  return strcmp ((*(const struct keyspec *const *) a)->name,
                 (*(const struct keyspec *const *) b)->name);
}

static void
keyindex_init (void)
{
  for (size_t t = 0; t < sizeof keyindex / sizeof *keyindex; t++)
    {
      struct keyindex *ki = &keyindex[t];
      while (ki->table[ki->n].name)
        ki->n++;
      ki->byname = xcalloc (ki->n, sizeof *ki->byname);
      for (size_t i = 0; i < ki->n; i++)
        ki->byname[i] = &ki->table[i];
      qsort (ki->byname, ki->n, sizeof *ki->byname, cmp_keyspec);
    }
}

/* name's entry in ks, or NULL */
static const struct keyspec *
find_keyspec (const struct keyspec *ks, const char *name)
{
  pthread_once (&keyindex_once, keyindex_init);
  for (size_t t = 0; t < sizeof keyindex / sizeof *keyindex; t++)
    if (keyindex[t].table == ks)
      {
        const struct keyindex *ki = &keyindex[t];
        size_t lo = 0, hi = ki->n;
        while (lo < hi)
          {
            size_t mid = (lo + hi) / 2;
            int c = strcmp (ki->byname[mid]->name, name);
            if (c == 0)
              return ki->byname[mid];
            if (c < 0)
              lo = mid + 1;
            else
              hi = mid;
          }
        return NULL;
      }
  for (const struct keyspec *s = ks; s->name; s++)
    if (s->name[0] == name[0] && strcmp (s->name, name) == 0)
      return s;
  return NULL;
}

/* Check a map's keys: unknown ones are errors (with the expected set or a
 * suggestion), defined-but-unused ones are warnings, x-* are kept. */
static void
check_keys (struct mctx *m, const struct node *map, const struct keyspec *ks)
{
  for (size_t i = 0; i < map->npairs; i++)
    {
      const struct node *k = map->pairs[i].key;
      const char *name = k->scalar;
      if (name[0] == 'x' && name[1] == '-')
        continue;
      const struct keyspec *hit = find_keyspec (ks, name);
      if (hit && hit->use == K_WARN)
        {
          mwarn (m, k, "'%s' is not supported by itm-env and is ignored", name);
          continue;
        }
      if (hit && hit->use == K_ORDER)
        {
          mwarn (m, k, "'%s' is not supported by itm-env; only the start order it implies is "
                 "kept", name);
          continue;
        }
      if (hit)
        continue;
      size_t nk = 0, bestd = 99;
      const char *best = NULL;
      bool suggest = m->nsuggest++ < 100;   /* bounded time on hostile input */
      for (const struct keyspec *s = ks; s->name; s++)
        {
          nk++;
          size_t dd = suggest ? edit_distance (name, s->name) : 99;
          if (dd < bestd)
            bestd = dd, best = s->name;
        }
      if (best && bestd <= 2 && bestd < strlen (name))
        merr (m, k, "unknown key '%s' (did you mean '%s'?)", name, best);
      else if (nk <= 12)
        {
          struct buf b = { 0 };
          for (const struct keyspec *s = ks; s->name; s++)
            if (s->use == K_USE)
              buf_addf (&b, "%s%s", b.len ? ", " : "", s->name);
          merr (m, k, "unknown key '%s' (expected one of: %s, or x-*)", name, b.data);
          buf_free (&b);
        }
      else
        merr (m, k, "unknown key '%s' (see itm-env-stack(5) for the keys of this section)", name);
    }
}

static bool
expect_map (struct mctx *m, const struct node *n, const char *what)
{
  if (n->kind == NODE_MAP)
    return true;
  merr (m, n, "expected %s, got %s", what, got (n));
  return false;
}

/* x-* keys of a map, as JSON. */
static struct json_object *
node_to_json (const struct node *n)
{
  switch (n->kind)
    {
    case NODE_NULL:
      return NULL;
    case NODE_SCALAR:
      if (n->plain)
        {
          char *end;
          bool b;
          if (strcmp (n->scalar, "true") == 0 || strcmp (n->scalar, "false") == 0)
            return json_object_new_boolean (is_bool_word (n->scalar, &b) && b);
          errno = 0;
          long long v = strtoll (n->scalar, &end, 10);
          if (*n->scalar && *end == '\0' && errno == 0)
            return json_object_new_int64 (v);
          if (is_number (n->scalar) && strpbrk (n->scalar, "0123456789"))
            return json_object_new_double_s (strtod (n->scalar, NULL), n->scalar);
        }
      return json_object_new_string (n->scalar);
    case NODE_SEQ:
      {
        struct json_object *a = json_object_new_array ();
        for (size_t i = 0; i < n->nitems; i++)
          json_object_array_add (a, node_to_json (n->items[i]));
        return a;
      }
    case NODE_MAP:
      {
        struct json_object *o = json_object_new_object ();
        for (size_t i = 0; i < n->npairs; i++)
          json_object_object_add (o, n->pairs[i].key->scalar, node_to_json (n->pairs[i].value));
        return o;
      }
    }
  return NULL;
}

static struct json_object *
extensions (const struct node *map, struct json_object **x_itm)
{
  struct json_object *o = NULL;
  for (size_t i = 0; i < map->npairs; i++)
    if (strncmp (map->pairs[i].key->scalar, "x-", 2) == 0)
      {
        if (o == NULL)
          o = json_object_new_object ();
        json_object_object_add (o, map->pairs[i].key->scalar,
                                node_to_json (map->pairs[i].value));
      }
  if (x_itm)
    *x_itm = o ? json_object_object_get (o, "x-itm") : NULL;
  return o;
}

/* ---- paths */

/* Drop "." and empty segments, resolve ".." lexically (as Compose does). */
static char *
clean_path (struct mctx *m, const char *p)
{
  size_t l = strlen (p);
  char *out = sa_alloc (m->a, l + 2);
  size_t o = 0;
  const char *s = p;
  while (*s)
    {
      while (*s == '/')
        s++;
      const char *e = strchrnul (s, '/');
      size_t n = (size_t) (e - s);
      if (n == 0 || (n == 1 && s[0] == '.'))
        ;
      else if (n == 2 && s[0] == '.' && s[1] == '.')
        {
          while (o > 0 && out[o - 1] != '/')
            o--;
          if (o > 0)
            o--;
        }
      else
        {
          out[o++] = '/';
          memcpy (out + o, s, n);
          o += n;
        }
      s = e;
    }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

static char *
abs_path (struct mctx *m, const char *p)
{
  if (p == NULL)
    return NULL;
  if (p[0] == '/')
    return clean_path (m, p);
  if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
    {
      const char *home = m->env ? stack_env_get (m->env, "HOME") : NULL;
      if (home == NULL)
        home = getenv ("HOME");
      return clean_path (m, sa_printf (m->a, "%s%s", home ? home : "", p + 1));
    }
  return clean_path (m, sa_printf (m->a, "%s/%s", m->project_dir, p));
}

static bool
is_url (const char *s)
{
  return strstr (s, "://") != NULL || strncmp (s, "git@", 4) == 0
         || strncmp (s, "github.com/", 11) == 0;
}

/* ---- service keys */

static void
parse_command (struct mctx *m, const struct node *n, struct stack_strv *out)
{
  if (n == NULL || n->kind == NODE_NULL)   /* command: null is not set, as Compose */
    return;
  if (n->kind == NODE_SCALAR)
    {
      char **argv;
      size_t argc;
      const char *why;
      if (stack_split_command (n->scalar, &argv, &argc, &why) < 0)
        {
          merr (m, n, "cannot split '%s': %s", n->scalar, why);
          return;
        }
      out->v = sa_alloc (m->a, (argc + 1) * sizeof (char *));
      for (size_t i = 0; i < argc; i++)
        out->v[i] = sa_strdup (m->a, argv[i]);
      strv_free (argv);
      out->n = argc;
      out->set = true;
      return;
    }
  get_strv (m, n, false, out);
}

static void
parse_env_files (struct mctx *m, const struct node *n, struct stack_env *into)
{
  const struct node *single[1];
  const struct node *const *items;
  size_t nitems;

  if (n->kind == NODE_SCALAR || n->kind == NODE_MAP)
    single[0] = n, items = single, nitems = 1;
  else if (n->kind == NODE_SEQ)
    items = (const struct node *const *) n->items, nitems = n->nitems;
  else
    {
      merr (m, n, "expected a path or a list of paths, got %s", got (n));
      return;
    }
  /* later files win */
  for (size_t j = 0; j < nitems; j++)
    {
      const struct node *it = items[j];
      const char *path = NULL;
      bool required = true;
      size_t mk = n->kind == NODE_SEQ ? path_push (m, "[%zu]", j) : m->plen;
      if (it->kind == NODE_MAP)
        {
          check_keys (m, it, env_file_keys);
          path = kstr (m, it, "path");
          kbool (m, it, "required", &required);
          const char *fmt = kstr (m, it, "format");
          if (fmt && strcmp (fmt, "dotenv") != 0)
            merr (m, mget (it, "format"), "format '%s' is not supported (env files are "
                  "read with the .env rules: leave 'format' out)", fmt);
          if (path == NULL)
            merr (m, it, "an env_file entry needs 'path'");
        }
      else if (it->kind == NODE_SCALAR)
        path = it->scalar;
      else
        merr (m, it, "expected a path, got %s", got (it));
      if (path)
        {
          char *abs = abs_path (m, path);
          if (access (abs, F_OK) < 0)
            {
              if (required)
                merr (m, it, "env file '%s' not found", abs);
            }
          else
            {
              struct stack_env *one = stack_env_new ();
              size_t iter = 0;
              const char *name, *value;
              stack_dotenv_load (one, abs, m->env, m->d);
              while (stack_env_next (one, &iter, &name, &value))
                stack_env_set (into, name, value);
              stack_env_free (one);
            }
        }
      path_pop (m, mk);
    }
}

static void
parse_environment (struct mctx *m, const struct node *svc, struct stack_service *s)
{
  const struct node *ef = mget (svc, "env_file");
  const struct node *en = mget (svc, "environment");
  struct stack_kvs env = { 0 };
  size_t cap = 0;
  struct stack_env *fromfiles = NULL;

  if (ef && ef->kind != NODE_NULL)
    {
      size_t mk = path_push (m, ".env_file");
      fromfiles = stack_env_new ();
      parse_env_files (m, ef, fromfiles);
      path_pop (m, mk);
      size_t it = 0;
      const char *name, *value;
      while (stack_env_next (fromfiles, &it, &name, &value))
        cap++;
    }
  if (en)
    {
      size_t mk = path_push (m, ".environment");
      get_dict (m, en, "=", &env);
      path_pop (m, mk);
      /* values not given come from the environment; unset when absent */
      for (size_t i = 0; i < env.n; i++)
        if (env.v[i].value == NULL && m->env)
          env.v[i].value = sa_strdup (m->a, stack_env_get (m->env, env.v[i].name));
    }
  cap += env.n;
  s->environment.v = sa_alloc (m->a, (cap + 1) * sizeof *s->environment.v);
  if (fromfiles)
    {
      size_t it = 0;
      const char *name, *value;
      while (stack_env_next (fromfiles, &it, &name, &value))
        kvs_add (m, &s->environment, name, value);
      stack_env_free (fromfiles);
    }
  for (size_t i = 0; i < env.n; i++)
    kvs_add (m, &s->environment, env.v[i].name, env.v[i].value);
  kvs_dedupe (&s->environment);
}

static unsigned
node_port (struct mctx *m, const struct node *n, bool allow_zero)
{
  long long v;
  if (get_int (m, n, allow_zero ? 0 : 1, 65535, &v))
    return (unsigned) v;
  return 0;
}

static void
parse_ports (struct mctx *m, const struct node *n, struct stack_service *s)
{
  if (n->kind == NODE_NULL)
    return;
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected a list of ports, got %s", got (n));
      return;
    }
  s->ports = sa_alloc (m->a, (n->nitems + 1) * sizeof *s->ports);
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      size_t mk = path_push (m, "[%zu]", i);
      struct stack_port p;
      const char *why;
      if (it->kind == NODE_SCALAR)
        {
          if (stack_parse_port (it->scalar, &p, &why) < 0)
            merr (m, it, "invalid port '%s': %s", it->scalar, why);
          else
            {
              struct stack_port *q = &s->ports[s->nports++];
              *q = p;
              q->host_ip = sa_strdup (m->a, p.host_ip);
              q->protocol = sa_strdup (m->a, p.protocol);
              q->mode = sa_strdup (m->a, p.mode);
              free (p.host_ip), free (p.protocol), free (p.mode);
            }
        }
      else if (it->kind == NODE_MAP)
        {
          check_keys (m, it, port_keys);
          struct stack_port *q = &s->ports[s->nports];
          memset (q, 0, sizeof *q);
          bool ok = true;
          const struct node *t = mget (it, "target");
          if (t == NULL || t->kind == NODE_NULL)
            merr (m, it, "a port needs 'target'"), ok = false;
          else
            {
              size_t m2 = path_push (m, ".target");
              unsigned before = m->d->nerrors;
              q->target_start = q->target_end = node_port (m, t, false);
              ok = ok && m->d->nerrors == before;
              path_pop (m, m2);
            }
          const struct node *pub = mget (it, "published");
          if (pub && pub->kind == NODE_SCALAR)
            {
              struct stack_port tmp;
              cleanup_free char *spec = xasprintf ("%s:1", pub->scalar);
              if (stack_parse_port (spec, &tmp, &why) < 0)
                {
                  size_t m2 = path_push (m, ".published");
                  merr (m, pub, "invalid published port '%s' (expected a port or a range)",
                        pub->scalar);
                  path_pop (m, m2);
                  ok = false;
                }
              else
                {
                  q->published_start = tmp.published_start;
                  q->published_end = tmp.published_end;
                  free (tmp.host_ip), free (tmp.protocol), free (tmp.mode);
                }
            }
          else if (pub && pub->kind != NODE_NULL)
            merr (m, pub, "published: expected a port or a range, got %s", got (pub)), ok = false;
          q->host_ip = kstr (m, it, "host_ip");
          q->protocol = kstr (m, it, "protocol");
          if (q->protocol == NULL)
            q->protocol = sa_strdup (m->a, "tcp");
          else if (strcmp (q->protocol, "tcp") && strcmp (q->protocol, "udp")
                   && strcmp (q->protocol, "sctp"))
            merr (m, mget (it, "protocol"), "protocol: expected tcp, udp or sctp, got '%s'",
                  q->protocol), ok = false;
          q->mode = kstr (m, it, "mode");
          if (q->mode == NULL)
            q->mode = sa_strdup (m->a, "ingress");
          else if (strcmp (q->mode, "host") && strcmp (q->mode, "ingress"))
            merr (m, mget (it, "mode"), "mode: expected host or ingress, got '%s'",
                  q->mode), ok = false;
          q->name = kstr (m, it, "name");
          q->app_protocol = kstr (m, it, "app_protocol");
          if (ok)
            s->nports++;
        }
      else
        merr (m, it, "expected a port string, a number or a map, got %s", got (it));
      path_pop (m, mk);
    }
}

static void
parse_expose (struct mctx *m, const struct node *n, struct stack_service *s)
{
  get_strv (m, n, false, &s->expose);
  for (size_t i = 0; i < s->expose.n; i++)
    {
      struct stack_port p;
      const char *why;
      int r = stack_parse_port (s->expose.v[i], &p, &why);
      if (r == 0)
        free (p.host_ip), free (p.protocol), free (p.mode);
      if (r < 0 || strchr (s->expose.v[i], ':'))
        {
          size_t mk = path_push (m, "[%zu]", i);
          merr (m, n->items[i], "invalid port '%s' (expected PORT[-PORT][/PROTOCOL])",
                s->expose.v[i]);
          path_pop (m, mk);
        }
    }
}

static bool
is_mount_option (const char *o)
{
  static const char *const opts[] = {
    "ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated",
    "shared", "rshared", "slave", "rslave", "private", "rprivate", NULL,
  };
  for (size_t i = 0; opts[i]; i++)
    if (strcmp (o, opts[i]) == 0)
      return true;
  return false;
}

static void
parse_mount_short (struct mctx *m, const struct node *it, struct stack_mount *v, bool *ok)
{
  cleanup_free char *spec = xstrdup (it->scalar);
  char *parts[4] = { 0 };
  size_t np = 0;
  if (*spec == '\0')
    {
      merr (m, it, "empty volume");
      *ok = false;
      return;
    }
  /* SOURCE:TARGET:MODE split at every ':'; an empty section (a source
   * that interpolated to nothing: "${FILE}:/f") is Compose's error too */
  for (char *t = spec;; )
    {
      char *c = strchr (t, ':');
      if (c)
        *c = '\0';
      if (np == 3)
        {
          merr (m, it, "invalid volume '%s': too many ':' (expected [SOURCE:]TARGET[:MODE])",
                it->scalar);
          *ok = false;
          return;
        }
      if (*t == '\0')
        {
          merr (m, it, "invalid volume '%s': empty section between colons", it->scalar);
          *ok = false;
          return;
        }
      parts[np++] = t;
      if (c == NULL)
        break;
      t = c + 1;
    }
  const char *src = np >= 2 ? parts[0] : NULL;
  const char *dst = np >= 2 ? parts[1] : parts[0];
  const char *mode = np == 3 ? parts[2] : NULL;
  if (dst[0] != '/')
    {
      merr (m, it, "invalid volume '%s': the container path '%s' is not absolute", it->scalar,
            dst);
      *ok = false;
    }
  if (src == NULL)
    v->type = STACK_MOUNT_VOLUME;
  else if (src[0] == '/' || src[0] == '.' || src[0] == '~')
    {
      v->type = STACK_MOUNT_BIND;
      v->source = abs_path (m, src);
      v->create_host_path = true;
    }
  else
    {
      v->type = STACK_MOUNT_VOLUME;
      v->source = sa_strdup (m->a, src);
    }
  /* "/data/" is "/data" (the duplicate check and the engine see one path) */
  v->target = dst[0] == '/' ? clean_path (m, dst) : sa_strdup (m->a, dst);
  if (mode)
    {
      char *s2 = NULL;
      for (char *o = strtok_r ((char *) mode, ",", &s2); o; o = strtok_r (NULL, ",", &s2))
        {
          if (!is_mount_option (o))
            {
              merr (m, it, "invalid volume '%s': unknown mode '%s' (expected ro, rw, z, Z, "
                    "nocopy, a propagation or a consistency)", it->scalar, o);
              *ok = false;
              continue;
            }
          if (strcmp (o, "ro") == 0)
            v->read_only = true;
          else if (strcmp (o, "nocopy") == 0)
            v->nocopy = true;
          else if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0)
            v->selinux = sa_strdup (m->a, o);
          else if (strcmp (o, "consistent") == 0 || strcmp (o, "cached") == 0
                   || strcmp (o, "delegated") == 0)
            v->consistency = sa_strdup (m->a, o);
          else if (strcmp (o, "rw") != 0)
            v->propagation = sa_strdup (m->a, o);
        }
      if (v->type != STACK_MOUNT_VOLUME && v->nocopy)
        merr (m, it, "invalid volume '%s': nocopy applies to volumes only", it->scalar), *ok = false;
    }
}

static void
parse_mount_long (struct mctx *m, const struct node *it, struct stack_mount *v, bool *ok)
{
  check_keys (m, it, mount_keys);
  const struct node *tn = mget (it, "type");
  const char *type = get_str (m, tn);
  unsigned before = m->d->nerrors;
  if (type == NULL)
    {
      merr (m, it, "a volume needs 'type' (volume, bind or tmpfs)");
      *ok = false;
      return;
    }
  if (strcmp (type, "volume") == 0)
    v->type = STACK_MOUNT_VOLUME;
  else if (strcmp (type, "bind") == 0)
    v->type = STACK_MOUNT_BIND;
  else if (strcmp (type, "tmpfs") == 0)
    v->type = STACK_MOUNT_TMPFS;
  else if (strcmp (type, "npipe") == 0 || strcmp (type, "cluster") == 0
           || strcmp (type, "image") == 0)
    {
      merr (m, tn, "type '%s' is not supported by itm-env (volume, bind or tmpfs)", type);
      *ok = false;
      return;
    }
  else
    {
      merr (m, tn, "unknown type '%s' (expected volume, bind or tmpfs)", type);
      *ok = false;
      return;
    }
  const char *src = kstr (m, it, "source");
  v->target = kstr (m, it, "target");
  if (v->target == NULL)
    merr (m, it, "a volume needs 'target'");
  else if (v->target[0] != '/')
    merr (m, mget (it, "target"), "target: '%s' is not an absolute path", v->target);
  else
    v->target = clean_path (m, v->target);
  if (v->type == STACK_MOUNT_BIND)
    {
      if (src == NULL)
        merr (m, it, "a bind mount needs 'source'");
      v->source = abs_path (m, src);
    }
  else if (v->type == STACK_MOUNT_TMPFS)
    {
      if (src)
        merr (m, mget (it, "source"), "a tmpfs mount has no 'source'");
    }
  else
    v->source = sa_strdup (m->a, src);
  kbool (m, it, "read_only", &v->read_only);
  v->consistency = kstr (m, it, "consistency");
  const struct node *b = mget (it, "bind");
  if (b && b->kind != NODE_NULL)
    {
      size_t mk = path_push (m, ".bind");
      if (v->type != STACK_MOUNT_BIND)
        merr (m, b, "'bind' options on a %s mount", type);
      else if (expect_map (m, b, "a map"))
        {
          check_keys (m, b, mount_bind_keys);
          kbool (m, b, "create_host_path", &v->create_host_path);
          v->propagation = kstr (m, b, "propagation");
          v->selinux = kstr (m, b, "selinux");
          if (v->selinux && strcmp (v->selinux, "z") && strcmp (v->selinux, "Z"))
            merr (m, mget (b, "selinux"), "selinux: expected z or Z");
          if (v->propagation && !is_mount_option (v->propagation))
            merr (m, mget (b, "propagation"), "propagation: unknown '%s'", v->propagation);
        }
      path_pop (m, mk);
    }
  const struct node *vo = mget (it, "volume");
  if (vo && vo->kind != NODE_NULL)
    {
      size_t mk = path_push (m, ".volume");
      if (v->type != STACK_MOUNT_VOLUME)
        merr (m, vo, "'volume' options on a %s mount", type);
      else if (expect_map (m, vo, "a map"))
        {
          check_keys (m, vo, mount_volume_keys);
          kbool (m, vo, "nocopy", &v->nocopy);
          v->subpath = kstr (m, vo, "subpath");
        }
      path_pop (m, mk);
    }
  const struct node *tf = mget (it, "tmpfs");
  if (tf && tf->kind != NODE_NULL)
    {
      size_t mk = path_push (m, ".tmpfs");
      if (v->type != STACK_MOUNT_TMPFS)
        merr (m, tf, "'tmpfs' options on a %s mount", type);
      else if (expect_map (m, tf, "a map"))
        {
          long long mode;
          check_keys (m, tf, mount_tmpfs_keys);
          const struct node *sz = mget (tf, "size");
          if (sz && sz->kind == NODE_SCALAR && sz->plain && is_number (sz->scalar)
              && strpbrk (sz->scalar, ".eE"))
            /* a bare 0.5 would be 0 bytes: no limit at all (Compose: "must
             * be a integer") */
            merr (m, sz, "size: '%s' is not a whole number of bytes (a unit takes a "
                  "fraction: \"1.5m\")", sz->scalar);
          else
            ksize (m, tf, "size", &v->tmpfs_size);
          const struct node *mn = mget (tf, "mode");
          if (mn && mn->kind == NODE_SCALAR && mn->scalar[0] == '0')
            {
              char *end;
              long r = strtol (mn->scalar, &end, 8);
              if (*end || r > 07777)
                merr (m, mn, "mode: expected an octal mode, got '%s'", mn->scalar);
              else
                v->tmpfs_mode = (unsigned) r;
            }
          else if (get_int (m, mn, 0, 07777, &mode))
            v->tmpfs_mode = (unsigned) mode;
        }
      path_pop (m, mk);
    }
  if (m->d->nerrors != before)
    *ok = false;
}

static void
parse_volumes (struct mctx *m, const struct node *n, struct stack_service *s)
{
  if (n->kind == NODE_NULL)
    return;
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected a list of volumes, got %s", got (n));
      return;
    }
  s->volumes = sa_alloc (m->a, (n->nitems + 1) * sizeof *s->volumes);
  const struct node **vnodes = xcalloc (n->nitems + 1, sizeof *vnodes);
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      size_t mk = path_push (m, "[%zu]", i);
      struct stack_mount *v = &s->volumes[s->nvolumes];
      bool ok = true;
      memset (v, 0, sizeof *v);
      if (it->kind == NODE_SCALAR)
        parse_mount_short (m, it, v, &ok);
      else if (it->kind == NODE_MAP)
        parse_mount_long (m, it, v, &ok);
      else
        merr (m, it, "expected a volume string or a map, got %s", got (it)), ok = false;
      if (ok)
        vnodes[s->nvolumes++] = it;
      path_pop (m, mk);
    }
  /* two mounts on one target: sort the targets */
  if (s->nvolumes > 1)
    {
      struct kv_pos *p = xcalloc (s->nvolumes, sizeof *p);
      for (size_t i = 0; i < s->nvolumes; i++)
        p[i] = (struct kv_pos) { s->volumes[i].target, i };
      qsort (p, s->nvolumes, sizeof *p, cmp_kv_pos);
      for (size_t k = 1; k < s->nvolumes; k++)
        if (strcmp (p[k - 1].name, p[k].name) == 0)
          {
            size_t mk = path_push (m, "[%zu]", p[k].i);
            merr (m, vnodes[p[k].i], "duplicate mount point '%s'", p[k].name);
            path_pop (m, mk);
          }
      free (p);
    }
  free (vnodes);
}

static int
cmp_svc_network (const void *a, const void *b)
{
  return strcmp (((const struct stack_service_network *) a)->name,
                 ((const struct stack_service_network *) b)->name);
}

static void
parse_svc_networks (struct mctx *m, const struct node *n, struct stack_service *s)
{
  if (n->kind == NODE_NULL)
    return;
  if (n->kind == NODE_SEQ)
    {
      s->networks = sa_alloc (m->a, (n->nitems + 1) * sizeof *s->networks);
      for (size_t i = 0; i < n->nitems; i++)
        {
          if (n->items[i]->kind != NODE_SCALAR)
            {
              size_t mk = path_push (m, "[%zu]", i);
              merr (m, n->items[i], "expected a network name, got %s", got (n->items[i]));
              path_pop (m, mk);
              continue;
            }
          s->networks[s->nnetworks++].name = sa_strdup (m->a, n->items[i]->scalar);
        }
    }
  else if (n->kind == NODE_MAP)
    {
      s->networks = sa_alloc (m->a, (n->npairs + 1) * sizeof *s->networks);
      for (size_t i = 0; i < n->npairs; i++)
        {
          const struct node *v = n->pairs[i].value;
          struct stack_service_network *sn = &s->networks[s->nnetworks++];
          sn->name = sa_strdup (m->a, n->pairs[i].key->scalar);
          size_t mk = path_push (m, ".%s", sn->name);
          if (v->kind == NODE_MAP)
            {
              long long prio;
              check_keys (m, v, svc_network_keys);
              const struct node *al = mget (v, "aliases");
              if (al)
                {
                  size_t m2 = path_push (m, ".aliases");
                  get_strv (m, al, false, &sn->aliases);
                  path_pop (m, m2);
                }
              sn->ipv4_address = kstr (m, v, "ipv4_address");
              sn->ipv6_address = kstr (m, v, "ipv6_address");
              if (kint (m, v, "priority", -1000000, 1000000, &prio))
                sn->priority = (int) prio;
            }
          else if (v->kind != NODE_NULL)
            merr (m, v, "expected a map or null, got %s", got (v));
          path_pop (m, mk);
        }
    }
  else
    merr (m, n, "expected a list of network names or a map, got %s", got (n));
  if (s->nnetworks > 1)
    qsort (s->networks, s->nnetworks, sizeof *s->networks, cmp_svc_network);
}

static void
parse_depends_on (struct mctx *m, const struct node *n, struct stack_service *s)
{
  if (n->kind == NODE_NULL)
    return;
  if (n->kind == NODE_SEQ)
    {
      s->depends_on = sa_alloc (m->a, (n->nitems + 2) * sizeof *s->depends_on);
      for (size_t i = 0; i < n->nitems; i++)
        {
          if (n->items[i]->kind != NODE_SCALAR)
            {
              size_t mk = path_push (m, "[%zu]", i);
              merr (m, n->items[i], "expected a service name, got %s", got (n->items[i]));
              path_pop (m, mk);
              continue;
            }
          struct stack_dep *dp = &s->depends_on[s->ndepends_on++];
          dp->service = sa_strdup (m->a, n->items[i]->scalar);
          dp->condition = STACK_COND_STARTED;
          dp->required = true;
        }
    }
  else if (n->kind == NODE_MAP)
    {
      s->depends_on = sa_alloc (m->a, (n->npairs + 2) * sizeof *s->depends_on);
      for (size_t i = 0; i < n->npairs; i++)
        {
          const struct node *v = n->pairs[i].value;
          struct stack_dep *dp = &s->depends_on[s->ndepends_on++];
          dp->service = sa_strdup (m->a, n->pairs[i].key->scalar);
          dp->condition = STACK_COND_STARTED;
          dp->required = true;
          size_t mk = path_push (m, ".%s", dp->service);
          if (v->kind == NODE_MAP)
            {
              check_keys (m, v, dep_keys);
              const struct node *c = mget (v, "condition");
              const char *cs = get_str (m, c);
              if (cs == NULL || strcmp (cs, "service_started") == 0)
                dp->condition = STACK_COND_STARTED;
              else if (strcmp (cs, "service_healthy") == 0)
                dp->condition = STACK_COND_HEALTHY;
              else if (strcmp (cs, "service_completed_successfully") == 0)
                dp->condition = STACK_COND_COMPLETED;
              else
                merr (m, c, "condition: expected service_started, service_healthy or "
                      "service_completed_successfully, got '%s'", cs);
              kbool (m, v, "required", &dp->required);
              kbool (m, v, "restart", &dp->restart);
            }
          else if (v->kind != NODE_NULL)
            merr (m, v, "expected a map with 'condition', got %s", got (v));
          path_pop (m, mk);
        }
    }
  else
    merr (m, n, "expected a list of service names or a map, got %s", got (n));
}

static void
parse_healthcheck (struct mctx *m, const struct node *n, struct stack_healthcheck *h)
{
  h->retries = -1;
  if (n->kind == NODE_NULL)
    return;
  if (!expect_map (m, n, "a map"))
    return;
  h->set = true;
  check_keys (m, n, healthcheck_keys);
  const struct node *t = mget (n, "test");
  if (t && t->kind == NODE_SCALAR)
    {
      h->test.v = sa_alloc (m->a, 3 * sizeof (char *));
      if (strcmp (t->scalar, "NONE") == 0)
        h->test.v[0] = sa_strdup (m->a, "NONE"), h->test.n = 1;
      else
        {
          h->test.v[0] = sa_strdup (m->a, "CMD-SHELL");
          h->test.v[1] = sa_strdup (m->a, t->scalar);
          h->test.n = 2;
        }
      h->test.set = true;
    }
  else if (t && t->kind == NODE_SEQ)
    {
      size_t mk = path_push (m, ".test");
      get_strv (m, t, false, &h->test);
      if (h->test.n == 0)
        merr (m, t, "an empty test (expected [\"CMD\", ...], [\"CMD-SHELL\", \"...\"] or [\"NONE\"])");
      else if (strcmp (h->test.v[0], "CMD") && strcmp (h->test.v[0], "CMD-SHELL")
               && strcmp (h->test.v[0], "NONE"))
        merr (m, t, "the first item must be CMD, CMD-SHELL or NONE, got '%s'", h->test.v[0]);
      else if (strcmp (h->test.v[0], "CMD-SHELL") == 0 && h->test.n != 2)
        merr (m, t, "CMD-SHELL takes exactly one string (the shell command)");
      else if (strcmp (h->test.v[0], "CMD") == 0 && h->test.n < 2)
        merr (m, t, "CMD needs a command");
      path_pop (m, mk);
    }
  else if (t && t->kind != NODE_NULL)
    merr (m, t, "test: expected a string or a list of strings, got %s", got (t));
  static const char *const dk[] = { "interval", "timeout", "start_period", "start_interval" };
  int64_t *dv[] = { &h->interval, &h->timeout, &h->start_period, &h->start_interval };
  for (size_t i = 0; i < 4; i++)
    {
      size_t mk = path_push (m, ".%s", dk[i]);
      get_duration (m, mget (n, dk[i]), dv[i]);
      path_pop (m, mk);
    }
  long long r;
  size_t mk = path_push (m, ".retries");
  if (kint (m, n, "retries", 0, 1000000, &r))
    h->retries = (int) r;
  path_pop (m, mk);
  kbool (m, n, "disable", &h->disable);
  if (h->disable && h->test.n > 0 && strcmp (h->test.v[0], "NONE") != 0)
    merr (m, mget (n, "disable"), "'disable' and 'test' cannot both be set");
  if (h->test.n > 0 && strcmp (h->test.v[0], "NONE") == 0)
    h->disable = true;
}

static void
parse_ulimits (struct mctx *m, const struct node *n, struct stack_service *s)
{
  if (n->kind == NODE_NULL)
    return;
  if (!expect_map (m, n, "a map of limits"))
    return;
  s->ulimits = sa_alloc (m->a, (n->npairs + 1) * sizeof *s->ulimits);
  for (size_t i = 0; i < n->npairs; i++)
    {
      const struct node *v = n->pairs[i].value;
      struct stack_ulimit *u = &s->ulimits[s->nulimits++];
      long long x;
      u->name = sa_strdup (m->a, n->pairs[i].key->scalar);
      size_t mk = path_push (m, ".%s", u->name);
      if (v->kind == NODE_SCALAR)
        {
          if (get_int (m, v, -1, INT64_MAX, &x))
            u->soft = u->hard = x;
        }
      else if (v->kind == NODE_MAP)
        {
          check_keys (m, v, ulimit_keys);
          const struct node *so = mget (v, "soft"), *ha = mget (v, "hard");
          if (so == NULL || ha == NULL)
            merr (m, v, "expected both 'soft' and 'hard'");
          if (get_int (m, so, -1, INT64_MAX, &x))
            u->soft = x;
          if (get_int (m, ha, -1, INT64_MAX, &x))
            u->hard = x;
          if (so && ha && u->hard != -1 && u->soft > u->hard)
            merr (m, v, "soft limit %lld is above the hard limit %lld", (long long) u->soft,
                  (long long) u->hard);
        }
      else
        merr (m, v, "expected a number or a map with soft and hard, got %s", got (v));
      path_pop (m, mk);
    }
}

/* kind: FILEREF_CONFIG, FILEREF_SECRET (targets under /run/secrets), or
 * FILEREF_BUILD_SECRET (build.secrets: the target is the secret's id in the
 * build, kept as given). */
enum { FILEREF_CONFIG, FILEREF_SECRET, FILEREF_BUILD_SECRET };
static void
parse_filerefs (struct mctx *m, const struct node *n, int kind, struct stack_file_ref **outp,
                size_t *np)
{
  bool secrets = kind == FILEREF_SECRET;
  if (n->kind == NODE_NULL)
    return;
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected a list, got %s", got (n));
      return;
    }
  struct stack_file_ref *out = sa_alloc (m->a, (n->nitems + 1) * sizeof *out);
  size_t k = 0;
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      struct stack_file_ref *r = &out[k];
      size_t mk = path_push (m, "[%zu]", i);
      r->mode = -1;
      if (it->kind == NODE_SCALAR)
        r->source = sa_strdup (m->a, it->scalar);
      else if (it->kind == NODE_MAP)
        {
          check_keys (m, it, fileref_keys);
          r->source = kstr (m, it, "source");
          r->target = kstr (m, it, "target");
          r->uid = kstr (m, it, "uid");
          r->gid = kstr (m, it, "gid");
          const struct node *mn = mget (it, "mode");
          if (mn && mn->kind == NODE_SCALAR)
            {
              char *end;
              long v = strtol (mn->scalar, &end, mn->scalar[0] == '0' ? 8 : 10);
              if (*end || v < 0 || v > 07777)
                merr (m, mn, "mode: expected a file mode such as 0440, got '%s'", mn->scalar);
              else
                r->mode = (int) v;
            }
          else if (mn && mn->kind != NODE_NULL)
            merr (m, mn, "mode: expected a file mode, got %s", got (mn));
          if (r->source == NULL)
            merr (m, it, "needs 'source'");
        }
      else
        merr (m, it, "expected a name or a map, got %s", got (it));
      if (r->source && r->target && has_dotdot (r->target))
        merr (m, mget (it, "target"), "target: '%s': a '..' component is not allowed%s",
              r->target, secrets && r->target[0] != '/' ? " (it would leave /run/secrets)" : "");
      if (r->source && kind == FILEREF_BUILD_SECRET)
        k++;
      else if (r->source)
        {
          if (r->target == NULL)
            r->target = secrets ? sa_printf (m->a, "/run/secrets/%s", r->source)
                                : sa_printf (m->a, "/%s", r->source);
          else if (r->target[0] != '/')
            r->target = secrets ? sa_printf (m->a, "/run/secrets/%s", r->target)
                                : sa_printf (m->a, "/%s", r->target);
          k++;
        }
      path_pop (m, mk);
    }
  *outp = out;
  *np = k;
}

/* One extra_hosts address: "[::1]" is "::1", as Compose writes it. */
static void
add_host (struct mctx *m, struct stack_kvs *out, const char *name, const char *addr)
{
  size_t len = addr ? strlen (addr) : 0;
  if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']')
    {
      cleanup_free char *a = xstrndup (addr + 1, len - 2);
      kvs_add (m, out, name, a);
    }
  else
    kvs_add (m, out, name, addr);
}

/* extra_hosts: ["NAME:ADDR" or "NAME=ADDR", ...] or {NAME: ADDR or [ADDR, ...]}.
 * A name may have several addresses (an IPv4 and an IPv6 one): each
 * entry is kept, as Compose. */
static void
parse_extra_hosts (struct mctx *m, const struct node *n, struct stack_kvs *out)
{
  if (n->kind == NODE_MAP)
    {
      size_t cap = 1;
      for (size_t i = 0; i < n->npairs; i++)
        cap += n->pairs[i].value->kind == NODE_SEQ ? n->pairs[i].value->nitems : 1;
      out->v = sa_alloc (m->a, cap * sizeof *out->v);
      for (size_t i = 0; i < n->npairs; i++)
        {
          const char *name = n->pairs[i].key->scalar;
          const struct node *v = n->pairs[i].value;
          size_t mk = path_push (m, ".%s", name);
          if (v->kind == NODE_SCALAR && *v->scalar)
            add_host (m, out, name, v->scalar);
          else if (v->kind == NODE_SEQ && v->nitems)
            for (size_t k = 0; k < v->nitems; k++)
              if (v->items[k]->kind == NODE_SCALAR && *v->items[k]->scalar)
                add_host (m, out, name, v->items[k]->scalar);
              else
                merr (m, v->items[k], "expected an address, got %s", got (v->items[k]));
          else
            merr (m, v, "expected an address or a list of addresses, got %s", got (v));
          path_pop (m, mk);
        }
      return;
    }
  if (n->kind != NODE_SEQ)
    {
      merr (m, n, "expected a map or a list of \"HOST:IP\" strings, got %s", got (n));
      return;
    }
  out->v = sa_alloc (m->a, (n->nitems + 1) * sizeof *out->v);
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *it = n->items[i];
      size_t mk = path_push (m, "[%zu]", i);
      if (it->kind != NODE_SCALAR)
        merr (m, it, "expected a \"HOST:IP\" string, got %s", got (it));
      else
        {
          size_t k = strcspn (it->scalar, "=:");
          cleanup_free char *name = xstrndup (it->scalar, k);
          if (k == 0)
            merr (m, it, "empty name in '%s'", it->scalar);
          else if (it->scalar[k] == '\0' || it->scalar[k + 1] == '\0')
            merr (m, it, "'%s': expected HOST:IP or HOST=IP", name);
          else
            add_host (m, out, name, it->scalar + k + 1);
        }
      path_pop (m, mk);
    }
  /* the same entry twice: Compose refuses it ("items must be unique"); one
   * is kept (O(n log n)) */
  kvs_dedupe_pairs (out);
}

static bool
valid_name (const char *s, bool first_alnum)
{
  if (*s == '\0')
    return false;
  if (first_alnum && !isalnum ((unsigned char) *s))
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char) *s) && !strchr ("._-", *s))
      return false;
  return true;
}

static void
parse_resources (struct mctx *m, const struct node *n, struct stack_resources *r,
                 const struct keyspec *ks)
{
  if (n == NULL || n->kind == NODE_NULL || !expect_map (m, n, "a map"))
    return;
  check_keys (m, n, ks);
  size_t mk = path_push (m, ".cpus");
  get_double (m, mget (n, "cpus"), &r->cpus);
  path_pop (m, mk);
  ksize (m, n, "memory", &r->memory);
}

/* One service; returns false when the tree is not a map. */
/* tmpfs: "PATH:size=1.5m": the engine passes size= to the kernel, which
 * takes no fraction (the container would not start): such a size is
 * written in bytes. */
static void
tmpfs_sizes (struct mctx *m, const struct node *n, struct stack_strv *t)
{
  for (size_t i = 0; i < t->n; i++)
    {
      const char *c = strchr (t->v[i], ':');
      if (c == NULL || strchr (c, '.') == NULL)
        continue;
      cleanup_buf struct buf b = { 0 };
      buf_add (&b, t->v[i], (size_t) (c - t->v[i]) + 1);
      cleanup_free char *opts = xstrdup (c + 1);
      char *save = NULL;
      bool first = true;
      for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
        {
          uint64_t bytes = 0;
          const char *why;
          if (!first)
            buf_addc (&b, ',');
          first = false;
          if (strncmp (o, "size=", 5) == 0 && strchr (o, '.'))
            {
              if (stack_parse_size (o + 5, &bytes, &why) < 0)
                {
                  const struct node *at = n->kind == NODE_SEQ && i < n->nitems ? n->items[i] : n;
                  merr (m, at, "invalid tmpfs size '%s': %s", o + 5, why);
                }
              buf_addf (&b, "size=%llu", (unsigned long long) bytes);
            }
          else
            buf_adds (&b, o);
        }
      t->v[i] = sa_strdup (m->a, b.data);
    }
}

/* A dependency the file implies (network_mode: service:X, ...), unless
 * depends_on names X already: started, required. */
static void
implied_dep (struct mctx *m, struct stack_service *s, const char *target, const char *via)
{
  for (size_t i = 0; i < s->ndepends_on; i++)
    if (strcmp (s->depends_on[i].service, target) == 0)
      return;
  struct stack_dep *nd = sa_alloc (m->a, (s->ndepends_on + 1) * sizeof *nd);
  if (s->ndepends_on)
    memcpy (nd, s->depends_on, s->ndepends_on * sizeof *nd);
  struct stack_dep *dp = &nd[s->ndepends_on++];
  s->depends_on = nd;
  dp->service = sa_strdup (m->a, target);
  dp->condition = STACK_COND_STARTED;
  dp->required = true;
  dp->implicit = true;
  dp->implied_by = via;
}

static void
parse_service (struct mctx *m, const char *name, const struct node *n, struct stack_service *s)
{
  s->name = sa_strdup (m->a, name);
  s->file = n->file;
  s->line = n->line;
  s->init = -1;
  s->stop_grace_period = -1;
  s->healthcheck.retries = -1;
  if (n->kind == NODE_NULL)
    {
      merr (m, n, "an empty service (it needs at least 'image' or 'build')");
      return;
    }
  if (!expect_map (m, n, "a map"))
    return;
  check_keys (m, n, service_keys);
  s->x = extensions (n, &s->x_itm);
  {
    char rbuf[160];
    const struct node *rat = NULL;
    const char *rwhy = stack_parse_replicas (n, &s->replicas, &rat, rbuf, sizeof rbuf);
    if (rwhy)
      merr (m, rat, "%s", rwhy);
  }
  /* most of the keys looked up below are absent: a bit per first two
   * characters of the keys present spares most of their lookups */
#define KEYBIT(k)                                                                 \
  (1ull << (((unsigned char) (k)[0] * 31u + (unsigned char) ((k)[0] ? (k)[1] : 0)) & 63))
  uint64_t present = 0;
  for (size_t i = 0; i < n->npairs; i++)
    present |= KEYBIT (n->pairs[i].key->scalar);

#define SUB(key, stmt)                                  \
  do                                                    \
    {                                                   \
      const struct node *v_ = present & KEYBIT (key) ? mget (n, key) : NULL; \
      if (v_)                                           \
        {                                               \
          size_t mk_ = path_push (m, "." key);          \
          const struct node *v = v_;                    \
          stmt;                                         \
          path_pop (m, mk_);                            \
        }                                               \
    }                                                   \
  while (0)

  SUB ("image", s->image = get_str (m, v));
  SUB ("build", {
    s->build.set = true;
    if (v->kind == NODE_SCALAR)
      s->build.context = is_url (v->scalar) ? sa_strdup (m->a, v->scalar) : abs_path (m, v->scalar);
    else if (expect_map (m, v, "a context path or a map"))
      {
        check_keys (m, v, build_keys);
        const char *ctxs = kstr (m, v, "context");
        s->build.context = ctxs == NULL ? abs_path (m, ".")
                           : is_url (ctxs) ? sa_strdup (m->a, ctxs) : abs_path (m, ctxs);
        s->build.dockerfile = kstr (m, v, "dockerfile");
        s->build.target = kstr (m, v, "target");
        s->build.network = kstr (m, v, "network");
        kdict (m, v, "args", &s->build.args);
        klabels (m, v, "labels", &s->build.labels);
        const struct node *eh = mget (v, "extra_hosts");
        if (eh)
          {
            size_t mk = path_push (m, ".extra_hosts");
            parse_extra_hosts (m, eh, &s->build.extra_hosts);
            path_pop (m, mk);
          }
        ksize (m, v, "shm_size", &s->build.shm_size);
        kdict (m, v, "ssh", &s->build.ssh);
        const struct node *bs = mget (v, "secrets");
        if (bs)
          {
            size_t mk = path_push (m, ".secrets");
            parse_filerefs (m, bs, FILEREF_BUILD_SECRET, &s->build.secrets, &s->build.nsecrets);
            path_pop (m, mk);
          }
        }
  });
  SUB ("command", parse_command (m, v, &s->command));
  SUB ("entrypoint", parse_command (m, v, &s->entrypoint));
  parse_environment (m, n, s);
  SUB ("ports", parse_ports (m, v, s));
  SUB ("expose", parse_expose (m, v, s));
  SUB ("volumes", parse_volumes (m, v, s));
  SUB ("tmpfs", {
    get_strv (m, v, true, &s->tmpfs);
    tmpfs_sizes (m, v, &s->tmpfs);
  });
  SUB ("networks", parse_svc_networks (m, v, s));
  SUB ("depends_on", parse_depends_on (m, v, s));
  SUB ("healthcheck", parse_healthcheck (m, v, &s->healthcheck));
  SUB ("restart", {
    s->restart = get_str (m, v);
    if (s->restart)
      {
        const char *r = s->restart;
        char *end = NULL;
        bool ok = strcmp (r, "no") == 0 || strcmp (r, "always") == 0
                  || strcmp (r, "unless-stopped") == 0 || strcmp (r, "on-failure") == 0;
        if (!ok && strncmp (r, "on-failure:", 11) == 0 && isdigit ((unsigned char) r[11]))
          {
            (void) strtol (r + 11, &end, 10);
            ok = *end == '\0';
          }
        if (!ok)
          merr (m, v, "expected no, always, on-failure[:MAX], or unless-stopped, got '%s'", r);
      }
  });
  SUB ("labels", {
    get_dict (m, v, "=", &s->labels);
    for (size_t i = 0; i < s->labels.n; i++)   /* "- b": empty, as Compose */
      if (s->labels.v[i].value == NULL)
        s->labels.v[i].value = sa_strdup (m->a, "");
    reserved_labels (m, v);
  });
  SUB ("working_dir", {
    s->working_dir = get_str (m, v);
    if (s->working_dir && s->working_dir[0] != '/')
      merr (m, v, "'%s' is not an absolute path", s->working_dir);
  });
  SUB ("user", s->user = get_str (m, v));
  SUB ("hostname", s->hostname = get_str (m, v));
  SUB ("container_name", {
    s->container_name = get_str (m, v);
    if (s->container_name && !valid_name (s->container_name, true))
      merr (m, v, "invalid container name '%s' (letters, digits, '.', '_', '-')", s->container_name);
  });
  SUB ("extra_hosts", parse_extra_hosts (m, v, &s->extra_hosts));
  SUB ("init", {
    bool b;
    if (get_bool (m, v, &b))
      s->init = b;
  });
  SUB ("stop_signal", s->stop_signal = get_str (m, v));
  SUB ("stop_grace_period", get_duration (m, v, &s->stop_grace_period));
  SUB ("cap_add", get_strv (m, v, false, &s->cap_add));
  SUB ("cap_drop", get_strv (m, v, false, &s->cap_drop));
  SUB ("privileged", get_bool (m, v, &s->privileged));
  SUB ("ulimits", parse_ulimits (m, v, s));
  SUB ("shm_size", get_size (m, v, &s->shm_size));
  SUB ("sysctls", get_dict (m, v, "=", &s->sysctls));
  SUB ("dns", {
    /* an entry that interpolated to nothing is dropped, as Compose */
    get_strv (m, v, true, &s->dns);
    size_t o = 0;
    for (size_t i = 0; i < s->dns.n; i++)
      if (*s->dns.v[i])
        s->dns.v[o++] = s->dns.v[i];
    if (o == 0 && s->dns.n)
      s->dns.set = false;
    s->dns.n = o;
  });
  SUB ("platform", s->platform = get_str (m, v));
  SUB ("pull_policy", {
    s->pull_policy = get_str (m, v);
    const char *p = s->pull_policy;
    int64_t ns;
    const char *why;
    if (p && strcmp (p, "always") && strcmp (p, "never") && strcmp (p, "missing")
        && strcmp (p, "build") && strcmp (p, "if_not_present") && strcmp (p, "daily")
        && strcmp (p, "weekly")
        && !(strncmp (p, "every_", 6) == 0 && stack_parse_duration (p + 6, &ns, &why) == 0))
      merr (m, v, "expected always, never, missing, build, daily, weekly or every_DURATION, got '%s'",
            p);
    else if (p && strcmp (p, "if_not_present") == 0)
      s->pull_policy = sa_strdup (m->a, "missing");   /* Compose's name for it */
  });
  SUB ("profiles", {
    get_strv (m, v, false, &s->profiles);
    for (size_t i = 0; i < s->profiles.n; i++)
      if (!valid_name (s->profiles.v[i], true))
        merr (m, v, "invalid profile name '%s'", s->profiles.v[i]);
  });
  SUB ("mem_limit", get_size (m, v, &s->mem_limit));
  SUB ("cpus", get_double (m, v, &s->cpus));
  SUB ("deploy", {
    if (v->kind != NODE_NULL && expect_map (m, v, "a map"))
      {
        check_keys (m, v, deploy_keys);
        const struct node *r = mget (v, "resources");
        if (r && r->kind != NODE_NULL)
          {
            size_t mk = path_push (m, ".resources");
            if (expect_map (m, r, "a map"))
              {
                check_keys (m, r, resources_keys);
                size_t m2 = path_push (m, ".limits");
                parse_resources (m, mget (r, "limits"), &s->limits, limits_keys);
                path_pop (m, m2);
                m2 = path_push (m, ".reservations");
                parse_resources (m, mget (r, "reservations"), &s->reservations,
                                 reservations_keys);
                path_pop (m, m2);
              }
            path_pop (m, mk);
          }
      }
  });
  SUB ("read_only", get_bool (m, v, &s->read_only));
  SUB ("tty", get_bool (m, v, &s->tty));
  SUB ("stdin_open", get_bool (m, v, &s->stdin_open));
  SUB ("network_mode", {
    s->network_mode = get_str (m, v);
    if (s->network_mode && s->nnetworks)
      merr (m, v, "'network_mode' and 'networks' cannot both be set");
  });
  SUB ("runtime", s->runtime = get_str (m, v));
  SUB ("secrets", parse_filerefs (m, v, FILEREF_SECRET, &s->secrets, &s->nsecrets));
  SUB ("configs", parse_filerefs (m, v, FILEREF_CONFIG, &s->configs, &s->nconfigs));
#undef SUB
#undef KEYBIT
  if (s->image == NULL && !s->build.set)
    merr (m, n, "a service needs 'image' or 'build'");
  /* x-itm.checks (checks.c): after ports, which the checks' ports must be among */
  stack_checks_parse (m->d, m->a, n, s);
  /* start order Compose infers: network_mode/ipc: service:X, links,
   * volumes_from (itm-env acts on no other part of the last three) */
  if (s->network_mode && strncmp (s->network_mode, "service:", 8) == 0)
    implied_dep (m, s, s->network_mode + 8, "network_mode");
  const struct node *ipc = mget (n, "ipc");
  if (ipc && ipc->kind == NODE_SCALAR && strncmp (ipc->scalar, "service:", 8) == 0)
    implied_dep (m, s, ipc->scalar + 8, "ipc");
  const struct node *links = mget (n, "links");
  for (size_t i = 0; links && links->kind == NODE_SEQ && i < links->nitems; i++)
    if (links->items[i]->kind == NODE_SCALAR && *links->items[i]->scalar)
      {
        cleanup_free char *t = xstrndup (links->items[i]->scalar,
                                         strcspn (links->items[i]->scalar, ":"));
        implied_dep (m, s, t, "links");
      }
  const struct node *vf = mget (n, "volumes_from");
  for (size_t i = 0; vf && vf->kind == NODE_SEQ && i < vf->nitems; i++)
    if (vf->items[i]->kind == NODE_SCALAR && *vf->items[i]->scalar
        && strncmp (vf->items[i]->scalar, "container:", 10) != 0)
      {
        cleanup_free char *t = xstrndup (vf->items[i]->scalar,
                                         strcspn (vf->items[i]->scalar, ":"));
        implied_dep (m, s, t, "volumes_from");
      }
}

/* ---- top level */

static void
parse_external (struct mctx *m, const struct node *map, bool *external, char **name)
{
  const struct node *e = mget (map, "external");
  if (e == NULL)
    return;
  size_t mk = path_push (m, ".external");
  if (e->kind == NODE_MAP)
    {
      check_keys (m, e, external_keys);
      *external = true;
      char *n = kstr (m, e, "name");
      if (n)
        {
          mwarn (m, e, "'external.name' is deprecated: use 'name'");
          *name = n;
        }
    }
  else
    get_bool (m, e, external);
  path_pop (m, mk);
}

static void
conflicts_external (struct mctx *m, const struct node *map, const char *const *keys)
{
  for (size_t i = 0; keys[i]; i++)
    {
      const struct node *k = mget (map, keys[i]);
      if (k)
        merr (m, k, "'%s' cannot be set on an external resource", keys[i]);
    }
}

static void
parse_network (struct mctx *m, const char *key, const struct node *n, struct stack_network *nw)
{
  nw->key = sa_strdup (m->a, key);
  if (n->kind == NODE_NULL || !expect_map (m, n, "a map or null"))
    return;
  check_keys (m, n, network_keys);
  nw->name = kstr (m, n, "name");
  parse_external (m, n, &nw->external, &nw->name);
  nw->driver = kstr (m, n, "driver");
  kdict (m, n, "driver_opts", &nw->driver_opts);
  klabels (m, n, "labels", &nw->labels);
  kbool (m, n, "internal", &nw->internal);
  kbool (m, n, "attachable", &nw->attachable);
  kbool (m, n, "enable_ipv6", &nw->enable_ipv6);
  const struct node *ipam = mget (n, "ipam");
  if (ipam && ipam->kind != NODE_NULL)
    {
      size_t mk = path_push (m, ".ipam");
      if (expect_map (m, ipam, "a map"))
        {
          check_keys (m, ipam, ipam_keys);
          nw->ipam_driver = kstr (m, ipam, "driver");
          kdict (m, ipam, "options", &nw->ipam_options);
          const struct node *cfg = mget (ipam, "config");
          if (cfg && cfg->kind == NODE_SEQ)
            {
              nw->ipam_config = sa_alloc (m->a, (cfg->nitems + 1) * sizeof *nw->ipam_config);
              for (size_t i = 0; i < cfg->nitems; i++)
                {
                  const struct node *c = cfg->items[i];
                  size_t m2 = path_push (m, ".config[%zu]", i);
                  if (expect_map (m, c, "a map"))
                    {
                      struct stack_ipam_config *ic = &nw->ipam_config[nw->nipam_config++];
                      check_keys (m, c, ipam_config_keys);
                      ic->subnet = kstr (m, c, "subnet");
                      ic->ip_range = kstr (m, c, "ip_range");
                      ic->gateway = kstr (m, c, "gateway");
                      kdict (m, c, "aux_addresses", &ic->aux_addresses);
                    }
                  path_pop (m, m2);
                }
            }
          else if (cfg && cfg->kind != NODE_NULL)
            merr (m, cfg, "config: expected a list, got %s", got (cfg));
        }
      path_pop (m, mk);
    }
  if (nw->external)
    {
      static const char *const bad[] = { "driver", "driver_opts", "ipam", "internal",
                                         "attachable", "labels", "enable_ipv6", NULL };
      conflicts_external (m, n, bad);
    }
}

/* The local driver's bind volume (driver_opts o: bind, device: ./data):
 * the device is a host path, relative to the project directory, and the
 * driver needs it absolute (as later Compose releases make it). */
static void
bind_device_abs (struct mctx *m, struct stack_volume *v)
{
  if (v->driver && strcmp (v->driver, "local") != 0)
    return;
  const char *o = NULL;
  struct stack_kv *dev = NULL;
  for (size_t i = 0; i < v->driver_opts.n; i++)
    if (strcmp (v->driver_opts.v[i].name, "o") == 0)
      o = v->driver_opts.v[i].value;
    else if (strcmp (v->driver_opts.v[i].name, "device") == 0)
      dev = &v->driver_opts.v[i];
  if (o == NULL || dev == NULL || dev->value == NULL || dev->value[0] == '/' || !*dev->value)
    return;
  bool bind = false;
  cleanup_free char *opts = xstrdup (o);
  char *save = NULL;
  for (char *t = strtok_r (opts, ",", &save); t; t = strtok_r (NULL, ",", &save))
    bind = bind || strcmp (t, "bind") == 0 || strcmp (t, "rbind") == 0;
  if (bind)
    dev->value = abs_path (m, dev->value);
}

static void
parse_volume (struct mctx *m, const char *key, const struct node *n, struct stack_volume *v)
{
  v->key = sa_strdup (m->a, key);
  if (n->kind == NODE_NULL || !expect_map (m, n, "a map or null"))
    return;
  check_keys (m, n, volume_keys);
  v->name = kstr (m, n, "name");
  parse_external (m, n, &v->external, &v->name);
  v->driver = kstr (m, n, "driver");
  kdict (m, n, "driver_opts", &v->driver_opts);
  bind_device_abs (m, v);
  klabels (m, n, "labels", &v->labels);
  if (v->external)
    {
      static const char *const bad[] = { "driver", "driver_opts", "labels", NULL };
      conflicts_external (m, n, bad);
    }
}

static void
parse_object (struct mctx *m, const char *key, const struct node *n, struct stack_object *o)
{
  o->key = sa_strdup (m->a, key);
  if (!expect_map (m, n, "a map with file, environment, content or external"))
    return;
  check_keys (m, n, object_keys);
  o->name = kstr (m, n, "name");
  parse_external (m, n, &o->external, &o->name);
  const char *f = kstr (m, n, "file");
  o->file = abs_path (m, f);
  o->environment = kstr (m, n, "environment");
  o->content = kstr (m, n, "content");
  int nsrc = (o->file != NULL) + (o->environment != NULL) + (o->content != NULL) + o->external;
  if (nsrc == 0)
    merr (m, n, "expected one of 'file', 'environment', 'content' or 'external'");
  else if (nsrc > 1)
    merr (m, n, "only one of 'file', 'environment', 'content' and 'external' may be set");
  if (o->environment)
    {
      const char *v = m->env ? stack_env_get (m->env, o->environment) : getenv (o->environment);
      if (v == NULL)
        merr (m, mget (n, "environment"), "variable '%s' is not set", o->environment);
      o->env_value = sa_strdup (m->a, v);
    }
}

/* A top-level section (networks, volumes, secrets, configs): a map of
 * named entries; calls parse for each. */
typedef void (*entry_fn) (struct mctx *, const char *, const struct node *, void *);

static void *
parse_section (struct mctx *m, const struct node *root, const char *sect, size_t elsize,
               size_t extra, size_t *count, entry_fn fn)
{
  const struct node *n = mget (root, sect);
  char *arr;
  *count = 0;
  if (n == NULL || n->kind == NODE_NULL)
    return sa_alloc (m->a, (extra + 1) * elsize);
  size_t mk = path_push (m, "%s", sect);
  if (!expect_map (m, n, "a map"))
    {
      path_pop (m, mk);
      return sa_alloc (m->a, (extra + 1) * elsize);
    }
  arr = sa_alloc (m->a, (n->npairs + extra + 1) * elsize);
  for (size_t i = 0; i < n->npairs; i++)
    {
      const char *key = n->pairs[i].key->scalar;
      if (strncmp (key, "x-", 2) == 0)
        continue;
      size_t m2 = path_push (m, ".%s", key);
      if (!valid_name (key, false))
        merr (m, n->pairs[i].key, "invalid name '%s' (letters, digits, '.', '_', '-')", key);
      fn (m, key, n->pairs[i].value, arr + *count * elsize);
      (*count)++;
      path_pop (m, m2);
    }
  path_pop (m, mk);
  return arr;
}

static void
net_fn (struct mctx *m, const char *k, const struct node *n, void *out)
{
  parse_network (m, k, n, out);
}
static void
vol_fn (struct mctx *m, const char *k, const struct node *n, void *out)
{
  parse_volume (m, k, n, out);
}
static void
obj_fn (struct mctx *m, const char *k, const struct node *n, void *out)
{
  parse_object (m, k, n, out);
}

static int
cmp_key_net (const void *a, const void *b)
{
  return strcmp (((const struct stack_network *) a)->key, ((const struct stack_network *) b)->key);
}
static int
cmp_key_vol (const void *a, const void *b)
{
  return strcmp (((const struct stack_volume *) a)->key, ((const struct stack_volume *) b)->key);
}
static int
cmp_key_obj (const void *a, const void *b)
{
  return strcmp (((const struct stack_object *) a)->key, ((const struct stack_object *) b)->key);
}
static int
cmp_svc (const void *a, const void *b)
{
  return strcmp (((const struct stack_service *) a)->name,
                 ((const struct stack_service *) b)->name);
}
static int
cmp_dep (const void *a, const void *b)
{
  return strcmp (((const struct stack_dep *) a)->service, ((const struct stack_dep *) b)->service);
}
static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
in_list (const char *const *v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

struct stack_profiles {
  const char **v;
  size_t n;
  bool all;
};

static bool
service_active (const struct stack_service *s, const struct stack_profiles *p,
                const struct stack_opts *o)
{
  if (s->profiles.n == 0 || p->all)
    return true;
  if (o && in_list (o->services, o->nservices, s->name))
    return true;
  for (size_t i = 0; i < s->profiles.n; i++)
    if (in_list (p->v, p->n, s->profiles.v[i]))
      return true;
  return false;
}

/* Binary search in an array sorted by key, of structs whose first member
 * is `char *key`. */
static bool
has_key (const void *arr, size_t n, size_t elsize, const char *key)
{
  size_t lo = 0, hi = n;
  while (lo < hi)
    {
      size_t mid = (lo + hi) / 2;
      int c = strcmp (*(char *const *) ((const char *) arr + mid * elsize), key);
      if (c == 0)
        return true;
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return false;
}

struct name_index {
  const char *name;
  size_t i;
};

static int
cmp_name_index (const void *a, const void *b)
{
  return strcmp (((const struct name_index *) a)->name, ((const struct name_index *) b)->name);
}

/* The index of a service by name, or n. */
static size_t
find_service (const struct name_index *v, size_t n, const char *name)
{
  size_t lo = 0, hi = n;
  while (lo < hi)
    {
      size_t mid = (lo + hi) / 2;
      int c = strcmp (v[mid].name, name);
      if (c == 0)
        return v[mid].i;
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return n;
}

/* What the build of the model carries from one step to the next. */
struct build {
  struct mctx m;
  const struct stack_opts *o;
  const struct stack_loaded *l;
  struct stack_service *all;       /* every service parsed, in file order */
  const struct node **allnodes;    /* the node of each */
  size_t nall;
  struct stack_profiles prof;      /* the profiles enabled */
  char *envprof;                   /* COMPOSE_PROFILES split in place (prof.v points in) */
  bool *active;                    /* per service of all */
  struct name_index *byname;       /* all, sorted by name */
  bool need_default;               /* an active service uses the default network */
};

/* The top level: a map, its keys, x-*, 'version', 'name'.  -1: no model
 * can be built from it. */
static int
build_top (struct build *b, const struct node *root)
{
  struct mctx *m = &b->m;
  struct diags *d = m->d;
  if (root == NULL || root->kind == NODE_NULL)
    {
      diag_addp (d, DIAG_ERROR, b->l && b->l->nfiles ? b->l->files[0] : NULL, 0, 0,
                 "the stack is empty (expected a map with 'services')");
      return -1;
    }
  if (root->kind != NODE_MAP)
    {
      diag_add (d, DIAG_ERROR, root, "expected a map with 'services' at the top, got %s",
                got (root));
      return -1;
    }
  check_keys (m, root, top_keys);
  m->st->x = extensions (root, &m->st->x_itm);
  const struct node *ver = mget (root, "version");
  if (ver)
    for (size_t i = 0; i < root->npairs; i++)
      if (strcmp (root->pairs[i].key->scalar, "version") == 0)
        diag_add (d, DIAG_NOTE, root->pairs[i].key, "'version' is obsolete and ignored");
  const struct node *nm = mget (root, "name");
  if (nm)
    {
      size_t mk = path_push (m, "name");
      const char *given = get_str (m, nm);
      if (given)
        {
          /* Compose normalizes it: "myProject" is "myproject" */
          cleanup_free char *n = stack_project_name_normalize (given);
          m->st->name = sa_strdup (m->a, n);
          const char *name = n;
          if (*name == '\0')
            merr (m, nm, "invalid name '%s' (no letter or digit: the project name must not be "
                  "empty)", given);
          else if (strlen (name) > STACK_NAME_MAX)
            merr (m, nm, "'%s' is %zu characters long; at most %d are allowed (the namespace "
                  "is made from it)", name, strlen (name), STACK_NAME_MAX);
        }
      path_pop (m, mk);
    }
  return 0;
}

/* The top-level networks, volumes, secrets and configs, sorted by key for
 * the lookups of the services' references (every struct starts with its
 * key). */
static void
build_sections (struct build *b, const struct node *root)
{
  struct mctx *m = &b->m;
  struct stack *st = m->st;
  size_t nnet;
  st->networks = parse_section (m, root, "networks", sizeof *st->networks, 1, &nnet, net_fn);
  st->nnetworks = nnet;
  st->volumes = parse_section (m, root, "volumes", sizeof *st->volumes, 0, &st->nvolumes, vol_fn);
  st->secrets = parse_section (m, root, "secrets", sizeof *st->secrets, 0, &st->nsecrets, obj_fn);
  st->configs = parse_section (m, root, "configs", sizeof *st->configs, 0, &st->nconfigs, obj_fn);
  qsort (st->networks, st->nnetworks, sizeof *st->networks, cmp_key_net);
  qsort (st->volumes, st->nvolumes, sizeof *st->volumes, cmp_key_vol);
  qsort (st->secrets, st->nsecrets, sizeof *st->secrets, cmp_key_obj);
  qsort (st->configs, st->nconfigs, sizeof *st->configs, cmp_key_obj);
}

/* Every service of 'services' (x-* keys skipped) into b->all. */
static void
build_services (struct build *b, const struct node *root)
{
  struct mctx *m = &b->m;
  struct diags *d = m->d;
  const struct node *sv = mget (root, "services");
  if (sv == NULL || sv->kind == NODE_NULL)
    {
      diag_add (d, DIAG_ERROR, root, "no 'services' in the stack");
      return;
    }
  if (sv->kind != NODE_MAP)
    {
      diag_add (d, DIAG_ERROR, sv, "services: expected a map, got %s", got (sv));
      return;
    }
  b->all = sa_alloc (m->a, (sv->npairs + 1) * sizeof *b->all);
  b->allnodes = sa_alloc (m->a, (sv->npairs + 1) * sizeof *b->allnodes);
  for (size_t i = 0; i < sv->npairs; i++)
    {
      /* "x-web" is a service: Compose takes extensions (x-*) only at the
       * top level and inside a service, not as service names */
      const char *name = sv->pairs[i].key->scalar;
      size_t mk = path_push (m, "services.%s", name);
      if (!valid_name (name, false))
        merr (m, sv->pairs[i].key, "invalid service name '%s' (letters, digits, '.', '_', '-')",
              name);
      b->allnodes[b->nall] = sv->pairs[i].value;
      parse_service (m, name, sv->pairs[i].value, &b->all[b->nall++]);
      stack_xproxy_check (d, sv->pairs[i].value, &b->all[b->nall - 1]);
      path_pop (m, mk);
    }
  if (b->nall == 0)
    diag_add (d, DIAG_ERROR, sv, "services: no service defined");
}

/* The profiles enabled: --profile, else COMPOSE_PROFILES (the stack's
 * environment first, then the process's); "*" enables all. */
static void
build_profiles (struct build *b)
{
  const struct stack_opts *o = b->o;
  struct stack_profiles *prof = &b->prof;
  if (o && o->nprofiles)
    {
      prof->v = (const char **) o->profiles;
      prof->n = o->nprofiles;
    }
  else
    {
      const char *ep = b->l && b->l->env ? stack_env_get (b->l->env, "COMPOSE_PROFILES") : NULL;
      if (ep == NULL)
        ep = getenv ("COMPOSE_PROFILES");
      if (ep && *ep)
        {
          b->envprof = xstrdup (ep);
          size_t cap = 0;
          char *save = NULL;
          for (char *t = strtok_r (b->envprof, ",", &save); t; t = strtok_r (NULL, ",", &save))
            {
              while (*t == ' ')
                t++;
              prof->v = xgrow (prof->v, &cap, prof->n + 1, sizeof *prof->v);
              prof->v[prof->n++] = t;
            }
        }
    }
  for (size_t i = 0; i < prof->n; i++)
    if (strcmp (prof->v[i], "*") == 0)
      prof->all = true;
}

/* Every profile a service names, sorted and unique (for --profiles). */
static void
collect_profiles (struct build *b)
{
  struct stack *st = b->m.st;
  size_t nprof = 0;
  for (size_t i = 0; i < b->nall; i++)
    nprof += b->all[i].profiles.n;
  st->profiles = sa_alloc (b->m.a, (nprof + 1) * sizeof (char *));
  for (size_t i = 0; i < b->nall; i++)
    for (size_t j = 0; j < b->all[i].profiles.n; j++)
      st->profiles[st->nprofiles++] = b->all[i].profiles.v[j];
  qsort (st->profiles, st->nprofiles, sizeof (char *), cmp_str);
  size_t u = 0;
  for (size_t i = 0; i < st->nprofiles; i++)
    if (u == 0 || strcmp (st->profiles[u - 1], st->profiles[i]) != 0)
      st->profiles[u++] = st->profiles[i];
  st->nprofiles = u;
}

/* The services named on the command line must exist. */
static void
check_named_services (struct build *b)
{
  const struct stack_opts *o = b->o;
  if (o == NULL)
    return;
  for (size_t i = 0; i < o->nservices; i++)
    {
      bool found = false;
      for (size_t j = 0; j < b->nall; j++)
        found = found || strcmp (b->all[j].name, o->services[i]) == 0;
      if (!found)
        diag_addp (b->m.d, DIAG_ERROR, NULL, 0, 0, "no such service: '%s'", o->services[i]);
    }
}

/* Which services are active, and the index by name. */
static void
build_index (struct build *b)
{
  b->active = xcalloc (b->nall + 1, sizeof (bool));
  b->byname = xcalloc (b->nall + 1, sizeof *b->byname);
  for (size_t i = 0; i < b->nall; i++)
    b->byname[i] = (struct name_index) { b->all[i].name, i };
  if (b->nall > 1)
    qsort (b->byname, b->nall, sizeof *b->byname, cmp_name_index);
  for (size_t i = 0; i < b->nall; i++)
    b->active[i] = service_active (&b->all[i], &b->prof, b->o);
}

/* Service i's dependencies: each must exist, not be itself, and be active
 * when i is (an inactive optional one is dropped). */
static void
resolve_deps (struct build *b, size_t i)
{
  struct mctx *m = &b->m;
  struct stack_service *s = &b->all[i];
  const struct node *sn = b->allnodes[i];
  size_t k = 0;
  for (size_t j = 0; j < s->ndepends_on; j++)
    {
      struct stack_dep *dp = &s->depends_on[j];
      const struct node *dn = mget (sn, dp->implicit && dp->implied_by ? dp->implied_by
                                        : "depends_on");
      if (dn == NULL)
        dn = sn;
      if (dn && dn->kind == NODE_MAP && mget (dn, dp->service))
        dn = mget (dn, dp->service);
      size_t target = find_service (b->byname, b->nall, dp->service);
      if (target == b->nall)
        {
          merr (m, dn, "depends on undefined service '%s'", dp->service);
          continue;
        }
      if (target == i)
        {
          merr (m, dn, "depends on itself");
          continue;
        }
      if (b->active[i] && !b->active[target])
        {
          const struct stack_service *t = &b->all[target];
          if (dp->required)
            merr (m, dn, "depends on '%s', which is not active (enable one of its profiles: "
                  "%s%s)", dp->service, t->profiles.v[0], t->profiles.n > 1 ? ", ..." : "");
          continue;
        }
      s->depends_on[k++] = *dp;
    }
  s->ndepends_on = k;
}

/* Service i's networks (none: "default") must be declared. */
static void
resolve_networks (struct build *b, size_t i)
{
  struct mctx *m = &b->m;
  const struct stack *st = m->st;
  struct stack_service *s = &b->all[i];
  const struct node *sn = b->allnodes[i];
  if (s->nnetworks == 0 && s->network_mode == NULL)
    {
      s->networks = sa_alloc (m->a, sizeof *s->networks);
      s->networks[0].name = sa_strdup (m->a, "default");
      s->nnetworks = 1;
      if (b->active[i])
        b->need_default = true;
    }
  for (size_t j = 0; j < s->nnetworks; j++)
    {
      bool found = has_key (st->networks, st->nnetworks, sizeof *st->networks,
                            s->networks[j].name);
      if (!found && strcmp (s->networks[j].name, "default") == 0)
        {
          found = true;
          if (b->active[i])
            b->need_default = true;
        }
      if (!found)
        {
          const struct node *nn = mget (sn, "networks");
          merr (m, nn ? nn : sn, "uses undefined network '%s'", s->networks[j].name);
        }
    }
}

/* Service i's named volumes, secrets and configs must be declared. */
static void
resolve_objects (struct build *b, size_t i)
{
  struct mctx *m = &b->m;
  const struct stack *st = m->st;
  const struct stack_service *s = &b->all[i];
  const struct node *sn = b->allnodes[i];
  for (size_t j = 0; j < s->nvolumes; j++)
    {
      const struct stack_mount *v = &s->volumes[j];
      if (v->type != STACK_MOUNT_VOLUME || v->source == NULL)
        continue;
      if (!has_key (st->volumes, st->nvolumes, sizeof *st->volumes, v->source))
        {
          const struct node *vn = mget (sn, "volumes");
          if (vn && vn->kind == NODE_SEQ && j < vn->nitems)
            vn = vn->items[j];
          merr (m, vn ? vn : sn, "uses undefined volume '%s' (declare it under the "
                "top-level 'volumes', or write a path: ./%s)", v->source, v->source);
        }
    }
  for (int w = 0; w < 2; w++)
    {
      const struct stack_file_ref *refs = w ? s->configs : s->secrets;
      size_t nrefs = w ? s->nconfigs : s->nsecrets;
      const struct stack_object *objs = w ? st->configs : st->secrets;
      size_t nobjs = w ? st->nconfigs : st->nsecrets;
      for (size_t j = 0; j < nrefs; j++)
        if (!has_key (objs, nobjs, sizeof *objs, refs[j].source))
          {
            const struct node *rn = mget (sn, w ? "configs" : "secrets");
            if (rn && rn->kind == NODE_SEQ && j < rn->nitems)
              rn = rn->items[j];
            merr (m, rn ? rn : sn, "uses undefined %s '%s'", w ? "config" : "secret",
                  refs[j].source);
          }
    }
  /* build.secrets: declared, and served from a file or a variable */
  for (size_t j = 0; j < s->build.nsecrets; j++)
    {
      const char *src = s->build.secrets[j].source;
      const struct stack_object *o = stack_secret (st, src);
      if (o && (o->file || o->environment))
        continue;
      const struct node *rn = mget (mget (sn, "build"), "secrets");
      if (rn && rn->kind == NODE_SEQ && j < rn->nitems)
        rn = rn->items[j];
      if (o == NULL)
        merr (m, rn ? rn : sn, "build.secrets: uses undefined secret '%s'", src);
      else
        merr (m, rn ? rn : sn, "build.secrets: secret '%s' must have 'file' or 'environment' "
              "(a build reads it on this machine)", src);
    }
}

/* Service i's references: dependencies, networks, volumes, secrets,
 * configs, network_mode. */
static void
resolve_service (struct build *b, size_t i)
{
  struct mctx *m = &b->m;
  const struct stack_service *s = &b->all[i];
  size_t mk = path_push (m, "services.%s", s->name);
  resolve_deps (b, i);
  resolve_networks (b, i);
  resolve_objects (b, i);
  const char *nm = s->network_mode;
  if (nm && strncmp (nm, "container:", 10) != 0 && strncmp (nm, "service:", 8) != 0
      && strcmp (nm, "none") && strcmp (nm, "host") && strcmp (nm, "bridge"))
    merr (m, mget (b->allnodes[i], "network_mode"),
          "network_mode: expected none, host, bridge, service:NAME or container:NAME, got '%s'",
          nm);
  path_pop (m, mk);
}

/* Two services may not have the same container_name. */
static void
check_container_names (struct build *b)
{
  const struct stack_service *all = b->all;
  struct name_index *cn = xcalloc (b->nall + 1, sizeof *cn);
  size_t ncn = 0;
  for (size_t i = 0; i < b->nall; i++)
    if (all[i].container_name)
      cn[ncn++] = (struct name_index) { all[i].container_name, i };
  if (ncn > 1)
    qsort (cn, ncn, sizeof *cn, cmp_name_index);
  for (size_t k = 1; k < ncn; k++)
    if (strcmp (cn[k - 1].name, cn[k].name) == 0)
      {
        size_t i = cn[k - 1].i < cn[k].i ? cn[k - 1].i : cn[k].i;
        size_t j = cn[k - 1].i < cn[k].i ? cn[k].i : cn[k - 1].i;
        diag_add (b->m.d, DIAG_ERROR, mget (b->allnodes[j], "container_name"),
                  "services.%s.container_name: '%s' is also the container name of '%s'",
                  all[j].name, all[j].container_name, all[i].name);
      }
  free (cn);
}

/* The model keeps the active services and names the others (their x-*
 * JSON is released); "default" is added to the networks when one uses it. */
static void
keep_active (struct build *b)
{
  struct stack *st = b->m.st;
  if (b->need_default)
    {
      bool have = false;
      for (size_t t = 0; t < st->nnetworks; t++)
        have = have || strcmp (st->networks[t].key, "default") == 0;
      if (!have)
        st->networks[st->nnetworks++].key = sa_strdup (b->m.a, "default");
    }
  st->services = sa_alloc (b->m.a, (b->nall + 1) * sizeof *st->services);
  st->disabled = sa_alloc (b->m.a, (b->nall + 1) * sizeof *st->disabled);
  for (size_t i = 0; i < b->nall; i++)
    if (b->active[i])
      st->services[st->nservices++] = b->all[i];
    else
      {
        st->disabled[st->ndisabled++] = b->all[i].name;
        if (b->all[i].x)
          json_object_put (b->all[i].x);
      }
}

/* Everything the model lists, sorted (services by name, dependencies by
 * service, the sections by key). */
static void
sort_model (struct stack *st)
{
  qsort (st->disabled, st->ndisabled, sizeof *st->disabled, cmp_str);
  qsort (st->services, st->nservices, sizeof *st->services, cmp_svc);
  qsort (st->networks, st->nnetworks, sizeof *st->networks, cmp_key_net);
  qsort (st->volumes, st->nvolumes, sizeof *st->volumes, cmp_key_vol);
  qsort (st->secrets, st->nsecrets, sizeof *st->secrets, cmp_key_obj);
  qsort (st->configs, st->nconfigs, sizeof *st->configs, cmp_key_obj);
  for (size_t i = 0; i < st->nservices; i++)
    {
      struct stack_service *s = &st->services[i];
      if (s->ndepends_on > 1)
        qsort (s->depends_on, s->ndepends_on, sizeof *s->depends_on, cmp_dep);
    }
}

/* Build the model from the merged tree; every problem goes to d. */
int stack_model_build (const struct node *root, const struct stack_loaded *l,
                       const struct stack_opts *o, struct stack *st, struct diags *d);
int
stack_model_build (const struct node *root, const struct stack_loaded *l,
                   const struct stack_opts *o, struct stack *st, struct diags *d)
{
  struct build b = { .m = { .st = st, .a = st->arena, .d = d, .env = l ? l->env : NULL },
                     .o = o, .l = l };
  b.m.project_dir = st->project_dir ? st->project_dir : "/";

  if (build_top (&b, root) < 0)
    return -1;
  build_sections (&b, root);
  build_services (&b, root);
  build_profiles (&b);
  collect_profiles (&b);
  check_named_services (&b);
  build_index (&b);
  for (size_t i = 0; i < b.nall; i++)
    resolve_service (&b, i);
  check_container_names (&b);
  keep_active (&b);
  sort_model (st);

  free (b.active);
  free (b.byname);
  if (b.prof.v != (const char **) (o ? o->profiles : NULL))
    free (b.prof.v);
  free (b.envprof);
  if (d->nerrors == 0)
    stack_check_cycles (st, d);
  return d->nerrors ? -1 : 0;
}

/* ---- the public entry points */

void
stack_free (struct stack *st)
{
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->nservices; i++)
    if (st->services[i].x)
      json_object_put (st->services[i].x);
  if (st->x)
    json_object_put (st->x);
  stack_arena_free (st->arena);
  free (st);
}

void
stack_freep (struct stack **st)
{
  stack_free (*st);
  *st = NULL;
}

static void
copy_diags (const struct diags *from, struct stack_diags *to)
{
  if (to == NULL)
    return;
  to->v = xrealloc (to->v, (to->n + from->n + 1) * sizeof *to->v);
  for (size_t i = 0; i < from->n; i++)
    {
      const struct diag *g = &from->v[i];
      struct stack_diag *t = &to->v[to->n++];
      t->severity = g->severity == DIAG_ERROR ? STACK_ERROR
                    : g->severity == DIAG_WARNING ? STACK_WARNING : STACK_NOTE;
      t->file = g->file ? xstrdup (g->file) : NULL;
      t->line = g->line;
      t->col = g->col;
      t->msg = xstrdup (g->msg);
    }
  to->nerrors += from->nerrors;
  to->nwarnings += from->nwarnings;
  to->no_file = to->no_file || from->no_file;
}

void
stack_diags_print (const struct stack_diags *d, FILE *out)
{
  static const char *const sev[] = { "note", "warning", "error" };
  for (size_t i = 0; i < d->n; i++)
    {
      const struct stack_diag *g = &d->v[i];
      if (g->file && g->line)
        fprintf (out, "%s:%d:%d: %s: %s\n", g->file, g->line, g->col, sev[g->severity], g->msg);
      else if (g->file)
        fprintf (out, "%s: %s: %s\n", g->file, sev[g->severity], g->msg);
      else
        fprintf (out, "itm-env: %s: %s\n", sev[g->severity], g->msg);
    }
}

void
stack_diags_free (struct stack_diags *d)
{
  for (size_t i = 0; i < d->n; i++)
    {
      free (d->v[i].file);
      free (d->v[i].msg);
    }
  free (d->v);
  memset (d, 0, sizeof *d);
}

int
stack_load (const struct stack_opts *o, struct stack **out, struct stack_diags *diags,
            struct itm_err *err)
{
  struct node_arena *na = node_arena_new ();
  struct diags d = { 0 };
  struct stack_loaded l = { 0 };
  struct stack_load_opts lo = {
    .files = o->files, .nfiles = o->nfiles, .project_dir = o->project_dir,
    .env_files = o->env_files, .nenv_files = o->nenv_files, .environ = o->environ,
    .project_name = o->project_name,
  };
  struct stack *st = xzalloc (sizeof *st);
  int ret = -1;

  st->arena = stack_arena_new ();
  *out = NULL;
  if (stack_files_load (&lo, na, &l, &d) == 0 && d.nerrors == 0)
    {
      st->project_dir = sa_strdup (st->arena, l.project_dir);
      st->nfiles = l.nfiles;
      st->files = sa_alloc (st->arena, (l.nfiles + 1) * sizeof (char *));
      for (size_t i = 0; i < l.nfiles; i++)
        st->files[i] = sa_strdup (st->arena, l.files[i]);
      stack_model_build (l.root, &l, o, st, &d);
    }
  else if (d.nerrors == 0)
    diag_addp (&d, DIAG_ERROR, NULL, 0, 0, "the stack could not be loaded");
  copy_diags (&d, diags);
  if (d.no_file && d.nerrors == 1 && d.n > 0)
    {
      /* not an invalid stack: none at all; the one message says so */
      itm_err_set (err, ITM_EXIT_STACK, "%s", d.v[d.n - 1].msg);
      stack_free (st);
    }
  else if (d.nerrors)
    {
      itm_err_set (err, ITM_EXIT_STACK, "the stack is invalid: %zu error%s", d.nerrors,
                   d.nerrors == 1 ? "" : "s");
      stack_free (st);
    }
  else
    {
      *out = st;
      ret = 0;
    }
  diags_free (&d);
  stack_loaded_free (&l);
  node_arena_free (na);
  return ret;
}

const struct stack_service *
stack_service (const struct stack *st, const char *name)
{
  for (size_t i = 0; i < st->nservices; i++)
    if (strcmp (st->services[i].name, name) == 0)
      return &st->services[i];
  return NULL;
}

const struct stack_network *
stack_network (const struct stack *st, const char *key)
{
  for (size_t i = 0; i < st->nnetworks; i++)
    if (strcmp (st->networks[i].key, key) == 0)
      return &st->networks[i];
  return NULL;
}

const struct stack_volume *
stack_volume (const struct stack *st, const char *key)
{
  for (size_t i = 0; i < st->nvolumes; i++)
    if (strcmp (st->volumes[i].key, key) == 0)
      return &st->volumes[i];
  return NULL;
}

const struct stack_object *
stack_secret (const struct stack *st, const char *key)
{
  for (size_t i = 0; i < st->nsecrets; i++)
    if (strcmp (st->secrets[i].key, key) == 0)
      return &st->secrets[i];
  return NULL;
}

const struct stack_object *
stack_config (const struct stack *st, const char *key)
{
  for (size_t i = 0; i < st->nconfigs; i++)
    if (strcmp (st->configs[i].key, key) == 0)
      return &st->configs[i];
  return NULL;
}
