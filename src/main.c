/* main.c - global options, the command table, and the one place where
 * errors are reported and turned into exit codes. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "util/fds.h"
#include "util/xalloc.h"

/* The table: sorted by name, the order of `itm-env --help`. */
static const struct itm_cmd *const commands[] = {
  &cmd_build,
  &cmd_check,
  &cmd_config,
  &cmd_cp,
  &cmd_doctor,
  &cmd_down,
  &cmd_env,
  &cmd_events,
  &cmd_exec,
  &cmd_fault,
  &cmd_gc,
  &cmd_help,
  &cmd_images,
  &cmd_kill,
  &cmd_logs,
  &cmd_ls,
  &cmd_ns,
  &cmd_pause,
  &cmd_port,
  &cmd_proxy,
  &cmd_ps,
  &cmd_pull,
  &cmd_restart,
  &cmd_rm,
  &cmd_run,
  &cmd_seed,
  &cmd_start,
  &cmd_stop,
  &cmd_top,
  &cmd_unpause,
  &cmd_up,
  &cmd_verify,
  &cmd_version,
  &cmd_wait,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const struct itm_cmd *
cmd_find (const char *name, struct itm_err *err)
{
  const struct itm_cmd *found = NULL;
  size_t n = strlen (name), matches = 0;

  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp (commands[i]->name, name) == 0
        || (commands[i]->alias && strcmp (commands[i]->alias, name) == 0))
      return commands[i];
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (n > 0 && strncmp (commands[i]->name, name, n) == 0)
      {
        found = commands[i];
        matches++;
      }
  if (matches == 1)
    return found;
  if (matches > 1)
    {
      struct buf b = { 0 };
      for (size_t i = 0; i < NCOMMANDS; i++)
        if (strncmp (commands[i]->name, name, n) == 0)
          buf_addf (&b, "%s%s", b.len ? ", " : "", commands[i]->name);
      itm_err_set (err, ITM_EXIT_USAGE, "ambiguous command '%s': %s", name, b.data);
      buf_free (&b);
      return NULL;
    }
  itm_err_set (err, ITM_EXIT_USAGE, "unknown command '%s'", name);
  itm_err_hint (err, "'itm-env --help' lists the commands");
  return NULL;
}

