/* down.c - a namespace removed from its labels alone: containers (killed
 * when the volumes go too, stopped with a grace otherwise, in reverse
 * dependency order), then networks, then volumes; each group in parallel. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/data.h"
#include "engine/engine.h"
#include "engine/self.h"
#include "image/image.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "out/out.h"
#include "util/clock.h"

struct rm_job {
  const char *const *names;
  const char *kind;             /* "container", "network", "volume" */
  bool kill;
  int grace_s;
};

/* Disconnect every container attached to the network (inspect path ip,
 * disconnect path dp), saying so; their names into *names, the network's
 * name into *netname (once).  How many were disconnected. */
static size_t
disconnect_all (struct engine *e, const char *id, const char *ip, const char *dp,
                char **netname, struct buf *names)
{
  cleanup_json json_object *insp = NULL;
  cleanup_err struct itm_err ierr = { 0 };
  json_object *cs = NULL, *nm = NULL;
  size_t n = 0;
  if (engine_get (e, ip, &insp, &ierr) < 0)
    return 0;
  if (*netname == NULL && json_object_object_get_ex (insp, "Name", &nm))
    *netname = xstrdup (json_object_get_string (nm));
  if (!json_object_object_get_ex (insp, "Containers", &cs)
      || !json_object_is_type (cs, json_type_object))
    return 0;
  json_object_object_foreach (cs, cid, ep)
  {
    json_object *cn = NULL;
    const char *cname = json_object_object_get_ex (ep, "Name", &cn) ? json_object_get_string (cn)
                                                                    : cid;
    buf_addf (names, "%s%s", names->len ? ", " : "", cname);
    cleanup_json json_object *body = json_object_new_object ();
    json_object_object_add (body, "Container", json_object_new_string (cid));
    json_object_object_add (body, "Force", json_object_new_boolean (1));
    cleanup_err struct itm_err derr = { 0 };
    if (engine_post (e, dp, body, NULL, &derr) == 0)
      {
        n++;
        out_warn ("network %s: disconnected container %s (still attached while down removes "
                  "the network)", *netname ? *netname : id, cname);
      }
  }
  return n;
}

/* A network the engine says "has active endpoints": it may still be
 * releasing the endpoint of a container just removed, or a container that
 * is not ours sits on it (a stray).  Disconnect whatever is attached
 * (saying so), retry with backoff (0.1 s doubling to 3.2 s, 8 tries, about
 * 13 s), and report the outcome: removed, or an error naming what is still
 * attached.  Returns like engine_delete. */
static int
busy_network (struct engine *e, const char *id, const char *path, struct itm_err *err)
{
  cleanup_free char *enc = engine_urlencode (id);
  cleanup_free char *ip = xasprintf ("/networks/%s", enc);
  cleanup_free char *dp = xasprintf ("/networks/%s/disconnect", enc);
  cleanup_buf struct buf names = { 0 };
  cleanup_free char *netname = NULL;
  size_t disconnected = 0;
  long delay_ms = 100;
  int rc = -1, tries;
  for (tries = 0; tries < 8 && rc < 0 && err->engine_msg
                  && strstr (err->engine_msg, "active endpoints");
       tries++)
    {
      buf_reset (&names);
      disconnected += disconnect_all (e, id, ip, dp, &netname, &names);
      struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
      nanosleep (&ts, NULL);
      if (delay_ms < 3200)
        delay_ms *= 2;
      itm_err_clear (err);
      rc = engine_delete (e, path, err);
    }
  if (rc == 0 && disconnected)
    out_note ("itm-env: network %s removed after disconnecting %zu container%s",
              netname ? netname : id, disconnected, disconnected == 1 ? "" : "s");
  else if (rc < 0 && err->code != ITM_EXIT_NOT_FOUND && netname && names.len == 0
           && err->engine_msg && strstr (err->engine_msg, "active endpoints"))
    /* the engine's endpoint count is stale: nothing is attached, nothing
     * but a daemon restart removes the network (bench/teardown-bench.sh) */
    itm_err_prefix (err, "network %s still has active endpoints after %d tries with no "
                    "container attached: " PROV_MOBY_42119, netname, tries);
  else if (rc < 0 && err->code != ITM_EXIT_NOT_FOUND)
    itm_err_prefix (err, "network %s still has active endpoints after %d tries%s%s%s",
                    netname ? netname : id, tries, names.len ? " (attached: " : "",
                    names.len ? names.data : "", names.len ? ")" : "");
  return rc;
}

