/* pull.c - one image pulled: POST /images/create with X-Registry-Auth, its
 * JSON-lines progress followed, failures named by image and registry. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "image/private.h"
#include "util/xalloc.h"

struct pull_ctx {
  struct image_prog *p;
  char *error;
};

static int
on_pull (json_object *v, void *vctx)
{
  struct pull_ctx *pc = vctx;
  const char *msg = jsonl_stream_error (v);
  if (msg)
    {
      if (!pc->error)
        pc->error = xstrdup (msg);
      return 0;
    }
  progress_pull (pc->p, v);
  return 0;
}

static bool
has (const char *s, const char *needle)
{
  return s && strcasestr (s, needle) != NULL;
}

/* The engine's message turned into what went wrong, naming the registry
 * (the caller names the service and image). */
static int
pull_error (struct itm_err *err, const char *domain, const char *msg)
{
  cleanup_free char *m = xstrdup (msg ? msg : "failed");
  itm_err_clear (err);
  if (has (m, "unauthorized") || has (m, "authentication required")
      || has (m, "no basic auth credentials") || has (m, "denied") || has (m, "incorrect username"))
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "registry %s refused the credentials: %s", domain, m);
      itm_err_hint (err, "check the credentials for %s in $DOCKER_CONFIG/config.json or "
                    "~/.docker/config.json (docker login %s)", domain, domain);
    }
  else if (has (m, "not found") || has (m, "manifest unknown") || has (m, "does not exist"))
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "no such image in registry %s: %s", domain, m);
      itm_err_hint (err, "check the image name and tag");
    }
  else if (has (m, "connection refused") || has (m, "no such host") || has (m, "i/o timeout")
           || has (m, "dial tcp") || has (m, "timeout") || has (m, "no route to host")
           || has (m, "server gave HTTP response to HTTPS client"))
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "registry %s is unreachable: %s", domain, m);
      itm_err_hint (err, "is the registry running and reachable from the engine?");
    }
  else
    itm_err_set (err, ITM_EXIT_IMAGE, "registry %s: %s", domain, m);
  err->engine_msg = xstrdup (m);
  return -1;
}

int
image_pull_one (struct engine *e, const char *name, const char *platform, struct image_prog *p,
                atomic_int *cancel, struct itm_err *err)
{
  struct image_ref ref;
  if (image_ref_parse (name, &ref, err) < 0)
    return -1;
  cleanup_free char *auth = NULL;
  if (image_registry_auth (NULL, ref.domain, &auth, err) < 0)
    {
      image_ref_free (&ref);
      return -1;
    }
  cleanup_free char *hdr = auth ? xasprintf ("X-Registry-Auth: %s", auth) : NULL;
  const char *headers[] = { hdr, NULL };
  cleanup_free char *repo = xasprintf ("%s/%s", ref.domain, ref.path);
  cleanup_free char *erepo = engine_urlencode (repo);
  cleanup_free char *etag = engine_urlencode (ref.digest ? ref.digest : ref.tag);
  struct buf q = { 0 };
  buf_addf (&q, "/images/create?fromImage=%s&tag=%s", erepo, etag);
  if (platform)
    {
      char *ep = engine_urlencode (platform);
      buf_addf (&q, "&platform=%s", ep);
      free (ep);
    }
  struct pull_ctx pc = { .p = p };
  struct engine_call c = {
    .method = "POST",
    .path = q.data,
    .headers = hdr ? headers : NULL,
    .on_json = on_pull,
    .ctx = &pc,
    .timeout_ms = -1,
    .cancel = cancel,
  };
  progress_event (p, "pulling", NULL);
  long st = engine_call (e, &c, NULL, err);
  int ret = 0;
  if (st >= 0 && cancel && atomic_load (cancel))
    ret = itm_err_set (err, ITM_EXIT_INTERRUPTED, "pulling %s: interrupted", name);
  else if (st < 0)
    {
      if (err->code == ITM_EXIT_CONNECT)
        ret = -1;
      else
        ret = pull_error (err, ref.domain, err->engine_msg ? err->engine_msg : err->msg);
    }
  else if (pc.error)
    ret = pull_error (err, ref.domain, pc.error);
  if (ret == 0)
    {
      /* the name as the services write it must now resolve */
      int r = image_inspect (e, name, NULL, err);
      if (r == 0)
        ret = itm_err_set (err, ITM_EXIT_IMAGE, "registry %s: the engine has no image by "
                           "that name afterwards", ref.domain);
      else if (r < 0)
        ret = -1;
    }
  progress_event (p, ret == 0 ? "pulled" : "failed", NULL);
  free (pc.error);
  buf_free (&q);
  image_ref_free (&ref);
  return ret;
}
