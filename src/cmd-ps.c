/* cmd-ps.c - itm-env ps: a namespace's containers, from the engine's labels
 * alone (no stack file needed with -p). */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT, OPT_SERVICES, OPT_STATUS, OPT_FILTER };

/* The states --status and --filter status= take (Compose's). */
static const char *const known_states[] = { "created", "restarting", "running", "removing",
                                            "paused", "exited", "dead", NULL };

struct ps_sel {
  char **services;
  size_t nservices;
  const char **states;       /* --status, --filter status=: any of these (none: all) */
  size_t nstates;
};

/* An IPv6 binding that repeats an IPv4 one (the engine binds both for
 * 0.0.0.0) is not shown twice. */
static bool
v6_duplicate (const struct state_container *c, size_t i)
{
  const struct state_port *p = &c->ports[i];
  if (p->host_ip == NULL || strchr (p->host_ip, ':') == NULL)
    return false;
  for (size_t k = 0; k < c->nports; k++)
    if (k != i && c->ports[k].container_port == p->container_port
        && c->ports[k].host_port == p->host_port
        && strcmp (c->ports[k].protocol, p->protocol) == 0 && c->ports[k].host_ip
        && strchr (c->ports[k].host_ip, ':') == NULL)
      return true;
  return false;
}

/* "127.0.0.1:32768->5432/tcp, 8080/tcp" */
static char *
ports_text (const struct state_container *c)
{
  struct buf b = { 0 };
  for (size_t i = 0; i < c->nports; i++)
    {
      const struct state_port *p = &c->ports[i];
      if (v6_duplicate (c, i))
        continue;
      if (b.len)
        buf_adds (&b, ", ");
      if (p->host_port)
        {
          bool v6 = p->host_ip && strchr (p->host_ip, ':');
          buf_addf (&b, "%s%s%s:%u->", v6 ? "[" : "", p->host_ip ? p->host_ip : "0.0.0.0",
                    v6 ? "]" : "", p->host_port);
        }
      buf_addf (&b, "%u/%s", p->container_port, p->protocol);
    }
  return b.data ? buf_steal (&b) : xstrdup ("");
}

static bool
has_exit_code (const struct state_container *c)
{
  return strcmp (c->state, "exited") == 0 || strcmp (c->state, "dead") == 0;
}

/* The READY column: what itm-env's gate established (up, wait), beside
 * the engine's HEALTH: "ready 0.4s", "ready" (a container kept as it
 * was), "failed", "-" (no record on this host). */
static char *
ready_text (const struct state_container *c)
{
  const struct state_ready *r = c->ready;
  if (r == NULL || r->state == NULL)
    return xstrdup ("-");
  if (strcmp (r->state, "ready") == 0 && r->ready_ns >= 0)
    return xasprintf ("ready %.1fs", (double) r->ready_ns / 1e9);
  return xstrdup (r->state);
}

/* "ready": {"state", "gate", "time_to_ready_s", "at", "detail"} or null */
static json_object *
ready_json (const struct state_container *c)
{
  const struct state_ready *r = c->ready;
  if (r == NULL || r->state == NULL)
    return NULL;
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "state", json_object_new_string (r->state));
  json_object_object_add (o, "gate", r->gate ? json_object_new_string (r->gate) : NULL);
  json_object *t = NULL;
  if (r->ready_ns >= 0)
    {
      char b[32];
      double v = (double) ((r->ready_ns + 500000) / 1000000) / 1e3;
      snprintf (b, sizeof b, "%.3f", v);
      t = json_object_new_double_s (v, b);
    }
  json_object_object_add (o, "time_to_ready_s", t);
  json_object_object_add (o, "at", r->at ? json_object_new_string (r->at) : NULL);
  json_object_object_add (o, "detail", r->detail ? json_object_new_string (r->detail) : NULL);
  return o;
}

/* Running, and on no network: cut off by `fault partition` (a partition
 * from one service, --from, leaves it on other networks: not shown). */
static bool
partitioned (const struct state_container *c)
{
  return strcmp (c->state, "running") == 0 && c->nnetworks == 0;
}

/* "db: latency_downstream(latency downstream latency=300), ..." or "-" */
static char *
faults_text (json_object *faults, const struct state_container *c)
{
  json_object *a = json_key (faults, c->service);
  struct buf b = { 0 };
  if (partitioned (c))
    buf_adds (&b, "partitioned");
  for (size_t i = 0; a && i < json_object_array_length (a); i++)
    {
      cleanup_free char *t = prov_proxy_fault_text (json_object_array_get_idx (a, i));
      buf_addf (&b, "%s%s", b.len ? ", " : "", t);
    }
  return b.data ? buf_steal (&b) : xstrdup ("-");
}