/* Someone else (a watchdog, a concurrent down) is already removing the
 * container: wait for that removal to finish with the engine's own wait
 * (one request, no polling); gone is what we wanted.  Returns like
 * engine_delete. */
static int
await_removal (struct engine *e, const char *enc, struct itm_err *err)
{
  itm_err_clear (err);
  cleanup_free char *wp = xasprintf ("/containers/%s/wait?condition=removed", enc);
  struct engine_call c = { .method = "POST", .path = wp, .timeout_ms = 30000 };
  if (engine_call (e, &c, NULL, err) < 0)
    {
      if (err->code != ITM_EXIT_NOT_FOUND)
        return itm_err_prefix (err, "waiting for a removal already in progress");
      itm_err_clear (err);
    }
  return 0;
}

static int
rm_one (struct engine *e, size_t i, void *ctx, struct itm_err *err)
{
  struct rm_job *j = ctx;
  const char *id = j->names[i];
  cleanup_free char *enc = engine_urlencode (id);
  cleanup_free char *p = NULL;
  if (strcmp (j->kind, "stop") == 0)
    {
      /* the first of a quick teardown's two phases: stopped at once
       * (t=0: SIGKILL right away, and the engine's restart policy knows it
       * was stopped on purpose); one that is not running or gone is fine */
      cleanup_free char *sp = xasprintf ("/containers/%s/stop?t=0", enc);
      struct engine_call c = { .method = "POST", .path = sp, .timeout_ms = -1 };
      if (engine_call (e, &c, NULL, err) < 0 && err->code != ITM_EXIT_NOT_FOUND
          && err->http_status != 304 && err->http_status != 409)
        return itm_err_prefix (err, "stopping container %s", id);
      itm_err_clear (err);
      return 0;
    }
  if (strcmp (j->kind, "container") == 0)
    {
      if (!j->kill)
        {
          cleanup_free char *sp = j->grace_s >= 0
                                    ? xasprintf ("/containers/%s/stop?t=%d", enc, j->grace_s)
                                    : xasprintf ("/containers/%s/stop", enc);
          struct engine_call c = { .method = "POST", .path = sp, .timeout_ms = -1 };
          if (engine_call (e, &c, NULL, err) < 0 && err->code != ITM_EXIT_NOT_FOUND)
            return itm_err_prefix (err, "stopping container %s", id);
          itm_err_clear (err);
        }
      p = xasprintf ("/containers/%s?force=1&v=1", enc);
    }
  else if (strcmp (j->kind, "network") == 0)
    p = xasprintf ("/networks/%s", enc);
  else if (strcmp (j->kind, "image") == 0)
    p = xasprintf ("/images/%s", enc);   /* by name: only our tag when it has others */
  else
    p = xasprintf ("/volumes/%s", enc);
  int rc = engine_delete (e, p, err);
  if (rc < 0 && strcmp (j->kind, "container") == 0 && err->http_status == 409 && err->engine_msg
      && strstr (err->engine_msg, "already in progress"))
    rc = await_removal (e, enc, err);
  if (rc < 0 && strcmp (j->kind, "network") == 0 && err->engine_msg
      && strstr (err->engine_msg, "active endpoints"))
    rc = busy_network (e, id, p, err);
  if (rc < 0 && err->code != ITM_EXIT_NOT_FOUND)
    report_resource (report_current (), j->kind, id, REPORT_RES_LEFT, err->msg);
  else
    report_resource (report_current (), j->kind, id, REPORT_RES_REMOVED, NULL);
  if (rc < 0)
    {
      if (err->code == ITM_EXIT_NOT_FOUND)
        {
          itm_err_clear (err);
          return 0;
        }
      return itm_err_prefix (err, "removing %s %s", j->kind, id);
    }
  return 0;
}

static int
rm_group (struct engine *e, const char *kind, const char *const *names, size_t n, bool kill,
          int grace_s, struct itm_err *err)
{
  if (n == 0)
    return 0;
  struct rm_job j = { .names = names, .kind = kind, .kill = kill, .grace_s = grace_s };
  struct itm_err *errs = xcalloc (n, sizeof *errs);
  cleanup_err struct itm_err perr = { 0 };
  int ret = engine_parallel (e, n, 8, rm_one, &j, errs, &perr);
  for (size_t i = 0; i < n; i++)
    if (itm_err_isset (&errs[i]))
      {
        out_warn ("%s", errs[i].msg);
        if (!itm_err_isset (err))
          itm_err_move (err, &errs[i]);
        itm_err_clear (&errs[i]);
      }
  free (errs);
  return ret;
}

