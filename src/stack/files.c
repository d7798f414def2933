/* files.c - the file layer: lookup, .env, extends, include, -f merges,
 * relative paths (see files.h).
 *
 * Per file, in Compose's order: parse (yaml.c), interpolate every value,
 * apply include (each included file loaded on its own, its paths resolved
 * against its own project directory, its resources must not collide with
 * the including file's), apply extends (same file or file:, chains, cycles
 * reported).  Then the files are merged in order by the override rules
 * below, and relative paths are resolved against the project directory.
 *
 * Override rules (compose-go's override package):
 *   maps                 merged recursively; a null value keeps the old one
 *   scalars              replaced
 *   sequences            appended (profiles, cap_add, cap_drop, dns,
 *                        dns_search, dns_opt, expose, ports, tmpfs, env_file,
 *                        links, security_opt, devices, group_add: no
 *                        duplicates)
 *   command, entrypoint, healthcheck.test: replaced
 *   environment, labels, sysctls, annotations, extra_hosts, build.args,
 *   build.labels, build.extra_hosts, deploy.labels: merged by key, list
 *                        forms ("K=V", "K") turned into maps
 *   ulimits              merged by name
 *   volumes              merged by target path; secrets (/run/secrets/x)
 *                        and configs (/x) by target too
 *   networks             list form turned into a map; merged by name
 *   depends_on           list form turned into {condition: service_started};
 *                        merged by name
 *   build                string form turned into {context: ...}
 *   !reset VALUE         drops the key (from earlier files, or extends' base)
 *   !override VALUE      replaces the earlier value instead of merging
 */
#include <config.h>
#include "stack/files.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

#define INCLUDE_MAX_DEPTH 32

static const char *const default_names[] = {
  "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
};
static const char *const override_names[] = {
  "compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
  "docker-compose.override.yml",
};

/* ---- paths */

/* Lexically clean an absolute path: no ".", "..", "//" or trailing "/". */
static char *
path_clean (const char *p)
{
  size_t len = strlen (p);
  char *out = xmalloc (len + 2);
  size_t o = 0;
  out[o++] = '/';
  const char *s = p;
  while (*s)
    {
      while (*s == '/')
        s++;
      if (!*s)
        break;
      const char *e = strchr (s, '/');
      size_t n = e ? (size_t) (e - s) : strlen (s);
      if (n == 1 && s[0] == '.')
        ;
      else if (n == 2 && s[0] == '.' && s[1] == '.')
        {
          while (o > 1 && out[o - 1] != '/')
            o--;
          if (o > 1)
            o--;
        }
      else
        {
          if (o > 1)
            out[o++] = '/';
          memcpy (out + o, s, n);
          o += n;
        }
      s += n;
    }
  out[o] = '\0';
  return out;
}

/* dir + rel, cleaned; rel absolute stays as it is (cleaned). */
static char *
path_abs (const char *dir, const char *rel)
{
  if (rel[0] == '/')
    return path_clean (rel);
  size_t ld = strlen (dir), lr = strlen (rel);
  cleanup_free char *j = xmalloc (ld + lr + 2);
  memcpy (j, dir, ld);
  j[ld] = '/';
  memcpy (j + ld + 1, rel, lr + 1);
  return path_clean (j);
}

static char *
path_dir (const char *path)
{
  const char *sl = strrchr (path, '/');
  if (sl == NULL)
    return xstrdup (".");
  if (sl == path)
    return xstrdup ("/");
  return xstrndup (path, (size_t) (sl - path));
}

static char *
cwd_abs (const char *path)
{
  char cwd[PATH_MAX];
  if (getcwd (cwd, sizeof cwd) == NULL)
    strcpy (cwd, "/");
  return path_abs (cwd, path);
}

/* A regular file (include, extends, .env, the default lookup: never a
 * FIFO or a device that could block or never end). */
static bool
file_exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

/* ---- the loader */

struct ext_frame {
  const char *file, *service;
};
struct cached_file {
  const char *path;
  struct node *root;
};

struct loader {
  struct node_arena *a;
  struct diags *d;
  const struct stack_env *env;     /* interpolation variables of the current file */
  const struct stack_env *procenv;
  struct ext_frame *chain;
  size_t nchain, capchain;
  struct cached_file *cache;
  size_t ncache, capcache;
  const char **incl;               /* include chain, for cycles */
  size_t nincl, capincl;
  size_t budget;                   /* bytes interpolation may still substitute */
  bool fatal;                      /* an error left no usable tree */
  const char *top_file;            /* the -f file being loaded (its name: counts) */
  char *project_name;              /* ${COMPOSE_PROJECT_NAME} (malloc'd) */
  bool name_fixed;                 /* by -p / ITM_ENV_NAMESPACE / a file's name: */
};

static struct node *
mkscalar (struct loader *l, const struct node *at, const char *s, bool plain)
{
  struct node *n = node_new (l->a, NODE_SCALAR, at ? at->file : NULL, at ? at->line : 0,
                             at ? at->col : 0);
  n->scalar = node_strdup (l->a, s);
  n->plain = plain;
  return n;
}

static bool
is_scalar (const struct node *n)
{
  return n && n->kind == NODE_SCALAR;
}

static bool
node_equal (const struct node *x, const struct node *y)
{
  if (x->kind != y->kind)
    return false;
  switch (x->kind)
    {
    case NODE_NULL:
      return true;
    case NODE_SCALAR:
      return strcmp (x->scalar, y->scalar) == 0;
    case NODE_SEQ:
      if (x->nitems != y->nitems)
        return false;
      for (size_t i = 0; i < x->nitems; i++)
        if (!node_equal (x->items[i], y->items[i]))
          return false;
      return true;
    case NODE_MAP:
      if (x->npairs != y->npairs)
        return false;
      for (size_t i = 0; i < x->npairs; i++)
        {
          const struct node *v = node_map_get (y, x->pairs[i].key->scalar);
          if (v == NULL || !node_equal (x->pairs[i].value, v))
            return false;
        }
      return true;
    }
  return false;
}

/* ---- override merge */

static struct node *merge_generic (struct loader *l, struct node *base, struct node *over);

/* Compose's !reset (drop what came before) and !override (replace, do not
 * merge) on a value of an override map: true when handled. */
static bool
merge_tagged (struct loader *l, struct node *base, struct node *key, struct node *o)
{
  if (o->merge_tag == NODE_TAG_RESET)
    {
      node_map_del (base, key->scalar);
      return true;
    }
  if (o->merge_tag == NODE_TAG_OVERRIDE)
    {
      o->merge_tag = NODE_TAG_NONE;
      node_map_set (l->a, base, key, o);
      return true;
    }
  return false;
}

