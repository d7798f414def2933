/* exec.c - commands and files into a container: exec with its output and
 * exit code, and a tar stream built with libarchive (PUT archive). */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "engine/engine.h"
#include "util/json.h"

#define OUT_CAP (64 * 1024)

static int
collect (int stream, const char *data, size_t len, void *ctx)
{
  struct buf *b = ctx;
  if (b->len < OUT_CAP)
    buf_add (b, data, len < OUT_CAP - b->len ? len : OUT_CAP - b->len);
  return 0;
}

static json_object *
strv_json (const char *const *v)
{
  json_object *a = json_object_new_array ();
  for (; v && *v; v++)
    json_object_array_add (a, json_object_new_string (*v));
  return a;
}

int
data_exec_run (struct engine *e, const char *cid, const struct data_exec *x, struct buf *out,
               int *exit_code, struct itm_err *err)
{
  cleanup_json json_object *body = json_object_new_object ();
  json_object_object_add (body, "Cmd", strv_json (x->argv));
  if (x->env && *x->env)
    json_object_object_add (body, "Env", strv_json (x->env));
  if (x->user && *x->user)
    json_object_object_add (body, "User", json_object_new_string (x->user));
  if (x->workdir && *x->workdir)
    json_object_object_add (body, "WorkingDir", json_object_new_string (x->workdir));
  json_object_object_add (body, "AttachStdout", json_object_new_boolean (1));
  json_object_object_add (body, "AttachStderr", json_object_new_boolean (1));
  cleanup_json json_object *created = NULL;
  cleanup_free char *path = xasprintf ("/containers/%s/exec", cid);
  if (engine_post (e, path, body, &created, err) < 0)
    return itm_err_prefix (err, "exec");
  const char *id = json_str (created, "Id");
  cleanup_free char *spath = xasprintf ("/exec/%s/start", id ? id : "");
  cleanup_free char *ipath = xasprintf ("/exec/%s/json", id ? id : "");
  cleanup_json json_object *sb = json_object_new_object ();
  json_object_object_add (sb, "Detach", json_object_new_boolean (0));
  json_object_object_add (sb, "Tty", json_object_new_boolean (0));
  buf_adds (out, "");
  struct engine_call c = {
    .method = "POST", .path = spath, .body = sb, .on_frame = collect, .ctx = out,
    .timeout_ms = x->timeout_ms ? x->timeout_ms : 600000,
  };
  if (engine_call (e, &c, NULL, err) < 0)
    return itm_err_prefix (err, "exec");
  cleanup_json json_object *res = NULL;
  if (engine_get (e, ipath, &res, err) < 0)
    return -1;
  *exit_code = (int) json_int (res, "ExitCode", -1);
  return 0;
}

/* ---- tar ---- */
static int
tar_write (struct archive *a, void *ctx, const void *data, size_t n)
{
  buf_add (ctx, data, n);
  return (int) n;
}

static ssize_t
tar_write_cb (struct archive *a, void *ctx, const void *data, size_t n)
{
  return tar_write (a, ctx, data, n);
}

static int add_path (struct archive *a, const char *path, const char *name, struct itm_err *err);

static int
add_dir (struct archive *a, const char *path, const char *name, struct itm_err *err)
{
  DIR *d = opendir (path);
  if (d == NULL)
    return itm_err_errno (err, ITM_EXIT_DATA, "cannot read directory %s", path);
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", path, de->d_name);
      cleanup_free char *nm = xasprintf ("%s/%s", name, de->d_name);
      ret = add_path (a, p, nm, err);
    }
  closedir (d);
  return ret;
}

static int
add_path (struct archive *a, const char *path, const char *name, struct itm_err *err)
{
  struct stat sb;
  if (stat (path, &sb) < 0)
    return itm_err_errno (err, ITM_EXIT_DATA, "cannot read %s", path);
  struct archive_entry *en = archive_entry_new ();
  archive_entry_set_pathname (en, name);
  archive_entry_set_mode (en, sb.st_mode);
  archive_entry_set_mtime (en, sb.st_mtime, 0);
  archive_entry_set_uid (en, 0);
  archive_entry_set_gid (en, 0);
  archive_entry_set_size (en, S_ISREG (sb.st_mode) ? sb.st_size : 0);
  if (!S_ISREG (sb.st_mode) && !S_ISDIR (sb.st_mode))
    {
      archive_entry_free (en);
      return itm_err_set (err, ITM_EXIT_DATA, "%s: not a file or directory", path);
    }
  int ret = 0;
  if (archive_write_header (a, en) != ARCHIVE_OK)
    ret = itm_err_set (err, ITM_EXIT_DATA, "tar: %s", archive_error_string (a));
  archive_entry_free (en);
  if (ret < 0)
    return ret;
  if (S_ISDIR (sb.st_mode))
    return add_dir (a, path, name, err);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_DATA, "cannot read %s", path);
  char chunk[65536];
  ssize_t r;
  while ((r = read (fd, chunk, sizeof chunk)) > 0)
    if (archive_write_data (a, chunk, (size_t) r) < 0)
      return itm_err_set (err, ITM_EXIT_DATA, "tar: %s", archive_error_string (a));
  if (r < 0)
    return itm_err_errno (err, ITM_EXIT_DATA, "cannot read %s", path);
  return 0;
}

int
data_copy_in (struct engine *e, const char *cid, const char *const *paths, size_t n,
              const char *dir, struct itm_err *err)
{
  cleanup_buf struct buf tar = { 0 };
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  if (archive_write_open (a, &tar, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
    {
      itm_err_set (err, ITM_EXIT_DATA, "tar: %s", archive_error_string (a));
      archive_write_free (a);
      return -1;
    }
  int ret = 0;
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      cleanup_free char *copy = xstrdup (paths[i]);
      ret = add_path (a, paths[i], basename (copy), err);
    }
  if (archive_write_close (a) != ARCHIVE_OK && ret == 0)
    ret = itm_err_set (err, ITM_EXIT_DATA, "tar: %s", archive_error_string (a));
  archive_write_free (a);
  if (ret < 0)
    return ret;
  /* the target directory must exist: make it first */
  const char *mk[] = { "mkdir", "-p", dir, NULL };
  struct data_exec x = { .argv = mk, .user = "0" };
  cleanup_buf struct buf out = { 0 };
  int ec = 0;
  if (data_exec_run (e, cid, &x, &out, &ec, err) < 0)
    return -1;
  cleanup_free char *q = engine_urlencode (dir);
  cleanup_free char *path = xasprintf ("/containers/%s/archive?path=%s", cid, q);
  struct engine_call c = { .method = "PUT", .path = path, .raw = tar.data, .raw_len = tar.len,
                           .content_type = "application/x-tar" };
  if (engine_call (e, &c, NULL, err) < 0)
    return itm_err_prefix (err, "copying into %s", dir);
  return 0;
}
