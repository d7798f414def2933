/* engine.h - the Docker Engine API client.
 *
 * Connects as the docker CLI does (DOCKER_HOST unix:// or tcp://, with
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for TLS), negotiates the API
 * version, and speaks JSON with json-c.  Streaming bodies (JSON-lines
 * progress, multiplexed stdout/stderr frames, /events) are parsed as they
 * arrive, never held whole.
 *
 * Threads: one `struct engine` is used by one thread at a time.  For
 * requests in flight at once, engine_dup() a handle per thread, or use
 * engine_parallel(), which does that for a small pool of workers.
 *
 * JSON ownership: every json_object handed *out* (json_object **out) is a
 * new reference the caller must json_object_put(); every json_object passed
 * *in* (a request body) is borrowed and left untouched.  Objects passed to
 * stream callbacks are borrowed for the duration of the call: take a
 * json_object_get() to keep one.
 *
 * Errors: an engine answer with status >= 400 sets err->code to
 * ITM_EXIT_ENGINE (ITM_EXIT_NOT_FOUND for 404), err->http_status to the
 * status and err->engine_msg to the engine's own "message".  A connection
 * failure sets ITM_EXIT_CONNECT and names the socket or host with the likely
 * cause (no engine running, permission denied, TLS verification failed).
 * A body that is not what the API promises sets ITM_EXIT_ENGINE.
 */
#ifndef ITM_ENGINE_H
#define ITM_ENGINE_H

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The API versions this client speaks: it uses the lower of ENGINE_API_MAX
 * (the newest it is tested against: Docker 26.1) and the engine's own, and
 * refuses an engine below ENGINE_API_MIN, or one whose MinAPIVersion (asked
 * only of engines newer than ENGINE_API_MAX) is above ENGINE_API_MAX. */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.45"

struct engine;

struct engine_config {
  const char *host;          /* -H/--host; NULL: $DOCKER_HOST, a docker context (context.c),
                                the default socket */
  const char *context;       /* --context NAME; NULL: $DOCKER_CONTEXT, currentContext */
  long connect_timeout_ms;   /* 0: 5000 */
  long timeout_ms;           /* default whole-request timeout; 0: 60000 */
  bool light;                /* plain GETs on a unix socket go without libcurl (uds.c),
                                which loads only when a call needs it (ps, env, port) */
};

/* Read the configuration (flags over the environment) and prepare a handle.
 * No I/O yet: a bad DOCKER_HOST fails here (ITM_EXIT_USAGE), an absent
 * engine fails at the first request. */
struct engine *engine_open (const struct engine_config *cfg, struct itm_err *err);
/* GET /_ping (falls back to /version), pick the API version.  Called by
 * engine_open's users once; requests made before it use unversioned paths. */
int engine_negotiate (struct engine *e, struct itm_err *err);
/* The same, but first from the cache of negotiated versions kept per
 * endpoint (apicache.c: where, how it tells a restarted engine, how to
 * turn it off); a miss negotiates and writes the entry.  A cached version
 * the engine refuses is renegotiated and the call made again, unseen. */
int engine_negotiate_cached (struct engine *e, struct itm_err *err);
/* A new handle with the same configuration and negotiated version, for
 * another thread. */
struct engine *engine_dup (const struct engine *e);
void engine_close (struct engine *e);
#define cleanup_engine __attribute__ ((cleanup (engine_closep)))
void engine_closep (struct engine **e);

/* "unix:///var/run/docker.sock" or "tcp://127.0.0.1:2376 (TLS)". */
const char *engine_endpoint (const struct engine *e);
/* The docker context in use ("ci"; "default" when one names it), or NULL
 * (-H, DOCKER_HOST or nothing set); *from says where its name came from. */
const char *engine_context_name (const struct engine *e, const char **from);
/* The negotiated version ("1.41"), or NULL before engine_negotiate(). */
const char *engine_api_version (const struct engine *e);
/* The engine's own API version from /_ping ("1.41"), or NULL. */
const char *engine_server_api_version (const struct engine *e);
/* Compare the negotiated version with "1.44": <0, 0, >0. */
int engine_api_cmp (const struct engine *e, const char *version);