/* What is left tagged !reset in the final tree is dropped. */
static void
strip_reset (struct node *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->npairs;)
    {
      if (n->pairs[i].value->merge_tag == NODE_TAG_RESET)
        {
          node_map_del (n, n->pairs[i].key->scalar);
          continue;
        }
      n->pairs[i].value->merge_tag = NODE_TAG_NONE;
      strip_reset (n->pairs[i].value);
      i++;
    }
  for (size_t i = 0; i < n->nitems; i++)
    strip_reset (n->items[i]);
}

/* A scalar becomes a one-item list (dns: 8.8.8.8, env_file: .env). */
static struct node *
as_seq (struct loader *l, struct node *n)
{
  if (n->kind != NODE_SCALAR)
    return n;
  struct node *s = node_new (l->a, NODE_SEQ, n->file, n->line, n->col);
  node_seq_push (l->a, s, n);
  return s;
}

/* ["K=V", "K"] -> {K: V, K: null}; extra_hosts also splits "host:ip". */
static struct node *
kv_map (struct loader *l, struct node *n, bool hosts)
{
  if (n->kind != NODE_SEQ)
    return n;
  struct node *m = node_new (l->a, NODE_MAP, n->file, n->line, n->col);
  for (size_t i = 0; i < n->nitems; i++)
    {
      struct node *it = n->items[i];
      if (!is_scalar (it))
        continue;
      const char *s = it->scalar;
      const char *sep = strchr (s, '=');
      if (sep == NULL && hosts)
        sep = strchr (s, ':');
      cleanup_free char *k = sep ? xstrndup (s, (size_t) (sep - s)) : xstrdup (s);
      struct node *key = mkscalar (l, it, k, false);
      struct node *val;
      if (sep)
        val = mkscalar (l, it, sep + 1, false);
      else
        val = node_new (l->a, NODE_NULL, it->file, it->line, it->col);
      node_map_set (l->a, m, key, val);
    }
  return m;
}

static struct node *
merge_kv (struct loader *l, struct node *base, struct node *over, bool hosts)
{
  base = kv_map (l, base, hosts);
  over = kv_map (l, over, hosts);
  if (base->kind != NODE_MAP || over->kind != NODE_MAP)
    return over;
  for (size_t i = 0; i < over->npairs; i++)
    node_map_set (l->a, base, over->pairs[i].key, over->pairs[i].value);
  return base;
}

/* extra_hosts as a list of "NAME=ADDR" (the map form, a name with a list
 * of addresses included), for merge_hosts. */
static struct node *
hosts_seq (struct loader *l, struct node *n)
{
  if (n->kind == NODE_SEQ)
    {
      struct node *out = node_new (l->a, NODE_SEQ, n->file, n->line, n->col);
      for (size_t i = 0; i < n->nitems; i++)
        {
          struct node *it = n->items[i];
          if (is_scalar (it) && strchr (it->scalar, '=') == NULL && strchr (it->scalar, ':'))
            {
              cleanup_free char *s = xstrdup (it->scalar);
              *strchr (s, ':') = '=';
              it = mkscalar (l, it, s, false);
            }
          node_seq_push (l->a, out, it);
        }
      return out;
    }
  if (n->kind != NODE_MAP)
    return n;
  struct node *out = node_new (l->a, NODE_SEQ, n->file, n->line, n->col);
  for (size_t i = 0; i < n->npairs; i++)
    {
      const struct node *k = n->pairs[i].key, *v = n->pairs[i].value;
      size_t nv = v->kind == NODE_SEQ ? v->nitems : 1;
      for (size_t j = 0; j < nv; j++)
        {
          const struct node *a = v->kind == NODE_SEQ ? v->items[j] : v;
          if (!is_scalar (a))
            {
              /* left for the model to report */
              return n;
            }
          cleanup_free char *s = xasprintf ("%s=%s", k->scalar, a->scalar);
          node_seq_push (l->a, out, mkscalar (l, a, s, false));
        }
    }
  return out;
}

static struct node *merge_unique (struct loader *l, struct node *base, struct node *over);

/* extra_hosts: every NAME=ADDR entry of both, once (Compose: a name may
 * have several addresses). */
static struct node *
merge_hosts (struct loader *l, struct node *base, struct node *over)
{
  base = hosts_seq (l, base);
  over = hosts_seq (l, over);
  if (base->kind != NODE_SEQ || over->kind != NODE_SEQ)
    return over;
  return merge_unique (l, base, over);
}

static struct node *
merge_unique (struct loader *l, struct node *base, struct node *over)
{
  base = as_seq (l, base);
  over = as_seq (l, over);
  if (base->kind != NODE_SEQ || over->kind != NODE_SEQ)
    return over;
  struct node *out = node_new (l->a, NODE_SEQ, base->file, base->line, base->col);
  for (int pass = 0; pass < 2; pass++)
    {
      struct node *src = pass ? over : base;
      for (size_t i = 0; i < src->nitems; i++)
        {
          bool dup = false;
          for (size_t j = 0; j < out->nitems && !dup; j++)
            dup = node_equal (out->items[j], src->items[i]);
          if (!dup)
            node_seq_push (l->a, out, src->items[i]);
        }
    }
  return out;
}

enum mount_kind { MOUNT_VOLUME, MOUNT_SECRET, MOUNT_CONFIG };

static char *mount_target_raw (const struct node *it, enum mount_kind k);

/* The target path of a volumes/secrets/configs item (malloc'd), or NULL;
 * an absolute one cleaned ("/data/" is "/data", as Compose compares them). */
static char *
mount_target (const struct node *it, enum mount_kind k)
{
  char *t = mount_target_raw (it, k);
  if (t && t[0] == '/')
    {
      char *c = path_clean (t);
      free (t);
      return c;
    }
  return t;
}

static char *
mount_target_raw (const struct node *it, enum mount_kind k)
{
  if (is_scalar (it))
    {
      const char *s = it->scalar;
      if (k == MOUNT_VOLUME)
        {
          const char *c = strchr (s, ':');
          if (c == NULL)
            return xstrdup (s);
          const char *e = strchr (c + 1, ':');
          return e ? xstrndup (c + 1, (size_t) (e - c - 1)) : xstrdup (c + 1);
        }
      return xasprintf ("%s%s", k == MOUNT_SECRET ? "/run/secrets/" : "/", s);
    }
  if (it->kind != NODE_MAP)
    return NULL;
  const struct node *t = node_map_get (it, "target");
  const struct node *src = node_map_get (it, "source");
  if (k == MOUNT_VOLUME)
    return is_scalar (t) ? xstrdup (t->scalar) : NULL;
  const char *name = is_scalar (t) ? t->scalar : is_scalar (src) ? src->scalar : NULL;
  if (name == NULL)
    return NULL;
  if (name[0] == '/')
    return xstrdup (name);
  return xasprintf ("%s%s", k == MOUNT_SECRET ? "/run/secrets/" : "/", name);
}

