/* watchdog.c - crash safety: a process in its own session removes the
 * namespace when the itm-env that created it dies without saying "done".
 *
 * The parent keeps the only write end of a pipe (close-on-exec, so run's
 * command does not inherit it); the watchdog, re-executed from
 * /proc/self/exe as `itm-env gc --watchdog NS --watchdog-fd 3`, blocks
 * reading the other end.  EOF without "done" means the parent is gone
 * (whatever killed it, SIGKILL included: the kernel closes its fds).  The
 * watchdog then SIGTERMs run's command if there was one and runs down on
 * the namespace until passes over 3 s in a row find nothing (an engine
 * request the parent had in flight may still create something, slowly on
 * a loaded engine), for at most 25 s. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "state/state.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"
#include "util/clock.h"

static int wd_fd = -1;          /* the write end, in the parent */
static char *wd_ns;
static struct engine *wd_engine; /* the caller's, alive until release (reaper.c) */
static bool wd_reaper;          /* a reaper container was started */

static void
wd_write (const char *msg)
{
  if (wd_fd < 0)
    return;
  /* the watchdog may be gone: no SIGPIPE for that */
  sigset_t set, old;
  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, &old);
  size_t len = strlen (msg), off = 0;
  while (off < len)
    {
      ssize_t w = write (wd_fd, msg + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t) w;
    }
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&set, NULL, &zero) == SIGPIPE)
    ;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
}

int
watchdog_start (struct engine *e, const char *ns)
{
  if (wd_fd >= 0)
    return 0;
  if (getenv ("ITM_ENV_NO_WATCHDOG") && *getenv ("ITM_ENV_NO_WATCHDOG"))
    return -1;
  cleanup_err struct itm_err err = { 0 };
  /* never through a planted link (ns_state_file); nothing to log to then */
  cleanup_close int lf = ns_state_file (ns, "watchdog.log", O_WRONLY | O_CREAT | O_APPEND, 0600,
                                        &err);
  if (lf < 0 && itm_err_isset (&err))
    out_warn ("watchdog of namespace %s: no log: %s", ns, err.msg);
  /* the up lock, when this process holds one: the watchdog keeps it until
   * it is done, so that a waiting up starts only after the namespace of a
   * dead one is gone */
  int lockfd = ns_lock_held (ns);
  char exe[4096];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  int p[2];
  if (n <= 0 || pipe2 (p, O_CLOEXEC) < 0)
    {
      out_warn ("no watchdog for namespace %s: %s", ns, strerror (errno));
      return -1;
    }
  exe[n] = '\0';
  /* -H: the endpoint without the " (TLS)" note; TLS settings come from the
   * environment the watchdog inherits */
  cleanup_free char *host = xstrdup (engine_endpoint (e));
  char *sp = strchr (host, ' ');
  if (sp)
    *sp = '\0';
  /* a docker context (its TLS material is in the store, not the
   * environment): the watchdog uses the same context */
  const char *cname = engine_context_name (e, NULL);
  char *hopt = (char *) "-H", *hval = host;
  if (cname && strcmp (cname, "default") != 0)
    {
      hopt = (char *) "--context";
      hval = (char *) cname;
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      out_warn ("no watchdog for namespace %s: fork: %s", ns, strerror (errno));
      return -1;
    }
  if (pid == 0)
    {
      /* first child: a grandchild in its own session, then exit (nobody
       * waits for the watchdog; init reaps it) */
      if (fork () != 0)
        _exit (0);
      setsid ();
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (nul >= 0)
        {
          dup2 (nul, 0);
          dup2 (nul, 1);
        }
      if (lf >= 0)
        dup2 (lf, 2);
      /* the descriptors that survive the exec: fd 3 the pipe, fd 4 the up
       * lock (held until exit).  Both are moved above 10 first, so that
       * neither dup2 clobbers the other and each dup2 is a real one (it
       * clears close-on-exec; a dup2 onto itself would not) */
      int pipefd = fcntl (p[0], F_DUPFD_CLOEXEC, 10);
      int lk = lockfd >= 0 ? fcntl (lockfd, F_DUPFD_CLOEXEC, 10) : -1;
      if (pipefd < 0 || (lockfd >= 0 && lk < 0) || dup2 (pipefd, 3) < 0
          || (lk >= 0 && dup2 (lk, 4) < 0))
        _exit (127);
      /* nothing else inherited: a pipe a caller waits on for EOF must not
       * stay open in the watchdog */
      for (int fd = lockfd >= 0 ? 5 : 4; fd < 1024; fd++)
        close (fd);
      signal (SIGINT, SIG_IGN);
      signal (SIGHUP, SIG_IGN);
      signal (SIGPIPE, SIG_DFL);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      char *args[] = { exe, hopt, hval, (char *) "gc", (char *) "--watchdog",
                       (char *) ns, (char *) "--watchdog-fd", (char *) "3",
                       lockfd >= 0 ? (char *) "--watchdog-lock-fd" : NULL, (char *) "4", NULL };
      execv (exe, args);
      _exit (127);
    }
  close (p[0]);
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  wd_fd = p[1];
  free (wd_ns);
  wd_ns = xstrdup (ns);
  /* in a container, this watchdog dies with it: a reaper container too */
  wd_engine = e;
  wd_reaper = reaper_start (e, ns) > 0;
  return 1;
}

