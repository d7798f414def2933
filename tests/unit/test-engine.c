/* test-engine.c - the engine client against tests/fake-engine: recorded
 * answers sent whole, in slices, chunked; engine errors; negotiation;
 * streams over HTTP; stop and cancel; garbage, a connection closed
 * mid-response, an engine that never answers; configuration. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"

#define CURL_READFUNC_ABORT_VALUE 0x10000000 /* CURL_READFUNC_ABORT */
#include "tap.h"
#include "util/xalloc.h"

static char tmpdir[] = "/tmp/itm-test-engine-XXXXXX";
static char *fake_bin, *recorded;
static int nsock;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

struct fake {
  pid_t pid;
  char *sock;
  char *host;
};

/* Start the fake engine with extra arguments (NULL-terminated). */
static struct fake
fake_start (const char *arg, ...)
{
  struct fake f = { 0 };
  const char *argv[32];
  int n = 0;
  va_list ap;

  f.sock = xasprintf ("%s/s%d", tmpdir, nsock++);
  f.host = xasprintf ("unix://%s", f.sock);
  argv[n++] = fake_bin;
  argv[n++] = "--socket";
  argv[n++] = f.sock;
  argv[n++] = "--dir";
  argv[n++] = recorded;
  argv[n++] = "--lifetime";
  argv[n++] = "20";
  va_start (ap, arg);
  for (const char *a = arg; a && n < 30; a = va_arg (ap, const char *))
    argv[n++] = a;
  va_end (ap);
  argv[n] = NULL;
  f.pid = fork ();
  if (f.pid == 0)
    {
      execv (fake_bin, (char *const *) argv);
      _exit (127);
    }
  struct stat st;
  for (int i = 0; i < 500 && stat (f.sock, &st) < 0; i++)
    usleep (10000);
  return f;
}

static void
fake_stop (struct fake *f)
{
  if (f->pid > 0)
    {
      kill (f->pid, SIGTERM);
      waitpid (f->pid, NULL, 0);
    }
  unlink (f->sock);
  free (f->sock);
  free (f->host);
}

/* the second pass: light handles (plain GETs on the socket without
 * libcurl, engine/uds.c), which must answer as libcurl's calls do */
static bool light;

static struct engine *
open_host (const char *host, long timeout_ms)
{
  struct engine_config cfg = { .host = host, .timeout_ms = timeout_ms, .connect_timeout_ms = 2000,
                               .light = light };
  struct itm_err err = { 0 };
  struct engine *e = engine_open (&cfg, &err);
  if (e == NULL)
    tap_diag ("engine_open %s: %s", host, err.msg);
  itm_err_clear (&err);
  return e;
}

/* ---- negotiation ---- */

static void
negotiate_case (const char *server, const char *want, int want_code)
{
  struct fake f = fake_start ("--api", server, NULL);
  struct engine *e = open_host (f.host, 0);
  struct itm_err err = { 0 };
  int r = engine_negotiate (e, &err);
  if (want)
    {
      tap_ok (r == 0, "engine API %s: negotiated", server);
      tap_is_str (engine_api_version (e), want, "... uses %s", want);
      tap_is_str (engine_server_api_version (e), server, "... remembers the engine's %s", server);
    }
  else
    {
      tap_ok (r < 0 && err.code == want_code, "engine API %s: refused with code %d", server, err.code);
      tap_ok (err.msg && strstr (err.msg, server)
                && (strstr (err.msg, ENGINE_API_MIN) || strstr (err.msg, "malformed")),
              "... the message names both versions: %s", err.msg ? err.msg : "(none)");
      tap_ok (engine_api_version (e) == NULL, "... no version in use");
    }
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);
}

