/* apicache.c - the negotiated API version, kept per engine endpoint so
 * that a command that scripts call in loops (ps, env, port) skips the
 * /_ping (and /version) of the negotiation.
 *
 * Where: $ITM_ENV_CACHE_DIR, else $XDG_CACHE_HOME/itm-env, else
 * ~/.cache/itm-env; one file per endpoint, "engine-api-<16 hex digits>"
 * (FNV-1a of the host string as given, e.g. unix:///var/run/docker.sock,
 * plus " (TLS)" for TLS: the endpoint of messages).  ITM_ENV_NO_API_CACHE=1
 * turns it off.  The directory is made 0700; a directory or file that is
 * not the user's own, or is writable by others, is not used.
 *
 * One line: "itm-env-api-cache 1\t<host>\t<identity>\t<engine api>\t<api>".
 * The identity tells a restarted engine from the one that answered: for a
 * unix socket its device, inode and change time (the engine makes its
 * socket anew at every start, so an upgrade or a restart misses the
 * cache); for tcp:// and ssh:// there is no such thing, and the entry
 * lives TCP_TTL_S seconds.
 *
 * Why it is safe: a version from the cache is "unconfirmed" until a call
 * succeeds.  If the engine refuses it (HTTP 400 "client version ... is
 * too new / too old": an engine downgraded or replaced behind the same
 * identity), conn.c negotiates afresh, rewrites the cache and makes the
 * call again, once; a call whose body is read from a callback (it cannot
 * be sent twice) is preceded by a fresh negotiation instead.  The entry
 * is checked strictly (its host string must match exactly, versions in
 * ENGINE_API_MIN..ENGINE_API_MAX, the negotiated one the lower of the
 * engine's and ENGINE_API_MAX); anything else is a miss.  Writes go to a
 * temporary file renamed into place: concurrent commands never see half
 * an entry. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/apicache.h"
#include "engine/engine.h"
#include "util/xalloc.h"

#define MAGIC "itm-env-api-cache 1"
#define TCP_TTL_S 300

/* The cache directory, made when missing; NULL when off or unusable. */
static char *
cache_dir (void)
{
  const char *off = getenv ("ITM_ENV_NO_API_CACHE");
  if (off && *off && strcmp (off, "0") != 0)
    return NULL;
  char *d;
  const char *v = getenv ("ITM_ENV_CACHE_DIR"), *x = getenv ("XDG_CACHE_HOME"),
             *home = getenv ("HOME");
  if (v && *v)
    d = xstrdup (v);
  else if (x && *x == '/')
    d = xasprintf ("%s/itm-env", x);
  else if (home && *home == '/')
    d = xasprintf ("%s/.cache/itm-env", home);
  else
    return NULL;
  struct stat st;
  if (lstat (d, &st) < 0)
    {
      /* the parent (~/.cache) may be missing too */
      char *slash = strrchr (d, '/');
      if (slash && slash != d)
        {
          *slash = '\0';
          (void) mkdir (d, 0700);
          *slash = '/';
        }
      if (mkdir (d, 0700) < 0 && errno != EEXIST)
        goto no;
      if (lstat (d, &st) < 0)
        goto no;
    }
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 022))
    goto no;
  return d;
no:
  free (d);
  return NULL;
}

