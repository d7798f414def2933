/* conn.c - the engine handle: configuration, connection, one call, API
 * version negotiation, and the connection-failure messages.
 *
 * Every call goes through a per-handle curl multi handle, driven here in a
 * poll loop that sleeps until the socket has news, curl's own timer runs
 * out, or engine_cancel_wake() (wake.c) tells it to look at its cancel
 * flag.  Connections are kept alive between calls of one handle. */
#include <config.h>

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/apicache.h"
#include "engine/context.h"
#include "engine/engine.h"
#include "engine/wake.h"
#include "engine/ssh.h"
#include "engine/uds.h"
#include "util/xalloc.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 60000L
/* A body we keep whole (one JSON value, an error) is never larger. */
#define MAX_BODY (256UL << 20)
#define MAX_ERROR_BODY (64UL << 10)

struct engine {
  char *host;          /* as given: "unix:///var/run/docker.sock", "tcp://h:p" */
  char *endpoint;      /* for messages: the host, plus " (TLS)" */
  char *unix_path;     /* NULL for tcp */
  char *base_url;      /* "http://docker", "https://h:p" */
  bool tls, tls_verify;
  char *ca, *cert, *key;
  long connect_timeout_ms, timeout_ms;
  char *api;           /* negotiated, NULL before */
  char *server_api;    /* the engine's own */
  char *api_cache;     /* the version cache's file (apicache.c), or NULL */
  bool api_unconfirmed;   /* api came from the cache: no call has succeeded yet */
  char *context, *context_from;   /* the docker context in use (context.c), or NULL */
  struct engine_ssh *ssh;         /* ssh:// (ssh.c), or NULL */
  CURL *curl;
  CURLM *multi;
  int wake_fd;         /* eventfd in the poll set (wake.c), -1: none */
  bool light;          /* engine_config.light: plain GETs on a unix socket without libcurl
                          (uds.c); the curl handles are made on first need */
  int uds_fd;          /* uds.c's kept connection, -1: none */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init (void)
{
  global_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

/* ---- descriptors: none of ours reaches a child ----
 *
 * libcurl (7.88 measured) opens its sockets without SOCK_CLOEXEC, and a
 * multi handle's wake-up socket pair too: every child (run's command, a
 * credential helper) would inherit the engine connections.  The
 * connections are opened here, close-on-exec from the start; the pair is
 * marked right after curl_multi_init. */

static curl_socket_t
open_socket (void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
  (void) ud;
  (void) purpose;
  return socket (a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

#define FD_SCAN_MAX 4096

/* The open descriptors below FD_SCAN_MAX into map (a bit each). */
static void
fds_open (unsigned char *map)
{
  memset (map, 0, FD_SCAN_MAX / 8);
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      int fd = atoi (de->d_name);
      if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd < FD_SCAN_MAX && fd != dirfd (d))
        map[fd / 8] |= (unsigned char) (1u << (fd % 8));
    }
  closedir (d);
}

static void
engine_handles (struct engine *e)
{
  pthread_once (&global_once, global_init);
  if (global_rc != CURLE_OK)
    {
      fprintf (stderr, "itm-env: curl_global_init failed: %s\n", curl_easy_strerror (global_rc));
      abort ();
    }
  unsigned char before[FD_SCAN_MAX / 8], after[FD_SCAN_MAX / 8];
  fds_open (before);
  e->curl = curl_easy_init ();
  e->multi = curl_multi_init ();
  if (e->curl == NULL || e->multi == NULL)
    oom ();
  e->wake_fd = wake_fd_get ();
  /* what curl opened (another thread's new descriptors are close-on-exec
   * already, or will be: marking them again does no harm) */
  fds_open (after);
  for (int fd = 3; fd < FD_SCAN_MAX; fd++)
    if ((after[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8)))
      {
        int fl = fcntl (fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
          fcntl (fd, F_SETFD, fl | FD_CLOEXEC);
      }
}

/* ---- configuration ---- */

static int
env_timeout (const char *name, long *ms, struct itm_err *err)
{
  const char *v = getenv (name);
  char *end;
  if (v == NULL || *v == '\0')
    return 0;
  errno = 0;
  double s = strtod (v, &end);
  if (errno || end == v || *end != '\0' || !isfinite (s) || s <= 0 || s > 86400.0 * 365)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "%s='%s' is not a number of seconds", name, v);
      return itm_err_hint (err, "give a positive number of seconds, e.g. %s=30", name);
    }
  *ms = (long) (s * 1000.0);
  if (*ms < 1)
    *ms = 1;
  return 0;
}

static int
parse_tcp (struct engine *e, const char *rest, const char *from, struct itm_err *err)
{
  const char *p = rest, *hend;
  cleanup_free char *hostpart = NULL;

  if (*p == '[')
    {
      hend = strchr (p, ']');
      if (hend == NULL)
        goto bad;
      hostpart = xstrndup (p, (size_t) (hend - p + 1));
      p = hend + 1;
    }
  else
    {
      hend = p + strcspn (p, ":/");
      hostpart = xstrndup (p, (size_t) (hend - p));
      p = hend;
    }
  if (*hostpart == '\0')
    goto bad;
  for (const char *q = hostpart; *q; q++)
    if (!(isalnum ((unsigned char) *q) || strchr ("-._[]:", *q)))
      goto bad;
  long port = e->tls ? 2376 : 2375;
  if (*p == ':')
    {
      char *end;
      errno = 0;
      port = strtol (p + 1, &end, 10);
      if (errno || end == p + 1 || port < 1 || port > 65535)
        goto bad;
      p = end;
    }
  if (strcmp (p, "") != 0 && strcmp (p, "/") != 0)
    goto bad;
  e->base_url = xasprintf ("%s://%s:%ld", e->tls ? "https" : "http", hostpart, port);
  free (e->host);
  e->host = xasprintf ("tcp://%s:%ld", hostpart, port);
  return 0;

bad:
  itm_err_set (err, ITM_EXIT_USAGE, "malformed engine address '%s' (from %s)", e->host, from);
  return itm_err_hint (err, "use tcp://HOST:PORT or unix:///PATH");
}

struct engine *
engine_open (const struct engine_config *cfg, struct itm_err *err)
{
  const char *host = cfg ? cfg->host : NULL, *from = "-H";
  struct engine *e = xzalloc (sizeof *e);
  struct engine_context ctx;
  cleanup_free char *ctx_from = NULL;

  e->wake_fd = -1;
  e->uds_fd = -1;
  e->light = cfg && cfg->light;
  if (engine_context_resolve (cfg ? cfg->context : NULL, host && *host, &ctx, err) < 0)
    goto fail;
  e->context = ctx.name ? xstrdup (ctx.name) : NULL;
  e->context_from = ctx.from ? xstrdup (ctx.from) : NULL;
  if (ctx.host)
    {
      host = ctx.host;
      from = ctx_from = xasprintf ("docker context %s", ctx.name);
    }
  else if (host == NULL || *host == '\0')
    {
      host = getenv ("DOCKER_HOST");
      from = "DOCKER_HOST";
      if (host == NULL || *host == '\0')
        {
          host = "unix://" DEFAULT_SOCKET;
          from = "the default";
        }
    }
  e->host = xstrdup (host);
  e->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  e->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (env_timeout ("ITM_ENV_CONNECT_TIMEOUT", &e->connect_timeout_ms, err) < 0
      || env_timeout ("ITM_ENV_REQUEST_TIMEOUT", &e->timeout_ms, err) < 0)
    goto fail;
  if (cfg && cfg->connect_timeout_ms > 0)
    e->connect_timeout_ms = cfg->connect_timeout_ms;
  if (cfg && cfg->timeout_ms > 0)
    e->timeout_ms = cfg->timeout_ms;

  if (strncmp (host, "unix://", 7) == 0)
    {
      if (host[7] == '\0')
        {
          itm_err_set (err, ITM_EXIT_USAGE, "malformed engine address '%s' (from %s): no socket path",
                       host, from);
          itm_err_hint (err, "use unix:///PATH, e.g. unix://" DEFAULT_SOCKET);
          goto fail;
        }
      e->unix_path = xstrdup (host + 7);
      e->base_url = xstrdup ("http://docker");
      e->endpoint = xstrdup (host);
    }
  else if (strncmp (host, "tcp://", 6) == 0)
    {
      const char *verify = getenv ("DOCKER_TLS_VERIFY"), *tls = getenv ("DOCKER_TLS");
      e->tls_verify = verify && *verify;
      e->tls = e->tls_verify || (tls && *tls);
      if (ctx.host)
        {
          /* a context's TLS is its own: the store's material, not the environment's */
          e->tls = ctx.tls;
          e->tls_verify = ctx.tls && !ctx.skip_verify;
        }
      if (parse_tcp (e, host + 6, from, err) < 0)
        goto fail;
      e->endpoint = xasprintf ("%s%s", e->host, e->tls ? " (TLS)" : "");
      if (ctx.host && e->tls)
        {
          e->ca = ctx.ca ? xstrdup (ctx.ca) : NULL;
          e->cert = ctx.cert ? xstrdup (ctx.cert) : NULL;
          e->key = ctx.key ? xstrdup (ctx.key) : NULL;
        }
      else if (e->tls)
        {
          const char *dir = getenv ("DOCKER_CERT_PATH");
          cleanup_free char *def = NULL;
          if (dir == NULL || *dir == '\0')
            {
              const char *home = getenv ("HOME");
              dir = def = xasprintf ("%s/.docker", home && *home ? home : ".");
            }
          e->ca = xasprintf ("%s/ca.pem", dir);
          e->cert = xasprintf ("%s/cert.pem", dir);
          e->key = xasprintf ("%s/key.pem", dir);
        }
    }
  else if (strncmp (host, "ssh://", 6) == 0)
    {
      e->ssh = engine_ssh_new (host, from, e->connect_timeout_ms, err);
      if (e->ssh == NULL)
        goto fail;
      /* libcurl's socket comes from ssh (ssh.c): a unix "path" keeps it
       * from resolving a host name */
      e->unix_path = xstrdup ("/itm-env-ssh");
      e->base_url = xstrdup ("http://docker");
      e->endpoint = xstrdup (host);
    }
  else
    {
      const char *sep = strstr (host, "://");
      if (sep)
        itm_err_set (err, ITM_EXIT_USAGE,
                     "unsupported engine address scheme '%.*s://' in '%s' (from %s)",
                     (int) (sep - host), host, host, from);
      else
        itm_err_set (err, ITM_EXIT_USAGE, "malformed engine address '%s' (from %s)", host, from);
      itm_err_hint (err, "itm-env speaks unix:///PATH, tcp://HOST:PORT and ssh://[USER@]HOST[:PORT]");
      goto fail;
    }
  if (!e->light)
    engine_handles (e);
  engine_context_free (&ctx);
  return e;

fail:
  engine_context_free (&ctx);
  engine_close (e);
  return NULL;
}

struct engine *
engine_dup (const struct engine *e)
{
  struct engine *d = xzalloc (sizeof *d);
#define DUPS(f) d->f = e->f ? xstrdup (e->f) : NULL
  DUPS (host);
  DUPS (endpoint);
  DUPS (unix_path);
  DUPS (base_url);
  DUPS (ca);
  DUPS (cert);
  DUPS (key);
  DUPS (api);
  DUPS (server_api);
  DUPS (api_cache);
  DUPS (context);
  DUPS (context_from);
#undef DUPS
  d->api_unconfirmed = e->api_unconfirmed;
  d->tls = e->tls;
  d->tls_verify = e->tls_verify;
  d->ssh = e->ssh ? engine_ssh_dup (e->ssh) : NULL;
  d->connect_timeout_ms = e->connect_timeout_ms;
  d->timeout_ms = e->timeout_ms;
  d->light = e->light;
  d->uds_fd = -1;
  d->wake_fd = -1;
  if (!d->light)
    engine_handles (d);
  return d;
}

void
engine_close (struct engine *e)
{
  if (e == NULL)
    return;
  if (e->multi)
    {
      curl_multi_cleanup (e->multi);
      wake_fd_put (e->wake_fd);
    }
  if (e->curl)
    curl_easy_cleanup (e->curl);
  if (e->uds_fd >= 0)
    close (e->uds_fd);
  engine_ssh_free (e->ssh);
  free (e->host);
  free (e->endpoint);
  free (e->unix_path);
  free (e->base_url);
  free (e->ca);
  free (e->cert);
  free (e->key);
  free (e->api);
  free (e->server_api);
  free (e->api_cache);
  free (e->context);
  free (e->context_from);
  free (e);
}

void
engine_closep (struct engine **e)
{
  engine_close (*e);
  *e = NULL;
}

const char *
engine_endpoint (const struct engine *e)
{
  return e->endpoint;
}

const char *
engine_context_name (const struct engine *e, const char **from)
{
  if (from)
    *from = e->context_from;
  return e->context;
}

const char *
engine_api_version (const struct engine *e)
{
  return e->api;
}

const char *
engine_server_api_version (const struct engine *e)
{
  return e->server_api;
}

/* "1.41" -> 1, 41; -1 when it is not MAJOR.MINOR. */
static int
parse_version (const char *v, long *major, long *minor)
{
  char *end;
  if (v == NULL || !isdigit ((unsigned char) *v))
    return -1;
  *major = strtol (v, &end, 10);
  if (*end != '.' || !isdigit ((unsigned char) end[1]))
    return -1;
  *minor = strtol (end + 1, &end, 10);
  return *end == '\0' ? 0 : -1;
}

static int
version_cmp (const char *a, const char *b)
{
  long amaj = 0, amin = 0, bmaj = 0, bmin = 0;
  parse_version (a, &amaj, &amin);
  parse_version (b, &bmaj, &bmin);
  if (amaj != bmaj)
    return amaj < bmaj ? -1 : 1;
  if (amin != bmin)
    return amin < bmin ? -1 : 1;
  return 0;
}

int
engine_api_cmp (const struct engine *e, const char *version)
{
  return version_cmp (e->api ? e->api : ENGINE_API_MIN, version);
}

/* ---- for the version cache (apicache.h) ---- */

int
engine_version_cmp (const char *a, const char *b)
{
  return version_cmp (a, b);
}

const char *
engine_unix_path (const struct engine *e)
{
  return e->ssh ? NULL : e->unix_path;   /* ssh's is a name for libcurl alone */
}

const char *
engine_host (const struct engine *e)
{
  return e->host;
}

void
engine_api_adopt (struct engine *e, const char *server_api, const char *api)
{
  free (e->server_api);
  free (e->api);
  e->server_api = xstrdup (server_api);
  e->api = xstrdup (api);
  e->api_unconfirmed = true;
}

void
engine_api_cache_set (struct engine *e, char *path)
{
  free (e->api_cache);
  e->api_cache = path;
}

const char *
engine_api_cache (const struct engine *e)
{
  return e->api_cache;
}

/* ---- one call ---- */

struct call_state {
  struct engine *e;
  const struct engine_call *c;
  bool collect;            /* keep the body (one JSON value wanted) */
  bool started;
  long status;
  struct buf body;         /* the JSON value, or the error body */
  bool jl_on, mx_on;
  struct jsonl jl;
  struct mux mx;
  bool stopped;            /* a callback stopped the stream */
  bool cancelled;          /* *c->cancel was seen */
  struct itm_err perr;     /* an error found while reading the body */
  char api_version[32];    /* the Api-Version header */
  char *api_out;           /* where a successful call copies it, may be NULL */
  size_t api_out_len;
  char errbuf[CURL_ERROR_SIZE];
};

static int
json_value_cb (json_object *v, void *ctx)
{
  struct call_state *s = ctx;
  const char *m;
  if (s->c->stream_errors && (m = jsonl_stream_error (v)) != NULL)
    {
      itm_err_set (&s->perr, ITM_EXIT_ENGINE, "%s %s: %s", s->c->method, s->c->path, m);
      s->perr.engine_msg = xstrdup (m);
      return 1;
    }
  return s->c->on_json (v, s->c->ctx);
}

static size_t
on_write (char *ptr, size_t size, size_t nmemb, void *ud)
{
  struct call_state *s = ud;
  size_t n = size * nmemb;
  int r = 0;

  if (!s->started)
    {
      s->started = true;
      curl_easy_getinfo (s->e->curl, CURLINFO_RESPONSE_CODE, &s->status);
    }
  if (s->status >= 400)
    {
      if (s->body.len < MAX_ERROR_BODY)
        buf_add (&s->body, ptr, n < MAX_ERROR_BODY - s->body.len ? n : MAX_ERROR_BODY - s->body.len);
      return n;
    }
  if (s->jl_on)
    r = jsonl_feed (&s->jl, ptr, n, &s->perr);
  else if (s->mx_on)
    r = mux_feed (&s->mx, ptr, n, &s->perr);
  else if (s->c->on_data)
    r = s->c->on_data (ptr, n, s->c->ctx);
  else if (s->collect)
    {
      if (s->body.len + n > MAX_BODY)
        {
          itm_err_set (&s->perr, ITM_EXIT_ENGINE, "%s %s: the answer is larger than %lu MiB",
                       s->c->method, s->c->path, MAX_BODY >> 20);
          return 0;
        }
      buf_add (&s->body, ptr, n);
    }
  if (itm_err_isset (&s->perr))
    return 0;
  if (r != 0)
    {
      s->stopped = true;
      return 0;
    }
  return n;
}

static size_t
on_header (char *ptr, size_t size, size_t nmemb, void *ud)
{
  struct call_state *s = ud;
  size_t n = size * nmemb;
  static const char name[] = "api-version:";
  if (n > sizeof name - 1 && strncasecmp (ptr, name, sizeof name - 1) == 0)
    {
      const char *v = ptr + sizeof name - 1, *end = ptr + n;
      while (v < end && (*v == ' ' || *v == '\t'))
        v++;
      while (end > v && isspace ((unsigned char) end[-1]))
        end--;
      size_t len = (size_t) (end - v);
      if (len >= sizeof s->api_version)
        len = sizeof s->api_version - 1;
      memcpy (s->api_version, v, len);
      s->api_version[len] = '\0';
    }
  return n;
}

static size_t
on_read (char *buf, size_t size, size_t nitems, void *ud)
{
  const struct engine_call *c = ud;
  return c->read_cb (buf, size * nitems, c->read_ctx);
}

static int
on_progress (void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  struct call_state *s = ud;
  if (s->c->cancel && atomic_load (s->c->cancel))
    s->cancelled = true;
  return s->cancelled ? 1 : 0;
}

/* "GET /containers/x/json" without the query string, for messages. */
static char *
call_name (const struct engine_call *c)
{
  size_t plen = strcspn (c->path, "?");
  return xasprintf ("%s %.*s", c->method ? c->method : "GET", (int) plen, c->path);
}

static bool
contains (const char *hay, const char *needle)
{
  return hay && strstr (hay, needle) != NULL;
}

/* Turn a failed transfer into one clear line and a hint. */
static int
transfer_error (struct engine *e, const struct engine_call *c, struct call_state *s, CURLcode rc,
                long timeout_ms, struct itm_err *err)
{
  long oserr = 0;
  curl_off_t connect_time = 0;
  cleanup_free char *what = call_name (c);
  const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror (rc);
  bool tls_alert = e->tls && (contains (s->errbuf, "alert") || contains (s->errbuf, "certificate required"));

  curl_easy_getinfo (e->curl, CURLINFO_OS_ERRNO, &oserr);
  curl_easy_getinfo (e->curl, CURLINFO_CONNECT_TIME_T, &connect_time);
  if (e->ssh && rc != CURLE_OPERATION_TIMEDOUT && engine_ssh_failed (e->ssh, e->endpoint, err))
    return -1;

  switch (rc)
    {
    case CURLE_COULDNT_CONNECT:
      if (oserr == ENOENT)
        {
          itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: no such socket",
                       e->endpoint);
          return itm_err_hint (err, "is the engine running? Start dockerd, or point -H or "
                                    "DOCKER_HOST at its socket");
        }
      struct stat st;
      if (oserr == ECONNREFUSED && e->unix_path && stat (e->unix_path, &st) == 0
          && !S_ISSOCK (st.st_mode))
        {
          /* a bind mount of a socket path the host did not have makes an
           * empty directory: the usual CI mistake */
          itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: %s is a %s, not a socket",
                       e->endpoint, e->unix_path, S_ISDIR (st.st_mode) ? "directory" : "regular file");
          return itm_err_hint (err, "in a container, mount the engine's socket as it is on the host "
                                    "(-v /var/run/docker.sock:/var/run/docker.sock); a source path the "
                                    "host does not have becomes an empty directory");
        }
      if (oserr == ECONNREFUSED)
        {
          itm_err_set (err, ITM_EXIT_CONNECT,
                       "cannot reach the engine at %s: connection refused (nothing is listening)",
                       e->endpoint);
          return itm_err_hint (err, "is the engine running? Start dockerd, or point -H or "
                                    "DOCKER_HOST at a live engine");
        }
      if (oserr == EACCES || oserr == EPERM)
        {
          itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: permission denied",
                       e->endpoint);
          return itm_err_hint (err, "run as root or as a member of the docker group");
        }
      if (oserr)
        {
          itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: %s", e->endpoint,
                       strerror ((int) oserr));
          return itm_err_hint (err, "is the engine running, and is %s its address?", e->host);
        }
      itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: %s", e->endpoint, detail);
      return itm_err_hint (err, "is the engine running, and is %s its address?", e->host);
    case CURLE_COULDNT_RESOLVE_HOST:
      itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: unknown host (%s)",
                   e->endpoint, detail);
      return itm_err_hint (err, "check the host name in -H or DOCKER_HOST");
    case CURLE_OPERATION_TIMEDOUT:
      if (!s->started && (contains (s->errbuf, "Connection timed out")
                          || contains (s->errbuf, "Failed to connect")
                          || (connect_time == 0 && !contains (s->errbuf, "Operation timed out"))))
        {
          itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: connect timed out",
                       e->endpoint);
          return itm_err_hint (err, "is the engine up and the address reachable? "
                                    "ITM_ENV_CONNECT_TIMEOUT=SECONDS raises the limit");
        }
      itm_err_set (err, ITM_EXIT_CONNECT, "the engine at %s did not answer %s within %.3g s",
                   e->endpoint, what, timeout_ms / 1000.0);
      return itm_err_hint (err, "the engine is hung or overloaded; "
                                "ITM_ENV_REQUEST_TIMEOUT=SECONDS raises the limit");
    case CURLE_PEER_FAILED_VERIFICATION:
      itm_err_set (err, ITM_EXIT_CONNECT, "TLS verification failed for %s: %s", e->endpoint,
                   detail);
      return itm_err_hint (err, "the engine's certificate must be signed by %s and name the "
                                "host; check DOCKER_CERT_PATH", e->ca);
    case CURLE_SSL_CACERT_BADFILE:
      itm_err_set (err, ITM_EXIT_CONNECT, "TLS setup for %s failed: cannot use the CA certificate %s",
                   e->endpoint, e->ca);
      return itm_err_hint (err, "set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem "
                                "and key.pem");
    case CURLE_SSL_CERTPROBLEM:
      itm_err_set (err, ITM_EXIT_CONNECT,
                   "TLS setup for %s failed: cannot use our client certificate %s (key %s): %s",
                   e->endpoint, e->cert, e->key, detail);
      return itm_err_hint (err, "set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem "
                                "and key.pem");
    case CURLE_SSL_CONNECT_ERROR:
      if (tls_alert)
        goto client_cert;
      if (contains (s->errbuf, "wrong version number") || contains (s->errbuf, "packet length"))
        {
          itm_err_set (err, ITM_EXIT_CONNECT, "TLS handshake with %s failed: it does not speak TLS",
                       e->endpoint);
          return itm_err_hint (err, "unset DOCKER_TLS_VERIFY, or use the engine's TLS port");
        }
      itm_err_set (err, ITM_EXIT_CONNECT, "TLS handshake with %s failed: %s", e->endpoint, detail);
      return itm_err_hint (err, "check the engine's TLS setup and DOCKER_CERT_PATH");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
      itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s answered something that is not HTTP (%s)",
                   e->endpoint, what);
      return itm_err_hint (err, "is %s really a Docker engine?", e->host);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      /* Over TLS, a connection dropped before any answer is the engine
       * refusing our client certificate (TLS 1.3 checks it after the
       * handshake, so curl sees a dead connection, often with the alert). */
      if (tls_alert || (e->tls && !s->started && s->status == 0))
        goto client_cert;
      if (rc == CURLE_GOT_NOTHING)
        {
          itm_err_set (err, ITM_EXIT_ENGINE,
                       "the engine at %s closed the connection without answering (%s)",
                       e->endpoint, what);
          return itm_err_hint (err, "is %s really a Docker engine? Its log may say more", e->host);
        }
      /* fall through */
    case CURLE_PARTIAL_FILE:
      itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s closed the connection mid-response (%s: %s)",
                   e->endpoint, what, detail);
      return itm_err_hint (err, "the engine may have crashed or restarted; its log may say more");
    default:
      itm_err_set (err, ITM_EXIT_ENGINE, "%s to the engine at %s failed: %s", what, e->endpoint,
                   detail);
      return -1;
    }