static void
test_negotiation (void)
{
  negotiate_case ("1.41", "1.41", 0);
  negotiate_case ("1.43", "1.43", 0);
  negotiate_case ("1.50", ENGINE_API_MAX, 0);
  negotiate_case ("1.100", ENGINE_API_MAX, 0);
  negotiate_case ("1.40", NULL, ITM_EXIT_ENGINE);
  negotiate_case ("1.9", NULL, ITM_EXIT_ENGINE);
  negotiate_case ("0.99", NULL, ITM_EXIT_ENGINE);
  negotiate_case ("garbage", NULL, ITM_EXIT_ENGINE);

  /* no Api-Version on /_ping: /version says */
  struct fake f = fake_start ("--api", "", NULL);
  struct engine *e = open_host (f.host, 0);
  struct itm_err err = { 0 };
  int r = engine_negotiate (e, &err);
  tap_ok (r == 0 && engine_api_version (e) && strcmp (engine_api_version (e), "1.41") == 0,
          "no Api-Version header: /version's ApiVersion is used (%s)", err.msg ? err.msg : "ok");
  tap_ok (engine_api_cmp (e, "1.41") == 0 && engine_api_cmp (e, "1.44") < 0
            && engine_api_cmp (e, "1.9") > 0 && engine_api_cmp (e, "2.0") < 0,
          "engine_api_cmp compares numerically");
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);
}

/* ---- plain JSON calls ---- */

static void
json_calls (const char *label, struct fake *f)
{
  struct engine *e = open_host (f->host, 0);
  struct itm_err err = { 0 };
  json_object *v = NULL;

  tap_is_int (engine_negotiate (e, &err), 0, "%s: negotiated", label);
  int r = engine_get (e, "/containers/json?all=1", &v, &err);
  tap_ok (r == 0 && json_object_is_type (v, json_type_array) && json_object_array_length (v) == 2,
          "%s: GET /containers/json parsed (%s)", label, err.msg ? err.msg : "ok");
  json_object *first = v ? json_object_array_get_idx (v, 0) : NULL, *labels = NULL, *note = NULL;
  if (first && json_object_object_get_ex (first, "Labels", &labels))
    json_object_object_get_ex (labels, "note", &note);
  tap_is_str (note ? json_object_get_string (note) : NULL, "caf\xc3\xa9 \xe2\x9c\x93",
              "%s: ... UTF-8 kept", label);
  json_object_put (v);
  v = NULL;
  itm_err_clear (&err);

  /* 404 keeps status and message */
  r = engine_get (e, "/containers/x/json", &v, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_NOT_FOUND && err.http_status == 404,
          "%s: 404 -> not found, status kept", label);
  tap_is_str (err.engine_msg, "No such container: x", "%s: ... engine message kept", label);
  tap_is_str (err.msg, "GET /containers/x/json: No such container: x (HTTP 404)",
              "%s: ... message names the call", label);
  tap_ok (v == NULL, "%s: ... no value", label);
  itm_err_clear (&err);

  r = engine_get (e, "/containers/boom/json", &v, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_ENGINE && err.http_status == 500 && err.engine_msg
            && strstr (err.engine_msg, "port is already allocated"),
          "%s: 500 -> engine error with message", label);
  itm_err_clear (&err);

  r = engine_get (e, "/containers/proxy/json", &v, &err);
  tap_ok (r < 0 && err.http_status == 502 && err.engine_msg
            && strstr (err.engine_msg, "502 Bad Gateway"),
          "%s: a non-JSON error body: its first line (%s)", label, err.msg ? err.msg : "");
  itm_err_clear (&err);

  r = engine_get (e, "/containers/badjson/json", &v, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_ENGINE && err.msg && strstr (err.msg, "does not parse"),
          "%s: JSON that does not parse: %s", label, err.msg ? err.msg : "(none)");
  itm_err_clear (&err);

  json_object *body = json_tokener_parse ("{\"Name\":\"ns1_default\",\"Labels\":{\"a\":\"b\"}}");
  r = engine_post (e, "/networks/create", body, &v, &err);
  json_object *id = NULL;
  tap_ok (r == 0 && v && json_object_object_get_ex (v, "Id", &id), "%s: POST with a JSON body", label);
  json_object_put (v);
  v = NULL;
  json_object_put (body);

  struct engine_call c = { .method = "POST", .path = "/containers/c1/start" };
  long st = engine_call (e, &c, &v, &err);
  tap_ok (st == 204 && v == NULL, "%s: 204 without a body: status %ld, no value", label, st);

  tap_is_int (engine_delete (e, "/containers/x", &err), -1, "%s: DELETE of a missing thing", label);
  tap_is_int (err.http_status, 404, "%s: ... 404", label);
  itm_err_clear (&err);
  engine_close (e);
}

