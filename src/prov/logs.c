/* logs.c - what the provisioner hands the report that only the engine
 * knows: a container's logs written to a file (--logs-dir) and the
 * engine's own version. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>

#include "engine/engine.h"
#include "prov/prov.h"
#include "report/report.h"
#include "util/json.h"
#include "util/xalloc.h"

static int
log_write (int stream, const char *data, size_t len, void *ctx)
{
  FILE *f = ctx;
  (void) stream;
  return fwrite (data, 1, len, f) == len ? 0 : 1;
}

/* Whether the container runs with a TTY (its logs are then not framed);
 * -1 with err set when it cannot be inspected. */
static int
container_tty (struct engine *e, const char *enc, bool *tty, struct itm_err *err)
{
  cleanup_free char *p = xasprintf ("/containers/%s/json", enc);
  cleanup_json json_object *info = NULL;
  if (engine_get (e, p, &info, err) < 0)
    return -1;
  json_object *t = json_path (info, "Config.Tty");
  *tty = t && json_object_get_boolean (t);
  return 0;
}

int
prov_save_logs (struct engine *e, const char *container, const char *path,
                struct itm_err *err)
{
  cleanup_free char *enc = engine_urlencode (container);
  bool raw = false;
  if (container_tty (e, enc, &raw, err) < 0)
    return itm_err_prefix (err, "logs of %s", container);
  cleanup_fclose FILE *f = fopen (path, "we");
  if (f == NULL)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
  cleanup_free char *p = xasprintf ("/containers/%s/logs?stdout=1&stderr=1", enc);
  struct engine_call c = { .method = "GET", .path = p, .on_frame = log_write,
                           .frames_raw = raw, .ctx = f, .timeout_ms = 60000 };
  if (engine_call (e, &c, NULL, err) < 0)
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
