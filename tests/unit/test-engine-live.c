/* test-engine-live.c - the engine client against the real engine
 * (DOCKER_HOST or the default socket): negotiation, /info, a labelled
 * network's life, a 404, /events with cancel, multiplexed logs of a real
 * container, engine_parallel, and `itm-env doctor`.  Everything it creates
 * carries io.itm-env.namespace=<unique>; it removes all of it and fails when
 * anything is left.  Skipped (TAP "1..0 # SKIP") when no engine answers. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "tap.h"
#include "util/xalloc.h"

#define IMAGE "itm-fixture/busybox:latest"

static char ns[64], label[128];

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *
jstr (json_object *o, const char *key)
{
  json_object *v;
  return o && json_object_object_get_ex (o, key, &v) ? json_object_get_string (v) : NULL;
}

static json_object *
labels (void)
{
  json_object *l = json_object_new_object ();
  json_object_object_add (l, "io.itm-env.namespace", json_object_new_string (ns));
  return l;
}

static char *
create_network (struct engine *e, const char *name, struct itm_err *err)
{
  json_object *body = json_object_new_object (), *out = NULL;
  json_object_object_add (body, "Name", json_object_new_string (name));
  json_object_object_add (body, "Labels", labels ());
  int r = engine_post (e, "/networks/create", body, &out, err);
  json_object_put (body);
  char *id = r == 0 && jstr (out, "Id") ? xstrdup (jstr (out, "Id")) : NULL;
  json_object_put (out);
  return id;
}

/* ---- /events in a thread ---- */

struct watch {
  struct engine *e;
  const char *name;
  atomic_int cancel;
  volatile int seen;
  int rc;
  double ended;
  struct itm_err err;
};

static int
watch_cb (json_object *ev, void *ctx)
{
  struct watch *w = ctx;
  json_object *actor, *attrs;
  if (json_object_object_get_ex (ev, "Actor", &actor)
      && json_object_object_get_ex (actor, "Attributes", &attrs) && jstr (attrs, "name")
      && strcmp (jstr (attrs, "name"), w->name) == 0 && jstr (ev, "Action")
      && strcmp (jstr (ev, "Action"), "create") == 0)
    w->seen = 1;
  return 0; /* go on until cancelled */
}

static void *
watch_thread (void *arg)
{
  struct watch *w = arg;
  json_object *f = json_object_new_object ();
  json_object *t = json_object_new_array (), *n = json_object_new_array ();
  json_object_array_add (t, json_object_new_string ("network"));
  json_object_array_add (n, json_object_new_string (w->name));
  json_object_object_add (f, "type", t);
  /* network events carry the name and type, not the labels: filter on the
   * name of our labelled network */
  json_object_object_add (f, "network", n);
  w->rc = engine_events (w->e, f, (long long) time (NULL) - 2, 0, watch_cb, w, &w->cancel, &w->err);
  w->ended = now ();
  json_object_put (f);
  return NULL;
}

/* ---- parallel jobs: a network each ---- */

static int
par_job (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  char *name = xasprintf ("%s-par%zu", ns, i);
  char *id = create_network (e, name, err);
  int r = -1;
  if (id)
    {
      char *path = xasprintf ("/networks/%s", id);
      json_object *v = NULL;
      if (engine_get (e, path, &v, err) == 0 && jstr (v, "Name") && strcmp (jstr (v, "Name"), name) == 0)
        r = engine_delete (e, path, err);
      else if (!itm_err_isset (err))
        itm_err_set (err, ITM_EXIT_FAILURE, "network %s inspected wrong", name);
      json_object_put (v);
      free (path);
    }
  free (id);
  free (name);
  return r;
}

/* ---- mux logs from a real container ---- */

static int
logs_cb (int stream, const char *data, size_t len, void *ctx)
{
  struct buf *b = ctx;
  if (stream == 1 || stream == 2)
    buf_add (&b[stream - 1], data, len);
  return 0;
}

static bool
have_image (struct engine *e, const char *name)
{
  char *path = xasprintf ("/images/%s/json", name);
  json_object *v = NULL;
  struct itm_err err = { 0 };
  int r = engine_get (e, path, &v, &err);
  json_object_put (v);
  itm_err_clear (&err);
  free (path);
  return r == 0;
}

