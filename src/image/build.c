/* build.c - one service's image built from its context: the digest cache
 * (no build request when an image with the digest exists), then POST /build
 * with the context streamed, its output followed: the classic builder's
 * "stream" text, or BuildKit's (version=2) trace messages through
 * buildkit.c.  The build digest label goes in with the build's labels
 * parameter in both cases (no extra LABEL step). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include "engine/engine.h"
#include "image/private.h"
#include "image/session.h"
#include "out/out.h"
#include "stack/stack.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/xalloc.h"

int
image_inspect (struct engine *e, const char *name, json_object **out, struct itm_err *err)
{
  cleanup_free char *en = engine_urlencode (name);
  cleanup_free char *path = xasprintf ("/images/%s/json", en);
  json_object *res = NULL;
  if (engine_get (e, path, &res, err) < 0)
    {
      if (err->code == ITM_EXIT_NOT_FOUND)
        {
          itm_err_clear (err);
          return 0;
        }
      return -1;
    }
  if (out)
    *out = res;
  else
    json_object_put (res);
  return 1;
}

bool
image_is_current (struct engine *e, const char *image, const char *image_id)
{
  if (image == NULL || image_id == NULL || *image_id == '\0')
    return true;
  json_object *img = NULL, *id = NULL;
  struct itm_err err = { 0 };
  bool current = true;
  if (image_inspect (e, image, &img, &err) > 0 && json_object_object_get_ex (img, "Id", &id))
    current = strcmp (json_object_get_string (id), image_id) == 0;
  json_object_put (img);
  itm_err_clear (&err);
  return current;
}

/* The build's inputs besides the context, canonical (part of the digest). */
static char *
build_inputs (const struct stack_service *svc, json_object **args)
{
  const struct stack_build *b = &svc->build;
  struct buf x = { 0 };
  *args = json_object_new_object ();
  buf_adds (&x, "\n");
  for (size_t i = 0; i < b->args.n; i++)
    {
      const char *v = b->args.v[i].value ? b->args.v[i].value : getenv (b->args.v[i].name);
      if (v == NULL)
        continue;   /* no value anywhere: not passed, as Compose */
      json_object_object_add (*args, b->args.v[i].name, json_object_new_string (v));
      buf_addf (&x, "arg %zu:%s=%zu:%s\n", strlen (b->args.v[i].name), b->args.v[i].name,
                strlen (v), v);
    }
  if (b->target)
    buf_addf (&x, "target %s\n", b->target);
  for (size_t i = 0; i < b->labels.n; i++)
    {
      const char *v = b->labels.v[i].value ? b->labels.v[i].value : "";
      buf_addf (&x, "label %zu:%s=%zu:%s\n", strlen (b->labels.v[i].name), b->labels.v[i].name,
                strlen (v), v);
    }
  if (b->network)
    buf_addf (&x, "network %s\n", b->network);
  for (size_t i = 0; i < b->extra_hosts.n; i++)
    buf_addf (&x, "host %s:%s\n", b->extra_hosts.v[i].name,
              b->extra_hosts.v[i].value ? b->extra_hosts.v[i].value : "");
  if (b->shm_size)
    buf_addf (&x, "shm %llu\n", (unsigned long long) b->shm_size);
  if (svc->platform)
    buf_addf (&x, "platform %s\n", svc->platform);
  /* build secrets: their ids and sources, never their values (BuildKit's
   * own cache does not look at them either) */
  for (size_t i = 0; i < b->ssh.n; i++)
    buf_addf (&x, "ssh %s\n", b->ssh.v[i].name);
  for (size_t i = 0; i < b->nsecrets; i++)
    buf_addf (&x, "secret %s=%s\n", b->secrets[i].target ? b->secrets[i].target
                                                          : b->secrets[i].source,
              b->secrets[i].source);
  return buf_steal (&x);
}

/* An image with this digest: by name first, then any image carrying it
 * (tagged as name then).  1 found, 0 not, -1 error. */
