/* cmd-env.c - itm-env env: connection variables for the namespace's
 * published ports, plus the stack's x-itm.exports templates.
 *
 * For every service with a published port (NAME: the service name upper-
 * cased, every character outside [A-Z0-9_] as '_'):
 *   NAME_HOST           where to connect (0.0.0.0 and :: as loopback)
 *   NAME_PORT           the host port of the first published port (lowest
 *                       container port)
 *   NAME_PORT_<cport>   the host port of each published tcp container port
 *                       (<cport>_UDP, <cport>_SCTP for the others)
 * then each service's x-itm.exports (NAME: template), in file order.  A
 * template (as it is after the loader's interpolation, so the file writes
 * $${PORT}) expands $VAR, ${VAR}, ${VAR:-default} and ${VAR-default}, and
 * $$ to $; VAR is, in this order: HOST, PORT, PORT_<cport>, SERVICE,
 * CONTAINER, NAMESPACE of that service; a variable of the container's
 * environment (as the engine reports it); a variable printed above for any
 * service (DB_PORT).  An undefined variable without a default is an error. */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/xalloc.h"

enum { OPT_FORMAT = OPT_FIRST_COMMAND_OPT, OPT_JSON };

struct var {
  char *name, *value;
};
struct vars {
  struct var *v;
  size_t n, cap;
};

static void
vars_set (struct vars *vs, const char *name, const char *value)
{
  for (size_t i = 0; i < vs->n; i++)
    if (strcmp (vs->v[i].name, name) == 0)
      {
        free (vs->v[i].value);
        vs->v[i].value = xstrdup (value);
        return;
      }
  vs->v = xgrow (vs->v, &vs->cap, vs->n + 1, sizeof *vs->v);
  vs->v[vs->n].name = xstrdup (name);
  vs->v[vs->n++].value = xstrdup (value);
}

static const char *
vars_get (const struct vars *vs, const char *name, size_t len)
{
  for (size_t i = 0; i < vs->n; i++)
    if (strlen (vs->v[i].name) == len && strncmp (vs->v[i].name, name, len) == 0)
      return vs->v[i].value;
  return NULL;
}

static void
vars_free (struct vars *vs)
{
  for (size_t i = 0; i < vs->n; i++)
    {
      free (vs->v[i].name);
      free (vs->v[i].value);
    }
  free (vs->v);
  memset (vs, 0, sizeof *vs);
}

/* "my-db" -> "MY_DB" */
static char *
env_name (const char *service)
{
  char *n = xstrdup (service);
  for (char *p = n; *p; p++)
    *p = isalnum ((unsigned char) *p) ? (char) toupper ((unsigned char) *p) : '_';
  return n;
}

static bool
valid_name (const char *s)
{
  if (!(isalpha ((unsigned char) *s) || *s == '_'))
    return false;
  for (; *s; s++)
    if (!(isalnum ((unsigned char) *s) || *s == '_'))
      return false;
  return true;
}

/* The service's own variables for templates: HOST, PORT, PORT_n... */
static void
local_vars (const struct state_container *c, const char *ns, struct vars *out)
{
  bool first = true;
  vars_set (out, "SERVICE", c->service);
  vars_set (out, "CONTAINER", c->name);
  vars_set (out, "NAMESPACE", ns);
  vars_set (out, "HOST", "127.0.0.1");
  for (size_t i = 0; i < c->nports; i++)
    {
      const struct state_port *p = &c->ports[i];
      if (p->host_port == 0 || state_port (c, p->container_port, p->protocol) != p)
        continue;
      char port[16], name[48];
      snprintf (port, sizeof port, "%u", p->host_port);
      if (first)
        {
          vars_set (out, "HOST", ctx_connect_host (p->host_ip));
          vars_set (out, "PORT", port);
          first = false;
        }
      if (strcmp (p->protocol, "tcp") == 0)
        snprintf (name, sizeof name, "PORT_%u", p->container_port);
      else
        {
          cleanup_free char *up = env_name (p->protocol);
          snprintf (name, sizeof name, "PORT_%u_%s", p->container_port, up);
        }
      vars_set (out, name, port);
    }
}

