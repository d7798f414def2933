/* image.h - images: built from a context or pulled with registry auth,
 * with progress.  `up`, `build` and `pull` make sure every service's image
 * exists through image_ensure().
 *
 * Build: the context is walked in a stable (bytewise sorted) order, filtered
 * by .dockerignore exactly as the engine's builder reads it, and sent as a
 * tar stream produced while curl reads it (libarchive into a small buffer:
 * never the whole context in memory, no temporary file).  A SHA-256 digest
 * over the context as sent (paths, modes, link targets, contents), the
 * Dockerfile, args, target and labels is stored as the image label
 * IMAGE_LABEL_BUILD_DIGEST; when an image with that digest exists no build
 * request is made.
 *
 * Pull: POST /images/create with X-Registry-Auth from $DOCKER_CONFIG or
 * ~/.docker/config.json (auths, credsStore, credHelpers through
 * `docker-credential-<name> get`), registry names normalized as the docker
 * CLI does.
 *
 * Errors: every failure is ITM_EXIT_IMAGE and names the image (and the
 * registry for pulls); the engine's own message is kept in engine_msg.
 *
 * Ownership: strings returned are new (caller frees); everything passed in
 * is borrowed.
 */
#ifndef ITM_IMAGE_H
#define ITM_IMAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct engine;
struct stack;
struct stack_service;

/* The label a built image carries: the build digest, 64 hex digits. */
#define IMAGE_LABEL_BUILD_DIGEST "io.itm-env.build-digest"

/* ---- .dockerignore (context.c) ---- */
struct image_ignore;
/* Parse .dockerignore text as the docker CLI reads it (comments, blank
 * lines, leading '/', '!' exceptions, path cleaning) and compile it as
 * moby's patternmatcher does.  NULL with err set on a bad pattern. */
struct image_ignore *image_ignore_parse (const char *text, size_t len, struct itm_err *err);
/* Add an exception pattern ("!name") at the end (keeps the Dockerfile and
 * .dockerignore in the context, as the CLI does). */
void image_ignore_keep (struct image_ignore *ig, const char *relpath);
/* True when relpath (slash-separated, relative to the context) is excluded. */
bool image_ignore_match (const struct image_ignore *ig, const char *relpath);
/* For an excluded directory: true when an exception may re-include
 * something under it (the walk must descend). */
bool image_ignore_descend (const struct image_ignore *ig, const char *reldir);
void image_ignore_free (struct image_ignore *ig);

/* ---- the build context (context.c) ---- */
struct image_context;
/* Prepare the context dir (absolute or relative) with its Dockerfile
 * (NULL: "Dockerfile"; relative to dir, or absolute; outside dir it is added
 * to the stream under a generated name).  Reads .dockerignore. */
struct image_context *image_context_open (const char *dir, const char *dockerfile,
                                          struct itm_err *err);
/* The Dockerfile's path inside the stream (the build's dockerfile= value). */
const char *image_context_dockerfile (const struct image_context *c);
/* SHA-256 over the context as sent, plus extra (args, target...): 64 hex
 * digits in hex.  Also counts files and bytes. */
int image_context_digest (struct image_context *c, const char *extra, char hex[65],
                          struct itm_err *err);
/* Stream the tar: an engine_call read_cb (ctx is the image_context). */
size_t image_context_read (char *buf, size_t size, void *ctx);
/* The stream's failure (a file that vanished, a read error), moved into
 * err (ITM_EXIT_IMAGE): -1, or 0 when the stream had none. */
int image_context_error (struct image_context *c, struct itm_err *err);
/* Counters of the last digest or stream: entries, file bytes, tar bytes. */
void image_context_stats (const struct image_context *c, uint64_t *files, uint64_t *bytes,
                          uint64_t *tar_bytes);
void image_context_free (struct image_context *c);

/* ---- registry names and credentials (auth.c) ---- */
struct image_ref {
  char *domain;      /* "docker.io", "127.0.0.1:5000" */
  char *path;        /* "library/busybox" */
  char *tag;         /* "latest" when neither tag nor digest was given; NULL with a digest only */
  char *digest;      /* "sha256:..." or NULL */
};
/* Parse and normalize as the docker CLI: docker.io default and aliases
 * (index.docker.io, registry-1.docker.io), library/ for official images,
 * latest by default.  0, or -1 with err set (ITM_EXIT_IMAGE) on a
 * malformed name. */
int image_ref_parse (const char *name, struct image_ref *r, struct itm_err *err);
void image_ref_free (struct image_ref *r);
/* The fully qualified name "docker.io/library/busybox:latest" (new). */
char *image_ref_string (const struct image_ref *r);
/* The credential key for a registry domain: "https://index.docker.io/v1/"
 * for docker.io, else the domain itself (new). */
