/* itm-fixture.c - the test bed's image tool, built on itm-env's own engine
 * client (so building the fixtures exercises it too).
 *
 *   itm-fixture build TAG DIR [--label K=V]...
 *       POST /build with DIR as the context, streamed by itm-env's image
 *       module (src/image/: libarchive while it is sent, .dockerignore
 *       applied; no temporary tar file, never the whole tar in memory).
 *   itm-fixture import REF ROOTFS.tar [--change INSTR]...
 *       POST /images/create?fromSrc=- with the tar file (or stdin for "-")
 *       streamed as the body.
 *   itm-fixture label REF KEY
 *       print the image label's value; exit 1 if the image or label is missing.
 *
 * The engine comes from -H/--host or $DOCKER_HOST, as for itm-env.  Build
 * and import progress is printed as it arrives.  Exit codes are itm-env's.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "image/image.h"
#include "util/err.h"
#include "util/xalloc.h"

static const char usage[] =
  "usage: itm-fixture [-H HOST] build TAG DIR [--label K=V]...\n"
  "       itm-fixture [-H HOST] import REF ROOTFS.tar [--change INSTR]...\n"
  "       itm-fixture [-H HOST] label REF KEY\n";

/* ---- progress ---- */

static int
on_progress (json_object *v, void *ctx)
{
  json_object *s;
  (void) ctx;
  if (json_object_object_get_ex (v, "stream", &s) && json_object_is_type (s, json_type_string))
    fputs (json_object_get_string (s), stdout);
  else if (json_object_object_get_ex (v, "status", &s)
           && json_object_is_type (s, json_type_string))
    printf ("%s\n", json_object_get_string (s));
  else if (json_object_object_get_ex (v, "aux", &s))
    {
      json_object *id;
      if (json_object_object_get_ex (s, "ID", &id))
        printf ("image %s\n", json_object_get_string (id));
    }
  fflush (stdout);
  return 0;
}

static size_t
fd_read_cb (char *buf, size_t size, void *ctx)
{
  int fd = *(int *) ctx;
  for (;;)
    {
      ssize_t n = read (fd, buf, size);
      if (n >= 0)
        return (size_t) n;
      if (errno != EINTR)
        return (size_t) 0x10000000; /* CURL_READFUNC_ABORT */
    }
}

/* ---- commands ---- */

static int
cmd_build (struct engine *e, int argc, char **argv, struct itm_err *err)
{
  if (argc < 2)
    return itm_err_set (err, ITM_EXIT_USAGE, "build: TAG and DIR are needed");
  const char *tag = argv[0], *dir = argv[1];
  json_object *labels = json_object_new_object ();
  for (int i = 2; i < argc; i++)
    {
      const char *kv = NULL;
      if (strcmp (argv[i], "--label") == 0 && i + 1 < argc)
        kv = argv[++i];
      else if (strncmp (argv[i], "--label=", 8) == 0)
        kv = argv[i] + 8;
      const char *eq = kv ? strchr (kv, '=') : NULL;
      if (!eq)
        {
          json_object_put (labels);
          return itm_err_set (err, ITM_EXIT_USAGE, "build: bad argument '%s'", argv[i]);
        }
      char *k = xstrndup (kv, (size_t) (eq - kv));
      json_object_object_add (labels, k, json_object_new_string (eq + 1));
      free (k);
    }
  if (access (dir, R_OK | X_OK) < 0)
    {
      json_object_put (labels);
      return itm_err_errno (err, ITM_EXIT_USAGE, "build: %s", dir);
    }

  cleanup_free char *etag = engine_urlencode (tag);
  cleanup_free char *elabels = engine_urlencode (json_object_to_json_string_ext (
    labels, JSON_C_TO_STRING_PLAIN));
  json_object_put (labels);
  cleanup_free char *path = xasprintf ("/build?t=%s&labels=%s&rm=1&forcerm=1", etag, elabels);

  struct image_context *tc = image_context_open (dir, NULL, err);
  if (tc == NULL)
    return itm_err_prefix (err, "build %s", tag);
  struct engine_call c = {
    .method = "POST",
    .path = path,
    .read_cb = image_context_read,
    .read_ctx = tc,
    .content_type = "application/x-tar",
    .on_json = on_progress,
    .stream_errors = true,
    .timeout_ms = -1,
  };
  long st = engine_call (e, &c, NULL, err);
  struct itm_err cerr = { 0 };
  if (image_context_error (tc, &cerr) < 0)
    {
      itm_err_move (err, &cerr);
      itm_err_prefix (err, "build %s", tag);
      image_context_free (tc);
      return -1;
    }
  image_context_free (tc);
  if (st < 0)
    return itm_err_prefix (err, "build %s", tag);
  return 0;
}

