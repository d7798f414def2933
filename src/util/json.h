/* json.h - small json-c accessors every module needs.
 *
 * The accessors take a borrowed object (NULL is fine and yields NULL) and
 * return a borrowed one: they change no reference counts.  json_putp() and
 * cleanup_json release a reference the scope owns.
 */
#ifndef ITM_JSON_H
#define ITM_JSON_H

#include <json-c/json.h>

/* The member `key` of an object (no path syntax: label keys have dots). */
json_object *json_key (json_object *o, const char *key);
/* The value at a dotted path of object members ("Config.Labels"). */
json_object *json_path (json_object *o, const char *path);
/* The string member `key` (no path syntax), or NULL when absent or not a
 * string. */
const char *json_key_str (json_object *o, const char *key);
/* The string at a dotted path, or NULL when absent or not a string. */
const char *json_str (json_object *o, const char *path);
/* The integer at a dotted path, or def when absent or not a number. */
int64_t json_int (json_object *o, const char *path, int64_t def);
/* A label of an engine object: o's "Labels" (lists) or "Config.Labels"
 * (inspect), whichever it has; NULL when absent. */
const char *json_label (json_object *o, const char *name);

/* Scope cleanup for a reference the scope owns (json_object_put at exit). */
void json_putp (json_object **o);
#define cleanup_json __attribute__ ((cleanup (json_putp)))

#endif
