/* cmd-common.c - what the namespace commands share: the namespace for this
 * command (flag, variable, stack), loading the stack with the shared
 * options, and the namespace's engine state. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd.h"
#include "conn/conn.h"
#include "data/data.h"
#include "engine/self.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "out/out.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "verify/verify.h"

/* The process environment plus vars (which win): a new array of borrowed
 * strings. */
static char **
environ_with (char *const *vars)
{
  extern char **environ;
  size_t n = strv_len (environ), nv = strv_len (vars), k = 0;
  char **env = xcalloc (n + nv + 1, sizeof *env);
  for (size_t i = 0; i < n; i++)
    {
      bool shadowed = false;
      for (size_t j = 0; j < nv && !shadowed; j++)
        {
          size_t l = strcspn (vars[j], "=");
          shadowed = strncmp (environ[i], vars[j], l + 1) == 0;
        }
      if (!shadowed)
        env[k++] = environ[i];
    }
  for (size_t j = 0; j < nv; j++)
    env[k++] = vars[j];
  return env;
}

/* stack_load with generated secrets (x-itm.secrets): the namespace can
 * come from the stack itself (name:), so the stack is loaded once to learn
 * it and whether there are secrets; when there are, they are read from (or
 * made in) the namespace's state directory and the stack is loaded again
 * with ITM_SECRET_<NAME> added to the variables it sees. */
static int
load_with_secrets (struct itm_ctx *ctx, const struct stack_opts *o, struct stack **out,
                   struct stack_diags *diags, struct itm_err *err)
{
  if (stack_load (o, out, diags, err) < 0)
    return -1;
  if ((*out)->x_itm == NULL || !json_object_object_get_ex ((*out)->x_itm, "secrets", NULL))
    return 0;
  cleanup_free char *ns = NULL;
  cleanup_strv char **vars = NULL;
  int n = ns_resolve (ctx->namespace, (*out)->name, (*out)->project_dir, &ns, err);
  if (n == 0)
    n = data_secrets_prepare (*out, ns, &vars, err);
  if (n <= 0)
    {
      if (n < 0)
        {
          stack_free (*out);
          *out = NULL;
        }
      return n;
    }
  stack_free (*out);
  *out = NULL;
  stack_diags_free (diags);
  memset (diags, 0, sizeof *diags);
  cleanup_free char **env = environ_with (vars);
  struct stack_opts again = *o;
  again.environ = env;
  return stack_load (&again, out, diags, err);
}

/* ctx_stack_load, and *no_file: no file was given and none was found (err
 * says so, in one message: the diagnostic is not printed again). */
static int
stack_load_ctx (struct itm_ctx *ctx, const char *const *services, size_t nservices,
                struct stack **out, bool *no_file, struct itm_err *err)
{
  struct stack_opts o = {
    .files = ctx->files, .nfiles = ctx->nfiles, .project_dir = ctx->project_dir,
    .env_files = ctx->env_files, .nenv_files = ctx->nenv_files,
    .profiles = ctx->profiles, .nprofiles = ctx->nprofiles,
    .project_name = ctx->namespace,
    .services = services, .nservices = nservices,
  };
  struct stack_diags diags = { 0 };
  int ret = load_with_secrets (ctx, &o, out, &diags, err);
  *no_file = ret < 0 && diags.no_file;
  fflush (stdout);
  if (!*no_file)
    stack_diags_print (&diags, stderr);
  if (ret < 0)
    {
      /* every diagnostic, for main's JSON error object */
      static const char *const sev[] = { "note", "warning", "error" };
      json_object_put (ctx->diags);
      ctx->diags = json_object_new_array ();
      for (size_t i = 0; i < diags.n; i++)
        {
          const struct stack_diag *d = &diags.v[i];
          json_object *j = json_object_new_object ();
          json_object_object_add (j, "file", d->file ? json_object_new_string (d->file) : NULL);
          json_object_object_add (j, "line", d->line ? json_object_new_int (d->line) : NULL);
          json_object_object_add (j, "col", d->col ? json_object_new_int (d->col) : NULL);
          json_object_object_add (j, "severity", json_object_new_string (sev[d->severity]));
          json_object_object_add (j, "message", json_object_new_string (d->msg ? d->msg : ""));
          json_object_array_add (ctx->diags, j);
        }
    }
  stack_diags_free (&diags);
  return ret;
}

