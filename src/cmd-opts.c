/* cmd-opts.c - options as data: from a command's table of struct itm_opt
 * (cmd.h), getopt_long's short string and long table, the shared options
 * recorded in the context, the usage line and the options of --help. */
#include <config.h>

#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "report/report.h"
#include "util/xalloc.h"

const struct itm_opt cmd_stack_opts[] = {
  { OPT_FILE, 'f', "file", OPT_ARG_REQUIRED, "FILE",
    "stack file (repeatable; later files override)", .repeat = true },
  { OPT_NAMESPACE, 'p', "namespace", OPT_ARG_REQUIRED, "NS",
    "namespace (default: $ITM_ENV_NAMESPACE, name:, directory)" },
  { OPT_PROJECT_DIR, 0, "project-directory", OPT_ARG_REQUIRED, "D",
    "base directory for relative paths and .env" },
  { OPT_ENV_FILE, 0, "env-file", OPT_ARG_REQUIRED, "FILE",
    "variables for interpolation (repeatable)", .repeat = true },
  { OPT_PROFILE, 0, "profile", OPT_ARG_REQUIRED, "NAME", "enable a profile (repeatable)",
    .repeat = true },
  { OPT_HOST, 'H', "host", OPT_ARG_REQUIRED, "HOST", NULL },   /* in the global help */
  { OPT_CONNECT, 0, "connect", OPT_ARG_REQUIRED, "MODE", NULL }, /* in the global help */
  { OPT_CONTEXT, 0, "context", OPT_ARG_REQUIRED, "NAME", NULL }, /* in the global help */
  { 0 },
};

const struct itm_opt cmd_report_opts[] = {
  { OPT_REPORT, 0, "report", OPT_ARG_REQUIRED, "FILE",
    "write a report (text, JSON or JUnit XML) to FILE" },
  { OPT_REPORT_FORMAT, 0, "report-format", OPT_ARG_REQUIRED, "FMT",
    "text, json or junit (default: from FILE's extension)" },
  { OPT_LOGS_DIR, 0, "logs-dir", OPT_ARG_REQUIRED, "DIR",
    "write each service's logs to DIR/SERVICE.log" },
  { 0 },
};

const struct itm_opt cmd_global_opts[] = {
  { OPT_HOST, 'H', "host", OPT_ARG_REQUIRED, "HOST",
    "engine address: unix:///path or tcp://host:port\n"
    "(default: $DOCKER_HOST, unix:///var/run/docker.sock)" },
  { OPT_CONTEXT, 0, "context", OPT_ARG_REQUIRED, "NAME",
    "docker context to use (default: $DOCKER_CONTEXT, currentContext\n"
    "in $DOCKER_CONFIG/config.json; -H and $DOCKER_HOST win)" },
  { OPT_CONNECT, 0, "connect", OPT_ARG_REQUIRED, "MODE",
    "join the namespace's networks from a container: auto, always, never\n"
    "(default: $ITM_ENV_CONNECT, auto)" },
  { .group = cmd_stack_opts },
  { OPT_VERBOSE, 'v', "verbose", OPT_ARG_NONE, NULL, "say more (repeatable)" },
  { OPT_VERSION, 'V', "version", OPT_ARG_NONE, NULL, "print the client version and exit" },
  { OPT_HELP, 'h', "help", OPT_ARG_NONE, NULL, "this help" },
  { 0 },
};

/* ---- the table, flattened ---- */

#define MAX_OPTS 64
#define LONG_BASE 0x10000    /* getopt's code for long option i: LONG_BASE + i */
#define HELP_COL 29          /* where the help text of an option starts */

struct flat {
  const struct itm_opt *v[MAX_OPTS];
  bool hidden[MAX_OPTS];
  bool own[MAX_OPTS];        /* in the command's own table, not a group's */
  size_t n;
};

static bool
is_end (const struct itm_opt *o)
{
  return !o->code && !o->short_name && !o->long_name && !o->argname && !o->help && !o->group;
}

static bool
is_option (const struct itm_opt *o)
{
  return o->short_name || o->long_name;
}

/* Whether top's own entries (not its groups') have an option named name. */
static bool
own_long (const struct itm_opt *top, const char *name)
{
  for (const struct itm_opt *o = top; !is_end (o); o++)
    if (!o->group && o->long_name && strcmp (o->long_name, name) == 0)
      return true;
  return false;
}