static int
find_cached (struct engine *e, const char *name, const char *digest, struct itm_err *err)
{
  json_object *img = NULL;
  int r = image_inspect (e, name, &img, err);
  if (r < 0)
    return -1;
  const char *d = json_label (img, IMAGE_LABEL_BUILD_DIGEST);
  bool same = d && strcmp (d, digest) == 0;
  json_object_put (img);
  if (same)
    return 1;
  cleanup_free char *lbl = xasprintf ("%s=%s", IMAGE_LABEL_BUILD_DIGEST, digest);
  const char *vals[] = { lbl };
  cleanup_free char *f = engine_filters ("label", vals, 1);
  cleanup_free char *path = xasprintf ("/images/json?filters=%s", f);
  json_object *list = NULL;
  if (engine_get (e, path, &list, err) < 0)
    return -1;
  int found = 0;
  if (json_object_is_type (list, json_type_array) && json_object_array_length (list) > 0)
    {
      json_object *id;
      if (json_object_object_get_ex (json_object_array_get_idx (list, 0), "Id", &id))
        {
          struct itm_err perr = { 0 };
          /* tag it: repo and tag as the name gives them */
          const char *slash = strrchr (name, '/');
          const char *colon = strrchr (slash ? slash : name, ':');
          cleanup_free char *repo = colon ? xstrndup (name, (size_t) (colon - name))
                                          : xstrdup (name);
          const char *tag = colon ? colon + 1 : "latest";
          cleanup_free char *erepo = engine_urlencode (repo);
          cleanup_free char *etag = engine_urlencode (tag);
          cleanup_free char *tp = xasprintf ("/images/%s/tag?repo=%s&tag=%s",
                                             json_object_get_string (id), erepo, etag);
          if (engine_post (e, tp, NULL, NULL, &perr) == 0)
            found = 1;
          itm_err_clear (&perr);
        }
    }
  json_object_put (list);
  return found;
}

int
image_builder_parse (const char *value, const char *what, enum image_builder *out,
                     struct itm_err *err)
{
  if (strcmp (value, "auto") == 0)
    *out = IMAGE_BUILDER_AUTO;
  else if (strcmp (value, "classic") == 0)
    *out = IMAGE_BUILDER_CLASSIC;
  else if (strcmp (value, "buildkit") == 0)
    *out = IMAGE_BUILDER_BUILDKIT;
  else
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: expected auto, classic or buildkit, got '%s'",
                        what, value);
  return 0;
}

struct build_ctx {
  struct image_prog *p;
  struct bk_trace *bk;         /* BuildKit's progress, or NULL (classic) */
  char *error;
  char *error_detail;
  char *id;
};

static void
bk_line (void *ctx, const char *text)
{
  progress_build (ctx, text);
}

static int
on_build (json_object *v, void *vctx)
{
  struct build_ctx *b = vctx;
  json_object *s, *id;
  if (json_object_object_get_ex (v, "stream", &s) && json_object_is_type (s, json_type_string))
    progress_build (b->p, json_object_get_string (s));
  if (json_object_object_get_ex (v, "aux", &s))
    {
      const char *kind = json_str (v, "id");
      if (json_object_is_type (s, json_type_string))
        {
          /* BuildKit: a base64 StatusResponse (a payload that does not
           * decode is skipped: progress only) */
          if (b->bk && kind && strcmp (kind, "moby.buildkit.trace") == 0)
            bk_trace_feed (b->bk, json_object_get_string (s), bk_line, b->p);
        }
      else if (json_object_object_get_ex (s, "ID", &id) && !b->id)
        b->id = xstrdup (json_object_get_string (id));   /* classic, or "moby.image.id" */
    }
  const char *msg = jsonl_stream_error (v);
  if (msg && !b->error)
    b->error = xstrdup (msg);
  return 0;
}

/* The /build query: tag, Dockerfile, args, labels (the build digest
 * among them), target, network, extra hosts, shm size, platform. */
