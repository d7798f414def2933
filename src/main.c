/* main.c - global options, the command table, and the one place where
 * errors are reported and turned into exit codes. */
#include <config.h>

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "util/xalloc.h"

/* The table: sorted by name, the order of `itm-env --help`. */
static const struct itm_cmd *const commands[] = {
  &cmd_build,
  &cmd_config,
  &cmd_doctor,
  &cmd_down,
  &cmd_env,
  &cmd_exec,
  &cmd_gc,
  &cmd_help,
  &cmd_logs,
  &cmd_ns,
  &cmd_port,
  &cmd_ps,
  &cmd_pull,
  &cmd_run,
  &cmd_seed,
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

int
cmd_print_help (const struct itm_cmd *cmd)
{
  printf ("usage: itm-env %s%s%s\n\n%s\n", cmd->name, cmd->usage && *cmd->usage ? " " : "",
          cmd->usage ? cmd->usage : "", cmd->summary);
  if (cmd->help && *cmd->help)
    printf ("\noptions:\n%s", cmd->help);
  printf ("  -h, --help                 this help\n");
  printf ("\nSee itm-env(1) for details.\n");
  return 0;
}

static const char global_help[] =
  "global options (before or after the command):\n"
  "  -H, --host HOST            engine address: unix:///path or tcp://host:port\n"
  "                             (default: $DOCKER_HOST, unix:///var/run/docker.sock)\n"
  ITM_STACK_HELP
  "  -v, --verbose              say more (repeatable)\n"
  "  -V, --version              print the client version and exit\n"
  "  -h, --help                 this help\n";

void
cmd_print_list (void)
{
  printf ("usage: itm-env [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
          "Provision throwaway integration-test environments on a Docker engine.\n\n"
          "commands (a unique prefix is enough):\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    printf ("  %-10s %s\n", commands[i]->name, commands[i]->summary);
  printf ("\n%s\n'itm-env help COMMAND' or 'itm-env COMMAND --help' for a command's options;\n"
          "itm-env(1) and itm-env-stack(5) for the whole story.\n",
          global_help);
}

int
cmd_bad_option (const struct itm_cmd *cmd, char **argv, int opt, struct itm_err *err)
{
  const char *name = cmd ? cmd->name : NULL;
  const char *what = argv[optind - 1];
  if (opt == ':')
    itm_err_set (err, ITM_EXIT_USAGE, "%s%s'%s' needs a value", name ? name : "",
                 name ? ": " : "", what);
  else if (optopt && what[0] == '-' && what[1] != '-')
    itm_err_set (err, ITM_EXIT_USAGE, "%s%sunknown option '-%c'", name ? name : "",
                 name ? ": " : "", optopt);
  else
    itm_err_set (err, ITM_EXIT_USAGE, "%s%sunknown option '%s'", name ? name : "",
                 name ? ": " : "", what);
  if (name)
    itm_err_hint (err, "'itm-env help %s' lists its options", name);
  else
    itm_err_hint (err, "'itm-env --help' lists the options");
  return -1;
}

static void
push (const char ***list, size_t *n, const char *v)
{
  *list = xrealloc (*list, (*n + 1) * sizeof **list);
  (*list)[(*n)++] = v;
}

int
ctx_stack_option (struct itm_ctx *ctx, int opt, const char *arg)
{
  switch (opt)
    {
    case 'f':
      push (&ctx->files, &ctx->nfiles, arg);
      return 1;
    case 'p':
      ctx->namespace = arg;
      return 1;
    case 'H':
    case OPT_HOST:
      ctx->host = arg;
      return 1;
    case OPT_PROJECT_DIR:
      ctx->project_dir = arg;
      return 1;
    case OPT_ENV_FILE:
      push (&ctx->env_files, &ctx->nenv_files, arg);
      return 1;
    case OPT_PROFILE:
      push (&ctx->profiles, &ctx->nprofiles, arg);
      return 1;
    default:
      return 0;
    }
}

struct engine *
ctx_engine (struct itm_ctx *ctx, struct itm_err *err)
{
  if (ctx->engine)
    return ctx->engine;
  struct engine_config cfg = { .host = ctx->host };
  struct engine *e = engine_open (&cfg, err);
  if (e == NULL)
    return NULL;
  if (engine_negotiate (e, err) < 0)
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
      json_object_object_add (o, "error", e);
      print_json (o);
      json_object_put (o);
    }
  return err->code ? err->code : ITM_EXIT_FAILURE;
}

int
main (int argc, char **argv)
{
  static const struct option longopts[] = {
    ITM_STACK_LONGOPTS,
    { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct itm_ctx ctx = { 0 };
  cleanup_err struct itm_err err = { 0 };
  int opt, ret;

  setvbuf (stdout, NULL, _IOLBF, 0);
  opterr = 0;
  while ((opt = getopt_long (argc, argv, "+:" ITM_STACK_SHORTOPTS "H:vVh", longopts, NULL)) != -1)
    {
      if (ctx_stack_option (&ctx, opt, optarg))
        continue;
      switch (opt)
        {
        case 'v':
          ctx.verbose++;
          break;
        case 'V':
          printf ("itm-env %s\n", PACKAGE_VERSION);
          return 0;
        case 'h':
          cmd_print_list ();
          return 0;
        default:
          cmd_bad_option (NULL, argv, opt, &err);
          return report (&ctx, &err);
        }
    }
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
    return report (&ctx, &err);
  return ret;
}
