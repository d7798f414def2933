/* proxy.h - the fault proxy: TCP forwarding with toxics, driven through
 * Toxiproxy's HTTP API (`itm-env proxy`).
 *
 * One thread, one poll(2) loop: the API's listener and its clients, each
 * proxy's listener, and every proxied connection (a "link": the client's
 * socket and the upstream's, two directions, each a queue of chunks with
 * the time they may leave).  Toxics are data (struct px_toxic): what a
 * toxic does to a direction is px_shape() (when bytes leave) and a few
 * deadlines the loop reads (timeout, reset_peer, slow_close, limit_data);
 * fail_first and hang act when a connection is accepted.
 *
 * Ownership: json_object values handed in are borrowed; the ones handed
 * out are new references for the caller to put.
 */
#ifndef ITM_PROXY_H
#define ITM_PROXY_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* ---- toxics (toxic.c) ---- */
enum px_type {
  PX_LATENCY,       /* latency, jitter (ms) */
  PX_BANDWIDTH,     /* rate (KB/s) */
  PX_SLOW_CLOSE,    /* delay (ms) */
  PX_TIMEOUT,       /* timeout (ms; 0: hold until removed) */
  PX_RESET_PEER,    /* timeout (ms) */
  PX_SLICER,        /* average_size, size_variation (bytes), delay (us) */
  PX_LIMIT_DATA,    /* bytes */
  PX_FAIL_FIRST,    /* connections: the first N are reset at accept (itm-env's) */
  PX_HANG,          /* accepted, never forwarded nor answered (itm-env's) */
  PX_NTYPES
};
enum px_stream { PX_UPSTREAM, PX_DOWNSTREAM };
#define PX_MAX_ATTRS 3

struct px_toxic {
  uint64_t id;                 /* unique in the process */
  char *name;                  /* owned */
  enum px_type type;
  enum px_stream stream;
  double toxicity;             /* 0..1: the share of connections it acts on */
  int64_t attr[PX_MAX_ATTRS];  /* in the order of px_type_attrs() */
  int64_t used;                /* fail_first: connections failed so far */
};

/* The type's name ("latency"), or NULL; its attribute names (NULL-ended). */
const char *px_type_name (enum px_type t);
const char *const *px_type_attrs (enum px_type t);
int px_type_find (const char *name);  /* the type, or -1 */

/* A toxic from an API body (POST /proxies/{p}/toxics): Toxiproxy's
 * defaults (stream downstream, toxicity 1, name TYPE_STREAM, attributes
 * 0).  0, or an HTTP status (400) with *msg a new string in Toxiproxy's
 * words. */
int px_toxic_parse (json_object *body, struct px_toxic *t, char **msg);
/* An update (POST /proxies/{p}/toxics/{t}): attributes and toxicity merged
 * into a copy of t, validated; t changed only on success.  0 or 400. */
int px_toxic_update (struct px_toxic *t, json_object *body, char **msg);
/* The toxic as Toxiproxy renders it (new reference). */
json_object *px_toxic_json (const struct px_toxic *t);
void px_toxic_clear (struct px_toxic *t);

/* When the bytes of one read leave: a direction's shaping state, the
 * pieces it is cut in and the time each may be written. */
struct px_shape_state {
  int64_t last_at;             /* the last piece's time: order is kept */
  int64_t bw_next;             /* bandwidth: when the link is free again */
};
struct px_piece {
  size_t off, len;
  int64_t at;                  /* mono_ns time it may leave */
};
/* n bytes read at `now` through the toxics active[] (in the order they were
 * added; types other than latency, bandwidth and slicer are ignored): the
 * pieces, a new array (*npieces of them).  rng: xorshift state. */
struct px_piece *px_shape (struct px_shape_state *st, const struct px_toxic *const *active,
                           size_t nactive, int64_t now, size_t n, size_t *npieces,
                           uint64_t *rng);
/* A random number in [0, 1) / in [0, n) from the xorshift state. */
double px_rand01 (uint64_t *rng);
int64_t px_randn (uint64_t *rng, int64_t n);

/* ---- the server (server.c, api.c) ---- */
struct px_server;
/* seed: the random state (0: from the clock). */
struct px_server *px_server_new (uint64_t seed);
void px_server_free (struct px_server *s);
/* Listen for the API on addr ("HOST:PORT", "[V6]:PORT", ":PORT"; port 0:
 * any); *bound the address it got, a new string. */
int px_server_listen (struct px_server *s, const char *addr, char **bound, struct itm_err *err);
/* Create the proxies of a JSON array as POST /populate does (the --config
 * file, --proxy options).  -1 with err set (nothing created). */
int px_server_populate (struct px_server *s, json_object *proxies, struct itm_err *err);
/* A scheduled fault (x-itm.faults): {"proxy": NAME, "at_ms": N, "for_ms":
 * N (0: stays), "toxic": {...}}; its clock starts when *go is set (up
 * sends SIGUSR1 once every service is ready).  -1 with err set. */
int px_server_schedule (struct px_server *s, json_object *fault, struct itm_err *err);
void px_server_trigger (struct px_server *s, volatile sig_atomic_t *go);
/* Serve until *stop is set (by a signal handler). */
int px_server_run (struct px_server *s, volatile sig_atomic_t *stop, struct itm_err *err);

#endif