static const char *
lookup (const char *name, size_t len, const struct vars *local,
        const struct state_container *c, const struct vars *global)
{
  const char *v = vars_get (local, name, len);
  if (v)
    return v;
  for (size_t i = 0; i < c->nenv; i++)
    if (strncmp (c->env[i], name, len) == 0 && c->env[i][len] == '=')
      return c->env[i] + len + 1;
  return vars_get (global, name, len);
}

static int
expand (const char *tpl, const struct vars *local, const struct state_container *c,
        const struct vars *global, const char *what, struct buf *out, struct itm_err *err)
{
  for (const char *p = tpl; *p;)
    {
      if (*p != '$')
        {
          buf_addc (out, *p++);
          continue;
        }
      p++;
      if (*p == '$')
        {
          buf_addc (out, '$');
          p++;
          continue;
        }
      bool braced = *p == '{';
      const char *name = braced ? p + 1 : p, *q = name;
      while (isalnum ((unsigned char) *q) || *q == '_')
        q++;
      size_t len = (size_t) (q - name);
      if (len == 0)
        {
          if (braced)
            return itm_err_set (err, ITM_EXIT_STACK, "%s: bad variable reference at '%s'", what,
                                p - 1);
          buf_addc (out, '$');
          continue;
        }
      const char *def = NULL, *end = q;
      size_t deflen = 0;
      bool colon = false;
      if (braced)
        {
          if (*q == ':' && q[1] == '-')
            colon = true, def = q + 2;
          else if (*q == '-')
            def = q + 1;
          else if (*q != '}')
            return itm_err_set (err, ITM_EXIT_STACK, "%s: bad variable reference at '%s'",
                                what, p - 1);
          end = strchr (q, '}');
          if (end == NULL)
            return itm_err_set (err, ITM_EXIT_STACK, "%s: unterminated '${' at '%s'", what,
                                p - 1);
          if (def)
            deflen = (size_t) (end - def);
          end++;
        }
      const char *v = lookup (name, len, local, c, global);
      if (def && (v == NULL || (colon && *v == '\0')))
        buf_add (out, def, deflen);
      else if (v)
        buf_adds (out, v);
      else
        {
          itm_err_set (err, ITM_EXIT_STACK, "%s: variable '%.*s' is not defined", what,
                       (int) len, name);
          return itm_err_hint (err, "templates know HOST, PORT, PORT_<port>, SERVICE, "
                                    "CONTAINER, NAMESPACE, the container's environment and "
                                    "the other variables of 'itm-env env'; "
                                    "write $${VAR} in the stack file");
        }
      p = end;
    }
  return 0;
}

static int
add_exports (const struct stack_service *svc, const struct state_container *c, const char *ns,
             const struct vars *global, struct vars *out, struct itm_err *err)
{
  json_object *ex = NULL;
  if (svc->x_itm == NULL || !json_object_object_get_ex (svc->x_itm, "exports", &ex)
      || ex == NULL)
    return 0;
  if (!json_object_is_type (ex, json_type_object))
    return itm_err_set (err, ITM_EXIT_STACK,
                        "service '%s': x-itm.exports must be a map of NAME: template",
                        svc->name);
  struct vars local = { 0 };
  local_vars (c, ns, &local);
  json_object_object_foreach (ex, name, val)
    {
      cleanup_free char *what = xasprintf ("service '%s': x-itm.exports.%s", svc->name, name);
      if (!valid_name (name))
        {
          vars_free (&local);
          return itm_err_set (err, ITM_EXIT_STACK, "%s: not a variable name", what);
        }
      if (val == NULL || json_object_is_type (val, json_type_object)
          || json_object_is_type (val, json_type_array))
        {
          vars_free (&local);
          return itm_err_set (err, ITM_EXIT_STACK, "%s: the template must be a string", what);
        }
      struct buf b = { 0 };
      if (expand (json_object_get_string (val), &local, c, global, what, &b, err) < 0)
        {
          buf_free (&b);
          vars_free (&local);
          return -1;
        }
      vars_set (out, name, b.data ? b.data : "");
      buf_free (&b);
    }
  vars_free (&local);
  return 0;
}

