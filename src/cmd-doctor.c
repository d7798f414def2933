/* cmd-doctor.c - itm-env doctor [--json]: is this machine ready?
 *
 * Checks, in order, one line each: engine (reachable), api_version,
 * storage_driver, round_trip (a labelled network and a container created
 * from a local image, removed, and confirmed gone), container (where
 * itm-env runs: on a host, or in a container on this engine or not;
 * engine/self.h; information, never a failure).  An unreachable engine
 * fails the first check and skips the rest.  Never pulls an image: with no
 * local image at all the round trip is skipped, which is not a failure (a
 * fresh engine; exit 0 when the other checks pass).
 *
 * --json: {"ok": BOOL, "checks": [{"name", "ok", "skipped", "detail",
 * "hint"}...], "container": {"in_container", "id", "on_engine", "name",
 * "note"}}, the checks in order; "ok" is false when a check failed (a
 * skipped check has "ok": false, "skipped": true). */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "engine/self.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

#define FIXTURE_IMAGE "itm-fixture/busybox:latest"

struct doctor {
  bool json;
  bool all_ok;
  json_object *checks;
  json_object *container;    /* --json's "container" */
};

static void
check (struct doctor *d, const char *name, int state, const char *detail, const char *hint)
{
  /* state: 1 ok, 0 failed, -1 skipped (not a failure by itself: the other
   * skips follow a failed check) */
  json_object *c = json_object_new_object ();
  json_object_object_add (c, "name", json_object_new_string (name));
  json_object_object_add (c, "ok", json_object_new_boolean (state == 1));
  json_object_object_add (c, "skipped", json_object_new_boolean (state < 0));
  json_object_object_add (c, "detail", json_object_new_string (detail ? detail : ""));
  json_object_object_add (c, "hint", hint ? json_object_new_string (hint) : NULL);
  json_object_array_add (d->checks, c);
  if (state == 0)
    d->all_ok = false;
  if (!d->json)
    printf ("%-5s %s: %s%s%s%s\n", state == 1 ? "ok" : state == 0 ? "FAIL" : "skip", name,
            detail ? detail : "", hint ? " (hint: " : "", hint ? hint : "", hint ? ")" : "");
}

static void
check_err (struct doctor *d, const char *name, const struct itm_err *err)
{
  check (d, name, 0, err->msg ? err->msg : "failed", err->hint);
}

/* The image for the round trip: the fixture when present, else the
 * smallest tagged local image.  NULL (and *none) when there is none. */
static char *
pick_image (struct engine *e, struct itm_err *err)
{
  cleanup_json json_object *list = NULL;
  char *best = NULL;
  int64_t best_size = 0;

  if (engine_get (e, "/images/json", &list, err) < 0)
    return NULL;
  size_t n = list && json_object_is_type (list, json_type_array) ? json_object_array_length (list) : 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *img = json_object_array_get_idx (list, i), *tags, *size;
      if (!json_object_object_get_ex (img, "RepoTags", &tags)
          || !json_object_is_type (tags, json_type_array))
        continue;
      int64_t sz = json_object_object_get_ex (img, "Size", &size) ? json_object_get_int64 (size) : 0;
      for (size_t j = 0; j < json_object_array_length (tags); j++)
        {
          const char *tag = json_object_get_string (json_object_array_get_idx (tags, j));
          if (tag == NULL || strcmp (tag, "<none>:<none>") == 0)
            continue;
          if (strcmp (tag, FIXTURE_IMAGE) == 0)
            {
              free (best);
              return xstrdup (FIXTURE_IMAGE);
            }
          if (best == NULL || sz < best_size)
            {
              free (best);
              best = xstrdup (tag);
              best_size = sz;
            }
        }
    }
  return best;
}

/* 1 when GET path says 404, 0 when it still exists, -1 on another error. */
static int
is_gone (struct engine *e, const char *path, struct itm_err *err)
{
  cleanup_err struct itm_err e2 = { 0 };
  cleanup_json json_object *v = NULL;
  if (engine_get (e, path, &v, &e2) == 0)
    return 0;
  if (e2.http_status == 404)
    return 1;
  itm_err_move (err, &e2);
  return -1;
}

