/* session.c - a BuildKit session (session.h): gRPC over HTTP/2, served
 * with libnghttp2 on the connection the engine hijacks for POST /session.
 *
 * gRPC on HTTP/2: a call is one stream; the request is HEADERS (:path is
 * "/package.Service/Method") and DATA holding length-prefixed messages
 * (1 byte "compressed", 4 bytes big-endian length, the protobuf bytes),
 * ended by END_STREAM.  The answer is HEADERS (:status 200, content-type
 * application/grpc), DATA with the message framed the same way, and
 * trailers (grpc-status 0); a failure is a single HEADERS with END_STREAM
 * carrying grpc-status and grpc-message ("trailers-only").
 *
 * A secret's value passes through memory only: read when asked, framed,
 * sent, and the buffers wiped when the stream closes. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/engine.h"
#include "image/session.h"
#include "image/session.pb-c.h"
#include "util/file.h"
#include "util/xalloc.h"

#define PATH_HEALTH "/grpc.health.v1.Health/Check"
#define PATH_SECRET "/moby.buildkit.secrets.v1.Secrets/GetSecret"
#define PATH_SSH_CHECK "/moby.sshforward.v1.SSH/CheckAgent"
#define PATH_SSH_FORWARD "/moby.sshforward.v1.SSH/ForwardAgent"
#define SSH_ID_HEADER "buildkit.ssh.id"   /* the gRPC metadata naming the agent */
#define REQUEST_MAX (64 * 1024)   /* a request message: an id and a few annotations */

enum { GRPC_OK = 0, GRPC_INVALID_ARGUMENT = 3, GRPC_NOT_FOUND = 5, GRPC_RESOURCE_EXHAUSTED = 8,
       GRPC_UNIMPLEMENTED = 12, GRPC_INTERNAL = 13, GRPC_UNAVAILABLE = 14 };

struct h2_stream {
  int32_t id;
  char *path;
  struct buf body;             /* the request's DATA */
  bool too_big;
  unsigned char *resp;         /* the framed answer */
  size_t resp_len, resp_off;
  /* ForwardAgent: a connection to the agent */
  bool forward;
  char *ssh_id;
  int agent;                   /* its socket, -1: none (any more) */
  bool agent_eof, deferred;
  struct buf out;              /* framed BytesMessages for the engine */
  struct h2_stream *next;
};

struct bk_h2 {
  nghttp2_session *ng;
  const struct bk_secret *secrets;
  size_t nsecrets;
  const struct bk_ssh *ssh;
  size_t nssh;
  struct h2_stream *streams;
  bool broken;
  unsigned health, given, refused;
};

static void
wipe (void *p, size_t n)
{
  if (p && n)
    explicit_bzero (p, n);
}

static void
stream_free (struct h2_stream *st)
{
  if (st->agent >= 0)
    close (st->agent);
  free (st->ssh_id);
  buf_free (&st->out);
  free (st->path);
  wipe (st->body.data, st->body.len);
  buf_free (&st->body);
  wipe (st->resp, st->resp_len);
  free (st->resp);
  free (st);
}

/* ---- answers ---- */

/* grpc-message: percent-encoded outside printable ASCII (and '%'). */
static char *
grpc_message (const char *s)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 || *p > 0x7e || *p == '%')
      buf_addf (&b, "%%%02X", *p);
    else
      buf_addc (&b, (char) *p);
  return buf_steal (&b);
}

#define NV(n, v)                                                                    \
  { (uint8_t *) (n), (uint8_t *) (v), sizeof (n) - 1, strlen (v),                   \
    NGHTTP2_NV_FLAG_NONE }

static void
answer_error (struct bk_h2 *h, struct h2_stream *st, int code, const char *msg)
{
  char cs[16];
  snprintf (cs, sizeof cs, "%d", code);
  cleanup_free char *m = grpc_message (msg);
  nghttp2_nv nva[] = { NV (":status", "200"), NV ("content-type", "application/grpc"),
                       NV ("grpc-status", cs), NV ("grpc-message", m) };
  if (nghttp2_submit_response (h->ng, st->id, nva, sizeof nva / sizeof *nva, NULL) != 0)
    h->broken = true;
}

