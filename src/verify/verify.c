/* verify.c - the teardown verifier around its pure checks (scan.c): the
 * view of the engine loaded (the engine's lists, the inspected networks,
 * with --rmi the images, the data namespaces, the snapshot), down run in
 * between for verify_down, --force acting on the verdict, and the strays
 * kept in the state dir. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "out/out.h"
#include "prov/prov.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "verify/priv.h"

/* Check 4's source: the data module's list of a namespace's data
 * namespaces (src/data/data.h).  Declared weak so the verifier links with
 * or without the data module; check 4 runs whenever the data module is in
 * the binary. */
extern int data_ns_list (const char *ns, json_object **out, struct itm_err *err)
  __attribute__ ((weak));

/* ---- the view of the engine ---- */

/* The namespace's networks get their "Containers" from inspecting them
 * (the list does not fill it); one gone meanwhile gets none. */
static int
view_inspect_networks (struct engine *e, const char *ns, json_object *networks,
                       struct itm_err *err)
{
  for (size_t i = 0; i < json_object_array_length (networks); i++)
    {
      json_object *n = json_object_array_get_idx (networks, i);
      if (!verify_ours (n, ns))
        continue;
      cleanup_free char *enc = engine_urlencode (json_key_str (n, "Id"));
      cleanup_free char *p = xasprintf ("/networks/%s", enc);
      cleanup_json json_object *insp = NULL;
      json_object_object_del (n, "Containers");
      if (engine_get (e, p, &insp, err) < 0)
        {
          if (err->code != ITM_EXIT_NOT_FOUND)
            return -1;
          itm_err_clear (err);
          continue;
        }
      json_object *attached = json_key (insp, "Containers");
      if (attached)
        json_object_object_add (n, "Containers", json_object_get (attached));
    }
  return 0;
}

/* Containers, networks (ns's inspected) and volumes. */
static int
view_load_engine (struct engine *e, const char *ns, struct verify_view *v, struct itm_err *err)
{
  cleanup_json json_object *vols = NULL;
  if (engine_get (e, "/containers/json?all=1", &v->containers, err) < 0
      || engine_get (e, "/networks", &v->networks, err) < 0
      || engine_get (e, "/volumes", &vols, err) < 0)
    return -1;
  json_object *vl = json_key (vols, "Volumes");
  v->volumes = vl && json_object_is_type (vl, json_type_array) ? json_object_get (vl)
                                                               : json_object_new_array ();
  if (!json_object_is_type (v->containers, json_type_array)
      || !json_object_is_type (v->networks, json_type_array))
    return itm_err_set (err, ITM_EXIT_ENGINE, "the engine's lists are not arrays");
  return view_inspect_networks (e, ns, v->networks, err);
}

/* With --rmi: each of o->images that exists, with the containers using it
 * (none listed when they cannot be asked). */
static int
view_load_images (struct engine *e, const struct verify_opts *o, struct verify_view *v,
                  struct itm_err *err)
{
  json_object_put (v->images);
  v->images = json_object_new_object ();
  for (size_t i = 0; i < o->nimages; i++)
    {
      cleanup_free char *enc = engine_urlencode (o->images[i]);
      cleanup_free char *p = xasprintf ("/images/%s/json", enc);
      cleanup_json json_object *img = NULL;
      if (engine_get (e, p, &img, err) < 0)
        {
          if (err->code != ITM_EXIT_NOT_FOUND)
            return -1;
          itm_err_clear (err);
          continue;
        }
      const char *vals[] = { o->images[i] };
      cleanup_free char *f = engine_filters ("ancestor", vals, 1);
      cleanup_free char *cp = xasprintf ("/containers/json?all=1&filters=%s", f);
      cleanup_err struct itm_err cerr = { 0 };
      json_object *users = NULL;
      if (engine_get (e, cp, &users, &cerr) < 0 || !json_object_is_type (users, json_type_array))
        {
          json_object_put (users);
          users = json_object_new_array ();
        }
      json_object_object_add (v->images, o->images[i], users);
    }
  return 0;
}

/* The data namespaces left (not checked, with a warning, when they cannot
 * be listed). */
