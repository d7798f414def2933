/* verify.c - the teardown verifier: what a namespace left on the engine
 * (its label, containers on its networks, data namespaces), what appeared
 * since the snapshot taken before up, and --force. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "util/clock.h"

/* Check 4 hook: the data module's list of a namespace's data namespaces
 * (src/data/data.h).  Declared weak so the verifier links with or without
 * the data module; check 4 runs whenever the data module is in the
 * binary. */
extern int data_ns_list (const char *ns, json_object **out, struct itm_err *err)
  __attribute__ ((weak));

/* Labels that say a resource has an owner: a namespace (ours or another
 * itm-env's), a Compose project or stack, a Testcontainers session, the
 * container an anonymous volume belongs to.  (Other io.itm-env.* labels
 * are not owners: images, the test fixtures among them, carry some, and
 * containers inherit their image's labels.) */
static const char *const owner_labels[] = {
  ITM_LABEL_NAMESPACE, "com.docker.compose.project", "com.docker.stack.namespace",
  "org.testcontainers", "com.docker.volume.anonymous",
};

const char *
verify_kind_name (enum verify_kind k)
{
  switch (k)
    {
    case VERIFY_CONTAINER: return "container";
    case VERIFY_NETWORK: return "network";
    case VERIFY_VOLUME: return "volume";
    case VERIFY_DATA_NS: return "data namespace";
    case VERIFY_IMAGE: return "image";
    }
  return "?";
}

static void
list_add (struct verify_list *l, enum verify_kind kind, const char *id, const char *name,
          const char *reason)
{
  l->v = xgrow (l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n++] = (struct verify_item){ .kind = kind, .id = xstrdup (id ? id : ""),
                                       .name = xstrdup (name ? name : (id ? id : "")),
                                       .reason = reason ? xstrdup (reason) : NULL };
}

static void
list_free (struct verify_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].id);
      free (l->v[i].name);
      free (l->v[i].reason);
    }
  free (l->v);
  *l = (struct verify_list){ 0 };
}

static bool
list_has (const struct verify_list *l, enum verify_kind kind, const char *id)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == kind && strcmp (l->v[i].id, id) == 0)
      return true;
  return false;
}

void
verify_result_free (struct verify_result *r)
{
  if (r == NULL)
    return;
  free (r->ns);
  free (r->snapshot_time);
  list_free (&r->created);
  list_free (&r->removed);
  list_free (&r->left);
  list_free (&r->suspects);
  list_free (&r->strays);
  free (r);
}

void
verify_result_freep (struct verify_result **r)
{
  verify_result_free (*r);
  *r = NULL;
}

/* ---- the engine as it is ---- */
struct engine_view {
  json_object *containers, *networks, *volumes; /* arrays, owned */
};

static void
view_free (struct engine_view *v)
{
  json_object_put (v->containers);
  json_object_put (v->networks);
  json_object_put (v->volumes);
  *v = (struct engine_view){ 0 };
}

static int
view_load (struct engine *e, struct engine_view *v, struct itm_err *err)
{
  json_object *vols = NULL;
  if (engine_get (e, "/containers/json?all=1", &v->containers, err) < 0
      || engine_get (e, "/networks", &v->networks, err) < 0
      || engine_get (e, "/volumes", &vols, err) < 0)
    {
      view_free (v);
      return -1;
    }
  json_object *vl = NULL;
  if (json_object_object_get_ex (vols, "Volumes", &vl) && json_object_is_type (vl, json_type_array))
    v->volumes = json_object_get (vl);
  else
    v->volumes = json_object_new_array ();
  json_object_put (vols);
  if (!json_object_is_type (v->containers, json_type_array)
      || !json_object_is_type (v->networks, json_type_array))
    {
      view_free (v);
      return itm_err_set (err, ITM_EXIT_ENGINE, "the engine's lists are not arrays");
    }
  return 0;
}

static const char *
label_of (json_object *o, const char *name)
{
  json_object *l;
  if (!json_object_object_get_ex (o, "Labels", &l) || !json_object_is_type (l, json_type_object))
    return NULL;
  return json_key_str (l, name);
}

