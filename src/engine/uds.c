/* uds.c - one plain HTTP/1.1 GET over a unix socket, without libcurl.
 *
 * Why: loading libcurl and what it links (TLS, LDAP, IDN, Kerberos, ...:
 * ~25 libraries, ~11,000 relocations) and OpenSSL's initialisation are
 * most of the start-up of a command that makes two or three calls on the
 * local socket (ps, env, port in a script's loop).  This answers exactly
 * those calls: a GET or HEAD with no body, Content-Length, chunked or
 * until-close framing.  Anything else, and any answer it cannot take whole
 * (no connection, not HTTP, cut short, 1xx, larger than max_body), is
 * UDS_FALLBACK: the caller makes the call again with libcurl (a GET can be
 * repeated), whose messages say what went wrong. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "engine/uds.h"
#include "util/clock.h"

#define MAX_HEAD (64UL << 10)

static int
uds_connect (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof sa.sun_path)
    return -1;
  memcpy (sa.sun_path, path, strlen (path) + 1);
  /* non-blocking: an engine whose backlog is full (hung) makes connect()
   * fail with EAGAIN instead of waiting; libcurl then waits, with its
   * connect timeout and message */
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0
      || fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
send_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

/* More bytes into b: >0 read, 0 end of stream, -1 error, -2 timed out. */
static ssize_t
recv_some (int fd, struct buf *b, int64_t deadline)
{
  for (;;)
    {
      int wait = -1;
      if (deadline > 0)
        {
          int64_t left = deadline - mono_ns ();
          if (left <= 0)
            return -2;
          wait = (int) ((left + 999999) / 1000000);
        }
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int pr = poll (&p, 1, wait);
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr < 0)
        return -1;
      if (pr == 0)
        continue;   /* the deadline is looked at again */
      char tmp[16384];
      ssize_t r = recv (fd, tmp, sizeof tmp, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (r > 0)
        buf_add (b, tmp, (size_t) r);
      return r;
    }
}

/* The value of header name in the head (lines after the status line), or
 * NULL; *len its length without surrounding blanks. */
static const char *
header (const char *head, const char *name, size_t *len)
{
  size_t nl = strlen (name);
  for (const char *l = strstr (head, "\r\n"); l && l[2] != '\r'; l = strstr (l + 2, "\r\n"))
    {
      const char *s = l + 2;
      if (strncasecmp (s, name, nl) == 0 && s[nl] == ':')
        {
          const char *v = s + nl + 1, *end = strstr (v, "\r\n");
          while (*v == ' ' || *v == '\t')
            v++;
          while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
          *len = (size_t) (end - v);
          return v;
        }
    }
  return NULL;
}

/* Decode a whole chunked body (raw, NUL-terminated) into out: 1 done, 0
 * not all there yet, -1 malformed. */
static int
dechunk (const char *raw, size_t n, struct buf *out)
{
  size_t i = 0;
  buf_reset (out);
  for (;;)
    {
      const char *eol = memmem (raw + i, n - i, "\r\n", 2);
      if (eol == NULL)
        return 0;
      char *end;
      errno = 0;
      unsigned long long size = strtoull (raw + i, &end, 16);
      if (end == raw + i || errno || (end != eol && *end != ';' && *end != ' '))
        return -1;
      i = (size_t) (eol - raw) + 2;
      if (size == 0)
        {
          /* trailers until an empty line */
          for (;;)
            {
              const char *t = memmem (raw + i, n - i, "\r\n", 2);
              if (t == NULL)
                return 0;
              if (t == raw + i)
                return 1;
              i = (size_t) (t - raw) + 2;
            }
        }
      if (size > n || n - i < size + 2)
        return 0;
      buf_add (out, raw + i, (size_t) size);
      i += (size_t) size;
      if (raw[i] != '\r' || raw[i + 1] != '\n')
        return -1;
      i += 2;
    }
}

/* One exchange on fd: UDS_OK, UDS_FALLBACK, UDS_TIMEOUT; *reuse_ok: the
 * connection can carry the next request; *nothing: the engine closed it
 * before a byte of answer (a kept connection it had dropped). */
