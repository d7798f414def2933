/* ready.c - the readiness itm-env established for a namespace's containers
 * (what up and wait's gates found), kept on this host in the namespace's
 * state directory so that ps can show it: the engine's own health stays
 * "starting" until its first probe, an interval after the start, while
 * itm-env ran the probe itself at once.
 *
 * ns_state_dir(ns)/ready.json, 0600, replaced atomically (a temporary file
 * renamed over it):
 *   {"containers": {"<container id>": {"service": "api", "state": "ready",
 *     "gate": "healthcheck", "time_to_ready_s": 0.412,
 *     "at": "2026-11-23T22:00:00Z", "detail": null}}}
 * Keyed by container id: a recreated container inherits nothing. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ns/ns.h"
#include "state/state.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"

#define READY_FILE "ready.json"
#define READY_MAX (1024 * 1024)

void
state_ready_free (struct state_ready *r)
{
  if (r == NULL)
    return;
  free (r->id);
  free (r->service);
  free (r->state);
  free (r->gate);
  free (r->at);
  free (r->detail);
  free (r);
}

/* The file's "containers" object (a new reference; an empty one when the
 * file is absent, unreadable or not ours). */
static json_object *
ready_read (const char *dir)
{
  cleanup_free char *path = xasprintf ("%s/" READY_FILE, dir);
  cleanup_err struct itm_err err = { 0 };
  json_object *c = NULL;
  if (access (path, F_OK) == 0)
    {
      cleanup_free char *text = file_read (path, READY_MAX, NULL, ITM_EXIT_FAILURE, &err);
      cleanup_json json_object *o = text ? json_tokener_parse (text) : NULL;
      if (o && json_object_object_get_ex (o, "containers", &c)
          && json_object_is_type (c, json_type_object))
        return json_object_get (c);
    }
  return json_object_new_object ();
}

static json_object *
entry_json (const struct state_ready *r)
{
  json_object *e = json_object_new_object ();
  json_object_object_add (e, "service", json_object_new_string (r->service ? r->service : ""));
  json_object_object_add (e, "state", json_object_new_string (r->state ? r->state : "ready"));
  json_object_object_add (e, "gate", r->gate ? json_object_new_string (r->gate) : NULL);
  json_object *t = NULL;
  if (r->ready_ns >= 0)
    {
      char s[32];
      double v = (double) ((r->ready_ns + 500000) / 1000000) / 1e3;
      snprintf (s, sizeof s, "%.3f", v);
      t = json_object_new_double_s (v, s);
    }
  json_object_object_add (e, "time_to_ready_s", t);
  char at[32];
  ns_format_time (time (NULL), at);
  json_object_object_add (e, "at", json_object_new_string (r->at ? r->at : at));
  json_object_object_add (e, "detail", r->detail ? json_object_new_string (r->detail) : NULL);
  return e;
}

/* Merge one record into cs (the "containers" object). */
static void
merge (json_object *cs, const struct state_ready *r)
{
  /* another container of the service (replaced): its record goes */
  const char **drop = xcalloc (json_object_object_length (cs) + 1, sizeof *drop);
  size_t nd = 0;
  json_object_object_foreach (cs, id, e)
    {
      const char *sv = json_str (e, "service");
      if (strcmp (id, r->id) != 0 && sv && r->service && strcmp (sv, r->service) == 0)
        drop[nd++] = id;
    }
  for (size_t i = 0; i < nd; i++)
    json_object_object_del (cs, drop[i]);
  free (drop);
  /* a container kept as it was (no time of its own) keeps what its start
   * established, as of now (ps holds a record older than the container's
   * last start for stale: this gate has just passed again) */
  json_object *old = NULL;
  if (r->ready_ns < 0 && r->state && strcmp (r->state, "ready") == 0
      && json_object_object_get_ex (cs, r->id, &old) && json_str (old, "state")
      && strcmp (json_str (old, "state"), "ready") == 0)
    {
      char at[32];
      ns_format_time (time (NULL), at);
      json_object_object_add (old, "at", json_object_new_string (at));
      return;
    }
  json_object_object_add (cs, r->id, entry_json (r));
}