static struct node *
merge_mounts (struct loader *l, struct node *base, struct node *over, enum mount_kind k)
{
  if (base->kind != NODE_SEQ || over->kind != NODE_SEQ)
    return over;
  for (size_t i = 0; i < over->nitems; i++)
    {
      cleanup_free char *t = mount_target (over->items[i], k);
      bool done = false;
      for (size_t j = 0; j < base->nitems && t && !done; j++)
        {
          cleanup_free char *bt = mount_target (base->items[j], k);
          if (bt && strcmp (bt, t) == 0)
            {
              base->items[j] = over->items[i];
              done = true;
            }
        }
      if (!done)
        node_seq_push (l->a, base, over->items[i]);
    }
  return base;
}

/* networks: [a, b] -> {a: null, b: null};
 * depends_on: [a] -> {a: {condition: service_started}} */
static struct node *
name_map (struct loader *l, struct node *n, bool depends)
{
  if (n->kind != NODE_SEQ)
    return n;
  struct node *m = node_new (l->a, NODE_MAP, n->file, n->line, n->col);
  for (size_t i = 0; i < n->nitems; i++)
    {
      struct node *it = n->items[i];
      if (!is_scalar (it))
        continue;
      struct node *v;
      if (depends)
        {
          v = node_new (l->a, NODE_MAP, it->file, it->line, it->col);
          node_map_set (l->a, v, mkscalar (l, it, "condition", true),
                        mkscalar (l, it, "service_started", true));
        }
      else
        v = node_new (l->a, NODE_NULL, it->file, it->line, it->col);
      node_map_set (l->a, m, it, v);
    }
  return m;
}

static struct node *
merge_named (struct loader *l, struct node *base, struct node *over, bool depends)
{
  return merge_generic (l, name_map (l, base, depends), name_map (l, over, depends));
}

static struct node *
merge_build (struct loader *l, struct node *base, struct node *over)
{
  if (is_scalar (base))
    {
      struct node *m = node_new (l->a, NODE_MAP, base->file, base->line, base->col);
      node_map_set (l->a, m, mkscalar (l, base, "context", true), base);
      base = m;
    }
  if (is_scalar (over))
    {
      struct node *m = node_new (l->a, NODE_MAP, over->file, over->line, over->col);
      node_map_set (l->a, m, mkscalar (l, over, "context", true), over);
      over = m;
    }
  if (base->kind != NODE_MAP || over->kind != NODE_MAP)
    return over;
  for (size_t i = 0; i < over->npairs; i++)
    {
      if (merge_tagged (l, base, over->pairs[i].key, over->pairs[i].value))
        continue;
      const char *k = over->pairs[i].key->scalar;
      struct node *o = over->pairs[i].value, *b = node_map_get (base, k);
      struct node *r;
      if (b == NULL)
        r = o;
      else if (o->kind == NODE_NULL)
        r = b;
      else if (strcmp (k, "args") == 0 || strcmp (k, "labels") == 0)
        r = merge_kv (l, b, o, false);
      else if (strcmp (k, "extra_hosts") == 0)
        r = merge_hosts (l, b, o);
      else
        r = merge_generic (l, b, o);
      node_map_set (l->a, base, over->pairs[i].key, r);
    }
  return base;
}

static struct node *
merge_healthcheck (struct loader *l, struct node *base, struct node *over)
{
  if (base->kind != NODE_MAP || over->kind != NODE_MAP)
    return over->kind == NODE_NULL ? base : over;
  for (size_t i = 0; i < over->npairs; i++)
    {
      if (merge_tagged (l, base, over->pairs[i].key, over->pairs[i].value))
        continue;
      const char *k = over->pairs[i].key->scalar;
      struct node *o = over->pairs[i].value, *b = node_map_get (base, k);
      node_map_set (l->a, base, over->pairs[i].key,
                    b == NULL || strcmp (k, "test") == 0 ? o : merge_generic (l, b, o));
    }
  return base;
}

static bool
key_in (const char *k, const char *const *list)
{
  for (; *list; list++)
    if (strcmp (k, *list) == 0)
      return true;
  return false;
}

static struct node *
merge_service (struct loader *l, struct node *base, struct node *over)
{
  static const char *const replaced[] = { "command", "entrypoint", NULL };
  static const char *const kv[] = { "environment", "labels", "sysctls", "annotations", NULL };
  static const char *const unique[] = { "profiles", "cap_add", "cap_drop", "dns", "dns_search",
                                        "dns_opt", "expose", "ports", "tmpfs", "env_file",
                                        "links", "external_links", "security_opt", "devices",
                                        "group_add", NULL };
  if (base->kind != NODE_MAP || over->kind != NODE_MAP)
    return over->kind == NODE_NULL ? base : over;
  for (size_t i = 0; i < over->npairs; i++)
    {
      if (merge_tagged (l, base, over->pairs[i].key, over->pairs[i].value))
        continue;
      const char *k = over->pairs[i].key->scalar;
      struct node *o = over->pairs[i].value, *b = node_map_get (base, k);
      struct node *r;
      if (b == NULL || key_in (k, replaced))
        r = o;
      else if (o->kind == NODE_NULL)
        r = b;
      else if (key_in (k, kv))
        r = merge_kv (l, b, o, false);
      else if (strcmp (k, "extra_hosts") == 0)
        r = merge_hosts (l, b, o);
      else if (key_in (k, unique))
        r = merge_unique (l, b, o);
      else if (strcmp (k, "volumes") == 0)
        r = merge_mounts (l, b, o, MOUNT_VOLUME);
      else if (strcmp (k, "secrets") == 0)
        r = merge_mounts (l, b, o, MOUNT_SECRET);
      else if (strcmp (k, "configs") == 0)
        r = merge_mounts (l, b, o, MOUNT_CONFIG);
      else if (strcmp (k, "networks") == 0)
        r = merge_named (l, b, o, false);
      else if (strcmp (k, "depends_on") == 0)
        r = merge_named (l, b, o, true);
      else if (strcmp (k, "build") == 0)
        r = merge_build (l, b, o);
      else if (strcmp (k, "healthcheck") == 0)
        r = merge_healthcheck (l, b, o);
      else if (strcmp (k, "deploy") == 0 && b->kind == NODE_MAP && o->kind == NODE_MAP)
        {
          struct node *bl = node_map_get (b, "labels"), *ol = node_map_get (o, "labels");
          r = merge_generic (l, b, o);
          if (bl && ol && r->kind == NODE_MAP)
            node_map_set (l->a, r, mkscalar (l, ol, "labels", true), merge_kv (l, bl, ol, false));
        }
      else
        r = merge_generic (l, b, o);
      node_map_set (l->a, base, over->pairs[i].key, r);
    }
  return base;
}

