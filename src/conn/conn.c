/* conn.c - connection variables (conn.h): names, templates, a namespace's
 * variables and their formats. */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn/conn.h"
#include "out/out.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/json.h"

/* ---- the list ---- */
void
conn_vars_add (struct conn_vars *vs, const char *name, const char *value)
{
  vs->names = xgrow (vs->names, &vs->cap, vs->n + 1, sizeof *vs->names);
  vs->values = xgrow (vs->values, &vs->vcap, vs->n + 1, sizeof *vs->values);
  vs->names[vs->n] = xstrdup (name);
  vs->values[vs->n++] = xstrdup (value ? value : "");
}

void
conn_vars_set (struct conn_vars *vs, const char *name, const char *value)
{
  for (size_t i = 0; i < vs->n; i++)
    if (strcmp (vs->names[i], name) == 0)
      {
        free (vs->values[i]);
        vs->values[i] = xstrdup (value ? value : "");
        return;
      }
  conn_vars_add (vs, name, value);
}

const char *
conn_vars_get (const struct conn_vars *vs, const char *name, size_t len)
{
  for (size_t i = 0; vs && i < vs->n; i++)
    if (strncmp (vs->names[i], name, len) == 0 && vs->names[i][len] == '\0')
      return vs->values[i];
  return NULL;
}

char **
conn_vars_environ (const struct conn_vars *vs)
{
  char **v = xcalloc (vs->n + 1, sizeof *v);
  for (size_t i = 0; i < vs->n; i++)
    v[i] = xasprintf ("%s=%s", vs->names[i], vs->values[i]);
  return v;
}

void
conn_vars_free (struct conn_vars *vs)
{
  for (size_t i = 0; i < vs->n; i++)
    {
      free (vs->names[i]);
      free (vs->values[i]);
    }
  free (vs->names);
  free (vs->values);
  memset (vs, 0, sizeof *vs);
}

/* ---- the reach ---- */
static enum conn_reach reach_mode = CONN_REACH_HOST;
static char *reach_host;

void
conn_set_reach (enum conn_reach reach, const char *host)
{
  reach_mode = reach;
  free (reach_host);
  reach_host = host ? xstrdup (host) : NULL;
}

enum conn_reach
conn_get_reach (void)
{
  return reach_mode;
}

int
conn_parse_connect (const char *what, const char *arg, enum conn_connect *out,
                    struct itm_err *err)
{
  if (strcmp (arg, "auto") == 0)
    *out = CONN_CONNECT_AUTO;
  else if (strcmp (arg, "always") == 0)
    *out = CONN_CONNECT_ALWAYS;
  else if (strcmp (arg, "never") == 0)
    *out = CONN_CONNECT_NEVER;
  else
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: expected auto, always or never, got '%s'",
                        what, arg);
  return 0;
}

const char *
conn_reach_host (const struct state_container *c, const struct state_port *p)
{
  if (reach_mode == CONN_REACH_JOINED && c && c->service)
    return c->service;
  if (reach_mode == CONN_REACH_OVERRIDE && reach_host)
    return reach_host;
  return p ? conn_host (p->host_ip) : "127.0.0.1";
}

void
conn_reach_port (const struct state_port *p, char port[static 16])
{
  snprintf (port, 16, "%u", reach_mode == CONN_REACH_JOINED ? p->container_port : p->host_port);
}

/* ---- names and ports ---- */
char *
conn_var_name (const char *service)
{
  char *n = xstrdup (service);
  for (char *p = n; *p; p++)
    *p = isalnum ((unsigned char) *p) ? (char) toupper ((unsigned char) *p) : '_';
  return n;
}

bool
conn_valid_name (const char *s)
{
  if (!(isalpha ((unsigned char) *s) || *s == '_'))
    return false;
  for (; *s; s++)
    if (!(isalnum ((unsigned char) *s) || *s == '_'))
      return false;
  return true;
}