/* ---- Stream parsers, usable on their own (unit tests feed them bytes) ---- */

/* Concatenated JSON values (JSON-lines progress from pull, build, push,
 * import; /events).  Values may be split anywhere across feeds; whitespace
 * and CR/LF between them are skipped.  on_value returns 0 to go on, non-zero
 * to stop the stream (that value is returned by jsonl_feed). */
typedef int (*jsonl_cb) (json_object *value, void *ctx);
struct jsonl {
  struct json_tokener *tok;
  jsonl_cb cb;
  void *ctx;
  size_t values;       /* values delivered so far */
  bool partial;        /* inside a value (more bytes needed) */
};
void jsonl_init (struct jsonl *p, jsonl_cb cb, void *ctx);
/* <0 and err set on malformed JSON; >0 when the callback stopped; 0 otherwise. */
int jsonl_feed (struct jsonl *p, const char *data, size_t len, struct itm_err *err);
/* End of stream: an unfinished value is an error. */
int jsonl_finish (struct jsonl *p, struct itm_err *err);
void jsonl_free (struct jsonl *p);
/* A progress message carrying "error"/"errorDetail": its message, or NULL. */
const char *jsonl_stream_error (json_object *value);

/* Multiplexed stdout/stderr frames (logs, attach, exec without a TTY):
 * 8-byte headers [stream, 0, 0, 0, size32be] then payload; frames and
 * headers may be split anywhere.  Payload is delivered in pieces as it
 * arrives (a frame larger than a read is never buffered whole).  stream is
 * 0 stdin, 1 stdout, 2 stderr.  With raw=true (a TTY) there are no headers
 * and every byte goes to stream 1. */
typedef int (*mux_cb) (int stream, const char *data, size_t len, void *ctx);
struct mux {
  mux_cb cb;
  void *ctx;
  bool raw;
  unsigned char hdr[8];
  size_t hdr_len;      /* header bytes collected */
  uint32_t left;       /* payload bytes left in the current frame */
  int stream;
};
void mux_init (struct mux *p, bool raw, mux_cb cb, void *ctx);
int mux_feed (struct mux *p, const char *data, size_t len, struct itm_err *err);
/* A stream that ends inside a header or a frame is an error. */
int mux_finish (struct mux *p, struct itm_err *err);

/* ---- Requests ---- */

struct engine_call {
  const char *method;        /* "GET", "POST", "DELETE", "PUT", "HEAD" */
  const char *path;          /* "/containers/json?all=1": version prefix added */
  json_object *body;         /* JSON body (borrowed), or NULL */
  /* A raw body instead: from memory, or pulled from a read callback (tar
   * streams), sent chunked.  content_type defaults to application/x-tar. */
  const void *raw;
  size_t raw_len;
  size_t (*read_cb) (char *buf, size_t size, void *ctx); /* 0 = end; CURL_READFUNC_ABORT aborts */
  void *read_ctx;
  const char *content_type;
  const char *const *headers;  /* extra "Name: value" lines, NULL-terminated */
  /* The answer, pick one: on_json (JSON-lines stream), on_frame (multiplexed,
   * frames_raw for a TTY), on_data (raw bytes); none: the body is parsed as
   * one JSON value into *out (or discarded when out is NULL). */
  jsonl_cb on_json;
  mux_cb on_frame;
  bool frames_raw;
  int (*on_data) (const char *data, size_t len, void *ctx);
  void *ctx;
  long timeout_ms;           /* 0: the handle's default; <0: none (streams) */
  atomic_int *cancel;        /* when it becomes non-zero the call stops: set from another
                                thread or a signal handler, then engine_cancel_wake() */
  /* With on_json: a progress value carrying "error" ends the call with an
   * error (ITM_EXIT_ENGINE, the engine's message kept). */
  bool stream_errors;
};