client_cert:
  if (tls_alert)
    itm_err_set (err, ITM_EXIT_CONNECT,
                 "TLS handshake with %s failed: the engine refused our client certificate (%s)",
                 e->endpoint, detail);
  else
    itm_err_set (err, ITM_EXIT_CONNECT,
                 "TLS handshake with %s failed: the engine refused our client certificate",
                 e->endpoint);
  return itm_err_hint (err, "the engine must trust the CA that signed %s; check DOCKER_CERT_PATH",
                       e->cert);
}

/* The engine's error: keep status and message. */
static int
http_error (const struct engine_call *c, struct call_state *s, struct itm_err *err)
{
  cleanup_free char *what = call_name (c);
  cleanup_free char *msg = NULL;
  json_object *v = NULL, *m;

  if (s->body.len)
    v = json_tokener_parse (s->body.data);
  if (v && json_object_object_get_ex (v, "message", &m) && json_object_is_type (m, json_type_string))
    msg = xstrdup (json_object_get_string (m));
  json_object_put (v);
  if (msg == NULL && s->body.len)
    {
      /* Not JSON (a proxy's page): its first line. */
      size_t n = strcspn (s->body.data, "\r\n");
      if (n > 200)
        n = 200;
      msg = xstrndup (s->body.data, n);
    }
  if (msg && *msg)
    itm_err_set (err, s->status == 404 ? ITM_EXIT_NOT_FOUND : ITM_EXIT_ENGINE, "%s: %s (HTTP %ld)",
                 what, msg, s->status);
  else
    itm_err_set (err, s->status == 404 ? ITM_EXIT_NOT_FOUND : ITM_EXIT_ENGINE, "%s: HTTP %ld",
                 what, s->status);
  err->http_status = s->status;
  if (msg && *msg && err->engine_msg == NULL)
    err->engine_msg = steal_pointer (&msg);
  return -1;
}

