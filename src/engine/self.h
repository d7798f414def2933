/* self.h - where itm-env itself runs: on a host, or in a container (a CI
 * job container, a devcontainer) on the engine it talks to, whose
 * networks it can join and whose mounts map its paths to the engine's.
 *
 * Found once per process (self_probe caches it): a container is told by
 * /.dockerenv or /run/.containerenv; its id comes from /proc/self/mountinfo
 * (the engine's .../containers/<64 hex>/ paths of the hostname, hosts and
 * resolv.conf mounts; cgroup v2 shows only "0::/"), else /proc/self/cgroup
 * (cgroup v1), else the hostname; GET /containers/{id}/json on the engine
 * confirms it.
 *
 * Ownership: the struct self is the cache's; never freed by callers.
 */
#ifndef ITM_ENGINE_SELF_H
#define ITM_ENGINE_SELF_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/err.h"

struct engine;

struct self {
  bool in_container;     /* /.dockerenv, /run/.containerenv or an id was found */
  char *id;              /* its full container id, or NULL */
  bool on_engine;        /* the engine knows that container: it can join, map paths */
  char *name;            /* its name on the engine (no '/'), when on_engine */
  json_object *mounts;   /* its inspect's Mounts (an array), when on_engine */
  char *note;            /* in a container but not on the engine: why (a sentence) */
};

/* What self is, asked once (later calls return the same answer; e may be
 * NULL only after a first call with an engine).  Never fails: what cannot
 * be found is left out and said in note. */
const struct self *self_probe (struct engine *e);
/* Only the container id from the files (no engine), NULL when none: for
 * the verifier, which must not take its own container for a stray. */
const char *self_id (void);
/* The container id in mountinfo text (the first .../containers/<64 hex>/
 * path), a new string, or NULL.  (For the unit tests.) */
char *self_id_from_mountinfo (const char *text);

/* path (absolute, as this container sees it) as the engine's host sees
 * it, through the mount with the longest destination holding it: a new
 * string, or NULL when it is outside every mount (or self is not on the
 * engine). */
char *self_host_path (const struct self *s, const char *path);

/* Connect self to network (name or id); one it is on already is fine. */
int self_join (struct engine *e, const char *network, struct itm_err *err);
/* Disconnect self from network when it is on it (quietly: not being on
 * it, or the network being gone, is fine). */
void self_leave (struct engine *e, const char *network);

#endif
