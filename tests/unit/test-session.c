/* test-session.c - the BuildKit session's gRPC server (image/session.c's
 * bk_h2) driven in memory by an HTTP/2 client (libnghttp2's), as the
 * engine's grpc-go client drives it over the hijacked /session connection:
 * health checks, secrets from a file and from a value, an unknown secret
 * (NotFound, which BuildKit reports as "secret X: not found"), an unknown
 * method (Unimplemented), a compressed or badly framed message, a file
 * that cannot be read, bytes fed one at a time, and a peer that does not
 * speak HTTP/2 at all; ssh agent forwarding (CheckAgent, and a
 * ForwardAgent stream to a fake agent listening on a socket here, bytes
 * both ways, the stream ended by each side).  Then what real engines sent on a session
 * (tests/recorded/session-20.10.h2, session-26.1.h2: the bytes after the
 * 101 of a build whose `RUN sleep 6` step kept the session open while the
 * engine checked it, then a RUN --mount=type=secret,id=npmrc,required=true;
 * recorded with strace): replayed, each is answered without a protocol
 * error, the secret given once. */
#include <config.h>

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "image/session.h"
#include "image/session.pb-c.h"
#include "util/file.h"
#include "util/xalloc.h"

#include "tap.h"

#define MAXS 16

struct call {
  int32_t id;
  unsigned char *req;          /* the framed request */
  size_t req_len, req_off;
  char status[8], grpc_status[8], grpc_message[256];
  struct buf body;
  bool closed;
};

struct client {
  nghttp2_session *ng;
  struct call calls[MAXS];
  size_t n;
};

static struct call *
call_of (struct client *c, int32_t id)
{
  for (size_t i = 0; i < c->n; i++)
    if (c->calls[i].id == id)
      return &c->calls[i];
  return NULL;
}

static int
c_header (nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
          const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
  (void) ng;
  (void) flags;
  struct call *k = call_of (user, f->hd.stream_id);
  if (k == NULL)
    return 0;
  char *dst = NULL;
  size_t cap = 0;
  if (nl == 7 && memcmp (name, ":status", 7) == 0)
    dst = k->status, cap = sizeof k->status;
  else if (nl == 11 && memcmp (name, "grpc-status", 11) == 0)
    dst = k->grpc_status, cap = sizeof k->grpc_status;
  else if (nl == 12 && memcmp (name, "grpc-message", 12) == 0)
    dst = k->grpc_message, cap = sizeof k->grpc_message;
  if (dst)
    snprintf (dst, cap, "%.*s", (int) vl, (const char *) value);
  return 0;
}

static int
c_data (nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *d, size_t len, void *user)
{
  (void) ng;
  (void) flags;
  struct call *k = call_of (user, id);
  if (k)
    buf_add (&k->body, d, len);
  return 0;
}

static int
c_close (nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
  (void) ng;
  (void) code;
  struct call *k = call_of (user, id);
  if (k)
    k->closed = true;
  return 0;
}

static ssize_t
c_read (nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
        nghttp2_data_source *src, void *user)
{
  (void) ng;
  (void) id;
  (void) user;
  struct call *k = src->ptr;
  size_t n = k->req_len - k->req_off;
  if (n > len)
    n = len;
  memcpy (out, k->req + k->req_off, n);
  k->req_off += n;
  if (k->req_off == k->req_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t) n;
}

