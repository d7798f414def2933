/* apicache.h - the negotiated API version kept per engine endpoint
 * (apicache.c), and what it needs of the handle (conn.c).  Private to
 * src/engine/. */
#ifndef ITM_ENGINE_APICACHE_H
#define ITM_ENGINE_APICACHE_H

#include <stdbool.h>

#include "engine/engine.h"

/* conn.c: the handle's unix socket path (NULL for tcp/ssh) and host
 * string; take a version from the cache (marks it unconfirmed); the
 * cache file of the handle (owned by the handle; NULL: none). */
const char *engine_unix_path (const struct engine *e);
const char *engine_host (const struct engine *e);
void engine_api_adopt (struct engine *e, const char *server_api, const char *api);
void engine_api_cache_set (struct engine *e, char *path);
const char *engine_api_cache (const struct engine *e);
/* "1.41" against "1.45": <0, 0, >0 (conn.c's comparison). */
int engine_version_cmp (const char *a, const char *b);

/* apicache.c: after the engine refused the cached version (or before an
 * upload that cannot be sent twice): negotiate afresh and rewrite the
 * cache (or remove it when negotiation fails). */
int apicache_renegotiate (struct engine *e, struct itm_err *err);
/* An error that is the engine refusing the requested API version
 * (HTTP 400 "client version 1.45 is too new/old..."). */
bool apicache_refused (const struct itm_err *err);

#endif
