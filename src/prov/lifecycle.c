/* lifecycle.c - stop, start, restart, pause, unpause, kill and rm on a
 * namespace's containers, with Compose's meaning: from the engine's labels
 * alone, in dependency order (the io.itm-env.depends-on label: starting
 * goes dependencies first, stopping dependents first), the containers of
 * one level in parallel; start and restart gate each level's readiness
 * with prov_wait (up's gates) before the next level starts. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "out/out.h"
#include "prov/prov.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* How deep a chain of dependencies is followed (labels are data: a cycle
 * or an absurd depth ends here instead of recursing on). */
#define LEVEL_MAX 64

struct lc_ctr {
  const char *id, *name, *service, *state, *deps; /* borrowed from the list */
  int level;
  bool selected;
};

struct lc_job {
  const struct prov_life_opts *o;
  struct lc_ctr **c;            /* this level's containers to act on */
  const char **label;           /* their event names */
};

static const char *const life_names[] = {
  [PROV_LIFE_STOP] = "stop",       [PROV_LIFE_START] = "start",
  [PROV_LIFE_RESTART] = "restart", [PROV_LIFE_PAUSE] = "pause",
  [PROV_LIFE_UNPAUSE] = "unpause", [PROV_LIFE_KILL] = "kill",
  [PROV_LIFE_RM] = "rm",
};
static const char *const life_done[] = {
  [PROV_LIFE_STOP] = "stopped",       [PROV_LIFE_START] = "started",
  [PROV_LIFE_RESTART] = "restarted",  [PROV_LIFE_PAUSE] = "paused",
  [PROV_LIFE_UNPAUSE] = "unpaused",   [PROV_LIFE_KILL] = "killed",
  [PROV_LIFE_RM] = "removed",
};

const char *
prov_life_name (enum prov_life op)
{
  return life_names[op];
}

static bool
state_is (const struct lc_ctr *c, const char *s)
{
  return c->state && strcmp (c->state, s) == 0;
}

/* Whether op acts on a container in c's state (Compose's choices: stop
 * and kill what runs, start what does not, rm what is stopped). */
static bool
applies (const struct prov_life_opts *o, const struct lc_ctr *c)
{
  bool up = state_is (c, "running") || state_is (c, "paused") || state_is (c, "restarting");
  switch (o->op)
    {
    case PROV_LIFE_STOP:
      return up;
    case PROV_LIFE_START:
      return state_is (c, "created") || state_is (c, "exited");
    case PROV_LIFE_RESTART:
      return !state_is (c, "dead") && !state_is (c, "removing");
    case PROV_LIFE_PAUSE:
      return state_is (c, "running");
    case PROV_LIFE_UNPAUSE:
      return state_is (c, "paused");
    case PROV_LIFE_KILL:
      return state_is (c, "running") || state_is (c, "restarting");
    case PROV_LIFE_RM:
      return !up || o->stop_first;
    }
  return false;
}

/* The level of service svc: 0 without dependencies in the namespace, else
 * one more than its deepest dependency's. */
static int
level_of (struct lc_ctr *cs, size_t n, const char *svc, int depth)
{
  const char *deps = NULL;
  for (size_t i = 0; i < n && deps == NULL; i++)
    if (strcmp (cs[i].service, svc) == 0)
      deps = cs[i].deps ? cs[i].deps : "";
  if (deps == NULL || *deps == '\0' || depth >= LEVEL_MAX)
    return 0;
  int lvl = 0;
  cleanup_free char *copy = xstrdup (deps);
  char *save = NULL;
  for (char *d = strtok_r (copy, ",", &save); d; d = strtok_r (NULL, ",", &save))
    {
      if (strcmp (d, svc) == 0)
        continue;
      bool present = false;
      for (size_t i = 0; i < n && !present; i++)
        present = strcmp (cs[i].service, d) == 0;
      if (!present)
        continue;
      int l = level_of (cs, n, d, depth + 1) + 1;
      if (l > lvl)
        lvl = l;
    }
  return lvl;
}

