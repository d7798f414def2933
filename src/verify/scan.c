/* scan.c - the verifier's checks as pure functions: a view of the engine
 * (struct verify_view: the engine's lists, the snapshot, the data
 * namespaces) in, the verdict (struct verify_result) out.  No engine call,
 * no file read: verify.c builds the view and acts on the verdict. */
#include <config.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "engine/self.h"
#include "ns/ns.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "verify/priv.h"

/* Labels that say a resource has an owner: a namespace (ours or another
 * itm-env's), a namespace's reaper container, a Compose project or stack,
 * a Testcontainers session, the container an anonymous volume belongs to.  (Other io.itm-env.* labels
 * are not owners: images, the test fixtures among them, carry some, and
 * containers inherit their image's labels.) */
static const char *const owner_labels[] = {
  ITM_LABEL_NAMESPACE, VERIFY_REAPER_LABEL, "com.docker.compose.project",
  "com.docker.stack.namespace",
  "org.testcontainers", "com.docker.volume.anonymous",
};

/* ---- results ---- */

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

void
verify_list_add (struct verify_list *l, enum verify_kind kind, const char *id, const char *name,
                 const char *reason)
{
  l->v = xgrow (l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n++] = (struct verify_item){ .kind = kind, .id = xstrdup (id ? id : ""),
                                       .name = xstrdup (name ? name : (id ? id : "")),
                                       .reason = reason ? xstrdup (reason) : NULL };
}

void
verify_list_free (struct verify_list *l)
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

bool
verify_list_has (const struct verify_list *l, enum verify_kind kind, const char *id)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == kind && strcmp (l->v[i].id, id) == 0)
      return true;
  return false;
}

struct verify_result *
verify_result_new (const char *ns)
{
  struct verify_result *r = xzalloc (sizeof *r);
  r->ns = xstrdup (ns);
  return r;
}

void
verify_result_free (struct verify_result *r)
{
  if (r == NULL)
    return;
  free (r->ns);
  free (r->snapshot_time);
  verify_list_free (&r->created);
  verify_list_free (&r->removed);
  verify_list_free (&r->left);
  verify_list_free (&r->suspects);
  verify_list_free (&r->strays);
  free (r);
}

void
verify_result_freep (struct verify_result **r)
{
  verify_result_free (*r);
  *r = NULL;
}

void
verify_view_free (struct verify_view *v)
{
  json_object_put (v->containers);
  json_object_put (v->networks);
  json_object_put (v->volumes);
  json_object_put (v->images);
  json_object_put (v->snapshot);
  json_object_put (v->data);
  *v = (struct verify_view){ 0 };
}

/* ---- engine objects ---- */

static json_object *
labels_of (json_object *o)
{
  json_object *l = json_key (o, "Labels");
  return l && json_object_is_type (l, json_type_object) ? l : NULL;
}

