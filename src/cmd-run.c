/* cmd-run.c - itm-env run: up, run a command with the environment's
 * variables, then down and verify whatever happened.
 *
 * The namespace is fresh (run-<12 hex digits>) unless -p names one.  The
 * command gets the variables `itm-env env` prints plus ITM_ENV_NAMESPACE;
 * SIGINT and SIGTERM are forwarded to it.  Exit status: the command's when
 * it failed (128+N when a signal N ended it), else the verifier's (0, or
 * ITM_EXIT_LEAK), or up's when up failed.  A watchdog (src/verify/) removes
 * the namespace if this process dies, even by SIGKILL. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "cmd.h"
#include "conn/conn.h"
#include "data/data.h"
#include "image/image.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/fds.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"
#include "util/clock.h"
#include "util/strv.h"

enum {
  OPT_TIMEOUT = OPT_FIRST_COMMAND_OPT,
  OPT_KEEP_ON_FAILURE,
  OPT_TTL,
  OPT_RMI,
  OPT_CHECK,
};

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t forwarded;

static void
forward (int sig)
{
  forwarded = sig;
  itm_exit_signal_note (sig);
  if (child_pid > 0)
    kill ((pid_t) child_pid, sig);
}

static char *
fresh_namespace (void)
{
  unsigned char r[6];
  if (getrandom (r, sizeof r, 0) != (ssize_t) sizeof r)
    {
      unsigned long x = (unsigned long) getpid () ^ (unsigned long) time (NULL) * 2654435761UL;
      memcpy (r, &x, sizeof r < sizeof x ? sizeof r : sizeof x);
    }
  return xasprintf ("run-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
}

/* The variables `itm-env env -p ns` prints, as "NAME=value" strings. */
static int
run_vars (struct itm_ctx *ctx, const char *ns, const struct stack *st, char ***out,
          struct itm_err *err)
{
  cleanup_state struct state *s = NULL;
  if (ctx_state (ctx, ns, true, &s, err) < 0)
    return -1;
  /* as `env` prints them: data services' credentials and URL too */
  cleanup_conn_vars struct conn_vars data = { 0 };
  data_default_vars (st, s, NULL, 0, &data);
  cleanup_conn_vars struct conn_vars vs = { 0 };
  if (conn_namespace_vars_with (s, st, NULL, 0, &data, &vs, err) < 0)
    return -1;
  *out = conn_vars_environ (&vs);
  return 0;
}

/* ---- the command's output relayed through pipes (--report, --logs-dir):
 * passed on as it comes, stdout to stdout and stderr to stderr, its last
 * TAIL_BYTES kept for the report ---- */
#define TAIL_BYTES (16 * 1024)
#define TAIL_LINES 40

struct tail {
  char b[TAIL_BYTES];
  size_t len;
  bool cut;                  /* older bytes were dropped */
};

static void
tail_add (struct tail *t, const char *p, size_t n)
{
  if (n >= TAIL_BYTES)
    {
      p += n - TAIL_BYTES;
      n = TAIL_BYTES;
      t->cut = true;
      t->len = 0;
    }
  if (t->len + n > TAIL_BYTES)
    {
      size_t drop = t->len + n - TAIL_BYTES;
      memmove (t->b, t->b + drop, t->len - drop);
      t->len -= drop;
      t->cut = true;
    }
  memcpy (t->b + t->len, p, n);
  t->len += n;
}

/* Its last TAIL_LINES whole lines (a new string). */
static char *
tail_lines (const struct tail *t)
{
  const char *p = t->b, *end = t->b + t->len;
  if (t->cut)
    {
      const char *nl = memchr (p, '\n', t->len);
      p = nl ? nl + 1 : end;
    }
  unsigned lines = 0;
  const char *q = end;
  if (q > p && q[-1] == '\n')
    q--;
  while (q > p)
    {
      if (q[-1] == '\n' && ++lines == TAIL_LINES)
        break;
      q--;
    }
  return xstrndup (q, (size_t) (end - q));
}

/* false when fd is gone (EPIPE: SIGPIPE is ignored while relaying) */
static bool
write_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      n -= (size_t) w;
    }
  return true;
}

/* Relay fds[0] to 1 and fds[1] to 2 until both end, or the child pid has
 * ended and they are drained (a daemon it left may hold them open). */