static struct node *
merge_generic (struct loader *l, struct node *base, struct node *over)
{
  if (over->kind == NODE_NULL)
    return base;
  if (base->kind == NODE_MAP && over->kind == NODE_MAP)
    {
      for (size_t i = 0; i < over->npairs; i++)
        {
          if (merge_tagged (l, base, over->pairs[i].key, over->pairs[i].value))
            continue;
          struct node *b = node_map_get (base, over->pairs[i].key->scalar);
          node_map_set (l->a, base, over->pairs[i].key,
                        b ? merge_generic (l, b, over->pairs[i].value) : over->pairs[i].value);
        }
      return base;
    }
  if (base->kind == NODE_SEQ && over->kind == NODE_SEQ)
    {
      for (size_t i = 0; i < over->nitems; i++)
        node_seq_push (l->a, base, over->items[i]);
      return base;
    }
  return over;
}

/* Merge a whole file over the files before it. */
static struct node *
merge_roots (struct loader *l, struct node *base, struct node *over)
{
  for (size_t i = 0; i < over->npairs; i++)
    {
      if (merge_tagged (l, base, over->pairs[i].key, over->pairs[i].value))
        continue;
      const char *k = over->pairs[i].key->scalar;
      struct node *o = over->pairs[i].value, *b = node_map_get (base, k);
      struct node *r;
      if (b == NULL)
        r = o;
      else if (strcmp (k, "services") == 0 && b->kind == NODE_MAP && o->kind == NODE_MAP)
        {
          for (size_t j = 0; j < o->npairs; j++)
            {
              if (merge_tagged (l, b, o->pairs[j].key, o->pairs[j].value))
                continue;
              struct node *bs = node_map_get (b, o->pairs[j].key->scalar);
              node_map_set (l->a, b, o->pairs[j].key,
                            bs ? merge_service (l, bs, o->pairs[j].value) : o->pairs[j].value);
            }
          r = b;
        }
      else if ((strcmp (k, "networks") == 0 || strcmp (k, "volumes") == 0)
               && b->kind == NODE_MAP && o->kind == NODE_MAP)
        {
          for (size_t j = 0; j < o->npairs; j++)
            {
              if (merge_tagged (l, b, o->pairs[j].key, o->pairs[j].value))
                continue;
              struct node *bn = node_map_get (b, o->pairs[j].key->scalar);
              struct node *on = o->pairs[j].value;
              struct node *rn = on;
              if (bn && bn->kind == NODE_MAP && on->kind == NODE_MAP)
                {
                  struct node *bl = node_map_get (bn, "labels"), *ol = node_map_get (on, "labels");
                  rn = merge_generic (l, bn, on);
                  if (bl && ol)
                    node_map_set (l->a, rn, mkscalar (l, ol, "labels", true),
                                  merge_kv (l, bl, ol, false));
                }
              else if (bn)
                rn = merge_generic (l, bn, on);
              node_map_set (l->a, b, o->pairs[j].key, rn);
            }
          r = b;
        }
      else
        r = merge_generic (l, b, o);
      node_map_set (l->a, base, over->pairs[i].key, r);
    }
  return base;
}

/* ---- relative paths */

static bool
is_remote_context (const char *s)
{
  return strstr (s, "://") || strncmp (s, "git@", 4) == 0 || strncmp (s, "github.com/", 11) == 0;
}

/* "~" and "~/x" from HOME; anything else against dir. */
static char *
resolve_path (struct loader *l, const char *dir, const char *p)
{
  if (p[0] == '~' && (p[1] == '\0' || p[1] == '/'))
    {
      const char *home = stack_env_get (l->procenv, "HOME");
      if (home == NULL)
        home = getenv ("HOME");
      if (home == NULL)
        home = "/";
      return path_abs (home, p[1] ? p + 2 : ".");
    }
  return path_abs (dir, p);
}

static void
set_path (struct loader *l, struct node *n, const char *dir)
{
  if (!is_scalar (n) || n->scalar[0] == '\0')
    return;
  cleanup_free char *p = resolve_path (l, dir, n->scalar);
  n->scalar = node_strdup (l->a, p);
}

static void
resolve_service_paths (struct loader *l, struct node *svc, const char *dir)
{
  if (svc == NULL || svc->kind != NODE_MAP)
    return;
  struct node *b = node_map_get (svc, "build");
  if (is_scalar (b) && !is_remote_context (b->scalar))
    set_path (l, b, dir);
  else if (b && b->kind == NODE_MAP)
    {
      struct node *c = node_map_get (b, "context");
      if (c == NULL)
        node_map_set (l->a, b, mkscalar (l, b, "context", true), mkscalar (l, b, dir, false));
      else if (is_scalar (c) && !is_remote_context (c->scalar))
        set_path (l, c, dir);
    }
  struct node *v = node_map_get (svc, "volumes");
  for (size_t i = 0; v && v->kind == NODE_SEQ && i < v->nitems; i++)
    {
      struct node *it = v->items[i];
      if (is_scalar (it))
        {
          const char *s = it->scalar, *c = strchr (s, ':');
          if (c == NULL || !(s[0] == '.' || s[0] == '~'))
            continue;
          cleanup_free char *src = xstrndup (s, (size_t) (c - s));
          cleanup_free char *abs = resolve_path (l, dir, src);
          size_t la = strlen (abs), lc = strlen (c);
          cleanup_free char *ns = xmalloc (la + lc + 1);
          memcpy (ns, abs, la);
          memcpy (ns + la, c, lc + 1);
          it->scalar = node_strndup (l->a, ns, la + lc);
        }
      else if (it->kind == NODE_MAP)
        {
          struct node *t = node_map_get (it, "type"), *src = node_map_get (it, "source");
          if (is_scalar (t) && strcmp (t->scalar, "bind") == 0 && is_scalar (src))
            set_path (l, src, dir);
        }
    }
  struct node *e = node_map_get (svc, "env_file");
  if (is_scalar (e))
    set_path (l, e, dir);
  for (size_t i = 0; e && e->kind == NODE_SEQ && i < e->nitems; i++)
    {
      struct node *it = e->items[i];
      if (is_scalar (it))
        set_path (l, it, dir);
      else if (it->kind == NODE_MAP)
        set_path (l, node_map_get (it, "path"), dir);
    }
  struct node *x = node_map_get (svc, "extends");
  if (x && x->kind == NODE_MAP)
    set_path (l, node_map_get (x, "file"), dir);
}

