/* json.c - see json.h */
#include <config.h>

#include <string.h>

#include "util/json.h"

json_object *
json_key (json_object *o, const char *key)
{
  json_object *v;
  if (o && json_object_is_type (o, json_type_object) && json_object_object_get_ex (o, key, &v))
    return v;
  return NULL;
}

json_object *
json_path (json_object *o, const char *path)
{
  char key[128];
  while (o && *path)
    {
      const char *dot = strchr (path, '.');
      size_t n = dot ? (size_t) (dot - path) : strlen (path);
      if (n >= sizeof key)
        return NULL;
      memcpy (key, path, n);
      key[n] = '\0';
      o = json_key (o, key);
      path += n + (dot ? 1 : 0);
    }
  return o;
}

const char *
json_key_str (json_object *o, const char *key)
{
  json_object *v = json_key (o, key);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

const char *
json_str (json_object *o, const char *path)
{
  json_object *v = json_path (o, path);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

const char *
json_label (json_object *o, const char *name)
{
  json_object *l = json_key (o, "Labels");
  if (l == NULL)
    l = json_path (o, "Config.Labels");
  json_object *v = json_key (l, name);
  return v && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

void
json_putp (json_object **o)
{
  if (*o)
    json_object_put (*o);
  *o = NULL;
}