static void
flatten_into (struct flat *f, const struct itm_opt *t, const struct itm_opt *top, bool hidden)
{
  for (const struct itm_opt *o = t; t && !is_end (o); o++)
    {
      if (o->group)
        {
          flatten_into (f, o->group, top, hidden || o->hidden);
          continue;
        }
      if (t != top && o->long_name && own_long (top, o->long_name))
        continue;   /* replaced by the command's own */
      assert (f->n < MAX_OPTS);
      f->v[f->n] = o;
      f->hidden[f->n] = hidden || o->help == NULL;
      f->own[f->n] = t == top;
      f->n++;
    }
}

static void
flatten (struct flat *f, const struct itm_opt *table)
{
  f->n = 0;
  flatten_into (f, table, table, false);
}

/* ---- getopt ---- */

static void
build (const struct flat *f, bool passthrough, char *shorts, size_t size, struct option *longs)
{
  struct buf b = { 0 };
  size_t nl = 0;
  buf_adds (&b, passthrough ? "+:" : ":");
  for (size_t i = 0; i < f->n; i++)
    {
      const struct itm_opt *o = f->v[i];
      int has = o->arg == OPT_ARG_REQUIRED   ? required_argument
                : o->arg == OPT_ARG_OPTIONAL ? optional_argument
                                             : no_argument;
      if (o->short_name)
        buf_addf (&b, "%c%s", o->short_name,
                  has == required_argument ? ":" : has == optional_argument ? "::" : "");
      if (o->long_name)
        longs[nl++] = (struct option){ o->long_name, has, NULL, LONG_BASE + (int) i };
    }
  longs[nl] = (struct option){ NULL, 0, NULL, 0 };
  assert (b.len < size);
  memcpy (shorts, b.data, b.len + 1);
  buf_free (&b);
}

/* A usage error for the option getopt_long just rejected. */
static int
bad_option (const struct itm_cmd *cmd, char **argv, int opt, struct itm_err *err)
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

/* The stack and engine options, recorded in ctx: true when code was one. */
static bool
shared_option (struct itm_ctx *ctx, int code, const char *arg)
{
  switch (code)
    {
    case OPT_FILE:
      push (&ctx->files, &ctx->nfiles, arg);
      return true;
    case OPT_NAMESPACE:
      ctx->namespace = arg;
      return true;
    case OPT_HOST:
      ctx->host = arg;
      return true;
    case OPT_CONNECT:
      ctx->connect = arg;
      return true;
    case OPT_CONTEXT:
      ctx->context = arg;
      return true;
    case OPT_PROJECT_DIR:
      ctx->project_dir = arg;
      return true;
    case OPT_ENV_FILE:
      push (&ctx->env_files, &ctx->nenv_files, arg);
      return true;
    case OPT_PROFILE:
      push (&ctx->profiles, &ctx->nprofiles, arg);
      return true;
    default:
      return false;
    }
}

int
cmd_getopt (const struct itm_cmd *cmd, struct itm_ctx *ctx, int argc, char **argv,
            const char **arg, struct itm_err *err)
{
  struct flat f;
  char shorts[2 * MAX_OPTS + 3];
  struct option longs[MAX_OPTS + 1];
  flatten (&f, cmd ? cmd->opts : cmd_global_opts);
  build (&f, cmd ? cmd->passthrough : true, shorts, sizeof shorts, longs);
  *arg = NULL;
  for (;;)
    {
      int c = getopt_long (argc, argv, shorts, longs, NULL);
      if (c == -1)
        return 0;
      if (c == '?' || c == ':')
        {
          /* a command that has --json and was given it answers a usage
           * error in JSON too, wherever --json stood */
          for (size_t i = 0; cmd && i < f.n; i++)
            if (f.v[i]->long_name && strcmp (f.v[i]->long_name, "json") == 0)
              for (int k = 1; k < argc && strcmp (argv[k], "--") != 0; k++)
                if (strcmp (argv[k], "--json") == 0)
                  ctx->json_errors = true;
          return bad_option (cmd, argv, c, err);
        }
      const struct itm_opt *o = NULL;
      if (c >= LONG_BASE)
        o = f.v[c - LONG_BASE];
      else
        for (size_t i = 0; i < f.n && o == NULL; i++)
          if (f.v[i]->short_name == c)
            o = f.v[i];
      assert (o != NULL);
      if (shared_option (ctx, o->code, optarg))
        continue;
      /* --json: errors are JSON objects too, whatever the command */
      if (o->long_name && strcmp (o->long_name, "json") == 0)
        ctx->json_errors = true;
      *arg = optarg;
      return o->code;
    }
}

int
cmd_report_option (struct report_opts *o, int code, const char *arg)
{
  switch (code)
    {
    case OPT_REPORT:
      o->path = arg;
      return 1;
    case OPT_REPORT_FORMAT:
      o->format = arg;
      return 1;
    case OPT_LOGS_DIR:
      o->logs_dir = arg;
      return 1;
    default:
      return 0;
    }
}