static json_object *
container_json (const struct state_container *c, json_object *faults)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "service", json_object_new_string (c->service));
  json_object_object_add (o, "number", json_object_new_int (c->number));
  json_object_object_add (o, "container", json_object_new_string (c->name));
  json_object_object_add (o, "id", json_object_new_string (c->id));
  json_object_object_add (o, "image", c->image ? json_object_new_string (c->image) : NULL);
  json_object_object_add (o, "state", json_object_new_string (c->state));
  json_object_object_add (o, "health", c->health ? json_object_new_string (c->health) : NULL);
  json_object_object_add (o, "ready", ready_json (c));
  json_object_object_add (o, "exit_code",
                          has_exit_code (c) ? json_object_new_int (c->exit_code) : NULL);
  json_object *started = NULL;
  if (c->started_at > 0)
    {
      char buf[32];
      ns_format_time ((time_t) (c->started_at / 1000000000LL), buf);
      started = json_object_new_string (buf);
    }
  json_object_object_add (o, "started_at", started);
  json_object *ports = json_object_new_array ();
  for (size_t i = 0; i < c->nports; i++)
    {
      const struct state_port *p = &c->ports[i];
      json_object *po = json_object_new_object ();
      json_object_object_add (po, "container_port", json_object_new_int ((int) p->container_port));
      json_object_object_add (po, "protocol", json_object_new_string (p->protocol));
      json_object_object_add (po, "host_ip", p->host_ip ? json_object_new_string (p->host_ip)
                                                        : NULL);
      json_object_object_add (po, "host_port",
                              p->host_port ? json_object_new_int ((int) p->host_port) : NULL);
      json_object_array_add (ports, po);
    }
  json_object_object_add (o, "ports", ports);
  json_object *nets = json_object_new_array ();
  for (size_t i = 0; i < c->nnetworks; i++)
    json_object_array_add (nets, json_object_new_string (c->networks[i]));
  json_object_object_add (o, "networks", nets);
  json_object_object_add (o, "config_hash",
                          c->config_hash ? json_object_new_string (c->config_hash) : NULL);
  json_object *fa = json_object_new_array (), *mine = json_key (faults, c->service);
  if (partitioned (c))
    {
      json_object *p = json_object_new_object ();
      json_object_object_add (p, "type", json_object_new_string ("partitioned"));
      json_object_array_add (fa, p);
    }
  for (size_t i = 0; mine && i < json_object_array_length (mine); i++)
    json_object_array_add (fa, json_object_get (json_object_array_get_idx (mine, i)));
  json_object_object_add (o, "faults", fa);
  return o;
}

static bool
selected (const struct state_container *c, const struct ps_sel *sel)
{
  bool state_ok = sel->nstates == 0;
  for (size_t i = 0; i < sel->nstates && !state_ok; i++)
    state_ok = strcmp (sel->states[i], c->state) == 0;
  if (!state_ok)
    return false;
  if (sel->nservices == 0)
    return true;
  for (size_t i = 0; i < sel->nservices; i++)
    if (strcmp (sel->services[i], c->service) == 0)
      return true;
  return false;
}

static int
add_state (struct ps_sel *sel, const char *what, const char *s, struct itm_err *err)
{
  for (size_t i = 0; known_states[i]; i++)
    if (strcmp (known_states[i], s) == 0)
      {
        sel->states = xrealloc (sel->states, (sel->nstates + 1) * sizeof *sel->states);
        sel->states[sel->nstates++] = known_states[i];
        return 0;
      }
  itm_err_set (err, ITM_EXIT_USAGE, "ps: %s: unknown status '%s'", what, s);
  return itm_err_hint (err, "one of created, restarting, running, removing, paused, exited, "
                            "dead");
}

/* faults: prov_proxy_faults() (NULL: no proxy, and no FAULTS column) */
static void
print_table (const struct state *st, const struct ps_sel *sel, json_object *faults)
{
  static const char *const head[] = { "SERVICE", "CONTAINER", "STATE", "HEALTH", "READY",
                                      "PORTS", "EXIT", "FAULTS" };
  enum { NCOLS = 8 };
  const size_t NCOL = faults ? NCOLS : NCOLS - 1;
  size_t rows = 0, w[NCOLS];
  char **cells = xcalloc ((st->ncontainers + 1) * NCOL, sizeof *cells);

  for (size_t k = 0; k < NCOL; k++)
    cells[k] = xstrdup (head[k]);
  rows = 1;
  for (size_t i = 0; i < st->ncontainers; i++)
    {
      const struct state_container *c = &st->containers[i];
      if (!selected (c, sel))
        continue;
      char **r = &cells[rows * NCOL];
      r[0] = xstrdup (c->service);
      r[1] = xstrdup (c->name);
      r[2] = xstrdup (c->state);
      r[3] = xstrdup (c->health ? c->health : "-");
      r[4] = ready_text (c);
      r[5] = ports_text (c);
      if (!*r[5])
        {
          free (r[5]);
          r[5] = xstrdup ("-");
        }
      r[6] = has_exit_code (c) ? xasprintf ("%d", c->exit_code) : xstrdup ("-");
      if (faults)
        r[7] = faults_text (faults, c);
      rows++;
    }
  for (size_t k = 0; k < NCOL; k++)
    {
      w[k] = 0;
      for (size_t r = 0; r < rows; r++)
        if (strlen (cells[r * NCOL + k]) > w[k])
          w[k] = strlen (cells[r * NCOL + k]);
    }
  for (size_t r = 0; r < rows; r++)
    {
      for (size_t k = 0; k < NCOL; k++)
        if (k + 1 < NCOL)
          printf ("%-*s  ", (int) w[k], cells[r * NCOL + k]);
        else
          printf ("%s\n", cells[r * NCOL + k]);
    }
  for (size_t i = 0; i < rows * NCOL; i++)
    free (cells[i]);
  free (cells);
}