int
state_ready_save (const char *ns, const struct state_ready *v, size_t n, bool create,
                  struct itm_err *err)
{
  cleanup_free char *dir = ns_state_dir (ns, create, err);
  if (dir == NULL)
    return -1;
  struct stat sb;
  if (!create && (stat (dir, &sb) < 0 || !S_ISDIR (sb.st_mode)))
    return 0; /* not a namespace up made on this host: nothing to keep it with */
  cleanup_json json_object *cs = ready_read (dir);
  for (size_t i = 0; i < n; i++)
    if (v[i].id && *v[i].id)
      merge (cs, &v[i]);
  cleanup_json json_object *top = json_object_new_object ();
  json_object_object_add (top, "containers", json_object_get (cs));
  const char *text = json_object_to_json_string_ext (top, JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_free char *path = xasprintf ("%s/" READY_FILE, dir);
  cleanup_free char *tmp = xasprintf ("%s/.ready.json.XXXXXX", dir);
  int fd = mkostemp (tmp, O_CLOEXEC); /* 0600 */
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "creating %s", tmp);
  size_t len = strlen (text), off = 0;
  while (off < len)
    {
      ssize_t w = write (fd, text + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t) w;
    }
  if (off < len || write (fd, "\n", 1) != 1 || fsync (fd) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", tmp);
      close (fd);
      unlink (tmp);
      return -1;
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "renaming %s to %s", tmp, path);
      unlink (tmp);
      return -1;
    }
  return 0;
}

static char *
dup_or_null (json_object *o, const char *key)
{
  const char *s = json_str (o, key);
  return s ? xstrdup (s) : NULL;
}

/* Whether a gate's record still says something about container c: not
 * when c was started again after it (a restart itm-env did not gate: the
 * record's "at" has whole seconds, so one second of slack), nor when a
 * container that had to keep running (gate running or healthy) has
 * stopped since.  A one-shot job's "completed" holds after its exit. */
static bool
record_holds (const struct state_container *c, json_object *e)
{
  const char *at = json_str (e, "at"), *gate = json_str (e, "gate");
  long long at_ns = at ? state_parse_time (at) : 0;
  if (at_ns > 0 && c->started_at > at_ns + 1000000000LL)
    return false;
  bool running = c->state && (strcmp (c->state, "running") == 0
                              || strcmp (c->state, "paused") == 0);
  if (!running && !(gate && strcmp (gate, "completed") == 0))
    return false;
  return true;
}

void
state_ready_attach (struct state *st)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = st ? ns_state_dir (st->ns, false, &err) : NULL;
  if (dir == NULL)
    return;
  cleanup_json json_object *cs = ready_read (dir);
  for (size_t i = 0; i < st->ncontainers; i++)
    {
      struct state_container *c = &st->containers[i];
      json_object *e = NULL;
      if (c->ready || !json_object_object_get_ex (cs, c->id, &e)
          || !json_object_is_type (e, json_type_object) || json_str (e, "state") == NULL)
        continue;
      if (!record_holds (c, e))
        continue;
      struct state_ready *r = xzalloc (sizeof *r);
      r->id = xstrdup (c->id);
      r->service = dup_or_null (e, "service");
      r->state = dup_or_null (e, "state");
      r->gate = dup_or_null (e, "gate");
      r->at = dup_or_null (e, "at");
      r->detail = dup_or_null (e, "detail");
      json_object *t = json_path (e, "time_to_ready_s");
      r->ready_ns = t && (json_object_is_type (t, json_type_double)
                          || json_object_is_type (t, json_type_int))
                    ? (long long) (json_object_get_double (t) * 1e9 + 0.5)
                    : -1;
      c->ready = r;
    }
}