static char *
build_query (const struct stack_service *svc, const char *name, const char *dockerfile,
             json_object *args, const char *digest, const char *buildid, const char *session)
{
  const struct stack_build *b = &svc->build;
  struct buf q = { 0 };
  cleanup_free char *en = engine_urlencode (name);
  cleanup_free char *edf = engine_urlencode (dockerfile);
  buf_addf (&q, "/build?t=%s&dockerfile=%s&rm=1&forcerm=1", en, edf);
  if (buildid)
    buf_addf (&q, "&version=2&buildid=%s", buildid);
  if (session)
    buf_addf (&q, "&session=%s", session);
  if (json_object_object_length (args) > 0)
    {
      char *ea = engine_urlencode (json_object_to_json_string_ext (args, JSON_C_TO_STRING_PLAIN));
      buf_addf (&q, "&buildargs=%s", ea);
      free (ea);
    }
  cleanup_json json_object *labels = json_object_new_object ();
  for (size_t i = 0; i < b->labels.n; i++)
    json_object_object_add (labels, b->labels.v[i].name,
                            json_object_new_string (b->labels.v[i].value ? b->labels.v[i].value
                                                                         : ""));
  json_object_object_add (labels, IMAGE_LABEL_BUILD_DIGEST, json_object_new_string (digest));
  char *el = engine_urlencode (json_object_to_json_string_ext (labels, JSON_C_TO_STRING_PLAIN));
  buf_addf (&q, "&labels=%s", el);
  free (el);
  if (b->target)
    {
      char *t = engine_urlencode (b->target);
      buf_addf (&q, "&target=%s", t);
      free (t);
    }
  if (b->network)
    {
      char *t = engine_urlencode (b->network);
      buf_addf (&q, "&networkmode=%s", t);
      free (t);
    }
  if (b->extra_hosts.n)
    {
      struct buf h = { 0 };
      for (size_t i = 0; i < b->extra_hosts.n; i++)
        buf_addf (&h, "%s%s:%s", i ? "," : "", b->extra_hosts.v[i].name,
                  b->extra_hosts.v[i].value ? b->extra_hosts.v[i].value : "");
      char *t = engine_urlencode (h.data);
      buf_addf (&q, "&extrahosts=%s", t);
      free (t);
      buf_free (&h);
    }
  if (b->shm_size)
    buf_addf (&q, "&shmsize=%llu", (unsigned long long) b->shm_size);
  if (svc->platform)
    {
      char *t = engine_urlencode (svc->platform);
      buf_addf (&q, "&platform=%s", t);
      free (t);
    }
  return buf_steal (&q);
}

/* The outcome of a build request (st: engine_call's result): interrupted,
 * a context that could not be streamed, a failed request, or an "error"
 * in the build's output.  0, or -1 with err set. */
static int
build_outcome (const struct stack_service *svc, const char *name, struct image_context *c,
               const struct build_ctx *bc, long st, atomic_int *cancel, struct itm_err *err)
{
  struct itm_err cerr = { 0 };
  if (st >= 0 && cancel && atomic_load (cancel))
    /* the engine stops the build when its client goes away */
    return itm_err_set (err, ITM_EXIT_INTERRUPTED, "service %s: building image %s: interrupted",
                        svc->name, name);
  if (image_context_error (c, &cerr) < 0)
    {
      itm_err_move (err, &cerr);
      return itm_err_prefix (err, "service %s: build context %s", svc->name, svc->build.context);
    }
  if (st < 0)
    {
      err->code = ITM_EXIT_IMAGE;
      return itm_err_prefix (err, "service %s: building image %s", svc->name, name);
    }
  if (bc->error)
    {
      if (bc->p->step)
        itm_err_set (err, ITM_EXIT_IMAGE, "service %s: building image %s failed at %s: %s",
                     svc->name, name, bc->p->step, bc->error);
      else
        itm_err_set (err, ITM_EXIT_IMAGE, "service %s: building image %s failed: %s", svc->name,
                     name, bc->error);
      free (err->engine_msg);
      err->engine_msg = xstrdup (bc->error);
      const char *nf = bc->bk ? strstr (bc->error, "secret ") : NULL;
      if (nf && strstr (nf, "not found"))
        itm_err_hint (err, "a RUN --mount=type=secret,id=ID needs ID among the service's "
                      "build.secrets, each a top-level secret with file: or environment: "
                      "(see BUILDING in itm-env(1))");
      else if (bc->bk && strstr (bc->error, "no active session"))
        /* BuildKit asked the client for something only a session serves */
        itm_err_hint (err, "itm-env's BuildKit builds have no client session: RUN "
                      "--mount=type=secret or type=ssh and registry credentials for FROM "
                      "images cannot be served (see BUILDING in itm-env(1))");
      return -1;
    }
  return 0;
}