static void
round_trip (struct doctor *d, struct engine *e)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *image = NULL, *name = NULL, *label = NULL, *net_id = NULL, *ctr_id = NULL;
  cleanup_free char *path = NULL, *filt = NULL;
  json_object *body = NULL, *out = NULL;
  unsigned rnd = 0;
  bool failed = false;

  image = pick_image (e, &err);
  if (image == NULL)
    {
      if (itm_err_isset (&err))
        check_err (d, "round_trip", &err);
      else
        check (d, "round_trip", -1, "skipped: no local image to create a container from",
               "build or load one (itm-env doctor never pulls), e.g. the test bed's "
               FIXTURE_IMAGE " (tests/fixtures/build.sh)");
      return;
    }
  if (getrandom (&rnd, sizeof rnd, 0) != sizeof rnd)
    rnd = (unsigned) getpid () * 2654435761u;
  name = xasprintf ("doctor-%ld-%08x", (long) getpid (), rnd);
  label = xasprintf ("io.itm-env.namespace=%s", name);

  /* The network. */
  json_object *labels = json_object_new_object ();
  json_object_object_add (labels, "io.itm-env.namespace", json_object_new_string (name));
  json_object_object_add (labels, "io.itm-env.doctor", json_object_new_string ("true"));
  body = json_object_new_object ();
  json_object_object_add (body, "Name", json_object_new_string (name));
  json_object_object_add (body, "CheckDuplicate", json_object_new_boolean (1));
  json_object_object_add (body, "Labels", json_object_get (labels));
  if (engine_post (e, "/networks/create", body, &out, &err) < 0)
    {
      itm_err_prefix (&err, "creating network %s", name);
      goto done;
    }
  net_id = json_str (out, "Id") ? xstrdup (json_str (out, "Id")) : xstrdup (name);
  json_object_put (out);
  out = NULL;
  json_object_put (body);

  /* The container, attached to it, not started. */
  json_object *cmd = json_object_new_array ();
  json_object_array_add (cmd, json_object_new_string ("true"));
  json_object *hc = json_object_new_object ();
  json_object_object_add (hc, "NetworkMode", json_object_new_string (name));
  body = json_object_new_object ();
  json_object_object_add (body, "Image", json_object_new_string (image));
  json_object_object_add (body, "Cmd", cmd);
  json_object_object_add (body, "Labels", json_object_get (labels));
  json_object_object_add (body, "HostConfig", hc);
  free (path);
  path = xasprintf ("/containers/create?name=%s", name);
  if (engine_post (e, path, body, &out, &err) < 0)
    {
      itm_err_prefix (&err, "creating a container from %s", image);
      goto done;
    }
  ctr_id = json_str (out, "Id") ? xstrdup (json_str (out, "Id")) : xstrdup (name);
  json_object_put (out);
  out = NULL;

done:
  failed = itm_err_isset (&err);
  /* Remove both, whatever happened above, and confirm they are gone. */
  {
    cleanup_err struct itm_err cerr = { 0 };
    if (ctr_id)
      {
        free (path);
        path = xasprintf ("/containers/%s?force=1&v=1", ctr_id);
        if (engine_delete (e, path, &cerr) < 0 && !failed)
          {
            itm_err_move (&err, &cerr);
            itm_err_prefix (&err, "removing container %s", name);
          }
        itm_err_clear (&cerr);
      }
    if (net_id)
      {
        free (path);
        path = xasprintf ("/networks/%s", net_id);
        if (engine_delete (e, path, &cerr) < 0 && !itm_err_isset (&err))
          {
            itm_err_move (&err, &cerr);
            itm_err_prefix (&err, "removing network %s", name);
          }
        itm_err_clear (&cerr);
      }
  }
  if (!itm_err_isset (&err) && ctr_id)
    {
      free (path);
      path = xasprintf ("/containers/%s/json", ctr_id);
      int g = is_gone (e, path, &err);
      if (g == 0)
        itm_err_set (&err, ITM_EXIT_LEAK, "container %s is still there after removal", name);
    }
  if (!itm_err_isset (&err) && net_id)
    {
      free (path);
      path = xasprintf ("/networks/%s", net_id);
      int g = is_gone (e, path, &err);
      if (g == 0)
        itm_err_set (&err, ITM_EXIT_LEAK, "network %s is still there after removal", name);
    }
  if (!itm_err_isset (&err))
    {
      /* Nothing left with our label. */
      const char *vals[] = { label };
      filt = engine_filters ("label", vals, 1);
      free (path);
      path = xasprintf ("/containers/json?all=1&filters=%s", filt);
      if (engine_get (e, path, &out, &err) == 0 && json_object_array_length (out) > 0)
        itm_err_set (&err, ITM_EXIT_LEAK, "a container labelled %s is still there", label);
      json_object_put (out);
      out = NULL;
      free (path);
      path = xasprintf ("/networks?filters=%s", filt);
      if (!itm_err_isset (&err) && engine_get (e, path, &out, &err) == 0
          && json_object_array_length (out) > 0)
        itm_err_set (&err, ITM_EXIT_LEAK, "a network labelled %s is still there", label);
      json_object_put (out);
      out = NULL;
    }
  json_object_put (body);
  json_object_put (labels);

  if (itm_err_isset (&err))
    {
      check_err (d, "round_trip", &err);
      return;
    }
  cleanup_free char *detail
    = xasprintf ("created and removed network and container %s (image %s)", name, image);
  check (d, "round_trip", 1, detail, NULL);
}

/* Where itm-env runs (engine/self.h): the "container" check and field. */
static void
where (struct doctor *d, struct engine *e)
{
  const struct self *s = self_probe (e);
  json_object *c = json_object_new_object ();
  json_object_object_add (c, "in_container", json_object_new_boolean (s->in_container));
  json_object_object_add (c, "id", s->id ? json_object_new_string (s->id) : NULL);
  json_object_object_add (c, "on_engine", json_object_new_boolean (s->on_engine));
  json_object_object_add (c, "name", s->name ? json_object_new_string (s->name) : NULL);
  json_object_object_add (c, "note", s->note ? json_object_new_string (s->note) : NULL);
  d->container = c;
  cleanup_free char *detail = NULL;
  if (!s->in_container)
    detail = xstrdup ("not in a container: the variables name the published ports");
  else if (s->on_engine)
    detail = xasprintf ("in container %s (%.12s) on this engine: up joins the namespace's "
                        "networks (--connect auto), bind sources are mapped through its mounts",
                        s->name, s->id);
  else
    detail = xasprintf ("%s: no join, the variables name the published ports", s->note);
  check (d, "container", 1, detail, NULL);
}

