/* snapshot.c - the engine's containers, networks and volumes before up:
 * three list calls, their ids kept in the namespace's state directory. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "verify/verify.h"
#include "util/xalloc.h"

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

int
verify_snapshot_take (struct engine *e, const char *ns, bool replace)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, true, &err);
  if (dir == NULL)
    goto fail;
  cleanup_free char *path = xasprintf ("%s/snapshot.json", dir);
  if (!replace && access (path, F_OK) == 0)
    return 0;
  json_object *cs = NULL, *nets = NULL, *vols = NULL;
  if (engine_get (e, "/containers/json?all=1", &cs, &err) < 0
      || engine_get (e, "/networks", &nets, &err) < 0
      || engine_get (e, "/volumes", &vols, &err) < 0)
    {
      json_object_put (cs);
      json_object_put (nets);
      goto fail;
    }
  json_object *vl = NULL;
  json_object_object_get_ex (vols, "Volumes", &vl);
  char t[32];
  ns_format_time (time (NULL), t);
  json_object *snap = json_object_new_object ();
  json_object_object_add (snap, "taken", json_object_new_string (t));
  json_object_object_add (snap, "containers", ids_of (cs, "Id"));
  json_object_object_add (snap, "networks", ids_of (nets, "Id"));
  json_object_object_add (snap, "volumes", ids_of (vl, "Name"));
  json_object_put (cs);
  json_object_put (nets);
  json_object_put (vols);
  cleanup_free char *tmpp = xasprintf ("%s/.snapshot.%ld", dir, (long) getpid ());
  const char *text = json_object_to_json_string_ext (snap, JSON_C_TO_STRING_PLAIN);
  FILE *f = fopen (tmpp, "w");
  int ok = f && fputs (text, f) >= 0;
  ok = (f && fclose (f) == 0) && ok;
  json_object_put (snap);
  if (!ok || rename (tmpp, path) < 0)
    {
      itm_err_errno (&err, ITM_EXIT_FAILURE, "writing %s", path);
      unlink (tmpp);
      goto fail;
    }
  return 0;
fail:
  fprintf (stderr, "itm-env: warning: no engine snapshot for namespace %s (the verifier will "
                   "not look for suspects): %s\n", ns, err.msg ? err.msg : "?");
  return -1;
}