static struct curl_slist *
add_header (struct curl_slist *l, const char *h)
{
  struct curl_slist *n = curl_slist_append (l, h);
  if (n == NULL)
    oom ();
  return n;
}

/* The handle's options common to every call. */
static void
call_setup (struct call_state *s, const char *url, long timeout_ms)
{
  struct engine *e = s->e;
  CURL *h = e->curl;
  curl_easy_reset (h);
  curl_easy_setopt (h, CURLOPT_URL, url);
  if (e->unix_path)
    curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, e->unix_path);
  curl_easy_setopt (h, CURLOPT_PROXY, "");
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "itm-env/" PACKAGE_VERSION);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
  curl_easy_setopt (h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, s->errbuf);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, s);
  curl_easy_setopt (h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  if (e->ssh)
    engine_ssh_setopt (e->ssh, h);
  if (s->c->cancel)
    {
      curl_easy_setopt (h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt (h, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt (h, CURLOPT_XFERINFODATA, s);
    }
  if (e->tls)
    {
      curl_easy_setopt (h, CURLOPT_CAINFO, e->ca);
      curl_easy_setopt (h, CURLOPT_SSLCERT, e->cert);
      curl_easy_setopt (h, CURLOPT_SSLKEY, e->key);
      curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, e->tls_verify ? 1L : 0L);
      curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, e->tls_verify ? 2L : 0L);
    }
}

