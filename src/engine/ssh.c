/* ssh.c - DOCKER_HOST=ssh://[user@]host[:port], as the docker CLI does it:
 * `ssh [-l user] [-p port] -o BatchMode=yes -- host docker system
 * dial-stdio` per connection, HTTP over its stdin and stdout.
 *
 * Each handle has a private listening socket in the abstract namespace
 * (no file; a connection from another process is refused: SO_PEERCRED must
 * name this process) and a thread accepting on it; libcurl connects there
 * as to any unix socket (CURLOPT_ABSTRACT_UNIX_SOCKET), and every accepted
 * connection becomes the stdin and stdout of a new ssh process: the socket
 * itself, no copying.  So the HTTP layer (keep-alive, chunked streams, the
 * hijacked connections of exec and attach, half-close) is the same as over
 * a unix socket.  (libcurl 7.88 connect()s the socket an
 * OPENSOCKETFUNCTION returns even when told it is already connected, which
 * rules out handing it one end of a socketpair.)  The ssh process is in
 * its own process group (a terminal's ^C goes to itm-env, which still
 * needs the connection to clean up).  When libcurl closes its end, ssh sees
 * EOF; it is ended and reaped when the handle closes (the engine keeps
 * its side open for keep-alive); one that ended by itself with an error (255: ssh's own failure: host key, refused
 * key, no route) leaves its stderr for engine_ssh_failed().
 *
 * $ITM_ENV_SSH names the ssh program (default "ssh"; options of its own go
 * in ~/.ssh/config, or in a wrapper script named there). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/ssh.h"
#include "util/clock.h"
#include "util/xalloc.h"

extern char **environ;

#define MAX_CONNS 64
#define MAX_STDERR 4096
/* How long a failed transfer waits for the ssh process that says why to end. */
#define END_WAIT_MS 2000

struct ssh_conn {
  pid_t pid;         /* 0: free slot */
  int errfd;         /* the read end of its stderr */
  char err[MAX_STDERR];
  size_t errlen;
};

struct engine_ssh {
  char *user, *host, *port;
  char name[64];     /* the abstract socket's name, without its leading NUL */
  int lfd;           /* the listening socket, -1 before the first use */
  pthread_t thread;
  pthread_mutex_t mu;
  struct ssh_conn c[MAX_CONNS];
  char *fail_msg;    /* stderr of the last process that failed */
  int fail_status;   /* its exit status, 0: none */
};

static struct engine_ssh *
ssh_alloc (void)
{
  struct engine_ssh *s = xzalloc (sizeof *s);
  s->lfd = -1;
  pthread_mutex_init (&s->mu, NULL);
  return s;
}

struct engine_ssh *
engine_ssh_new (const char *url, const char *from, struct itm_err *err)
{
  const char *rest = url + strlen ("ssh://");
  cleanup_free char *a = xstrdup (rest);
  char *at = strrchr (a, '@'), *hp = at ? at + 1 : a;
  if (*hp == '\0' || strchr (hp, '/') || (at && at == a))
    {
      itm_err_set (err, ITM_EXIT_USAGE, "malformed engine address '%s' (from %s)", url, from);
      itm_err_hint (err, "use ssh://[USER@]HOST[:PORT]");
      return NULL;
    }
  struct engine_ssh *s = ssh_alloc ();
  if (at)
    {
      *at = '\0';
      s->user = xstrdup (a);
    }
  char *colon = strrchr (hp, ':');
  if (colon && !strchr (colon, ']'))
    {
      *colon = '\0';
      char *end;
      long port = strtol (colon + 1, &end, 10);
      if (*end || port <= 0 || port > 65535)
        {
          itm_err_set (err, ITM_EXIT_USAGE, "malformed engine address '%s' (from %s): bad port",
                       url, from);
          itm_err_hint (err, "use ssh://[USER@]HOST[:PORT]");
          engine_ssh_free (s);
          return NULL;
        }
      s->port = xasprintf ("%ld", port);
    }
  size_t hl = strlen (hp);
  if (hl > 2 && hp[0] == '[' && hp[hl - 1] == ']')
    s->host = xasprintf ("%.*s", (int) (hl - 2), hp + 1);
  else
    s->host = xstrdup (hp);
  return s;
}

struct engine_ssh *
engine_ssh_dup (const struct engine_ssh *o)
{
  struct engine_ssh *s = ssh_alloc ();
  s->user = o->user ? xstrdup (o->user) : NULL;
  s->host = xstrdup (o->host);
  s->port = o->port ? xstrdup (o->port) : NULL;
  return s;
}