static bool
has_owner_label (json_object *o)
{
  json_object *l;
  if (!json_object_object_get_ex (o, "Labels", &l) || !json_object_is_type (l, json_type_object))
    return false;
  json_object_object_foreach (l, key, val)
    {
      (void) val;
      for (size_t i = 0; i < sizeof owner_labels / sizeof *owner_labels; i++)
        if (strncmp (key, owner_labels[i], strlen (owner_labels[i])) == 0)
          return true;
    }
  return false;
}

static const char *
container_name (json_object *c)
{
  json_object *names;
  if (json_object_object_get_ex (c, "Names", &names) && json_object_array_length (names) > 0)
    {
      const char *n = json_object_get_string (json_object_array_get_idx (names, 0));
      return n && n[0] == '/' ? n + 1 : n;
    }
  return json_key_str (c, "Id");
}

static json_object *
find_container (json_object *cs, const char *id)
{
  for (size_t i = 0; i < json_object_array_length (cs); i++)
    {
      json_object *c = json_object_array_get_idx (cs, i);
      const char *cid = json_key_str (c, "Id");
      if (cid && strcmp (cid, id) == 0)
        return c;
    }
  return NULL;
}

static bool
ours (json_object *o, const char *ns)
{
  const char *l = label_of (o, ITM_LABEL_NAMESPACE);
  return l && strcmp (l, ns) == 0;
}

/* Check 1 (into list) and the networks of ns (ids, into nets). */
static void
scan_labelled (const struct engine_view *v, const char *ns, bool keep_volumes,
               struct verify_list *list)
{
  cleanup_free char *why = xasprintf ("labelled %s=%s", ITM_LABEL_NAMESPACE, ns);
  for (size_t i = 0; i < json_object_array_length (v->containers); i++)
    {
      json_object *c = json_object_array_get_idx (v->containers, i);
      if (ours (c, ns))
        list_add (list, VERIFY_CONTAINER, json_key_str (c, "Id"), container_name (c), why);
    }
  for (size_t i = 0; i < json_object_array_length (v->networks); i++)
    {
      json_object *n = json_object_array_get_idx (v->networks, i);
      if (ours (n, ns))
        list_add (list, VERIFY_NETWORK, json_key_str (n, "Id"), json_key_str (n, "Name"), why);
    }
  for (size_t i = 0; !keep_volumes && i < json_object_array_length (v->volumes); i++)
    {
      json_object *vol = json_object_array_get_idx (v->volumes, i);
      if (ours (vol, ns))
        list_add (list, VERIFY_VOLUME, json_key_str (vol, "Name"), json_key_str (vol, "Name"), why);
    }
}

/* Check 1 with --rmi: each image down removed must no longer exist under
 * that name; one that does is named with the containers that still use it.
 * Into list; -1 when the engine cannot be asked. */
static int
scan_images (struct engine *e, const struct verify_opts *o, struct verify_list *list,
             struct itm_err *err)
{
  for (size_t i = 0; i < o->nimages; i++)
    {
      cleanup_free char *enc = engine_urlencode (o->images[i]);
      cleanup_free char *p = xasprintf ("/images/%s/json", enc);
      json_object *img = NULL;
      if (engine_get (e, p, &img, err) < 0)
        {
          if (err->code != ITM_EXIT_NOT_FOUND)
            return -1;
          itm_err_clear (err);
          continue;
        }
      json_object_put (img);
      /* who still uses it */
      const char *vals[] = { o->images[i] };
      cleanup_free char *f = engine_filters ("ancestor", vals, 1);
      cleanup_free char *cp = xasprintf ("/containers/json?all=1&filters=%s", f);
      json_object *cs = NULL;
      cleanup_buf struct buf users = { 0 };
      cleanup_err struct itm_err cerr = { 0 };
      if (engine_get (e, cp, &cs, &cerr) == 0)
        for (size_t k = 0; k < json_object_array_length (cs) && k < 5; k++)
          buf_addf (&users, "%s%s", users.len ? ", " : "",
                    container_name (json_object_array_get_idx (cs, k)));
      json_object_put (cs);
      cleanup_free char *why = xasprintf ("image of the namespace (--rmi %s) still exists%s%s",
                                          o->rmi, users.len ? "; used by container " : "",
                                          users.len ? users.data : "");
      list_add (list, VERIFY_IMAGE, o->images[i], o->images[i], why);
    }
  return 0;
}

/* Check 2: containers not labelled ns attached to ns's networks (the
 * labelled ones are check 1's).  Into list, unless already there. */
