/* verify.c - the teardown verifier's result (src/verify/) into a report:
 * what the namespace had, what went, what is left, the suspects, and the
 * verdict. */
#include <config.h>

#include "report/report.h"
#include "util/xalloc.h"
#include "verify/verify.h"

static const char *
kind (enum verify_kind k)
{
  return k == VERIFY_DATA_NS ? "data-namespace" : verify_kind_name (k);
}

static void
items (struct report *r, const struct verify_list *l, enum report_res status)
{
  for (size_t i = 0; i < l->n; i++)
    {
      const struct verify_item *it = &l->v[i];
      if (it->id && it->name && it->kind != VERIFY_DATA_NS)
        report_resource_id (r, kind (it->kind), it->id, it->name);
      if (status == REPORT_RES_LEFT && it->removed)
        {
          cleanup_free char *d = xasprintf ("leftover removed by --force: %s",
                                            it->reason ? it->reason : "");
          report_resource (r, kind (it->kind), it->name, REPORT_RES_LEFT, NULL);
          report_resource (r, kind (it->kind), it->name, REPORT_RES_REMOVED, d);
        }
      else
        report_resource (r, kind (it->kind), it->name, status, it->reason);
    }
}

void
report_verification (struct report *r, const struct verify_result *v)
{
  if (r == NULL || v == NULL)
    return;
  items (r, &v->created, REPORT_RES_CREATED);
  items (r, &v->removed, REPORT_RES_REMOVED);
  items (r, &v->left, REPORT_RES_LEFT);
  items (r, &v->suspects, REPORT_RES_SUSPECT);
  cleanup_buf struct buf b = { 0 };
  buf_addf (&b, "checked resources labelled with namespace %s, containers on its networks",
            v->ns ? v->ns : "?");
  if (v->checked_snapshot)
    buf_addf (&b, ", %zu engine resources against the snapshot of %s", v->engine_resources,
              v->snapshot_time ? v->snapshot_time : "up");
  else
    buf_adds (&b, " (no snapshot: no suspects looked for)");
  buf_adds (&b, v->checked_data ? ", data namespaces" : " (data namespaces not checked)");
  if (v->checked_images)
    buf_addf (&b, ", images (--rmi %s)", v->checked_images);
  if (v->forced)
    buf_addf (&b, "; --force removed %zu leftover%s", v->forced, v->forced == 1 ? "" : "s");
  report_verify (r, v->clean, b.data);
}
