/* logs.c - what the provisioner hands the report that only the engine
 * knows: a container's logs written to a file (--logs-dir; its namespace's
 * generated secrets masked) and the engine's own version. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>

#include "data/data.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "report/report.h"
#include "util/json.h"
#include "util/xalloc.h"

struct log_file {
  FILE *f;
  struct data_masker mask;
  struct buf out;
};

static int
log_write (int stream, const char *data, size_t len, void *ctx)
{
  struct log_file *lf = ctx;
  (void) stream;
  buf_reset (&lf->out);
  data_mask_feed (&lf->mask, data, len, &lf->out);
  return fwrite (lf->out.data ? lf->out.data : "", 1, lf->out.len, lf->f) == lf->out.len ? 0 : 1;
}

/* Whether the container runs with a TTY (its logs are then not framed) and
 * its namespace (a new string, NULL without the label); -1 with err set
 * when it cannot be inspected. */
static int
container_info (struct engine *e, const char *enc, bool *tty, char **ns, struct itm_err *err)
{
  cleanup_free char *p = xasprintf ("/containers/%s/json", enc);
  cleanup_json json_object *info = NULL;
  if (engine_get (e, p, &info, err) < 0)
    return -1;
  json_object *t = json_path (info, "Config.Tty");
  *tty = t && json_object_get_boolean (t);
  json_object *labels = json_path (info, "Config.Labels"), *v = NULL;
  *ns = labels && json_object_object_get_ex (labels, ITM_LABEL_NAMESPACE, &v) && v
          ? xstrdup (json_object_get_string (v)) : NULL;
  return 0;
}

int
prov_save_logs (struct engine *e, const char *container, const char *path,
                struct itm_err *err)
{
  cleanup_free char *enc = engine_urlencode (container);
  cleanup_free char *ns = NULL;
  bool raw = false;
  if (container_info (e, enc, &raw, &ns, err) < 0)
    return itm_err_prefix (err, "logs of %s", container);
  /* its namespace's generated secrets are masked (read back: down and run
   * may not have loaded the stack) */
  if (ns && data_secrets_load (ns, err) < 0)
    return itm_err_prefix (err, "logs of %s", container);
  cleanup_fclose FILE *f = fopen (path, "we");
  if (f == NULL)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
  struct log_file lf = { .f = f };
  cleanup_free char *p = xasprintf ("/containers/%s/logs?stdout=1&stderr=1", enc);
  struct engine_call c = { .method = "GET", .path = p, .on_frame = log_write,
                           .frames_raw = raw, .ctx = &lf, .timeout_ms = 60000 };
  int rc = engine_call (e, &c, NULL, err);
  buf_reset (&lf.out);
  data_mask_flush (&lf.mask, &lf.out);
  if (lf.out.len)
    fwrite (lf.out.data, 1, lf.out.len, f);
  buf_free (&lf.out);
  if (rc < 0)
    return itm_err_prefix (err, "logs of %s", container);
  if (fflush (f) != 0 || ferror (f))
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
  return 0;
}

void
prov_report_engine (struct report *r, struct engine *e)
{
  if (r == NULL || e == NULL)
    return;
  cleanup_err struct itm_err err = { 0 };
  cleanup_json json_object *v = NULL;
  const char *version = NULL;
  if (engine_get (e, "/version", &v, &err) == 0)
    version = json_key_str (v, "Version");
  report_engine (r, engine_endpoint (e), version, engine_api_version (e));
}
