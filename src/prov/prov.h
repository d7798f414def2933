/* prov.h - the provisioner: a loaded stack brought up on the engine in
 * dependency order and gated on readiness (up, wait), and a namespace torn
 * down from its labels alone (down).
 *
 * Ownership: json_objects returned by prov_*_spec() are new references the
 * caller json_object_put()s; everything passed in is borrowed.
 *
 * Output: progress goes to stderr (plain timestamped lines, or one live line
 * per service on a TTY), --json event lines to stdout, both through
 * out/out.h; warnings through out_warn.
 */
#ifndef ITM_PROV_H
#define ITM_PROV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct engine;
struct stack;
struct stack_service;
struct stack_network;
struct stack_volume;
struct image_opts;
struct state;

/* Labels of its own the provisioner adds to containers (with ns.h's). */
#define ITM_LABEL_DEPENDS_ON "io.itm-env.depends-on" /* services it depends on, joined by ',' */

/* ---- engine request bodies (spec.c) ---- */
/* POST /containers/create body for a service (with the networks
 * prov_networks_at_create gives); api: the engine's API version
 * (engine_api_version(); NULL: ENGINE_API_MIN). */
json_object *prov_container_spec (const char *api, const struct stack *st,
                                  const struct stack_service *svc, const char *ns, long ttl,
                                  const char *hash);
/* The same for replica number (1..: io.itm-env.number and Compose's
 * container-number). */
json_object *prov_replica_spec (const char *api, const struct stack *st,
                                const struct stack_service *svc, const char *ns, long ttl,
                                const char *hash, int number);
/* The engine names of the networks the service joins, in attach order
 * (first: given at create, the rest connected before start); *n of them.
 * New array of new strings. */
char **prov_service_networks (const struct stack *st, const struct stack_service *svc,
                              const char *ns, size_t *n);
/* How many of the service's nnet networks go into the create body: all on
 * API 1.44+ (one request), else the first (the rest: POST
 * /networks/NAME/connect before the start). */
size_t prov_networks_at_create (const char *api, size_t nnet);
/* The EndpointsConfig entry for one of the service's networks. */
json_object *prov_endpoint_spec (const struct stack_service *svc, size_t i);
/* When itm-env runs in a container on the engine (self, engine/self.h;
 * NULL or not on the engine: nothing to do), bind sources are paths of
 * that container: the engine needs its host's.  prov_binds_check: every
 * bind source of the stack is inside one of self's mounts, else
 * ITM_EXIT_STACK naming the first that is not and the fix.
 * prov_spec_host_paths: the binds of svc's spec (prov_container_spec's)
 * rewritten to the host paths. */
struct self;
int prov_binds_check (const struct stack *st, const struct self *self, struct itm_err *err);
int prov_spec_host_paths (json_object *spec, const struct stack_service *svc,
                          const struct self *self, struct itm_err *err);
json_object *prov_network_spec (const struct stack *st, const struct stack_network *n,
                                const char *ns, long ttl);
json_object *prov_volume_spec (const struct stack *st, const struct stack_volume *v,
                               const char *ns, long ttl);
/* The service's secrets and configs as a tar archive in memory (paths
 * relative to /); *len 0 when there are none.  New buffer. */
int prov_files_tar (const struct stack *st, const struct stack_service *svc, char **data,
                    size_t *len, struct itm_err *err);
/* The probe command (exec argv) for a healthcheck test (["CMD", ...] or
 * ["CMD-SHELL", "..."]); NULL when none.  New NULL-terminated array. */
char **prov_probe_argv (json_object *test);

/* ---- up, wait, down ---- */
/* What the command does around up's work (the verifier's snapshot and the
 * watchdog live above prov): each may be NULL. */
