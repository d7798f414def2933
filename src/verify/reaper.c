/* reaper.c - crash safety that outlives a job container.
 *
 * When itm-env runs in a container (a CI job's), its watchdog process
 * (watchdog.c) dies with that container: a cancelled job whose container
 * is removed would leak the namespace.  So, next to the watchdog, itm-env
 * starts a small container on the engine from its own image (image_self:
 * nothing to pull): `itm-env gc --reaper NS --reaper-watch CONTAINER`,
 * with the engine's socket mounted and no network.  The reaper follows the
 * watched container (the one itm-env runs in) through the engine's event
 * stream and, when it dies or is removed, removes the namespace with the
 * watchdog's clean-up (watchdog_clean: the same <= 30 s goal) and exits;
 * the engine removes the reaper (AutoRemove).  When itm-env is done (the
 * watchdog released) it removes the reaper itself, as does the process
 * watchdog after it cleaned.  The reaper is named itm-env-reaper-NS and
 * labelled VERIFY_REAPER_LABEL=NS, not with the namespace's own label: it is not
 * part of what down removes or verify counts. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/self.h"
#include "image/image.h"
#include "out/out.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "verify/verify.h"

/* ITM_ENV_REAPER: "never", "always", else NULL (auto: when itm-env runs
 * in a container the engine runs, src/engine/self.h). */
static const char *
reaper_mode (void)
{
  const char *m = getenv ("ITM_ENV_REAPER");
  return m && (strcmp (m, "never") == 0 || strcmp (m, "always") == 0) ? m : NULL;
}

bool
reaper_wanted (void)
{
  const char *m = reaper_mode ();
  if (m)
    return strcmp (m, "always") == 0;
  return access ("/.dockerenv", F_OK) == 0 || access ("/run/.containerenv", F_OK) == 0;
}

/* The engine's unix socket path (from the endpoint "unix:///path ..."),
 * or NULL for a TCP engine. */
static char *
socket_path (struct engine *e)
{
  const char *ep = engine_endpoint (e);
  if (strncmp (ep, "unix://", 7) != 0)
    return NULL;
  char *s = xstrdup (ep + 7);
  char *sp = strchr (s, ' ');
  if (sp)
    *sp = '\0';
  return s;
}

static char *
reaper_name (const char *ns)
{
  return xasprintf ("itm-env-reaper-%s", ns);
}

void
reaper_remove (struct engine *e, const char *ns)
{
  if (e == NULL || ns == NULL)
    return;
  cleanup_free char *name = reaper_name (ns);
  cleanup_free char *path = xasprintf ("/containers/%s?force=1", name);
  struct itm_err err = { 0 };
  engine_delete (e, path, &err);
  itm_err_clear (&err);
}

int
reaper_start (struct engine *e, const char *ns)
{
  if (!reaper_wanted ())
    return 0;
  cleanup_free char *sock = socket_path (e);
  if (sock == NULL)
    {
      out_note ("no reaper container for namespace %s: the engine is not a unix socket", ns);
      return 0;
    }
  /* the container to watch: this one, when the engine runs it (the same
   * detection that joins networks and maps paths; a host's mountinfo can
   * name other containers' mounts, so nothing is guessed here) */
  const struct self *me = self_probe (e);
  const char *cid = me->on_engine ? me->id : NULL;
  cleanup_err struct itm_err err = { 0 };
  if (cid == NULL)
    {
      if (reaper_mode () != NULL)
        out_warn ("no reaper container for namespace %s: this process runs in no container "
                  "the engine at %s runs (the watchdog process still guards it)", ns, sock);
      return 0;
    }
  cleanup_free char *image = NULL;
  if (image_self (e, &image, &err) < 0)
    {
      out_warn ("no reaper container for namespace %s: %s", ns, err.msg);
      return -1;
    }
  cleanup_free char *hsock = self_host_path (me, sock);
  if (hsock == NULL)
    hsock = xstrdup (sock);
  cleanup_free char *name = reaper_name (ns);
  cleanup_json json_object *body = json_object_new_object ();
  json_object_object_add (body, "Image", json_object_new_string (image));
  json_object *cmd = json_object_new_array ();
  const char *argv[] = { "-H", "unix:///var/run/docker.sock", "gc", "--reaper", ns,
                         "--reaper-watch", cid };
  for (size_t i = 0; i < sizeof argv / sizeof *argv; i++)
    json_object_array_add (cmd, json_object_new_string (argv[i]));
  json_object_object_add (body, "Cmd", cmd);
  json_object *labels = json_object_new_object ();
  json_object_object_add (labels, VERIFY_REAPER_LABEL, json_object_new_string (ns));
  json_object_object_add (body, "Labels", labels);
  json_object *hc = json_object_new_object ();
  json_object *binds = json_object_new_array ();
  cleanup_free char *bind = xasprintf ("%s:/var/run/docker.sock", hsock);
  json_object_array_add (binds, json_object_new_string (bind));
  json_object_object_add (hc, "Binds", binds);
  json_object_object_add (hc, "AutoRemove", json_object_new_boolean (true));
  json_object_object_add (hc, "NetworkMode", json_object_new_string ("none"));
  json_object_object_add (body, "HostConfig", hc);
  cleanup_free char *path = xasprintf ("/containers/create?name=%s", name);
  cleanup_json json_object *res = NULL;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      itm_err_clear (&err);
      if (engine_post (e, path, body, &res, &err) == 0)
        break;
      /* a reaper of an earlier run of this namespace: replaced */
      reaper_remove (e, ns);
    }
  const char *rid = res ? json_str (res, "Id") : NULL;
  cleanup_free char *sp = rid ? xasprintf ("/containers/%s/start", rid) : NULL;
  if (rid == NULL || engine_post (e, sp, NULL, NULL, &err) < 0)
    {
      out_warn ("no reaper container for namespace %s: %s", ns,
                err.msg ? err.msg : "create failed");
      reaper_remove (e, ns);
      return -1;
    }
  out_note ("reaper container %s watches container %.12s for namespace %s", name, cid, ns);
  return 1;
}

