/* context.h - private to src/engine/: docker contexts (context.c), read as
 * the docker CLI reads them, for engine_open().
 *
 * Ownership: the strings of a struct engine_context are its own;
 * engine_context_free() frees them. */
#ifndef ITM_ENGINE_CONTEXT_H
#define ITM_ENGINE_CONTEXT_H

#include <stdbool.h>

#include "util/err.h"

struct engine_context {
  char *name;        /* the context in use; NULL: none (-H, DOCKER_HOST, nothing set) */
  char *from;        /* where its name came from: "--context", "DOCKER_CONTEXT", ... */
  char *host;        /* its docker endpoint; NULL for "default" (the environment's) */
  bool tls, skip_verify;
  char *ca, *cert, *key;   /* its TLS material, each NULL when the store has none */
};

/* Pick the context (opt: --context, NULL: none; host_given: -H) and load
 * it from the store.  -1 with err (ITM_EXIT_USAGE) on -H with --context, an
 * unknown context, an unreadable store. */
int engine_context_resolve (const char *opt, bool host_given, struct engine_context *c,
                            struct itm_err *err);
void engine_context_free (struct engine_context *c);

#endif