const char *
conn_host (const char *host_ip)
{
  if (host_ip == NULL || *host_ip == '\0' || strcmp (host_ip, "0.0.0.0") == 0)
    return "127.0.0.1";
  if (strcmp (host_ip, "::") == 0)
    return "::1";
  return host_ip;
}

/* p is the binding its container port and protocol are reached at */
static bool
preferred (const struct state_container *c, const struct state_port *p)
{
  return p->host_port != 0 && state_port (c, p->container_port, p->protocol) == p;
}

const struct state_port *
conn_port (const struct state_container *c, unsigned cport)
{
  const struct state_port *p = cport ? state_port (c, cport, "tcp") : NULL;
  for (size_t i = 0; p == NULL && c && i < c->nports; i++)
    if (preferred (c, &c->ports[i]))
      p = &c->ports[i];
  return p;
}

struct state_container *
conn_container (const struct state *st, const char *service)
{
  size_t n = 0;
  struct state_container *c = state_service (st, service, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp (c[i].state, "running") == 0)
      return &c[i];
  return c;
}

const char *
conn_container_env (const struct state_container *c, const char *name, size_t len)
{
  for (size_t i = 0; c && i < c->nenv; i++)
    if (strncmp (c->env[i], name, len) == 0 && c->env[i][len] == '=')
      return c->env[i] + len + 1;
  return NULL;
}

void
conn_service_vars (const struct state_container *c, const char *ns, struct conn_vars *out)
{
  const struct state_port *first = conn_port (c, 0);
  conn_vars_set (out, "SERVICE", c->service);
  conn_vars_set (out, "CONTAINER", c->name);
  conn_vars_set (out, "NAMESPACE", ns);
  conn_vars_set (out, "HOST", conn_reach_host (c, first));
  for (size_t i = 0; i < c->nports; i++)
    {
      const struct state_port *p = &c->ports[i];
      if (!preferred (c, p))
        continue;
      char port[16], name[48];
      conn_reach_port (p, port);
      if (p == first)
        conn_vars_set (out, "PORT", port);
      if (strcmp (p->protocol, "tcp") == 0)
        snprintf (name, sizeof name, "PORT_%u", p->container_port);
      else
        {
          cleanup_free char *up = conn_var_name (p->protocol);
          snprintf (name, sizeof name, "PORT_%u_%s", p->container_port, up);
        }
      conn_vars_set (out, name, port);
    }
}

/* ---- templates ---- */
static const char *
scope_get (const struct conn_scope *s, const char *name, size_t len)
{
  const char *v = conn_vars_get (s->local, name, len);
  if (v == NULL)
    v = conn_container_env (s->c, name, len);
  if (v == NULL)
    v = conn_vars_get (s->global, name, len);
  return v;
}

int
conn_expand (const char *tpl, const struct conn_scope *scope, const char *what,
             struct buf *out, struct itm_err *err)
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
      const char *v = scope_get (scope, name, len);
      if (def && (v == NULL || (colon && *v == '\0')))
        buf_add (out, def, deflen);
      else if (v)
        buf_adds (out, v);
      else
        {
          itm_err_set (err, ITM_EXIT_STACK, "%s: variable '%.*s' is not defined", what,
                       (int) len, name);
          return scope->hint ? itm_err_hint (err, "%s", scope->hint) : -1;
        }
      p = end;
    }
  return 0;
}

/* ---- a namespace's variables ---- */
static bool
selected (const char *service, const char *const *services, size_t n)
{
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (strcmp (services[i], service) == 0)
      return true;
  return false;
}

/* x-itm.proxy: the namespace's fault proxy container (its ITM_PROXY_MAP
 * names the "service:port" pairs it stands in front of), or NULL. */
static const struct state_container *
proxy_container (const struct state *st, const char **map)
{
  for (size_t i = 0; st && i < st->ncontainers; i++)
    if ((*map = conn_container_env (&st->containers[i], "ITM_PROXY_MAP", 13)) != NULL
        && strcmp (st->containers[i].state, "running") == 0)
      return &st->containers[i];
  return NULL;
}

/* A proxied service's host-side ports are the proxy's (joined, its name
 * resolves to the proxy already). */