int
ctx_stack_load (struct itm_ctx *ctx, const char *const *services, size_t nservices,
                struct stack **out, struct itm_err *err)
{
  bool no_file;
  return stack_load_ctx (ctx, services, nservices, out, &no_file, err);
}

int
ctx_stack_from_labels (struct itm_ctx *ctx, const struct state *st, struct stack **out,
                       struct itm_err *err)
{
  const struct state_container *c = NULL;
  *out = NULL;
  for (size_t i = 0; i < st->ncontainers && c == NULL; i++)
    if (st->containers[i].stack_files && *st->containers[i].stack_files)
      c = &st->containers[i];
  if (c == NULL || ctx->nfiles > 0)
    return 0;
  cleanup_free char *copy = xstrdup (c->stack_files);
  cleanup_free const char **files = NULL;
  size_t n = 0;
  for (char *save = NULL, *f = strtok_r (copy, ":", &save); f; f = strtok_r (NULL, ":", &save))
    {
      files = xrealloc (files, (n + 1) * sizeof *files);
      files[n++] = f;
    }
  struct itm_ctx sub = *ctx;
  sub.files = files;
  sub.nfiles = n;
  if (c->project_dir && !ctx->project_dir)
    sub.project_dir = c->project_dir;
  int rc = ctx_stack_load (&sub, NULL, 0, out, err);
  ctx->diags = sub.diags;   /* the load may have replaced them: ctx owns them */
  if (rc < 0)
    {
      *out = NULL;
      return itm_err_prefix (err, "%s (the stack file of namespace '%s', from its labels)",
                             c->stack_files, st->ns);
    }
  return 1;
}

static bool
explicit_namespace (const struct itm_ctx *ctx)
{
  const char *env = getenv ("ITM_ENV_NAMESPACE");
  return (ctx->namespace && *ctx->namespace) || (env && *env);
}

/* With -p or $ITM_ENV_NAMESPACE, a stack is optional: load it quietly when
 * one is found; "no stack file found" is not an error, and a broken one is
 * a warning. */
static struct stack *
optional_stack (struct itm_ctx *ctx)
{
  struct stack_opts o = {
    .files = ctx->files, .nfiles = ctx->nfiles, .project_dir = ctx->project_dir,
    .env_files = ctx->env_files, .nenv_files = ctx->nenv_files,
    .profiles = ctx->profiles, .nprofiles = ctx->nprofiles,
    .project_name = ctx->namespace,
  };
  struct stack_diags diags = { 0 };
  struct itm_err err = { 0 };
  struct stack *st = NULL;
  if (load_with_secrets (ctx, &o, &st, &diags, &err) < 0)
    {
      if (!diags.no_file)
        {
          fflush (stdout);
          stack_diags_print (&diags, stderr);
          out_warn ("%s; going on without the stack file",
                    err.msg ? err.msg : "the stack file cannot be loaded");
        }
      st = NULL;
    }
  stack_diags_free (&diags);
  itm_err_clear (&err);
  return st;
}

/* With -p or $ITM_ENV_NAMESPACE, a command that needs the stack: the one
 * given or found; with none given or found, the one the namespace's
 * containers name (ctx_stack_from_labels), so it works from any directory. */
static int
required_stack (struct itm_ctx *ctx, const char *ns, struct stack **out, struct itm_err *err)
{
  cleanup_err struct itm_err none = { 0 };
  bool no_file = false;
  if (stack_load_ctx (ctx, NULL, 0, out, &no_file, &none) == 0)
    return 0;
  if (!no_file)
    {
      itm_err_move (err, &none);
      return -1;
    }
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, false, &st, err) < 0)
    return -1;
  int r = ctx_stack_from_labels (ctx, st, out, err);
  if (r != 0)
    return r > 0 ? 0 : -1;
  itm_err_move (err, &none);
  if (st->ncontainers == 0)
    return itm_err_hint (err, "namespace '%s' has no containers (is it up?) to name its stack "
                              "file; use -f FILE", ns);
  return itm_err_hint (err, "the containers of namespace '%s' name no stack file; use -f FILE",
                       ns);
}

