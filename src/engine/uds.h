/* uds.h - one plain HTTP/1.1 GET over the engine's unix socket, without
 * libcurl (uds.c).  Private to src/engine/: conn.c uses it for the calls
 * of a "light" handle (engine_config.light) and falls back to libcurl
 * for anything it does not answer. */
#ifndef ITM_ENGINE_UDS_H
#define ITM_ENGINE_UDS_H

#include "util/xalloc.h"

struct uds_resp {
  long status;
  char api_version[32];   /* the Api-Version header, "" when none */
  struct buf body;        /* NUL-terminated; the caller frees it */
};

enum {
  UDS_OK = 0,
  UDS_FALLBACK = -1,      /* no usable answer (cannot connect, not HTTP, cut short, too
                             big): make the call with libcurl, which says why */
  UDS_TIMEOUT = -2,       /* sent, but no whole answer within timeout_ms */
};

/* method (GET or HEAD) target ("/v1.41/containers/json?...") on the socket
 * at path, over *fd (kept open between calls when the engine keeps the
 * connection; -1: connect first).  timeout_ms <= 0: none. */
int uds_request (int *fd, const char *path, const char *method, const char *target,
                 long timeout_ms, size_t max_body, struct uds_resp *r);

#endif
