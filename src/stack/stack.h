/* stack.h - the stack loader: compose-style files in, one normalized model
 * out.  The only header of src/stack/ that other modules include.
 *
 * Ownership:
 * - stack_load() returns a `struct stack` that owns everything reachable
 *   from it (strings, arrays, json_objects); stack_free() releases it all.
 *   Nothing in it changes after the load; pointers into it stay valid until
 *   stack_free().  Callers never free or json_object_put() what they get.
 * - `x` / `x_itm` json_objects are borrowed: take json_object_get() to keep
 *   one past stack_free().
 * - struct stack_diags is owned by the caller: zero-initialise it, pass it
 *   to stack_load(), print it, stack_diags_free() it.
 * - Functions returning char * (stack_service_hash) return a new string
 *   the caller frees.
 *
 * Normalization: every value is in one form whatever syntax the file used
 * (long port and volume syntax, argv arrays, durations in nanoseconds,
 * sizes in bytes, absolute paths); a field that the file did not set has
 * its zero value (NULL, 0, false, n == 0) unless a default is documented
 * next to it.
 */
#ifndef ITM_STACK_H
#define ITM_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct json_object;
struct stack_check;

/* A name and an optional value, in the order the file gave them. */
struct stack_kv {
  char *name;
  char *value;                 /* NULL: no value (environment: unset) */
};
struct stack_kvs {
  struct stack_kv *v;
  size_t n;
};
struct stack_strv {
  char **v;
  size_t n;
  bool set;                    /* given in the file (an empty list is set) */
};

struct stack_port {
  char *host_ip;               /* NULL: not given (itm-env binds 127.0.0.1) */
  unsigned published_start;    /* 0: ephemeral host port */
  unsigned published_end;      /* == published_start unless a range */
  unsigned target_start;
  unsigned target_end;         /* == target_start unless a range */
  char *protocol;              /* "tcp" (default), "udp", "sctp" */
  char *mode;                  /* "ingress" (default) or "host" */
  char *name, *app_protocol;   /* long syntax only; may be NULL */
};

enum stack_mount_type { STACK_MOUNT_VOLUME, STACK_MOUNT_BIND, STACK_MOUNT_TMPFS };
struct stack_mount {
  enum stack_mount_type type;
  char *source;                /* volume key (NULL: anonymous), absolute host path, NULL for tmpfs */
  char *target;                /* absolute path in the container */
  bool read_only;
  bool nocopy;                 /* volume */
  char *subpath;               /* volume, may be NULL */
  bool create_host_path;       /* bind; true for the short syntax, as Compose */
  char *propagation;           /* bind, may be NULL */
  char *selinux;               /* bind: "z", "Z" or NULL */
  char *consistency;           /* may be NULL; no effect on Linux */
  uint64_t tmpfs_size;         /* bytes, 0: unlimited */
  unsigned tmpfs_mode;         /* 0: default */
};

struct stack_service_network {
  char *name;                  /* key in stack->networks */
  struct stack_strv aliases;
  char *ipv4_address, *ipv6_address;   /* may be NULL */
  int priority;
};

enum stack_condition {
  STACK_COND_STARTED,          /* service_started (the list form) */
  STACK_COND_HEALTHY,          /* service_healthy */
  STACK_COND_COMPLETED,        /* service_completed_successfully */
};
struct stack_dep {
  char *service;
  enum stack_condition condition;
  bool required;               /* default true */
  bool restart;
  bool implicit;               /* from network_mode: service:X, not depends_on */
  const char *implied_by;      /* implicit: the key ("network_mode", "ipc", "links",
                                  "volumes_from"), a static string */
};

struct stack_healthcheck {
  bool set;                    /* a healthcheck key was given */
  bool disable;                /* disable: true, or test: NONE */
  struct stack_strv test;      /* test[0] is "CMD", "CMD-SHELL" or "NONE"; n == 0: image's */
  int64_t interval, timeout, start_period, start_interval; /* ns; 0: not given */
  int retries;                 /* -1: not given */
};

struct stack_ulimit {
  char *name;
  int64_t soft, hard;
};

struct stack_file_ref;

struct stack_build {
  bool set;
  char *context;               /* absolute path (or a URL, kept as is) */
  char *dockerfile;            /* NULL: Dockerfile */
  struct stack_kvs args;       /* value NULL: from the builder's environment */
  char *target;
  struct stack_kvs labels;
  char *network;
  struct stack_kvs extra_hosts; /* name = host, value = address */
  uint64_t shm_size;
  struct stack_file_ref *secrets;  /* build.secrets: source (a top-level secret with file:
                                      or environment:), target as given (the secret's id in
                                      the build, NULL: the source), uid/gid/mode unused */
  size_t nsecrets;
  struct stack_kvs ssh;        /* build.ssh: id = ssh agent socket (NULL: $SSH_AUTH_SOCK) */
};