struct reaper_watch {
  bool gone;
};

static int
on_event (json_object *v, void *vctx)
{
  struct reaper_watch *w = vctx;
  const char *a = json_str (v, "Action");
  if (a == NULL)
    a = json_str (v, "status");
  if (a && (strcmp (a, "die") == 0 || strcmp (a, "destroy") == 0))
    {
      w->gone = true;
      return 1;
    }
  return 0;
}

/* 1 when the watched container is gone or not running, 0 when it runs,
 * -1 when the engine cannot be asked. */
static int
watched_gone (struct engine *e, const char *watch)
{
  cleanup_free char *p = xasprintf ("/containers/%s/json", watch);
  cleanup_json json_object *c = NULL;
  struct itm_err err = { 0 };
  if (engine_get (e, p, &c, &err) < 0)
    {
      int r = err.code == ITM_EXIT_NOT_FOUND ? 1 : -1;
      itm_err_clear (&err);
      return r;
    }
  json_object *run = json_path (c, "State.Running");
  return run && json_object_get_boolean (run) ? 0 : 1;
}

static void
stamp (char buf[32])
{
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
reaper_main (struct engine *e, const char *ns, const char *watch, struct itm_err *err)
{
  char t[32];
  stamp (t);
  fprintf (stderr, "%s reaper: watching container %.12s for namespace %s\n", t, watch, ns);
  for (;;)
    {
      long since = (long) time (NULL) - 2;
      int g = watched_gone (e, watch);
      if (g > 0)
        break;
      if (g == 0)
        {
          cleanup_json json_object *f = json_object_new_object ();
          json_object *a = json_object_new_array ();
          json_object_array_add (a, json_object_new_string ("container"));
          json_object_object_add (f, "type", a);
          a = json_object_new_array ();
          json_object_array_add (a, json_object_new_string (watch));
          json_object_object_add (f, "container", a);
          a = json_object_new_array ();
          json_object_array_add (a, json_object_new_string ("die"));
          json_object_array_add (a, json_object_new_string ("destroy"));
          json_object_object_add (f, "event", a);
          cleanup_free char *ef = engine_urlencode (json_object_to_json_string_ext (
              f, JSON_C_TO_STRING_PLAIN));
          cleanup_free char *path = xasprintf ("/events?since=%ld&filters=%s", since, ef);
          struct reaper_watch w = { 0 };
          struct engine_call call = {
            .method = "GET", .path = path, .on_json = on_event, .ctx = &w, .timeout_ms = -1,
          };
          struct itm_err cerr = { 0 };
          engine_call (e, &call, NULL, &cerr);
          itm_err_clear (&cerr);
          if (w.gone)
            break;
        }
      /* the stream ended (an engine restart?) or the engine did not
       * answer: ask again shortly */
      sleep (1);
    }
  stamp (t);
  fprintf (stderr, "%s reaper: container %.12s is gone: removing namespace %s\n", t, watch, ns);
  return watchdog_clean (e, ns, err);
}