static ssize_t
read_resp (nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
           nghttp2_data_source *src, void *user)
{
  (void) src;
  (void) user;
  struct h2_stream *st = nghttp2_session_get_stream_user_data (ng, id);
  if (st == NULL)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t left = st->resp_len - st->resp_off;
  size_t n = left < len ? left : len;
  memcpy (out, st->resp + st->resp_off, n);
  st->resp_off += n;
  if (st->resp_off == st->resp_len)
    {
      /* the message is out: the stream ends with the trailers */
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_nv tr[] = { NV ("grpc-status", "0") };
      if (nghttp2_submit_trailer (ng, id, tr, 1) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  return (ssize_t) n;
}

/* msg framed: [0][length][bytes] (new, *len its size). */
static unsigned char *
frame (const ProtobufCMessage *msg, size_t *len)
{
  size_t n = protobuf_c_message_get_packed_size (msg);
  unsigned char *f = xmalloc (n + 5);
  f[0] = 0;
  f[1] = (unsigned char) (n >> 24);
  f[2] = (unsigned char) (n >> 16);
  f[3] = (unsigned char) (n >> 8);
  f[4] = (unsigned char) n;
  protobuf_c_message_pack (msg, f + 5);
  *len = n + 5;
  return f;
}

/* Answer with msg, framed. */
static void
answer (struct bk_h2 *h, struct h2_stream *st, const ProtobufCMessage *msg)
{
  st->resp = frame (msg, &st->resp_len);
  nghttp2_nv nva[] = { NV (":status", "200"), NV ("content-type", "application/grpc") };
  nghttp2_data_provider dp = { .read_callback = read_resp };
  if (nghttp2_submit_response (h->ng, st->id, nva, 2, &dp) != 0)
    h->broken = true;
}

static const struct bk_secret *
find_secret (const struct bk_h2 *h, const char *id)
{
  for (size_t i = 0; i < h->nsecrets; i++)
    if (strcmp (h->secrets[i].id, id) == 0)
      return &h->secrets[i];
  return NULL;
}

static const struct bk_ssh *
find_ssh (const struct bk_h2 *h, const char *id)
{
  for (size_t i = 0; i < h->nssh; i++)
    if (strcmp (h->ssh[i].id, id) == 0)
      return &h->ssh[i];
  return NULL;
}

static void
get_secret (struct bk_h2 *h, struct h2_stream *st, const uint8_t *msg, size_t len)
{
  Itm__Session__GetSecretRequest *rq = itm__session__get_secret_request__unpack (NULL, len, msg);
  if (rq == NULL)
    {
      answer_error (h, st, GRPC_INVALID_ARGUMENT, "not a GetSecretRequest");
      return;
    }
  const struct bk_secret *s = find_secret (h, rq->id ? rq->id : "");
  if (s == NULL)
    {
      h->refused++;
      /* BuildKit adds ": not found" */
      cleanup_free char *m = xasprintf ("secret %s", rq->id ? rq->id : "");
      answer_error (h, st, GRPC_NOT_FOUND, m);
      itm__session__get_secret_request__free_unpacked (rq, NULL);
      return;
    }
  itm__session__get_secret_request__free_unpacked (rq, NULL);
  char *data = NULL;
  size_t n = 0;
  if (s->file)
    {
      struct itm_err err = { 0 };
      data = file_read (s->file, BK_SECRET_MAX, &n, ITM_EXIT_FAILURE, &err);
      if (data == NULL)
        {
          /* the engine's message names the secret; this names the file */
          h->refused++;
          cleanup_free char *m = xasprintf ("secret %s: %s", s->id, err.msg ? err.msg : "unreadable");
          answer_error (h, st, GRPC_NOT_FOUND, m);
          itm_err_clear (&err);
          return;
        }
    }
  else
    {
      n = strlen (s->value ? s->value : "");
      if (n > BK_SECRET_MAX)
        {
          h->refused++;
          answer_error (h, st, GRPC_RESOURCE_EXHAUSTED, "secret too large");
          return;
        }
      data = xmalloc (n + 1);
      memcpy (data, s->value ? s->value : "", n);
    }
  Itm__Session__GetSecretResponse rs = ITM__SESSION__GET_SECRET_RESPONSE__INIT;
  rs.data.data = (uint8_t *) data;
  rs.data.len = n;
  answer (h, st, &rs.base);
  wipe (data, n);
  free (data);
  h->given++;
}

/* A request stream ended: answer it. */
static void
dispatch (struct bk_h2 *h, struct h2_stream *st)
{
  const unsigned char *b = (const unsigned char *) st->body.data;
  size_t len = st->body.len;
  if (st->too_big)
    {
      answer_error (h, st, GRPC_RESOURCE_EXHAUSTED, "request too large");
      return;
    }
  const char *path = st->path ? st->path : "";
  bool health = strcmp (path, PATH_HEALTH) == 0, secret = strcmp (path, PATH_SECRET) == 0;
  bool check = h->nssh && strcmp (path, PATH_SSH_CHECK) == 0;
  if (!health && !secret && !check)
    {
      cleanup_free char *m = xasprintf ("unknown method %s", path);
      answer_error (h, st, GRPC_UNIMPLEMENTED, m);
      return;
    }
  /* one message: [compressed][length][bytes] */
  uint32_t mlen = len >= 5 ? (uint32_t) b[1] << 24 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 8
                             | b[4] : 0;
  if (len < 5 || (size_t) mlen != len - 5)
    {
      answer_error (h, st, GRPC_INTERNAL, "expected one length-prefixed message");
      return;
    }
  if (b[0] != 0)
    {
      answer_error (h, st, GRPC_UNIMPLEMENTED, "compressed messages are not supported");
      return;
    }
  if (health)
    {
      h->health++;
      Itm__Session__HealthCheckResponse rs = ITM__SESSION__HEALTH_CHECK_RESPONSE__INIT;
      rs.status = ITM__SESSION__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
      answer (h, st, &rs.base);
      return;
    }
  if (check)
    {
      Itm__Session__CheckAgentRequest *rq = itm__session__check_agent_request__unpack (NULL, mlen,
                                                                                      b + 5);
      const char *id = rq && rq->id && *rq->id ? rq->id : "default";
      if (find_ssh (h, id) == NULL)
        {
          cleanup_free char *m = xasprintf ("no ssh agent '%s' is forwarded (build.ssh)", id);
          answer_error (h, st, GRPC_NOT_FOUND, m);
        }
      else
        {
          Itm__Session__CheckAgentResponse rs = ITM__SESSION__CHECK_AGENT_RESPONSE__INIT;
          answer (h, st, &rs.base);
        }
      if (rq)
        itm__session__check_agent_request__free_unpacked (rq, NULL);
      return;
    }
  get_secret (h, st, b + 5, mlen);
}

/* ---- ForwardAgent: a stream both ways ---- */

static ssize_t
read_forward (nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
              nghttp2_data_source *src, void *user)
{
  (void) src;
  (void) user;
  struct h2_stream *st = nghttp2_session_get_stream_user_data (ng, id);
  if (st == NULL)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (st->out.len)
    {
      size_t n = st->out.len < len ? st->out.len : len;
      memcpy (out, st->out.data, n);
      buf_consume (&st->out, n);
      return (ssize_t) n;
    }
  if (!st->agent_eof)
    {
      st->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  nghttp2_nv tr[] = { NV ("grpc-status", "0") };
  if (nghttp2_submit_trailer (ng, id, tr, 1) != 0)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static void
forward_start (struct bk_h2 *h, struct h2_stream *st)
{
  const char *id = st->ssh_id && *st->ssh_id ? st->ssh_id : "default";
  const struct bk_ssh *a = find_ssh (h, id);
  if (a == NULL)
    {
      cleanup_free char *m = xasprintf ("no ssh agent '%s' is forwarded (build.ssh)", id);
      answer_error (h, st, GRPC_NOT_FOUND, m);
      return;
    }
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = -1;
  if (strlen (a->path) >= sizeof sa.sun_path)
    errno = ENAMETOOLONG;
  else
    {
      memcpy (sa.sun_path, a->path, strlen (a->path) + 1);
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
        {
          int e = errno;
          close (fd);
          fd = -1;
          errno = e;
        }
    }
  if (fd < 0)
    {
      cleanup_free char *m = xasprintf ("ssh agent '%s' at %s: %s", id, a->path, strerror (errno));
      answer_error (h, st, GRPC_UNAVAILABLE, m);
      return;
    }
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  st->agent = fd;
  nghttp2_nv nva[] = { NV (":status", "200"), NV ("content-type", "application/grpc") };
  nghttp2_data_provider dp = { .read_callback = read_forward };
  if (nghttp2_submit_response (h->ng, st->id, nva, 2, &dp) != 0)
    h->broken = true;
}

/* The engine's whole messages in st->body go to the agent. */
static void
forward_in (struct h2_stream *st)
{
  const unsigned char *b = (const unsigned char *) st->body.data;
  while (st->body.len >= 5)
    {
      b = (const unsigned char *) st->body.data;
      size_t n = (size_t) b[1] << 24 | (size_t) b[2] << 16 | (size_t) b[3] << 8 | b[4];
      if (st->body.len < n + 5)
        return;
      Itm__Session__BytesMessage *m = b[0] == 0
                                        ? itm__session__bytes_message__unpack (NULL, n, b + 5)
                                        : NULL;
      for (size_t off = 0; m && st->agent >= 0 && off < m->data.len;)
        {
          ssize_t w = write (st->agent, m->data.data + off, m->data.len - off);
          if (w > 0)
            off += (size_t) w;
          else if (w < 0 && (errno == EINTR || errno == EAGAIN))
            {
              struct pollfd p = { .fd = st->agent, .events = POLLOUT };
              poll (&p, 1, 1000);
            }
          else
            break;   /* the agent went away: its end comes as a read of 0 */
        }
      if (m)
        itm__session__bytes_message__free_unpacked (m, NULL);
      buf_consume (&st->body, n + 5);
    }
}

void
bk_h2_set_ssh (struct bk_h2 *h, const struct bk_ssh *ssh, size_t n)
{
  h->ssh = ssh;
  h->nssh = n;
}

size_t
bk_h2_pollfds (struct bk_h2 *h, struct pollfd *p, size_t max)
{
  size_t k = 0;
  for (struct h2_stream *st = h->streams; st && k < max; st = st->next)
    if (st->agent >= 0 && !st->agent_eof)
      p[k++] = (struct pollfd){ .fd = st->agent, .events = POLLIN };
  return k;
}

void
bk_h2_io (struct bk_h2 *h, int fd)
{
  struct h2_stream *st = h->streams;
  while (st && st->agent != fd)
    st = st->next;
  if (st == NULL || st->agent_eof)
    return;
  unsigned char chunk[16384];
  ssize_t n = read (fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n > 0)
    {
      Itm__Session__BytesMessage m = ITM__SESSION__BYTES_MESSAGE__INIT;
      m.data.data = chunk;
      m.data.len = (size_t) n;
      size_t len = 0;
      cleanup_free unsigned char *f = frame (&m.base, &len);
      buf_add (&st->out, f, len);
    }
  else
    st->agent_eof = true;
  if (st->deferred)
    {
      st->deferred = false;
      nghttp2_session_resume_data (h->ng, st->id);
    }
}

/* ---- nghttp2 callbacks ---- */

static int
on_begin_headers (nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
  struct bk_h2 *h = user;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  struct h2_stream *st = xzalloc (sizeof *st);
  st->id = f->hd.stream_id;
  st->agent = -1;
  st->next = h->streams;
  h->streams = st;
  nghttp2_session_set_stream_user_data (ng, f->hd.stream_id, st);
  return 0;
}

static int
on_header (nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
           const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
  (void) flags;
  (void) user;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  struct h2_stream *st = nghttp2_session_get_stream_user_data (ng, f->hd.stream_id);
  if (st && namelen == 5 && memcmp (name, ":path", 5) == 0 && st->path == NULL)
    st->path = xstrndup ((const char *) value, valuelen);
  else if (st && namelen == strlen (SSH_ID_HEADER) && memcmp (name, SSH_ID_HEADER, namelen) == 0
           && st->ssh_id == NULL)
    st->ssh_id = xstrndup ((const char *) value, valuelen);
  return 0;
}

static int
on_data (nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
         void *user)
{
  (void) flags;
  (void) user;
  struct h2_stream *st = nghttp2_session_get_stream_user_data (ng, id);
  if (st == NULL)
    return 0;
  if (st->body.len + len > REQUEST_MAX)
    st->too_big = true;
  else
    buf_add (&st->body, data, len);
  if (st->forward)
    forward_in (st);
  return 0;
}

static int
on_frame (nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
  struct bk_h2 *h = user;
  if (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS)
    return 0;
  struct h2_stream *st = nghttp2_session_get_stream_user_data (ng, f->hd.stream_id);
  if (st == NULL)
    return 0;
  if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST && h->nssh
      && st->path && strcmp (st->path, PATH_SSH_FORWARD) == 0)
    {
      /* a stream both ways: the agent's connection opens now */
      st->forward = true;
      forward_start (h, st);
    }
  if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  if (st->forward)
    {
      /* the engine's side is done: so is the agent's input */
      if (st->agent >= 0)
        shutdown (st->agent, SHUT_WR);
    }
  else if (st->resp == NULL)
    dispatch (h, st);
  return 0;
}

static int
on_close (nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
  (void) ng;
  (void) code;
  struct bk_h2 *h = user;
  for (struct h2_stream **pp = &h->streams; *pp; pp = &(*pp)->next)
    if ((*pp)->id == id)
      {
        struct h2_stream *st = *pp;
        *pp = st->next;
        stream_free (st);
        break;
      }
  return 0;
}

struct bk_h2 *
bk_h2_new (const struct bk_secret *secrets, size_t n)
{
  struct bk_h2 *h = xzalloc (sizeof *h);
  h->secrets = secrets;
  h->nsecrets = n;
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new (&cb) != 0)
    oom ();
  nghttp2_session_callbacks_set_on_begin_headers_callback (cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback (cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cb, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cb, on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback (cb, on_close);
  int rc = nghttp2_session_server_new (&h->ng, cb, h);
  nghttp2_session_callbacks_del (cb);
  if (rc != 0)
    oom ();
  nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };
  if (nghttp2_submit_settings (h->ng, NGHTTP2_FLAG_NONE, iv, 1) != 0)
    h->broken = true;
  return h;
}

void
bk_h2_free (struct bk_h2 *h)
{
  if (h == NULL)
    return;
  nghttp2_session_del (h->ng);   /* closes the streams left: on_close frees them */
  while (h->streams)
    {
      struct h2_stream *st = h->streams;
      h->streams = st->next;
      stream_free (st);
    }
  free (h);
}

int
bk_h2_feed (struct bk_h2 *h, const void *data, size_t len)
{
  ssize_t r = nghttp2_session_mem_recv (h->ng, data, len);
  if (r < 0 || h->broken)
    {
      h->broken = true;
      return -1;
    }
  return 0;
}

int
bk_h2_pending (struct bk_h2 *h, struct buf *out)
{
  for (;;)
    {
      const uint8_t *p = NULL;
      ssize_t n = nghttp2_session_mem_send (h->ng, &p);
      if (n < 0)
        {
          h->broken = true;
          return -1;
        }
      if (n == 0)
        return 0;
      buf_add (out, p, (size_t) n);
    }
}

bool
bk_h2_alive (struct bk_h2 *h)
{
  return !h->broken
         && (nghttp2_session_want_read (h->ng) || nghttp2_session_want_write (h->ng));
}

void
bk_h2_counts (const struct bk_h2 *h, unsigned *health, unsigned *given, unsigned *refused)
{
  *health = h->health;
  *given = h->given;
  *refused = h->refused;
}

/* ---- the session on a hijacked connection ---- */

struct bk_session {
  struct engine_raw *r;
  struct bk_h2 *h;
  pthread_t th;
  bool running;
  int wake[2];
  char id[26];
  struct buf early;            /* HTTP/2 bytes that came with the 101 */
};

const char *
bk_session_id (const struct bk_session *s)
{
  return s->id;
}

/* 25 characters [0-9a-z], as BuildKit's own ids. */
static void
new_id (char id[26])
{
  static const char al[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  unsigned char rnd[25];
  size_t got = 0;
  while (got < sizeof rnd)
    {
      ssize_t n = getrandom (rnd + got, sizeof rnd - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
    }
  for (size_t i = 0; i < got; i++)
    id[i] = al[rnd[i] % 36];
  for (size_t i = got; i < 25; i++)   /* no getrandom: still unique enough per process */
    id[i] = al[(unsigned) (getpid () + i * 7) % 36];
  id[25] = '\0';
}

static bool
send_pending (struct bk_session *s)
{
  cleanup_buf struct buf out = { 0 };
  if (bk_h2_pending (s->h, &out) < 0)
    return false;
  if (out.len == 0)
    return true;
  struct itm_err err = { 0 };
  int r = engine_raw_send (s->r, out.data, out.len, &err);
  itm_err_clear (&err);
  return r == 0;
}

static void *
serve (void *arg)
{
  struct bk_session *s = arg;
  char chunk[16384];
  bool ok = s->early.len == 0 || bk_h2_feed (s->h, s->early.data, s->early.len) == 0;
  buf_free (&s->early);
  while (send_pending (s) && ok && bk_h2_alive (s->h))
    {
      struct pollfd p[2 + 32] = { { .fd = engine_raw_fd (s->r), .events = POLLIN },
                                  { .fd = s->wake[0], .events = POLLIN } };
      size_t na = bk_h2_pollfds (s->h, p + 2, 32);
      int n = poll (p, 2 + na, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || p[1].revents)
        break;
      for (size_t i = 0; i < na; i++)
        if (p[2 + i].revents)
          bk_h2_io (s->h, p[2 + i].fd);
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      /* all there is, TLS's buffered records too */
      for (;;)
        {
          ssize_t got = engine_raw_recv (s->r, chunk, sizeof chunk);
          if (got == -2)
            break;
          if (got <= 0 || bk_h2_feed (s->h, chunk, (size_t) got) < 0)
            {
              ok = false;
              break;
            }
        }
    }
  if (!ok)
    send_pending (s);   /* a GOAWAY, when nghttp2 has one to send */
  return NULL;
}


/* POST /session and its answer's head: 0 with the bytes after the head in
 * s->early, or -1 with err set. */
static int
open_session (struct engine *e, struct bk_session *s, const char *name, bool ssh,
              struct itm_err *err)
{
  const char *api = engine_api_version (e);
  cleanup_free char *req = xasprintf (
    "POST %s%s/session HTTP/1.1\r\n"
    "Host: docker\r\n"
    "User-Agent: itm-env/" PACKAGE_VERSION "\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: h2c\r\n"
    "X-Docker-Expose-Session-Uuid: %s\r\n"
    "X-Docker-Expose-Session-Name: %s\r\n"
    "X-Docker-Expose-Session-Sharedkey: %s\r\n"
    "X-Docker-Expose-Session-Grpc-Method: " PATH_SECRET "\r\n"
    "X-Docker-Expose-Session-Grpc-Method: " PATH_HEALTH "\r\n"
    "%s"
    "Content-Length: 0\r\n\r\n",
    api ? "/v" : "", api ? api : "", s->id, name, s->id,
    ssh ? "X-Docker-Expose-Session-Grpc-Method: " PATH_SSH_CHECK "\r\n"
          "X-Docker-Expose-Session-Grpc-Method: " PATH_SSH_FORWARD "\r\n" : "");
  if (engine_raw_send (s->r, req, strlen (req), err) < 0)
    return -1;
  cleanup_buf struct buf in = { 0 };
  char chunk[4096];
  char *eoh = NULL;
  while ((eoh = in.data ? strstr (in.data, "\r\n\r\n") : NULL) == NULL)
    {
      ssize_t n = in.len > 65536 ? 0 : engine_raw_read (s->r, chunk, sizeof chunk, 30000);
      if (n <= 0)
        return itm_err_set (err, ITM_EXIT_ENGINE, "%s", n == -2 ? "no answer in 30 s"
                            : "the engine closed the connection");
      buf_add (&in, chunk, (size_t) n);
    }
  int status = 0;
  sscanf (in.data, "HTTP/%*s %d", &status);
  size_t head = (size_t) (eoh + 4 - in.data);
  if (status != 101)
    {
      /* a short error body: {"message": ...} */
      for (int i = 0; i < 20; i++)
        {
          ssize_t n = engine_raw_read (s->r, chunk, sizeof chunk, 100);
          if (n <= 0)
            break;
          buf_add (&in, chunk, (size_t) n);
        }
      const char *body = in.data + head;
      const char *b = strchr (body, '{');
      json_object *msg = b ? json_tokener_parse (b) : NULL;
      json_object *m = NULL;
      const char *text = msg && json_object_object_get_ex (msg, "message", &m)
                         ? json_object_get_string (m) : NULL;
      itm_err_set (err, ITM_EXIT_ENGINE, "HTTP %d%s%s", status, text ? ": " : "",
                   text ? text : "");
      err->http_status = status;
      if (text)
        err->engine_msg = xstrdup (text);
      json_object_put (msg);
      return -1;
    }
  if (in.len > head)
    buf_add (&s->early, in.data + head, in.len - head);
  return 0;
}

struct bk_session *
bk_session_start (struct engine *e, const char *name, const struct bk_secret *secrets, size_t n,
                  const struct bk_ssh *ssh, size_t nssh, struct itm_err *err)
{
  struct bk_session *s = xzalloc (sizeof *s);
  s->wake[0] = s->wake[1] = -1;
  new_id (s->id);
  s->r = engine_raw_open (e, err);
  if (s->r == NULL || open_session (e, s, name, nssh > 0, err) < 0)
    {
      itm_err_prefix (err, "opening a BuildKit session (POST /session)");
      bk_session_stop (s);
      return NULL;
    }
  if (pipe2 (s->wake, O_CLOEXEC) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "opening a BuildKit session: pipe");
      bk_session_stop (s);
      return NULL;
    }
  s->h = bk_h2_new (secrets, n);
  bk_h2_set_ssh (s->h, ssh, nssh);
  int rc = pthread_create (&s->th, NULL, serve, s);
  if (rc != 0)
    {
      errno = rc;
      itm_err_errno (err, ITM_EXIT_FAILURE, "opening a BuildKit session: a thread");
      bk_session_stop (s);
      return NULL;
    }
  s->running = true;
  return s;
}

void
bk_session_stop (struct bk_session *s)
{
  if (s == NULL)
    return;
  if (s->running)
    {
      char c = 1;
      while (write (s->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
      /* a send blocked on an engine that stopped reading fails now */
      shutdown (engine_raw_fd (s->r), SHUT_RDWR);
      pthread_join (s->th, NULL);
    }
  for (int i = 0; i < 2; i++)
    if (s->wake[i] >= 0)
      close (s->wake[i]);
  engine_raw_close (s->r);   /* the engine drops the session */
  bk_h2_free (s->h);
  buf_free (&s->early);
  free (s);
}