static bool
has_owner_label (json_object *o)
{
  json_object *l = labels_of (o);
  if (l == NULL)
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

bool
verify_ours (json_object *o, const char *ns)
{
  const char *l = json_key_str (labels_of (o), ITM_LABEL_NAMESPACE);
  return l && strcmp (l, ns) == 0;
}

static const char *
container_name (json_object *c)
{
  json_object *names = json_key (c, "Names");
  if (names && json_object_is_type (names, json_type_array)
      && json_object_array_length (names) > 0)
    {
      const char *n = json_object_get_string (json_object_array_get_idx (names, 0));
      return n && n[0] == '/' ? n + 1 : n;
    }
  return json_key_str (c, "Id");
}

json_object *
verify_find_container (json_object *containers, const char *id)
{
  for (size_t i = 0; i < json_object_array_length (containers); i++)
    {
      json_object *c = json_object_array_get_idx (containers, i);
      const char *cid = json_key_str (c, "Id");
      if (cid && strcmp (cid, id) == 0)
        return c;
    }
  return NULL;
}

/* ---- the checks ---- */

/* Check 1: what carries the namespace's label (volumes unless kept). */
static void
scan_labelled (const struct verify_view *v, const char *ns, bool keep_volumes,
               struct verify_list *list)
{
  cleanup_free char *why = xasprintf ("labelled %s=%s", ITM_LABEL_NAMESPACE, ns);
  for (size_t i = 0; i < json_object_array_length (v->containers); i++)
    {
      json_object *c = json_object_array_get_idx (v->containers, i);
      if (verify_ours (c, ns))
        verify_list_add (list, VERIFY_CONTAINER, json_key_str (c, "Id"), container_name (c), why);
    }
  for (size_t i = 0; i < json_object_array_length (v->networks); i++)
    {
      json_object *n = json_object_array_get_idx (v->networks, i);
      if (verify_ours (n, ns))
        verify_list_add (list, VERIFY_NETWORK, json_key_str (n, "Id"), json_key_str (n, "Name"),
                         why);
    }
  for (size_t i = 0; !keep_volumes && i < json_object_array_length (v->volumes); i++)
    {
      json_object *vol = json_object_array_get_idx (v->volumes, i);
      if (verify_ours (vol, ns))
        verify_list_add (list, VERIFY_VOLUME, json_key_str (vol, "Name"),
                         json_key_str (vol, "Name"), why);
    }
}

/* Check 1 with --rmi: each of o->images that still exists (a member of
 * v->images), named with the first containers that use it.  reason NULL:
 * only which exist (before down). */
static void
scan_images (const struct verify_view *v, const struct verify_opts *o, bool reason,
             struct verify_list *list)
{
  for (size_t i = 0; i < o->nimages; i++)
    {
      json_object *users = json_key (v->images, o->images[i]);
      if (users == NULL)
        continue;
      cleanup_buf struct buf names = { 0 };
      for (size_t k = 0; k < json_object_array_length (users) && k < 5; k++)
        buf_addf (&names, "%s%s", names.len ? ", " : "",
                  container_name (json_object_array_get_idx (users, k)));
      cleanup_free char *why = xasprintf ("image of the namespace (--rmi %s) still exists%s%s",
                                          o->rmi, names.len ? "; used by container " : "",
                                          names.len ? names.data : "");
      verify_list_add (list, VERIFY_IMAGE, o->images[i], o->images[i], reason ? why : NULL);
    }
}

/* Check 2: containers not labelled ns attached to ns's networks (the
 * labelled ones are check 1's).  Into list, unless already there. */
static void
scan_attached (const struct verify_view *v, const char *ns, struct verify_list *list)
{
  for (size_t i = 0; i < json_object_array_length (v->networks); i++)
    {
      json_object *n = json_object_array_get_idx (v->networks, i);
      json_object *attached = json_key (n, "Containers");
      if (!verify_ours (n, ns) || attached == NULL
          || !json_object_is_type (attached, json_type_object))
        continue;
      json_object_object_foreach (attached, cid, ep)
        {
          json_object *c = verify_find_container (v->containers, cid);
          if ((c && verify_ours (c, ns)) || verify_list_has (list, VERIFY_CONTAINER, cid))
            continue;
          /* itm-env's own container, joined by up and left by down before
           * the networks go (engine/self.h): not a stray */
          if (self_id () && strcmp (cid, self_id ()) == 0)
            continue;
          cleanup_free char *why = xasprintf ("attached to network %s (not created by "
                                              "itm-env for %s)", json_key_str (n, "Name"), ns);
          const char *name = c ? container_name (c) : json_key_str (ep, "Name");
          verify_list_add (list, VERIFY_CONTAINER, cid, name, why);
        }
    }
}

/* Strays seen when down began (r->strays) that still exist. */
static void
scan_strays (const struct verify_view *v, struct verify_result *r)
{
  for (size_t i = 0; i < r->strays.n; i++)
    if (verify_find_container (v->containers, r->strays.v[i].id)
        && !verify_list_has (&r->left, VERIFY_CONTAINER, r->strays.v[i].id))
      {
        cleanup_free char *why = xasprintf ("%s when down began", r->strays.v[i].reason);
        verify_list_add (&r->left, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name,
                         why);
      }
}

/* Check 3: what appeared since the snapshot and has no owner. */
static bool
in_ids (json_object *a, const char *id)
{
  for (size_t i = 0; a && i < json_object_array_length (a); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (a, i)), id) == 0)
      return true;
  return false;
}