static int
post_op (struct engine *e, const struct prov_life_opts *o, enum prov_life op, const char *id,
         struct itm_err *err)
{
  cleanup_free char *path = NULL;
  long timeout_ms = 0;
  switch (op)
    {
    case PROV_LIFE_STOP:
    case PROV_LIFE_RESTART:
      if (o->grace_s >= 0)
        path = xasprintf ("/containers/%s/%s?t=%d", id, life_names[op], o->grace_s);
      else
        path = xasprintf ("/containers/%s/%s", id, life_names[op]);
      /* the engine answers after the grace period (the container's own
       * when not given: no limit of ours then) */
      timeout_ms = o->grace_s >= 0 ? (o->grace_s + 60) * 1000L : -1;
      break;
    case PROV_LIFE_KILL:
      {
        cleanup_free char *sig = engine_urlencode (o->signal ? o->signal : "SIGKILL");
        path = xasprintf ("/containers/%s/kill?signal=%s", id, sig);
      }
      break;
    case PROV_LIFE_RM:
      path = xasprintf ("/containers/%s?v=%d", id, o->volumes ? 1 : 0);
      break;
    default:
      path = xasprintf ("/containers/%s/%s", id, life_names[op]);
      break;
    }
  struct engine_call call = {
    .method = op == PROV_LIFE_RM ? "DELETE" : "POST", .path = path, .timeout_ms = timeout_ms,
  };
  return engine_call (e, &call, NULL, err) < 0 ? -1 : 0;
}

static int
life_job (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  struct lc_job *j = ctx;
  const struct lc_ctr *c = j->c[i];
  int64_t t0 = mono_ns ();
  /* rm -s: what runs is stopped first */
  if (j->o->op == PROV_LIFE_RM && !state_is (c, "created") && !state_is (c, "exited")
      && !state_is (c, "dead") && post_op (e, j->o, PROV_LIFE_STOP, c->id, err) < 0)
    return itm_err_prefix (err, "stop %s", c->name);
  if (post_op (e, j->o, j->o->op, c->id, err) < 0)
    {
      /* gone meanwhile: nothing left to do to it */
      if (err->http_status == 404)
        {
          itm_err_clear (err);
          return 0;
        }
      return itm_err_prefix (err, "%s %s", life_names[j->o->op], c->name);
    }
  out_event (j->label[i], life_done[j->o->op], mono_ns () - t0, c->name);
  return 0;
}

/* "no service 'x' in namespace 'ns'", with the services there are. */
static int
no_service (const struct lc_ctr *cs, size_t n, const char *ns, const char *svc,
            struct itm_err *err)
{
  itm_err_set (err, ITM_EXIT_NOT_FOUND, "no service '%s' in namespace '%s'", svc, ns);
  struct buf b = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      bool seen = false;
      for (size_t k = 0; k < i && !seen; k++)
        seen = strcmp (cs[k].service, cs[i].service) == 0;
      if (!seen)
        buf_addf (&b, "%s%s", b.len ? ", " : "", cs[i].service);
    }
  itm_err_hint (err, "its services: %s", b.data ? b.data : "none");
  buf_free (&b);
  return -1;
}

static int
cmp_ctr (const void *a, const void *b)
{
  const struct lc_ctr *x = a, *y = b;
  int c = strcmp (x->service, y->service);
  return c ? c : strcmp (x->name, y->name);
}

/* Gate the services of level lvl that were selected (up's gates). */
static int
gate_level (struct engine *e, const struct prov_life_opts *o, struct lc_ctr *cs, size_t n,
            int lvl, struct itm_err *err)
{
  const char **svcs = xcalloc (n + 1, sizeof *svcs);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (cs[i].selected && cs[i].level == lvl && (k == 0 || strcmp (svcs[k - 1], cs[i].service)))
      svcs[k++] = cs[i].service;
  int ret = 0;
  if (k)
    {
      struct prov_opts po = { .ns = o->ns, .timeout_ns = o->timeout_ns,
                              .timeout_opt = "--wait-timeout", .services = svcs,
                              .nservices = k };
      ret = prov_wait (e, o->stack, &po, err);
    }
  free (svcs);
  return ret;
}

