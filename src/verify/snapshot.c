/* snapshot.c - the engine's containers, networks and volumes before up:
 * three list calls, their ids kept in the namespace's state directory. */
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

#include "engine/engine.h"
#include "ns/ns.h"
#include "out/out.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "verify/verify.h"

static json_object *
ids_of (json_object *list, const char *key)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; list && i < json_object_array_length (list); i++)
    {
      json_object *id;
      if (json_object_object_get_ex (json_object_array_get_idx (list, i), key, &id))
        json_object_array_add (a, json_object_get (id));
    }
  return a;
}

/* The snapshot of the engine now: {"taken", "containers", "networks",
 * "volumes"} (ids; volumes by name). */
static json_object *
snapshot_now (struct engine *e, struct itm_err *err)
{
  cleanup_json json_object *cs = NULL, *nets = NULL, *vols = NULL;
  if (engine_get (e, "/containers/json?all=1", &cs, err) < 0
      || engine_get (e, "/networks", &nets, err) < 0
      || engine_get (e, "/volumes", &vols, err) < 0)
    return NULL;
  json_object *vl = NULL;
  json_object_object_get_ex (vols, "Volumes", &vl);
  char t[32];
  ns_format_time (time (NULL), t);
  json_object *snap = json_object_new_object ();
  json_object_object_add (snap, "taken", json_object_new_string (t));
  json_object_object_add (snap, "containers", ids_of (cs, "Id"));
  json_object_object_add (snap, "networks", ids_of (nets, "Id"));
  json_object_object_add (snap, "volumes", ids_of (vl, "Name"));
  return snap;
}

/* snap into path, atomically (a temp file in dir renamed). */
static int
snapshot_write (json_object *snap, const char *ns, const char *path, struct itm_err *err)
{
  cleanup_free char *dir = NULL;
  cleanup_close int dfd = ns_state_open (ns, true, &dir, err);
  if (dfd < 0)
    return -1;
  char tmpn[64];
  snprintf (tmpn, sizeof tmpn, ".snapshot.%ld", (long) getpid ());
  unlinkat (dfd, tmpn, 0);
  /* O_EXCL | O_NOFOLLOW: a file of our own, never through a planted link;
   * renameat replaces a link at snapshot.json, never follows it */
  int fd = openat (dfd, tmpn, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const char *text = json_object_to_json_string_ext (snap, JSON_C_TO_STRING_PLAIN);
  size_t len = strlen (text);
  bool ok = fd >= 0 && write (fd, text, len) == (ssize_t) len;
  ok = (fd >= 0 && close (fd) == 0) && ok;
  if (!ok || renameat (dfd, tmpn, dfd, "snapshot.json") < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
      unlinkat (dfd, tmpn, 0);
      return -1;
    }
  return 0;
}

int
verify_snapshot_take (struct engine *e, const char *ns, bool replace)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, true, &err);
  cleanup_free char *path = dir ? xasprintf ("%s/snapshot.json", dir) : NULL;
  struct stat s;
  if (path && !replace && lstat (path, &s) == 0 && S_ISREG (s.st_mode))
    return 0;
  cleanup_json json_object *snap = path ? snapshot_now (e, &err) : NULL;
  if (snap && snapshot_write (snap, ns, path, &err) == 0)
    return 0;
  out_warn ("no engine snapshot for namespace %s (the verifier will not look for suspects): %s",
            ns, err.msg ? err.msg : "?");
  return -1;
}