static int ps_run (struct itm_ctx *ctx, int argc, char **argv, bool json, bool quiet,
                   bool names, struct ps_sel *sel, struct itm_err *err);

static int
ps_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false, quiet = false, names = false;
  struct ps_sel sel = { 0 };
  const char *arg;
  int opt;

  while ((opt = cmd_getopt (&cmd_ps, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_JSON:
        json = true;
        break;
      case 'q':
        quiet = true;
        break;
      case OPT_SERVICES:
        names = true;
        break;
      case OPT_STATUS:
        if (add_state (&sel, "--status", arg, err) < 0)
          goto fail;
        break;
      case OPT_FILTER:
        if (strncmp (arg, "status=", 7) != 0)
          {
            itm_err_set (err, ITM_EXIT_USAGE, "ps: --filter: '%s' is not status=STATUS", arg);
            goto fail;
          }
        if (add_state (&sel, "--filter", arg + 7, err) < 0)
          goto fail;
        break;
      default: /* -a: ps always lists every container */
        break;
      }
  if (opt < 0)
    goto fail;
  int ret = ps_run (ctx, argc, argv, json, quiet, names, &sel, err);
  free (sel.states);
  return ret;
fail:
  free (sel.states);
  return -1;
}

static int
ps_run (struct itm_ctx *ctx, int argc, char **argv, bool json, bool quiet, bool names,
        struct ps_sel *sel, struct itm_err *err)
{
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);
  sel->services = services;
  sel->nservices = nservices;

  ctx->read_side = true;
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, false, &st, err) < 0)
    return -1;
  state_ready_attach (st);
  for (size_t i = 0; i < nservices; i++)
    {
      size_t n;
      if (state_service (st, services[i], &n) == NULL)
        return state_no_service (st, services[i], err);
    }

  if (st->ncontainers == 0)
    fprintf (stderr, "itm-env: namespace '%s' has no containers\n", ns);
  if (quiet || names)
    {
      /* -q: ids; --services: the service names, each once (sorted, as
       * the containers are) */
      const char *last = NULL;
      for (size_t i = 0; i < st->ncontainers; i++)
        {
          const struct state_container *c = &st->containers[i];
          if (!selected (c, sel))
            continue;
          if (quiet)
            printf ("%s\n", c->id);
          else if (last == NULL || strcmp (last, c->service) != 0)
            printf ("%s\n", c->service);
          last = c->service;
        }
    }
  else if (json)
    {
      cleanup_json json_object *faults = prov_proxy_faults (st);
      json_object *a = json_object_new_array ();
      for (size_t i = 0; i < st->ncontainers; i++)
        if (selected (&st->containers[i], sel))
          json_object_array_add (a, container_json (&st->containers[i], faults));
      print_json (a);
      json_object_put (a);
    }
  else
    {
      cleanup_json json_object *faults = prov_proxy_faults (st);
      for (size_t i = 0; i < st->ncontainers && faults == NULL; i++)
        if (partitioned (&st->containers[i]))
          faults = json_object_new_object ();
      print_table (st, sel, faults);
    }
  return 0;
}

static const struct itm_opt ps_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "a JSON array of objects instead of the table" },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "only the container ids" },
  { OPT_SERVICES, 0, "services", OPT_ARG_NONE, NULL, "only the service names" },
  { OPT_STATUS, 0, "status", OPT_ARG_REQUIRED, "STATUS",
    "only containers in this state (repeatable: any of them)", .repeat = true },
  { OPT_FILTER, 0, "filter", OPT_ARG_REQUIRED, "status=STATUS", "the same as --status" ,
    .repeat = true },
  { 'a', 'a', "all", OPT_ARG_NONE, NULL, "accepted for Compose: ps lists stopped containers too" },
  { 0 },
};

const struct itm_cmd cmd_ps = {
  .name = "ps",
  .args = "[SERVICE...]",
  .summary = "list the namespace's containers",
  .opts = ps_opts,
  .fn = ps_main,
};
