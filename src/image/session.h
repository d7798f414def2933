/* session.h - a BuildKit session: the gRPC server a build's client runs
 * for the engine (src/image/ only: build.c opens one per BuildKit build).
 *
 * The client POSTs /session with "Upgrade: h2c" and the X-Docker-Expose-
 * Session-* headers (its id, name, shared key, one header per gRPC method
 * it serves); the engine answers 101 and from then on is an HTTP/2 gRPC
 * *client* on that connection, the build's client the server.  The build
 * request names the session (session=ID).  itm-env serves
 *   /moby.buildkit.secrets.v1.Secrets/GetSecret  RUN --mount=type=secret
 *   /grpc.health.v1.Health/Check                 the engine's liveness probe
 *   /moby.sshforward.v1.SSH/CheckAgent, ForwardAgent  RUN --mount=type=ssh
 *     (only when there are agents to forward): each ForwardAgent stream is
 *     one connection to the agent's socket, its bytes carried both ways
 *     in BytesMessage messages
 * and answers any other method Unimplemented (12); an unknown secret id is
 * NotFound (5), which BuildKit reports as "secret ID not found".
 *
 * Two parts: bk_h2 is the server on one HTTP/2 connection with no I/O of
 * its own (bytes in, bytes out: the unit test drives it with an nghttp2
 * client in memory); bk_session opens the connection and runs a bk_h2 on
 * it in a thread for the build's duration. */
#ifndef ITM_IMAGE_SESSION_H
#define ITM_IMAGE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <poll.h>

#include "util/err.h"
#include "util/xalloc.h"

struct engine;

/* One secret the session serves: id as the Dockerfile's mount names it,
 * its value from a file (read when asked) or given (a variable's value).
 * Borrowed: must outlive the session. */
struct bk_secret {
  const char *id;
  const char *file;            /* absolute path, or NULL */
  const char *value;           /* with file NULL: the value */
};

#define BK_SECRET_MAX (500 * 1024)   /* BuildKit's own limit on a secret */

/* One ssh agent the session forwards (RUN --mount=type=ssh,id=ID): the
 * agent's socket.  Borrowed, like the secrets. */
struct bk_ssh {
  const char *id;              /* "default" unless the mount names one */
  const char *path;            /* the agent's unix socket */
};

/* ---- the gRPC server on one HTTP/2 connection ---- */
struct bk_h2;
struct bk_h2 *bk_h2_new (const struct bk_secret *secrets, size_t n);
void bk_h2_free (struct bk_h2 *h);
/* Bytes received: 0, or -1 on an HTTP/2 protocol error (the connection is
 * to be closed once the pending bytes, if any, are sent). */
int bk_h2_feed (struct bk_h2 *h, const void *data, size_t len);
/* Append the bytes to send to out (none: out unchanged).  0, or -1. */
int bk_h2_pending (struct bk_h2 *h, struct buf *out);
/* false when the connection is over (both sides are done). */
bool bk_h2_alive (struct bk_h2 *h);
/* The ssh agents to forward (none: the methods answer NotFound). */
void bk_h2_set_ssh (struct bk_h2 *h, const struct bk_ssh *ssh, size_t n);
/* The agent connections to watch: up to max pollfds (POLLIN) into p; the
 * count.  bk_h2_io: fd (one of them) is readable. */
size_t bk_h2_pollfds (struct bk_h2 *h, struct pollfd *p, size_t max);
void bk_h2_io (struct bk_h2 *h, int fd);
/* Calls answered so far: health checks, secrets given, secrets refused. */
void bk_h2_counts (const struct bk_h2 *h, unsigned *health, unsigned *given, unsigned *refused);

/* ---- the session on the engine ---- */
struct bk_session;
/* Open the session (name: shown by the engine, e.g. the service) and serve
 * it in a thread.  NULL with err set when the engine refuses or cannot be
 * reached. */
struct bk_session *bk_session_start (struct engine *e, const char *name,
                                     const struct bk_secret *secrets, size_t n,
                                     const struct bk_ssh *ssh, size_t nssh,
                                     struct itm_err *err);
/* The id the build request names (session=ID). */
const char *bk_session_id (const struct bk_session *s);
/* Stop serving, close the connection, free s (NULL: nothing). */
void bk_session_stop (struct bk_session *s);

#endif