static bool
needs_quotes (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!(isalnum ((unsigned char) *s) || strchr ("_-./:@%+,=", *s)))
      return true;
  return false;
}

void
env_print (char *const *names, char *const *values, size_t n, enum env_format fmt)
{
  if (fmt == ENV_FMT_JSON)
    {
      json_object *o = json_object_new_object ();
      for (size_t i = 0; i < n; i++)
        json_object_object_add (o, names[i], json_object_new_string (values[i]));
      print_json (o);
      json_object_put (o);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      const char *v = values[i];
      if (fmt == ENV_FMT_SHELL)
        {
          printf ("export %s='", names[i]);
          for (const char *p = v; *p; p++)
            if (*p == '\'')
              fputs ("'\\''", stdout);
            else
              putchar (*p);
          puts ("'");
        }
      else if (!needs_quotes (v))
        printf ("%s=%s\n", names[i], v);
      else if (!strchr (v, '\'') && !strchr (v, '\n'))
        printf ("%s='%s'\n", names[i], v);
      else
        {
          printf ("%s=\"", names[i]);
          for (const char *p = v; *p; p++)
            if (*p == '\n')
              fputs ("\\n", stdout);
            else
              {
                if (strchr ("\\\"$", *p))
                  putchar ('\\');
                putchar (*p);
              }
          puts ("\"");
        }
    }
}

int
env_parse_format (const char *cmd, const char *arg, enum env_format *fmt, struct itm_err *err)
{
  if (strcmp (arg, "shell") == 0)
    *fmt = ENV_FMT_SHELL;
  else if (strcmp (arg, "dotenv") == 0)
    *fmt = ENV_FMT_DOTENV;
  else if (strcmp (arg, "json") == 0)
    *fmt = ENV_FMT_JSON;
  else
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: unknown format '%s' (shell, dotenv or json)",
                        cmd, arg);
  return 0;
}

static void
print_vars (const struct vars *vs, enum env_format fmt)
{
  char **names = xcalloc (vs->n + 1, sizeof *names), **values = xcalloc (vs->n + 1, sizeof *values);
  for (size_t i = 0; i < vs->n; i++)
    {
      names[i] = vs->v[i].name;
      values[i] = vs->v[i].value;
    }
  env_print (names, values, vs->n, fmt);
  free (names);
  free (values);
}

static bool
selected (const char *service, char **services, size_t n)
{
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (strcmp (services[i], service) == 0)
      return true;
  return false;
}

/* No stack file given or found: the one the namespace was made from, by its
 * labels, when it is still there. */
static struct stack *
stack_from_labels (struct itm_ctx *ctx, const struct state *st)
{
  const struct state_container *c = NULL;
  for (size_t i = 0; i < st->ncontainers && c == NULL; i++)
    if (st->containers[i].stack_files && *st->containers[i].stack_files)
      c = &st->containers[i];
  if (c == NULL || ctx->nfiles > 0)
    return NULL;
  cleanup_free char *copy = xstrdup (c->stack_files);
  const char **files = NULL;
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
  struct stack *stack = NULL;
  struct itm_err err = { 0 };
  if (ctx_stack_load (&sub, NULL, 0, &stack, &err) < 0)
    {
      fprintf (stderr, "itm-env: warning: %s (the stack file of namespace '%s'); "
                       "x-itm.exports skipped\n", err.msg ? err.msg : "cannot load", st->ns);
      stack = NULL;
    }
  itm_err_clear (&err);
  free (files);
  return stack;
}

/* The variables of namespace ns (services: only theirs; none: all) into
 * out: the generated ones, then the exports.  stack NULL: the one its
 * labels name, when there is one. */