static void
resolve_paths (struct loader *l, struct node *root, const char *dir)
{
  struct node *s = node_map_get (root, "services");
  for (size_t i = 0; s && s->kind == NODE_MAP && i < s->npairs; i++)
    resolve_service_paths (l, s->pairs[i].value, dir);
  static const char *const tops[] = { "secrets", "configs" };
  for (size_t t = 0; t < 2; t++)
    {
      struct node *m = node_map_get (root, tops[t]);
      for (size_t i = 0; m && m->kind == NODE_MAP && i < m->npairs; i++)
        if (m->pairs[i].value->kind == NODE_MAP)
          set_path (l, node_map_get (m->pairs[i].value, "file"), dir);
    }
}

/* ---- one file */

/* A pipe given with -f (-f <(command)): what its writer writes, at most
 * STACK_YAML_MAX_BYTES.  Opened without blocking, so a FIFO nobody writes
 * to reads as empty at once and is refused instead of waiting forever. */
static struct node *
load_pipe (struct loader *l, const char *file)
{
  cleanup_close int fd = open (file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      diag_addp (l->d, DIAG_ERROR, file, 0, 0, "cannot open: %s", strerror (errno));
      return NULL;
    }
  if (!S_ISFIFO (st.st_mode))
    return stack_yaml_load (l->a, file, l->d); /* replaced since: checked there */
  cleanup_buf struct buf b = { 0 };
  char chunk[65536];
  for (;;)
    {
      ssize_t r = read (fd, chunk, sizeof chunk);
      if (r < 0 && (errno == EINTR || errno == EAGAIN))
        {
          /* EAGAIN: a writer is there and has not written yet */
          struct pollfd p = { .fd = fd, .events = POLLIN };
          if (errno == EAGAIN)
            poll (&p, 1, -1);
          continue;
        }
      if (r < 0)
        {
          diag_addp (l->d, DIAG_ERROR, file, 0, 0, "cannot read: %s", strerror (errno));
          return NULL;
        }
      if (r == 0)
        break;
      buf_add (&b, chunk, (size_t) r);
      if (b.len > STACK_YAML_MAX_BYTES)
        {
          diag_addp (l->d, DIAG_ERROR, file, 0, 0, "more than %u MiB read; stack files are "
                     "limited to %u MiB", STACK_YAML_MAX_BYTES >> 20, STACK_YAML_MAX_BYTES >> 20);
          return NULL;
        }
    }
  if (b.len == 0)
    {
      diag_addp (l->d, DIAG_ERROR, file, 0, 0,
                 "a FIFO that nobody writes to (a stack file is a regular file, or a pipe from "
                 "a running command: -f <(command))");
      return NULL;
    }
  return stack_yaml_parse (l->a, file, b.data, b.len, l->d);
}

/* Compose's project-name normalization: lower case, only [a-z0-9_-],
 * no leading '_' or '-' (malloc'd; may be ""). */
char *
stack_project_name_normalize (const char *s)
{
  char *out = xmalloc (strlen (s) + 1), *o = out;
  for (; *s; s++)
    {
      int c = tolower ((unsigned char) *s);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
        {
          if (o == out && (c == '-' || c == '_'))
            continue;
          *o++ = (char) c;
        }
    }
  *o = '\0';
  return out;
}

static void
set_project_name (struct loader *l, char *name)
{
  free (l->project_name);
  l->project_name = name;
  /* the current variables are the load's own (l->env is const for the
   * readers only) */
  stack_env_set ((struct stack_env *) l->env, "COMPOSE_PROJECT_NAME", name);
}

/* ${COMPOSE_PROJECT_NAME} is the project's name, as in Compose: unless -p
 * or ITM_ENV_NAMESPACE fixed it, a top-level file's `name:` (itself
 * interpolated without it), else the project directory's name. */
static void
project_name_from (struct loader *l, const struct node *root)
{
  if (l->name_fixed)
    return;
  const struct node *nm = node_map_get (root, "name");
  if (!is_scalar (nm))
    return;
  char *errmsg = NULL;
  size_t errcol;
  cleanup_free char *v = stack_interpolate_in (nm->scalar, l->env, NULL, NULL, &errmsg, &errcol);
  free (errmsg);
  if (v == NULL)
    return;
  char *n = stack_project_name_normalize (v);
  if (*n == '\0')
    {
      free (n);
      return;
    }
  set_project_name (l, n);
  l->name_fixed = true;
}

/* Parse and interpolate; the root must be a map. */
static struct node *
load_one (struct loader *l, const char *path)
{
  struct stat st;
  bool pipe = stat (path, &st) == 0 && S_ISFIFO (st.st_mode);
  struct node *root = pipe ? load_pipe (l, path) : stack_yaml_load (l->a, path, l->d);
  if (root == NULL)
    return NULL;
  if (root->kind == NODE_NULL)
    {
      diag_add (l->d, DIAG_ERROR, root, "the stack file is empty");
      return NULL;
    }
  if (root->kind != NODE_MAP)
    {
      diag_add (l->d, DIAG_ERROR, root,
                "the top level must be a map (services:, networks:, ...), not a %s",
                root->kind == NODE_SEQ ? "list" : "string");
      return NULL;
    }
  if (l->top_file && strcmp (path, l->top_file) == 0)
    project_name_from (l, root);
  stack_interpolate_tree_in (l->a, root, l->env, &l->budget, l->d);
  return root;
}

static struct node *
load_cached (struct loader *l, const char *path)
{
  for (size_t i = 0; i < l->ncache; i++)
    if (strcmp (l->cache[i].path, path) == 0)
      return l->cache[i].root;
  struct node *root = load_one (l, path);
  l->cache = xgrow (l->cache, &l->capcache, l->ncache + 1, sizeof *l->cache);
  l->cache[l->ncache++] = (struct cached_file){ node_intern (l->a, path), root };
  return root;
}

static struct node *resolve_extends (struct loader *l, const char *file, struct node *services,
                                     size_t idx, const struct node *ref);