static int
doctor_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct doctor d = { .all_ok = true };
  cleanup_err struct itm_err nerr = { 0 }, verr = { 0 }, ierr = { 0 };
  cleanup_free char *detail = NULL, *cdesc = NULL;
  json_object *ver = NULL, *info = NULL;
  int opt, ret = 0;

  const char *arg;
  while ((opt = cmd_getopt (&cmd_doctor, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_JSON)
      {
        d.json = true;
      }
  if (opt < 0)
    return -1;
  if (optind < argc)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "doctor: unexpected argument '%s'", argv[optind]);
      return itm_err_hint (err, "'itm-env help doctor' lists its options");
    }

  /* A bad address is a usage error, not a failed check. */
  struct engine_config cfg = { .host = ctx->host, .context = ctx->context };
  struct engine *e = engine_open (&cfg, err);
  if (e == NULL)
    return -1;
  ctx->engine = e; /* main closes it */
  d.checks = json_object_new_array ();

  if (engine_negotiate (e, &nerr) < 0 && engine_server_api_version (e) == NULL)
    {
      check_err (&d, "engine", &nerr);
      check (&d, "api_version", -1, "skipped (no engine)", NULL);
      check (&d, "storage_driver", -1, "skipped (no engine)", NULL);
      check (&d, "round_trip", -1, "skipped (no engine)", NULL);
      ret = nerr.code ? nerr.code : ITM_EXIT_CONNECT;
      goto out;
    }

  /* Reachable; say which engine. */
  engine_get (e, "/version", &ver, &verr);
  const char *cfrom = NULL, *cname = engine_context_name (e, &cfrom);
  cdesc = cname ? xasprintf (" (docker context %s, from %s)", cname, cfrom) : NULL;
  detail = xasprintf ("%s, engine %s%s", engine_endpoint (e),
                      json_str (ver, "Version") ? json_str (ver, "Version") : "of unknown version",
                      cdesc ? cdesc : "");
  json_object_put (ver);
  check (&d, "engine", 1, detail, NULL);

  if (itm_err_isset (&nerr))
    {
      check_err (&d, "api_version", &nerr);
      check (&d, "storage_driver", -1, "skipped (API version refused)", NULL);
      check (&d, "round_trip", -1, "skipped (API version refused)", NULL);
      ret = ITM_EXIT_FAILURE;
      goto out;
    }
  free (detail);
  detail = xasprintf ("engine speaks %s, using %s (itm-env speaks %s to %s)",
                      engine_server_api_version (e), engine_api_version (e), ENGINE_API_MIN,
                      ENGINE_API_MAX);
  check (&d, "api_version", 1, detail, NULL);

  if (engine_get (e, "/info", &info, &ierr) < 0)
    check_err (&d, "storage_driver", &ierr);
  else
    {
      const char *drv = json_str (info, "Driver");
      free (detail);
      detail = xasprintf ("%s", drv ? drv : "unknown");
      if (drv && strcmp (drv, "vfs") == 0)
        check (&d, "storage_driver", 0, "vfs: every layer is a full copy, slow and disk-hungry",
               "configure overlay2 (\"storage-driver\": \"overlay2\" in /etc/docker/daemon.json)");
      else if (drv == NULL)
        check (&d, "storage_driver", 0, "the engine does not name its storage driver", NULL);
      else
        check (&d, "storage_driver", 1, detail, NULL);
    }
  json_object_put (info);

  round_trip (&d, e);
  where (&d, e);
  ret = d.all_ok ? 0 : ITM_EXIT_FAILURE;

out:
  if (d.json)
    {
      json_object *top = json_object_new_object ();
      json_object_object_add (top, "ok", json_object_new_boolean (d.all_ok));
      json_object_object_add (top, "checks", d.checks);
      if (d.container)
        json_object_object_add (top, "container", d.container);
      print_json (top);
      json_object_put (top);
    }
  else
    {
      json_object_put (d.checks);
      json_object_put (d.container);
    }
  return ret;
}

/* the stack options are accepted (as everywhere) but not shown */
static const struct itm_opt doctor_opts[] = {
  { .group = cmd_stack_opts, .hidden = true },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL,
    "print one JSON object: {\"ok\", \"checks\": [...]}" },
  { OPT_HOST, 'H', "host", OPT_ARG_REQUIRED, "HOST", "engine address (as a global option)" },
  { 0 },
};

const struct itm_cmd cmd_doctor = {
  .name = "doctor",
  .summary = "check that the engine is usable: reachable, API version, storage, a round trip",
  .opts = doctor_opts,
  .fn = doctor_main,
};
