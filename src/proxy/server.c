/* server.c - the proxy's loop: one poll(2) over the API, the proxies'
 * listeners and every link; the links' two directions move bytes from
 * their source to their destination when the toxics let them.
 *
 * A direction moves its bytes one of two ways:
 * - the fast path, while no toxic that shapes the bytes' timing (latency,
 *   bandwidth, slicer) acts on it: splice(2) from the source socket into a
 *   pipe of the direction's own and from the pipe into the destination,
 *   no copy through user space and no allocation per read.  The pipe is
 *   made on the direction's first read (an idle link holds no pipe) and
 *   sized to PX_MAXQ; where splice or the pipe fails (no fds left, a
 *   kernel that refuses) the direction keeps to the chunk path for good.
 * - the chunk path: each read shaped by px_shape() into timed chunks
 *   (malloc'd copies) queued until their time.
 * The toxics that do not shape the bytes (timeout, reset_peer, slow_close,
 * limit_data, fail_first, hang) work on both: they hold the direction,
 * close the link, delay the end or bound the read length.
 * The switch, either way, keeps order without copying or losing a byte:
 * the bytes in the pipe are always older than every queued chunk, so a
 * write empties the pipe before the first chunk, and a read goes into the
 * pipe only while no chunk is queued (a shaping toxic added mid-stream
 * shapes what is read from then on, as in Toxiproxy; once it is removed
 * and its last chunk has left, the direction is fast again). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

#include "proxy/priv.h"
#include "util/clock.h"
#include "util/json.h"

int
px_set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  return fl < 0 ? -1 : fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" into host (NULL: any) and port. */
static int
split_hostport (const char *addr, char **host, char **port)
{
  const char *colon;
  if (addr[0] == '[')
    {
      const char *end = strchr (addr, ']');
      if (end == NULL || end[1] != ':')
        return -1;
      *host = xstrndup (addr + 1, (size_t) (end - addr - 1));
      colon = end + 1;
    }
  else
    {
      colon = strrchr (addr, ':');
      if (colon == NULL)
        return -1;
      *host = colon == addr ? NULL : xstrndup (addr, (size_t) (colon - addr));
    }
  if (colon[1] == '\0')
    {
      free (*host);
      return -1;
    }
  *port = xstrdup (colon + 1);
  return 0;
}

static char *
sockname (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return xstrdup ("?");
  if (ss.ss_family == AF_INET6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
      inet_ntop (AF_INET6, &a->sin6_addr, ip, sizeof ip);
      return xasprintf ("[%s]:%u", ip, ntohs (a->sin6_port));
    }
  struct sockaddr_in *a = (struct sockaddr_in *) &ss;
  inet_ntop (AF_INET, &a->sin_addr, ip, sizeof ip);
  port = ntohs (a->sin_port);
  return xasprintf ("%s:%u", ip, port);
}

int
px_listen (const char *addr, int *fd, char **bound, char **msg)
{
  cleanup_free char *host = NULL, *port = NULL;
  if (split_hostport (addr, &host, &port) < 0)
    {
      *msg = xasprintf ("listen tcp %s: missing port in address (HOST:PORT)", addr);
      return 400;
    }
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE }, *res = NULL;
  int rc = getaddrinfo (host ? host : "0.0.0.0", port, &hints, &res);
  if (rc != 0)
    {
      *msg = xasprintf ("listen tcp %s: %s", addr, gai_strerror (rc));
      return 500;
    }
  int s = socket (res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  if (s >= 0)
    setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || bind (s, res->ai_addr, res->ai_addrlen) < 0 || listen (s, 1024) < 0)
    {
      *msg = xasprintf ("listen tcp %s: bind: %s", addr, strerror (errno));
      if (s >= 0)
        close (s);
      freeaddrinfo (res);
      return 500;
    }
  freeaddrinfo (res);
  *fd = s;
  *bound = sockname (s);
  return 0;
}

/* ---- links ---- */
static void
dir_free (struct px_dir *d)
{
  while (d->head)
    {
      struct px_chunk *c = d->head;
      d->head = c->next;
      free (c);
    }
  d->tail = NULL;
  d->queued = 0;
  if (d->pipecap)
    {
      close (d->pipe[0]);
      close (d->pipe[1]);
    }
  d->pipecap = d->piped = 0;
}

