/* print.c - the verifier's result told: text lines, a JSON object, and
 * the report (src/report/). */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ns/ns.h"
#include "report/report.h"
#include "util/xalloc.h"
#include "verify/verify.h"

/* ---- text ---- */
static void
checked_text (const struct verify_result *r, struct buf *b)
{
  buf_addf (b, "resources labelled %s=%s, containers on its networks", ITM_LABEL_NAMESPACE, r->ns);
  if (r->checked_snapshot)
    buf_addf (b, ", %zu engine resource%s against the snapshot of %s", r->engine_resources,
              r->engine_resources == 1 ? "" : "s", r->snapshot_time);
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

/* ---- into the report ---- */
static const char *
report_kind (enum verify_kind k)
{
  return k == VERIFY_DATA_NS ? "data-namespace" : verify_kind_name (k);
}

static void
report_items (struct report *r, const struct verify_list *l, enum report_res status)
{
  for (size_t i = 0; i < l->n; i++)
    {
      const struct verify_item *it = &l->v[i];
      const char *kind = report_kind (it->kind);
      if (it->id && it->name && it->kind != VERIFY_DATA_NS)
        report_resource_id (r, kind, it->id, it->name);
      if (status == REPORT_RES_LEFT && it->removed)
        {
          cleanup_free char *d = xasprintf ("leftover removed by --force: %s",
                                            it->reason ? it->reason : "");
          report_resource (r, kind, it->name, REPORT_RES_LEFT, NULL);
          report_resource (r, kind, it->name, REPORT_RES_REMOVED, d);
        }
      else
        report_resource (r, kind, it->name, status, it->reason);
    }
}

void
verify_report (struct report *r, const struct verify_result *v)
{
  if (r == NULL || v == NULL)
    return;
  report_items (r, &v->created, REPORT_RES_CREATED);
  report_items (r, &v->removed, REPORT_RES_REMOVED);
  report_items (r, &v->left, REPORT_RES_LEFT);
  report_items (r, &v->suspects, REPORT_RES_SUSPECT);
  cleanup_buf struct buf b = { 0 };
  buf_addf (&b, "checked resources labelled with namespace %s, containers on its networks",
            v->ns ? v->ns : "?");
  if (v->checked_snapshot)
    buf_addf (&b, ", %zu engine resource%s against the snapshot of %s", v->engine_resources,
              v->engine_resources == 1 ? "" : "s", v->snapshot_time ? v->snapshot_time : "up");
  else
    buf_adds (&b, " (no snapshot: no suspects looked for)");
  buf_adds (&b, v->checked_data ? ", data namespaces" : " (data namespaces not checked)");
  if (v->checked_images)
    buf_addf (&b, ", images (--rmi %s)", v->checked_images);
  if (v->forced)
    buf_addf (&b, "; --force removed %zu leftover%s", v->forced, v->forced == 1 ? "" : "s");
  report_verify (r, v->clean, b.data);
}