/* Wake every call waiting on the engine so that it looks at its cancel
 * flag now: call it right after setting a flag.  Async-signal-safe; a
 * call whose flag is not set goes back to waiting. */
void engine_cancel_wake (void);

/* Perform one call.  Returns the HTTP status (2xx/3xx) or -1 with err set.
 * A callback that stops the stream ends the call early with success. */
long engine_call (struct engine *e, const struct engine_call *c, json_object **out,
                  struct itm_err *err);

/* Shorthands for plain JSON calls (path printf-formatted by the caller). */
int engine_get (struct engine *e, const char *path, json_object **out, struct itm_err *err);
int engine_post (struct engine *e, const char *path, json_object *body, json_object **out,
                 struct itm_err *err);
int engine_delete (struct engine *e, const char *path, struct itm_err *err);

/* A raw connection to the engine, for a request whose answer takes the
 * connection over (POST /exec/{id}/start with stdin: HTTP 101, then a
 * bidirectional stream).  Every kind of endpoint: unix://, tcp:// and tcp://
 * with TLS (libcurl connects and does the handshake, with the handle's
 * certificates).  The caller writes the request itself.
 * engine_raw_open: NULL with err set (ITM_EXIT_CONNECT) when it cannot
 * connect.  engine_raw_fd: the socket, to poll.  engine_raw_send: all of
 * data (waits while the socket is full), 0 or -1 with err set.
 * engine_raw_recv: bytes read, 0 at the end of the stream (the engine
 * closed it, or it broke), -2 when nothing is there yet (poll again).
 * Data may already wait inside TLS when the socket is not readable: after
 * a poll says readable, call it until it returns -2.
 * engine_raw_shutdown_write: no more to send (the other side reads EOF;
 * with TLS, a close_notify alert); what comes back can still be read. */
struct engine_raw;
struct engine_raw *engine_raw_open (struct engine *e, struct itm_err *err);
int engine_raw_fd (const struct engine_raw *r);
int engine_raw_send (struct engine_raw *r, const char *data, size_t len, struct itm_err *err);
ssize_t engine_raw_recv (struct engine_raw *r, char *buf, size_t len);
/* engine_raw_recv, waiting up to timeout_ms (-1: no limit) for bytes:
 * bytes read, 0 at the end of the stream, -2 when none came in time. */
ssize_t engine_raw_read (struct engine_raw *r, char *buf, size_t len, int timeout_ms);
void engine_raw_shutdown_write (struct engine_raw *r);
void engine_raw_close (struct engine_raw *r);

/* Percent-encode s for a query string value (caller frees). */
char *engine_urlencode (const char *s);
/* Build "?filters=..." style values: {"label":["a=b"]} as JSON text, encoded. */
char *engine_filters (const char *key, const char *const *values, size_t n);

/* Live /events, filtered (filters: a JSON object as the API takes it, borrowed,
 * may be NULL; since/until: 0 for none).  Each event goes to cb until it
 * returns non-zero, *cancel becomes non-zero, or until passes. */
int engine_events (struct engine *e, json_object *filters, long long since, long long until,
                   jsonl_cb cb, void *ctx, atomic_int *cancel, struct itm_err *err);

/* Run fn(e_i, i, ctx, err_i) for i in [0, n) on up to `workers` threads
 * (0: 4), each with its own engine_dup() handle, jobs taken in index order;
 * when no thread can be started the caller's thread does the work.  Every
 * thread started is joined before it returns.  errs (n entries, may be
 * NULL) gets each job's error.  Returns 0 when all succeeded, else -1 with
 * err holding the first failure in index order. */
typedef int (*engine_job_fn) (struct engine *e, size_t i, void *ctx, struct itm_err *err);
int engine_parallel (struct engine *e, size_t n, unsigned workers, engine_job_fn fn, void *ctx,
                     struct itm_err *errs, struct itm_err *err);

#endif