int
prov_remove (struct engine *e, const char *const *containers, size_t nc,
             const char *const *networks, size_t nn, const char *const *volumes, size_t nv,
             bool kill, int grace_s, struct itm_err *err)
{
  int ret = 0;
  /* kill: every container stopped first, then all removed.  Force-removing
   * running containers in parallel and then the network at once provokes
   * moby#42119 (a network the engine keeps with phantom endpoints until it
   * restarts): 2 of 12 rounds of 50 containers, against 0 of 11 with the
   * containers stopped first (bench/teardown-bench.sh) */
  if (kill && rm_group (e, "stop", containers, nc, kill, grace_s, err) < 0)
    ret = -1;
  if (rm_group (e, "container", containers, nc, kill, grace_s, err) < 0)
    ret = -1;
  /* itm-env's own container leaves the networks it joined (up's
   * join_networks) first: every path that removes them comes here */
  for (size_t i = 0; i < nn && self_probe (e)->on_engine; i++)
    self_leave (e, networks[i]);
  if (rm_group (e, "network", networks, nn, kill, grace_s, err) < 0)
    ret = -1;
  if (rm_group (e, "volume", volumes, nv, kill, grace_s, err) < 0)
    ret = -1;
  return ret;
}

/* The namespace's resources of one kind (state_list_ours). */
static json_object *
list (struct engine *e, const char *kind, const char *ns, struct itm_err *err)
{
  json_object *res = NULL;
  if (state_list_ours (e, kind, ns, &res, err) < 0)
    return NULL;
  return res;
}

/* Graceful order: a container stops after every container that depends on
 * it (io.itm-env.depends-on); its level is 1 + the highest level of its
 * dependents. */
static int
level_of (json_object *cs, size_t i, int *lv, int depth)
{
  if (lv[i] >= 0)
    return lv[i];
  if (depth > 64)
    return 0;
  const char *svc = json_label (json_object_array_get_idx (cs, i), ITM_LABEL_SERVICE);
  int best = 0;
  for (size_t k = 0; svc && k < json_object_array_length (cs); k++)
    {
      const char *deps = json_label (json_object_array_get_idx (cs, k), ITM_LABEL_DEPENDS_ON);
      if (k == i || deps == NULL)
        continue;
      cleanup_free char *d = xstrdup (deps);
      char *save = NULL;
      for (char *t = strtok_r (d, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (strcmp (t, svc) == 0)
          {
            int l = 1 + level_of (cs, k, lv, depth + 1);
            if (l > best)
              best = l;
          }
    }
  return lv[i] = best;
}

int
prov_rmi_parse (const char *cmd, const char *s, enum prov_rmi *out, struct itm_err *err)
{
  if (strcmp (s, "local") == 0)
    *out = PROV_RMI_LOCAL;
  else if (strcmp (s, "all") == 0)
    *out = PROV_RMI_ALL;
  else if (strcmp (s, "none") == 0)
    *out = PROV_RMI_NONE;
  else
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: --rmi: expected local or all, got '%s'", cmd,
                        s);
  return 0;
}

const char *
prov_rmi_name (enum prov_rmi r)
{
  return r == PROV_RMI_ALL ? "all" : r == PROV_RMI_LOCAL ? "local" : "none";
}

static void
strv_add_unique (char ***v, size_t *n, const char *s)
{
  if (s == NULL || *s == '\0')
    return;
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*v)[i], s) == 0)
      return;
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

char **
prov_rmi_images (struct engine *e, const struct prov_down_opts *o, size_t *n,
                 struct itm_err *err)
{
  char **v = xcalloc (1, sizeof *v);
  *n = 0;
  if (o->rmi == PROV_RMI_NONE)
    return v;
  json_object *cs = list (e, "containers", o->ns, err);
  if (cs == NULL)
    {
      free (v);
      return NULL;
    }
  for (size_t i = 0; i < json_object_array_length (cs); i++)
    {
      json_object *c = json_object_array_get_idx (cs, i);
      const char *built = json_label (c, ITM_LABEL_IMAGE_BUILT);
      if (o->rmi == PROV_RMI_ALL || (built && strcmp (built, "local") == 0))
        strv_add_unique (&v, n, json_key_str (c, "Image"));
    }
  json_object_put (cs);
  for (size_t i = 0; o->stack && i < o->stack->nservices; i++)
    {
      const struct stack_service *svc = &o->stack->services[i];
      if (o->rmi == PROV_RMI_ALL || (svc->build.set && svc->image == NULL))
        {
          cleanup_free char *ref = image_service_ref (svc, o->ns);
          strv_add_unique (&v, n, ref);
        }
    }
  return v;
}