static void
test_json (void)
{
  struct fake f = fake_start (NULL);
  json_calls ("whole", &f);
  fake_stop (&f);
  f = fake_start ("--slice", "1", NULL);
  json_calls ("slices of 1 byte", &f);
  fake_stop (&f);
  f = fake_start ("--mode", "chunked", "--slice", "1", NULL);
  json_calls ("chunked, 1-byte chunks", &f);
  fake_stop (&f);
  f = fake_start ("--mode", "chunked", "--slice", "13", "--delay-ms", "1", NULL);
  json_calls ("chunked, 13-byte chunks, slow", &f);
  fake_stop (&f);
}

/* ---- streams over HTTP ---- */

struct counter {
  size_t values, stop_after;
  struct buf out[3];
};

static int
count_cb (json_object *v, void *ctx)
{
  struct counter *c = ctx;
  c->values++;
  return c->stop_after && c->values >= c->stop_after;
}

static int
frame_cb (int stream, const char *data, size_t len, void *ctx)
{
  struct counter *c = ctx;
  if (stream >= 0 && stream < 3)
    buf_add (&c->out[stream], data, len);
  return 0;
}

static char *
slurp (const char *name, size_t *len)
{
  const char *src = getenv ("ITM_SRCDIR");
  char *path = xasprintf ("%s/tests/recorded/%s", src ? src : "..", name);
  FILE *f = fopen (path, "rb");
  struct buf b = { 0 };
  char tmp[4096];
  size_t n;
  buf_adds (&b, "");
  while (f && (n = fread (tmp, 1, sizeof tmp, f)) > 0)
    buf_add (&b, tmp, n);
  if (f)
    fclose (f);
  free (path);
  *len = b.len;
  return buf_steal (&b);
}

struct upload {
  size_t left;
  bool abort_midway;
};

static size_t
upload_cb (char *buf, size_t size, void *ctx)
{
  struct upload *u = ctx;
  if (u->abort_midway && u->left < 50000)
    return CURL_READFUNC_ABORT_VALUE;
  size_t n = u->left < size ? u->left : size;
  if (n > 1000)
    n = 1000;
  memset (buf, 'x', n);
  u->left -= n;
  return n;
}