char *image_auth_key (const char *domain);
/* The docker CLI's ConvertToHostname: strip the scheme and path (new). */
char *image_auth_hostname (const char *key);
/* The X-Registry-Auth value (base64url JSON) for a registry domain, from
 * config_dir (NULL: $DOCKER_CONFIG, then ~/.docker).  *out NULL when there
 * are no credentials.  An error when the config or a helper is broken. */
int image_registry_auth (const char *config_dir, const char *domain, char **out,
                         struct itm_err *err);
/* The credentials found (for tests): *user and *secret new or NULL; identity
 * token: *user NULL, *token set.  1 when some were found, 0 when none, -1
 * with err set. */
int image_credentials (const char *config_dir, const char *domain, char **user, char **secret,
                       char **token, struct itm_err *err);

/* ---- ensure (ensure.c): build or pull what the services need ---- */
/* AUTO: bars on a terminal, else stamped lines; QUIET: only the end line of a
 * build, a pull or a failure; JSON: event lines on stdout. */
enum image_progress { IMAGE_PROGRESS_AUTO, IMAGE_PROGRESS_QUIET, IMAGE_PROGRESS_JSON };
/* The builder: BuildKit (POST /build?version=2, the same tar context, its
 * progress decoded from the "moby.buildkit.trace" messages) or the classic
 * one.  AUTO: BuildKit when the engine has it (API 1.39 and later: Docker
 * 18.09 on), else classic.  BuildKit runs without a client session here: no
 * `RUN --mount=type=secret`/`type=ssh` sources, no registry credentials
 * for FROM images from the client (see itm-env(1), BUILDING). */
enum image_builder { IMAGE_BUILDER_AUTO, IMAGE_BUILDER_CLASSIC, IMAGE_BUILDER_BUILDKIT };
/* Parse a --builder or ITM_ENV_BUILDER value: auto, classic, buildkit.
 * 0, or -1 with err set (ITM_EXIT_USAGE; what names the source). */
int image_builder_parse (const char *value, const char *what, enum image_builder *out,
                         struct itm_err *err);
struct image_opts {
  const char *ns;
  int build;                 /* 1: --build (always), -1: --no-build, 0: when the digest changed */
  const char *pull;          /* --pull POLICY overriding pull_policy, or NULL */
  const char *builder;       /* --builder: auto, classic, buildkit; NULL: $ITM_ENV_BUILDER,
                                else auto */
  enum image_progress progress;
  bool pull_only;            /* itm-env pull: pull services with image:, build nothing */
  bool build_only;           /* itm-env build: build services with build:, pull nothing */
  const char *const *services; /* only these (none: all) */
  size_t nservices;
  atomic_int *cancel;        /* when it becomes non-zero (SIGINT), builds and pulls in flight
                                stop: the engine cancels a build whose client went away */
};
/* The image a service runs: image:, else "<ns>-<service>" (new string). */
char *image_service_ref (const struct stack_service *svc, const char *ns);
/* Build or pull every service's image as its policy says, deduplicated, in
 * parallel.  0, or -1 with err set (ITM_EXIT_IMAGE; ITM_EXIT_STACK for a bad
 * --pull). */
int image_ensure (struct engine *e, const struct stack *st, const struct image_opts *o,
                  struct itm_err *err);
/* Whether image (a name) is still the image image_id (a container's
 * ImageID): false when the name now points at another image (rebuilt or
 * re-pulled); true when unknown (no id, or the image cannot be read). */
bool image_is_current (struct engine *e, const char *image, const char *image_id);
/* Check a --pull value: always, missing, never, build. */
int image_check_policy (const char *policy, struct itm_err *err);

/* ---- itm-env's own image (self.c) ---- */
/* FROM scratch: this executable as /itm-env (the entrypoint), the shared
 * libraries the process loads (the lazily loaded ones forced in) and the
 * loader, at their paths; HOME and ITM_ENV_STATE_DIR under /tmp.  Tagged
 * IMAGE_SELF_REPO:<first 12 hex digits of the executable's SHA-256> and
 * labelled IMAGE_LABEL_SELF; built only when that tag is missing.  For the
 * reaper container (verify/reaper.c). */
#define IMAGE_SELF_REPO "itm-env-self"
#define IMAGE_LABEL_SELF "io.itm-env.self"
/* The tag for this executable (new), or NULL with err set. */
char *image_self_ref (struct itm_err *err);
/* Make sure the image exists: *ref is its name (new).  0, or -1 with err
 * set (ITM_EXIT_IMAGE). */
int image_self (struct engine *e, char **ref, struct itm_err *err);

#endif