static void
relay (pid_t pid, int fds[2], struct tail *t, int *status, bool *reaped)
{
  char buf[8192];
  bool exited = false;
  unsigned after = 0;        /* reads since the exit: a writing daemon is not waited for */
  while (fds[0] >= 0 || fds[1] >= 0)
    {
      struct pollfd pf[2] = { { .fd = fds[0], .events = POLLIN },
                              { .fd = fds[1], .events = POLLIN } };
      int n = poll (pf, 2, exited ? 0 : 200);
      if (n < 0 && errno != EINTR)
        break;
      if (exited && (n == 0 || ++after > 128))
        break;
      for (int i = 0; n > 0 && i < 2; i++)
        if (pf[i].revents)
          {
            ssize_t r = read (fds[i], buf, sizeof buf);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
              continue;
            if (r <= 0)
              {
                close (fds[i]);
                fds[i] = -1;
                continue;
              }
            tail_add (t, buf, (size_t) r);
            if (!write_all (i ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t) r))
              {
                /* our side is gone: the child's writes fail as they would
                 * without the relay (SIGPIPE, EPIPE) */
                close (fds[i]);
                fds[i] = -1;
              }
          }
      if (!exited && !*reaped && waitpid (pid, status, WNOHANG) == pid)
        *reaped = exited = true;
    }
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* Run argv with vars in its environment; its exit status (128+N for a
 * signal), or -1 with err set when it could not be started.  tail not
 * NULL: its output goes through pipes and *tail is set to its last lines. */
static int
run_command (char **argv, char **vars, const char *ns, char **tail, struct itm_err *err)
{
  fflush (stdout);
  fflush (stderr);
  int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
  if (tail && (pipe2 (po, O_CLOEXEC) < 0 || pipe2 (pe, O_CLOEXEC) < 0))
    {
      int e = errno;
      if (po[0] >= 0)
        close (po[0]), close (po[1]);
      errno = e;
      return itm_err_errno (err, ITM_EXIT_FAILURE, "run: pipe");
    }
  fds_cloexec_own ();   /* the command gets the caller's descriptors, none of ours */
  pid_t pid = fork ();
  if (pid < 0)
    {
      if (tail)
        close (po[0]), close (po[1]), close (pe[0]), close (pe[1]);
      return itm_err_errno (err, ITM_EXIT_FAILURE, "run: fork");
    }
  if (pid == 0)
    {
      if (tail && (dup2 (po[1], STDOUT_FILENO) < 0 || dup2 (pe[1], STDERR_FILENO) < 0))
        _exit (126);
      fds_close_own_in_child ();   /* what another thread opened after the sweep */
      for (char **v = vars; v && *v; v++)
        putenv (*v);
      setenv ("ITM_ENV_NAMESPACE", ns, 1);
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGPIPE, SIG_DFL);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      execvp (argv[0], argv);
      int e = errno;
      fprintf (stderr, "itm-env: run: %s: %s\n", argv[0], strerror (e));
      _exit (e == ENOENT ? 127 : 126);
    }
  child_pid = pid;
  watchdog_child ((long) pid);
  struct sigaction sa = { 0 };
  sa.sa_handler = forward;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  int st;
  bool reaped = false;
  if (tail)
    {
      close (po[1]);
      close (pe[1]);
      int fds[2] = { po[0], pe[0] };
      struct tail *t = xzalloc (sizeof *t);
      struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
      sigemptyset (&ign.sa_mask);
      sigaction (SIGPIPE, &ign, &oldpipe);
      relay (pid, fds, t, &st, &reaped);
      sigaction (SIGPIPE, &oldpipe, NULL);
      *tail = tail_lines (t);
      free (t);
    }
  while (!reaped && waitpid (pid, &st, 0) < 0)
    if (errno != EINTR)
      {
        child_pid = 0;
        return itm_err_errno (err, ITM_EXIT_FAILURE, "run: waiting for %s", argv[0]);
      }
  child_pid = 0;
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return ITM_EXIT_FAILURE;
}

struct run_opts {
  struct prov_opts po;
  bool quiet, keep;
  enum prov_rmi rmi;
  char **cmdv;               /* the command, NULL-terminated (in argv) */
  bool capture;              /* its output through a pipe, its tail in the report */
  bool check;                /* --check: x-itm.checks before the command */
};