int
prov_lifecycle (struct engine *e, const struct prov_life_opts *o, struct itm_err *err)
{
  cleanup_json json_object *list = NULL;
  if (state_list_ours (e, "containers", o->ns, &list, err) < 0)
    return -1;
  size_t n = 0, total = json_object_array_length (list);
  struct lc_ctr *cs = xcalloc (total + 1, sizeof *cs);
  for (size_t i = 0; i < total; i++)
    {
      json_object *c = json_object_array_get_idx (list, i);
      const char *svc = json_label (c, ITM_LABEL_SERVICE);
      json_object *names = json_path (c, "Names");
      const char *nm = names ? json_object_get_string (json_object_array_get_idx (names, 0))
                             : NULL;
      if (svc == NULL || json_str (c, "Id") == NULL)
        continue;
      cs[n++] = (struct lc_ctr){
        .id = json_str (c, "Id"), .name = nm ? nm + (nm[0] == '/') : json_str (c, "Id"),
        .service = svc, .state = json_str (c, "State"),
        .deps = json_label (c, ITM_LABEL_DEPENDS_ON),
      };
    }
  qsort (cs, n, sizeof *cs, cmp_ctr);
  int ret = -1;
  if (n == 0)
    {
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "namespace '%s' has no containers", o->ns);
      itm_err_hint (err, "is it up? ('itm-env up -p %s')", o->ns);
      goto out;
    }
  for (size_t k = 0; k < o->nservices; k++)
    {
      bool found = false;
      for (size_t i = 0; i < n && !found; i++)
        found = strcmp (cs[i].service, o->services[k]) == 0;
      if (!found)
        {
          no_service (cs, n, o->ns, o->services[k], err);
          goto out;
        }
    }
  int maxlvl = 0;
  for (size_t i = 0; i < n; i++)
    {
      bool sel = o->nservices == 0;
      for (size_t k = 0; k < o->nservices && !sel; k++)
        sel = strcmp (cs[i].service, o->services[k]) == 0;
      cs[i].selected = sel;
      cs[i].level = level_of (cs, n, cs[i].service, 0);
      if (cs[i].level > maxlvl)
        maxlvl = cs[i].level;
    }

  bool up_order = o->op == PROV_LIFE_START || o->op == PROV_LIFE_RESTART
                  || o->op == PROV_LIFE_UNPAUSE;
  bool gate = o->op == PROV_LIFE_START || o->op == PROV_LIFE_RESTART;
  int64_t t0 = mono_ns ();
  size_t acted = 0;
  struct lc_job j = { .o = o, .c = xcalloc (n + 1, sizeof *j.c),
                      .label = xcalloc (n + 1, sizeof *j.label) };
  char **labels = xcalloc (n + 1, sizeof *labels);
  ret = 0;
  for (int step = 0; step <= maxlvl && ret == 0; step++)
    {
      int lvl = up_order ? step : maxlvl - step;
      size_t m = 0;
      for (size_t i = 0; i < n; i++)
        if (cs[i].selected && cs[i].level == lvl && applies (o, &cs[i]))
          {
            size_t same = 0;
            for (size_t k = 0; k < n; k++)
              same += strcmp (cs[k].service, cs[i].service) == 0;
            free (labels[i]);
            labels[i] = same > 1 ? xstrdup (cs[i].name) : xstrdup (cs[i].service);
            j.c[m] = &cs[i];
            j.label[m++] = labels[i];
          }
      if (m)
        {
          struct itm_err *errs = xcalloc (m, sizeof *errs);
          struct itm_err perr = { 0 };
          if (engine_parallel (e, m, 8, life_job, &j, errs, &perr) < 0)
            {
              ret = -1;
              for (size_t i = 0; i < m; i++)
                if (itm_err_isset (&errs[i]))
                  {
                    if (!itm_err_isset (err))
                      itm_err_move (err, &errs[i]);
                    else
                      out_warn ("%s", errs[i].msg);
                  }
              if (!itm_err_isset (err))
                itm_err_move (err, &perr);
            }
          for (size_t i = 0; i < m; i++)
            itm_err_clear (&errs[i]);
          itm_err_clear (&perr);
          free (errs);
          acted += m;
        }
      /* dependents start once their dependencies are ready again */
      if (ret == 0 && gate)
        ret = gate_level (e, o, cs, n, lvl, err);
    }
  if (ret == 0 && !gate && acted)
    {
      cleanup_free char *d = xasprintf ("%zu container%s", acted, acted == 1 ? "" : "s");
      out_event (NULL, life_done[o->op], mono_ns () - t0, d);
    }
  for (size_t i = 0; i < n; i++)
    free (labels[i]);
  free (labels);
  free (j.c);
  free (j.label);
out:
  out_finish ();
  free (cs);
  return ret;
}
