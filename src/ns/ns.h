/* ns.h - namespaces: how itm-env names and labels what it creates.
 *
 * Labels are the source of truth: down, ps, verify and gc work from the
 * engine's state alone.  Every resource itm-env creates carries
 * ITM_LABEL_NAMESPACE plus the labels below; their names and value formats
 * are an interface (documented in itm-env(1), LABELS).
 */
#ifndef ITM_NS_H
#define ITM_NS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util/err.h"

#define ITM_LABEL_PREFIX        "io.itm-env."
#define ITM_LABEL_NAMESPACE     "io.itm-env.namespace"     /* the namespace */
#define ITM_LABEL_SERVICE       "io.itm-env.service"       /* containers: the service */
#define ITM_LABEL_NUMBER        "io.itm-env.number"        /* containers: 1.. */
#define ITM_LABEL_NETWORK       "io.itm-env.network"       /* networks: the key in the stack */
#define ITM_LABEL_VOLUME        "io.itm-env.volume"        /* volumes: the key in the stack */
#define ITM_LABEL_STACK_FILES   "io.itm-env.stack-files"   /* absolute paths, joined by ':' */
#define ITM_LABEL_PROJECT_DIR   "io.itm-env.project-dir"   /* absolute */
#define ITM_LABEL_CONFIG_HASH   "io.itm-env.config-hash"   /* containers: stack_service_hash() */
#define ITM_LABEL_CREATOR_HOST  "io.itm-env.creator-host"  /* gethostname() */
#define ITM_LABEL_CREATOR_PID   "io.itm-env.creator-pid"   /* the creating itm-env's pid */
#define ITM_LABEL_CREATED       "io.itm-env.created"       /* RFC 3339 UTC */
#define ITM_LABEL_EXPIRES       "io.itm-env.expires"       /* RFC 3339 UTC; gc removes after */
#define ITM_LABEL_VERSION       "io.itm-env.version"       /* itm-env's version */
#define ITM_LABEL_IMAGE_BUILT   "io.itm-env.image-built"   /* containers whose image up built:
                                                              "local" (named <ns>-<service>) or
                                                              "tagged" (named by image:) */

#define NS_MAX_LEN 48           /* room for -<service>-<n> in 63-char names */
#define NS_DEFAULT_TTL (24 * 3600)

/* Pick the namespace: flag (-p) > $ITM_ENV_NAMESPACE > stack_name (name:)
 * > basename(project_dir).  An explicit flag or variable must already be
 * valid (usage error otherwise); name: and the directory are normalized as
 * Compose does (lowercased, characters outside [a-z0-9_-] dropped).
 * *out is a new string. */
int ns_resolve (const char *flag, const char *stack_name, const char *project_dir, char **out,
                struct itm_err *err);
/* Valid: 1..NS_MAX_LEN characters of [a-z0-9_-], starting with [a-z0-9]. */
int ns_check (const char *ns, const char *from, struct itm_err *err);
/* Compose's normalization: lowercase, drop the rest; may return "". */
char *ns_normalize (const char *s);

/* Engine names (new strings): <ns>-<service>-<n>, <ns>_<key>. */
char *ns_container_name (const char *ns, const char *service, int n);
char *ns_network_name (const char *ns, const char *key);
char *ns_volume_name (const char *ns, const char *key);

/* The labels every created resource carries: namespace, creator host and
 * pid, created, expires (now + ttl seconds; ttl <= 0: NS_DEFAULT_TTL),
 * version.  A new object; add the resource's own labels to it. */
json_object *ns_labels (const char *ns, long ttl);
/* {"label":["io.itm-env.namespace=<ns>"]} as a query value
 * (URL-encoded filters=...), for listing a namespace's resources.  New string. */
char *ns_filter_query (const char *ns);
/* RFC 3339 UTC time, "2026-11-23T22:00:00Z"; parse returns -1 if malformed. */
void ns_format_time (time_t t, char buf[32]);
int ns_parse_time (const char *s, time_t *t);

/* The namespace's private state directory, created (mode 0700, parents
 * too) when create is true: $ITM_ENV_STATE_DIR/<ns>, else
 * $XDG_STATE_HOME/itm-env/<ns>, else ~/.local/state/itm-env/<ns>.  Things
 * kept "with the namespace" on this host live here (generated secrets, the
 * engine snapshot taken before up); down removes it.
 *
 * Trusted or refused (ITM_EXIT_FAILURE, "unsafe state directory: PATH
 * why"): walked from "/" with openat, every directory on the way owned by
 * root or the user and not writable by group or others unless sticky (as
 * /tmp); a symbolic link followed only in a directory nobody else can
 * write, never as the state root or under it; <root>/<ns> owned by the
 * user, not group- or world-writable, made 0700.  A world-writable (sticky)
 * root is accepted with a warning.
 *
 * ns_state_dir: the path (new string), also when it does not exist and
 * !create; NULL with err set when unsafe.  ns_state_open: an O_DIRECTORY
 * fd of it, -2 when absent and !create (*path still set), -1 with err set;
 * *path (may be NULL) a new string. */
char *ns_state_dir (const char *ns, bool create, struct itm_err *err);
int ns_state_open (const char *ns, bool create, char **path, struct itm_err *err);
/* openat(ns_state_open (ns, flags has O_CREAT), name, flags | O_NOFOLLOW |
 * O_CLOEXEC, mode): never through a symbolic link (refused with "is a
 * symbolic link"), only a regular file owned by the user with one link.
 * The fd, -2 when absent (without O_CREAT), -1 with err set. */
int ns_state_file (const char *ns, const char *name, int flags, mode_t mode,
                   struct itm_err *err);
/* The namespaces with a state directory under this state root (a NULL-
 * terminated strv, util/strv.h; NULL when none or the root is unsafe). */
char **ns_state_namespaces (void);
/* Remove the namespace's state directory and what is in it (absent: 0). */
int ns_state_remove (const char *ns, struct itm_err *err);
/* Serialize `up` on a namespace (on this host, within one state dir): an
 * exclusive flock on ns_state_dir(ns)/up.lock, which holds the holder's
 * pid.  When another process holds it, says so (out_warn) and waits.
 * Returns the fd (close-on-exec), or -1 with err set (ITM_EXIT_INTERRUPTED
 * when a signal ended the wait). */
int ns_lock (const char *ns, struct itm_err *err);
/* Release it; the lock file and the state dir go too when the namespace
 * keeps no other state there. */
void ns_unlock (const char *ns, int fd);
/* The fd of the lock this process holds on ns (ns_lock), or -1: the
 * watchdog inherits it, so that a waiter gets the lock only once the
 * watchdog of an up that died is done removing the namespace. */
int ns_lock_held (const char *ns);

#endif
