/* fake-engine.c - a tiny HTTP server that plays a Docker engine badly on
 * purpose, for the engine client's tests.
 *
 *   fake-engine --socket PATH [--tcp PORT] [--dir DIR] [--api VERSION]
 *               [--mode normal|chunked|close|garbage|hang|empty]
 *               [--slice N] [--delay-ms MS] [--fault PATH]
 *               [--requests N] [--lifetime SECONDS] [--fork]
 *               [--strict-api] [--min-api VERSION] [--log FILE]
 *
 * Listens on a unix socket (created under a temporary name and renamed
 * into place once listening, so that a client never sees it half ready)
 * and optionally on 127.0.0.1:PORT.  Serves one connection at a time,
 * several requests per connection (keep-alive).
 *
 * Answers: GET /_ping built in (Api-Version: --api, default 1.41) unless
 * DIR has a "_ping" file.  Any other request "METHOD /vX.Y/a/b?q" is
 * answered from DIR/a_b (the query and version prefix dropped; with
 * METHOD-a_b tried first), a recorded HTTP response: status line, headers,
 * blank line, body.  Content-Length and Transfer-Encoding in the file are
 * replaced by the server's own.  A missing file: 404 with a JSON message.
 *
 * Modes apply to every request, or only to those whose file name is
 * --fault NAME: chunked (body in chunks of --slice bytes), close (half the
 * body, then close), garbage (not HTTP at all), hang (never answer),
 * empty (close without a byte).  --slice N writes in slices of N bytes
 * with --delay-ms between them.
 *
 * With --strict-api, as a real engine, a request for a version above --api
 * ("/v1.45/..." to an engine of API 1.41) is refused: 400 "client version 1.45 is too new.
 * Maximum supported API version is 1.41"; and one below --min-api (none by
 * default) with "... is too old. Minimum supported API version is ...".
 * --log FILE appends "METHOD TARGET" for each request (the client's calls).
 *
 * With --fork each connection gets a process of its own (clients that keep
 * connections open in parallel), and --requests counts connections.
 *
 * It always ends by itself: after --requests requests (default 100) or
 * --lifetime seconds (default 30), whichever comes first. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *dir = ".", *api = "1.41", *mode = "normal", *fault = NULL;
static const char *min_api = NULL, *log_path = NULL;
static bool strict_api = false;
static size_t slice = 0;
static long delay_ms = 0;

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "fake-engine: ");
  vfprintf (stderr, fmt, ap);
  fprintf (stderr, ": %s\n", strerror (errno));
  va_end (ap);
  exit (2);
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int
write_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      size_t k = slice && n > slice ? slice : n;
      ssize_t w = send (fd, p, k, MSG_NOSIGNAL);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += w;
      n -= (size_t) w;
      if (slice && delay_ms && n > 0)
        sleep_ms (delay_ms);
    }
  return 0;
}

/* Read one request's head and body from fd into buf.  0 on EOF. */
static ssize_t
read_request (int fd, char *buf, size_t cap, size_t *have, char **head_end)
{
  for (;;)
    {
      buf[*have] = '\0';
      char *e = strstr (buf, "\r\n\r\n");
      if (e)
        {
          *head_end = e + 4;
          return 1;
        }
      if (*have + 1 >= cap)
        return -1;
      ssize_t r = recv (fd, buf + *have, cap - 1 - *have, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return r;
      *have += (size_t) r;
    }
}

static char *
load (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  char *data = NULL;
  size_t cap = 0, n = 0, r;
  do
    {
      if (n + 65536 > cap)
        data = realloc (data, cap = (n + 65536) * 2);
      if (data == NULL)
        abort ();
      r = fread (data + n, 1, cap - n, f);
      n += r;
    }
  while (r > 0);
  fclose (f);
  *len = n;
  return data;
}

/* The recorded response for a request path: a file name. */
static void
response_key (const char *path, char *key, size_t cap)
{
  const char *p = path;
  if (strncmp (p, "/v", 2) == 0 && p[2] >= '0' && p[2] <= '9')
    {
      const char *slash = strchr (p + 1, '/');
      if (slash)
        p = slash;
    }
  if (*p == '/')
    p++;
  size_t i = 0;
  for (; *p && *p != '?' && i + 1 < cap; p++)
    key[i++] = *p == '/' ? '_' : *p;
  key[i] = '\0';
}

/* "1.41" against "1.45": <0, 0, >0 */
static int
version_cmp (const char *a, const char *b)
{
  long amaj = strtol (a, NULL, 10), bmaj = strtol (b, NULL, 10);
  const char *ad = strchr (a, '.'), *bd = strchr (b, '.');
  long amin = ad ? strtol (ad + 1, NULL, 10) : 0, bmin = bd ? strtol (bd + 1, NULL, 10) : 0;
  if (amaj != bmaj)
    return amaj < bmaj ? -1 : 1;
  return amin < bmin ? -1 : amin > bmin;
}

/* The engine's refusal of the version a path asks for, or NULL. */
static char *
version_refusal (const char *path)
{
  char v[32];
  size_t n = 0;
  if (strncmp (path, "/v", 2) != 0 || path[2] < '0' || path[2] > '9')
    return NULL;
  for (const char *p = path + 2; *p && *p != '/' && n + 1 < sizeof v; p++)
    v[n++] = *p;
  v[n] = '\0';
  char *s = NULL;
  if (strict_api && version_cmp (v, api) > 0)
    {
      if (asprintf (&s, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
                        "{\"message\":\"client version %s is too new. Maximum supported API "
                        "version is %s\"}\n", v, api) < 0)
        abort ();
    }
  else if (min_api && version_cmp (v, min_api) < 0)
    {
      if (asprintf (&s, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
                        "{\"message\":\"client version %s is too old. Minimum supported API "
                        "version is %s, please upgrade your client to a newer version\"}\n",
                    v, min_api) < 0)
        abort ();
    }
  return s;
}

/* Serve one request; -1 to close the connection. */
static int
respond (int fd, const char *method, const char *path)
{
  char key[512], file[1024], hdr[4096];
  char *data = NULL;
  size_t len = 0;

  if (log_path)
    {
      FILE *lf = fopen (log_path, "a");
      if (lf)
        {
          fprintf (lf, "%s %s\n", method, path);
          fclose (lf);
        }
    }
  response_key (path, key, sizeof key);
  bool faulty = fault == NULL || strcmp (fault, key) == 0;
  const char *m = faulty ? mode : "normal";

  if (strcmp (m, "hang") == 0)
    {
      for (;;)
        pause ();
    }
  if (strcmp (m, "empty") == 0)
    return -1;
  if (strcmp (m, "garbage") == 0)
    {
      static const char g[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nProtocol mismatch.\r\n";
      write_all (fd, g, sizeof g - 1);
      return -1;
    }

  data = version_refusal (path);
  if (data)
    len = strlen (data);
  if (data == NULL)
    {
      snprintf (file, sizeof file, "%s/%s-%s", dir, method, key);
      data = load (file, &len);
    }
  if (data == NULL)
    {
      snprintf (file, sizeof file, "%s/%s", dir, key);
      data = load (file, &len);
    }
  if (data == NULL && strcmp (key, "_ping") == 0)
    {
      char *s = NULL;
      if (asprintf (&s, "HTTP/1.1 200 OK\r\nApi-Version: %s\r\nContent-Type: text/plain; "
                        "charset=utf-8\r\nServer: fake-engine\r\n\r\nOK", api) < 0)
        abort ();
      data = s;
      len = strlen (s);
    }
  if (data == NULL)
    {
      char *s = NULL;
      if (asprintf (&s, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n"
                        "{\"message\":\"page not found: %s %s\"}\n", method, key) < 0)
        abort ();
      data = s;
      len = strlen (s);
    }

  /* Split the recording into head and body; drop its framing headers. */
  char *sep = memmem (data, len, "\r\n\r\n", 4);
  size_t sep_len = 4;
  if (sep == NULL)
    {
      sep = memmem (data, len, "\n\n", 2);
      sep_len = 2;
    }
  if (sep == NULL)
    {
      free (data);
      return -1;
    }
  const char *body = sep + sep_len;
  size_t body_len = len - (size_t) (body - data);
  size_t h = 0;
  for (char *line = data; line < sep;)
    {
      char *eol = memchr (line, '\n', (size_t) (sep - line));
      if (eol == NULL)
        eol = sep;
      size_t ll = (size_t) (eol - line);
      if (ll && line[ll - 1] == '\r')
        ll--;
      if (strncasecmp (line, "Content-Length:", 15) != 0
          && strncasecmp (line, "Transfer-Encoding:", 18) != 0 && ll > 0)
        h += (size_t) snprintf (hdr + h, sizeof hdr - h, "%.*s\r\n", (int) ll, line);
      line = eol + 1;
    }
  bool chunked = strcmp (m, "chunked") == 0;
  int status = 0;
  sscanf (data, "HTTP/%*s %d", &status);
  if (status == 204 || status == 304)
    {
      /* no body, no framing */
      chunked = false;
      body_len = 0;
      h += (size_t) snprintf (hdr + h, sizeof hdr - h, "\r\n");
    }
  else if (chunked)
    h += (size_t) snprintf (hdr + h, sizeof hdr - h, "Transfer-Encoding: chunked\r\n\r\n");
  else
    h += (size_t) snprintf (hdr + h, sizeof hdr - h, "Content-Length: %zu\r\n\r\n", body_len);
  if (strncmp (method, "HEAD", 4) == 0)
    body_len = 0;

  int ret = 0;
  if (write_all (fd, hdr, h) < 0)
    ret = -1;
  else if (strcmp (m, "close") == 0)
    {
      write_all (fd, body, body_len / 2);
      ret = -1;
    }
  else if (chunked)
    {
      size_t step = slice ? slice : 7;
      for (size_t off = 0; off < body_len && ret == 0; off += step)
        {
          size_t n = body_len - off < step ? body_len - off : step;
          char ch[32];
          int cl = snprintf (ch, sizeof ch, "%zx\r\n", n);
          if (write_all (fd, ch, (size_t) cl) < 0 || write_all (fd, body + off, n) < 0
              || write_all (fd, "\r\n", 2) < 0)
            ret = -1;
        }
      if (ret == 0 && write_all (fd, "0\r\n\r\n", 5) < 0)
        ret = -1;
    }
  else if (write_all (fd, body, body_len) < 0)
    ret = -1;
  free (data);
  return ret;
}

/* Skip a request body (Content-Length or chunked) already partly in buf. */
static int
skip_body (int fd, char *buf, size_t cap, size_t *have, char *head_end)
{
  size_t head = (size_t) (head_end - buf);
  char *cl = strcasestr (buf, "\r\nContent-Length:");
  bool chunked = strcasestr (buf, "\r\nTransfer-Encoding: chunked") != NULL;
  size_t want = 0;
  if (cl && cl < head_end)
    want = strtoul (cl + 17, NULL, 10);
  for (;;)
    {
      size_t got = *have - head;
      if (!chunked && got >= want)
        {
          memmove (buf, buf + head + want, got - want);
          *have = got - want;
          return 0;
        }
      if (chunked)
        {
          buf[*have] = '\0';
          char *end = strstr (head_end, "\r\n0\r\n\r\n");
          if (end == NULL && strncmp (head_end, "0\r\n\r\n", 5) == 0)
            end = head_end - 2;
          if (end)
            {
              size_t used = (size_t) (end + 7 - buf);
              memmove (buf, buf + used, *have - used);
              *have -= used;
              return 0;
            }
        }
      if (*have + 1 >= cap)
        {
          /* A big upload: keep only the tail. */
          size_t keep = 16;
          memmove (head_end, buf + *have - keep, keep);
          *have = head + keep;
        }
      ssize_t r = recv (fd, buf + *have, cap - 1 - *have, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return -1;
      *have += (size_t) r;
    }
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "socket", required_argument, NULL, 's' }, { "tcp", required_argument, NULL, 't' },
    { "dir", required_argument, NULL, 'd' },    { "api", required_argument, NULL, 'a' },
    { "mode", required_argument, NULL, 'm' },   { "slice", required_argument, NULL, 'n' },
    { "delay-ms", required_argument, NULL, 'w' }, { "fault", required_argument, NULL, 'f' },
    { "requests", required_argument, NULL, 'r' }, { "lifetime", required_argument, NULL, 'l' },
    { "fork", no_argument, NULL, 'F' },
    { "strict-api", no_argument, NULL, 'S' }, { "min-api", required_argument, NULL, 'M' }, { "log", required_argument, NULL, 'L' },
    { NULL, 0, NULL, 0 },
  };
  const char *sock_path = NULL;
  int tcp_port = 0, opt;
  bool forking = false;
  long requests = 100, lifetime = 30;

  while ((opt = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (opt)
      {
      case 's': sock_path = optarg; break;
      case 't': tcp_port = atoi (optarg); break;
      case 'd': dir = optarg; break;
      case 'a': api = optarg; break;
      case 'm': mode = optarg; break;
      case 'n': slice = strtoul (optarg, NULL, 10); break;
      case 'w': delay_ms = atol (optarg); break;
      case 'f': fault = optarg; break;
      case 'r': requests = atol (optarg); break;
      case 'l': lifetime = atol (optarg); break;
      case 'F': forking = true; break;
      case 'S': strict_api = true; break;
      case 'M': min_api = optarg; break;
      case 'L': log_path = optarg; break;
      default:
        fprintf (stderr, "usage: fake-engine --socket PATH [--tcp PORT] [--dir DIR] [--api V] "
                         "[--mode M] [--slice N] [--delay-ms MS] [--fault NAME] [--requests N] "
                         "[--lifetime S] [--fork] [--strict-api] [--min-api V] [--log FILE]\n");
        return 2;
      }
  if (sock_path == NULL && tcp_port == 0)
    {
      fprintf (stderr, "fake-engine: --socket or --tcp is required\n");
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  if (lifetime <= 0)
    lifetime = 30;
  alarm ((unsigned) lifetime); /* SIGALRM ends us: never linger */
  time_t t_end = time (NULL) + lifetime;
  if (forking)
    signal (SIGCHLD, SIG_IGN);

  struct pollfd lfd[2];
  int nl = 0;
  if (sock_path)
    {
      struct sockaddr_un sa = { .sun_family = AF_UNIX };
      char tmp[sizeof sa.sun_path];
      if ((size_t) snprintf (tmp, sizeof tmp, "%s.%ld", sock_path, (long) getpid ()) >= sizeof tmp)
        {
          errno = ENAMETOOLONG;
          die ("socket path %s", sock_path);
        }
      memcpy (sa.sun_path, tmp, strlen (tmp) + 1);
      int s = socket (AF_UNIX, SOCK_STREAM, 0);
      unlink (tmp);
      if (s < 0 || bind (s, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (s, 16) < 0)
        die ("listening on %s", tmp);
      if (rename (tmp, sock_path) < 0)
        die ("renaming %s", tmp);
      lfd[nl++] = (struct pollfd) { .fd = s, .events = POLLIN };
    }
  if (tcp_port)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) tcp_port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int s = socket (AF_INET, SOCK_STREAM, 0), one = 1;
      setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (s < 0 || bind (s, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (s, 16) < 0)
        die ("listening on 127.0.0.1:%d", tcp_port);
      lfd[nl++] = (struct pollfd) { .fd = s, .events = POLLIN };
    }

  static char buf[1 << 16];
  long served = 0;
  while (served < requests)
    {
      if (poll (lfd, (nfds_t) nl, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll");
        }
      for (int i = 0; i < nl && served < requests; i++)
        {
          if (!(lfd[i].revents & POLLIN))
            continue;
          int c = accept (lfd[i].fd, NULL, NULL);
          if (c < 0)
            continue;
          if (forking)
            {
              pid_t pid = fork ();
              if (pid != 0)
                {
                  close (c);
                  served++;
                  continue;
                }
              /* the child: serve this connection, then go */
              alarm ((unsigned) (t_end > time (NULL) ? t_end - time (NULL) : 1));
              for (int k = 0; k < nl; k++)
                close (lfd[k].fd);
              requests = 1L << 30;
            }
          size_t have = 0;
          for (;;)
            {
              char *head_end = NULL, method[16] = "", path[2048] = "";
              if (read_request (c, buf, sizeof buf, &have, &head_end) <= 0)
                break;
              if (sscanf (buf, "%15s %2047s", method, path) != 2)
                break;
              if (skip_body (c, buf, sizeof buf, &have, head_end) < 0)
                break;
              served++;
              if (respond (c, method, path) < 0 || served >= requests)
                break;
            }
          close (c);
          if (forking)
            _exit (0);
        }
    }
  if (sock_path)
    unlink (sock_path);
  return 0;
}