static void
streams (const char *label, struct fake *f)
{
  struct engine *e = open_host (f->host, 0);
  struct itm_err err = { 0 };
  struct counter c = { 0 };

  engine_negotiate (e, &err);
  struct engine_call pull = { .method = "POST", .path = "/images/create?fromImage=x&tag=latest",
                              .on_json = count_cb, .ctx = &c, .stream_errors = true };
  long st = engine_call (e, &pull, NULL, &err);
  tap_ok (st == 200 && c.values == 12, "%s: pull progress: %zu values (%s)", label, c.values,
          err.msg ? err.msg : "ok");
  itm_err_clear (&err);

  memset (&c, 0, sizeof c);
  struct engine_call build = { .method = "POST", .path = "/build", .raw = "tar", .raw_len = 3,
                               .on_json = count_cb, .ctx = &c, .stream_errors = true };
  st = engine_call (e, &build, NULL, &err);
  tap_ok (st < 0 && err.code == ITM_EXIT_ENGINE && err.engine_msg
            && strncmp (err.engine_msg, "pull access denied", 18) == 0,
          "%s: an errorDetail line ends the call with its message: %s", label,
          err.msg ? err.msg : "(none)");
  itm_err_clear (&err);

  /* a body pulled from a callback, sent chunked; and one aborted */
  memset (&c, 0, sizeof c);
  struct upload up = { .left = 100000 };
  struct engine_call upl = { .method = "POST", .path = "/build?t=x", .read_cb = upload_cb,
                             .read_ctx = &up, .on_json = count_cb, .ctx = &c };
  st = engine_call (e, &upl, NULL, &err);
  tap_ok (st == 200 && up.left == 0 && c.values == 2,
          "%s: a 100000-byte chunked upload from a callback (%s)", label, err.msg ? err.msg : "ok");
  itm_err_clear (&err);
  up = (struct upload) { .left = 100000, .abort_midway = true };
  st = engine_call (e, &upl, NULL, &err);
  tap_ok (st < 0 && err.code == ITM_EXIT_FAILURE && strstr (err.msg, "aborted"),
          "%s: ... aborted by the callback: an error (%s)", label, err.msg ? err.msg : "none");
  itm_err_clear (&err);

  memset (&c, 0, sizeof c);
  struct engine_call logs = { .method = "GET", .path = "/containers/c1/logs?stdout=1&stderr=1",
                              .on_frame = frame_cb, .ctx = &c };
  st = engine_call (e, &logs, NULL, &err);
  size_t olen, elen;
  char *o = slurp ("logs.mux.stdout", &olen), *er = slurp ("logs.mux.stderr", &elen);
  tap_ok (st == 200 && c.out[1].len == olen && memcmp (c.out[1].data, o, olen) == 0
            && c.out[2].len == elen && memcmp (c.out[2].data, er, elen) == 0,
          "%s: multiplexed logs: stdout and stderr bytes (%s)", label, err.msg ? err.msg : "ok");
  free (o);
  free (er);
  for (int i = 0; i < 3; i++)
    buf_free (&c.out[i]);
  itm_err_clear (&err);

  /* a callback that stops: success, early; the handle still works */
  memset (&c, 0, sizeof c);
  c.stop_after = 1;
  st = engine_events (e, NULL, 0, 0, count_cb, &c, NULL, &err) == 0 ? 200 : -1;
  tap_ok (st == 200 && c.values == 1, "%s: events: the callback stops after 1 value, success", label);
  json_object *v = NULL;
  tap_is_int (engine_get (e, "/version", &v, &err), 0, "%s: ... and the handle goes on", label);
  json_object_put (v);
  itm_err_clear (&err);
  engine_close (e);
}

static void
test_streams (void)
{
  struct fake f = fake_start (NULL);
  streams ("whole", &f);
  fake_stop (&f);
  f = fake_start ("--mode", "chunked", "--slice", "3", NULL);
  streams ("chunked by 3", &f);
  fake_stop (&f);
  f = fake_start ("--slice", "5", NULL);
  streams ("slices of 5", &f);
  fake_stop (&f);

  /* a stream cut off mid-value */
  f = fake_start ("--mode", "close", "--fault", "images_create", NULL);
  struct engine *e = open_host (f.host, 0);
  struct itm_err err = { 0 };
  struct counter c = { 0 };
  engine_negotiate (e, &err);
  struct engine_call pull = { .method = "POST", .path = "/images/create?fromImage=x",
                              .on_json = count_cb, .ctx = &c };
  long st = engine_call (e, &pull, NULL, &err);
  tap_ok (st < 0 && err.code == ITM_EXIT_ENGINE && err.msg && strstr (err.msg, "mid-response"),
          "a stream closed mid-response: %s", err.msg ? err.msg : "(none)");
  tap_ok (c.values > 0 && c.values < 12, "... the values before it arrived (%zu)", c.values);
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);
}

/* ---- bad engines ---- */

