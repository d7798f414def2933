/* cmd.h - the command table and what every command shares.
 *
 * Every command is a constant `struct itm_cmd` in its own src/cmd-NAME.c,
 * collected in the table in main.c.  Handlers share one signature: they get
 * the global context and their own arguments (argv[0] is the command name),
 * return an exit code >= 0 on success paths they decide (0 normally, a
 * check's failure code for doctor), or -1 with err set.  main() reports the
 * error and exits with err->code.
 */
#ifndef ITM_CMD_H
#define ITM_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct engine;

/* Global options, given before or after the command name. */
struct itm_ctx {
  const char *host;          /* -H/--host */
  const char **files;        /* -f/--file, in order */
  size_t nfiles;
  const char *namespace;     /* -p/--namespace */
  const char *project_dir;   /* --project-directory */
  const char **env_files;    /* --env-file */
  size_t nenv_files;
  const char **profiles;     /* --profile */
  size_t nprofiles;
  int verbose;               /* -v */
  bool json_errors;          /* the command was given --json: errors as JSON too */
  struct engine *engine;     /* opened and negotiated by ctx_engine() */
};

typedef int (*itm_cmd_fn) (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err);

struct itm_cmd {
  const char *name;
  const char *alias;         /* another exact name, or NULL */
  const char *usage;         /* "[--json]": what follows the name */
  const char *summary;       /* one line for the command list */
  const char *help;          /* the options, one per line, for --help */
  itm_cmd_fn fn;
  bool passthrough;          /* takes a command line of its own (exec, run) */
};

extern const struct itm_cmd cmd_version, cmd_doctor, cmd_help, cmd_config, cmd_ps,
  cmd_port, cmd_env, cmd_exec, cmd_logs;
extern const struct itm_cmd cmd_up, cmd_down, cmd_wait;
extern const struct itm_cmd cmd_ns, cmd_seed;
extern const struct itm_cmd cmd_gc, cmd_run, cmd_verify;
extern const struct itm_cmd cmd_build, cmd_pull;

/* Look a command up: exact name or alias, else a unique prefix.  NULL with
 * err set (usage) when unknown or ambiguous. */
const struct itm_cmd *cmd_find (const char *name, struct itm_err *err);
/* Print "usage:" and the command's help on stdout. */
int cmd_print_help (const struct itm_cmd *cmd);
/* The command list, for --help. */
void cmd_print_list (void);
/* Set a usage error for the option getopt_long just rejected. */
int cmd_bad_option (const struct itm_cmd *cmd, char **argv, int opt, struct itm_err *err);

/* The engine for this command: opened with -H and the environment, API
 * version negotiated, cached in ctx.  NULL with err set. */
struct engine *ctx_engine (struct itm_ctx *ctx, struct itm_err *err);

/* Options shared by every command that loads a stack: add ITM_STACK_LONGOPTS
 * to a command's long options and ITM_STACK_SHORTOPTS to its short ones, and
 * pass unknown option characters to ctx_stack_option() first. */
enum {
  OPT_PROJECT_DIR = 0x1000,
  OPT_ENV_FILE,
  OPT_PROFILE,
  OPT_HOST,
  OPT_FIRST_COMMAND_OPT = 0x1100,   /* commands number their own from here */
};
#define ITM_STACK_SHORTOPTS "f:p:"
#define ITM_STACK_LONGOPTS                                              \
  { "file", required_argument, NULL, 'f' },                             \
  { "namespace", required_argument, NULL, 'p' },                        \
  { "project-directory", required_argument, NULL, OPT_PROJECT_DIR },    \
  { "env-file", required_argument, NULL, OPT_ENV_FILE },                \
  { "profile", required_argument, NULL, OPT_PROFILE },                  \
  { "host", required_argument, NULL, 'H' }
/* 1 when opt was a shared option (recorded in ctx), 0 otherwise. */
int ctx_stack_option (struct itm_ctx *ctx, int opt, const char *arg);

/* Shared help lines for the stack options. */
#define ITM_STACK_HELP                                                          \
  "  -f, --file FILE            stack file (repeatable; later files override)\n" \
  "  -p, --namespace NS         namespace (default: $ITM_ENV_NAMESPACE, name:, directory)\n" \
  "      --project-directory D  base directory for relative paths and .env\n"  \
  "      --env-file FILE        variables for interpolation (repeatable)\n"    \
  "      --profile NAME         enable a profile (repeatable)\n"

/* ---- cmd-common.c: what the namespace commands share ---- */
struct stack;
struct state;
/* Load the stack with the shared options (-f, --project-directory,
 * --env-file, --profile), printing its diagnostics on stderr.  services:
 * named on the command line (active whatever their profiles). */
int ctx_stack_load (struct itm_ctx *ctx, const char *const *services, size_t nservices,
                    struct stack **out, struct itm_err *err);
/* The namespace for this command: -p > $ITM_ENV_NAMESPACE > the stack's
 * name: > its project directory (ns_resolve).  Without -p or the variable
 * the stack is loaded (an error when there is none).  With one of them:
 * CTX_STACK_NONE reads no file, CTX_STACK_WANTED loads one quietly when
 * there is one (no stack file: *stackp NULL; a broken one: a warning),
 * CTX_STACK_REQUIRED loads it (an error when it cannot be).  *ns is a new
 * string; *stackp (stackp may be NULL) the stack when one was loaded, for
 * the caller to stack_free(). */
enum ctx_stack_need { CTX_STACK_NONE, CTX_STACK_WANTED, CTX_STACK_REQUIRED };
int ctx_namespace (struct itm_ctx *ctx, enum ctx_stack_need need, char **ns,
                   struct stack **stackp, struct itm_err *err);
/* The namespace's engine state (state_load on ctx_engine).  must_exist: no
 * container is ITM_EXIT_NOT_FOUND ("namespace 'x' has no containers"). */
int ctx_state (struct itm_ctx *ctx, const char *ns, bool must_exist, struct state **out,
               struct itm_err *err);
/* The container of service to act on: number index (--index), or with
 * index <= 0 the first running one (else the first).  NULL with a
 * NOT_FOUND error naming the services or the numbers there are. */
struct state_container *ctx_pick_container (const struct state *st, const char *service,
                                            int index, struct itm_err *err);
/* A duration on the command line: Go syntax ("30s", "1m30s") or plain
 * seconds ("1.5").  A usage error naming cmd and opt otherwise. */
int cmd_parse_secs (const char *cmd, const char *opt, const char *s, int64_t *ns,
                    struct itm_err *err);
/* --index N: 1..100000, else a usage error. */
int ctx_parse_index (const char *arg, int *index, struct itm_err *err);
/* Colour on fd: a TTY, $NO_COLOR unset or empty, $TERM not "dumb". */
bool ctx_want_color (int fd);

/* Print a JSON value on stdout (pretty when stdout is a TTY), then newline. */
struct json_object;
void print_json (struct json_object *v);

#endif