/* The request body of a POST (or a custom method with one): the JSON
 * body, raw bytes, a chunked stream or nothing.  *body and *ctype keep
 * what the handle points to until the call ends. */
static struct curl_slist *
call_body (struct call_state *s, struct curl_slist *hdrs, char **body, char **ctype)
{
  const struct engine_call *c = s->c;
  CURL *h = s->e->curl;
  curl_easy_setopt (h, CURLOPT_POST, 1L);
  if (c->body)
    {
      *body = xstrdup (json_object_to_json_string_ext (c->body, JSON_C_TO_STRING_PLAIN
                                                                  | JSON_C_TO_STRING_NOSLASHESCAPE));
      curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (*body));
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, *body);
      return add_header (hdrs, "Content-Type: application/json");
    }
  if (c->raw)
    {
      curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) c->raw_len);
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, c->raw);
    }
  else if (c->read_cb)
    {
      curl_easy_setopt (h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt (h, CURLOPT_READDATA, (void *) c);
      hdrs = add_header (hdrs, "Transfer-Encoding: chunked");
    }
  else
    {
      curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, "");
      return hdrs;
    }
  *ctype = xasprintf ("Content-Type: %s", c->content_type ? c->content_type : "application/x-tar");
  return add_header (hdrs, *ctype);
}