static uint64_t
fnv1a (const char *s)
{
  uint64_t h = 14695981039346656037ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

/* What tells this engine instance from the next one at the same address:
 * its socket's device, inode and change time; "tcp" elsewhere (and the
 * entry's age decides).  NULL when the socket is not there. */
static char *
identity (const struct engine *e)
{
  const char *p = engine_unix_path (e);
  if (p == NULL)
    return xstrdup ("tcp");
  struct stat st;
  if (stat (p, &st) < 0)
    return NULL;
  return xasprintf ("%llx:%llx:%lld.%09ld", (unsigned long long) st.st_dev,
                    (unsigned long long) st.st_ino, (long long) st.st_ctim.tv_sec,
                    st.st_ctim.tv_nsec);
}

static bool
is_version (const char *v)
{
  const char *p = v;
  if (*p < '0' || *p > '9')
    return false;
  while (*p >= '0' && *p <= '9')
    p++;
  if (*p++ != '.' || *p < '0' || *p > '9')
    return false;
  while (*p >= '0' && *p <= '9')
    p++;
  return *p == '\0' && p - v < 16;
}

/* Read and check the entry at path; on a hit, set server/api (32 bytes). */
static bool
entry_read (const struct engine *e, const char *path, const char *ident, char *server,
            char *api)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return false;
  struct stat st;
  char buf[1024];
  ssize_t n = -1;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == geteuid ()
      && !(st.st_mode & 022) && st.st_size < (off_t) sizeof buf)
    n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  if (strcmp (ident, "tcp") == 0 && time (NULL) - st.st_mtime > TCP_TTL_S)
    return false;
  char *f[6] = { 0 }, *save = NULL, *line = strtok_r (buf, "\n", &save);
  if (line == NULL)
    return false;
  size_t k = 0;
  for (char *t = line, *tab; k < 6 && t; t = tab ? tab + 1 : NULL, k++)
    {
      tab = strchr (t, '\t');
      if (tab)
        *tab = '\0';
      f[k] = t;
    }
  if (k != 5 || strcmp (f[0], MAGIC) != 0 || strcmp (f[1], engine_host (e)) != 0
      || strcmp (f[2], ident) != 0 || !is_version (f[3]) || !is_version (f[4]))
    return false;
  /* the versions as engine_negotiate would have picked them */
  const char *want = engine_version_cmp (f[3], ENGINE_API_MAX) > 0 ? ENGINE_API_MAX : f[3];
  if (engine_version_cmp (f[3], ENGINE_API_MIN) < 0 || strcmp (f[4], want) != 0)
    return false;
  snprintf (server, 32, "%s", f[3]);
  snprintf (api, 32, "%s", f[4]);
  return true;
}

/* Write the handle's negotiated versions to its cache file (best effort). */
static void
entry_write (const struct engine *e, const char *path)
{
  const char *server = engine_server_api_version (e), *api = engine_api_version (e);
  cleanup_free char *ident = identity (e);
  if (ident == NULL || server == NULL || api == NULL || strchr (engine_host (e), '\t')
      || strchr (engine_host (e), '\n'))
    return;
  cleanup_free char *tmp = xasprintf ("%s.XXXXXX", path);
  int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return;
  cleanup_free char *line = xasprintf (MAGIC "\t%s\t%s\t%s\t%s\n", engine_host (e), ident,
                                       server, api);
  size_t len = strlen (line);
  bool ok = write (fd, line, len) == (ssize_t) len;
  ok = close (fd) == 0 && ok;
  if (!ok || rename (tmp, path) < 0)
    unlink (tmp);
}

int
engine_negotiate_cached (struct engine *e, struct itm_err *err)
{
  cleanup_free char *dir = cache_dir ();
  if (dir == NULL)
    return engine_negotiate (e, err);
  cleanup_free char *key = xasprintf ("%s%s", engine_host (e), engine_endpoint (e));
  char *path = xasprintf ("%s/engine-api-%016llx", dir, (unsigned long long) fnv1a (key));
  engine_api_cache_set (e, path);
  cleanup_free char *ident = identity (e);
  char server[32], api[32];
  if (ident && entry_read (e, path, ident, server, api))
    {
      engine_api_adopt (e, server, api);
      return 0;
    }
  if (engine_negotiate (e, err) < 0)
    {
      unlink (path);
      return -1;
    }
  entry_write (e, path);
  return 0;
}

int
apicache_renegotiate (struct engine *e, struct itm_err *err)
{
  const char *path = engine_api_cache (e);
  if (engine_negotiate (e, err) < 0)
    {
      if (path)
        unlink (path);
      return -1;
    }
  if (path)
    entry_write (e, path);
  return 0;
}

bool
apicache_refused (const struct itm_err *err)
{
  const char *m = err->engine_msg ? err->engine_msg : err->msg;
  return err->http_status == 400 && m && strstr (m, "client version")
         && (strstr (m, "is too new") || strstr (m, "is too old"));
}