static int
scan_attached (struct engine *e, const struct engine_view *v, const char *ns,
               struct verify_list *list, struct itm_err *err)
{
  for (size_t i = 0; i < json_object_array_length (v->networks); i++)
    {
      json_object *n = json_object_array_get_idx (v->networks, i);
      if (!ours (n, ns))
        continue;
      cleanup_free char *enc = engine_urlencode (json_key_str (n, "Id"));
      cleanup_free char *p = xasprintf ("/networks/%s", enc);
      json_object *insp = NULL, *attached;
      if (engine_get (e, p, &insp, err) < 0)
        {
          if (err->code == ITM_EXIT_NOT_FOUND)
            {
              itm_err_clear (err);
              continue;
            }
          return -1;
        }
      if (json_object_object_get_ex (insp, "Containers", &attached)
          && json_object_is_type (attached, json_type_object))
        {
          json_object_object_foreach (attached, cid, ep)
          {
            json_object *c = find_container (v->containers, cid);
            if ((c && ours (c, ns)) || list_has (list, VERIFY_CONTAINER, cid))
              continue;
            cleanup_free char *why = xasprintf ("attached to network %s (not created by "
                                                "itm-env for %s)", json_key_str (n, "Name"), ns);
            const char *name = c ? container_name (c) : json_key_str (ep, "Name");
            list_add (list, VERIFY_CONTAINER, cid, name, why);
          }
        }
      json_object_put (insp);
    }
  return 0;
}

/* Check 3. */
static bool
in_ids (json_object *a, const char *id)
{
  for (size_t i = 0; a && i < json_object_array_length (a); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (a, i)), id) == 0)
      return true;
  return false;
}

static void
scan_snapshot (struct verify_result *r, const struct engine_view *v)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (r->ns, false, &err);
  cleanup_free char *path = dir ? xasprintf ("%s/snapshot.json", dir) : NULL;
  json_object *snap = path && access (path, R_OK) == 0 ? json_object_from_file (path) : NULL;
  if (snap == NULL)
    return;
  json_object *sc = NULL, *sn = NULL, *sv = NULL;
  json_object_object_get_ex (snap, "containers", &sc);
  json_object_object_get_ex (snap, "networks", &sn);
  json_object_object_get_ex (snap, "volumes", &sv);
  r->checked_snapshot = true;
  free (r->snapshot_time);   /* a second scan (--force) takes it again */
  r->snapshot_time = xstrdup (json_key_str (snap, "taken") ? json_key_str (snap, "taken") : "?");
  cleanup_free char *why = xasprintf ("appeared since %s (before up), carries no owner label",
                                      r->snapshot_time);
  struct {
    json_object *list, *ids;
    enum verify_kind kind;
    const char *idkey;
  } groups[] = {
    { v->containers, sc, VERIFY_CONTAINER, "Id" },
    { v->networks, sn, VERIFY_NETWORK, "Id" },
    { v->volumes, sv, VERIFY_VOLUME, "Name" },
  };
  for (size_t g = 0; g < 3; g++)
    for (size_t i = 0; i < json_object_array_length (groups[g].list); i++)
      {
        json_object *o = json_object_array_get_idx (groups[g].list, i);
        const char *id = json_key_str (o, groups[g].idkey);
        r->engine_resources++;
        if (id == NULL || in_ids (groups[g].ids, id) || has_owner_label (o)
            || list_has (&r->left, groups[g].kind, id))
          continue;
        const char *name = groups[g].kind == VERIFY_CONTAINER ? container_name (o)
                                                              : json_key_str (o, "Name");
        list_add (&r->suspects, groups[g].kind, id, name, why);
      }
  json_object_put (snap);
}

/* Check 4. */
static void
scan_data (struct verify_result *r)
{
  if (data_ns_list == NULL)
    return;
  cleanup_err struct itm_err err = { 0 };
  json_object *l = NULL;
  if (data_ns_list (r->ns, &l, &err) < 0)
    {
      fprintf (stderr, "itm-env: warning: listing the data namespaces of %s: %s\n", r->ns,
               err.msg ? err.msg : "?");
      return;
    }
  r->checked_data = true;
  for (size_t i = 0; l && i < json_object_array_length (l); i++)
    {
      const char *name = json_key_str (json_object_array_get_idx (l, i), "name");
      if (name)
        list_add (&r->left, VERIFY_DATA_NS, name, name, "data namespace not dropped");
    }
  json_object_put (l);
}