/* The method, the body and the headers; the list is the caller's to free. */
static struct curl_slist *
call_request (struct call_state *s, const char *method, char **body, char **ctype)
{
  const struct engine_call *c = s->c;
  CURL *h = s->e->curl;
  struct curl_slist *hdrs = add_header (NULL, "Expect:");
  bool has_body = c->body || c->raw || c->read_cb;
  if (strcmp (method, "GET") == 0 && !has_body)
    curl_easy_setopt (h, CURLOPT_HTTPGET, 1L);
  else if (strcmp (method, "HEAD") == 0)
    curl_easy_setopt (h, CURLOPT_NOBODY, 1L);
  else
    {
      if (has_body || strcmp (method, "POST") == 0)
        hdrs = call_body (s, hdrs, body, ctype);
      if (strcmp (method, "POST") != 0)
        curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, method);
    }
  for (const char *const *x = c->headers; x && *x; x++)
    hdrs = add_header (hdrs, *x);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, hdrs);
  return hdrs;
}

/* Drive the transfer.  The poll sleeps until the socket has news or
 * curl's timer runs out (curl_multi_poll takes the shorter of it and
 * WAIT_MAX_MS); a call with a cancel flag also wakes on its handle's
 * eventfd (engine_cancel_wake).  *rc: curl's result of the transfer
 * (CURLE_OK when cancelled); -1 with err set when the multi interface
 * itself fails.  WAIT_MAX_MS is a guard, not a schedule: a cancel flag
 * whose setter forgot engine_cancel_wake() is still seen within it (10 s,
 * not an hour), and an idle call wakes no more than that. */
#define WAIT_MAX_MS (10 * 1000)
static int
call_drive (struct call_state *s, bool *cancelled, CURLcode *rc, struct itm_err *err)
{
  struct engine *e = s->e;
  CURL *h = e->curl;
  atomic_int *cancel = s->c->cancel;
  struct curl_waitfd wfd = { .fd = e->wake_fd, .events = CURL_WAIT_POLLIN };
  bool use_wfd = cancel && e->wake_fd >= 0;
  int wait_ms = cancel && !use_wfd ? ENGINE_WAKE_FALLBACK_MS : WAIT_MAX_MS;
  *rc = CURLE_OK;
  if (use_wfd)
    wake_fd_drain (e->wake_fd);   /* before the first look at the flag */
  CURLMcode mc = curl_multi_add_handle (e->multi, h);
  if (mc != CURLM_OK)
    return itm_err_set (err, ITM_EXIT_FAILURE, "curl: %s", curl_multi_strerror (mc));
  int running = 1;
  while (running)
    {
      if (cancel && atomic_load (cancel))
        {
          *cancelled = true;
          break;
        }
      mc = curl_multi_perform (e->multi, &running);
      if (mc != CURLM_OK || !running)
        break;
      wfd.revents = 0;
      mc = curl_multi_poll (e->multi, use_wfd ? &wfd : NULL, use_wfd ? 1 : 0, wait_ms, NULL);
      if (mc != CURLM_OK)
        break;
      if (wfd.revents)
        wake_fd_drain (e->wake_fd);  /* then the flag is looked at */
    }
  if (mc == CURLM_OK && !*cancelled)
    {
      CURLMsg *msg;
      int q;
      while ((msg = curl_multi_info_read (e->multi, &q)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
          *rc = msg->data.result;
    }
  curl_multi_remove_handle (e->multi, h);
  if (mc != CURLM_OK)
    return itm_err_set (err, ITM_EXIT_FAILURE, "curl: %s", curl_multi_strerror (mc));
  if (!s->started)
    curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &s->status);
  return 0;
}

/* The body kept whole, parsed as one JSON value into *out. */
static int
call_parse (struct call_state *s, const char *method, json_object **out, struct itm_err *err)
{
  struct json_tokener *tok = json_tokener_new ();
  if (tok == NULL)
    oom ();
  json_object *v = json_tokener_parse_ex (tok, s->body.data, (int) s->body.len + 1);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  json_tokener_free (tok);
  if (jerr != json_tokener_success)
    {
      json_object_put (v);
      return itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s answered %s %s with JSON that "
                          "does not parse: %s", s->e->endpoint, method, s->c->path,
                          json_tokener_error_desc (jerr));
    }
  *out = v;
  return 0;
}

