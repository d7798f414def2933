/* cmd-lifecycle.c - itm-env stop, start, restart, pause, unpause, kill and
 * rm: Compose's lifecycle commands on a namespace's containers.
 *
 * Seven table entries in one file: they are one operation
 * (prov_lifecycle) with seven verbs, and differ only in their option
 * tables; one parser serves them all, so an option means the same in each
 * (-t in stop and restart, -q and --json everywhere). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "out/out.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_WAIT_TIMEOUT,
  OPT_NO_DEPS,
};

static int
life_main (const struct itm_cmd *cmd, enum prov_life op, struct itm_ctx *ctx, int argc,
           char **argv, struct itm_err *err)
{
  struct prov_life_opts o = { .op = op, .grace_s = -1, .timeout_ns = 300 * 1000000000LL };
  bool quiet = false, json = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (cmd, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case 't':
        {
          int64_t t;
          if (cmd_parse_secs (cmd->name, "--timeout", arg, &t, err) < 0)
            return -1;
          o.grace_s = (int) (t / 1000000000LL);
          break;
        }
      case OPT_WAIT_TIMEOUT:
        if (cmd_parse_secs (cmd->name, "--wait-timeout", arg, &o.timeout_ns, err) < 0)
          return -1;
        break;
      case 's':
        if (op == PROV_LIFE_KILL)
          o.signal = arg;
        else
          o.stop_first = true;
        break;
      case 'v':
        o.volumes = true;
        break;
      case 'q':
        quiet = true;
        break;
      case OPT_JSON:
        json = true;
        break;
      default: /* rm -f (never asks anyway), restart --no-deps (restarts no dependent) */
        break;
      }
  if (opt < 0)
    return -1;
  if (o.signal && *o.signal == '\0')
    return itm_err_set (err, ITM_EXIT_USAGE, "kill: --signal wants a signal (SIGTERM, 15)");

  bool gates = op == PROV_LIFE_START || op == PROV_LIFE_RESTART;
  cleanup_stack struct stack *st = NULL;
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, gates ? CTX_STACK_WANTED : CTX_STACK_NONE, &ns, gates ? &st : NULL,
                     err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  o.ns = ns;
  o.stack = st;
  o.services = (const char *const *) argv + optind;
  o.nservices = (size_t) (argc - optind);
  out_auto (quiet, json);
  if (gates)
    prov_signals_install (ns);
  return prov_lifecycle (e, &o, err);
}

#define LIFE_FN(name, op)                                                               \
  static int name##_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err) \
  {                                                                                     \
    return life_main (&cmd_##name, op, ctx, argc, argv, err);                           \
  }
LIFE_FN (stop, PROV_LIFE_STOP)
LIFE_FN (start, PROV_LIFE_START)
LIFE_FN (restart, PROV_LIFE_RESTART)
LIFE_FN (pause, PROV_LIFE_PAUSE)
LIFE_FN (unpause, PROV_LIFE_UNPAUSE)
LIFE_FN (kill, PROV_LIFE_KILL)
LIFE_FN (rm, PROV_LIFE_RM)

/* -q and --json, in every one of them */
static const struct itm_opt out_opts[] = {
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "no progress output" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "progress as JSON event lines on stdout" },
  { 0 },
};
#define GRACE_OPT                                                                      \
  { 't', 't', "timeout", OPT_ARG_REQUIRED, "DURATION",                                  \
    "the grace period before SIGKILL (default: each container's own)" }
#define WAIT_TIMEOUT_OPT                                                               \
  { OPT_WAIT_TIMEOUT, 0, "wait-timeout", OPT_ARG_REQUIRED, "DURATION",                   \
    "give up waiting for readiness after this long (default 5m)" }

static const struct itm_opt stop_opts[] = {
  { .group = cmd_stack_opts }, GRACE_OPT, { .group = out_opts }, { 0 },
};
static const struct itm_opt start_opts[] = {
  { .group = cmd_stack_opts }, WAIT_TIMEOUT_OPT, { .group = out_opts }, { 0 },
};
static const struct itm_opt restart_opts[] = {
  { .group = cmd_stack_opts }, GRACE_OPT, WAIT_TIMEOUT_OPT,
  { OPT_NO_DEPS, 0, "no-deps", OPT_ARG_NONE, NULL, NULL },   /* Compose's; hidden: the default */
  { .group = out_opts }, { 0 },
};
static const struct itm_opt pause_opts[] = {
  { .group = cmd_stack_opts }, { .group = out_opts }, { 0 },
};
static const struct itm_opt kill_opts[] = {
  { .group = cmd_stack_opts },
  { 's', 's', "signal", OPT_ARG_REQUIRED, "SIGNAL", "the signal to send (default SIGKILL)" },
  { .group = out_opts }, { 0 },
};
/* -f is --force here (as in Compose): the stack file is --file, or -f
 * before the command name */
static const struct itm_opt rm_opts[] = {
  { .group = cmd_stack_opts, .hidden = true },
  { OPT_NAMESPACE, 'p', "namespace", OPT_ARG_REQUIRED, "NS",
    "namespace (default: $ITM_ENV_NAMESPACE, name:, directory)" },
  { OPT_FILE, 0, "file", OPT_ARG_REQUIRED, "FILE",
    "stack file (to find the namespace; -f is --force here)" },
  { 'f', 'f', "force", OPT_ARG_NONE, NULL, "accepted for Compose: rm never asks" },
  { 's', 's', "stop", OPT_ARG_NONE, NULL, "stop running containers first, then remove them" },
  { 'v', 'v', "volumes", OPT_ARG_NONE, NULL, "remove their anonymous volumes too" },
  { .group = out_opts }, { 0 },
};

const struct itm_cmd cmd_stop = {
  .name = "stop", .args = "[SERVICE...]", .summary = "stop running containers (dependents first)",
  .opts = stop_opts, .fn = stop_main,
};
const struct itm_cmd cmd_start = {
  .name = "start", .args = "[SERVICE...]",
  .summary = "start stopped containers and wait until they are ready",
  .opts = start_opts, .fn = start_main,
};
const struct itm_cmd cmd_restart = {
  .name = "restart", .args = "[SERVICE...]",
  .summary = "restart containers and wait until they are ready",
  .opts = restart_opts, .fn = restart_main,
};
const struct itm_cmd cmd_pause = {
  .name = "pause", .args = "[SERVICE...]", .summary = "pause running containers",
  .opts = pause_opts, .fn = pause_main,
};
const struct itm_cmd cmd_unpause = {
  .name = "unpause", .args = "[SERVICE...]", .summary = "unpause paused containers",
  .opts = pause_opts, .fn = unpause_main,
};
const struct itm_cmd cmd_kill = {
  .name = "kill", .args = "[SERVICE...]", .summary = "send a signal to running containers",
  .opts = kill_opts, .fn = kill_main,
};
const struct itm_cmd cmd_rm = {
  .name = "rm", .args = "[SERVICE...]", .summary = "remove stopped containers",
  .opts = rm_opts, .fn = rm_main,
};