static void
view_load_data (const char *ns, struct verify_view *v)
{
  if (data_ns_list == NULL)
    return;
  cleanup_err struct itm_err err = { 0 };
  json_object *l = NULL;
  if (data_ns_list (ns, &l, &err) < 0)
    {
      json_object_put (l);
      out_warn ("listing the data namespaces of %s: %s", ns, err.msg ? err.msg : "?");
      return;
    }
  v->data = l && json_object_is_type (l, json_type_array) ? l : json_object_new_array ();
  if (v->data != l)
    json_object_put (l);
}

static void
view_load_snapshot (const char *ns, struct verify_view *v)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, false, &err);
  cleanup_free char *path = dir ? xasprintf ("%s/snapshot.json", dir) : NULL;
  v->snapshot = path && access (path, R_OK) == 0 ? json_object_from_file (path) : NULL;
}

/* The whole view for verify_scan. */
static int
view_load (struct engine *e, const char *ns, const struct verify_opts *o, struct verify_view *v,
           struct itm_err *err)
{
  if (view_load_engine (e, ns, v, err) < 0 || (o->rmi && view_load_images (e, o, v, err) < 0))
    {
      verify_view_free (v);
      return -1;
    }
  view_load_data (ns, v);
  view_load_snapshot (ns, v);
  return 0;
}

/* The view loaded, then the checks. */
static int
scan (struct engine *e, struct verify_result *r, const struct verify_opts *o,
      struct itm_err *err)
{
  struct verify_view v = { 0 };
  if (view_load (e, r->ns, o, &v, err) < 0)
    return -1;
  verify_scan (&v, o, r);
  verify_view_free (&v);
  return 0;
}

/* ---- strays: kept in the state dir when down leaves them, so that a later
 * verify or down --force still knows them ---- */
static char *
strays_path (const char *ns, bool create)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, create, &err);
  return dir ? xasprintf ("%s/strays.json", dir) : NULL;
}

static void
strays_save (const struct verify_result *r)
{
  cleanup_free char *path = strays_path (r->ns, true);
  if (path == NULL)
    return;
  cleanup_json json_object *a = json_object_new_array ();
  for (size_t i = 0; i < r->left.n; i++)
    if (r->left.v[i].kind == VERIFY_CONTAINER && !r->left.v[i].removed
        && verify_list_has (&r->strays, VERIFY_CONTAINER, r->left.v[i].id))
      {
        json_object *o = json_object_new_object ();
        for (size_t k = 0; k < r->strays.n; k++)
          if (strcmp (r->strays.v[k].id, r->left.v[i].id) == 0)
            {
              json_object_object_add (o, "id", json_object_new_string (r->strays.v[k].id));
              json_object_object_add (o, "name", json_object_new_string (r->strays.v[k].name));
              json_object_object_add (o, "reason",
                                      json_object_new_string (r->strays.v[k].reason));
            }
        json_object_array_add (a, o);
      }
  if (json_object_array_length (a) > 0)
    json_object_to_file (path, a);
  else
    unlink (path);
}

static void
strays_load (struct verify_result *r)
{
  cleanup_free char *path = strays_path (r->ns, false);
  cleanup_json json_object *a = path && access (path, R_OK) == 0 ? json_object_from_file (path)
                                                                 : NULL;
  for (size_t i = 0; a && i < json_object_array_length (a); i++)
    {
      json_object *o = json_object_array_get_idx (a, i);
      if (json_key_str (o, "id"))
        verify_list_add (&r->strays, VERIFY_CONTAINER, json_key_str (o, "id"),
                         json_key_str (o, "name"), json_key_str (o, "reason"));
    }
}

/* ---- --force ---- */
/* Disconnect containers cs from networks nets (where attached), then
 * remove the containers (and their anonymous volumes). */
static void
remove_containers (struct engine *e, const char *const *cs, size_t nc, const char *const *nets,
                   size_t nn)
{
  for (size_t k = 0; k < nc; k++)
    for (size_t i = 0; i < nn; i++)
      {
        cleanup_free char *enc = engine_urlencode (nets[i]);
        cleanup_free char *p = xasprintf ("/networks/%s/disconnect", enc);
        cleanup_json json_object *body = json_object_new_object ();
        json_object_object_add (body, "Container", json_object_new_string (cs[k]));
        json_object_object_add (body, "Force", json_object_new_boolean (1));
        struct itm_err e2 = { 0 };
        engine_post (e, p, body, NULL, &e2);   /* not attached there: fine */
        itm_err_clear (&e2);
      }
  cleanup_err struct itm_err rerr = { 0 };
  prov_remove (e, cs, nc, NULL, 0, NULL, 0, true, 0, &rerr);
}