/* The outcome of a finished transfer: the HTTP status, or -1 with err
 * set (a transfer error, an HTTP error, a stream that failed or does not
 * parse).  A cancelled or stopped call succeeds. */
static long
call_result (struct call_state *s, const char *method, bool cancelled, CURLcode rc,
             long timeout_ms, json_object **out, struct itm_err *err)
{
  const struct engine_call *c = s->c;
  if (itm_err_isset (&s->perr))
    {
      itm_err_move (err, &s->perr);
      return -1;
    }
  if (cancelled || (rc == CURLE_ABORTED_BY_CALLBACK && s->cancelled)
      || (s->stopped && rc == CURLE_WRITE_ERROR))
    return s->status ? s->status : 200;
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    {
      cleanup_free char *what = call_name (c);
      return itm_err_set (err, ITM_EXIT_FAILURE, "%s: the request body was aborted", what);
    }
  if (rc != CURLE_OK)
    {
      transfer_error (s->e, c, s, rc, timeout_ms, err);
      return -1;
    }
  if (s->status >= 400)
    {
      http_error (c, s, err);
      return -1;
    }
  if (s->status < 200)
    return itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s answered HTTP %ld to %s %s",
                        s->e->endpoint, s->status, method, c->path);
  if (s->jl_on)
    {
      int r = jsonl_finish (&s->jl, &s->perr);
      if (itm_err_isset (&s->perr))
        {
          itm_err_move (err, &s->perr);
          if (r < 0)
            itm_err_prefix (err, "%s %s", method, c->path);
          return -1;
        }
    }
  if (s->mx_on && mux_finish (&s->mx, err) < 0)
    return itm_err_prefix (err, "%s %s", method, c->path);
  if (s->collect && s->body.len && call_parse (s, method, out, err) < 0)
    return -1;
  if (s->api_out && s->api_version[0])
    snprintf (s->api_out, s->api_out_len, "%s", s->api_version);
  return s->status;
}

/* A light handle's call without libcurl (uds.c): a GET or HEAD with no
 * body, no streaming, no cancel flag, on a plain unix socket.  Returns
 * what call_perform would, or LIGHT_FALLBACK (nothing reported yet). */
#define LIGHT_FALLBACK (-100L)
static long
light_call (struct engine *e, const struct engine_call *c, const char *method, json_object **out,
            char *api_out, size_t api_out_len, long timeout_ms, struct itm_err *err)
{
  if (!e->light || e->ssh || e->tls || e->unix_path == NULL || c->body || c->raw || c->read_cb
      || c->on_json || c->on_frame || c->on_data || c->cancel || c->headers
      || (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0))
    return LIGHT_FALLBACK;
  cleanup_free char *target = xasprintf ("%s%s%s", e->api ? "/v" : "", e->api ? e->api : "",
                                         c->path);
  struct uds_resp r = { 0 };
  int u = uds_request (&e->uds_fd, e->unix_path, method, target, timeout_ms,
                       out ? MAX_BODY : MAX_ERROR_BODY, &r);
  if (u == UDS_FALLBACK)
    {
      buf_free (&r.body);
      return LIGHT_FALLBACK;
    }
  struct call_state s = { .e = e, .c = c, .status = r.status, .body = r.body,
                          .collect = out != NULL };
  long ret = -1;
  if (u == UDS_TIMEOUT)
    {
      cleanup_free char *what = call_name (c);
      itm_err_set (err, ITM_EXIT_CONNECT, "the engine at %s did not answer %s within %.3g s",
                   e->endpoint, what, timeout_ms / 1000.0);
      itm_err_hint (err, "the engine is hung or overloaded; "
                         "ITM_ENV_REQUEST_TIMEOUT=SECONDS raises the limit");
    }
  else if (s.status >= 400)
    http_error (c, &s, err);
  else if (!(s.collect && s.body.len && call_parse (&s, method, out, err) < 0))
    {
      if (api_out && r.api_version[0])
        snprintf (api_out, api_out_len, "%s", r.api_version);
      ret = s.status;
    }
  buf_free (&s.body);
  return ret;
}

static long
call_perform (struct engine *e, const struct engine_call *c, json_object **out,
              char *api_out, size_t api_out_len, struct itm_err *err)
{
  struct call_state s = { .e = e, .c = c, .api_out = api_out, .api_out_len = api_out_len };
  cleanup_free char *url = NULL, *body = NULL, *ctype = NULL;
  const char *method = c->method ? c->method : "GET";
  long timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : c->timeout_ms < 0 ? 0 : e->timeout_ms;
  CURL *h = e->curl;
  CURLcode rc;
  bool cancelled = false;
  long ret = -1;

  if (out)
    *out = NULL;
  long lr = light_call (e, c, method, out, api_out, api_out_len, timeout_ms, err);
  if (lr != LIGHT_FALLBACK)
    return lr;
  if (e->uds_fd >= 0)
    {
      /* one connection at a time: libcurl's replaces uds.c's */
      close (e->uds_fd);
      e->uds_fd = -1;
    }
  if (e->curl == NULL)
    {
      engine_handles (e);   /* a light handle's first call with libcurl */
      h = e->curl;
    }
  s.collect = out != NULL && !c->on_json && !c->on_frame && !c->on_data;
  if (c->on_json)
    {
      jsonl_init (&s.jl, json_value_cb, &s);
      s.jl_on = true;
    }
  else if (c->on_frame)
    {
      mux_init (&s.mx, c->frames_raw, c->on_frame, c->ctx);
      s.mx_on = true;
    }

  url = xasprintf ("%s%s%s%s", e->base_url, e->api ? "/v" : "", e->api ? e->api : "", c->path);
  call_setup (&s, url, timeout_ms);
  struct curl_slist *hdrs = call_request (&s, method, &body, &ctype);
  if (call_drive (&s, &cancelled, &rc, err) == 0)
    ret = call_result (&s, method, cancelled, rc, timeout_ms, out, err);

  if (s.jl_on)
    jsonl_free (&s.jl);
  itm_err_clear (&s.perr);
  buf_free (&s.body);
  curl_slist_free_all (hdrs);
  /* Do not leave pointers to this frame in the handle. */
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (h, CURLOPT_POSTFIELDS, NULL);
  return ret;
}