struct stack_resources {
  double cpus;                 /* 0: not set */
  uint64_t memory;             /* bytes, 0: not set */
};

struct stack_file_ref {        /* a service's secrets: / configs: entry */
  char *source;
  char *target;                /* default /run/secrets/<source> or /<source> */
  char *uid, *gid;             /* may be NULL */
  int mode;                    /* -1: not given (0444) */
};

struct stack_service {
  char *name;
  const char *file;            /* where it was defined; line too */
  int line;
  char *image;                 /* may be NULL when build is set */
  struct stack_build build;
  struct stack_strv command, entrypoint;  /* argv; .set: overrides the image's */
  struct stack_kvs environment;  /* env_file contents then environment: */
  struct stack_port *ports;
  size_t nports;
  struct stack_strv expose;    /* "80", "8000-8010/udp" */
  struct stack_mount *volumes;
  size_t nvolumes;
  struct stack_strv tmpfs;     /* "/run" or "/run:size=64m" */
  struct stack_service_network *networks; /* sorted by name; none when network_mode is set */
  size_t nnetworks;
  struct stack_dep *depends_on;
  size_t ndepends_on;
  struct stack_healthcheck healthcheck;
  char *restart;               /* "no", "always", "on-failure[:N]", "unless-stopped"; NULL */
  struct stack_kvs labels;
  char *working_dir, *user, *hostname, *container_name;
  struct stack_kvs extra_hosts; /* name = host, value = address */
  int init;                    /* -1: not set, else 0/1 */
  char *stop_signal;
  int64_t stop_grace_period;   /* ns; -1: not set */
  struct stack_strv cap_add, cap_drop;
  bool privileged;
  struct stack_ulimit *ulimits;
  size_t nulimits;
  uint64_t shm_size;           /* bytes, 0: not set */
  struct stack_kvs sysctls;
  struct stack_strv dns;
  char *platform;
  char *pull_policy;           /* "always", "never", "missing", "build", "if_not_present"... */
  struct stack_strv profiles;
  uint64_t mem_limit;          /* bytes, 0: not set */
  double cpus;                 /* 0: not set */
  struct stack_resources limits, reservations;  /* deploy.resources */
  bool read_only, tty, stdin_open;
  char *network_mode;          /* NULL, "none", "host", "bridge", "service:X", "container:X" */
  char *runtime;
  struct stack_file_ref *secrets, *configs;
  size_t nsecrets, nconfigs;
  struct json_object *x;       /* all x-* keys of the service (incl. x-itm), or NULL */
  struct json_object *x_itm;   /* the service's x-itm, or NULL */
  struct stack_check *checks;  /* x-itm.checks (stack/checks.h) */
  size_t nchecks;
  int replicas;                /* scale: / deploy.replicas (replicas.c); 0: not given (1) */
};

struct stack_ipam_config {
  char *subnet, *ip_range, *gateway;
  struct stack_kvs aux_addresses;
};

struct stack_network {
  char *key;                   /* as in the file ("default" when implicit) */
  char *name;                  /* engine name: `name:` or NULL (then <ns>_<key>) */
  bool external;
  char *driver;
  struct stack_kvs driver_opts, labels;
  bool internal, attachable, enable_ipv6;
  char *ipam_driver;
  struct stack_ipam_config *ipam_config;
  size_t nipam_config;
  struct stack_kvs ipam_options;
};

struct stack_volume {
  char *key;
  char *name;                  /* `name:` or NULL (then <ns>_<key>) */
  bool external;
  char *driver;
  struct stack_kvs driver_opts, labels;
};

struct stack_object {          /* a top-level secret or config */
  char *key;
  char *name;
  bool external;
  char *file;                  /* absolute path, or NULL */
  char *environment;           /* variable name, or NULL */
  char *env_value;             /* that variable's value at load time; never printed */
  char *content;               /* inline content (configs), or NULL */
};

/* The longest top-level name: (ns.h's NS_MAX_LEN: the namespace is made
 * from it, and a longer one would be cut, two projects then sharing one). */
#define STACK_NAME_MAX 48

struct stack {
  char *name;                  /* top-level name:, or NULL */
  char *project_dir;           /* absolute */
  char **files;                /* the files read, absolute, in order */
  size_t nfiles;
  struct stack_service *services;  /* active services only, sorted by name */
  size_t nservices;
  char **disabled;             /* services the files define that no selected
                                  profile activates, sorted (names only) */
  size_t ndisabled;
  struct stack_network *networks;  /* sorted by key; "default" added when used */
  size_t nnetworks;
  struct stack_volume *volumes;
  size_t nvolumes;
  struct stack_object *secrets, *configs;
  size_t nsecrets, nconfigs;
  char **profiles;             /* every profile named in the file, sorted */
  size_t nprofiles;
  struct json_object *x;       /* top-level x-* keys (incl. x-itm), or NULL */
  struct json_object *x_itm;   /* top-level x-itm, or NULL */
  struct stack_arena *arena;   /* private */
};