struct prov_hooks {
  /* After the images are ensured, before anything is created; fresh: the
   * namespace had no containers. */
  void (*before_create) (void *arg, struct engine *e, const char *ns, bool fresh);
  /* Once when up ends, however it ends (also before before_create ran);
   * keep: up succeeded, or failed with keep_on_failure. */
  void (*after) (void *arg, bool keep);
  void *arg;
};
/* up --scale SERVICE=N: N containers of the service (1..99). */
struct prov_scale {
  const char *service;
  int n;
};
struct prov_opts {
  const char *ns;
  long ttl;                     /* seconds, 0: NS_DEFAULT_TTL */
  int64_t timeout_ns;           /* overall, 0: none */
  const char *timeout_opt;      /* the option that set it, for messages (NULL: --timeout) */
  bool keep_on_failure;
  bool force_recreate;          /* up: recreate every container, changed or not */
  bool remove_orphans;          /* up: remove containers of services the stack no longer has */
  const char *const *services;  /* wait, up: only these (none: all); up: and what they
                                 * depend on, unless no_deps */
  size_t nservices;
  bool no_deps;                 /* up SERVICE...: not their dependencies */
  const struct image_opts *image; /* up: build and pull options (image.h); NULL: defaults */
  struct prov_hooks hooks;      /* up */
  const struct prov_scale *scale; /* up: --scale, overriding scale:/deploy.replicas */
  size_t nscale;
  const char *join;             /* up: a container (itm-env's own, engine/self.h) to connect to
                                 * the namespace's networks as soon as they exist; NULL: none */
};
/* Returns 0 when every service is ready; -1 with err set otherwise
 * (ITM_EXIT_IMAGE, ITM_EXIT_READINESS, ITM_EXIT_INTERRUPTED, ...). */
int prov_up (struct engine *e, const struct stack *st, const struct prov_opts *o,
             struct itm_err *err);
/* The readiness gate alone on a namespace already up.  st may be NULL: one
 * gate per container then, from its labels and inspect (a healthcheck:
 * healthy; exited: exit 0; else running). */
int prov_wait (struct engine *e, const struct stack *st, const struct prov_opts *o,
               struct itm_err *err);

/* down --rmi, with Compose's meaning: "local" removes the images built
 * under the namespace's own names (<ns>-<service>: services with build:
 * and no image:), "all" every image a service uses. */
enum prov_rmi { PROV_RMI_NONE, PROV_RMI_LOCAL, PROV_RMI_ALL };
/* "local", "all" (or "none"); a usage error naming cmd otherwise. */
int prov_rmi_parse (const char *cmd, const char *s, enum prov_rmi *out, struct itm_err *err);
const char *prov_rmi_name (enum prov_rmi r);

struct prov_down_opts {
  const char *ns;
  bool keep_volumes;
  int grace_s;                  /* stop grace with keep_volumes; <0: each container's own */
  enum prov_rmi rmi;
  const struct stack *stack;    /* with rmi: the stack file's images count too (may be NULL) */
  const char *const *images;    /* with rmi: what prov_rmi_images() found (NULL: down finds it) */
  size_t nimages;
};
/* Remove the namespace: data namespaces, containers, networks, volumes
 * (unless kept), then with rmi its images (after the containers using
 * them).  Warns and goes on; -1 with the first failure in err. */
int prov_down (struct engine *e, const struct prov_down_opts *o, struct itm_err *err);
/* Named in a network removal that fails with "active endpoints" while
 * nothing is attached (down, gc, the verifier's leftovers). */
#define PROV_MOBY_42119 "engine bug moby#42119: restart the daemon to clear it"
/* The images o->rmi names: from the namespace's containers (their Image,
 * and for "local" only those labelled ITM_LABEL_IMAGE_BUILT=local) and
 * from o->stack when given; deduplicated.  A new NULL-terminated array of
 * new strings (strv_free), *n of them; NULL with err set when the
 * engine cannot be asked. */
char **prov_rmi_images (struct engine *e, const struct prov_down_opts *o, size_t *n,
                        struct itm_err *err);
/* Remove containers (kill: force-remove at once; else stop with grace_s,
 * <0: each one's own, then remove; anonymous volumes go too), then
 * networks, then volumes, each group in parallel.  Warns and goes on; err
 * holds the first failure. */
int prov_remove (struct engine *e, const char *const *containers, size_t nc,
                 const char *const *networks, size_t nn, const char *const *volumes, size_t nv,
                 bool kill, int grace_s, struct itm_err *err);

/* Signals: SIGINT/SIGTERM set a flag that up and wait poll; a second
 * SIGINT exits at once after printing `msg`. */
void prov_signals_install (const char *ns);
int prov_interrupted (void);

/* ---- for the report (logs.c) ---- */
struct report;
/* The container's logs (stdout and stderr, timestamps off) into path,
 * created 0644 (parents not created).  -1 with err set. */
int prov_save_logs (struct engine *e, const char *container, const char *path,
                    struct itm_err *err);
/* The engine into the report: endpoint, negotiated API version and the
 * engine's own version (asks GET /version; a failure only leaves the
 * version out).  No-op when r is NULL. */
void prov_report_engine (struct report *r, struct engine *e);