void
watchdog_child (long pid)
{
  char buf[64];
  snprintf (buf, sizeof buf, "child %ld\n", pid);
  wd_write (buf);
}

void
watchdog_release (bool keep)
{
  if (wd_fd < 0)
    return;
  if (keep && wd_ns)
    {
      cleanup_err struct itm_err err = { 0 };
      int fd = ns_state_file (wd_ns, "released", O_WRONLY | O_CREAT, 0600, &err);
      if (fd >= 0)
        close (fd);
      else
        out_warn ("namespace %s: cannot mark it released (gc may remove it once this "
                  "process is gone): %s", wd_ns, err.msg ? err.msg : strerror (errno));
    }
  if (wd_reaper)
    reaper_remove (wd_engine, wd_ns);
  wd_reaper = false;
  wd_engine = NULL;
  wd_write ("done\n");
  close (wd_fd);
  wd_fd = -1;
  free (wd_ns);
  wd_ns = NULL;
}

bool
watchdog_released (const char *ns)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = NULL;
  int dfd = ns_state_open (ns, false, &dir, &err);
  if (dfd < 0)
    return false;
  struct stat s;
  bool r = fstatat (dfd, "released", &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (s.st_mode);
  close (dfd);
  return r;
}

static void
stamp (char buf[32])
{
  ns_format_time (time (NULL), buf);
}

bool
watchdog_wait (const char *ns, int fd)
{
  struct buf in = { 0 };
  char chunk[256];
  long child = 0;
  bool done = false;
  for (;;)
    {
      ssize_t r = read (fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      buf_add (&in, chunk, (size_t) r);
      char *nl;
      while (in.data && (nl = strchr (in.data, '\n')))
        {
          *nl = '\0';
          if (strcmp (in.data, "done") == 0)
            done = true;
          else if (strncmp (in.data, "child ", 6) == 0)
            child = atol (in.data + 6);
          buf_consume (&in, (size_t) (nl - in.data) + 1);
        }
    }
  buf_free (&in);
  close (fd);
  if (done)
    return true;
  char t[32];
  stamp (t);
  fprintf (stderr, "%s watchdog: the itm-env that owns namespace %s is gone: removing it\n",
           t, ns);
  if (child > 1)
    kill ((pid_t) child, SIGTERM);
  return false;
}

int
watchdog_clean (struct engine *e, const char *ns, struct itm_err *err)
{
  char t[32];
  int64_t t0 = mono_ns ();
  int empty_passes = 0;
  int ret = 0;
  out_init (OUT_QUIET, false);
  enum { QUIET_PASSES = 7 };    /* 0.5 s apart: 3 s without anything labelled */
  while (empty_passes < QUIET_PASSES && mono_ns () - t0 < 25 * 1000000000LL)
    {
      cleanup_err struct itm_err e2 = { 0 };
      struct state *st = NULL;
      if (state_load (e, ns, &st, &e2) < 0)
        {
          fprintf (stderr, "watchdog: %s\n", e2.msg);
          ret = -1;
        }
      else
        {
          bool empty = state_empty (st);
          state_free (st);
          if (empty)
            empty_passes++;
          else
            {
              empty_passes = 0;
              struct prov_down_opts d = { .ns = ns, .grace_s = -1 };
              cleanup_err struct itm_err e3 = { 0 };
              if (prov_down (e, &d, &e3) < 0)
                fprintf (stderr, "watchdog: down: %s\n", e3.msg);
            }
        }
      struct timespec ts = { 0, 500 * 1000000L };
      nanosleep (&ts, NULL);
    }
  stamp (t);
  fprintf (stderr, "%s watchdog: namespace %s %s after %.1f s\n", t, ns,
           empty_passes >= QUIET_PASSES ? "removed" : "NOT fully removed",
           (mono_ns () - t0) / 1e9);
  if (empty_passes >= QUIET_PASSES)
    {
      cleanup_err struct itm_err e4 = { 0 };
      ns_state_remove (ns, &e4);
      return 0;
    }
  (void) ret;
  return itm_err_set (err, ITM_EXIT_LEAK, "watchdog: namespace %s not fully removed", ns);
}