static void
bad_engine (const char *label, const char *mode, const char *fault, long timeout_ms, int want_code,
            const char *want_text, double max_s)
{
  struct fake f = fault ? fake_start ("--mode", mode, "--fault", fault, NULL)
                        : fake_start ("--mode", mode, NULL);
  struct engine *e = open_host (f.host, timeout_ms);
  struct itm_err err = { 0 };
  json_object *v = NULL;
  double t0 = now ();
  int r = engine_negotiate (e, &err);
  if (r == 0)
    r = engine_get (e, "/version", &v, &err);
  double dt = now () - t0;
  tap_ok (r < 0 && err.code == want_code, "%s: code %d (want %d)", label, err.code, want_code);
  tap_ok (err.msg && strstr (err.msg, want_text) && strstr (err.msg, f.sock)
            && strchr (err.msg, '\n') == NULL,
          "%s: one line naming the endpoint: %s", label, err.msg ? err.msg : "(none)");
  tap_ok (dt < max_s, "%s: within %.1f s (%.2f s)", label, max_s, dt);
  json_object_put (v);
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);
}

static atomic_int cancel_flag;

static void *
cancel_later (void *arg)
{
  usleep (300000);
  cancel_flag = 1;
  engine_cancel_wake ();   /* the setter of a cancel flag wakes the waiters */
  return NULL;
}

static void
test_bad (void)
{
  bad_engine ("garbage", "garbage", NULL, 0, ITM_EXIT_ENGINE, "not HTTP", 5);
  bad_engine ("garbage on /version", "garbage", "version", 0, ITM_EXIT_ENGINE, "not HTTP", 5);
  bad_engine ("closed mid-response", "close", "version", 0, ITM_EXIT_ENGINE,
              "closed the connection mid-response", 5);
  bad_engine ("closed mid-response, chunked", "close", NULL, 0, ITM_EXIT_ENGINE,
              "closed the connection", 5);
  bad_engine ("closed without a byte", "empty", NULL, 0, ITM_EXIT_ENGINE, "without answering", 5);
  bad_engine ("hangs", "hang", NULL, 1000, ITM_EXIT_CONNECT, "did not answer", 3);
  bad_engine ("hangs on /version", "hang", "version", 800, ITM_EXIT_CONNECT, "did not answer", 3);

  /* cancel ends a silent stream promptly, as success */
  struct fake f = fake_start ("--mode", "hang", "--fault", "events", NULL);
  struct engine *e = open_host (f.host, 0);
  struct itm_err err = { 0 };
  struct counter c = { 0 };
  pthread_t t;
  engine_negotiate (e, &err);
  cancel_flag = 0;
  pthread_create (&t, NULL, cancel_later, NULL);
  double t0 = now ();
  int r = engine_events (e, NULL, 0, 0, count_cb, &c, &cancel_flag, &err);
  double dt = now () - t0;
  pthread_join (t, NULL);
  tap_ok (r == 0 && !itm_err_isset (&err), "cancel: a silent /events ends as success (%s)",
          err.msg ? err.msg : "ok");
  tap_ok (dt > 0.25 && dt < 0.8, "... promptly (%.2f s after the start, cancelled at 0.3 s)", dt);
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);

  /* nothing there */
  char *missing = xasprintf ("unix://%s/no-such.sock", tmpdir);
  e = open_host (missing, 0);
  r = engine_negotiate (e, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_CONNECT && strstr (err.msg, "no such socket")
            && strstr (err.msg, "no-such.sock") && err.hint && strstr (err.hint, "engine running"),
          "a missing socket: %s / %s", err.msg, err.hint ? err.hint : "");
  itm_err_clear (&err);
  engine_close (e);
  free (missing);

  /* a socket file nobody listens on: the fake killed hard leaves one */
  f = fake_start (NULL);
  kill (f.pid, SIGKILL);
  waitpid (f.pid, NULL, 0);
  f.pid = 0;
  e = open_host (f.host, 0);
  r = engine_negotiate (e, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_CONNECT && strstr (err.msg, "nothing is listening"),
          "a dead socket: %s", err.msg);
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);

  /* a socket without permission (only meaningful when not root) */
  if (geteuid () != 0)
    {
      f = fake_start (NULL);
      chmod (f.sock, 0);
      e = open_host (f.host, 0);
      r = engine_negotiate (e, &err);
      tap_ok (r < 0 && err.code == ITM_EXIT_CONNECT && strstr (err.msg, "permission denied")
                && err.hint && strstr (err.hint, "docker group"),
              "a socket without permission: %s", err.msg);
      itm_err_clear (&err);
      engine_close (e);
      fake_stop (&f);
    }
  else
    tap_ok (1, "# SKIP a socket without permission: running as root");
}