static int
compute_vars (struct itm_ctx *ctx, const char *ns, struct stack *stack, const struct state *st,
              char **services, size_t nservices, struct vars *out, struct itm_err *err)
{
  cleanup_stack struct stack *own = NULL;
  if (stack == NULL)
    stack = own = stack_from_labels (ctx, st);

  /* The generated variables, every service, then the exports. */
  struct vars all = { 0 };
  const char **names = NULL;
  size_t nnames = state_services (st, &names);
  for (size_t i = 0; i < nnames; i++)
    {
      struct itm_err e2 = { 0 };
      const struct state_container *c = ctx_pick_container (st, names[i], 0, &e2);
      itm_err_clear (&e2);
      struct vars local = { 0 };
      local_vars (c, ns, &local);
      cleanup_free char *up = env_name (names[i]);
      if (vars_get (&local, "PORT", 4))
        for (size_t k = 0; k < local.n; k++)
          if (strcmp (local.v[k].name, "HOST") == 0 || strncmp (local.v[k].name, "PORT", 4) == 0)
            {
              cleanup_free char *n = xasprintf ("%s_%s", up, local.v[k].name);
              vars_set (&all, n, local.v[k].value);
              if (selected (names[i], services, nservices))
                vars_set (out, n, local.v[k].value);
            }
      vars_free (&local);
    }
  int ret = 0;
  for (size_t i = 0; stack && i < stack->nservices && ret == 0; i++)
    {
      const struct stack_service *svc = &stack->services[i];
      if (!selected (svc->name, services, nservices))
        continue;
      struct itm_err e2 = { 0 };
      const struct state_container *c = ctx_pick_container (st, svc->name, 0, &e2);
      itm_err_clear (&e2);
      if (c == NULL)
        {
          json_object *ex;
          if (svc->x_itm && json_object_object_get_ex (svc->x_itm, "exports", &ex))
            fprintf (stderr, "itm-env: warning: service '%s' has no container in namespace "
                             "'%s': its x-itm.exports are skipped\n", svc->name, ns);
          continue;
        }
      ret = add_exports (svc, c, ns, &all, out, err);
    }
  free (names);
  vars_free (&all);
  return ret;
}

int
env_vars (struct itm_ctx *ctx, const char *ns, struct stack *stack, char ***out,
          struct itm_err *err)
{
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  struct vars vs = { 0 };
  int ret = compute_vars (ctx, ns, stack, st, NULL, 0, &vs, err);
  if (ret == 0)
    {
      *out = xcalloc (vs.n + 1, sizeof **out);
      for (size_t i = 0; i < vs.n; i++)
        (*out)[i] = xasprintf ("%s=%s", vs.v[i].name, vs.v[i].value);
    }
  vars_free (&vs);
  return ret;
}

static int
env_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  enum env_format fmt = ENV_FMT_SHELL;
  const char *arg;
  int opt;

  while ((opt = cmd_getopt (&cmd_env, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FORMAT:
        if (env_parse_format ("env", arg, &fmt, err) < 0)
          return -1;
        break;
      case OPT_JSON:
        fmt = ENV_FMT_JSON;
        break;
      }
  if (opt < 0)
    return -1;
  if (fmt == ENV_FMT_JSON)
    ctx->json_errors = true;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);

  cleanup_free char *ns = NULL;
  cleanup_stack struct stack *stack = NULL;
  if (ctx_namespace (ctx, CTX_STACK_WANTED, &ns, &stack, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      size_t n;
      if (state_service (st, services[i], &n) == NULL)
        return state_no_service (st, services[i], err);
    }
  struct vars out = { 0 };
  int ret = compute_vars (ctx, ns, stack, st, services, nservices, &out, err);
  if (ret == 0)
    print_vars (&out, fmt);
  vars_free (&out);
  return ret;
}

static const struct itm_opt env_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_FORMAT, 0, "format", OPT_ARG_REQUIRED, "shell|dotenv|json",
    "shell: export NAME='value' lines for eval (default);\n"
    "dotenv: NAME=value lines; json: one object" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "the same as --format json" },
  { 0 },
};

const struct itm_cmd cmd_env = {
  .name = "env",
  .args = "[SERVICE...]",
  .summary = "print connection variables for the namespace's services",
  .opts = env_opts,
  .fn = env_main,
};