/* Collect what is in c's stderr pipe now (non-blocking). */
static void
drain (struct ssh_conn *c)
{
  for (;;)
    {
      char buf[512];
      ssize_t n = read (c->errfd, buf, sizeof buf);
      if (n <= 0)
        return;
      size_t k = (size_t) n;
      if (k > MAX_STDERR - 1 - c->errlen)
        k = MAX_STDERR - 1 - c->errlen;
      memcpy (c->err + c->errlen, buf, k);
      c->errlen += k;
      c->err[c->errlen] = '\0';
    }
}

/* c's process ended with status st: keep the stderr of a failure, free the
 * slot (mu held). */
static void
conn_done (struct engine_ssh *s, struct ssh_conn *c, int st)
{
  drain (c);
  if (WIFEXITED (st) && WEXITSTATUS (st) != 0)
    {
      free (s->fail_msg);
      s->fail_msg = xstrdup (c->err);
      s->fail_status = WEXITSTATUS (st);
    }
  close (c->errfd);
  c->pid = 0;
  c->errlen = 0;
  c->err[0] = '\0';
}

/* Reap the processes that ended (mu held). */
static void
reap (struct engine_ssh *s)
{
  for (size_t i = 0; i < MAX_CONNS; i++)
    if (s->c[i].pid > 0)
      {
        int st;
        drain (&s->c[i]);
        if (waitpid (s->c[i].pid, &st, WNOHANG) == s->c[i].pid)
          conn_done (s, &s->c[i], st);
      }
}

/* One ssh process with fd as its stdin and stdout (mu held). */
static void
spawn (struct engine_ssh *s, int fd)
{
  struct ssh_conn *c = NULL;
  reap (s);
  for (size_t i = 0; i < MAX_CONNS && c == NULL; i++)
    if (s->c[i].pid == 0)
      c = &s->c[i];
  int ep[2];
  if (c == NULL || pipe2 (ep, O_CLOEXEC) < 0)
    return;
  const char *prog = getenv ("ITM_ENV_SSH");
  if (prog == NULL || *prog == '\0')
    prog = "ssh";
  const char *argv[16];
  size_t n = 0;
  argv[n++] = prog;
  if (s->user)
    {
      argv[n++] = "-l";
      argv[n++] = s->user;
    }
  if (s->port)
    {
      argv[n++] = "-p";
      argv[n++] = s->port;
    }
  argv[n++] = "-o";
  argv[n++] = "BatchMode=yes";
  argv[n++] = "--";
  argv[n++] = s->host;
  argv[n++] = "docker";
  argv[n++] = "system";
  argv[n++] = "dial-stdio";
  argv[n] = NULL;

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, fd, 0);
  posix_spawn_file_actions_adddup2 (&fa, fd, 1);
  posix_spawn_file_actions_adddup2 (&fa, ep[1], 2);
  posix_spawnattr_init (&at);
  sigset_t none, def;
  sigemptyset (&none);
  sigemptyset (&def);
  sigaddset (&def, SIGPIPE);
  sigaddset (&def, SIGINT);
  sigaddset (&def, SIGTERM);
  sigaddset (&def, SIGHUP);
  posix_spawnattr_setsigmask (&at, &none);
  posix_spawnattr_setsigdefault (&at, &def);
  posix_spawnattr_setpgroup (&at, 0);
  posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                   | POSIX_SPAWN_SETPGROUP);
  pid_t pid;
  int rc = posix_spawnp (&pid, prog, &fa, &at, (char *const *) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  close (ep[1]);
  if (rc != 0)
    {
      close (ep[0]);
      free (s->fail_msg);
      s->fail_msg = xasprintf ("cannot run %s: %s", prog, strerror (rc));
      s->fail_status = 127;
      return;
    }
  fcntl (ep[0], F_SETFL, O_NONBLOCK);
  c->pid = pid;
  c->errfd = ep[0];
  c->errlen = 0;
  c->err[0] = '\0';
}

static void *
accept_main (void *arg)
{
  struct engine_ssh *s = arg;
  for (;;)
    {
      int fd = accept4 (s->lfd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return NULL;   /* shut down by engine_ssh_free */
        }
      struct ucred cr;
      socklen_t len = sizeof cr;
      if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid == getpid ())
        {
          pthread_mutex_lock (&s->mu);
          spawn (s, fd);
          pthread_mutex_unlock (&s->mu);
        }
      close (fd);
    }
}