/* ---- configuration ---- */

static void
config_case (const char *host, const char *env, int want_code, const char *want_endpoint)
{
  struct engine_config cfg = { .host = host };
  struct itm_err err = { 0 };
  if (env)
    setenv ("DOCKER_HOST", env, 1);
  else
    unsetenv ("DOCKER_HOST");
  struct engine *e = engine_open (&cfg, &err);
  if (want_code)
    tap_ok (e == NULL && err.code == want_code && err.msg
              && strstr (err.msg, host ? host : env),
            "address '%s': refused, naming it: %s", host ? host : env, err.msg ? err.msg : "");
  else
    tap_is_str (e ? engine_endpoint (e) : NULL, want_endpoint, "address '%s' (env '%s')",
                host ? host : "", env ? env : "");
  itm_err_clear (&err);
  engine_close (e);
}

static void
test_config (void)
{
  unsetenv ("DOCKER_TLS_VERIFY");
  config_case (NULL, NULL, 0, "unix:///var/run/docker.sock");
  config_case (NULL, "unix:///run/x.sock", 0, "unix:///run/x.sock");
  config_case ("unix:///run/y.sock", "unix:///run/x.sock", 0, "unix:///run/y.sock");
  config_case ("tcp://127.0.0.1:2375", NULL, 0, "tcp://127.0.0.1:2375");
  config_case ("tcp://localhost", NULL, 0, "tcp://localhost:2375");
  config_case ("tcp://[::1]:2375/", NULL, 0, "tcp://[::1]:2375");
  config_case ("ssh://me@host", NULL, 0, "ssh://me@host");
  config_case ("ssh://me@host/path", NULL, ITM_EXIT_USAGE, NULL);
  config_case ("npipe:////./pipe/docker_engine", NULL, ITM_EXIT_USAGE, NULL);
  config_case (NULL, "fd://", ITM_EXIT_USAGE, NULL);
  config_case ("/var/run/docker.sock", NULL, ITM_EXIT_USAGE, NULL);
  config_case ("tcp://127.0.0.1:99999", NULL, ITM_EXIT_USAGE, NULL);
  config_case ("tcp://127.0.0.1:80/path", NULL, ITM_EXIT_USAGE, NULL);
  config_case ("tcp://", NULL, ITM_EXIT_USAGE, NULL);
  config_case ("unix://", NULL, ITM_EXIT_USAGE, NULL);
  setenv ("DOCKER_TLS_VERIFY", "1", 1);
  config_case ("tcp://127.0.0.1", NULL, 0, "tcp://127.0.0.1:2376 (TLS)");
  unsetenv ("DOCKER_TLS_VERIFY");
  unsetenv ("DOCKER_HOST");

  struct itm_err err = { 0 };
  struct engine_config cfg = { .host = "unix:///x" };
  setenv ("ITM_ENV_REQUEST_TIMEOUT", "soon", 1);
  struct engine *e = engine_open (&cfg, &err);
  tap_ok (e == NULL && err.code == ITM_EXIT_USAGE && strstr (err.msg, "ITM_ENV_REQUEST_TIMEOUT"),
          "a bad ITM_ENV_REQUEST_TIMEOUT: %s", err.msg ? err.msg : "");
  itm_err_clear (&err);
  unsetenv ("ITM_ENV_REQUEST_TIMEOUT");

  /* ITM_ENV_REQUEST_TIMEOUT shortens a hang */
  struct fake f = fake_start ("--mode", "hang", NULL);
  setenv ("ITM_ENV_REQUEST_TIMEOUT", "0.5", 1);
  cfg.host = f.host;
  e = engine_open (&cfg, &err);
  double t0 = now ();
  int r = engine_negotiate (e, &err);
  double dt = now () - t0;
  tap_ok (r < 0 && err.code == ITM_EXIT_CONNECT && dt < 2, "ITM_ENV_REQUEST_TIMEOUT=0.5: %.2f s",
          dt);
  unsetenv ("ITM_ENV_REQUEST_TIMEOUT");
  itm_err_clear (&err);
  engine_close (e);
  fake_stop (&f);

  char *u = engine_urlencode ("a b/c=d&é~");
  tap_is_str (u, "a%20b%2Fc%3Dd%26%C3%A9~", "engine_urlencode");
  free (u);
  const char *vals[] = { "io.itm-env.namespace=ns1", "x" };
  u = engine_filters ("label", vals, 2);
  tap_is_str (u, "%7B%22label%22%3A%5B%22io.itm-env.namespace%3Dns1%22%2C%22x%22%5D%7D",
              "engine_filters");
  free (u);
}