long
engine_call (struct engine *e, const struct engine_call *c, json_object **out, struct itm_err *err)
{
  /* A version from the cache (apicache.c) is confirmed by the first call
   * the engine does not refuse for its version.  A body read from a
   * callback cannot be sent twice: negotiate before it instead. */
  if (e->api_unconfirmed && c->read_cb && apicache_renegotiate (e, err) < 0)
    return -1;
  if (!e->api_unconfirmed)
    return call_perform (e, c, out, NULL, 0, err);
  cleanup_err struct itm_err first = { 0 };
  long r = call_perform (e, c, out, NULL, 0, &first);
  if (r < 0 && apicache_refused (&first))
    {
      itm_err_clear (&first);
      if (apicache_renegotiate (e, err) < 0)
        return -1;
      return call_perform (e, c, out, NULL, 0, err);
    }
  if (r >= 0 || first.http_status)
    e->api_unconfirmed = false;
  if (r < 0)
    itm_err_move (err, &first);
  return r;
}

int
engine_get (struct engine *e, const char *path, json_object **out, struct itm_err *err)
{
  struct engine_call c = { .method = "GET", .path = path };
  return engine_call (e, &c, out, err) < 0 ? -1 : 0;
}

int
engine_post (struct engine *e, const char *path, json_object *body, json_object **out,
             struct itm_err *err)
{
  struct engine_call c = { .method = "POST", .path = path, .body = body };
  return engine_call (e, &c, out, err) < 0 ? -1 : 0;
}

int
engine_delete (struct engine *e, const char *path, struct itm_err *err)
{
  struct engine_call c = { .method = "DELETE", .path = path };
  return engine_call (e, &c, NULL, err) < 0 ? -1 : 0;
}

/* ---- negotiation ---- */

/* An engine newer than ENGINE_API_MAX may have dropped the versions this
 * client speaks (Engine 29: MinAPIVersion 1.44): ask /version, and refuse
 * with the versions named rather than fail later on a "client version is too
 * old" answer. */
static int
negotiate_min (struct engine *e, struct itm_err *err)
{
  json_object *v = NULL, *m;
  if (engine_get (e, "/version", &v, err) < 0)
    return -1;
  char min[32] = "";
  if (v && json_object_object_get_ex (v, "MinAPIVersion", &m) && json_object_is_type (m, json_type_string))
    snprintf (min, sizeof min, "%s", json_object_get_string (m));
  json_object_put (v);
  long maj, mn;
  if (parse_version (min, &maj, &mn) < 0 || version_cmp (min, ENGINE_API_MAX) <= 0)
    return 0;
  itm_err_set (err, ITM_EXIT_ENGINE,
               "the engine at %s speaks API %s to %s; itm-env speaks API " ENGINE_API_MIN " to "
               ENGINE_API_MAX, e->endpoint, min, e->server_api);
  return itm_err_hint (err, "use an itm-env that speaks API %s, or an engine that still accepts API "
                       ENGINE_API_MAX, min);
}

int
engine_negotiate (struct engine *e, struct itm_err *err)
{
  char api[32] = "";
  struct engine_call ping = { .method = "GET", .path = "/_ping" };
  cleanup_err struct itm_err perr = { 0 };

  free (e->api);
  e->api = NULL;
  e->api_unconfirmed = false;
  if (call_perform (e, &ping, NULL, api, sizeof api, &perr) < 0)
    {
      /* No engine there at all: say so.  An HTTP error: try /version. */
      if (perr.http_status == 0)
        {
          itm_err_move (err, &perr);
          return -1;
        }
    }
  if (api[0] == '\0')
    {
      json_object *v = NULL, *a;
      if (engine_get (e, "/version", &v, err) < 0)
        {
          /* something answers HTTP there, but not as an engine */
          if (err->code == ITM_EXIT_ENGINE && err->hint == NULL)
            itm_err_hint (err, "is %s really a Docker engine's socket? It answers HTTP, but /_ping "
                               "gives no API-Version", e->host);
          return -1;
        }
      if (v && json_object_object_get_ex (v, "ApiVersion", &a) && json_object_is_type (a, json_type_string))
        snprintf (api, sizeof api, "%s", json_object_get_string (a));
      json_object_put (v);
      if (api[0] == '\0')
        {
          itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s does not say which API version it speaks",
                       e->endpoint);
          return itm_err_hint (err, "is %s really a Docker engine?", e->host);
        }
    }
  long maj, min;
  if (parse_version (api, &maj, &min) < 0)
    {
      itm_err_set (err, ITM_EXIT_ENGINE, "the engine at %s gives a malformed API version '%s'",
                   e->endpoint, api);
      return -1;
    }
  free (e->server_api);
  e->server_api = xstrdup (api);
  if (version_cmp (api, ENGINE_API_MIN) < 0)
    {
      itm_err_set (err, ITM_EXIT_ENGINE,
                   "the engine at %s speaks API %s; itm-env needs API " ENGINE_API_MIN " or later",
                   e->endpoint, api);
      return itm_err_hint (err, "upgrade the engine to Docker 20.10 or later");
    }
  if (version_cmp (api, ENGINE_API_MAX) > 0 && negotiate_min (e, err) < 0)
    return -1;
  e->api = xstrdup (version_cmp (api, ENGINE_API_MAX) > 0 ? ENGINE_API_MAX : api);
  return 0;
}

/* ---- a raw connection ---- */

struct engine_raw {
  CURL *h;
  curl_socket_t fd;
  bool tls;
};