/* ---- help ---- */

/* "-f, --file FILE", "--tail N", "-q" */
static void
add_label (struct buf *b, const struct itm_opt *o)
{
  if (o->short_name)
    buf_addf (b, "-%c%s", o->short_name, o->long_name ? ", " : "");
  if (o->long_name)
    buf_addf (b, "--%s", o->long_name);
  if (o->argname && o->arg == OPT_ARG_REQUIRED)
    buf_addf (b, " %s", o->argname);
  else if (o->argname && o->arg == OPT_ARG_OPTIONAL)
    buf_addf (b, o->long_name ? "[=%s]" : "[%s]", o->argname);
}

/* left in its column, then the help's lines (the first beside it when it
 * fits, the others under it) */
static void
print_help_lines (const char *left, const char *help)
{
  size_t len = strlen (left);
  if (len > 0 && len < HELP_COL - 1)
    printf ("%-*s", HELP_COL, left);
  else if (len > 0)
    printf ("%s\n%*s", left, HELP_COL, "");
  else
    printf ("%*s", HELP_COL, "");
  for (const char *p = help; *p;)
    {
      const char *nl = strchr (p, '\n');
      size_t n = nl ? (size_t) (nl - p) : strlen (p);
      printf ("%.*s\n", (int) n, p);
      p += n;
      if (*p == '\n' && *++p)
        printf ("%*s", HELP_COL, "");
    }
}

static void
print_flat_help (const struct flat *f)
{
  struct buf left = { 0 };
  for (size_t i = 0; i < f->n; i++)
    {
      const struct itm_opt *o = f->v[i];
      if (f->hidden[i])
        continue;
      if (!is_option (o))
        {
          buf_reset (&left);
          if (o->argname)
            buf_addf (&left, "  %s", o->argname);
          print_help_lines (left.data ? left.data : "", o->help);
          buf_reset (&left);
          continue;
        }
      if (left.len == 0)
        buf_adds (&left, o->short_name ? "  " : "      ");
      else
        buf_adds (&left, ", ");
      add_label (&left, o);
      if (*o->help == '\0')
        continue;   /* shares the next one's line */
      print_help_lines (left.data, o->help);
      buf_reset (&left);
    }
  buf_free (&left);
}

void
cmd_print_opts_help (const struct itm_opt *opts)
{
  struct flat f;
  flatten (&f, opts);
  print_flat_help (&f);
}

int
cmd_print_help (const struct itm_cmd *cmd)
{
  struct flat f;
  struct buf usage = { 0 };
  bool any = false;
  flatten (&f, cmd->opts);
  /* the usage line: the command's own options (by their long names), then
   * its operands */
  for (size_t i = 0; i < f.n; i++)
    {
      const struct itm_opt *o = f.v[i];
      any = any || !f.hidden[i];
      if (f.hidden[i] || !f.own[i] || !is_option (o))
        continue;
      buf_adds (&usage, " [");
      if (o->long_name)
        buf_addf (&usage, "--%s", o->long_name);
      else
        buf_addf (&usage, "-%c", o->short_name);
      if (o->argname && o->arg == OPT_ARG_REQUIRED)
        buf_addf (&usage, " %s", o->argname);
      else if (o->argname)
        buf_addf (&usage, "[%s%s]", o->long_name ? "=" : "", o->argname);
      buf_adds (&usage, o->repeat ? "]..." : "]");
    }
  if (cmd->args && *cmd->args)
    buf_addf (&usage, " %s", cmd->args);
  printf ("usage: itm-env %s%s\n\n%s\n", cmd->name, usage.data ? usage.data : "", cmd->summary);
  buf_free (&usage);
  if (any)
    {
      printf ("\noptions:\n");
      print_flat_help (&f);
    }
  printf ("  -h, --help                 this help\n");
  printf ("\nSee itm-env(1) for details.\n");
  return 0;
}

void
cmd_print_opts_table (const struct itm_cmd *cmd)
{
  struct flat f;
  flatten (&f, cmd->opts);
  for (size_t i = 0; i < f.n; i++)
    {
      const struct itm_opt *o = f.v[i];
      if (!is_option (o))
        continue;
      printf ("%s\t", cmd->name);
      if (o->short_name)
        printf ("-%c\t", o->short_name);
      else
        printf ("-\t");
      printf ("%s%s\t%s%s\n", o->long_name ? "--" : "-", o->long_name ? o->long_name : "",
              o->arg != OPT_ARG_NONE && o->argname ? o->argname : "-",
              f.hidden[i] ? "\thidden" : "");
    }
}