static void
apply_extends (struct loader *l, const char *file, struct node *root)
{
  struct node *s = node_map_get (root, "services");
  if (s == NULL || s->kind != NODE_MAP)
    return;
  for (size_t i = 0; i < s->npairs; i++)
    if (s->pairs[i].value->kind == NODE_MAP && node_map_get (s->pairs[i].value, "extends"))
      resolve_extends (l, file, s, i, NULL);
}

static size_t
pair_index (const struct node *map, const char *key)
{
  for (size_t i = 0; i < map->npairs; i++)
    if (strcmp (map->pairs[i].key->scalar, key) == 0)
      return i;
  return SIZE_MAX;
}

/* The service at idx of `services` (in file) with its extends applied (in
 * place).  NULL when it cannot be resolved. */
static struct node *
resolve_extends (struct loader *l, const char *file, struct node *services, size_t idx,
                 const struct node *ref)
{
  const char *name = services->pairs[idx].key->scalar;
  struct node *svc = services->pairs[idx].value;
  struct node *ext = node_map_get (svc, "extends");
  if (svc->kind != NODE_MAP || ext == NULL)
    return svc;
  for (size_t i = 0; i < l->nchain; i++)
    if (strcmp (l->chain[i].file, file) == 0 && strcmp (l->chain[i].service, name) == 0)
      {
        cleanup_buf struct buf b = { 0 };
        for (size_t j = i; j < l->nchain; j++)
          buf_addf (&b, "%s -> ", l->chain[j].service);
        buf_adds (&b, name);
        diag_add (l->d, DIAG_ERROR, ref ? ref : ext, "extends cycle: %s", b.data);
        return NULL;
      }
  const char *base_name = NULL;
  const char *base_file = file;
  cleanup_free char *abs_file = NULL;
  if (is_scalar (ext))
    base_name = ext->scalar;
  else if (ext->kind == NODE_MAP)
    {
      struct node *sn = node_map_get (ext, "service"), *fn = node_map_get (ext, "file");
      if (!is_scalar (sn))
        {
          diag_add (l->d, DIAG_ERROR, ext, "extends: expected \"service: NAME\"");
          node_map_del (svc, "extends");
          return svc;
        }
      base_name = sn->scalar;
      if (fn && !is_scalar (fn))
        {
          diag_add (l->d, DIAG_ERROR, fn, "extends.file: expected a path");
          node_map_del (svc, "extends");
          return svc;
        }
      if (fn)
        {
          cleanup_free char *dir = path_dir (file);
          abs_file = resolve_path (l, dir, fn->scalar);
          base_file = node_intern (l->a, abs_file);
        }
    }
  else
    {
      diag_add (l->d, DIAG_ERROR, ext, "extends: expected a service name or a map");
      node_map_del (svc, "extends");
      return svc;
    }

  struct node *base_services = services;
  if (base_file != file)
    {
      if (!file_exists (base_file))
        {
          diag_add (l->d, DIAG_ERROR, ext, "extends: file %s not found", base_file);
          node_map_del (svc, "extends");
          return svc;
        }
      struct node *root = load_cached (l, base_file);
      if (root == NULL)
        {
          node_map_del (svc, "extends");
          return svc;
        }
      base_services = node_map_get (root, "services");
    }
  size_t base_idx = base_services && base_services->kind == NODE_MAP
                      ? pair_index (base_services, base_name) : SIZE_MAX;
  if (base_idx == SIZE_MAX)
    {
      diag_add (l->d, DIAG_ERROR, ext, "extends: service \"%s\" not found in %s", base_name,
                base_file);
      node_map_del (svc, "extends");
      return svc;
    }
  l->chain = xgrow (l->chain, &l->capchain, l->nchain + 1, sizeof *l->chain);
  l->chain[l->nchain++] = (struct ext_frame){ file, name };
  struct node *base = resolve_extends (l, base_file, base_services, base_idx, ext);
  l->nchain--;
  node_map_del (svc, "extends");
  if (base == NULL)
    return NULL;
  base = node_copy (l->a, base);
  node_map_del (base, "extends");
  if (base_file != file)
    {
      /* the extended service's relative paths are its own file's */
      cleanup_free char *dir = path_dir (base_file);
      resolve_service_paths (l, base, dir);
    }
  struct node *merged = merge_service (l, base, svc);
  merged->file = svc->file, merged->line = svc->line, merged->col = svc->col;
  services->pairs[idx].value = merged;
  return merged;
}

static struct node *process_file (struct loader *l, const char *path);

static const char *const resource_kinds[] = { "services", "networks", "volumes", "secrets",
                                              "configs", NULL };