static int
scan (struct engine *e, struct verify_result *r, const struct verify_opts *o,
      struct itm_err *err)
{
  struct engine_view v = { 0 };
  list_free (&r->left);
  list_free (&r->suspects);
  r->engine_resources = 0;
  if (view_load (e, &v, err) < 0)
    return -1;
  scan_labelled (&v, r->ns, o->keep_volumes, &r->left);
  r->checked_labelled = true;
  if (scan_attached (e, &v, r->ns, &r->left, err) < 0)
    {
      view_free (&v);
      return -1;
    }
  r->checked_attached = true;
  if (o->rmi && scan_images (e, o, &r->left, err) < 0)
    {
      view_free (&v);
      return -1;
    }
  r->checked_images = o->rmi;
  /* strays seen when down began that still exist */
  for (size_t i = 0; i < r->strays.n; i++)
    if (find_container (v.containers, r->strays.v[i].id)
        && !list_has (&r->left, VERIFY_CONTAINER, r->strays.v[i].id))
      {
        cleanup_free char *why = xasprintf ("%s when down began", r->strays.v[i].reason);
        list_add (&r->left, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name, why);
      }
  scan_data (r);
  scan_snapshot (r, &v);
  view_free (&v);
  r->clean = r->left.n == 0;
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
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < r->left.n; i++)
    if (r->left.v[i].kind == VERIFY_CONTAINER && !r->left.v[i].removed
        && list_has (&r->strays, VERIFY_CONTAINER, r->left.v[i].id))
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
  json_object_put (a);
}

static void
strays_load (struct verify_result *r)
{
  cleanup_free char *path = strays_path (r->ns, false);
  json_object *a = path && access (path, R_OK) == 0 ? json_object_from_file (path) : NULL;
  for (size_t i = 0; a && i < json_object_array_length (a); i++)
    {
      json_object *o = json_object_array_get_idx (a, i);
      if (json_key_str (o, "id"))
        list_add (&r->strays, VERIFY_CONTAINER, json_key_str (o, "id"), json_key_str (o, "name"),
                  json_key_str (o, "reason"));
    }
  json_object_put (a);
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
        json_object *body = json_object_new_object ();
        json_object_object_add (body, "Container", json_object_new_string (cs[k]));
        json_object_object_add (body, "Force", json_object_new_boolean (1));
        struct itm_err e2 = { 0 };
        engine_post (e, p, body, NULL, &e2);   /* not attached there: fine */
        itm_err_clear (&e2);
        json_object_put (body);
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
          fprintf (stderr, "itm-env: warning: removing image %s: %s\n", r->left.v[i].id,
                   ierr.msg);
      }
  free (cs);
  free (nets);
  free (vs);
}

static int
finish (struct engine *e, struct verify_result *r, const struct verify_opts *o, int64_t t0,
        struct itm_err *err)
{
  size_t still = 0;
  for (size_t i = 0; i < r->left.n; i++)
    if (!r->left.v[i].removed)
      still++;
  if (o->force && still > 0)
    {
      force_remove (e, r);
      struct verify_list before = r->left;
      r->left = (struct verify_list){ 0 };
      if (scan (e, r, o, err) < 0)
        {
          list_free (&before);
          return -1;
        }
      /* leftovers --force removed stay in left[], marked removed */
      for (size_t i = 0; i < before.n; i++)
        if (before.v[i].removed || !list_has (&r->left, before.v[i].kind, before.v[i].id))
          {
            r->forced += !before.v[i].removed;
            list_add (&r->left, before.v[i].kind, before.v[i].id, before.v[i].name,
                      before.v[i].reason);
            r->left.v[r->left.n - 1].removed = true;
          }
      list_free (&before);
    }
  still = 0;
  for (size_t i = 0; i < r->left.n; i++)
    if (!r->left.v[i].removed)
      still++;
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
  struct verify_result *r = xzalloc (sizeof *r);
  r->ns = xstrdup (ns);
  strays_load (r);
  if (scan (e, r, o, err) < 0)
    {
      verify_result_free (r);
      return -1;
    }
  int ret = finish (e, r, o, t0, err);
  if (ret < 0)
    {
      verify_result_free (r);
      return -1;
    }
  if (r->strays.n)
    strays_save (r);
  *out = r;
  return ret;
}

