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
  const char *context;       /* --context NAME (docker contexts) */
  const char *connect;       /* --connect MODE (NULL: $ITM_ENV_CONNECT, auto) */
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
  struct json_object *diags; /* a failed stack load's diagnostics, for the JSON
                              * error object (ctx_stack_load); owned */
  struct engine *engine;     /* opened and negotiated by ctx_engine() */
  bool read_side;            /* ps, env, port (what scripts call in loops): ctx_engine
                              * takes the API version from the cache of negotiated
                              * versions, ctx_state reads the containers alone */
};

typedef int (*itm_cmd_fn) (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err);

/* ---- options as data (cmd-opts.c) ----
 * A command's options are one table of struct itm_opt, ended by an entry
 * of zeros.  From it come getopt_long's short string and long table, the
 * usage line, the options part of --help, and `itm-env help --options`
 * (what tests/integration/manpage.sh checks against the man page).
 *
 * An entry is one of:
 * - an option: code (what cmd_getopt returns: the short letter or one of
 *   the OPT_ codes below), short_name and/or long_name, arg and its name
 *   for help (argname), help (further lines after '\n'; NULL: hidden);
 * - a group: .group names another table whose options are included here
 *   (.hidden: all of them hidden).  An option of the command's own table
 *   replaces a group's option of the same long name (logs's --file, the
 *   engine address of version and doctor);
 * - a help line only (code 0, no names): an operand (argname "SERVICE...")
 *   or, without argname, a line of text under the option before it.
 * An option whose help is "" shares the next option's help line
 * ("--remove-orphans, --volumes"). */
enum itm_opt_arg { OPT_ARG_NONE, OPT_ARG_REQUIRED, OPT_ARG_OPTIONAL };
struct itm_opt {
  int code;
  char short_name;
  const char *long_name;
  enum itm_opt_arg arg;
  const char *argname;
  const char *help;
  bool repeat;               /* repeatable: "..." in the usage line */
  const struct itm_opt *group;
  bool hidden;               /* with group: its options are not in --help */
};

/* Codes of the shared options, and where commands number their own.  The
 * stack and engine options (cmd_stack_opts) are recorded in the context by
 * cmd_getopt itself; the report options are returned to the command. */
enum {
  OPT_FILE = 0x1000,         /* -f, --file */
  OPT_NAMESPACE,             /* -p, --namespace */
  OPT_PROJECT_DIR,
  OPT_ENV_FILE,
  OPT_PROFILE,
  OPT_HOST,                  /* -H, --host */
  OPT_REPORT,                /* --report FILE */
  OPT_REPORT_FORMAT,         /* --report-format FMT */
  OPT_LOGS_DIR,              /* --logs-dir DIR */
  OPT_CONNECT,               /* --connect MODE (hidden in commands: a global option) */
  OPT_CONTEXT,               /* --context NAME (hidden in commands: a global option) */
  OPT_FIRST_COMMAND_OPT = 0x1100,   /* commands number their own from here */
};
/* -f, -p, --project-directory, --env-file, --profile (in --help) and -H
 * (hidden: a global option) */
extern const struct itm_opt cmd_stack_opts[];
/* --report, --report-format, --logs-dir (up, down, run) */
extern const struct itm_opt cmd_report_opts[];

struct itm_cmd {
  const char *name;
  const char *alias;         /* another exact name, or NULL */
  const char *args;          /* the operands for the usage line ("[SERVICE...]") */
  const char *summary;       /* one line for the command list */
  const struct itm_opt *opts;   /* its options (NULL: none) */
  itm_cmd_fn fn;
  bool passthrough;          /* takes a command line of its own (exec, run): options
                              * end at the first operand */
};

extern const struct itm_cmd cmd_version, cmd_doctor, cmd_help, cmd_config, cmd_ps,
  cmd_port, cmd_env, cmd_exec, cmd_logs;
extern const struct itm_cmd cmd_up, cmd_down, cmd_wait;
extern const struct itm_cmd cmd_ns, cmd_seed;
extern const struct itm_cmd cmd_gc, cmd_run, cmd_verify;
extern const struct itm_cmd cmd_build, cmd_pull;
extern const struct itm_cmd cmd_check;
extern const struct itm_cmd cmd_stop, cmd_start, cmd_restart, cmd_pause, cmd_unpause, cmd_kill,
  cmd_rm;
extern const struct itm_cmd cmd_ls, cmd_top, cmd_images, cmd_events, cmd_cp;
extern const struct itm_cmd cmd_proxy, cmd_fault;

/* Look a command up: exact name or alias, else a unique prefix.  NULL with
 * err set (usage) when unknown or ambiguous. */
const struct itm_cmd *cmd_find (const char *name, struct itm_err *err);
/* Print "usage:" and the command's help on stdout. */
int cmd_print_help (const struct itm_cmd *cmd);
/* The command list, for --help. */
void cmd_print_list (void);
/* Every command's options, one line each: command, short (-x or -), long
 * (--name or -), argument name (or -), and "hidden" for those not in
 * --help; tab-separated.  (`itm-env help --options`, for manpage.sh.) */
void cmd_print_options (void);
/* The pieces they are made of (cmd-opts.c): the option lines of --help
 * for a table, and one command's lines of `help --options`. */
void cmd_print_opts_help (const struct itm_opt *opts);
void cmd_print_opts_table (const struct itm_cmd *cmd);
/* The report options (OPT_REPORT...) into o (report/report.h): 1 when code
 * was one of them. */
struct report_opts;
int cmd_report_option (struct report_opts *o, int code, const char *arg);