/* The listening socket and its thread, made on first use. */
static int
ssh_listen (struct engine_ssh *s)
{
  if (s->lfd >= 0)
    return 0;
  static atomic_uint seq;
  unsigned char rnd[8] = { 0 };
  int ufd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (ufd >= 0)
    {
      if (read (ufd, rnd, sizeof rnd) < 0)
        rnd[0] = 0;
      close (ufd);
    }
  snprintf (s->name, sizeof s->name, "itm-env-ssh.%ld.%u.%02x%02x%02x%02x%02x%02x", (long) getpid (),
            atomic_fetch_add (&seq, 1), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t nl = strlen (s->name);
  memcpy (sa.sun_path + 1, s->name, nl);
  socklen_t salen = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + nl);
  if (bind (fd, (struct sockaddr *) &sa, salen) < 0 || listen (fd, 64) < 0)
    {
      close (fd);
      return -1;
    }
  s->lfd = fd;
  if (pthread_create (&s->thread, NULL, accept_main, s) != 0)
    {
      close (fd);
      s->lfd = -1;
      return -1;
    }
  return 0;
}

void
engine_ssh_free (struct engine_ssh *s)
{
  if (s == NULL)
    return;
  if (s->lfd >= 0)
    {
      shutdown (s->lfd, SHUT_RDWR);
      pthread_join (s->thread, NULL);
      close (s->lfd);
    }
  /* libcurl closed its ends before.  A process that failed has ended (its
   * stderr is kept by reap); the others wait on the engine's side of the
   * connection, which the engine keeps open for keep-alive: ended here. */
  reap (s);
  for (size_t i = 0; i < MAX_CONNS; i++)
    {
      struct ssh_conn *c = &s->c[i];
      if (c->pid <= 0)
        continue;
      int st = 0;
      kill (c->pid, SIGTERM);
      while (waitpid (c->pid, &st, 0) < 0 && errno == EINTR)
        ;
      conn_done (s, c, 0);
    }
  pthread_mutex_destroy (&s->mu);
  free (s->user);
  free (s->host);
  free (s->port);
  free (s->fail_msg);
  free (s);
}

void
engine_ssh_setopt (struct engine_ssh *s, CURL *h)
{
  if (ssh_listen (s) < 0)
    return;   /* the connect fails, and says so */
  curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, NULL);
  curl_easy_setopt (h, CURLOPT_ABSTRACT_UNIX_SOCKET, s->name);
}

/* The last non-empty line of text, without its newline. */
static char *
last_line (const char *text)
{
  cleanup_free char *t = xstrdup (text ? text : "");
  size_t n = strlen (t);
  while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
    t[--n] = '\0';
  char *nl = strrchr (t, '\n');
  return xstrdup (nl ? nl + 1 : t);
}

bool
engine_ssh_failed (struct engine_ssh *s, const char *endpoint, struct itm_err *err)
{
  /* the process that failed ends at about the time libcurl sees its EOF */
  int64_t until = mono_ns () + END_WAIT_MS * 1000000LL;
  pthread_mutex_lock (&s->mu);
  for (;;)
    {
      reap (s);
      bool talking = false;   /* a live process that said something */
      for (size_t i = 0; i < MAX_CONNS; i++)
        talking |= s->c[i].pid > 0 && s->c[i].errlen > 0;
      if (s->fail_status || !talking || mono_ns () >= until)
        break;
      pthread_mutex_unlock (&s->mu);
      poll (NULL, 0, 20);
      pthread_mutex_lock (&s->mu);
    }
  int status = s->fail_status;
  cleanup_free char *msg = s->fail_msg;
  s->fail_msg = NULL;
  s->fail_status = 0;
  pthread_mutex_unlock (&s->mu);
  if (status == 0)
    return false;
  cleanup_free char *line = last_line (msg);
  itm_err_set (err, ITM_EXIT_CONNECT, "cannot reach the engine at %s: ssh failed (exit %d): %s",
               endpoint, status, *line ? line : "no message");
  if (strstr (msg, "Host key verification failed") || strstr (msg, "HOST IDENTIFICATION HAS CHANGED"))
    itm_err_hint (err, "the host's key is not the one known_hosts has for %s: check it, then fix "
                  "known_hosts (ssh-keygen -R %s); BatchMode asks nothing", s->host, s->host);
  else if (strstr (msg, "Permission denied"))
    itm_err_hint (err, "%s refused the key: add it to the remote authorized_keys, or load it "
                  "(ssh-add); BatchMode asks for no password", s->host);
  else if (status == 127)
    itm_err_hint (err, "the remote side needs the docker CLI (docker system dial-stdio)");
  else
    itm_err_hint (err, "check that `ssh %s docker version` works", s->host);
  return true;
}
