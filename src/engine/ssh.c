/* ssh.c - DOCKER_HOST=ssh://[user@]host[:port], as the docker CLI does it:
 * `ssh [-l user] [-p port] -o BatchMode=yes -o ConnectTimeout=N -- host
 * docker system dial-stdio` per connection, HTTP over its stdin and stdout.
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
 * its side open for keep-alive); one that ended by itself with an error
 * (255: ssh's own failure: host key, refused key, no route, timeout)
 * leaves its stderr for engine_ssh_failed().
 *
 * One ssh connection, not one per request: the per-connection processes
 * are multiplexing clients (ControlMaster=no, ControlPath=...) of a master
 * (`ssh -M -N -o ControlPersist=10`) that a handle starts on its first
 * connection and waits for: its exit status says whether the host let us
 * in (its stderr is the error when not).  The handles engine_ssh_dup()
 * made share the masters (struct ssh_mux, counted references).  A master
 * serves at most MAX_SESSIONS connections at once (sshd's MaxSessions is
 * 10 by default); beyond that another master starts.  The control sockets
 * live in a private directory (mkdtemp, 0700) under $XDG_RUNTIME_DIR,
 * $TMPDIR or /tmp; when the last handle closes, each master is told to
 * exit (ssh -O exit), and the directory is removed: nothing is left.  Had
 * itm-env been killed, a master ends by itself ControlPersist seconds after
 * its last client.  A control socket that vanished (its master ended
 * while idle) gets a new master; when no master can be had (no directory)
 * the connection is a direct ssh one.
 *
 * ConnectTimeout is itm-env's connect timeout (ITM_ENV_CONNECT_TIMEOUT,
 * rounded up to seconds): ssh applies it to the TCP connect and the
 * protocol handshake, so a host that accepts and says nothing fails in
 * that time (exit 4), not at the request timeout.
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
#include <sys/stat.h>
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
/* Masters per destination, connections per master (below sshd's default
 * MaxSessions of 10), and how long an idle master outlives its last
 * client (what is left, for that long, should itm-env be killed). */
#define MAX_MASTERS 8
#define MAX_SESSIONS 8
#define PERSIST_S "10"
/* How long a master told to exit may take to remove its socket. */
#define EXIT_WAIT_MS 2000

/* The masters of one destination, shared by the handles engine_ssh_dup()
 * made from one engine_ssh_new(). */
struct ssh_mux {
  pthread_mutex_t mu;
  int refs;
  char dir[96];      /* the private directory, "" before the first master */
  bool no_dir;       /* it cannot be made: direct connections */
  struct {
    bool up;         /* started (its socket may have gone since) */
    pid_t live[MAX_SESSIONS];   /* its clients that have not ended, 0: free */
  } m[MAX_MASTERS];
};

struct ssh_conn {
  pid_t pid;         /* 0: free slot */
  int master;        /* the master it goes through, -1: direct */
  int errfd;         /* the read end of its stderr */
  char err[MAX_STDERR];
  size_t errlen;
};