/* The next option of argv for cmd (getopt_long over its table; optind
 * must be 0 before the first call, as main leaves it).  Returns the
 * option's code with *arg its value (NULL: none), after recording the
 * shared stack and engine options in ctx itself (those are not returned);
 * 0 when the options end (optind is the first operand); -1 with err set
 * (usage) on an unknown option, a missing value or an ambiguous prefix.
 * cmd NULL: the global options of main. */
int cmd_getopt (const struct itm_cmd *cmd, struct itm_ctx *ctx, int argc, char **argv,
                const char **arg, struct itm_err *err);
/* The global options (before the command name): -v, -V, -h and the shared
 * ones. */
extern const struct itm_opt cmd_global_opts[];
enum { OPT_VERBOSE = 'v', OPT_VERSION = 'V', OPT_HELP = 'h' };

/* The engine for this command: opened with -H and the environment, API
 * version negotiated, cached in ctx.  NULL with err set. */
struct engine *ctx_engine (struct itm_ctx *ctx, struct itm_err *err);

/* ---- cmd-common.c: what the namespace commands share ---- */
struct stack;
struct state;
/* Load the stack with the shared options (-f, --project-directory,
 * --env-file, --profile), printing its diagnostics on stderr.  services:
 * named on the command line (active whatever their profiles). */
int ctx_stack_load (struct itm_ctx *ctx, const char *const *services, size_t nservices,
                    struct stack **out, struct itm_err *err);
/* The stack file(s) a namespace was brought up from: its containers'
 * io.itm-env.stack-files and io.itm-env.project-dir labels, loaded with the
 * other stack options of ctx.  1 and *out when loaded; 0 when -f was given
 * or no container names a file; -1 with err set when they cannot be loaded
 * (the diagnostics printed). */
int ctx_stack_from_labels (struct itm_ctx *ctx, const struct state *st, struct stack **out,
                           struct itm_err *err);
/* The namespace for this command: -p > $ITM_ENV_NAMESPACE > the stack's
 * name: > its project directory (ns_resolve).  Without -p or the variable
 * the stack is loaded (an error when there is none).  With one of them:
 * CTX_STACK_NONE reads no file, CTX_STACK_WANTED loads one quietly when
 * there is one (no stack file: *stackp NULL; a broken one: a warning),
 * CTX_STACK_REQUIRED loads it (an error when it cannot be; with no file
 * given or found, the one the namespace's labels name, as
 * ctx_stack_from_labels()).  *ns is a new
 * string; *stackp (stackp may be NULL) the stack when one was loaded, for
 * the caller to stack_free(). */
enum ctx_stack_need { CTX_STACK_NONE, CTX_STACK_WANTED, CTX_STACK_REQUIRED };
int ctx_namespace (struct itm_ctx *ctx, enum ctx_stack_need need, char **ns,
                   struct stack **stackp, struct itm_err *err);
/* The namespace's engine state (state_load on ctx_engine; with
 * ctx->read_side, state_load_containers).  must_exist: no
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
/* The hooks up and run give prov_up: the verifier's snapshot before
 * anything is created and the crash-safety watchdog, released when up
 * ends (only when this up started it). */
struct prov_opts;
struct cmd_up_guard {
  int wd;                       /* watchdog_start's answer: 1 when this up started it */
};
void cmd_up_guard (struct prov_opts *po, struct cmd_up_guard *g);
/* How this command's variables reach the services, and whether up joins
 * the namespace's networks (conn.h's reach, engine/self.h): --connect
 * (else $ITM_ENV_CONNECT, else auto) and $ITM_ENV_HOST_OVERRIDE.  The
 * override wins: its address, no join.  never: the host's bindings (a
 * note when itm-env runs in a container).  auto: join when itm-env runs in
 * a container on this engine (a note when in one elsewhere: its id known,
 * the engine does not have it).  always: the
 * same, an error when it does not.  *join (may be NULL): the container id
 * to connect to the namespace's networks, or NULL.  -1 with err set. */
int ctx_reach (struct itm_ctx *ctx, const char **join, struct itm_err *err);
/* --index N: 1..100000, else a usage error. */
int ctx_parse_index (const char *arg, int *index, struct itm_err *err);
/* --since/--until (events, logs; cmd-events.c): unix seconds, an RFC 3339
 * UTC time, or a duration before now ("10m"), as unix seconds.  A usage
 * error naming cmd and opt otherwise. */
int cmd_parse_time (const char *cmd, const char *opt, const char *s, long long *out,
                    struct itm_err *err);
/* Colour on fd: a TTY, $NO_COLOR unset or empty, $TERM not "dumb". */
bool ctx_want_color (int fd);

/* Reap in passing (cmd-gc.c): the namespaces with a state directory under
 * this state root that no successful up released and nobody holds the up
 * lock of, whose owner gc finds gone (created on this host by a process
 * that no longer runs), are removed (down, then their state directory),
 * each with a line on stderr.  No engine call when there is no such
 * candidate.  ITM_ENV_NO_REAP=1: off. */
struct engine;
void gc_reap (struct engine *e);
/* ls's listing (cmd-gc.c): every namespace with something labelled (only:
 * just that one), sorted, as gc's scan and plan see it: a new JSON array
 * of {namespace, containers, networks, volumes, owner_host, owner_pid,
 * owner_alive (null: another host), released, created, expires, gc
 * ("remove" or "keep"), gc_reason}.  -1 with err set. */
struct json_object;
int gc_list_json (struct engine *e, const char *only, struct json_object **out,
                  struct itm_err *err);

/* Print a JSON value on stdout (pretty when stdout is a TTY), then newline. */
struct json_object;
void print_json (struct json_object *v);

/* Print rows of cells (row-major, the first row the header) in columns
 * padded to the widest cell, then free every cell and the array. */
void cmd_print_table (char **cells, size_t nrows, size_t ncol);

#endif