static void
test_logs (struct engine *e)
{
  struct itm_err err = { 0 };
  if (!have_image (e, IMAGE))
    {
      tap_ok (1, "# SKIP multiplexed logs: no %s yet", IMAGE);
      return;
    }
  json_object *body = json_object_new_object (), *cmd = json_object_new_array (), *out = NULL;
  json_object_array_add (cmd, json_object_new_string ("sh"));
  json_object_array_add (cmd, json_object_new_string ("-c"));
  json_object_array_add (cmd, json_object_new_string ("echo to-stdout; echo to-stderr >&2; "
                                                      "head -c 100000 /dev/zero"));
  json_object_object_add (body, "Image", json_object_new_string (IMAGE));
  json_object_object_add (body, "Cmd", cmd);
  json_object_object_add (body, "Labels", labels ());
  json_object *hc = json_object_new_object ();
  json_object_object_add (hc, "NetworkMode", json_object_new_string ("none"));
  json_object_object_add (body, "HostConfig", hc);
  char *path = xasprintf ("/containers/create?name=%s-logs", ns);
  int r = engine_post (e, path, body, &out, &err);
  free (path);
  json_object_put (body);
  char *id = r == 0 && jstr (out, "Id") ? xstrdup (jstr (out, "Id")) : NULL;
  json_object_put (out);
  out = NULL;
  tap_ok (id != NULL, "created a container (%s)", err.msg ? err.msg : "ok");
  if (id == NULL)
    {
      itm_err_clear (&err);
      return;
    }
  path = xasprintf ("/containers/%s/start", id);
  r = engine_post (e, path, NULL, NULL, &err);
  free (path);
  path = xasprintf ("/containers/%s/wait", id);
  if (r == 0)
    r = engine_post (e, path, NULL, &out, &err);
  free (path);
  json_object *code = NULL;
  tap_ok (r == 0 && out && json_object_object_get_ex (out, "StatusCode", &code)
            && json_object_get_int (code) == 0,
          "started it and waited for exit 0 (%s)", err.msg ? err.msg : "ok");
  json_object_put (out);
  itm_err_clear (&err);

  struct buf b[2] = { { 0 } };
  path = xasprintf ("/containers/%s/logs?stdout=1&stderr=1", id);
  struct engine_call c = { .method = "GET", .path = path, .on_frame = logs_cb, .ctx = b };
  long st = engine_call (e, &c, NULL, &err);
  free (path);
  tap_ok (st == 200 && b[0].len == 10 + 100000 && memcmp (b[0].data, "to-stdout\n", 10) == 0
            && b[1].len == 10 && memcmp (b[1].data, "to-stderr\n", 10) == 0,
          "multiplexed logs: %zu stdout bytes, %zu stderr bytes (%s)", b[0].len, b[1].len,
          err.msg ? err.msg : "ok");
  buf_free (&b[0]);
  buf_free (&b[1]);
  itm_err_clear (&err);

  path = xasprintf ("/containers/%s?force=1&v=1", id);
  tap_is_int (engine_delete (e, path, &err), 0, "removed the container");
  free (path);
  itm_err_clear (&err);
  free (id);
}

static size_t
leftovers (struct engine *e, bool remove)
{
  const char *vals[] = { label };
  char *f = engine_filters ("label", vals, 1);
  const char *kinds[][3] = { { "/containers/json?all=1&filters=", "/containers/", "?force=1&v=1" },
                             { "/networks?filters=", "/networks/", "" },
                             { "/volumes?filters=", "/volumes/", "?force=1" } };
  size_t n = 0;
  for (size_t k = 0; k < 3; k++)
    {
      char *path = xasprintf ("%s%s", kinds[k][0], f);
      json_object *v = NULL, *list = NULL;
      struct itm_err err = { 0 };
      if (engine_get (e, path, &v, &err) == 0)
        {
          list = v;
          if (k == 2 && !json_object_object_get_ex (v, "Volumes", &list))
            list = NULL;
          size_t len = list && json_object_is_type (list, json_type_array)
                         ? json_object_array_length (list) : 0;
          for (size_t i = 0; i < len; i++)
            {
              json_object *it = json_object_array_get_idx (list, i);
              const char *id = jstr (it, k == 2 ? "Name" : "Id");
              n++;
              if (remove && id)
                {
                  char *dp = xasprintf ("%s%s%s", kinds[k][1], id, kinds[k][2]);
                  struct itm_err e2 = { 0 };
                  engine_delete (e, dp, &e2);
                  itm_err_clear (&e2);
                  free (dp);
                }
            }
        }
      else
        n++;
      json_object_put (v);
      itm_err_clear (&err);
      free (path);
    }
  free (f);
  return n;
}

