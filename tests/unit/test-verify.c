/* test-verify.c - the teardown verifier's checks without an engine: each
 * tests/verify/cases/NAME.json is a canned view of the engine ("view", and
 * for down "before": the view before down ran), the verifier's options
 * and the strays an earlier down kept; "expect" is the verdict: clean,
 * left, suspects and (when given) strays, created, removed, each item as
 * "KIND NAME" or "KIND NAME: REASON" in order. */
#include <config.h>

#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "verify/verify.h"

/* member key of o, a new reference; an empty array when absent */
static json_object *
array_or_empty (json_object *o, const char *key)
{
  json_object *a = json_key (o, key);
  return a ? json_object_get (a) : json_object_new_array ();
}

static void
view_from (json_object *j, struct verify_view *v)
{
  v->containers = array_or_empty (j, "containers");
  v->networks = array_or_empty (j, "networks");
  v->volumes = array_or_empty (j, "volumes");
  json_object *o;
  v->images = (o = json_key (j, "images")) ? json_object_get (o) : NULL;
  v->snapshot = (o = json_key (j, "snapshot")) ? json_object_get (o) : NULL;
  v->data = (o = json_key (j, "data")) ? json_object_get (o) : NULL;
}

static char *
list_text (const struct verify_list *l)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < l->n; i++)
    buf_addf (&b, "%s %s%s%s\n", verify_kind_name (l->v[i].kind), l->v[i].name,
              l->v[i].reason ? ": " : "", l->v[i].reason ? l->v[i].reason : "");
  return buf_steal (&b);
}

static char *
expect_text (json_object *a)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < json_object_array_length (a); i++)
    buf_addf (&b, "%s\n", json_object_get_string (json_object_array_get_idx (a, i)));
  return buf_steal (&b);
}

static void
check_list (const char *name, const char *what, json_object *expect,
            const struct verify_list *got)
{
  json_object *want = json_key (expect, what);
  if (want == NULL)
    return;
  cleanup_free char *g = list_text (got), *w = expect_text (want);
  tap_is_str (g, w, "%s: %s", name, what);
}

static void
run_case (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_free char *name = xstrndup (file, strlen (file) - 5);
  cleanup_json json_object *c = json_object_from_file (path);
  if (!tap_ok (c != NULL, "%s: parses", name))
    return;
  json_object *opts = json_key (c, "options");
  cleanup_json json_object *imgs = array_or_empty (opts, "images");
  const char **images = xcalloc (json_object_array_length (imgs) + 1, sizeof *images);
  for (size_t i = 0; i < json_object_array_length (imgs); i++)
    images[i] = json_object_get_string (json_object_array_get_idx (imgs, i));
  json_object *kv = json_key (opts, "keep_volumes");
  struct verify_opts o = { .keep_volumes = kv && json_object_get_boolean (kv),
                           .rmi = json_key_str (opts, "rmi"), .images = images,
                           .nimages = json_object_array_length (imgs) };
  cleanup_verify_result struct verify_result *r = verify_result_new (json_key_str (c, "namespace"));
  cleanup_json json_object *strays = array_or_empty (c, "strays");
  for (size_t i = 0; i < json_object_array_length (strays); i++)
    {
      json_object *s = json_object_array_get_idx (strays, i);
      r->strays.v = xgrow (r->strays.v, &r->strays.cap, r->strays.n + 1, sizeof *r->strays.v);
      r->strays.v[r->strays.n++] = (struct verify_item){
        .kind = VERIFY_CONTAINER, .id = xstrdup (json_key_str (s, "id")),
        .name = xstrdup (json_key_str (s, "name")), .reason = xstrdup (json_key_str (s, "reason"))
      };
    }
  struct verify_view v = { 0 };
  if (json_key (c, "before"))
    {
      view_from (json_key (c, "before"), &v);
      verify_scan_before (&v, &o, r);
      verify_view_free (&v);
    }
  view_from (json_key (c, "view"), &v);
  verify_scan (&v, &o, r);
  verify_view_free (&v);
  if (json_key (c, "before"))
    verify_scan_removed (r);

  json_object *expect = json_key (c, "expect"), *clean = json_key (expect, "clean");
  tap_ok (clean && json_object_get_boolean (clean) == r->clean, "%s: clean is %s", name,
          r->clean ? "true" : "false");
  check_list (name, "left", expect, &r->left);
  check_list (name, "suspects", expect, &r->suspects);
  check_list (name, "strays", expect, &r->strays);
  check_list (name, "created", expect, &r->created);
  check_list (name, "removed", expect, &r->removed);
  json_object *checked = json_key (expect, "checked");
  if (checked)
    {
      cleanup_free char *got = xasprintf ("labelled=%d attached=%d snapshot=%d data=%d images=%s",
                                          r->checked_labelled, r->checked_attached,
                                          r->checked_snapshot, r->checked_data,
                                          r->checked_images ? r->checked_images : "-");
      tap_is_str (got, json_object_get_string (checked), "%s: checked", name);
    }
  free (images);
}

static int
by_name (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

static int
is_case (const struct dirent *d)
{
  size_t n = strlen (d->d_name);
  return n > 5 && strcmp (d->d_name + n - 5, ".json") == 0;
}

int
main (void)
{
  const char *src = getenv ("ITM_SRCDIR");
  cleanup_free char *dir = xasprintf ("%s/tests/verify/cases", src ? src : ".");
  /* itm-env's "own container" for the cases: the id in this mountinfo
   * (engine/self.h; self-joined.json) */
  cleanup_free char *self = xasprintf ("%s/tests/verify/self", src ? src : ".");
  setenv ("ITM_ENV_SELF_PROC", self, 1);
  struct dirent **ents = NULL;
  int n = scandir (dir, &ents, is_case, by_name);
  tap_ok (n >= 8, "at least 8 cases in %s (%d)", dir, n);
  for (int i = 0; i < n; i++)
    {
      run_case (dir, ents[i]->d_name);
      free (ents[i]);
    }
  free (ents);
  return tap_done ();
}