/* Remove every leftover in r->left (containers first, then networks, then
 * volumes; prov_remove warns about what fails). */
static void
force_remove (struct engine *e, const struct verify_result *r)
{
  size_t nc = 0, nn = 0, nv = 0;
  const char **cs = xcalloc (r->left.n + 1, sizeof *cs);
  const char **nets = xcalloc (r->left.n + 1, sizeof *nets);
  const char **vs = xcalloc (r->left.n + 1, sizeof *vs);
  for (size_t i = 0; i < r->left.n; i++)
    switch (r->left.v[i].kind)
      {
      case VERIFY_CONTAINER: cs[nc++] = r->left.v[i].id; break;
      case VERIFY_NETWORK: nets[nn++] = r->left.v[i].id; break;
      case VERIFY_VOLUME: vs[nv++] = r->left.v[i].id; break;
      case VERIFY_DATA_NS: break;
      case VERIFY_IMAGE: break;
      }
  remove_containers (e, cs, nc, nets, nn);
  cleanup_err struct itm_err rerr = { 0 };
  prov_remove (e, NULL, 0, nets, nn, vs, nv, true, 0, &rerr);
  /* images: our name on them goes even when a container that is not ours
   * still uses them (force untags; the image stays for that container) */
  for (size_t i = 0; i < r->left.n; i++)
    if (r->left.v[i].kind == VERIFY_IMAGE)
      {
        cleanup_free char *enc = engine_urlencode (r->left.v[i].id);
        cleanup_free char *p = xasprintf ("/images/%s?force=1", enc);
        cleanup_err struct itm_err ierr = { 0 };
        if (engine_delete (e, p, &ierr) < 0 && ierr.code != ITM_EXIT_NOT_FOUND)
          out_warn ("removing image %s: %s", r->left.v[i].id, ierr.msg);
      }
  free (cs);
  free (nets);
  free (vs);
}

static size_t
count_left (const struct verify_result *r)
{
  size_t still = 0;
  for (size_t i = 0; i < r->left.n; i++)
    if (!r->left.v[i].removed)
      still++;
  return still;
}

/* With --force and leftovers: remove them and look again; those gone stay
 * in left[], marked removed. */
static int
force_and_rescan (struct engine *e, struct verify_result *r, const struct verify_opts *o,
                  struct itm_err *err)
{
  force_remove (e, r);
  struct verify_list before = r->left;
  r->left = (struct verify_list){ 0 };
  if (scan (e, r, o, err) < 0)
    {
      verify_list_free (&before);
      return -1;
    }
  for (size_t i = 0; i < before.n; i++)
    if (before.v[i].removed || !verify_list_has (&r->left, before.v[i].kind, before.v[i].id))
      {
        r->forced += !before.v[i].removed;
        verify_list_add (&r->left, before.v[i].kind, before.v[i].id, before.v[i].name,
                         before.v[i].reason);
        r->left.v[r->left.n - 1].removed = true;
      }
  verify_list_free (&before);
  return 0;
}

static int
finish (struct engine *e, struct verify_result *r, const struct verify_opts *o, int64_t t0,
        struct itm_err *err)
{
  if (o->force && count_left (r) > 0 && force_and_rescan (e, r, o, err) < 0)
    return -1;
  size_t still = count_left (r);
  r->clean = still == 0;
  r->duration_ms = (mono_ns () - t0) / 1000000;
  if (!r->clean)
    {
      itm_err_set (err, ITM_EXIT_LEAK, "namespace %s: %zu leftover%s on the engine", r->ns,
                   still, still == 1 ? "" : "s");
      return 1;
    }
  return 0;
}

int
verify_namespace (struct engine *e, const char *ns, const struct verify_opts *o,
                  struct verify_result **out, struct itm_err *err)
{
  int64_t t0 = mono_ns ();
  cleanup_verify_result struct verify_result *r = verify_result_new (ns);
  strays_load (r);
  if (scan (e, r, o, err) < 0)
    return -1;
  int ret = finish (e, r, o, t0, err);
  if (ret < 0)
    return -1;
  if (r->strays.n)
    strays_save (r);
  *out = steal_pointer (&r);
  return ret;
}