void
cmd_print_list (void)
{
  printf ("usage: itm-env [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
          "Provision throwaway integration-test environments on a Docker engine.\n\n"
          "commands (a unique prefix is enough):\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    printf ("  %-10s %s\n", commands[i]->name, commands[i]->summary);
  printf ("\nglobal options (before or after the command):\n");
  cmd_print_opts_help (cmd_global_opts);
  printf ("\n'itm-env help COMMAND' or 'itm-env COMMAND --help' for a command's options;\n"
          "itm-env(1) and itm-env-stack(5) for the whole story.\n");
}

void
cmd_print_options (void)
{
  for (size_t i = 0; i < NCOMMANDS; i++)
    cmd_print_opts_table (commands[i]);
}

struct engine *
ctx_engine (struct itm_ctx *ctx, struct itm_err *err)
{
  if (ctx->engine)
    return ctx->engine;
  struct engine_config cfg = { .host = ctx->host, .context = ctx->context,
                               .light = ctx->read_side };
  struct engine *e = engine_open (&cfg, err);
  if (e == NULL)
    return NULL;
  if ((ctx->read_side ? engine_negotiate_cached (e, err) : engine_negotiate (e, err)) < 0)
    {
      engine_close (e);
      return NULL;
    }
  ctx->engine = e;
  return e;
}

void
print_json (struct json_object *v)
{
  int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
  flags |= isatty (STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                  : JSON_C_TO_STRING_PLAIN;
  puts (json_object_to_json_string_ext (v, flags));
  fflush (stdout);
}

static int
report (struct itm_ctx *ctx, const struct itm_err *err)
{
  fflush (stdout);
  fprintf (stderr, "itm-env: %s\n", err->msg ? err->msg : "failed");
  if (err->hint)
    fprintf (stderr, "itm-env: hint: %s\n", err->hint);
  if (ctx->json_errors)
    {
      json_object *o = json_object_new_object ();
      json_object *e = json_object_new_object ();
      json_object_object_add (e, "code", json_object_new_int (err->code));
      json_object_object_add (e, "message", json_object_new_string (err->msg ? err->msg : ""));
      if (err->http_status)
        json_object_object_add (e, "http_status", json_object_new_int64 (err->http_status));
      if (err->engine_msg)
        json_object_object_add (e, "engine_message", json_object_new_string (err->engine_msg));
      if (err->hint)
        json_object_object_add (e, "hint", json_object_new_string (err->hint));
      if (ctx->diags)
        json_object_object_add (e, "diagnostics", json_object_get (ctx->diags));
      json_object_object_add (o, "error", e);
      print_json (o);
      json_object_put (o);
    }
  return err->code ? err->code : ITM_EXIT_FAILURE;
}

/* Descriptors 0, 1 and 2 open before anything else opens one: a closed
 * one is opened on /dev/null (as daemons and coreutils do), so that an
 * engine socket never becomes our stdin, stdout or stderr (`exec ... <&-`
 * would read from the engine's connection and never end). */
static void
std_fds_open (void)
{
  for (int fd = 0; fd <= 2; fd++)
    {
      if (fcntl (fd, F_GETFD) >= 0 || errno != EBADF)
        continue;
      /* the lowest free descriptor: fd itself, as the lower ones are open */
      int n = open ("/dev/null", O_RDWR | O_NOCTTY);
      if (n < 0)
        _exit (ITM_EXIT_FAILURE);
      if (n != fd)
        {
          dup2 (n, fd);
          close (n);
        }
    }
}

int
main (int argc, char **argv)
{
  struct itm_ctx ctx = { 0 };
  cleanup_err struct itm_err err = { 0 };
  const char *arg;
  int opt, ret;

  fds_note_inherited ();   /* before anything of ours is open (fds.h) */
  std_fds_open ();
  setvbuf (stdout, NULL, _IOLBF, 0);
  opterr = 0;
  while ((opt = cmd_getopt (NULL, &ctx, argc, argv, &arg, &err)) > 0)
    switch (opt)
      {
      case OPT_VERBOSE:
        ctx.verbose++;
        break;
      case OPT_VERSION:
        printf ("itm-env %s\n", PACKAGE_VERSION);
        return 0;
      case OPT_HELP:
        cmd_print_list ();
        return 0;
      }
  if (opt < 0)
    return report (&ctx, &err);
  if (optind >= argc)
    {
      cmd_print_list ();
      return ITM_EXIT_USAGE;
    }

  const struct itm_cmd *cmd = cmd_find (argv[optind], &err);
  if (cmd == NULL)
    return report (&ctx, &err);

  int cargc = argc - optind;
  char **cargv = argv + optind;
  /* `COMMAND --help` anywhere before `--`; for commands that run a command
   * of their own (exec, run), only before their first argument. */
  for (int i = 1; i < cargc && strcmp (cargv[i], "--") != 0; i++)
    if (strcmp (cargv[i], "--help") == 0 || strcmp (cargv[i], "-h") == 0)
      return cmd_print_help (cmd);
    else if (cmd->passthrough && cargv[i][0] != '-')
      break;

  optind = 0; /* reinitialise getopt for the command */
  opterr = 0;
  ret = cmd->fn (&ctx, cargc, cargv, &err);
  if (ctx.engine)
    engine_close (ctx.engine);
  free (ctx.files);
  free (ctx.env_files);
  free (ctx.profiles);
  if (ret < 0 || itm_err_isset (&err))
    {
      /* A command that a signal stopped failed because of it, whatever
       * failed on the way (a gate whose probe the signal cut short, a
       * request it cancelled): the exit status is the signal's, as the
       * shell's would be.  Which thread saw the signal first, and which
       * failure was set first, is a race this settles. */
      if (itm_exit_signal () != 0 && err.code != ITM_EXIT_INTERRUPTED
          && err.code != ITM_EXIT_TERMINATED)
        err.code = itm_exit_interrupted ();
      ret = report (&ctx, &err);
    }
  json_object_put (ctx.diags);
  return ret;
}
