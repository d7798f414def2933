/* state.h - what a namespace is on the engine right now, read from labels
 * alone (no stack file needed): its containers, networks and volumes.
 *
 * Used by down, ps, logs, exec, port, env, wait and the idempotent up.
 * Ownership: state_load() returns a struct that owns all its strings;
 * state_free() releases it.
 */
#ifndef ITM_STATE_H
#define ITM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct engine;

struct state_port {
  char *host_ip;        /* "127.0.0.1" */
  unsigned host_port;   /* 0 when not published */
  unsigned container_port;
  char *protocol;       /* "tcp", "udp", "sctp" */
};
/* A container's ports are sorted by container port, protocol, host address;
 * one entry per host binding (IPv4 and IPv6 bindings are two entries); an
 * exposed but unpublished port has host_port 0 and host_ip NULL.  Ports are
 * only known while the container runs (the engine's NetworkSettings). */

struct state_container {
  char *id;
  char *name;           /* without the leading '/' */
  char *service;        /* io.itm-env.service */
  int number;           /* io.itm-env.number */
  char *image;
  char *config_hash;    /* io.itm-env.config-hash, may be NULL */
  char *state;          /* "created", "running", "exited", "restarting", "paused", "dead" */
  char *health;         /* "starting", "healthy", "unhealthy", or NULL (no healthcheck) */
  int exit_code;        /* meaningful when state is "exited" */
  long long started_at; /* unix ns, 0 when never */
  struct state_port *ports;
  size_t nports;
  char **networks;      /* engine network names it is attached to, sorted (a strv) */
  size_t nnetworks;
  bool tty;             /* Config.Tty: logs and attach are raw, not multiplexed */
  char **env;           /* Config.Env, "NAME=value", as the engine has it (a strv) */
  size_t nenv;
  char *project_dir;    /* io.itm-env.project-dir, may be NULL */
  char *stack_files;    /* io.itm-env.stack-files, may be NULL */
  struct state_ready *ready; /* itm-env's own readiness record (state_ready_attach), or NULL */
};

struct state_resource { /* a network or volume */
  char *id;             /* volumes: the name */
  char *name;
  char *key;            /* io.itm-env.network / io.itm-env.volume, may be NULL */
};

struct state {
  char *ns;
  struct state_container *containers;   /* sorted by service, then number */
  size_t ncontainers;
  struct state_resource *networks, *volumes;
  size_t nnetworks, nvolumes;
};

/* List everything labelled io.itm-env.namespace=<ns>, with containers
 * inspected (health, exit code, ports, networks).  An absent namespace is
 * not an error: the lists are empty. */
int state_load (struct engine *e, const char *ns, struct state **out, struct itm_err *err);
/* The containers alone (no networks, no volumes: two engine calls fewer),
 * for what reads containers only (ps, env, port). */
int state_load_containers (struct engine *e, const char *ns, struct state **out,
                           struct itm_err *err);
void state_free (struct state *st);
#define cleanup_state __attribute__ ((cleanup (state_freep)))
void state_freep (struct state **st);
bool state_empty (const struct state *st);

/* The containers of one service (n of them, in number order), or NULL. */
struct state_container *state_service (const struct state *st, const char *service, size_t *n);
/* A NOT_FOUND error naming the service and the namespace's services. */
int state_no_service (const struct state *st, const char *service, struct itm_err *err);
/* The distinct service names, sorted; *out is a new array (free it, not the
 * strings, which point into st).  Returns how many. */
size_t state_services (const struct state *st, const char ***out);
/* The published binding of container_port/protocol (NULL protocol: "tcp"),
 * preferring IPv4 when the engine bound both; NULL when not published. */
struct state_port *state_port (const struct state_container *c, unsigned container_port,
                               const char *protocol);
/* An engine timestamp (RFC 3339 with nanoseconds) as unix ns; 0 for the
 * zero time "0001-01-01T00:00:00Z" or a malformed one. */
long long state_parse_time (const char *s);

/* ---- ready.c: the readiness itm-env established (up and wait's gates) ----
 * Kept on this host in ns_state_dir(ns)/ready.json (0600, replaced
 * atomically), keyed by container id, so that a recreated container
 * inherits nothing; down removes it with the state directory.  ps shows it
 * beside the engine's health, which stays "starting" until the engine's
 * first probe, an interval after the start. */
struct state_ready {
  char *id;             /* the container */
  char *service;
  char *state;          /* "ready" or "failed" */
  char *gate;           /* "healthcheck", "completed", "running" (ready_gate_name) */
  long long ready_ns;   /* from start to ready (ms precision); -1: not known (failed, or a
                           container kept as it was) */
  char *at;             /* when it was recorded, RFC 3339 UTC (NULL when saving: now) */
  char *detail;         /* why it failed, or NULL */
};
/* Merge n records into the file: a record of another container of the
 * same service goes; a kept container's earlier "ready" stays when the new
 * one has no time (ready_ns < 0).  create: make the state directory when
 * absent (up); else nothing is written without one (wait on a namespace
 * not brought up from this host).  Records with no id are skipped. */
int state_ready_save (const char *ns, const struct state_ready *v, size_t n, bool create,
                      struct itm_err *err);
/* Each container's record, if the file has one for its id, into c->ready
 * (a missing or malformed file: none). */
void state_ready_attach (struct state *st);
void state_ready_free (struct state_ready *r);

/* ---- list.c: everything with our label ---- */
/* The engine's list of kind ("containers", with stopped ones; "networks";
 * "volumes") carrying io.itm-env.namespace: =ns, or any value when ns is
 * NULL (every namespace).  *out is a new JSON array of the engine's list
 * entries (for volumes, the "Volumes" member).  -1 with err set. */
struct json_object;
int state_list_ours (struct engine *e, const char *kind, const char *ns,
                     struct json_object **out, struct itm_err *err);

#endif