/* Before down: what the namespace has ("created", with --rmi the images
 * that exist) and the strays on its networks.  With --rmi, the images are
 * found now, while their containers exist (*imgs, when down did not get
 * them), and vo says to check them. */
static int
down_before (struct engine *e, struct prov_down_opts *dd, struct verify_opts *vo,
             struct verify_result *r, char ***imgs, struct itm_err *err)
{
  struct verify_view v = { 0 };
  if (view_load_engine (e, dd->ns, &v, err) < 0)
    {
      verify_view_free (&v);
      return -1;
    }
  strays_load (r);
  if (dd->rmi != PROV_RMI_NONE)
    {
      if (dd->images == NULL)
        {
          *imgs = prov_rmi_images (e, dd, &dd->nimages, err);
          if (*imgs == NULL)
            {
              verify_view_free (&v);
              return -1;
            }
          dd->images = (const char *const *) *imgs;
        }
      vo->rmi = prov_rmi_name (dd->rmi);
      vo->images = dd->images;
      vo->nimages = dd->nimages;
      if (view_load_images (e, vo, &v, err) < 0)
        {
          verify_view_free (&v);
          return -1;
        }
    }
  verify_scan_before (&v, vo, r);
  verify_view_free (&v);
  return 0;
}

/* --force, before down: the strays disconnected from our networks and
 * removed, so that down can remove the networks (the verification says
 * whether they are gone). */
static void
down_remove_strays (struct engine *e, const struct verify_result *r)
{
  const char **cs = xcalloc (r->strays.n + 1, sizeof *cs);
  const char **nets = xcalloc (r->created.n + 1, sizeof *nets);
  size_t nn = 0;
  for (size_t i = 0; i < r->strays.n; i++)
    cs[i] = r->strays.v[i].id;
  for (size_t i = 0; i < r->created.n; i++)
    if (r->created.v[i].kind == VERIFY_NETWORK)
      nets[nn++] = r->created.v[i].id;
  remove_containers (e, cs, r->strays.n, nets, nn);
  free (cs);
  free (nets);
}

int
verify_down (struct engine *e, const struct prov_down_opts *d, const struct verify_opts *o,
             struct verify_result **out, struct itm_err *err)
{
  int64_t t0 = mono_ns ();
  cleanup_verify_result struct verify_result *r = verify_result_new (d->ns);
  struct prov_down_opts dd = *d;
  struct verify_opts vo = *o;
  vo.keep_volumes = vo.keep_volumes || d->keep_volumes;
  cleanup_strv char **imgs = NULL;
  if (down_before (e, &dd, &vo, r, &imgs, err) < 0)
    return -1;
  for (size_t i = 0; i < r->strays.n; i++)
    out_warn ("container %s is %s%s", r->strays.v[i].name, r->strays.v[i].reason,
              o->force ? ": removing it (--force)" : "");
  if (o->force && r->strays.n > 0)
    down_remove_strays (e, r);
  cleanup_err struct itm_err derr = { 0 };
  int dret = prov_down (e, &dd, &derr);
  if (scan (e, r, &vo, err) < 0)
    return -1;
  verify_scan_removed (r);
  for (size_t i = 0; o->force && i < r->strays.n; i++)
    if (!verify_list_has (&r->left, VERIFY_CONTAINER, r->strays.v[i].id))
      {
        r->forced++;
        verify_list_add (&r->left, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name,
                         r->strays.v[i].reason);
        r->left.v[r->left.n - 1].removed = true;
      }
  int ret = finish (e, r, &vo, t0, err);
  if (ret < 0)
    return -1;
  /* down failed but nothing is left: say so, the outcome is clean */
  if (ret == 0 && dret < 0 && derr.code != ITM_EXIT_NOT_FOUND)
    out_warn ("%s (nothing is left now)", derr.msg);
  if (ret > 0)
    strays_save (r);
  if (ret == 0)
    {
      cleanup_err struct itm_err serr = { 0 };
      if (ns_state_remove (d->ns, &serr) < 0)
        out_warn ("%s", serr.msg);
    }
  *out = steal_pointer (&r);
  return ret;
}