int
ctx_namespace (struct itm_ctx *ctx, enum ctx_stack_need need, char **ns, struct stack **stackp,
               struct itm_err *err)
{
  struct stack *st = NULL;

  *ns = NULL;
  if (stackp)
    *stackp = NULL;
  if (explicit_namespace (ctx))
    {
      if (ns_resolve (ctx->namespace, NULL, NULL, ns, err) < 0)
        return -1;
      if (need == CTX_STACK_WANTED && stackp)
        *stackp = optional_stack (ctx);
      else if (need == CTX_STACK_REQUIRED && required_stack (ctx, *ns, &st, err) < 0)
        {
          free (*ns);
          *ns = NULL;
          return -1;
        }
    }
  else
    {
      if (ctx_stack_load (ctx, NULL, 0, &st, err) < 0)
        return itm_err_hint (err, "give the namespace with -p NS (or $ITM_ENV_NAMESPACE) "
                                  "to work without a stack file");
      if (ns_resolve (NULL, st->name, st->project_dir, ns, err) < 0)
        {
          stack_free (st);
          return -1;
        }
    }
  if (stackp && *stackp == NULL)
    *stackp = st;
  else
    stack_free (st);
  return 0;
}

int
ctx_state (struct itm_ctx *ctx, const char *ns, bool must_exist, struct state **out,
           struct itm_err *err)
{
  struct engine *e = ctx_engine (ctx, err);
  *out = NULL;
  if (e == NULL)
    return -1;
  gc_reap (e);   /* ps and the like: namespaces whose owner died, in passing */
  if ((ctx->read_side ? state_load_containers (e, ns, out, err) : state_load (e, ns, out, err))
      < 0)
    return -1;
  if (must_exist && (*out)->ncontainers == 0)
    {
      state_free (*out);
      *out = NULL;
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "namespace '%s' has no containers", ns);
      return itm_err_hint (err, "is it up? ('itm-env up -p %s')", ns);
    }
  return 0;
}

bool
ctx_want_color (int fd)
{
  const char *nc = getenv ("NO_COLOR"), *term = getenv ("TERM");
  if (nc && *nc)
    return false;
  if (term && strcmp (term, "dumb") == 0)
    return false;
  return isatty (fd);
}

struct state_container *
ctx_pick_container (const struct state *st, const char *service, int index, struct itm_err *err)
{
  size_t n = 0;
  struct state_container *c = state_service (st, service, &n);
  if (c == NULL)
    {
      state_no_service (st, service, err);
      return NULL;
    }
  if (index <= 0)
    return conn_container (st, service);
  for (size_t i = 0; i < n; i++)
    if (c[i].number == index)
      return &c[i];
  struct buf b = { 0 };
  for (size_t i = 0; i < n; i++)
    buf_addf (&b, "%s%d", i ? ", " : "", c[i].number);
  itm_err_set (err, ITM_EXIT_NOT_FOUND, "service '%s' has no container number %d", service,
               index);
  itm_err_hint (err, "its containers: %s", b.data);
  buf_free (&b);
  return NULL;
}

int
ctx_parse_index (const char *arg, int *index, struct itm_err *err)
{
  char *end;
  long v = strtol (arg, &end, 10);
  if (*arg == '\0' || *end != '\0' || v < 1 || v > 100000)
    return itm_err_set (err, ITM_EXIT_USAGE, "--index: '%s' is not a container number (1, 2...)",
                        arg);
  *index = (int) v;
  return 0;
}

int
cmd_parse_secs (const char *cmd, const char *opt, const char *s, int64_t *ns, struct itm_err *err)
{
  char *end;
  double d = strtod (s, &end);
  if (end != s && *end == '\0' && d >= 0)
    {
      *ns = (int64_t) (d * 1e9);
      return 0;
    }
  const char *why = NULL;
  if (stack_parse_duration (s, ns, &why) < 0 || *ns < 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: %s: invalid duration '%s'%s%s", cmd, opt, s,
                        why ? ": " : "", why ? why : "");
  return 0;
}