/* The report (src/report/): what the namespace holds, by name (removals
 * are reported by id in rm_one), and with --logs-dir each container's logs
 * in DIR/SERVICE.log before it goes. */
static void
report_down (struct engine *e, const struct prov_down_opts *o, json_object *cs,
             json_object *nets, json_object *vols)
{
  struct report *rep = report_current ();
  if (rep == NULL)
    return;
  report_namespace (rep, o->ns);
  prov_report_engine (rep, e);
  const char *dir = report_logs_dir (rep);
  for (size_t i = 0; i < json_object_array_length (cs); i++)
    {
      json_object *c = json_object_array_get_idx (cs, i), *id = NULL, *names = NULL;
      json_object_object_get_ex (c, "Id", &id);
      json_object_object_get_ex (c, "Names", &names);
      const char *name = names ? json_object_get_string (json_object_array_get_idx (names, 0))
                                : NULL;
      if (id == NULL || name == NULL)
        continue;
      name += name[0] == '/';
      report_resource_id (rep, "container", json_object_get_string (id), name);
      report_resource (rep, "container", name, REPORT_RES_CREATED, NULL);
      const char *svc = json_label (c, ITM_LABEL_SERVICE);
      if (dir)
        {
          /* a service with replicas: one file per replica, <service>-<n> */
          const char *num = json_label (c, ITM_LABEL_NUMBER);
          size_t same = 0;
          for (size_t k = 0; svc && k < json_object_array_length (cs); k++)
            {
              const char *os = json_label (json_object_array_get_idx (cs, k), ITM_LABEL_SERVICE);
              same += os && strcmp (os, svc) == 0;
            }
          cleanup_free char *key = svc && same > 1 ? xasprintf ("%s-%s", svc, num ? num : "1")
                                                   : xstrdup (svc ? svc : name);
          cleanup_err struct itm_err err = { 0 };
          cleanup_free char *path = xasprintf ("%s/%s.log", dir, key);
          if (prov_save_logs (e, json_object_get_string (id), path, &err) < 0)
            out_warn ("--logs-dir: %s", err.msg);
          else
            report_logs_file (rep, key, path);
        }
    }
  for (size_t i = 0; i < json_object_array_length (nets); i++)
    {
      json_object *n = json_object_array_get_idx (nets, i), *id = NULL, *name = NULL;
      json_object_object_get_ex (n, "Id", &id);
      json_object_object_get_ex (n, "Name", &name);
      if (id == NULL || name == NULL)
        continue;
      report_resource_id (rep, "network", json_object_get_string (id),
                          json_object_get_string (name));
      report_resource (rep, "network", json_object_get_string (name), REPORT_RES_CREATED, NULL);
    }
  for (size_t i = 0; i < json_object_array_length (vols); i++)
    {
      json_object *name = NULL;
      json_object_object_get_ex (json_object_array_get_idx (vols, i), "Name", &name);
      if (name)
        report_resource (rep, "volume", json_object_get_string (name),
                         REPORT_RES_CREATED,
                         o->keep_volumes ? "kept (--keep-volumes)" : NULL);
    }
}

/* The first n entries' key ("Id", "Name") of an engine list, borrowed
 * from it; a new array. */
static const char **
ids_of (json_object *list, const char *key, size_t n)
{
  const char **v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      json_object *id = NULL;
      json_object_object_get_ex (json_object_array_get_idx (list, i), key, &id);
      v[i] = json_object_get_string (id);
    }
  return v;
}

/* Graceful: stop and remove the containers level by level, dependents
 * first. */
static int
stop_by_level (struct engine *e, json_object *cs, const char *const *cids, size_t nc,
               int grace_s, struct itm_err *err)
{
  int ret = 0;
  int *lv = xcalloc (nc, sizeof *lv);
  int maxl = 0;
  for (size_t i = 0; i < nc; i++)
    lv[i] = -1;
  for (size_t i = 0; i < nc; i++)
    if (level_of (cs, i, lv, 0) > maxl)
      maxl = lv[i];
  const char **grp = xcalloc (nc + 1, sizeof *grp);
  for (int l = 0; l <= maxl; l++)
    {
      size_t g = 0;
      for (size_t i = 0; i < nc; i++)
        if (lv[i] == l)
          grp[g++] = cids[i];
      if (rm_group (e, "container", grp, g, false, grace_s, err) < 0)
        ret = -1;
    }
  free (grp);
  free (lv);
  return ret;
}