int
verify_down (struct engine *e, const struct prov_down_opts *d, const struct verify_opts *o,
             struct verify_result **out, struct itm_err *err)
{
  int64_t t0 = mono_ns ();
  struct verify_result *r = xzalloc (sizeof *r);
  r->ns = xstrdup (d->ns);
  /* before: what the namespace has, and strays on its networks */
  {
    struct engine_view v = { 0 };
    if (view_load (e, &v, err) < 0)
      {
        verify_result_free (r);
        return -1;
      }
    scan_labelled (&v, d->ns, false, &r->created);
    strays_load (r);
    {
      /* strays an earlier down left that are gone since: forget them */
      struct verify_list keep = { 0 };
      for (size_t i = 0; i < r->strays.n; i++)
        if (find_container (v.containers, r->strays.v[i].id))
          list_add (&keep, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name,
                    r->strays.v[i].reason);
      list_free (&r->strays);
      r->strays = keep;
    }
    if (scan_attached (e, &v, d->ns, &r->strays, err) < 0)
      {
        view_free (&v);
        verify_result_free (r);
        return -1;
      }
    view_free (&v);
  }
  /* with --rmi: the images to remove, found while their containers exist */
  struct prov_down_opts dd = *d;
  char **imgs = NULL;
  if (d->rmi != PROV_RMI_NONE && d->images == NULL)
    {
      imgs = prov_rmi_images (e, d, &dd.nimages, err);
      if (imgs == NULL)
        {
          verify_result_free (r);
          return -1;
        }
      dd.images = (const char *const *) imgs;
    }
  struct verify_opts vo = *o;
  vo.keep_volumes = vo.keep_volumes || d->keep_volumes;
  if (d->rmi != PROV_RMI_NONE)
    {
      vo.rmi = prov_rmi_name (d->rmi);
      vo.images = dd.images;
      vo.nimages = dd.nimages;
      /* those that exist now are "created" */
      struct verify_list now = { 0 };
      struct verify_opts probe = vo;
      if (scan_images (e, &probe, &now, err) < 0)
        {
          strv_free (imgs);
          verify_result_free (r);
          return -1;
        }
      for (size_t i = 0; i < now.n; i++)
        list_add (&r->created, VERIFY_IMAGE, now.v[i].id, now.v[i].name, NULL);
      list_free (&now);
    }
  for (size_t i = 0; i < r->strays.n; i++)
    fprintf (stderr, "itm-env: warning: container %s is %s%s\n", r->strays.v[i].name,
             r->strays.v[i].reason, o->force ? ": removing it (--force)" : "");
  if (o->force && r->strays.n > 0)
    {
      /* strays first: disconnected from our networks and removed, so that
       * down can remove the networks */
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
      /* the verification says whether they are gone */
    }
  cleanup_err struct itm_err derr = { 0 };
  int dret = prov_down (e, &dd, &derr);
  if (scan (e, r, &vo, err) < 0)
    {
      strv_free (imgs);
      verify_result_free (r);
      return -1;
    }
  for (size_t i = 0; i < r->created.n; i++)
    if (!list_has (&r->left, r->created.v[i].kind, r->created.v[i].id))
      list_add (&r->removed, r->created.v[i].kind, r->created.v[i].id, r->created.v[i].name,
                NULL);
  for (size_t i = 0; o->force && i < r->strays.n; i++)
    if (!list_has (&r->left, VERIFY_CONTAINER, r->strays.v[i].id))
      {
        r->forced++;
        list_add (&r->left, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name,
                  r->strays.v[i].reason);
        r->left.v[r->left.n - 1].removed = true;
      }
  int ret = finish (e, r, &vo, t0, err);
  strv_free (imgs);
  if (ret < 0)
    {
      verify_result_free (r);
      return -1;
    }
  if (ret == 0 && dret < 0 && derr.code != ITM_EXIT_NOT_FOUND)
    {
      /* down failed but nothing is left: say so, the outcome is clean */
      fprintf (stderr, "itm-env: warning: %s (nothing is left now)\n", derr.msg);
    }
  if (ret > 0)
    strays_save (r);
  if (ret == 0)
    {
      cleanup_err struct itm_err serr = { 0 };
      if (ns_state_remove (d->ns, &serr) < 0)
        fprintf (stderr, "itm-env: warning: %s\n", serr.msg);
    }
  *out = r;
  return ret;
}