int
main (void)
{
  struct itm_err err = { 0 };
  struct engine_config cfg = { 0 };
  int r;
  struct engine *e = engine_open (&cfg, &err);
  if (e == NULL || engine_negotiate (e, &err) < 0)
    {
      printf ("1..0 # SKIP no engine: %s\n", err.msg ? err.msg : "?");
      return 0;
    }
  unsigned rnd = 0;
  if (getrandom (&rnd, sizeof rnd, 0) != sizeof rnd)
    rnd = (unsigned) time (NULL);
  snprintf (ns, sizeof ns, "enginetest-%ld-%08x", (long) getpid (), rnd);
  snprintf (label, sizeof label, "io.itm-env.namespace=%s", ns);
  tap_diag ("namespace %s on %s", ns, engine_endpoint (e));

  tap_ok (engine_api_version (e) && engine_api_cmp (e, ENGINE_API_MIN) >= 0
            && engine_api_cmp (e, ENGINE_API_MAX) <= 0,
          "negotiated API %s (engine %s)", engine_api_version (e), engine_server_api_version (e));

  json_object *info = NULL;
  r = engine_get (e, "/info", &info, &err);
  tap_ok (r == 0 && jstr (info, "Driver"),
          "GET /info: storage driver %s", jstr (info, "Driver") ? jstr (info, "Driver") : "?");
  json_object_put (info);

  /* /events watches while a labelled network lives and dies */
  char *netname = xasprintf ("%s-net", ns);
  struct watch w = { .e = engine_dup (e), .name = netname };
  pthread_t t;
  pthread_create (&t, NULL, watch_thread, &w);
  usleep (200000);
  char *id = create_network (e, netname, &err);
  tap_ok (id != NULL, "created network %s (%s)", netname, err.msg ? err.msg : "ok");
  itm_err_clear (&err);
  json_object *v = NULL, *l = NULL;
  char *path = xasprintf ("/networks/%s", id ? id : netname);
  r = engine_get (e, path, &v, &err);
  tap_ok (r == 0 && json_object_object_get_ex (v, "Labels", &l) && jstr (l, "io.itm-env.namespace")
            && strcmp (jstr (l, "io.itm-env.namespace"), ns) == 0,
          "inspected it: labelled");
  json_object_put (v);
  v = NULL;
  tap_is_int (engine_delete (e, path, &err), 0, "removed it");
  r = engine_get (e, path, &v, &err);
  tap_ok (r < 0 && err.http_status == 404 && err.code == ITM_EXIT_NOT_FOUND && err.engine_msg
            && strstr (err.engine_msg, "not found"),
          "gone: 404 with the engine's message: %s", err.engine_msg ? err.engine_msg : "(none)");
  itm_err_clear (&err);
  free (path);

  for (int i = 0; i < 100 && !w.seen; i++)
    usleep (50000);
  tap_ok (w.seen, "/events saw the network's create event for our label");
  double t0 = now ();
  w.cancel = 1;
  engine_cancel_wake ();
  pthread_join (t, NULL);
  tap_ok (w.rc == 0 && w.ended - t0 < 1.0, "cancel ended the stream in %.2f s, as success (%s)",
          w.ended - t0, w.err.msg ? w.err.msg : "ok");
  itm_err_clear (&w.err);
  engine_close (w.e);
  free (id);

  /* a 404 keeps status and message */
  path = xasprintf ("/containers/%s-nope/json", ns);
  r = engine_get (e, path, &v, &err);
  char *want = xasprintf ("No such container: %s-nope", ns);
  tap_ok (r < 0 && err.http_status == 404 && err.engine_msg && strcmp (err.engine_msg, want) == 0,
          "GET a missing container: %s", err.msg ? err.msg : "(none)");
  free (want);
  free (path);
  itm_err_clear (&err);

  /* 8 jobs in parallel, each its own network */
  struct itm_err errs[8] = { { 0 } };
  t0 = now ();
  r = engine_parallel (e, 8, 4, par_job, NULL, errs, &err);
  tap_ok (r == 0, "engine_parallel: 8 networks created, inspected, removed in %.2f s (%s)",
          now () - t0, err.msg ? err.msg : "ok");
  for (int i = 0; i < 8; i++)
    itm_err_clear (&errs[i]);
  itm_err_clear (&err);

  test_logs (e);

  /* itm-env doctor on this engine */
  const char *itm = getenv ("ITM_ENV");
  if (itm == NULL)
    tap_ok (0, "ITM_ENV is not set");
  else
    {
      char *cmd = xasprintf ("'%s' doctor >/dev/null", itm);
      int st = system (cmd);
      tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == 0, "itm-env doctor: exit %d",
              WIFEXITED (st) ? WEXITSTATUS (st) : -1);
      free (cmd);
    }

  size_t left = leftovers (e, true);
  tap_is_int (left, 0, "nothing left with label %s", label);
  if (left)
    leftovers (e, true);
  free (netname);
  engine_close (e);
  return tap_done ();
}