static void
link_close (struct px_link *l, bool reset)
{
  if (l->dead)
    return;
  struct linger lg = { 1, 0 };
  if (l->cfd >= 0)
    {
      if (reset)
        setsockopt (l->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close (l->cfd);
    }
  if (l->ufd >= 0)
    {
      if (reset)
        setsockopt (l->ufd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close (l->ufd);
    }
  l->cfd = l->ufd = -1;
  dir_free (&l->dir[0]);
  dir_free (&l->dir[1]);
  l->dead = true;
}

static void
link_free (struct px_link *l)
{
  link_close (l, false);
  free (l->acts);
  free (l);
}

static void
links_sweep (struct px_proxy *p)
{
  for (struct px_link **lp = &p->links; *lp;)
    if ((*lp)->dead)
      {
        struct px_link *l = *lp;
        *lp = l->next;
        link_free (l);
      }
    else
      lp = &(*lp)->next;
}

/* Whether toxic t acts on link l (rolled once per link against its
 * toxicity), and since when. */
static bool
link_on (struct px_server *s, struct px_link *l, const struct px_toxic *t, int64_t now,
         int64_t *since)
{
  for (size_t i = 0; i < l->nacts; i++)
    if (l->acts[i].id == t->id)
      {
        if (since)
          *since = l->acts[i].since;
        return l->acts[i].on;
      }
  bool on = t->toxicity >= 1.0 || px_rand01 (&s->rng) < t->toxicity;
  l->acts = xgrow (l->acts, &l->cap, l->nacts + 1, sizeof *l->acts);
  l->acts[l->nacts++] = (struct px_act) { t->id, on, now };
  if (since)
    *since = now;
  return on;
}

static void
at_min (int64_t *next, int64_t at)
{
  if (*next == 0 || at < *next)
    *next = at;
}

static bool
can_read (const struct px_link *l, int d)
{
  const struct px_dir *D = &l->dir[d];
  return !l->held[d] && !D->eof && !D->limited && !D->pipefull && D->queued < PX_MAXQ;
}

static bool
want_write (const struct px_link *l, int d, int64_t now)
{
  return !l->held[d] && (l->dir[d].piped || (l->dir[d].head && l->dir[d].head->at <= now));
}

static bool
dir_empty (const struct px_dir *D)
{
  return D->head == NULL && D->piped == 0;
}

/* The direction's pipe, made on its first use: false when none can be
 * (the direction keeps to chunks). */
static bool
dir_pipe (struct px_dir *D)
{
  if (D->pipecap)
    return true;
  if (D->nosplice || pipe2 (D->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    {
      D->nosplice = true;
      return false;
    }
  int sz = fcntl (D->pipe[1], F_SETPIPE_SZ, PX_MAXQ);
  if (sz <= 0)
    sz = fcntl (D->pipe[1], F_GETPIPE_SZ);
  D->pipecap = sz > 0 ? (size_t) sz : 65536;
  return true;
}

/* Splice the pipe's bytes to the destination: -1 when the link failed. */
static int
dir_splice_out (struct px_link *l, struct px_dir *D, int dst)
{
  while (D->piped && !l->held[D - l->dir])
    {
      ssize_t n = splice (D->pipe[0], NULL, dst, NULL, D->piped,
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
      D->piped -= (size_t) n;
      D->queued -= (size_t) n;
      D->pipefull = false;
    }
  return 0;
}

/* Splice what the source has into the pipe and on to the destination (the
 * fast path), a few rounds as dir_step's read loop does.  -1 when the link
 * failed, 1 when splice is refused and nothing moved (read with recv). */
static int
dir_splice_in (struct px_link *l, struct px_dir *D, int src, int dst, int64_t limit, int64_t now)
{
  for (int r = 0; r < 16 && can_read (l, (int) (D - l->dir)); r++)
    {
      size_t want = D->pipecap - D->piped;
      if (limit >= 0 && (uint64_t) limit - D->passed < want)
        want = (size_t) ((uint64_t) limit - D->passed);
      if (want == 0)
        break;
      ssize_t n = splice (src, NULL, D->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            {
              /* no data, or a pipe full before its byte count (each
               * buffer takes a page): wait for a write to empty it */
              if (errno == EAGAIN && D->piped)
                D->pipefull = true;
              break;
            }
          if ((errno == EINVAL || errno == ENOSYS) && D->piped == 0 && r == 0)
            {
              D->nosplice = true;
              return 1;
            }
          return -1;
        }
      if (n == 0)
        {
          D->eof = true;
          D->eof_at = now;
          break;
        }
      D->piped += (size_t) n;
      D->queued += (size_t) n;
      D->passed += (uint64_t) n;
      if (limit >= 0 && D->passed >= (uint64_t) limit)
        D->limited = true;
      size_t before = D->piped;
      if (dir_splice_out (l, D, dst) < 0)
        return -1;
      if (D->piped == before)
        break;                 /* the destination is full: poll */
    }
  return 0;
}

/* One direction's turn: read what the source has, write what may leave.
 * false when the link was closed. */
static bool
dir_step (struct px_server *s, struct px_link *l, int d, short sre, int64_t now)
{
  struct px_proxy *p = l->proxy;
  struct px_dir *D = &l->dir[d];
  int src = d == PX_UPSTREAM ? l->cfd : l->ufd, dst = d == PX_UPSTREAM ? l->ufd : l->cfd;
  const struct px_toxic *act[16];
  size_t nact = 0;
  int64_t slow_close = 0, limit = -1;

  for (size_t i = 0; i < p->ntoxics; i++)
    {
      const struct px_toxic *t = &p->toxics[i];
      if (t->stream != (enum px_stream) d || !link_on (s, l, t, now, NULL))
        continue;
      if ((t->type == PX_LATENCY || t->type == PX_BANDWIDTH || t->type == PX_SLICER)
          && nact < sizeof act / sizeof act[0])
        act[nact++] = t;
      else if (t->type == PX_SLOW_CLOSE && t->attr[0] > slow_close)
        slow_close = t->attr[0];
      else if (t->type == PX_LIMIT_DATA && (limit < 0 || t->attr[0] < limit))
        limit = t->attr[0];
    }
  if (limit >= 0 && D->passed >= (uint64_t) limit)
    D->limited = true;

  /* the fast path while nothing shapes the bytes and no chunk is queued */
  bool spliced = false;
  if (nact == 0 && D->head == NULL && can_read (l, d) && (sre & (POLLIN | POLLHUP | POLLERR))
      && !D->nosplice && dir_pipe (D))
    {
      int rc = dir_splice_in (l, D, src, dst, limit, now);
      if (rc < 0)
        {
          link_close (l, true);
          return false;
        }
      spliced = rc == 0;
    }

  for (int r = 0; r < 8 && !spliced && can_read (l, d) && (sre & (POLLIN | POLLHUP | POLLERR));
       r++)
    {
      static unsigned char buf[65536];
      size_t want = sizeof buf;
      if (limit >= 0 && (uint64_t) limit - D->passed < want)
        want = (size_t) ((uint64_t) limit - D->passed);
      ssize_t n = recv (src, buf, want, 0);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            break;
          link_close (l, true);
          return false;
        }
      if (n == 0)
        {
          D->eof = true;
          D->eof_at = now;
          break;
        }
      D->passed += (uint64_t) n;
      if (limit >= 0 && D->passed >= (uint64_t) limit)
        D->limited = true;
      size_t np;
      struct px_piece *pc = px_shape (&D->shape, act, nact, now, (size_t) n, &np, &s->rng);
      for (size_t i = 0; i < np; i++)
        {
          struct px_chunk *c = xmalloc (sizeof *c + pc[i].len);
          *c = (struct px_chunk) { .at = pc[i].at, .len = pc[i].len };
          memcpy (c->data, buf + pc[i].off, pc[i].len);
          if (D->tail)
            D->tail->next = c;
          else
            D->head = c;
          D->tail = c;
          D->queued += c->len;
        }
      free (pc);
      if ((size_t) n < want)
        break;
    }

  /* the pipe's bytes first: they are older than every chunk */
  if (dir_splice_out (l, D, dst) < 0)
    {
      link_close (l, true);
      return false;
    }
  while (D->piped == 0 && want_write (l, d, now))
    {
      struct px_chunk *c = D->head;
      ssize_t n = send (dst, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            break;
          link_close (l, true);
          return false;
        }
      c->off += (size_t) n;
      D->queued -= (size_t) n;
      if (c->off == c->len)
        {
          D->head = c->next;
          if (D->head == NULL)
            D->tail = NULL;
          free (c);
        }
    }
  if (D->head && !l->held[d] && D->head->at > now)
    at_min (&l->next_at, D->head->at);
  if (D->limited && dir_empty (D))
    {
      link_close (l, false);
      return false;
    }
  if (D->eof && dir_empty (D) && !D->shut)
    {
      int64_t at = D->eof_at + slow_close * 1000000;
      if (now >= at)
        {
          shutdown (dst, SHUT_WR);
          D->shut = true;
        }
      else
        at_min (&l->next_at, at);
    }
  return true;
}

static void
link_step (struct px_server *s, struct px_link *l, int64_t now)
{
  struct px_proxy *p = l->proxy;
  short cre = l->ci >= 0 ? s->pfd[l->ci].revents : 0;
  short ure = l->ui >= 0 ? s->pfd[l->ui].revents : 0;
  l->next_at = 0;
  if (l->dead)
    return;
  if (l->hung)
    {
      /* accepted, never answered: what comes is dropped; it ends when the
       * client goes or its hang toxic is removed */
      bool still = false;
      for (size_t i = 0; i < p->ntoxics; i++)
        still |= p->toxics[i].id == l->hang_id;
      char buf[4096];
      ssize_t n = 1;
      if (cre)
        n = recv (l->cfd, buf, sizeof buf, 0);
      if (!still || n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        link_close (l, false);
      return;
    }
  if (l->connecting)
    {
      if (!(ure & (POLLOUT | POLLERR | POLLHUP)))
        return;
      int e = 0;
      socklen_t len = sizeof e;
      if (getsockopt (l->ufd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0)
        {
          link_close (l, false);
          return;
        }
      l->connecting = false;
      ure = 0;
    }
  l->held[0] = l->held[1] = false;
  for (size_t i = 0; i < p->ntoxics; i++)
    {
      const struct px_toxic *t = &p->toxics[i];
      int64_t since;
      if ((t->type != PX_TIMEOUT && t->type != PX_RESET_PEER) || !link_on (s, l, t, now, &since))
        continue;
      int64_t at = since + t->attr[0] * 1000000;
      if (t->type == PX_TIMEOUT)
        l->held[t->stream] = true;
      if (t->type == PX_TIMEOUT && t->attr[0] == 0)
        continue;
      if (now >= at)
        {
          link_close (l, t->type == PX_RESET_PEER);
          return;
        }
      at_min (&l->next_at, at);
    }
  if (!dir_step (s, l, PX_UPSTREAM, cre, now) || !dir_step (s, l, PX_DOWNSTREAM, ure, now))
    return;
  if (l->dir[0].shut && l->dir[1].shut)
    link_close (l, false);
}

static void
nodelay (int fd)
{
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int
connect_upstream (const char *upstream, bool *connecting)
{
  cleanup_free char *host = NULL, *port = NULL;
  if (split_hostport (upstream, &host, &port) < 0)
    return -1;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
  if (getaddrinfo (host ? host : "127.0.0.1", port, &hints, &res) != 0)
    return -1;
  int fd = socket (res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0)
    {
      nodelay (fd);
      if (connect (fd, res->ai_addr, res->ai_addrlen) == 0)
        *connecting = false;
      else if (errno == EINPROGRESS)
        *connecting = true;
      else
        {
          close (fd);
          fd = -1;
        }
    }
  freeaddrinfo (res);
  return fd;
}

static void
proxy_accept (struct px_server *s, struct px_proxy *p, int64_t now)
{
  for (int k = 0; k < 64; k++)
    {
      int fd = accept4 (p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      nodelay (fd);
      struct px_link *l = xzalloc (sizeof *l);
      *l = (struct px_link) { .proxy = p, .cfd = fd, .ufd = -1, .ci = -1, .ui = -1 };
      l->next = p->links;
      p->links = l;
      bool failed = false;
      for (size_t i = 0; i < p->ntoxics && !failed && !l->hung; i++)
        {
          struct px_toxic *t = &p->toxics[i];
          if (t->type == PX_FAIL_FIRST && t->used < t->attr[0] && link_on (s, l, t, now, NULL))
            {
              t->used++;
              failed = true;
            }
          else if (t->type == PX_HANG && link_on (s, l, t, now, NULL))
            {
              l->hung = true;
              l->hang_id = t->id;
            }
        }
      if (failed)
        {
          link_close (l, true);
          continue;
        }
      if (!l->hung)
        {
          l->ufd = connect_upstream (p->upstream, &l->connecting);
          if (l->ufd < 0)
            {
              link_close (l, false);
              continue;
            }
        }
      link_step (s, l, now);
    }
}

/* ---- proxies ---- */
struct px_proxy *
px_proxy_find (struct px_server *s, const char *name)
{
  for (struct px_proxy *p = s->proxies; p; p = p->next)
    if (strcmp (p->name, name) == 0)
      return p;
  return NULL;
}

static void
proxy_stop (struct px_proxy *p)
{
  if (p->lfd >= 0)
    close (p->lfd);
  p->lfd = -1;
  for (struct px_link *l = p->links; l; l = l->next)
    link_close (l, false);
  links_sweep (p);
}

static int
proxy_start (struct px_proxy *p, char **msg)
{
  if (p->lfd >= 0)
    return 0;
  char *bound;
  int rc = px_listen (p->listen, &p->lfd, &bound, msg);
  if (rc)
    return rc;
  free (p->listen);
  p->listen = bound;
  return 0;
}

int
px_proxy_add (struct px_server *s, const char *name, const char *listen, const char *upstream,
              bool enabled, struct px_proxy **out, char **msg)
{
  if (px_proxy_find (s, name))
    {
      *msg = xstrdup ("proxy already exists");
      return 409;
    }
  struct px_proxy *p = xzalloc (sizeof *p);
  *p = (struct px_proxy) { .name = xstrdup (name),
                           .listen = xstrdup (listen && *listen ? listen : "0.0.0.0:0"),
                           .upstream = xstrdup (upstream), .enabled = enabled, .lfd = -1,
                           .li = -1 };
  int rc = enabled ? proxy_start (p, msg) : 0;
  if (rc)
    {
      free (p->name);
      free (p->listen);
      free (p->upstream);
      free (p);
      return rc;
    }
  struct px_proxy **pp = &s->proxies;
  while (*pp)
    pp = &(*pp)->next;
  *pp = p;
  if (out)
    *out = p;
  return 0;
}

int
px_proxy_update (struct px_server *s, struct px_proxy *p, const char *listen,
                 const char *upstream, bool enabled, char **msg)
{
  if (listen && strcmp (listen, p->listen) != 0)
    {
      proxy_stop (p);
      free (p->listen);
      p->listen = xstrdup (listen);
    }
  if (upstream && strcmp (upstream, p->upstream) != 0)
    {
      proxy_stop (p);
      free (p->upstream);
      p->upstream = xstrdup (upstream);
    }
  if (!enabled)
    proxy_stop (p);
  p->enabled = enabled;
  if (enabled)
    {
      int rc = proxy_start (p, msg);
      if (rc)
        {
          p->enabled = false;
          return rc;
        }
    }
  return 0;
}

void
px_proxy_remove (struct px_server *s, struct px_proxy *p)
{
  for (struct px_proxy **pp = &s->proxies; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  proxy_stop (p);
  px_proxy_reset (p);
  free (p->toxics);
  free (p->name);
  free (p->listen);
  free (p->upstream);
  free (p);
}

json_object *
px_proxy_json (const struct px_proxy *p)
{
  json_object *o = json_object_new_object (), *a = json_object_new_array ();
  json_object_object_add (o, "name", json_object_new_string (p->name));
  json_object_object_add (o, "listen", json_object_new_string (p->listen));
  json_object_object_add (o, "upstream", json_object_new_string (p->upstream));
  json_object_object_add (o, "enabled", json_object_new_boolean (p->enabled));
  /* Toxiproxy lists the upstream chain's toxics first */
  for (int d = PX_UPSTREAM; d <= PX_DOWNSTREAM; d++)
    for (size_t i = 0; i < p->ntoxics; i++)
      if (p->toxics[i].stream == (enum px_stream) d)
        json_object_array_add (a, px_toxic_json (&p->toxics[i]));
  json_object_object_add (o, "toxics", a);
  return o;
}

struct px_toxic *
px_proxy_toxic (struct px_proxy *p, const char *name)
{
  for (size_t i = 0; i < p->ntoxics; i++)
    if (strcmp (p->toxics[i].name, name) == 0)
      return &p->toxics[i];
  return NULL;
}

void
px_proxy_toxic_add (struct px_proxy *p, struct px_toxic *t)
{
  p->toxics = xgrow (p->toxics, &p->cap, p->ntoxics + 1, sizeof *p->toxics);
  p->toxics[p->ntoxics++] = *t;
  *t = (struct px_toxic) { 0 };
}

void
px_proxy_toxic_remove (struct px_proxy *p, struct px_toxic *t)
{
  uint64_t id = t->id;
  px_toxic_clear (t);
  size_t i = (size_t) (t - p->toxics);
  memmove (t, t + 1, (p->ntoxics - i - 1) * sizeof *t);
  p->ntoxics--;
  for (struct px_link *l = p->links; l; l = l->next)
    for (size_t k = 0; k < l->nacts; k++)
      if (l->acts[k].id == id)
        {
          l->acts[k] = l->acts[--l->nacts];
          break;
        }
}

void
px_proxy_reset (struct px_proxy *p)
{
  while (p->ntoxics)
    px_proxy_toxic_remove (p, &p->toxics[p->ntoxics - 1]);
}

/* ---- the server ---- */
struct px_server *
px_server_new (uint64_t seed)
{
  struct px_server *s = xzalloc (sizeof *s);
  s->afd = -1;
  s->rng = seed ? seed : (uint64_t) mono_ns () ^ ((uint64_t) getpid () << 32);
  return s;
}

void
px_server_free (struct px_server *s)
{
  if (s == NULL)
    return;
  while (s->proxies)
    px_proxy_remove (s, s->proxies);
  while (s->clients)
    {
      struct px_client *c = s->clients;
      s->clients = c->next;
      px_client_close (c);
      free (c);
    }
  if (s->afd >= 0)
    close (s->afd);
  for (size_t i = 0; i < s->nsched; i++)
    {
      free (s->sched[i].proxy);
      json_object_put (s->sched[i].toxic);
    }
  free (s->sched);
  free (s->pfd);
  free (s);
}

int
px_server_listen (struct px_server *s, const char *addr, char **bound, struct itm_err *err)
{
  cleanup_free char *msg = NULL;
  if (px_listen (addr, &s->afd, bound, &msg))
    return itm_err_set (err, ITM_EXIT_USAGE, "proxy: %s", msg);
  return 0;
}

int
px_server_populate (struct px_server *s, json_object *proxies, struct itm_err *err)
{
  int status = 0;
  cleanup_free char *resp = NULL;
  const char *body = json_object_to_json_string_ext (proxies, JSON_C_TO_STRING_PLAIN);
  px_api_handle (s, "POST", "/populate", body, strlen (body), &status, &resp);
  if (status != 201)
    {
      cleanup_json json_object *o = json_tokener_parse (resp ? resp : "");
      return itm_err_set (err, ITM_EXIT_USAGE, "proxy: %s",
                          json_key_str (o, "error") ? json_key_str (o, "error") : "populate failed");
    }
  return 0;
}

int
px_server_schedule (struct px_server *s, json_object *f, struct itm_err *err)
{
  const char *proxy = json_key_str (f, "proxy");
  json_object *t = json_key (f, "toxic");
  if (proxy == NULL || !json_object_is_type (t, json_type_object)
      || json_key_str (t, "name") == NULL)
    return itm_err_set (err, ITM_EXIT_USAGE, "proxy: --fault: expected {\"proxy\": NAME, "
                        "\"at_ms\": N, \"for_ms\": N, \"toxic\": {\"name\": ...}}");
  s->sched = xgrow (s->sched, &s->schedcap, s->nsched + 1, sizeof *s->sched);
  s->sched[s->nsched++] = (struct px_sched) {
    .proxy = xstrdup (proxy), .toxic = json_object_get (t),
    .at = json_int (f, "at_ms", 0) * 1000000, .dur = json_int (f, "for_ms", 0) * 1000000,
  };
  return 0;
}

void
px_server_trigger (struct px_server *s, volatile sig_atomic_t *go)
{
  s->go = go;
}

/* Due scheduled faults: added, or removed after their time; the next
 * deadline into *next. */
static void
sched_step (struct px_server *s, int64_t now, int64_t *next)
{
  if (s->t_go == 0 && s->go && *s->go)
    s->t_go = now;
  for (size_t i = 0; s->t_go && i < s->nsched; i++)
    {
      struct px_sched *f = &s->sched[i];
      int64_t at = s->t_go + (f->state == 0 ? f->at : f->at + f->dur);
      if (f->state == 2 || (f->state == 1 && f->dur == 0))
        continue;
      if (now < at)
        {
          at_min (next, at);
          continue;
        }
      const char *name = json_key_str (f->toxic, "name");
      cleanup_free char *path = f->state == 0 ? xasprintf ("/proxies/%s/toxics", f->proxy)
        : xasprintf ("/proxies/%s/toxics/%s", f->proxy, name);
      const char *body = json_object_to_json_string_ext (f->toxic, JSON_C_TO_STRING_PLAIN);
      int status;
      cleanup_free char *resp = NULL;
      px_api_handle (s, f->state == 0 ? "POST" : "DELETE", path, body, strlen (body), &status,
                     &resp);
      fprintf (stderr, "itm-env proxy: fault %s on %s %s (%d)\n", name, f->proxy,
               f->state == 0 ? "added" : "removed", status);
      f->state = f->state == 0 && f->dur ? 1 : 2;
      if (f->state == 1)
        at_min (next, s->t_go + f->at + f->dur);
    }
}

static int
pfd_add (struct px_server *s, int fd, short events)
{
  s->pfd = xgrow (s->pfd, &s->pfdcap, s->npfd + 1, sizeof *s->pfd);
  s->pfd[s->npfd] = (struct pollfd) { .fd = fd, .events = events };
  return (int) s->npfd++;
}

int
px_server_run (struct px_server *s, volatile sig_atomic_t *stop, struct itm_err *err)
{
  while (!*stop)
    {
      int64_t now = mono_ns (), next = 0;
      s->npfd = 0;
      s->ai = s->afd >= 0 ? pfd_add (s, s->afd, POLLIN) : -1;
      for (struct px_client *c = s->clients; c; c = c->next)
        c->pi = pfd_add (s, c->fd, (short) (POLLIN | (c->out.len ? POLLOUT : 0)));
      for (struct px_proxy *p = s->proxies; p; p = p->next)
        {
          p->li = p->lfd >= 0 ? pfd_add (s, p->lfd, POLLIN) : -1;
          for (struct px_link *l = p->links; l; l = l->next)
            {
              short ce = 0, ue = 0;
              l->ci = l->ui = -1;
              if (l->dead)
                continue;
              if (l->hung)
                ce = POLLIN;
              else if (l->connecting)
                ue = POLLOUT;
              else
                {
                  ce = (short) ((can_read (l, PX_UPSTREAM) ? POLLIN : 0)
                                | (want_write (l, PX_DOWNSTREAM, now) ? POLLOUT : 0));
                  ue = (short) ((can_read (l, PX_DOWNSTREAM) ? POLLIN : 0)
                                | (want_write (l, PX_UPSTREAM, now) ? POLLOUT : 0));
                }
              if (ce)
                l->ci = pfd_add (s, l->cfd, ce);
              if (ue)
                l->ui = pfd_add (s, l->ufd, ue);
              if (l->next_at)
                at_min (&next, l->next_at);
            }
        }
      sched_step (s, now, &next);
      int timeout = -1;
      if (next)
        {
          int64_t ms = (next - now + 999999) / 1000000;
          timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int) ms;
        }
      if (poll (s->pfd, s->npfd, timeout) < 0 && errno != EINTR)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "proxy: poll");
      if (*stop)
        break;
      now = mono_ns ();
      if (s->ai >= 0 && (s->pfd[s->ai].revents & POLLIN))
        px_api_accept (s);
      for (struct px_client **cp = &s->clients; *cp;)
        {
          struct px_client *c = *cp;
          if (c->pi >= 0 && s->pfd[c->pi].revents)
            px_api_step (s, c, s->pfd[c->pi].revents);
          if (c->dead)
            {
              *cp = c->next;
              px_client_close (c);
              free (c);
            }
          else
            cp = &c->next;
        }
      for (struct px_proxy *p = s->proxies; p; p = p->next)
        {
          for (struct px_link *l = p->links; l; l = l->next)
            link_step (s, l, now);
          if (p->li >= 0 && p->lfd >= 0 && (s->pfd[p->li].revents & POLLIN))
            proxy_accept (s, p, now);
          links_sweep (p);
          p->li = -1;
        }
    }
  return 0;
}