/* Bring one included file's resources into root. */
static void
include_one (struct loader *l, struct node *root, const struct node *item, const char *dir)
{
  struct node *paths = NULL, *pdir = NULL, *envf = NULL;
  if (is_scalar (item))
    paths = (struct node *) item;
  else if (item->kind == NODE_MAP)
    {
      paths = node_map_get (item, "path");
      pdir = node_map_get (item, "project_directory");
      envf = node_map_get (item, "env_file");
      for (size_t i = 0; i < item->npairs; i++)
        if (!key_in (item->pairs[i].key->scalar,
                     (const char *const[]){ "path", "project_directory", "env_file", NULL }))
          diag_add (l->d, DIAG_ERROR, item->pairs[i].key,
                    "include: unknown key \"%s\" (expected path, project_directory, env_file)",
                    item->pairs[i].key->scalar);
    }
  if (paths == NULL || (paths->kind != NODE_SCALAR && paths->kind != NODE_SEQ))
    {
      diag_add (l->d, DIAG_ERROR, item, "include: expected a path or {path: ...}");
      return;
    }
  paths = as_seq (l, paths);
  cleanup_free char *first = NULL;
  struct node *inc = NULL;
  /* several paths: merged as -f files */
  for (size_t i = 0; i < paths->nitems; i++)
    {
      if (!is_scalar (paths->items[i]))
        {
          diag_add (l->d, DIAG_ERROR, paths->items[i], "include: expected a path");
          return;
        }
      cleanup_free char *abs = resolve_path (l, dir, paths->items[i]->scalar);
      if (!file_exists (abs))
        {
          diag_add (l->d, DIAG_ERROR, paths->items[i], "include: file %s not found", abs);
          l->fatal = true;
          return;
        }
      if (first == NULL)
        first = xstrdup (abs);
      for (size_t j = 0; j < l->nincl; j++)
        if (strcmp (l->incl[j], abs) == 0)
          {
            diag_add (l->d, DIAG_ERROR, paths->items[i], "include cycle: %s includes itself",
                      abs);
            l->fatal = true;
            return;
          }
    }
  if (first == NULL)
    return;
  cleanup_free char *first_dir = path_dir (first);
  cleanup_free char *proj
    = pdir && is_scalar (pdir) ? resolve_path (l, dir, pdir->scalar) : xstrdup (first_dir);
  /* variables: the process environment over the include's env files
   * (default: its project directory's .env) over the including file's */
  struct stack_env *env = stack_env_new ();
  {
    size_t it = 0;
    const char *n, *v;
    while (stack_env_next (l->env, &it, &n, &v))
      stack_env_set (env, n, v);
    if (envf)
      {
        envf = as_seq (l, envf);
        for (size_t i = 0; envf->kind == NODE_SEQ && i < envf->nitems; i++)
          if (is_scalar (envf->items[i]))
            {
              cleanup_free char *ep = resolve_path (l, dir, envf->items[i]->scalar);
              stack_dotenv_load_in (env, node_intern (l->a, ep), "include.env_file", l->procenv,
                                    &l->budget, l->d);
            }
      }
    else
      {
        cleanup_free char *ep = path_abs (proj, ".env");
        if (file_exists (ep))
          stack_dotenv_load_in (env, node_intern (l->a, ep), ".env", l->procenv, &l->budget,
                                l->d);
      }
    it = 0;
    while (stack_env_next (l->procenv, &it, &n, &v))
      stack_env_set (env, n, v);
    if (l->project_name)
      stack_env_set (env, "COMPOSE_PROJECT_NAME", l->project_name);
  }
  const struct stack_env *saved = l->env;
  l->env = env;
  for (size_t i = 0; i < paths->nitems; i++)
    {
      cleanup_free char *abs = resolve_path (l, dir, paths->items[i]->scalar);
      struct node *r = process_file (l, abs);
      if (r == NULL)
        continue;
      inc = inc ? merge_roots (l, inc, r) : r;
    }
  l->env = saved;
  stack_env_free (env);
  if (inc == NULL)
    return;
  resolve_paths (l, inc, proj);
  for (const char *const *k = resource_kinds; *k; k++)
    {
      struct node *src = node_map_get (inc, *k);
      if (src == NULL || src->kind != NODE_MAP)
        continue;
      struct node *dst = node_map_get (root, *k);
      if (dst == NULL || dst->kind != NODE_MAP)
        {
          if (dst == NULL)
            node_map_set (l->a, root, mkscalar (l, src, *k, true), src);
          continue;
        }
      for (size_t i = 0; i < src->npairs; i++)
        {
          const char *name = src->pairs[i].key->scalar;
          struct node *have = NULL, *have_value = NULL;
          for (size_t j = 0; j < dst->npairs; j++)
            if (strcmp (dst->pairs[j].key->scalar, name) == 0)
              have = dst->pairs[j].key, have_value = dst->pairs[j].value;
          /* the same definition twice (a file included by two others) is fine */
          if (have && node_equal (have_value, src->pairs[i].value))
            continue;
          if (have)
            {
              diag_add (l->d, DIAG_ERROR, have,
                        "%s.%s conflicts with the one defined by the included file %s:%d", *k,
                        name, src->pairs[i].key->file ? src->pairs[i].key->file : "?",
                        src->pairs[i].key->line);
              continue;
            }
          node_map_append (l->a, dst, src->pairs[i].key, src->pairs[i].value);
        }
    }
}

/* Parse, interpolate, include, extends. */
static struct node *
process_file (struct loader *l, const char *path)
{
  if (l->nincl >= INCLUDE_MAX_DEPTH)
    {
      /* path is the caller's (freed after the call): the diagnostic keeps
       * an interned copy */
      diag_addp (l->d, DIAG_ERROR, node_intern (l->a, path), 0, 0,
                 "includes nested more than %d deep", INCLUDE_MAX_DEPTH);
      return NULL;
    }
  const char *file = node_intern (l->a, path);
  struct node *root = load_one (l, file);
  if (root == NULL)
    return NULL;
  l->incl = xgrow (l->incl, &l->capincl, l->nincl + 1, sizeof *l->incl);
  l->incl[l->nincl++] = file;
  struct node *inc = node_map_get (root, "include");
  if (inc)
    {
      cleanup_free char *dir = path_dir (file);
      struct node *items = as_seq (l, inc);
      node_map_del (root, "include");
      if (items->kind != NODE_SEQ)
        diag_add (l->d, DIAG_ERROR, inc, "include: expected a list of files");
      for (size_t i = 0; items->kind == NODE_SEQ && i < items->nitems; i++)
        include_one (l, root, items->items[i], dir);
    }
  apply_extends (l, file, root);
  l->nincl--;
  return root;
}

/* ---- the entry point */

static int
default_lookup (struct loader *l, const char *start, bool upward, char ***files, size_t *nfiles)
{
  cleanup_free char *dir = xstrdup (start);
  for (;;)
    {
      const char *found = NULL;
      cleanup_buf struct buf others = { 0 };
      for (size_t i = 0; i < sizeof default_names / sizeof *default_names; i++)
        {
          cleanup_free char *p = path_abs (dir, default_names[i]);
          if (!file_exists (p))
            continue;
          if (found == NULL)
            found = default_names[i];
          else
            buf_addf (&others, "%s%s", others.len ? ", " : "", default_names[i]);
        }
      if (found)
        {
          if (others.len)
            diag_addp (l->d, DIAG_WARNING, NULL, 0, 0,
                       "found several stack files in %s (%s and %s); using %s", dir, found,
                       others.data, found);
          *files = xcalloc (2, sizeof **files);
          (*files)[(*nfiles)++] = path_abs (dir, found);
          for (size_t i = 0; i < sizeof override_names / sizeof *override_names; i++)
            {
              cleanup_free char *p = path_abs (dir, override_names[i]);
              if (file_exists (p))
                {
                  (*files)[(*nfiles)++] = steal_pointer (&p);
                  break;
                }
            }
          return 0;
        }
      if (!upward || strcmp (dir, "/") == 0)
        break;
      char *parent = path_dir (dir);
      free (dir);
      dir = parent;
    }
  l->d->no_file = true;
  diag_addp (l->d, DIAG_ERROR, NULL, 0, 0,
             "no stack file found in %s%s (looked for compose.yaml, compose.yml, "
             "docker-compose.yaml, docker-compose.yml); use -f FILE",
             start, upward ? " or its parent directories" : "");
  return -1;
}