static int
run_parse (struct itm_ctx *ctx, int argc, char **argv, struct run_opts *o,
           struct report_opts *ro, struct itm_err *err)
{
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_run, ctx, argc, argv, &arg, err)) > 0)
    {
      if (cmd_report_option (ro, opt, arg))
        continue;
      switch (opt)
        {
        case OPT_TIMEOUT:
          if (cmd_parse_secs ("run", "--timeout", arg, &o->po.timeout_ns, err) < 0)
            return -1;
          break;
        case OPT_TTL:
          {
            int64_t t;
            if (cmd_parse_secs ("run", "--ttl", arg, &t, err) < 0)
              return -1;
            o->po.ttl = (long) (t / 1000000000LL);
            break;
          }
        case OPT_KEEP_ON_FAILURE:
          o->keep = true;
          break;
        case OPT_RMI:
          if (prov_rmi_parse ("run", arg, &o->rmi, err) < 0)
            return -1;
          break;
        case 'q':
          o->quiet = true;
          break;
        case OPT_CHECK:
          o->check = true;
          break;
        }
    }
  if (opt < 0)
    return -1;
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  if (optind >= argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "run: no command given (itm-env run -- CMD ...)");
  o->cmdv = argv + optind;
  return 0;
}

/* -p's namespace, or a fresh one (a new string; NULL with err set). */
static char *
run_namespace (const struct itm_ctx *ctx, struct itm_err *err)
{
  if (ctx->namespace == NULL)
    return fresh_namespace ();
  if (ns_check (ctx->namespace, "-p", err) < 0)
    return NULL;
  return xstrdup (ctx->namespace);
}

/* up, then the command with the environment's variables: the command's
 * exit status, or -1 with err set when up failed (or was interrupted) or
 * the command could not be run. */
static int
run_up_and_command (struct itm_ctx *ctx, struct engine *e, struct stack *st, const char *ns,
                    struct run_opts *o, struct itm_err *err)
{
  int cmd_rc = -1;
  if (prov_up (e, st, &o->po, err) == 0 && !prov_interrupted ())
    {
      /* --check: a failed check skips the command and fails the run */
      cleanup_strv char **vars = NULL;
      if ((!o->check || check_gate (e, st, ns, stderr, err) == 0)
          && run_vars (ctx, ns, st, &vars, err) == 0)
        {
          int64_t tc = mono_ns ();
          cleanup_free char *tail = NULL;
          cmd_rc = run_command (o->cmdv, vars, ns, o->capture ? &tail : NULL, err);
          report_command (report_current (), (const char *const *) o->cmdv, cmd_rc,
                          mono_ns () - tc);
          report_command_output (report_current (), tail);
        }
    }
  else if (!itm_err_isset (err))
    itm_err_set (err, ITM_EXIT_INTERRUPTED, "interrupted");
  if (cmd_rc < 0)
    report_command (report_current (), (const char *const *) o->cmdv, -1, -1);
  return cmd_rc;
}

static void
print_kept (const char *cmd, int cmd_rc, const char *ns)
{
  fprintf (stderr,
           "itm-env: run: %s failed (exit status %d): the environment is kept in "
           "namespace %s\n"
           "itm-env: reach it with:   eval \"$(itm-env env -p %s)\"; itm-env ps -p %s\n"
           "itm-env: remove it with:  itm-env down -p %s\n",
           cmd, cmd_rc, ns, ns, ns, ns);
}

/* down and verify: 0 clean, else err set */
static int
run_down (struct engine *e, const char *ns, struct stack *st, const struct run_opts *o,
          struct itm_err *err)
{
  struct prov_down_opts d = { .ns = ns, .grace_s = -1, .rmi = o->rmi, .stack = st };
  struct verify_opts vo = { 0 };
  cleanup_verify_result struct verify_result *vr = NULL;
  prov_proxy_report (e, st, ns, report_current ());
  int64_t t0 = mono_ns ();
  int vret = verify_down (e, &d, &vo, &vr, err);
  report_teardown_time (report_current (), mono_ns () - t0);
  verify_report (report_current (), vr);
  if (vr && (!o->quiet || !vr->clean))
    verify_print (vr, stderr);
  return vret;
}

/* The exit: the command's failure first, then up's, then the verifier's
 * (a verifier's error beside another failure is printed, not returned). */