struct engine_ssh {
  char *user, *host, *port;
  char timeout[40];  /* ConnectTimeout=N */
  struct ssh_mux *mux;
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
engine_ssh_new (const char *url, const char *from, long connect_timeout_ms, struct itm_err *err)
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
  long secs = connect_timeout_ms > 0 ? (connect_timeout_ms + 999) / 1000 : 5;
  snprintf (s->timeout, sizeof s->timeout, "ConnectTimeout=%ld", secs);
  s->mux = xzalloc (sizeof *s->mux);
  pthread_mutex_init (&s->mux->mu, NULL);
  s->mux->refs = 1;
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
  memcpy (s->timeout, o->timeout, sizeof s->timeout);
  s->mux = o->mux;
  pthread_mutex_lock (&s->mux->mu);
  s->mux->refs++;
  pthread_mutex_unlock (&s->mux->mu);
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

/* Client pid of master i has ended (or was never started). */
static void
mux_forget (struct ssh_mux *x, int i, pid_t pid)
{
  pthread_mutex_lock (&x->mu);
  for (size_t k = 0; k < MAX_SESSIONS; k++)
    if (x->m[i].live[k] == pid)
      x->m[i].live[k] = 0;
  pthread_mutex_unlock (&x->mu);
}

/* A free client slot of master i (x->mu held), after forgetting the
 * clients that have ended (whichever handle reaps them, later: WNOWAIT);
 * -1: it serves MAX_SESSIONS already. */
static int
mux_slot (struct ssh_mux *x, int i)
{
  int got = -1;
  for (int k = 0; k < MAX_SESSIONS; k++)
    {
      pid_t pid = x->m[i].live[k];
      siginfo_t si = { 0 };
      if (pid > 0 && pid != (pid_t) -1
          && (waitid (P_PID, (id_t) pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == pid))
        x->m[i].live[k] = pid = 0;
      if (pid == 0 && got < 0)
        got = k;
    }
  return got;
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
  if (c->master >= 0)
    mux_forget (s->mux, c->master, c->pid);
  c->master = -1;
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

static const char *
ssh_prog (void)
{
  const char *prog = getenv ("ITM_ENV_SSH");
  return prog && *prog ? prog : "ssh";
}

/* argv[0], the destination's options and "-o ConnectTimeout"; returns the
 * count. */
static size_t
ssh_args (const struct engine_ssh *s, const char **argv)
{
  size_t n = 0;
  argv[n++] = ssh_prog ();
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
  argv[n++] = "-o";
  argv[n++] = s->timeout;
  return n;
}

/* Run argv in its own process group with stdin (and, when fd < 0, stdout)
 * on fd or /dev/null and stderr on errfd; the pid, or -1 with *rc. */
static pid_t
run_ssh (const char **argv, int fd, int errfd, int *rc)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init (&fa);
  if (fd >= 0)
    {
      posix_spawn_file_actions_adddup2 (&fa, fd, 0);
      posix_spawn_file_actions_adddup2 (&fa, fd, 1);
    }
  else
    {
      posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
    }
  if (errfd >= 0)
    posix_spawn_file_actions_adddup2 (&fa, errfd, 2);
  else
    posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
  /* libcurl's sockets are not close-on-exec: an ssh process holding a copy
   * of another connection's end would keep that connection's ssh from
   * seeing EOF when libcurl closes it (and a master, in the background,
   * for good) */
  posix_spawn_file_actions_addclosefrom_np (&fa, 3);
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
  *rc = posix_spawnp (&pid, argv[0], &fa, &at, (char *const *) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  return *rc == 0 ? pid : -1;
}

static int
wait_status (pid_t pid)
{
  int st = 0;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  return st;
}

static void
master_path (const struct ssh_mux *x, int i, char *buf, size_t size)
{
  snprintf (buf, size, "%s/m%d", x->dir, i);
}

/* The private directory of x (x->mu held); false: none to be had. */
static bool
mux_dir (struct ssh_mux *x)
{
  if (x->dir[0])
    return true;
  if (x->no_dir)
    return false;
  const char *bases[] = { getenv ("XDG_RUNTIME_DIR"), getenv ("TMPDIR"), "/tmp" };
  for (size_t i = 0; i < sizeof bases / sizeof *bases; i++)
    {
      /* a socket path has 108 bytes; ssh binds "PATH.<16 random>" first */
      if (bases[i] == NULL || *bases[i] != '/' || strlen (bases[i]) > 60)
        continue;
      snprintf (x->dir, sizeof x->dir, "%s/itm-env-ssh.XXXXXX", bases[i]);
      if (mkdtemp (x->dir))
        return true;
    }
  x->dir[0] = '\0';
  x->no_dir = true;
  return false;
}

static bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

/* Start master i of s's destination and wait until it is in (x->mu held):
 * 0, or -1 with its failure in s->fail_msg and s->fail_status. */
static int
master_start (struct engine_ssh *s, int i)
{
  char path[128];
  master_path (s->mux, i, path, sizeof path);
  unlink (path);   /* one whose master ended */
  const char *argv[24];
  size_t n = ssh_args (s, argv);
  argv[n++] = "-o";
  argv[n++] = "ControlMaster=yes";
  argv[n++] = "-o";
  argv[n++] = "ControlPersist=" PERSIST_S;
  argv[n++] = "-S";
  argv[n++] = path;
  argv[n++] = "-N";
  argv[n++] = "--";
  argv[n++] = s->host;
  argv[n] = NULL;
  int ep[2];
  if (pipe2 (ep, O_CLOEXEC) < 0)
    return -1;
  int rc;
  pid_t pid = run_ssh (argv, -1, ep[1], &rc);
  close (ep[1]);
  if (pid < 0)
    {
      close (ep[0]);
      free (s->fail_msg);
      s->fail_msg = xasprintf ("cannot run %s: %s", argv[0], strerror (rc));
      s->fail_status = 127;
      return -1;
    }
  /* with ControlPersist, ssh goes to the background once in (its stdio on
   * /dev/null), and the process we started ends */
  int st = wait_status (pid);
  struct ssh_conn c = { .errfd = ep[0], .master = -1 };
  fcntl (ep[0], F_SETFL, O_NONBLOCK);
  drain (&c);
  close (ep[0]);
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0 && exists (path))
    {
      s->mux->m[i].up = true;
      return 0;
    }
  free (s->fail_msg);
  s->fail_msg = xstrdup (c.err);
  s->fail_status = WIFEXITED (st) && WEXITSTATUS (st) ? WEXITSTATUS (st) : 255;
  return -1;
}

/* The master a new connection of s goes through (s->mu held), with a
 * slot for its client reserved (*slot, filled by master_took): its index,
 * -1: a direct connection, -2: none (s->fail_*). */
static int
master_take (struct engine_ssh *s, int *slot)
{
  struct ssh_mux *x = s->mux;
  int got = -1;
  pthread_mutex_lock (&x->mu);
  if (mux_dir (x))
    {
      char path[128];
      for (int i = 0; i < MAX_MASTERS && got < 0; i++)
        {
          master_path (x, i, path, sizeof path);
          if (x->m[i].up && !exists (path))
            x->m[i].up = false;   /* ended while idle (ControlPersist) */
          if (x->m[i].up && (*slot = mux_slot (x, i)) >= 0)
            got = i;
        }
      for (int i = 0; i < MAX_MASTERS && got < 0; i++)
        if (!x->m[i].up && (*slot = mux_slot (x, i)) == 0)
          {
            if (master_start (s, i) < 0)
              {
                pthread_mutex_unlock (&x->mu);
                return -2;
              }
            got = i;
          }
      if (got >= 0)
        x->m[got].live[*slot] = (pid_t) -1;   /* reserved */
    }
  pthread_mutex_unlock (&x->mu);
  return got;
}

/* The client of master i in slot k is pid (0: it did not start). */
static void
master_took (struct ssh_mux *x, int i, int k, pid_t pid)
{
  pthread_mutex_lock (&x->mu);
  x->m[i].live[k] = pid;
  pthread_mutex_unlock (&x->mu);
}

/* The last handle of x has closed: tell its masters to exit, remove the
 * directory. */
static void
mux_release (struct engine_ssh *s)
{
  struct ssh_mux *x = s->mux;
  pthread_mutex_lock (&x->mu);
  bool last = --x->refs == 0;
  pthread_mutex_unlock (&x->mu);
  if (!last)
    return;
  if (x->dir[0])
    {
      for (int i = 0; i < MAX_MASTERS; i++)
        {
          char path[128];
          master_path (x, i, path, sizeof path);
          if (!exists (path))
            continue;
          const char *argv[24];
          size_t n = ssh_args (s, argv);
          argv[n++] = "-S";
          argv[n++] = path;
          argv[n++] = "-O";
          argv[n++] = "exit";
          argv[n++] = "--";
          argv[n++] = s->host;
          argv[n] = NULL;
          int rc;
          pid_t pid = run_ssh (argv, -1, -1, &rc);
          if (pid > 0)
            wait_status (pid);
          /* the master removes its socket as it ends */
          for (int64_t until = mono_ns () + EXIT_WAIT_MS * 1000000LL;
               exists (path) && mono_ns () < until;)
            poll (NULL, 0, 10);
          unlink (path);
        }
      rmdir (x->dir);
    }
  pthread_mutex_destroy (&x->mu);
  free (x);
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
  if (c == NULL)
    return;
  int slot = 0;
  int master = master_take (s, &slot);
  if (master == -2)
    return;   /* the master's failure is the error */
  int ep[2];
  if (pipe2 (ep, O_CLOEXEC) < 0)
    {
      if (master >= 0)
        master_took (s->mux, master, slot, 0);
      return;
    }
  const char *argv[24];
  char path[128];
  size_t n = ssh_args (s, argv);
  if (master >= 0)
    {
      master_path (s->mux, master, path, sizeof path);
      argv[n++] = "-o";
      argv[n++] = "ControlMaster=no";
      argv[n++] = "-S";
      argv[n++] = path;
    }
  argv[n++] = "--";
  argv[n++] = s->host;
  argv[n++] = "docker";
  argv[n++] = "system";
  argv[n++] = "dial-stdio";
  argv[n] = NULL;
  int rc;
  pid_t pid = run_ssh (argv, fd, ep[1], &rc);
  close (ep[1]);
  if (master >= 0)
    master_took (s->mux, master, slot, pid > 0 ? pid : 0);
  if (pid < 0)
    {
      close (ep[0]);
      free (s->fail_msg);
      s->fail_msg = xasprintf ("cannot run %s: %s", argv[0], strerror (rc));
      s->fail_status = 127;
      return;
    }
  fcntl (ep[0], F_SETFL, O_NONBLOCK);
  c->pid = pid;
  c->master = master;
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
  mux_release (s);
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
  else if (strstr (msg, "timed out"))
    itm_err_hint (err, "%s did not answer within the connect timeout (ssh's ConnectTimeout): is it "
                  "up, and is the address right?  ITM_ENV_CONNECT_TIMEOUT=SECONDS raises the limit",
                  s->host);
  else if (status == 127)
    itm_err_hint (err, "the remote side needs the docker CLI (docker system dial-stdio)");
  else
    itm_err_hint (err, "check that `ssh %s docker version` works", s->host);
  return true;
}
