/* list.c - the engine's lists of what carries our namespace label: the
 * one query down (every resource of a namespace) and gc (every namespace)
 * make. */
#include <config.h>

#include <json-c/json.h>
#include <string.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"

int
state_list_ours (struct engine *e, const char *kind, const char *ns, json_object **out,
                 struct itm_err *err)
{
  const char *key = ITM_LABEL_NAMESPACE;
  bool containers = strcmp (kind, "containers") == 0;
  const char *what = containers ? "containers/json" : kind;
  cleanup_free char *f = ns ? ns_filter_query (ns) : engine_filters ("label", &key, 1);
  cleanup_free char *p = xasprintf ("/%s%sfilters=%s", what, containers ? "?all=1&" : "?", f);
  cleanup_json json_object *res = NULL;
  *out = NULL;
  if (engine_get (e, p, &res, err) < 0)
    return -1;
  if (strcmp (kind, "volumes") == 0)
    {
      json_object *v = NULL;
      json_object_object_get_ex (res, "Volumes", &v);
      *out = v && json_object_is_type (v, json_type_array) ? json_object_get (v)
                                                           : json_object_new_array ();
      return 0;
    }
  if (!json_object_is_type (res, json_type_array))
    return itm_err_set (err, ITM_EXIT_ENGINE, "the engine's %s list is not an array", what);
  *out = steal_pointer (&res);
  return 0;
}