/* ---- lifecycle.c: stop, start, restart, pause, unpause, kill, rm ----
 * Compose's meaning on a namespace's containers, from their labels alone:
 * stop and kill act on what runs, start on what is created or exited,
 * restart on all, pause on what runs, unpause on what is paused, rm on
 * what is stopped (with stop_first: on all, stopped first).  Dependency
 * order from the io.itm-env.depends-on labels (start, restart, unpause:
 * dependencies first; the others: dependents first), the containers of one
 * level in parallel; start and restart gate each level's services with
 * prov_wait before the next level (stack: their gates, may be NULL: from
 * labels).  A progress event per container ("stopped", ...).  Errors:
 * ITM_EXIT_NOT_FOUND (no containers, unknown service), ITM_EXIT_ENGINE,
 * ITM_EXIT_READINESS (a gate), ITM_EXIT_INTERRUPTED. */
enum prov_life {
  PROV_LIFE_STOP, PROV_LIFE_START, PROV_LIFE_RESTART, PROV_LIFE_PAUSE, PROV_LIFE_UNPAUSE,
  PROV_LIFE_KILL, PROV_LIFE_RM,
};
struct prov_life_opts {
  const char *ns;
  enum prov_life op;
  const char *const *services;  /* none: every service */
  size_t nservices;
  int grace_s;                  /* stop, restart, rm -s: <0: each container's own */
  const char *signal;           /* kill: NULL: SIGKILL */
  bool stop_first;              /* rm -s */
  bool volumes;                 /* rm -v: their anonymous volumes too */
  const struct stack *stack;    /* start, restart: for the gates (NULL: from labels) */
  int64_t timeout_ns;           /* start, restart: the gates' overall timeout, 0: none */
};
int prov_lifecycle (struct engine *e, const struct prov_life_opts *o, struct itm_err *err);
/* "stop", "start", ... */
const char *prov_life_name (enum prov_life op);
/* ---- x-itm.proxy: the namespace's fault proxy (proxy.c) ---- */
#define PROV_PROXY_SERVICE "itm-proxy"        /* its container: <ns>-itm-proxy-1 */
#define PROV_PROXY_LABEL "io.itm-env.proxy"   /* "db:5432,cache:6379" */
#define PROV_PROXY_API_PORT "8474"
/* Create and start the proxy container of the stack's proxied services
 * (after the networks exist, before the services start: they take the
 * names); none proxied: an old one is removed.  -1 with err set (a port
 * proxied for two services: ITM_EXIT_STACK; nothing left behind). */
int prov_proxy_up (struct engine *e, const struct stack *st, const char *ns, long ttl,
                   struct itm_err *err);
/* Every service is ready: the proxy's x-itm.faults schedule starts
 * (SIGUSR1 to it; no proxy: nothing). */
int prov_proxy_ready (struct engine *e, const char *ns, struct itm_err *err);
/* Remove the namespace's proxy container, if any (a rollback). */
void prov_proxy_remove (struct engine *e, const char *ns);
/* The proxy's API at url (http://HOST:PORT): METHOD path with body (may
 * be NULL); the answer must be `want`: its JSON (NULL for none) in *out
 * (may be NULL), or -1 with err set (the proxy's own words; CONNECT when
 * it does not answer, NOT_FOUND on 404). */
int prov_proxy_api (const char *url, const char *method, const char *path,
                    struct json_object *body, int want, struct json_object **out,
                    struct itm_err *err);
/* The namespace's proxy API URL (TOXIPROXY_URL of env), or NULL with a
 * NOT_FOUND error. */
char *prov_proxy_url (const struct state *st, struct itm_err *err);
/* The faults active in the namespace, by service: {"db": [toxic...]},
 * each toxic in Toxiproxy's shape plus "proxy" (its proxy's name), and
 * {"proxy": NAME, "type": "disabled"} for a proxy taken down (enabled
 * false, fault partition).  NULL: no running proxy, or it did not answer. */
struct json_object *prov_proxy_faults (const struct state *st);
/* One fault of prov_proxy_faults() as text: "db: latency_downstream(latency
 * downstream latency=300 jitter=0)", "db: disabled" (new). */
char *prov_proxy_fault_text (struct json_object *f);
/* Into the report r (NULL: nothing): the x-itm.faults schedules of stk's
 * proxied services ("scheduled") and the faults on ns's proxy now
 * ("active": up at its end, run at its teardown).  A stack without a
 * proxied service costs nothing; a proxy that does not answer adds none. */
void prov_proxy_report (struct engine *e, const struct stack *stk, const char *ns,
                        struct report *r);

#endif