/* The images --rmi removes: o->images, or found now (*found, freed by
 * the caller) before their containers go; *ni of them. */
static const char *const *
rmi_targets (struct engine *e, const struct prov_down_opts *o, char ***found, size_t *ni)
{
  *ni = o->nimages;
  if (o->rmi == PROV_RMI_NONE || o->images)
    return o->images;
  cleanup_err struct itm_err ierr = { 0 };
  *found = prov_rmi_images (e, o, ni, &ierr);
  if (*found == NULL)
    out_warn ("--rmi: %s", ierr.msg);
  return (const char *const *) *found;
}

int
prov_down (struct engine *e, const struct prov_down_opts *o, struct itm_err *err)
{
  int64_t t0 = mono_ns ();
  /* data namespaces first, while their containers still run (warns, goes on) */
  cleanup_err struct itm_err derr = { 0 };
  data_ns_drop_all (e, o->ns, &derr);
  cleanup_json json_object *cs = list (e, "containers", o->ns, err);
  if (cs == NULL)
    return -1;
  cleanup_json json_object *ns_ = list (e, "networks", o->ns, err);
  cleanup_json json_object *vs = ns_ ? list (e, "volumes", o->ns, err) : NULL;
  if (vs == NULL)
    return -1;
  size_t nc = json_object_array_length (cs), nn = json_object_array_length (ns_);
  size_t nv = o->keep_volumes ? 0 : json_object_array_length (vs);
  const char **cids = ids_of (cs, "Id", nc);
  const char **nids = ids_of (ns_, "Id", nn);
  const char **vids = ids_of (vs, "Name", nv);
  report_down (e, o, cs, ns_, vs);
  cleanup_strv char **found = NULL;
  size_t ni = 0;
  const char *const *imgs = rmi_targets (e, o, &found, &ni);
  for (size_t i = 0; imgs && i < ni; i++)
    report_resource (report_current (), "image", imgs[i], REPORT_RES_CREATED, NULL);
  int ret = 0;
  if (nc + nn + json_object_array_length (vs) + ni == 0)
    out_note ("itm-env: namespace %s does not exist: nothing to remove", o->ns);
  else
    {
      if (o->keep_volumes && nc)
        {
          if (stop_by_level (e, cs, cids, nc, o->grace_s, err) < 0)
            ret = -1;
          if (prov_remove (e, NULL, 0, nids, nn, NULL, 0, false, 0, err) < 0)
            ret = -1;
        }
      else if (prov_remove (e, cids, nc, nids, nn, vids, nv, true, 0, err) < 0)
        ret = -1;
      /* images last: a container still using one keeps it (the engine
       * refuses; the verification names it) */
      if (imgs && ni && rm_group (e, "image", imgs, ni, false, 0, err) < 0)
        ret = -1;
      if (ret == 0)
        {
          const char *kept = o->keep_volumes && json_object_array_length (vs) ? " (volumes kept)"
                                                                              : "";
          char d[96];
          if (o->rmi != PROV_RMI_NONE)
            snprintf (d, sizeof d, "%zu container%s, %zu network%s, %zu volume%s%s, %zu image%s",
                      nc, nc == 1 ? "" : "s", nn, nn == 1 ? "" : "s", nv, nv == 1 ? "" : "s",
                      kept, ni, ni == 1 ? "" : "s");
          else
            snprintf (d, sizeof d, "%zu container%s, %zu network%s, %zu volume%s%s", nc,
                      nc == 1 ? "" : "s", nn, nn == 1 ? "" : "s", nv, nv == 1 ? "" : "s", kept);
          /* --json: the counts as numbers too */
          struct out_count counts[] = { { "containers", (long long) nc },
                                        { "networks", (long long) nn },
                                        { "volumes", (long long) nv },
                                        { "images", (long long) ni } };
          out_event_counts (NULL, "removed", mono_ns () - t0, d, counts,
                            o->rmi != PROV_RMI_NONE ? 4 : 3);
        }
    }
  free (cids);
  free (nids);
  free (vids);
  return ret;
}