static void
proxy_override (const struct state *st, const char *service, struct conn_vars *local)
{
  const char *map = NULL;
  const struct state_container *px = proxy_container (st, &map);
  if (px == NULL || reach_mode == CONN_REACH_JOINED)
    return;
  const char *p0 = conn_vars_get (local, "PORT", 4);
  cleanup_free char *first = p0 ? xstrdup (p0) : NULL;
  size_t sl = strlen (service);
  for (const char *t = map; t && *t; t = strchr (t, ',') ? strchr (t, ',') + 1 : NULL)
    {
      if (strncmp (t, service, sl) != 0 || t[sl] != ':')
        continue;
      unsigned cport = (unsigned) strtoul (t + sl + 1, NULL, 10);
      const struct state_port *pp = state_port (px, cport, "tcp");
      if (pp == NULL || pp->host_port == 0)
        continue;
      char name[32], v[16];
      snprintf (name, sizeof name, "PORT_%u", cport);
      conn_reach_port (pp, v);
      const char *cur = conn_vars_get (local, name, strlen (name));
      if (first && cur && strcmp (first, cur) == 0)
        conn_vars_set (local, "PORT", v);
      conn_vars_set (local, name, v);
      conn_vars_set (local, "HOST", conn_reach_host (px, pp));
    }
}

static int
add_exports (const struct stack_service *svc, const struct state_container *c, const char *ns,
             const struct conn_vars *global, struct conn_vars *out,
             const struct state *st, struct itm_err *err)
{
  json_object *ex = NULL;
  if (svc->x_itm == NULL || !json_object_object_get_ex (svc->x_itm, "exports", &ex)
      || ex == NULL)
    return 0;
  if (!json_object_is_type (ex, json_type_object))
    return itm_err_set (err, ITM_EXIT_STACK,
                        "service '%s': x-itm.exports must be a map of NAME: template",
                        svc->name);
  cleanup_conn_vars struct conn_vars local = { 0 };
  conn_service_vars (c, ns, &local);
  proxy_override (st, svc->name, &local);
  const struct conn_scope scope = {
    .local = &local, .c = c, .global = global,
    .hint = "templates know HOST, PORT, PORT_<port>, SERVICE, CONTAINER, NAMESPACE, the "
            "container's environment and the other variables of 'itm-env env'; "
            "write $${VAR} in the stack file",
  };
  json_object_object_foreach (ex, name, val)
    {
      cleanup_free char *what = xasprintf ("service '%s': x-itm.exports.%s", svc->name, name);
      if (!conn_valid_name (name))
        return itm_err_set (err, ITM_EXIT_STACK, "%s: not a variable name", what);
      if (val == NULL || json_object_is_type (val, json_type_object)
          || json_object_is_type (val, json_type_array))
        return itm_err_set (err, ITM_EXIT_STACK, "%s: the template must be a string", what);
      cleanup_buf struct buf b = { 0 };
      if (conn_expand (json_object_get_string (val), &scope, what, &b, err) < 0)
        return -1;
      conn_vars_set (out, name, b.data ? b.data : "");
    }
  return 0;
}

/* A service with replicas (n containers, n > 1): NAME_REPLICAS, and
 * NAME_ADDRS, every replica's HOST:PORT (NAME_PORT's binding; joined: the
 * container's own name, not the service's shared one) comma-separated in
 * number order; those without a published port are left out. */
static void
replica_vars (const struct state_container *c, size_t n, const char *up, bool sel,
              struct conn_vars *all, struct conn_vars *out)
{
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < n; i++)
    {
      const struct state_port *p = conn_port (&c[i], 0);
      if (p == NULL)
        continue;
      char port[16];
      conn_reach_port (p, port);
      const char *h = conn_get_reach () == CONN_REACH_JOINED ? c[i].name
                                                             : conn_reach_host (&c[i], p);
      buf_addf (&b, "%s%s%s%s:%s", b.len ? "," : "", strchr (h, ':') ? "[" : "", h,
                strchr (h, ':') ? "]" : "", port);
    }
  char count[24];
  snprintf (count, sizeof count, "%zu", n);
  cleanup_free char *nr = xasprintf ("%s_REPLICAS", up);
  cleanup_free char *na = xasprintf ("%s_ADDRS", up);
  conn_vars_set (all, nr, count);
  conn_vars_set (all, na, b.data);
  if (sel)
    {
      conn_vars_set (out, nr, count);
      conn_vars_set (out, na, b.data);
    }
}