struct engine_raw *
engine_raw_open (struct engine *e, struct itm_err *err)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  struct engine_raw *r = xzalloc (sizeof *r);
  r->fd = CURL_SOCKET_BAD;
  r->tls = e->tls;
  r->h = curl_easy_init ();
  if (r->h == NULL)
    oom ();
  CURL *h = r->h;
  curl_easy_setopt (h, CURLOPT_URL, e->base_url);
  if (e->unix_path)
    curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, e->unix_path);
  curl_easy_setopt (h, CURLOPT_PROXY, "");
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  if (e->ssh)
    engine_ssh_setopt (e->ssh, h);
  curl_easy_setopt (h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECT_ONLY, 1L);
  if (e->tls)
    {
      curl_easy_setopt (h, CURLOPT_CAINFO, e->ca);
      curl_easy_setopt (h, CURLOPT_SSLCERT, e->cert);
      curl_easy_setopt (h, CURLOPT_SSLKEY, e->key);
      curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, e->tls_verify ? 1L : 0L);
      curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, e->tls_verify ? 2L : 0L);
    }
  CURLcode rc = curl_easy_perform (h);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, NULL);
  if (rc == CURLE_OK)
    curl_easy_getinfo (h, CURLINFO_ACTIVESOCKET, &r->fd);
  if (rc != CURLE_OK || r->fd == CURL_SOCKET_BAD)
    {
      itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: %s", e->endpoint,
                   errbuf[0] ? errbuf : curl_easy_strerror (rc));
      engine_raw_close (r);
      return NULL;
    }
  return r;
}

int
engine_raw_fd (const struct engine_raw *r)
{
  return (int) r->fd;
}

int
engine_raw_send (struct engine_raw *r, const char *data, size_t len, struct itm_err *err)
{
  while (len > 0)
    {
      size_t n = 0;
      CURLcode rc = curl_easy_send (r->h, data, len, &n);
      if (rc == CURLE_AGAIN)
        {
          struct pollfd p = { .fd = (int) r->fd, .events = POLLOUT };
          if (poll (&p, 1, -1) < 0 && errno != EINTR)
            return itm_err_errno (err, ITM_EXIT_ENGINE, "writing to the engine");
          continue;
        }
      if (rc != CURLE_OK)
        return itm_err_set (err, ITM_EXIT_ENGINE, "writing to the engine: %s",
                            curl_easy_strerror (rc));
      data += n;
      len -= n;
    }
  return 0;
}

ssize_t
engine_raw_recv (struct engine_raw *r, char *buf, size_t len)
{
  size_t n = 0;
  CURLcode rc = curl_easy_recv (r->h, buf, len, &n);
  if (rc == CURLE_AGAIN)
    return -2;
  if (rc != CURLE_OK)
    return 0;
  return (ssize_t) n;
}

ssize_t
engine_raw_read (struct engine_raw *r, char *buf, size_t len, int timeout_ms)
{
  for (;;)
    {
      ssize_t n = engine_raw_recv (r, buf, len);
      if (n != -2)
        return n;
      struct pollfd p = { .fd = engine_raw_fd (r), .events = POLLIN };
      int pr = poll (&p, 1, timeout_ms);
      if (pr == 0)
        return -2;
      if (pr < 0 && errno != EINTR)
        return 0;
    }
}

/* With TLS the other side must read a close_notify alert, not a bare end
 * of the TCP stream (OpenSSL 3 peers, socat and TLS proxies among them,
 * call that an error and drop both directions).  libcurl has no call for
 * it, so the alert is sent with libssl's own SSL_shutdown on libcurl's
 * SSL object, written straight to the socket (libcurl's own BIO works only
 * inside a libcurl call), the library found among those libcurl loaded.
 * When that is not possible: the plain half-close. */
static bool
tls_close_notify (struct engine_raw *r)
{
  struct curl_tlssessioninfo *ti = NULL;
  if (curl_easy_getinfo (r->h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || ti == NULL
      || ti->backend != CURLSSLBACKEND_OPENSSL || ti->internals == NULL)
    return false;
  static const char *const sonames[] = { "libssl.so.3", "libssl.so.1.1", NULL };
  void *lib = NULL;
  for (size_t i = 0; sonames[i] && lib == NULL; i++)
    lib = dlopen (sonames[i], RTLD_LAZY | RTLD_NOLOAD);
  if (lib == NULL)
    return false;
  void *(*new_socket) (int, int) = (void *(*) (int, int)) dlsym (lib, "BIO_new_socket");
  void (*set0_wbio) (void *, void *) = (void (*) (void *, void *)) dlsym (lib, "SSL_set0_wbio");
  int (*ssl_shutdown) (void *) = (int (*) (void *)) dlsym (lib, "SSL_shutdown");
  void (*quiet) (void *, int) = (void (*) (void *, int)) dlsym (lib, "SSL_set_quiet_shutdown");
  bool ok = false;
  void *bio;
  if (new_socket && set0_wbio && ssl_shutdown && quiet
      && (bio = new_socket ((int) r->fd, 0 /* BIO_NOCLOSE */)) != NULL)
    {
      set0_wbio (ti->internals, bio);
      ok = ssl_shutdown (ti->internals) >= 0;
      /* libcurl's own shutdown, when the handle is closed, sends nothing more */
      quiet (ti->internals, 1);
    }
  dlclose (lib);
  return ok;
}

void
engine_raw_shutdown_write (struct engine_raw *r)
{
  if (r->tls && tls_close_notify (r))
    return;
  shutdown ((int) r->fd, SHUT_WR);
}

void
engine_raw_close (struct engine_raw *r)
{
  if (r == NULL)
    return;
  curl_easy_cleanup (r->h);
  free (r);
}

/* ---- helpers for paths ---- */

char *
engine_urlencode (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
      buf_addc (&b, (char) *p);
    else
      {
        buf_addc (&b, '%');
        buf_addc (&b, hex[*p >> 4]);
        buf_addc (&b, hex[*p & 15]);
      }
  return buf_steal (&b);
}

char *
engine_filters (const char *key, const char *const *values, size_t n)
{
  json_object *o = json_object_new_object ();
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, json_object_new_string (values[i]));
  json_object_object_add (o, key, a);
  char *r = engine_urlencode (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
  json_object_put (o);
  return r;
}

int
engine_events (struct engine *e, json_object *filters, long long since, long long until,
               jsonl_cb cb, void *ctx, atomic_int *cancel, struct itm_err *err)
{
  struct buf path = { 0 };
  buf_adds (&path, "/events");
  char sep = '?';
  if (since > 0)
    {
      buf_addf (&path, "%csince=%lld", sep, since);
      sep = '&';
    }
  if (until > 0)
    {
      buf_addf (&path, "%cuntil=%lld", sep, until);
      sep = '&';
    }
  if (filters)
    {
      cleanup_free char *f = engine_urlencode (
        json_object_to_json_string_ext (filters, JSON_C_TO_STRING_PLAIN));
      buf_addf (&path, "%cfilters=%s", sep, f);
    }
  struct engine_call c = {
    .method = "GET", .path = path.data, .on_json = cb, .ctx = ctx, .timeout_ms = -1, .cancel = cancel,
  };
  long r = engine_call (e, &c, NULL, err);
  buf_free (&path);
  return r < 0 ? -1 : 0;
}