static int
cmd_import (struct engine *e, int argc, char **argv, struct itm_err *err)
{
  if (argc < 2)
    return itm_err_set (err, ITM_EXIT_USAGE, "import: REF and ROOTFS.tar are needed");
  const char *ref = argv[0], *file = argv[1];
  struct buf q = { 0 };
  cleanup_free char *repo = NULL;
  const char *colon = strrchr (ref, ':');
  const char *tag = "latest";

  if (colon && !strchr (colon, '/'))
    {
      repo = xstrndup (ref, (size_t) (colon - ref));
      tag = colon + 1;
    }
  else
    repo = xstrdup (ref);
  cleanup_free char *erepo = engine_urlencode (repo);
  cleanup_free char *etag = engine_urlencode (tag);
  buf_addf (&q, "/images/create?fromSrc=-&repo=%s&tag=%s", erepo, etag);
  for (int i = 2; i < argc; i++)
    {
      const char *instr = NULL;
      if (strcmp (argv[i], "--change") == 0 && i + 1 < argc)
        instr = argv[++i];
      else if (strncmp (argv[i], "--change=", 9) == 0)
        instr = argv[i] + 9;
      if (!instr)
        {
          buf_free (&q);
          return itm_err_set (err, ITM_EXIT_USAGE, "import: bad argument '%s'", argv[i]);
        }
      char *ei = engine_urlencode (instr);
      buf_addf (&q, "&changes=%s", ei);
      free (ei);
    }

  int fd = strcmp (file, "-") == 0 ? dup (0) : open (file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      buf_free (&q);
      return itm_err_errno (err, ITM_EXIT_USAGE, "import: %s", file);
    }
  struct engine_call c = {
    .method = "POST",
    .path = q.data,
    .read_cb = fd_read_cb,
    .read_ctx = &fd,
    .content_type = "application/x-tar",
    .on_json = on_progress,
    .stream_errors = true,
    .timeout_ms = -1,
  };
  long st = engine_call (e, &c, NULL, err);
  close (fd);
  buf_free (&q);
  if (st < 0)
    return itm_err_prefix (err, "import %s", ref);
  return 0;
}

static int
cmd_label (struct engine *e, int argc, char **argv, struct itm_err *err)
{
  if (argc != 2)
    return itm_err_set (err, ITM_EXIT_USAGE, "label: REF and KEY are needed");
  cleanup_free char *eref = engine_urlencode (argv[0]);
  cleanup_free char *path = xasprintf ("/images/%s/json", eref);
  json_object *img = NULL, *cfg, *labels, *v;

  if (engine_get (e, path, &img, err) < 0)
    {
      if (err->code == ITM_EXIT_NOT_FOUND)
        {
          itm_err_clear (err);
          return 1;
        }
      return -1;
    }
  int ret = 1;
  if (json_object_object_get_ex (img, "Config", &cfg)
      && json_object_object_get_ex (cfg, "Labels", &labels)
      && json_object_object_get_ex (labels, argv[1], &v))
    {
      printf ("%s\n", json_object_get_string (v));
      ret = 0;
    }
  json_object_put (img);
  return ret;
}

int
main (int argc, char **argv)
{
  struct engine_config cfg = { 0 };
  cleanup_err struct itm_err err = { 0 };
  int i = 1;

  signal (SIGPIPE, SIG_IGN);
  if (i + 1 < argc && (strcmp (argv[i], "-H") == 0 || strcmp (argv[i], "--host") == 0))
    {
      cfg.host = argv[i + 1];
      i += 2;
    }
  if (i >= argc)
    {
      fputs (usage, stderr);
      return ITM_EXIT_USAGE;
    }
  const char *cmd = argv[i++];
  int (*fn) (struct engine *, int, char **, struct itm_err *) = NULL;
  if (strcmp (cmd, "build") == 0)
    fn = cmd_build;
  else if (strcmp (cmd, "import") == 0)
    fn = cmd_import;
  else if (strcmp (cmd, "label") == 0)
    fn = cmd_label;
  else
    {
      fputs (usage, stderr);
      return ITM_EXIT_USAGE;
    }

  cleanup_engine struct engine *e = engine_open (&cfg, &err);
  int ret = -1;
  if (e && engine_negotiate (e, &err) == 0)
    ret = fn (e, argc - i, argv + i, &err);
  if (ret < 0)
    {
      fprintf (stderr, "itm-fixture: %s", err.msg ? err.msg : "failed");
      if (err.engine_msg && (!err.msg || !strstr (err.msg, err.engine_msg)))
        fprintf (stderr, ": %s", err.engine_msg);
      fputc ('\n', stderr);
      if (err.hint)
        fprintf (stderr, "hint: %s\n", err.hint);
      return err.code ? err.code : ITM_EXIT_FAILURE;
    }
  return ret;
}