/* POST /build with the context streamed as the body. */
static int
build_send (struct engine *e, const struct stack_service *svc, const char *name,
            struct image_context *c, const char *query, const char *buildid,
            struct image_prog *p, atomic_int *cancel, struct itm_err *err)
{
  struct build_ctx bc = { .p = p, .bk = buildid ? bk_trace_new () : NULL };
  progress_event (p, "building", NULL);
  struct engine_call call = {
    .method = "POST",
    .path = query,
    .read_cb = image_context_read,
    .read_ctx = c,
    .content_type = "application/x-tar",
    .on_json = on_build,
    .ctx = &bc,
    .timeout_ms = -1,
    .cancel = cancel,
  };
  long st = engine_call (e, &call, NULL, err);
  if (buildid && cancel && atomic_load (cancel))
    {
      /* BuildKit: the engine cancels a build whose client went away, and
       * POST /build/cancel says so at once (its answer does not matter) */
      cleanup_free char *cp = xasprintf ("/build/cancel?id=%s", buildid);
      struct itm_err cerr = { 0 };
      engine_post (e, cp, NULL, NULL, &cerr);
      itm_err_clear (&cerr);
    }
  char *step = NULL, **lines = NULL;
  size_t nlines = 0;
  if (bc.bk && bk_trace_failed (bc.bk, &step, &lines, &nlines))
    {
      /* the failed step's own output, even when other steps ran beside it */
      progress_build_step (p, step, lines, nlines);
      for (size_t i = 0; i < nlines; i++)
        free (lines[i]);
      free (lines);
      free (step);
    }
  int ret = build_outcome (svc, name, c, &bc, st, cancel, err);
  progress_event (p, ret < 0 ? "failed" : "built", ret < 0 ? NULL : bc.id);
  free (bc.error);
  free (bc.error_detail);
  free (bc.id);
  bk_trace_free (bc.bk);
  return ret;
}

/* The service's build secrets as the session serves them: the id is the
 * target when given, else the source (as Compose). */
static struct bk_secret *
build_secrets (const struct stack *st, const struct stack_build *b, struct itm_err *err)
{
  struct bk_secret *v = xcalloc (b->nsecrets + 1, sizeof *v);
  for (size_t i = 0; i < b->nsecrets; i++)
    {
      const struct stack_file_ref *r = &b->secrets[i];
      const struct stack_object *o = st ? stack_secret (st, r->source) : NULL;
      if (o == NULL || (o->file == NULL && o->environment == NULL))
        {
          /* the loader checks this; a stack built another way may not */
          itm_err_set (err, ITM_EXIT_IMAGE, "build secret %s: not a top-level secret with file: "
                       "or environment:", r->source);
          free (v);
          return NULL;
        }
      v[i] = (struct bk_secret){ .id = r->target ? r->target : r->source, .file = o->file,
                                 .value = o->file ? NULL : o->env_value };
    }
  return v;
}

/* The service's ssh agents to forward (build.ssh): "default" without a
 * path is $SSH_AUTH_SOCK; a relative path is the project directory's.
 * paths gets what must be freed (n entries). */
static struct bk_ssh *
build_ssh (const struct stack *st, const struct stack_build *b, char ***paths,
           struct itm_err *err)
{
  struct bk_ssh *v = xcalloc (b->ssh.n + 1, sizeof *v);
  *paths = xcalloc (b->ssh.n + 1, sizeof **paths);
  for (size_t i = 0; i < b->ssh.n; i++)
    {
      const char *id = b->ssh.v[i].name, *path = b->ssh.v[i].value;
      if (path == NULL || *path == '\0')
        path = getenv ("SSH_AUTH_SOCK");
      if (path == NULL || *path == '\0')
        {
          itm_err_set (err, ITM_EXIT_IMAGE, "build.ssh: %s: no agent socket given and "
                       "SSH_AUTH_SOCK is not set", id);
          itm_err_hint (err, "start an agent (eval $(ssh-agent); ssh-add), or write %s=PATH", id);
          break;
        }
      (*paths)[i] = path[0] == '/' || st == NULL ? xstrdup (path)
                                                 : xasprintf ("%s/%s", st->project_dir, path);
      v[i] = (struct bk_ssh){ .id = id, .path = (*paths)[i] };
      /* as the docker CLI: an agent that is not there fails now, not in a RUN */
      struct stat sb;
      if (stat ((*paths)[i], &sb) < 0)
        {
          itm_err_set (err, ITM_EXIT_IMAGE, "build.ssh: %s: %s: %s", id, (*paths)[i],
                       strerror (errno));
          break;
        }
      if (!S_ISSOCK (sb.st_mode))
        {
          itm_err_set (err, ITM_EXIT_IMAGE, "build.ssh: %s: %s: not a socket (an ssh agent's)",
                       id, (*paths)[i]);
          break;
        }
    }
  if (err->code == 0)
    return v;
  for (size_t i = 0; i < b->ssh.n; i++)
    free ((*paths)[i]);
  free (*paths);
  *paths = NULL;
  free (v);
  return NULL;
}