/* ---- output ---- */
static void
checked_text (const struct verify_result *r, struct buf *b)
{
  buf_addf (b, "resources labelled %s=%s, containers on its networks", ITM_LABEL_NAMESPACE, r->ns);
  if (r->checked_snapshot)
    buf_addf (b, ", %zu engine resources against the snapshot of %s", r->engine_resources,
              r->snapshot_time);
  else
    buf_adds (b, " (no snapshot: no suspects looked for)");
  buf_adds (b, r->checked_data ? ", data namespaces" : " (data namespaces not checked)");
  if (r->checked_images)
    buf_addf (b, ", images (--rmi %s)", r->checked_images);
}

void
verify_print (const struct verify_result *r, FILE *f)
{
  for (size_t i = 0; i < r->suspects.n; i++)
    fprintf (f, "itm-env: warning: suspect %s %s (%.12s): %s\n",
             verify_kind_name (r->suspects.v[i].kind), r->suspects.v[i].name,
             r->suspects.v[i].id, r->suspects.v[i].reason);
  size_t still = 0;
  for (size_t i = 0; i < r->left.n; i++)
    {
      const struct verify_item *it = &r->left.v[i];
      if (strcmp (it->id, it->name) == 0)
        fprintf (f, "%s %s %s: %s\n", it->removed ? "removed (--force):" : "leftover:",
                 verify_kind_name (it->kind), it->name, it->reason ? it->reason : "");
      else
        fprintf (f, "%s %s %s (%.12s): %s\n", it->removed ? "removed (--force):" : "leftover:",
                 verify_kind_name (it->kind), it->name, it->id, it->reason ? it->reason : "");
      if (!it->removed)
        still++;
    }
  cleanup_buf struct buf b = { 0 };
  checked_text (r, &b);
  if (r->clean)
    fprintf (f, "verified namespace %s: checked %s: nothing is left%s%s\n", r->ns, b.data,
             r->forced ? " (after --force removed " : "",
             r->forced ? (r->forced == 1 ? "1 leftover)" : "leftovers)") : "");
  else
    fprintf (f, "verification of namespace %s FAILED: %zu leftover%s (checked: %s)\n", r->ns,
             still, still == 1 ? "" : "s", b.data);
}

static json_object *
items_json (const struct verify_list *l, bool with_reason)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < l->n; i++)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "kind", json_object_new_string (verify_kind_name (l->v[i].kind)));
      json_object_object_add (o, "id", json_object_new_string (l->v[i].id));
      json_object_object_add (o, "name", json_object_new_string (l->v[i].name));
      if (with_reason && l->v[i].reason)
        json_object_object_add (o, "reason", json_object_new_string (l->v[i].reason));
      if (with_reason)
        json_object_object_add (o, "removed", json_object_new_boolean (l->v[i].removed));
      json_object_array_add (a, o);
    }
  return a;
}

json_object *
verify_json (const struct verify_result *r)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "namespace", json_object_new_string (r->ns));
  json_object_object_add (o, "clean", json_object_new_boolean (r->clean));
  json_object *c = json_object_new_object ();
  json_object_object_add (c, "labelled", json_object_new_boolean (r->checked_labelled));
  json_object_object_add (c, "attached", json_object_new_boolean (r->checked_attached));
  json_object_object_add (c, "snapshot", json_object_new_boolean (r->checked_snapshot));
  json_object_object_add (c, "data", json_object_new_boolean (r->checked_data));
  json_object_object_add (c, "images", r->checked_images
                                         ? json_object_new_string (r->checked_images) : NULL);
  json_object_object_add (o, "checked", c);
  if (r->snapshot_time)
    json_object_object_add (o, "snapshot_time", json_object_new_string (r->snapshot_time));
  json_object_object_add (o, "created", items_json (&r->created, false));
  json_object_object_add (o, "removed", items_json (&r->removed, false));
  json_object_object_add (o, "left", items_json (&r->left, true));
  json_object_object_add (o, "suspects", items_json (&r->suspects, true));
  json_object_object_add (o, "forced", json_object_new_int64 ((int64_t) r->forced));
  json_object_object_add (o, "duration_ms", json_object_new_int64 (r->duration_ms));
  return o;
}
