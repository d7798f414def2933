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
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"
#include "util/clock.h"

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

/* Around up's work (src/verify/): the verifier's snapshot of the engine
 * before anything is created, and the watchdog that removes the namespace
 * if this process dies before up is done. */
struct up_guard {
  int wd;                       /* watchdog_start's answer: 1 when this up started it */
};

static void
guard_before_create (void *arg, struct engine *e, const char *ns, bool fresh)
{
  struct up_guard *g = arg;
  verify_snapshot_take (e, ns, fresh);
  g->wd = watchdog_start (e, ns);
}

static void
guard_after (void *arg, bool keep)
{
  struct up_guard *g = arg;
  if (g->wd > 0)
    watchdog_release (keep);
}

static struct report_opts run_report;

static int
run_body (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    REPORT_LONGOPTS,
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "keep-on-failure", no_argument, NULL, OPT_KEEP_ON_FAILURE },
    { "quiet", no_argument, NULL, 'q' },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "rmi", required_argument, NULL, OPT_RMI },
    { NULL, 0, NULL, 0 },
  };
  struct prov_opts po = { .timeout_ns = 300 * 1000000000LL };
  bool quiet = false, keep = false;
  enum prov_rmi rmi = PROV_RMI_NONE;
  int opt;
  while ((opt = getopt_long (argc, argv, "+:" ITM_STACK_SHORTOPTS "H:q", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (ctx, opt, optarg))
        continue;
      if (report_option (&run_report, opt, optarg))
        continue;
      switch (opt)
        {
        case OPT_TIMEOUT:
          if (cmd_parse_secs ("run", "--timeout", optarg, &po.timeout_ns, err) < 0)
            return -1;
          break;
        case OPT_TTL:
          {
            int64_t t;
            if (cmd_parse_secs ("run", "--ttl", optarg, &t, err) < 0)
              return -1;
            po.ttl = (long) (t / 1000000000LL);
            break;
          }
        case OPT_KEEP_ON_FAILURE:
          keep = true;
          break;
        case OPT_RMI:
          if (prov_rmi_parse ("run", optarg, &rmi, err) < 0)
            return -1;
          break;
        case 'q':
          quiet = true;
          break;
        default:
          return cmd_bad_option (&cmd_run, argv, opt, err);
        }
    }
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  if (optind >= argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "run: no command given (itm-env run -- CMD ...)");
  char **cmdv = argv + optind;
  if (report_begin ("run", &run_report, NULL, err) < 0)
    return -1;

  cleanup_stack struct stack *st = NULL;
  if (ctx_stack_load (ctx, NULL, 0, &st, err) < 0)
    return -1;
  cleanup_free char *ns = NULL;
  if (ctx->namespace)
    {
      if (ns_check (ctx->namespace, "-p", err) < 0)
        return -1;
      ns = xstrdup (ctx->namespace);
    }
  else
    ns = fresh_namespace ();
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;

  /* the watchdog first: from here on, this process dying removes ns */
  bool wd = watchdog_start (e, ns) > 0;
  po.ns = ns;
  struct up_guard guard = { 0 };
  po.hooks = (struct prov_hooks){ .before_create = guard_before_create, .after = guard_after,
                                  .arg = &guard };
  out_auto (quiet, false);
  prov_signals_install (ns);
  if (!quiet)
    fprintf (stderr, "itm-env: run: namespace %s\n", ns);

  cleanup_err struct itm_err uperr = { 0 };
  int cmd_rc = -1;
  if (prov_up (e, st, &po, &uperr) == 0 && !prov_interrupted ())
    {
      char **vars = NULL;
      if (env_vars (ctx, ns, st, &vars, &uperr) == 0)
        {
          int64_t tc = mono_ns ();
          cmd_rc = run_command (cmdv, vars, ns, &uperr);
          report_command (report_current (), (const char *const *) cmdv, cmd_rc,
                          mono_ns () - tc);
          /* vars belong to the child's environment only; free ours */
          for (char **v = vars; *v; v++)
            free (*v);
          free (vars);
        }
    }
  else if (!itm_err_isset (&uperr))
    itm_err_set (&uperr, ITM_EXIT_INTERRUPTED, "interrupted");

  if (cmd_rc > 0 && keep)
    {
      fprintf (stderr,
               "itm-env: run: %s failed (exit status %d): the environment is kept in "
               "namespace %s\n"
               "itm-env: reach it with:   eval \"$(itm-env env -p %s)\"; itm-env ps -p %s\n"
               "itm-env: remove it with:  itm-env down -p %s\n",
               cmdv[0], cmd_rc, ns, ns, ns, ns);
      if (wd)
        watchdog_release (true);
      return cmd_rc;
    }

  if (cmd_rc < 0)
    report_command (report_current (), (const char *const *) cmdv, -1, -1);
  /* down and verify whatever happened */
  struct prov_down_opts d = { .ns = ns, .grace_s = -1, .rmi = rmi, .stack = st };
  struct verify_opts vo = { 0 };
  cleanup_verify_result struct verify_result *vr = NULL;
  cleanup_err struct itm_err verr = { 0 };
  int vret = verify_down (e, &d, &vo, &vr, &verr);
  report_verification (report_current (), vr);
  if (vr && !quiet)
    verify_print (vr, stderr);
  else if (vr && !vr->clean)
    verify_print (vr, stderr);
  if (wd)
    watchdog_release (false);

  if (cmd_rc < 0)
    {
      itm_err_move (err, &uperr);
      if (vret != 0 && verr.msg)
        fprintf (stderr, "itm-env: %s\n", verr.msg);
      return -1;
    }
  if (cmd_rc > 0)
    {
      if (vret != 0 && verr.msg)
        fprintf (stderr, "itm-env: %s\n", verr.msg);
      return cmd_rc;
    }
  if (vret != 0)
    {
      itm_err_move (err, &verr);
      return -1;
    }
  return 0;
}

/* The report around the command (src/report/): begun once the options
 * are read, written whatever happened. */
static int
run_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  int rc = run_body (ctx, argc, argv, err);
  struct report *rep = report_current ();
  for (size_t i = 0; i < ctx->nfiles; i++)
    report_stack_file (rep, ctx->files[i]);
  return report_end (rep, &run_report, rc, err);
}

const struct itm_cmd cmd_run = {
  .name = "run",
  .usage = "[-f FILE]... [-p NAMESPACE] [--keep-on-failure] [--rmi local|all] [--] CMD [ARGS...]",
  .summary = "up, run a command with the environment's variables, down and verify",
  .help = ITM_STACK_HELP
  "                             (run's default: a fresh namespace run-<hex>)\n"
  "      --keep-on-failure      keep the environment when CMD fails (how to reach and\n"
  "                             remove it is printed)\n"
  "      --rmi local|all        down removes images too (see itm-env down)\n"
  "      --timeout DURATION     up gives up when not all ready by then (default 5m)\n"
  "      --ttl DURATION         expiry label for gc (default 24h)\n"
  "  -q, --quiet                no progress output\n"
  REPORT_HELP,
  .passthrough = true,
  .fn = run_main,
};
