/* self.c - where itm-env itself runs (self.h). */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/self.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"

static struct self self_cache;
static bool probed, id_read;
static char *file_id;

/* 64 lowercase hex digits at p, ended by a non-hex character */
static bool
hex64 (const char *p)
{
  for (int i = 0; i < 64; i++)
    if (!isxdigit ((unsigned char) p[i]) || isupper ((unsigned char) p[i]))
      return false;
  return !isxdigit ((unsigned char) p[64]);
}

/* The id in a mount root: ".../containers/<id>/..." (docker),
 * ".../overlay-containers/<id>/..." (podman). */
static char *
id_in_root (const char *root, size_t len)
{
  cleanup_free char *r = xstrndup (root, len);
  for (const char *p = r; (p = strstr (p, "containers/")); p++)
    if (hex64 (p + 11) && p[75] == '/')
      return xstrndup (p + 11, 64);
  return NULL;
}

char *
self_id_from_mountinfo (const char *text)
{
  /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": the engine bind-mounts the
   * container's own hostname, hosts and resolv.conf (a host's mountinfo
   * shows other containers' paths, never at these mount points) */
  static const char *const points[] = { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf" };
  for (const char *line = text; line && *line;)
    {
      const char *end = strchr (line, '\n');
      size_t ll = end ? (size_t) (end - line) : strlen (line);
      const char *f[5] = { 0 };
      size_t fl[5] = { 0 }, nf = 0;
      for (const char *p = line; p < line + ll && nf < 5;)
        {
          while (p < line + ll && *p == ' ')
            p++;
          const char *q = p;
          while (q < line + ll && *q != ' ')
            q++;
          if (q > p)
            f[nf] = p, fl[nf++] = (size_t) (q - p);
          p = q;
        }
      for (size_t k = 0; nf == 5 && k < sizeof points / sizeof *points; k++)
        if (fl[4] == strlen (points[k]) && strncmp (f[4], points[k], fl[4]) == 0)
          {
            char *id = id_in_root (f[3], fl[3]);
            if (id)
              return id;
          }
      line = end ? end + 1 : NULL;
    }
  return NULL;
}

/* cgroup v1: ".../docker/<id>", ".../docker-<id>.scope", ".../libpod-<id>.scope" */
static char *
id_from_cgroup (const char *text)
{
  for (const char *p = text; p && *p; p++)
    if ((p == text || p[-1] == '/' || p[-1] == '-') && hex64 (p)
        && (p[64] == '\0' || p[64] == '\n' || p[64] == '.' || p[64] == '/'))
      return xstrndup (p, 64);
  return NULL;
}

static char *
read_text (const char *path)
{
  size_t len = 0;
  cleanup_err struct itm_err err = { 0 };
  return file_read (path, 4 * 1024 * 1024, &len, ITM_EXIT_FAILURE, &err);
}

const char *
self_id (void)
{
  if (id_read)
    return file_id;
  id_read = true;
  const char *root = getenv ("ITM_ENV_SELF_PROC");   /* tests: another /proc/self */
  cleanup_free char *mi = xasprintf ("%s/mountinfo", root ? root : "/proc/self");
  cleanup_free char *cg = xasprintf ("%s/cgroup", root ? root : "/proc/self");
  cleanup_free char *text = read_text (mi);
  file_id = text ? self_id_from_mountinfo (text) : NULL;
  if (file_id == NULL)
    {
      cleanup_free char *t2 = read_text (cg);
      file_id = t2 ? id_from_cgroup (t2) : NULL;
    }
  return file_id;
}

static bool
marker (void)
{
  if (getenv ("ITM_ENV_SELF_PROC"))
    return true;
  return access ("/.dockerenv", F_OK) == 0 || access ("/run/.containerenv", F_OK) == 0;
}

/* inspect ref; 0 and *out, or -1 with err */
static int
inspect (struct engine *e, const char *ref, json_object **out, struct itm_err *err)
{
  cleanup_free char *enc = engine_urlencode (ref);
  cleanup_free char *p = xasprintf ("/containers/%s/json", enc);
  return engine_get (e, p, out, err);
}

const struct self *
self_probe (struct engine *e)
{
  struct self *s = &self_cache;
  if (probed || e == NULL)
    return s;
  probed = true;
  const char *id = self_id ();
  s->in_container = marker () || id;
  if (!s->in_container)
    return s;
  cleanup_json json_object *c = NULL;
  cleanup_err struct itm_err err = { 0 };
  char host[HOST_NAME_MAX + 1] = "";
  if (id)
    inspect (e, id, &c, &err);
  else if (gethostname (host, sizeof host - 1) == 0 && *host)
    {
      /* no id in the files: the engine's default hostname is the short id */
      if (inspect (e, host, &c, &err) == 0 && json_str (c, "Id")
          && strncmp (json_str (c, "Id"), host, strlen (host)) != 0)
        {
          json_object_put (c);
          c = NULL;
          itm_err_set (&err, ITM_EXIT_NOT_FOUND, "no container");
        }
    }
  if (c && json_str (c, "Id"))
    {
      s->id = xstrdup (json_str (c, "Id"));
      s->on_engine = true;
      const char *nm = json_str (c, "Name");
      s->name = xstrdup (nm ? nm + (*nm == '/') : s->id);
      json_object *m = json_path (c, "Mounts");
      s->mounts = m ? json_object_get (m) : json_object_new_array ();
      return s;
    }
  s->id = id ? xstrdup (id) : NULL;
  if (id == NULL)
    s->note = xasprintf ("itm-env runs in a container, but its container id is not in "
                         "/proc/self/mountinfo nor /proc/self/cgroup%s%s", *host ? " nor its hostname " : "",
                         host);
  else if (err.code == ITM_EXIT_NOT_FOUND)
    s->note = xasprintf ("itm-env runs in container %.12s, but not on this engine (%s)", id,
                         engine_endpoint (e));
  else
    s->note = xasprintf ("itm-env runs in container %.12s; asking the engine (%s) about it "
                         "failed: %s", id, engine_endpoint (e), err.msg ? err.msg : "?");
  return s;
}

/* the destination d holds path: equal, or a prefix ending at a '/' */
static size_t
holds (const char *d, const char *path)
{
  size_t n = strlen (d);
  while (n > 1 && d[n - 1] == '/')
    n--;
  if (n == 1 && d[0] == '/')
    return 1;
  if (strncmp (d, path, n) == 0 && (path[n] == '\0' || path[n] == '/'))
    return n;
  return 0;
}

char *
self_host_path (const struct self *s, const char *path)
{
  if (s == NULL || !s->on_engine || s->mounts == NULL || path == NULL || path[0] != '/')
    return NULL;
  const char *best_src = NULL;
  size_t best = 0;
  for (size_t i = 0; i < json_object_array_length (s->mounts); i++)
    {
      json_object *m = json_object_array_get_idx (s->mounts, i);
      const char *d = json_str (m, "Destination"), *src = json_str (m, "Source");
      const char *type = json_str (m, "Type");
      if (d == NULL || src == NULL || *src == '\0'
          || (type && strcmp (type, "bind") != 0 && strcmp (type, "volume") != 0))
        continue;
      size_t n = holds (d, path);
      if (n > best)
        best = n, best_src = src;
    }
  if (best_src == NULL)
    return NULL;
  const char *rest = path + (best == 1 ? 0 : best);
  size_t sl = strlen (best_src);
  while (sl > 1 && best_src[sl - 1] == '/')
    sl--;
  if (*rest == '\0')
    return xstrndup (best_src, sl);
  return xasprintf ("%.*s%s%s", (int) sl, best_src, *rest == '/' ? "" : "/", rest);
}

static int
net_call (struct engine *e, const char *network, const char *what, bool force,
          struct itm_err *err)
{
  const struct self *s = self_probe (e);
  cleanup_free char *enc = engine_urlencode (network);
  cleanup_free char *p = xasprintf ("/networks/%s/%s", enc, what);
  cleanup_json json_object *body = json_object_new_object ();
  json_object_object_add (body, "Container", json_object_new_string (s->id));
  if (force)
    json_object_object_add (body, "Force", json_object_new_boolean (1));
  return engine_post (e, p, body, NULL, err);
}

int
self_join (struct engine *e, const char *network, struct itm_err *err)
{
  const struct self *s = self_probe (e);
  if (!s->on_engine)
    return itm_err_set (err, ITM_EXIT_FAILURE, "itm-env does not run in a container on this "
                        "engine: it cannot join network %s", network);
  cleanup_err struct itm_err e2 = { 0 };
  if (net_call (e, network, "connect", false, &e2) == 0)
    return 0;
  /* already on it: "endpoint with name ... already exists in network" */
  if (e2.engine_msg && strstr (e2.engine_msg, "already exists"))
    return 0;
  itm_err_move (err, &e2);
  return itm_err_prefix (err, "connecting itm-env's own container %s to network %s", s->name,
                         network);
}

void
self_leave (struct engine *e, const char *network)
{
  const struct self *s = self_probe (e);
  if (!s->on_engine)
    return;
  cleanup_err struct itm_err err = { 0 };
  net_call (e, network, "disconnect", true, &err);
}
