/* priv.h - what the verifier's files share: the result lists (scan.c).
 * Private to src/verify/.
 *
 * Ownership: a verify_list owns its items and their strings; list_add
 * copies what it is given.
 */
#ifndef ITM_VERIFY_PRIV_H
#define ITM_VERIFY_PRIV_H

#include <json-c/json.h>
#include <stdbool.h>

#include "verify/verify.h"

/* Append an item (name NULL: the id; reason may be NULL). */
void verify_list_add (struct verify_list *l, enum verify_kind kind, const char *id,
                      const char *name, const char *reason);
void verify_list_free (struct verify_list *l);
bool verify_list_has (const struct verify_list *l, enum verify_kind kind, const char *id);
/* Whether an engine object carries io.itm-env.namespace=ns. */
bool verify_ours (json_object *o, const char *ns);
/* A container of a list by its full id, or NULL. */
json_object *verify_find_container (json_object *containers, const char *id);

#endif