/* What to load: mirrors the shared command-line options. */
struct stack_opts {
  const char *const *files;    /* -f, in order; none: default lookup */
  size_t nfiles;
  const char *project_dir;     /* --project-directory or NULL */
  const char *const *env_files; /* --env-file */
  size_t nenv_files;
  const char *const *profiles; /* --profile (COMPOSE_PROFILES is added) */
  size_t nprofiles;
  const char *const *services; /* named on the command line: active whatever their profiles */
  size_t nservices;
  char **environ;              /* NULL: the process environment */
  const char *project_name;    /* -p: what ${COMPOSE_PROJECT_NAME} is; NULL:
                                  ITM_ENV_NAMESPACE, else the top-level name:
                                  normalized, else the project directory's name */
};

/* Every error, warning and note of a load, in order. */
enum stack_severity { STACK_NOTE, STACK_WARNING, STACK_ERROR };
struct stack_diag {
  enum stack_severity severity;
  char *file;                  /* may be NULL */
  int line, col;               /* 0 when unknown */
  char *msg;
};
struct stack_diags {
  struct stack_diag *v;
  size_t n;
  size_t nerrors, nwarnings;
  bool no_file;                /* no file given and none of the default names
                                  found: the one error (stack_load's err is its
                                  text) */
};
/* "FILE:LINE:COL: error: MSG", one per line. */
void stack_diags_print (const struct stack_diags *d, FILE *out);
void stack_diags_free (struct stack_diags *d);

/* Load, validate, normalize.  Prints nothing.  On success returns 0 and
 * *out (warnings and notes in diags, if given).  On an invalid stack returns
 * -1, err set (ITM_EXIT_STACK, "N errors in the stack"), and every error in
 * diags.  No file given and none found: -1, diags->no_file, and err is that
 * one error's text (ITM_EXIT_STACK).  diags may be NULL. */
int stack_load (const struct stack_opts *o, struct stack **out, struct stack_diags *diags,
                struct itm_err *err);
void stack_free (struct stack *st);
#define cleanup_stack __attribute__ ((cleanup (stack_freep)))
void stack_freep (struct stack **st);

/* Lookups by key; NULL when absent. */
const struct stack_service *stack_service (const struct stack *st, const char *name);
const struct stack_network *stack_network (const struct stack *st, const char *key);
const struct stack_volume *stack_volume (const struct stack *st, const char *key);
const struct stack_object *stack_secret (const struct stack *st, const char *key);
const struct stack_object *stack_config (const struct stack *st, const char *key);

/* Start order: waves[i] holds the services that can start once every
 * service of waves[0..i-1] is ready (each service is in the first wave after
 * all its dependencies).  Services in a wave are sorted by name.  Returns the
 * number of waves; *waves is a new array of nwaves struct stack_wave that
 * stack_waves_free() releases (the service pointers point into st). */
struct stack_wave {
  const struct stack_service **services;
  size_t n;
};
size_t stack_waves (const struct stack *st, struct stack_wave **waves);
void stack_waves_free (struct stack_wave *waves, size_t nwaves);

/* The service's config hash: SHA-256, 64 hex digits, of its canonical JSON
 * serialization without depends_on, profiles and pull_policy (so that
 * changing only those does not recreate a container).  New string. */
char *stack_service_hash (const struct stack_service *svc);

/* The normalized stack as JSON (the same tree `itm-env config --format json`
 * prints).  A new reference: the caller json_object_put()s it. */
struct json_object *stack_to_json (const struct stack *st);
struct json_object *stack_service_to_json (const struct stack_service *svc);
/* Print the normalized stack, one service at a time (memory stays bounded
 * by the largest service): canonical YAML, or compact JSON on one line
 * (the same tree as stack_to_json). */
void stack_print (const struct stack *st, FILE *out, bool json);

/* Parsers of the model's value syntaxes, also used by the commands (a
 * duration option) and data/ (a seed command).  Each returns 0, or -1
 * with *why (a static string) saying what is wrong: the model reports it
 * at a position of the stack file, other callers in their own words. */
int stack_parse_duration (const char *s, int64_t *ns, const char **why);
int stack_parse_size (const char *s, uint64_t *bytes, const char **why);
/* Compose's command-string splitting (shell-like quoting, no expansion).
 * *argv is a new strv (util/strv.h: strv_free() releases it). */
int stack_split_command (const char *s, char ***argv, size_t *argc, const char **why);
/* One short-syntax port ("127.0.0.1:8080-8081:80-81/udp"); strings in *p
 * are new (free host_ip, protocol, mode). */
int stack_parse_port (const char *s, struct stack_port *p, const char **why);
/* Go's time.Duration.String(): "1m30s", "500ms", "1h0m0s".  buf >= 32. */
void stack_format_duration (int64_t ns, char *buf, size_t size);

#endif