static int
exchange (int fd, const char *req, size_t req_len, bool head_only, int64_t deadline,
          size_t max_body, struct uds_resp *r, bool *reuse_ok, bool *nothing)
{
  cleanup_buf struct buf in = { 0 };
  *reuse_ok = false;
  *nothing = false;
  if (send_all (fd, req, req_len) < 0)
    {
      *nothing = true;
      return UDS_FALLBACK;
    }
  char *eoh = NULL;
  while ((eoh = in.data ? strstr (in.data, "\r\n\r\n") : NULL) == NULL)
    {
      if (in.len > MAX_HEAD)
        return UDS_FALLBACK;
      ssize_t k = recv_some (fd, &in, deadline);
      if (k == -2)
        return UDS_TIMEOUT;
      if (k <= 0)
        {
          *nothing = in.len == 0;
          return UDS_FALLBACK;
        }
    }
  size_t head_len = (size_t) (eoh - in.data) + 4;
  int minor = 0, status = 0, used = 0;
  if (sscanf (in.data, "HTTP/1.%1d %3d%n", &minor, &status, &used) != 2 || status < 200
      || status > 599)
    return UDS_FALLBACK;
  eoh[2] = '\0';   /* the head alone, for header() */
  size_t len;
  const char *v = header (in.data, "Api-Version", &len);
  if (v && len < sizeof r->api_version)
    {
      memcpy (r->api_version, v, len);
      r->api_version[len] = '\0';
    }
  bool chunked = false, has_cl = false, closes = minor == 0;
  unsigned long long cl = 0;
  if ((v = header (in.data, "Transfer-Encoding", &len)))
    {
      if (len != 7 || strncasecmp (v, "chunked", 7) != 0)
        return UDS_FALLBACK;
      chunked = true;
    }
  else if ((v = header (in.data, "Content-Length", &len)))
    {
      char *end;
      errno = 0;
      cl = strtoull (v, &end, 10);
      if (end != v + len || errno || !isdigit ((unsigned char) *v))
        return UDS_FALLBACK;
      has_cl = true;
    }
  if ((v = header (in.data, "Connection", &len)) && len == 5 && strncasecmp (v, "close", 5) == 0)
    closes = true;
  r->status = status;

  const char *body = in.data + head_len;
  size_t have = in.len - head_len;
  if (head_only || status == 204 || status == 304)
    {
      if (have != 0)
        return UDS_FALLBACK;
      *reuse_ok = !closes;
      return UDS_OK;
    }
  if (has_cl)
    {
      if (cl > max_body)
        return UDS_FALLBACK;
      while (in.len - head_len < cl)
        {
          ssize_t k = recv_some (fd, &in, deadline);
          if (k == -2)
            return UDS_TIMEOUT;
          if (k <= 0)
            return UDS_FALLBACK;
        }
      if (in.len - head_len != cl)
        return UDS_FALLBACK;   /* more than announced: not what we think it is */
      buf_add (&r->body, in.data + head_len, (size_t) cl);
      *reuse_ok = !closes;
      return UDS_OK;
    }
  if (chunked)
    {
      for (;;)
        {
          body = in.data + head_len;
          have = in.len - head_len;
          int d = dechunk (body, have, &r->body);
          if (d < 0)
            return UDS_FALLBACK;
          if (d > 0)
            break;
          if (have > max_body)
            return UDS_FALLBACK;
          ssize_t k = recv_some (fd, &in, deadline);
          if (k == -2)
            return UDS_TIMEOUT;
          if (k <= 0)
            return UDS_FALLBACK;
        }
      *reuse_ok = !closes;
      return UDS_OK;
    }
  /* neither: the body runs until the engine closes */
  for (;;)
    {
      if (in.len - head_len > max_body)
        return UDS_FALLBACK;
      ssize_t k = recv_some (fd, &in, deadline);
      if (k == -2)
        return UDS_TIMEOUT;
      if (k < 0)
        return UDS_FALLBACK;
      if (k == 0)
        break;
    }
  buf_add (&r->body, in.data + head_len, in.len - head_len);
  return UDS_OK;
}

int
uds_request (int *fd, const char *path, const char *method, const char *target,
             long timeout_ms, size_t max_body, struct uds_resp *r)
{
  bool head_only = strcmp (method, "HEAD") == 0;
  if (!head_only && strcmp (method, "GET") != 0)
    return UDS_FALLBACK;
  cleanup_free char *req = xasprintf ("%s %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: itm-env/"
                                      PACKAGE_VERSION "\r\nAccept: */*\r\n\r\n", method, target);
  size_t req_len = strlen (req);
  int64_t deadline = timeout_ms > 0 ? mono_ns () + (int64_t) timeout_ms * 1000000 : 0;

  /* a kept connection the engine has closed meanwhile: once more on a new one */
  for (int attempt = 0; attempt < 2; attempt++)
    {
      bool fresh = *fd < 0;
      if (fresh && (*fd = uds_connect (path)) < 0)
        return UDS_FALLBACK;
      bool reuse_ok = false, nothing = false;
      buf_reset (&r->body);
      r->status = 0;
      r->api_version[0] = '\0';
      int x = exchange (*fd, req, req_len, head_only, deadline, max_body, r, &reuse_ok,
                        &nothing);
      if (x != UDS_OK || !reuse_ok)
        {
          close (*fd);
          *fd = -1;
        }
      if (x == UDS_FALLBACK && nothing && !fresh)
        continue;
      return x;
    }
  return UDS_FALLBACK;
}