/* ---- over TCP, and in parallel ---- */

static int
par_job (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  json_object *v = NULL;
  char *path = xasprintf (i % 5 == 3 ? "/containers/x/json" : "/containers/json?i=%zu", i);
  int r = engine_get (e, path, &v, err);
  free (path);
  json_object_put (v);
  return r;
}

static void
test_tcp_parallel (void)
{
  int port = 20000 + (int) (getpid () % 20000);
  char ports[16], *host;
  snprintf (ports, sizeof ports, "%d", port);
  struct fake f = fake_start ("--tcp", ports, "--fork", NULL);
  host = xasprintf ("tcp://127.0.0.1:%d", port);
  struct engine *e = open_host (host, 0);
  struct itm_err err = { 0 };
  json_object *v = NULL;
  int r = engine_negotiate (e, &err);
  if (r == 0)
    r = engine_get (e, "/containers/json", &v, &err);
  tap_ok (r == 0 && json_object_array_length (v) == 2, "over tcp://: negotiated, GET (%s)",
          err.msg ? err.msg : "ok");
  json_object_put (v);
  itm_err_clear (&err);

  struct itm_err errs[10] = { 0 };
  r = engine_parallel (e, 10, 4, par_job, NULL, errs, &err);
  tap_ok (r < 0 && err.http_status == 404, "engine_parallel: fails with the first failure (%s)",
          err.msg ? err.msg : "none");
  int good = 1;
  for (int i = 0; i < 10; i++)
    {
      good &= (i % 5 == 3) == (errs[i].code == ITM_EXIT_NOT_FOUND);
      itm_err_clear (&errs[i]);
    }
  tap_ok (good, "... every job's own error in errs[]");
  itm_err_clear (&err);
  engine_close (e);
  free (host);
  fake_stop (&f);
}

int
main (void)
{
  const char *b = getenv ("ITM_BUILDDIR"), *s = getenv ("ITM_SRCDIR");
  fake_bin = xasprintf ("%s/tests/fake-engine", b ? b : ".");
  recorded = xasprintf ("%s/tests/recorded/http", s ? s : "..");
  if (access (fake_bin, X_OK) < 0 || mkdtemp (tmpdir) == NULL)
    {
      printf ("Bail out! no %s or no temporary directory\n", fake_bin);
      return 99;
    }
  unsetenv ("ITM_ENV_REQUEST_TIMEOUT");
  unsetenv ("ITM_ENV_CONNECT_TIMEOUT");
  unsetenv ("DOCKER_HOST");
  signal (SIGPIPE, SIG_IGN);

  test_negotiation ();
  test_json ();
  test_streams ();
  test_bad ();
  test_config ();
  test_tcp_parallel ();

  /* the same calls, answers and failures through light handles */
  tap_diag ("light handles (engine/uds.c)");
  light = true;
  test_negotiation ();
  test_json ();
  test_bad ();
  light = false;

  rmdir (tmpdir);
  free (fake_bin);
  free (recorded);
  return tap_done ();
}