static void
client_init (struct client *c)
{
  memset (c, 0, sizeof *c);
  nghttp2_session_callbacks *cb;
  nghttp2_session_callbacks_new (&cb);
  nghttp2_session_callbacks_set_on_header_callback (cb, c_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cb, c_data);
  nghttp2_session_callbacks_set_on_stream_close_callback (cb, c_close);
  nghttp2_session_client_new (&c->ng, cb, c);
  nghttp2_session_callbacks_del (cb);
  nghttp2_submit_settings (c->ng, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void
client_free (struct client *c)
{
  nghttp2_session_del (c->ng);
  for (size_t i = 0; i < c->n; i++)
    {
      free (c->calls[i].req);
      buf_free (&c->calls[i].body);
    }
}

#define CNV(n, v)                                                                   \
  { (uint8_t *) (n), (uint8_t *) (v), strlen (n), strlen (v), NGHTTP2_NV_FLAG_NONE }

static const char *extra_name, *extra_value;   /* one more request header */

/* A unary call: path and the message (flag: the "compressed" byte). */
static struct call *
submit (struct client *c, const char *path, const void *msg, size_t len, unsigned char flag,
        long framed_len)
{
  struct call *k = &c->calls[c->n++];
  k->req_len = len + 5;
  k->req = xmalloc (k->req_len);
  uint32_t fl = framed_len >= 0 ? (uint32_t) framed_len : (uint32_t) len;
  k->req[0] = flag;
  k->req[1] = (unsigned char) (fl >> 24);
  k->req[2] = (unsigned char) (fl >> 16);
  k->req[3] = (unsigned char) (fl >> 8);
  k->req[4] = (unsigned char) fl;
  if (len)
    memcpy (k->req + 5, msg, len);
  nghttp2_nv nva[] = { CNV (":method", "POST"), CNV (":scheme", "http"),
                       CNV (":authority", "localhost"), CNV (":path", path),
                       CNV ("content-type", "application/grpc"), CNV ("te", "trailers"),
                       CNV (extra_name ? extra_name : "x-none", extra_value ? extra_value : "") };
  nghttp2_data_provider dp = { .source = { .ptr = k }, .read_callback = c_read };
  k->id = nghttp2_submit_request (c->ng, NULL, nva, sizeof nva / sizeof *nva, &dp, NULL);
  return k;
}

static struct call *
get_secret (struct client *c, const char *id)
{
  Itm__Session__GetSecretRequest rq = ITM__SESSION__GET_SECRET_REQUEST__INIT;
  rq.id = (char *) id;
  size_t n = itm__session__get_secret_request__get_packed_size (&rq);
  unsigned char *b = xmalloc (n + 1);
  itm__session__get_secret_request__pack (&rq, b);
  struct call *k = submit (c, "/moby.buildkit.secrets.v1.Secrets/GetSecret", b, n, 0, -1);
  free (b);
  return k;
}

/* Move bytes both ways until neither side has any; the server's bytes in
 * pieces of `step` (0: whole). */
static int
pump (struct client *c, struct bk_h2 *h, size_t step)
{
  for (int round = 0; round < 100; round++)
    {
      bool moved = false;
      const uint8_t *p;
      ssize_t n;
      while ((n = nghttp2_session_mem_send (c->ng, &p)) > 0)
        {
          moved = true;
          for (size_t off = 0; off < (size_t) n;)
            {
              size_t k = step && step < (size_t) n - off ? step : (size_t) n - off;
              if (bk_h2_feed (h, p + off, k) < 0)
                return -1;
              off += k;
            }
        }
      struct buf out = { 0 };
      if (bk_h2_pending (h, &out) < 0)
        return -1;
      if (out.len)
        {
          moved = true;
          if (nghttp2_session_mem_recv (c->ng, (const uint8_t *) out.data, out.len) < 0)
            {
              buf_free (&out);
              return -1;
            }
        }
      buf_free (&out);
      if (!moved)
        return 0;
    }
  return -1;
}

/* The one message of a call's answer, or NULL. */
static const unsigned char *
message (const struct call *k, size_t *len)
{
  const unsigned char *b = (const unsigned char *) k->body.data;
  if (k->body.len < 5 || b[0] != 0)
    return NULL;
  size_t n = (size_t) b[1] << 24 | (size_t) b[2] << 16 | (size_t) b[3] << 8 | b[4];
  if (n != k->body.len - 5)
    return NULL;
  *len = n;
  return b + 5;
}

static char *
secret_value (const struct call *k)
{
  size_t n = 0;
  const unsigned char *m = message (k, &n);
  if (m == NULL)
    return NULL;
  Itm__Session__GetSecretResponse *r = itm__session__get_secret_response__unpack (NULL, n, m);
  if (r == NULL)
    return NULL;
  char *s = xstrndup ((const char *) r->data.data, r->data.len);
  itm__session__get_secret_response__free_unpacked (r, NULL);
  return s;
}

/* Replay a recorded engine's bytes (after our own SETTINGS went out). */
static void
replay (const char *name, const struct bk_secret *secrets, size_t n, unsigned min_health)
{
  const char *src = getenv ("ITM_SRCDIR");
  cleanup_free char *path = xasprintf ("%s/tests/recorded/%s", src ? src : "..", name);
  struct itm_err err = { 0 };
  size_t len = 0;
  cleanup_free char *rec = file_read (path, 1 << 20, &len, 1, &err);
  if (!tap_ok (rec != NULL, "%s: read", name))
    {
      tap_diag ("%s", err.msg ? err.msg : "");
      itm_err_clear (&err);
      return;
    }
  struct bk_h2 *h = bk_h2_new (secrets, n);
  struct buf out = { 0 };
  bk_h2_pending (h, &out);
  tap_ok (bk_h2_feed (h, rec, len) == 0, "%s: %zu bytes, no protocol error", name, len);
  size_t settings = out.len;
  int pr = bk_h2_pending (h, &out);
  tap_ok (pr == 0 && out.len > settings, "%s: answered (%zu bytes)", name, out.len - settings);
  unsigned hn, given, refused;
  bk_h2_counts (h, &hn, &given, &refused);
  tap_ok (hn >= min_health, "%s: the engine's health checks answered (%u)", name, hn);
  tap_is_int (given, 1, "%s: the secret given once", name);
  tap_is_int (refused, 0, "%s: none refused", name);
  buf_free (&out);
  bk_h2_free (h);
}

int
main (void)
{
  char dir[] = "/tmp/itm-test-session.XXXXXX";
  if (mkdtemp (dir) == NULL)
    return 99;
  cleanup_free char *path = xasprintf ("%s/npmrc", dir);
  FILE *f = fopen (path, "w");
  fputs ("//registry/:_authToken=abc\n", f);
  fclose (f);
  cleanup_free char *gone = xasprintf ("%s/gone", dir);
  struct bk_secret secrets[] = {
    { .id = "npmrc", .file = path },
    { .id = "tok", .value = "value-of-tok" },
    { .id = "gone", .file = gone },
  };

  /* ---- a health check, then secrets */
  struct client c;
  client_init (&c);
  struct bk_h2 *h = bk_h2_new (secrets, 3);
  struct call *hc = submit (&c, "/grpc.health.v1.Health/Check", "", 0, 0, -1);
  tap_ok (pump (&c, h, 0) == 0, "the HTTP/2 exchange goes through");
  tap_ok (hc->closed, "the health check's stream is closed");
  tap_is_str (hc->status, "200", "health: :status 200");
  tap_is_str (hc->grpc_status, "0", "health: grpc-status 0 (in the trailers)");
  static const unsigned char serving[] = { 0, 0, 0, 0, 2, 0x08, 0x01 };
  tap_ok (hc->body.len == sizeof serving && memcmp (hc->body.data, serving, sizeof serving) == 0,
          "health: one framed HealthCheckResponse{status: SERVING}");

  struct call *s1 = get_secret (&c, "npmrc");
  struct call *s2 = get_secret (&c, "tok");
  struct call *s3 = get_secret (&c, "nope");
  struct call *s4 = get_secret (&c, "gone");
  tap_ok (pump (&c, h, 0) == 0, "four secret calls at once");
  cleanup_free char *v1 = secret_value (s1);
  cleanup_free char *v2 = secret_value (s2);
  tap_is_str (s1->grpc_status, "0", "a file secret: grpc-status 0");
  tap_is_str (v1, "//registry/:_authToken=abc\n", "a file secret: the file's bytes");
  tap_is_str (v2, "value-of-tok", "a value secret: the value");
  tap_is_str (s3->grpc_status, "5", "an unknown id: NotFound (5)");
  tap_is_str (s3->grpc_message, "secret nope", "naming the secret");
  tap_ok (s3->body.len == 0, "with no message (trailers-only)");
  tap_is_str (s4->grpc_status, "5", "a file that is not there: NotFound");
  tap_ok (strstr (s4->grpc_message, "secret gone: ") == s4->grpc_message
          && strstr (s4->grpc_message, "No such file") != NULL,
          "naming the secret and why: %s", s4->grpc_message);

  /* ---- what is not served */
  struct call *u = submit (&c, "/moby.filesync.v1.FileSync/DiffCopy", "", 0, 0, -1);
  struct call *z = submit (&c, "/grpc.health.v1.Health/Check", "x", 1, 1, -1);
  struct call *b = submit (&c, "/grpc.health.v1.Health/Check", "xy", 2, 0, 7);
  tap_ok (pump (&c, h, 0) == 0, "three calls it does not serve");
  tap_is_str (u->grpc_status, "12", "an unknown method: Unimplemented (12)");
  tap_ok (strstr (u->grpc_message, "FileSync") != NULL, "naming it: %s", u->grpc_message);
  tap_is_str (z->grpc_status, "12", "a compressed message: Unimplemented");
  tap_is_str (b->grpc_status, "13", "a length that is not the body's: Internal");

  unsigned hn, given, refused;
  bk_h2_counts (h, &hn, &given, &refused);
  tap_is_int (hn, 1, "one health check answered");
  tap_is_int (given, 2, "two secrets given");
  tap_is_int (refused, 2, "two refused");
  tap_ok (bk_h2_alive (h), "the connection lives on");
  client_free (&c);
  bk_h2_free (h);

  /* ---- bytes one at a time */
  client_init (&c);
  h = bk_h2_new (secrets, 3);
  struct call *t = get_secret (&c, "tok");
  tap_ok (pump (&c, h, 1) == 0, "the client's bytes fed one at a time");
  cleanup_free char *vt = secret_value (t);
  tap_is_str (vt, "value-of-tok", "still answered");
  client_free (&c);
  bk_h2_free (h);

  /* ---- not HTTP/2 */
  h = bk_h2_new (secrets, 0);
  static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  tap_ok (bk_h2_feed (h, http1, sizeof http1 - 1) < 0, "HTTP/1.1 bytes: a protocol error");
  struct buf out = { 0 };
  bk_h2_pending (h, &out);
  tap_ok (out.len == 9 + 6 && out.data[3] == 0x04,
          "nothing is answered but the server's own SETTINGS (%zu bytes)", out.len);
  tap_ok (!bk_h2_alive (h), "and the connection is over");
  buf_free (&out);
  bk_h2_free (h);

  /* ---- ssh agent forwarding, to a fake agent on a socket */
  cleanup_free char *sock = xasprintf ("%s/agent.sock", dir);
  int lfd = socket (AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", sock);
  if (bind (lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (lfd, 4) < 0)
    return 99;
  struct bk_ssh agents[] = { { .id = "default", .path = sock }, { .id = "gone", .path = gone } };
  client_init (&c);
  h = bk_h2_new (NULL, 0);
  bk_h2_set_ssh (h, agents, 2);
  Itm__Session__CheckAgentRequest ck = ITM__SESSION__CHECK_AGENT_REQUEST__INIT;
  ck.id = (char *) "default";
  unsigned char ckb[64];
  size_t ckn = itm__session__check_agent_request__pack (&ck, ckb);
  struct call *c1 = submit (&c, "/moby.sshforward.v1.SSH/CheckAgent", ckb, ckn, 0, -1);
  ck.id = (char *) "other";
  ckn = itm__session__check_agent_request__pack (&ck, ckb);
  struct call *c2 = submit (&c, "/moby.sshforward.v1.SSH/CheckAgent", ckb, ckn, 0, -1);
  /* the request: BytesMessage{"ping"}; the stream's end closes the agent's input */
  Itm__Session__BytesMessage bm = ITM__SESSION__BYTES_MESSAGE__INIT;
  bm.data.data = (uint8_t *) "ping";
  bm.data.len = 4;
  unsigned char bmb[64];
  size_t bmn = itm__session__bytes_message__pack (&bm, bmb);
  extra_name = "buildkit.ssh.id";
  extra_value = "default";
  struct call *fw = submit (&c, "/moby.sshforward.v1.SSH/ForwardAgent", bmb, bmn, 0, -1);
  extra_value = "gone";
  struct call *fg = submit (&c, "/moby.sshforward.v1.SSH/ForwardAgent", bmb, bmn, 0, -1);
  extra_name = extra_value = NULL;
  tap_ok (pump (&c, h, 0) == 0, "ssh: two checks and two forwards");
  tap_is_str (c1->grpc_status, "0", "CheckAgent of a forwarded agent: OK");
  tap_is_str (c2->grpc_status, "5", "CheckAgent of another: NotFound");
  tap_is_str (fg->grpc_status, "14", "a forward to an agent socket that is not there: Unavailable");
  int afd = accept (lfd, NULL, NULL);
  char got[16] = "";
  ssize_t gn = afd >= 0 ? read (afd, got, sizeof got - 1) : -1;
  tap_is_str (gn > 0 ? got : NULL, "ping", "the agent got the engine's bytes");
  char eof;
  tap_ok (read (afd, &eof, 1) == 0, "and the end of them (the engine's END_STREAM)");
  tap_ok (!fw->closed, "the stream stays open while the agent is");
  struct pollfd pf[4];
  size_t npf = bk_h2_pollfds (h, pf, 4);
  tap_is_int (npf, 1, "one agent connection to watch");
  if (write (afd, "pong", 4) != 4)
    return 99;
  close (afd);
  for (int i = 0; i < 2 && npf; i++)
    {
      /* the answer, then the agent's end */
      poll (pf, 1, 2000);
      bk_h2_io (h, pf[0].fd);
      pump (&c, h, 0);
    }
  tap_ok (fw->closed, "the agent's end ends the stream");
  tap_is_str (fw->grpc_status, "0", "with grpc-status 0");
  size_t fl = 0;
  const unsigned char *fm = message (fw, &fl);
  Itm__Session__BytesMessage *ans = fm ? itm__session__bytes_message__unpack (NULL, fl, fm) : NULL;
  tap_ok (ans && ans->data.len == 4 && memcmp (ans->data.data, "pong", 4) == 0,
          "the engine got the agent's bytes in a BytesMessage");
  if (ans)
    itm__session__bytes_message__free_unpacked (ans, NULL);
  tap_is_int (bk_h2_pollfds (h, pf, 4), 0, "nothing left to watch");
  client_free (&c);
  bk_h2_free (h);
  close (lfd);
  unlink (sock);

  /* ---- recorded engines */
  replay ("session-20.10.h2", secrets, 1, 3);
  replay ("session-26.1.h2", secrets, 1, 0);

  unlink (path);
  rmdir (dir);
  return tap_done ();
}