static void
scan_snapshot (const struct verify_view *v, struct verify_result *r)
{
  json_object *snap = v->snapshot;
  r->checked_snapshot = true;
  free (r->snapshot_time);   /* a second scan (--force) takes it again */
  const char *taken = json_key_str (snap, "taken");
  r->snapshot_time = xstrdup (taken ? taken : "?");
  cleanup_free char *why = xasprintf ("appeared since %s (before up), carries no owner label",
                                      r->snapshot_time);
  const struct {
    json_object *list, *ids;
    enum verify_kind kind;
    const char *idkey;
  } groups[] = {
    { v->containers, json_key (snap, "containers"), VERIFY_CONTAINER, "Id" },
    { v->networks, json_key (snap, "networks"), VERIFY_NETWORK, "Id" },
    { v->volumes, json_key (snap, "volumes"), VERIFY_VOLUME, "Name" },
  };
  for (size_t g = 0; g < 3; g++)
    for (size_t i = 0; i < json_object_array_length (groups[g].list); i++)
      {
        json_object *o = json_object_array_get_idx (groups[g].list, i);
        const char *id = json_key_str (o, groups[g].idkey);
        r->engine_resources++;
        if (id == NULL || in_ids (groups[g].ids, id) || has_owner_label (o)
            || verify_list_has (&r->left, groups[g].kind, id))
          continue;
        const char *name = groups[g].kind == VERIFY_CONTAINER ? container_name (o)
                                                              : json_key_str (o, "Name");
        verify_list_add (&r->suspects, groups[g].kind, id, name, why);
      }
}

/* Check 4: every data namespace listed is left. */
static void
scan_data (const struct verify_view *v, struct verify_result *r)
{
  r->checked_data = true;
  for (size_t i = 0; i < json_object_array_length (v->data); i++)
    {
      const char *name = json_key_str (json_object_array_get_idx (v->data, i), "name");
      if (name)
        verify_list_add (&r->left, VERIFY_DATA_NS, name, name, "data namespace not dropped");
    }
}

void
verify_scan (const struct verify_view *v, const struct verify_opts *o, struct verify_result *r)
{
  verify_list_free (&r->left);
  verify_list_free (&r->suspects);
  r->engine_resources = 0;
  scan_labelled (v, r->ns, o->keep_volumes, &r->left);
  r->checked_labelled = true;
  scan_attached (v, r->ns, &r->left);
  r->checked_attached = true;
  if (o->rmi)
    scan_images (v, o, true, &r->left);
  r->checked_images = o->rmi;
  scan_strays (v, r);
  if (v->data)
    scan_data (v, r);
  if (v->snapshot)
    scan_snapshot (v, r);
  r->clean = r->left.n == 0;
}

void
verify_scan_before (const struct verify_view *v, const struct verify_opts *o,
                    struct verify_result *r)
{
  scan_labelled (v, r->ns, false, &r->created);
  /* strays an earlier down left that are gone since: forget them */
  struct verify_list keep = { 0 };
  for (size_t i = 0; i < r->strays.n; i++)
    if (verify_find_container (v->containers, r->strays.v[i].id))
      verify_list_add (&keep, VERIFY_CONTAINER, r->strays.v[i].id, r->strays.v[i].name,
                       r->strays.v[i].reason);
  verify_list_free (&r->strays);
  r->strays = keep;
  scan_attached (v, r->ns, &r->strays);
  if (o->rmi)
    scan_images (v, o, false, &r->created);
}

void
verify_scan_removed (struct verify_result *r)
{
  for (size_t i = 0; i < r->created.n; i++)
    if (!verify_list_has (&r->left, r->created.v[i].kind, r->created.v[i].id))
      verify_list_add (&r->removed, r->created.v[i].kind, r->created.v[i].id,
                       r->created.v[i].name, NULL);
}
