/* priv.h - the proxy's insides, shared by server.c (the loop, proxies,
 * links) and api.c (Toxiproxy's HTTP API). */
#ifndef ITM_PROXY_PRIV_H
#define ITM_PROXY_PRIV_H

#include <poll.h>

#include "proxy/proxy.h"
#include "util/xalloc.h"

/* bytes queued in one direction before its source is read no more */
#define PX_MAXQ (256 * 1024)

struct px_chunk {
  struct px_chunk *next;
  int64_t at;                 /* mono_ns time it may leave */
  size_t len, off;
  unsigned char data[];
};

struct px_dir {                /* one direction of a link */
  struct px_chunk *head, *tail;
  size_t queued;               /* bytes held: the chunks' and the pipe's */
  int pipe[2];                 /* fast path: spliced bytes (when pipecap) */
  size_t piped, pipecap;       /* bytes in the pipe; its capacity (0: none) */
  bool nosplice, pipefull;     /* splice refused: chunks only; the pipe took
                                * no more (read again once some left) */
  bool eof, shut, limited;     /* source ended; shut down on the destination;
                                * limit_data reached (close once drained) */
  int64_t eof_at;
  uint64_t passed;             /* bytes read so far (limit_data) */
  struct px_shape_state shape;
};

struct px_act {                /* whether a toxic acts on a link (toxicity) */
  uint64_t id;
  bool on;
  int64_t since;               /* when it started to (timeout, reset_peer) */
};

struct px_proxy;
struct px_link {
  struct px_link *next;
  struct px_proxy *proxy;
  int cfd, ufd;                /* the client's socket, the upstream's */
  bool connecting, hung, dead, held[2];
  uint64_t hang_id;            /* hung: the hang toxic that holds it */
  struct px_dir dir[2];        /* [PX_UPSTREAM]: client to upstream */
  struct px_act *acts;
  size_t nacts, cap;
  int ci, ui;                  /* their pollfd entries this round, or -1 */
  int64_t next_at;             /* its next deadline (0: none) */
};

struct px_proxy {
  struct px_proxy *next;
  char *name, *listen, *upstream;
  bool enabled;
  int lfd, li;
  struct px_toxic *toxics;
  size_t ntoxics, cap;
  struct px_link *links;
};

struct px_client {             /* a connection to the API */
  struct px_client *next;
  int fd, pi;
  bool dead, closing;          /* closing: close once out is sent */
  struct buf in, out;
};

struct px_sched {              /* a scheduled fault */
  char *proxy;
  json_object *toxic;          /* the API body (owned) */
  int64_t at, dur;             /* ns after the trigger; dur 0: stays */
  int state;                   /* 0 pending, 1 added, 2 done */
};

struct px_server {
  int afd, ai;
  struct px_sched *sched;
  size_t nsched, schedcap;
  volatile sig_atomic_t *go;   /* the schedule's trigger */
  int64_t t_go;                /* when it came (0: not yet) */
  struct px_proxy *proxies;
  struct px_client *clients;
  uint64_t rng;
  struct pollfd *pfd;
  size_t npfd, pfdcap;
};

/* server.c: proxies (statuses and messages in Toxiproxy's words: 0 or an
 * HTTP status with *msg a new string) */
struct px_proxy *px_proxy_find (struct px_server *s, const char *name);
int px_proxy_add (struct px_server *s, const char *name, const char *listen,
                  const char *upstream, bool enabled, struct px_proxy **out, char **msg);
int px_proxy_update (struct px_server *s, struct px_proxy *p, const char *listen,
                     const char *upstream, bool enabled, char **msg);
void px_proxy_remove (struct px_server *s, struct px_proxy *p);
json_object *px_proxy_json (const struct px_proxy *p);
struct px_toxic *px_proxy_toxic (struct px_proxy *p, const char *name);
void px_proxy_toxic_add (struct px_proxy *p, struct px_toxic *t);  /* takes t's contents */
void px_proxy_toxic_remove (struct px_proxy *p, struct px_toxic *t);
void px_proxy_reset (struct px_proxy *p);
int px_listen (const char *addr, int *fd, char **bound, char **msg);
int px_set_nonblock (int fd);

/* api.c */
void px_api_accept (struct px_server *s);
void px_api_step (struct px_server *s, struct px_client *c, short revents);
void px_client_close (struct px_client *c);
/* handle one request (exposed for the unit test): *status and a new body
 * string (NULL: none) */
void px_api_handle (struct px_server *s, const char *method, const char *path,
                    const char *body, size_t bodylen, int *status, char **resp);

#endif