static int
run_outcome (int cmd_rc, struct itm_err *uperr, int vret, struct itm_err *verr,
             struct itm_err *err)
{
  if (cmd_rc != 0 && vret != 0 && verr->msg)
    fprintf (stderr, "itm-env: %s\n", verr->msg);
  if (cmd_rc < 0)
    {
      itm_err_move (err, uperr);
      return -1;
    }
  if (cmd_rc > 0)
    return cmd_rc;
  if (vret != 0)
    {
      itm_err_move (err, verr);
      return -1;
    }
  return 0;
}

static int
run_body (struct itm_ctx *ctx, int argc, char **argv, struct report_opts *ro,
          struct itm_err *err)
{
  struct run_opts o = { .po = { .timeout_ns = 300 * 1000000000LL }, .rmi = PROV_RMI_NONE };
  if (run_parse (ctx, argc, argv, &o, ro, err) < 0)
    return -1;
  if (report_begin ("run", ro, NULL, err) < 0)
    return -1;
  /* the command's output is relayed through pipes only for a report (its
   * tail) or --logs-dir: otherwise it has the terminal itself */
  o.capture = ro->path != NULL || ro->logs_dir != NULL;
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, NULL, 0, &st, err) < 0)
    return -1;
  cleanup_free char *ns = run_namespace (ctx, err);
  if (ns == NULL)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;

  gc_reap (e);
  if (ctx_reach (ctx, &o.po.join, err) < 0)
    return -1;
  /* the watchdog first: from here on, this process dying removes ns */
  bool wd = watchdog_start (e, ns) > 0;
  o.po.ns = ns;
  struct cmd_up_guard guard = { 0 };
  cmd_up_guard (&o.po, &guard);
  /* -q: no line per image unless one was built, pulled or failed */
  struct image_opts io = { .progress = o.quiet ? IMAGE_PROGRESS_QUIET : IMAGE_PROGRESS_AUTO };
  o.po.image = &io;
  out_auto (o.quiet, false);
  prov_signals_install (ns);
  if (!o.quiet)
    fprintf (stderr, "itm-env: run: namespace %s\n", ns);

  cleanup_err struct itm_err uperr = { 0 };
  int cmd_rc = run_up_and_command (ctx, e, st, ns, &o, &uperr);
  if (cmd_rc > 0 && o.keep)
    {
      print_kept (o.cmdv[0], cmd_rc, ns);
      if (wd)
        watchdog_release (true);
      return cmd_rc;
    }
  /* down and verify whatever happened */
  cleanup_err struct itm_err verr = { 0 };
  int vret = run_down (e, ns, st, &o, &verr);
  if (wd)
    watchdog_release (false);
  return run_outcome (cmd_rc, &uperr, vret, &verr, err);
}

/* The report around the command (src/report/): begun once the options
 * are read, written whatever happened. */
static int
run_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct report_opts ro = { 0 };
  int rc = run_body (ctx, argc, argv, &ro, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &ro, rc, err);
}

static const struct itm_opt run_opts[] = {
  { .group = cmd_stack_opts },
  { .help = "(run's default: a fresh namespace run-<hex>)" },
  { OPT_KEEP_ON_FAILURE, 0, "keep-on-failure", OPT_ARG_NONE, NULL,
    "keep the environment when CMD fails (how to reach and\nremove it is printed)" },
  { OPT_RMI, 0, "rmi", OPT_ARG_REQUIRED, "local|all", "down removes images too (see itm-env down)" },
  { OPT_TIMEOUT, 0, "timeout", OPT_ARG_REQUIRED, "DURATION",
    "up gives up when not all ready by then (default 5m)" },
  { OPT_TTL, 0, "ttl", OPT_ARG_REQUIRED, "DURATION", "expiry label for gc (default 24h)" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_CHECK, 0, "check", OPT_ARG_NONE, NULL,
    "run the x-itm.checks before CMD: a failed one skips CMD\nand fails the run (exit 11)" },
  { .group = cmd_report_opts },
  { 0 },
};

const struct itm_cmd cmd_run = {
  .name = "run",
  .args = "[--] CMD [ARGS...]",
  .summary = "up, run a command with the environment's variables, down and verify",
  .opts = run_opts,
  .passthrough = true,
  .fn = run_main,
};