int
stack_files_load (const struct stack_load_opts *o, struct node_arena *a, struct stack_loaded *out,
                  struct diags *d)
{
  memset (out, 0, sizeof *out);
  struct loader l = { .a = a, .d = d, .budget = STACK_INTERP_MAX_TOTAL };
  struct stack_env *procenv = stack_env_new ();
  stack_env_import (procenv, o->environ);
  l.procenv = procenv;

  char **files = NULL;
  size_t nfiles = 0;
  bool from_stdin = false;
  int ret = 0;
  /* COMPOSE_FILE (separated by COMPOSE_PATH_SEPARATOR, default ':')
   * stands for -f when there is none */
  const char *cf = stack_env_get (procenv, "COMPOSE_FILE");
  if (o->nfiles == 0 && cf && *cf)
    {
      const char *sep = stack_env_get (procenv, "COMPOSE_PATH_SEPARATOR");
      char sc = sep && *sep ? *sep : ':';
      size_t n = 1;
      for (const char *c = cf; *c; c++)
        n += *c == sc;
      files = xcalloc (n, sizeof *files);
      for (const char *c = cf; *c;)
        {
          const char *e = strchr (c, sc);
          size_t len = e ? (size_t) (e - c) : strlen (c);
          if (len)
            {
              cleanup_free char *one = xstrndup (c, len);
              files[nfiles++] = cwd_abs (one);
            }
          c += len + (e != NULL);
        }
    }
  if (nfiles)
    ;
  else if (o->nfiles)
    {
      files = xcalloc (o->nfiles, sizeof *files);
      for (size_t i = 0; i < o->nfiles; i++)
        {
          if (strcmp (o->files[i], "-") == 0)
            {
              from_stdin = true;
              files[nfiles++] = xstrdup ("-");
              continue;
            }
          files[nfiles++] = cwd_abs (o->files[i]);
        }
    }
  else
    {
      cleanup_free char *start = o->project_dir ? cwd_abs (o->project_dir) : cwd_abs (".");
      if (default_lookup (&l, start, o->project_dir == NULL, &files, &nfiles) < 0)
        {
          stack_env_free (procenv);
          return -1;
        }
    }

  /* the project directory */
  cleanup_free char *proj = NULL;
  if (o->project_dir)
    proj = cwd_abs (o->project_dir);
  else if (strcmp (files[0], "-") == 0)
    proj = cwd_abs (".");
  else
    proj = path_dir (files[0]);
  out->project_dir = node_intern (a, proj);

  /* variables: the env files, then the process environment over them */
  struct stack_env *env = stack_env_new ();
  if (o->nenv_files)
    for (size_t i = 0; i < o->nenv_files; i++)
      {
        cleanup_free char *p = cwd_abs (o->env_files[i]);
        if (stack_dotenv_load_in (env, node_intern (a, p), "--env-file", procenv, &l.budget, d)
            < 0)
          ret = -1;
      }
  else
    {
      cleanup_free char *p = path_abs (proj, ".env");
      if (file_exists (p)
          && stack_dotenv_load_in (env, node_intern (a, p), ".env", procenv, &l.budget, d) < 0)
        ret = -1;
    }
  {
    size_t it = 0;
    const char *n, *v;
    while (stack_env_next (procenv, &it, &n, &v))
      stack_env_set (env, n, v);
  }
  out->env = env;
  l.env = env;
  {
    const char *ns = stack_env_get (procenv, "ITM_ENV_NAMESPACE");
    if (o->project_name && *o->project_name)
      ns = o->project_name;
    if (ns && *ns)
      {
        set_project_name (&l, xstrdup (ns));
        l.name_fixed = true;
      }
    else
      {
        const char *base = strrchr (proj, '/');
        set_project_name (&l, stack_project_name_normalize (base ? base + 1 : proj));
      }
  }

  out->files = xcalloc (nfiles, sizeof *out->files);
  struct node *root = NULL;
  for (size_t i = 0; i < nfiles; i++)
    {
      struct node *r;
      if (strcmp (files[i], "-") == 0)
        {
          cleanup_buf struct buf b = { 0 };
          char chunk[65536];
          ssize_t n;
          while ((n = read (STDIN_FILENO, chunk, sizeof chunk)) > 0)
            {
              buf_add (&b, chunk, (size_t) n);
              if (b.len > STACK_YAML_MAX_BYTES)
                break;
            }
          r = stack_yaml_parse (a, "-", b.data ? b.data : "", b.len, d);
          if (r && r->kind != NODE_MAP)
            {
              diag_add (d, DIAG_ERROR, r, "the top level must be a map");
              r = NULL;
            }
          if (r)
            {
              stack_interpolate_tree_in (a, r, env, &l.budget, d);
              apply_extends (&l, r->file, r);
            }
          out->files[out->nfiles++] = node_intern (a, "-");
        }
      else
        {
          out->files[out->nfiles++] = node_intern (a, files[i]);
          /* -f may name a pipe (-f <(generate)); never a device (/dev/zero
           * never ends, a terminal waits) or a socket */
          struct stat st;
          int sr = stat (files[i], &st);
          if (sr < 0 || !(S_ISREG (st.st_mode) || S_ISFIFO (st.st_mode)))
            {
              diag_addp (d, DIAG_ERROR, node_intern (a, files[i]), 0, 0, "%s",
                         sr < 0 && errno == ENOENT ? "stack file not found"
                         : sr < 0                  ? strerror (errno)
                         : S_ISDIR (st.st_mode)    ? "is a directory, not a stack file"
                                                   : "not a regular file (a device or a "
                                                     "socket), not a stack file");
              ret = -1;
              continue;
            }
          l.top_file = node_intern (a, files[i]);
          r = process_file (&l, files[i]);
          l.top_file = NULL;
        }
      if (r == NULL)
        {
          ret = -1;
          continue;
        }
      root = root ? merge_roots (&l, root, r) : r;
    }
  (void) from_stdin;
  if (root)
    {
      if (node_arena_tagged (a))
        strip_reset (root);
      resolve_paths (&l, root, proj);
    }
  if (l.fatal)
    ret = -1;
  out->root = root;
  if (root == NULL)
    ret = -1;

  for (size_t i = 0; i < nfiles; i++)
    free (files[i]);
  free (files);
  free (l.chain);
  free (l.cache);
  free (l.incl);
  free (l.project_name);
  stack_env_free (procenv);
  return ret;
}

void
stack_loaded_free (struct stack_loaded *l)
{
  if (l == NULL)
    return;
  free (l->files);
  stack_env_free (l->env);
  memset (l, 0, sizeof *l);
}