/* NAME_HOST, NAME_PORT, NAME_PORT_<n>... of every service into all, and of
 * the selected ones into out. */
static void
port_vars (const struct state *st, const char *const *services, size_t nservices,
           struct conn_vars *all, struct conn_vars *out)
{
  const char **names = NULL;
  size_t nnames = state_services (st, &names);
  for (size_t i = 0; i < nnames; i++)
    {
      const struct state_container *c = conn_container (st, names[i]);
      cleanup_conn_vars struct conn_vars local = { 0 };
      conn_service_vars (c, st->ns, &local);
      proxy_override (st, names[i], &local);
      if (conn_vars_get (&local, "PORT", 4) == NULL)
        continue;
      cleanup_free char *up = conn_var_name (names[i]);
      for (size_t k = 0; k < local.n; k++)
        if (strcmp (local.names[k], "HOST") == 0 || strncmp (local.names[k], "PORT", 4) == 0)
          {
            cleanup_free char *n = xasprintf ("%s_%s", up, local.names[k]);
            conn_vars_set (all, n, local.values[k]);
            if (selected (names[i], services, nservices))
              conn_vars_set (out, n, local.values[k]);
          }
      size_t nrep = 0;
      const struct state_container *reps = state_service (st, names[i], &nrep);
      if (nrep > 1)
        replica_vars (reps, nrep, up, selected (names[i], services, nservices), all, out);
    }
  free (names);
}

int
conn_namespace_vars (const struct state *st, const struct stack *stack,
                     const char *const *services, size_t nservices, struct conn_vars *out,
                     struct itm_err *err)
{
  return conn_namespace_vars_with (st, stack, services, nservices, NULL, out, err);
}