/* Around up's work (src/verify/): the verifier's snapshot of the engine
 * before anything is created, and the watchdog that removes the namespace
 * if this process dies before up is done. */
static void
guard_before_create (void *arg, struct engine *e, const char *ns, bool fresh)
{
  struct cmd_up_guard *g = arg;
  verify_snapshot_take (e, ns, fresh);
  g->wd = watchdog_start (e, ns);
}

static void
guard_after (void *arg, bool keep)
{
  struct cmd_up_guard *g = arg;
  if (g->wd > 0)
    watchdog_release (keep);
}

void
cmd_up_guard (struct prov_opts *po, struct cmd_up_guard *g)
{
  po->hooks = (struct prov_hooks){ .before_create = guard_before_create, .after = guard_after,
                                   .arg = g };
}

int
ctx_reach (struct itm_ctx *ctx, const char **join, struct itm_err *err)
{
  if (join)
    *join = NULL;
  const char *arg = ctx->connect;
  const char *what = "--connect";
  if (arg == NULL && getenv ("ITM_ENV_CONNECT") && *getenv ("ITM_ENV_CONNECT"))
    arg = getenv ("ITM_ENV_CONNECT"), what = "ITM_ENV_CONNECT";
  enum conn_connect mode = CONN_CONNECT_AUTO;
  if (arg && conn_parse_connect (what, arg, &mode, err) < 0)
    return -1;
  const char *over = getenv ("ITM_ENV_HOST_OVERRIDE");
  if (over && *over)
    {
      if (mode == CONN_CONNECT_ALWAYS)
        out_note ("itm-env: ITM_ENV_HOST_OVERRIDE is set: the variables name %s and no network "
                  "is joined (--connect always does not apply)", over);
      conn_set_reach (CONN_REACH_OVERRIDE, over);
      return 0;
    }
  conn_set_reach (CONN_REACH_HOST, NULL);
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  const struct self *s = self_probe (e);
  if (mode == CONN_CONNECT_NEVER)
    {
      if (s->in_container)
        out_note ("itm-env: runs in container %.12s but %s is never: the variables name the "
                  "published ports on the engine's host (127.0.0.1), which this container may "
                  "not reach; set ITM_ENV_HOST_OVERRIDE to the host's address, or drop "
                  "--connect never to join the namespace's networks",
                  s->name ? s->name : s->id ? s->id : "?", what);
      return 0;
    }
  if (!s->on_engine)
    {
      if (mode == CONN_CONNECT_ALWAYS)
        {
          itm_err_set (err, ITM_EXIT_USAGE, "%s always: %s", what,
                       s->note ? s->note : "itm-env does not run in a container");
          return itm_err_hint (err, "run itm-env in a container on the engine it talks to "
                                    "(with its socket mounted), or use --connect auto");
        }
      /* no id found (a marker file alone: a sandbox, a VM image): quiet;
       * doctor says it */
      if (s->note && s->id)
        out_note ("%s: not joining the namespace's networks; the variables name the engine "
                  "host's published ports (set ITM_ENV_HOST_OVERRIDE to an address that "
                  "reaches them)", s->note);
      return 0;
    }
  conn_set_reach (CONN_REACH_JOINED, NULL);
  if (join)
    *join = s->id;
  return 0;
}

void
cmd_print_table (char **cells, size_t nrows, size_t ncol)
{
  size_t *w = xcalloc (ncol ? ncol : 1, sizeof *w);
  for (size_t k = 0; k < ncol; k++)
    for (size_t r = 0; r < nrows; r++)
      if (strlen (cells[r * ncol + k]) > w[k])
        w[k] = strlen (cells[r * ncol + k]);
  for (size_t r = 0; r < nrows; r++)
    for (size_t k = 0; k < ncol; k++)
      if (k + 1 < ncol)
        printf ("%-*s  ", (int) w[k], cells[r * ncol + k]);
      else
        printf ("%s\n", cells[r * ncol + k]);
  for (size_t i = 0; i < nrows * ncol; i++)
    free (cells[i]);
  free (cells);
  free (w);
}