int
image_build_one (struct engine *e, const struct stack *st, const struct stack_service *svc,
                 const char *name, int build, enum image_builder builder, struct image_prog *p,
                 atomic_int *cancel, struct itm_err *err)
{
  const struct stack_build *b = &svc->build;
  if (build < 0)
    {
      int r = image_inspect (e, name, NULL, err);
      if (r < 0)
        return -1;
      if (r == 0)
        {
          itm_err_set (err, ITM_EXIT_IMAGE, "service %s: image %s does not exist and --no-build "
                       "forbids building it", svc->name, name);
          return itm_err_hint (err, "run without --no-build, or 'itm-env build %s'", svc->name);
        }
      progress_event (p, "exists", NULL);
      return 0;
    }
  if (strstr (b->context, "://") || strncmp (b->context, "git@", 4) == 0)
    return itm_err_set (err, ITM_EXIT_IMAGE, "service %s: build context %s: remote contexts "
                        "are not supported", svc->name, b->context);
  struct image_context *c = image_context_open (b->context, b->dockerfile, err);
  if (c == NULL)
    return itm_err_prefix (err, "service %s", svc->name);
  cleanup_json json_object *args = NULL;
  cleanup_free char *inputs = build_inputs (svc, &args);
  char digest[65];
  int r = 0;
  if (image_context_digest (c, inputs, digest, err) < 0)
    r = itm_err_prefix (err, "service %s", svc->name);
  else if (build == 0)
    r = find_cached (e, name, digest, err);
  if (r > 0)
    progress_event (p, "cached", digest);
  if (r == 0)
    {
      if (builder == IMAGE_BUILDER_AUTO)
        /* the engine's BuildKit answers version=2 from API 1.39 (18.09) on */
        builder = engine_api_cmp (e, "1.39") >= 0 ? IMAGE_BUILDER_BUILDKIT
                                                 : IMAGE_BUILDER_CLASSIC;
      cleanup_free char *buildid = NULL;
      cleanup_free struct bk_secret *secrets = NULL;
      cleanup_free struct bk_ssh *ssh = NULL;
      char **ssh_paths = NULL;
      struct bk_session *sess = NULL;
      if (builder != IMAGE_BUILDER_BUILDKIT && (b->nsecrets || b->ssh.n))
        out_warn ("service %s: build.%s need BuildKit: the classic builder ignores them",
                  svc->name, b->nsecrets ? "secrets" : "ssh");
      if (builder == IMAGE_BUILDER_BUILDKIT)
        {
          buildid = xasprintf ("itm-env-%ld-%lld", (long) getpid (), (long long) mono_ns ());
          /* a session, as the docker CLI opens for every build: it serves
           * the build's secrets (BuildKit asks for nothing else of it) */
          secrets = build_secrets (st, b, err);
          if (secrets)
            ssh = build_ssh (st, b, &ssh_paths, err);
          if (secrets == NULL || ssh == NULL)
            r = itm_err_prefix (err, "service %s", svc->name);
          else
            {
              struct itm_err serr = { 0 };
              sess = bk_session_start (e, svc->name, secrets, b->nsecrets, ssh, b->ssh.n, &serr);
              if (sess == NULL && (b->nsecrets || b->ssh.n))
                {
                  /* without one, a build that needs its secrets cannot work */
                  itm_err_move (err, &serr);
                  r = itm_err_prefix (err, "service %s: build %s", svc->name,
                                      b->nsecrets ? "secrets" : "ssh");
                }
              itm_err_clear (&serr);
            }
        }
      if (r == 0)
        {
          cleanup_free char *query = build_query (svc, name, image_context_dockerfile (c), args,
                                                  digest, buildid,
                                                  sess ? bk_session_id (sess) : NULL);
          r = build_send (e, svc, name, c, query, buildid, p, cancel, err);
        }
      bk_session_stop (sess);
      for (size_t i = 0; ssh_paths && i < b->ssh.n; i++)
        free (ssh_paths[i]);
      free (ssh_paths);
    }
  image_context_free (c);
  return r < 0 ? -1 : 0;
}
