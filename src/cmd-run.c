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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conn/conn.h"
#include "data/data.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "state/state.h"
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
};

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t forwarded;

static void
forward (int sig)
{
  forwarded = sig;
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

/* Run argv with vars in its environment; its exit status (128+N for a
 * signal), or -1 with err set when it could not be started. */
static int
run_command (char **argv, char **vars, const char *ns, struct itm_err *err)
{
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "run: fork");
  if (pid == 0)
    {
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
  while (waitpid (pid, &st, 0) < 0)
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
      cleanup_strv char **vars = NULL;
      if (run_vars (ctx, ns, st, &vars, err) == 0)
        {
          int64_t tc = mono_ns ();
          cmd_rc = run_command (o->cmdv, vars, ns, err);
          report_command (report_current (), (const char *const *) o->cmdv, cmd_rc,
                          mono_ns () - tc);
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
  int vret = verify_down (e, &d, &vo, &vr, err);
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
  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, NULL, 0, &st, err) < 0)
    return -1;
  cleanup_free char *ns = run_namespace (ctx, err);
  if (ns == NULL)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;

  if (ctx_reach (ctx, &o.po.join, err) < 0)
    return -1;
  /* the watchdog first: from here on, this process dying removes ns */
  bool wd = watchdog_start (e, ns) > 0;
  o.po.ns = ns;
  struct cmd_up_guard guard = { 0 };
  cmd_up_guard (&o.po, &guard);
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