int
conn_namespace_vars_with (const struct state *st, const struct stack *stack,
                          const char *const *services, size_t nservices,
                          const struct conn_vars *data, struct conn_vars *out,
                          struct itm_err *err)
{
  cleanup_conn_vars struct conn_vars all = { 0 };
  port_vars (st, services, nservices, &all, out);
  const char *pxmap;
  const struct state_container *px = proxy_container (st, &pxmap);
  const struct state_port *pxapi = px ? state_port (px, 8474, "tcp") : NULL;
  if (pxapi && pxapi->host_port)
    {
      /* the fault proxy's API (Toxiproxy's clients read TOXIPROXY_URL) */
      char port[16];
      conn_reach_port (pxapi, port);
      const char *h = reach_mode == CONN_REACH_JOINED ? px->name : conn_reach_host (px, pxapi);
      cleanup_free char *url = xasprintf (strchr (h, ':') ? "http://[%s]:%s" : "http://%s:%s", h, port);
      static const char *const names[] = { "TOXIPROXY_URL", "ITM_PROXY_URL" };
      for (int k = 0; k < 2; k++)
        {
          conn_vars_set (&all, names[k], url);
          conn_vars_set (out, names[k], url);
        }
    }
  for (size_t i = 0; data && i < data->n; i++)
    {
      conn_vars_set (&all, data->names[i], data->values[i]);
      conn_vars_set (out, data->names[i], data->values[i]);
    }
  for (size_t i = 0; stack && i < stack->nservices; i++)
    {
      const struct stack_service *svc = &stack->services[i];
      if (!selected (svc->name, services, nservices))
        continue;
      const struct state_container *c = conn_container (st, svc->name);
      if (c == NULL)
        {
          if (svc->x_itm && json_object_object_get_ex (svc->x_itm, "exports", NULL))
            out_warn ("service '%s' has no container in namespace '%s': its x-itm.exports "
                      "are skipped", svc->name, st->ns);
          continue;
        }
      if (add_exports (svc, c, st->ns, &all, out, st, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- printing ---- */
int
conn_parse_format (const char *cmd, const char *arg, enum conn_format *fmt, struct itm_err *err)
{
  if (strcmp (arg, "shell") == 0)
    *fmt = CONN_FMT_SHELL;
  else if (strcmp (arg, "dotenv") == 0)
    *fmt = CONN_FMT_DOTENV;
  else if (strcmp (arg, "json") == 0)
    *fmt = CONN_FMT_JSON;
  else
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: unknown format '%s' (shell, dotenv or json)",
                        cmd, arg);
  return 0;
}

static void
print_json (FILE *f, const struct conn_vars *vs)
{
  cleanup_json json_object *o = json_object_new_object ();
  for (size_t i = 0; i < vs->n; i++)
    json_object_object_add (o, vs->names[i], json_object_new_string (vs->values[i]));
  int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
  flags |= isatty (fileno (f)) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                               : JSON_C_TO_STRING_PLAIN;
  fprintf (f, "%s\n", json_object_to_json_string_ext (o, flags));
  fflush (f);
}

/* export NAME='value', a ' as '\'' */
static void
print_shell (FILE *f, const char *name, const char *v)
{
  fprintf (f, "export %s='", name);
  for (const char *p = v; *p; p++)
    if (*p == '\'')
      fputs ("'\\''", f);
    else
      putc (*p, f);
  fputs ("'\n", f);
}

/* Whether dotenv (NAME=value, the rest of the line taken literally, as
 * `docker run --env-file` and GitHub's $GITHUB_ENV read it) can carry v:
 * no line break (either reader ends the line at LF and drops a CR before
 * it), valid UTF-8 (docker refuses a file that is not), and the whole
 * line within bufio.Scanner's 64 KiB (docker's limit on a line).  NULL
 * when it can, else why not. */
static const char *
dotenv_refusal (const char *name, const char *v)
{
  if (strpbrk (v, "\n\r"))
    return "it holds a line break";
  if (strlen (name) + 1 + strlen (v) >= 64 * 1024)
    return "the line would be longer than 64 KiB";
  for (const unsigned char *p = (const unsigned char *) v; *p;)
    {
      size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                 : (*p & 0xf8) == 0xf0 ? 4 : 0;
      if (n == 0 || (n == 2 && *p < 0xc2) || (n == 4 && *p > 0xf4))
        return "it is not valid UTF-8";
      for (size_t k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
          return "it is not valid UTF-8";
      if ((n == 3 && *p == 0xe0 && p[1] < 0xa0) || (n == 3 && *p == 0xed && p[1] > 0x9f)
          || (n == 4 && *p == 0xf0 && p[1] < 0x90) || (n == 4 && *p == 0xf4 && p[1] > 0x8f))
        return "it is not valid UTF-8";
      p += n;
    }
  return NULL;
}

int
conn_print (FILE *f, const struct conn_vars *vs, enum conn_format fmt, struct itm_err *err)
{
  if (fmt == CONN_FMT_JSON)
    {
      print_json (f, vs);
      return 0;
    }
  /* dotenv: all or nothing */
  for (size_t i = 0; fmt == CONN_FMT_DOTENV && i < vs->n; i++)
    {
      const char *why = dotenv_refusal (vs->names[i], vs->values[i]);
      if (why)
        {
          itm_err_set (err, ITM_EXIT_FAILURE,
                       "--format dotenv cannot carry the value of %s: %s", vs->names[i], why);
          return itm_err_hint (err, "use --format shell or --format json, which carry any value");
        }
    }
  for (size_t i = 0; i < vs->n; i++)
    if (fmt == CONN_FMT_SHELL)
      print_shell (f, vs->names[i], vs->values[i]);
    else
      fprintf (f, "%s=%s\n", vs->names[i], vs->values[i]);
  fflush (f);
  return 0;
}
