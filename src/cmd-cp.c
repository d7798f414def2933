/* cmd-cp.c - itm-env cp: files between a service's container and the host,
 * both ways through the engine's archive API (GET and PUT
 * /containers/{id}/archive), with Compose's SERVICE:PATH syntax and
 * docker cp's naming: into an existing directory under the source's own
 * name, else as the destination's name.  The archive passes through an
 * unlinked temporary file (memory stays bounded); extraction refuses
 * absolute names, ".." and writing through symlinks. */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "state/state.h"
#include "util/xalloc.h"

enum { OPT_INDEX = OPT_FIRST_COMMAND_OPT };

struct cp_opts {
  bool archive;              /* -a: keep uid and gid */
  bool follow;               /* -L: follow a symlink SRC */
  int index;
};

/* "svc:/path" -> svc, path (the path made absolute); false when arg is a
 * host path (no ':' before the first '/', or it starts with '.' or '/'). */
static bool
split_remote (const char *arg, char **svc, char **path)
{
  const char *colon = strchr (arg, ':');
  const char *slash = strchr (arg, '/');
  if (colon == NULL || colon == arg || (slash && slash < colon) || arg[0] == '.')
    return false;
  *svc = xstrndup (arg, (size_t) (colon - arg));
  *path = colon[1] == '/' ? xstrdup (colon + 1) : xasprintf ("/%s", colon + 1);
  return true;
}

/* The last component of a path ("a/b/" -> "b", "/" -> "/"); new string. */
static char *
base_name (const char *p)
{
  size_t n = strlen (p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  size_t s = n;
  while (s > 0 && p[s - 1] != '/')
    s--;
  return s == n ? xstrdup ("/") : xstrndup (p + s, n - s);
}

/* Its directory ("a/b" -> "a", "b" -> ".", "/b" -> "/"); new string. */
static char *
dir_name (const char *p)
{
  size_t n = strlen (p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  while (n > 0 && p[n - 1] != '/')
    n--;
  while (n > 1 && p[n - 1] == '/')
    n--;
  return n == 0 ? xstrdup (".") : xstrndup (p, n);
}

/* ---- host -> container: a tar of SRC named NAME ---- */

struct tar_out {
  struct archive *a;
  const struct cp_opts *o;
  struct itm_err *err;
};

static la_ssize_t
tar_write (struct archive *a, void *ctx, const void *buf, size_t n)
{
  (void) a;
  return fwrite (buf, 1, n, ctx) == n ? (la_ssize_t) n : -1;
}

static int
tar_add (struct tar_out *t, const char *path, const char *name, bool top)
{
  struct stat sb;
  if ((top && t->o->follow ? stat (path, &sb) : lstat (path, &sb)) < 0)
    return itm_err_errno (t->err, top && errno == ENOENT ? ITM_EXIT_NOT_FOUND : ITM_EXIT_FAILURE,
                          "cp: %s", path);
  struct archive_entry *ent = archive_entry_new ();
  archive_entry_copy_stat (ent, &sb);
  archive_entry_set_pathname (ent, name);
  archive_entry_set_nlink (ent, 1);
  if (!t->o->archive)
    {
      archive_entry_set_uid (ent, 0);
      archive_entry_set_gid (ent, 0);
      archive_entry_set_uname (ent, "root");
      archive_entry_set_gname (ent, "root");
    }
  char link[PATH_MAX];
  if (S_ISLNK (sb.st_mode))
    {
      ssize_t l = readlink (path, link, sizeof link - 1);
      link[l < 0 ? 0 : l] = '\0';
      archive_entry_set_symlink (ent, link);
    }
  if (!S_ISREG (sb.st_mode))
    archive_entry_set_size (ent, 0);
  int ret = 0;
  if (archive_write_header (t->a, ent) != ARCHIVE_OK)
    ret = itm_err_set (t->err, ITM_EXIT_FAILURE, "cp: %s: %s", path,
                       archive_error_string (t->a));
  archive_entry_free (ent);
  if (ret == 0 && S_ISREG (sb.st_mode))
    {
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return itm_err_errno (t->err, ITM_EXIT_FAILURE, "cp: %s", path);
      char buf[65536];
      ssize_t r;
      while ((r = read (fd, buf, sizeof buf)) > 0)
        if (archive_write_data (t->a, buf, (size_t) r) < 0)
          break;
      close (fd);
      if (r < 0)
        return itm_err_errno (t->err, ITM_EXIT_FAILURE, "cp: %s", path);
    }
  if (ret == 0 && S_ISDIR (sb.st_mode))
    {
      DIR *d = opendir (path);
      if (d == NULL)
        return itm_err_errno (t->err, ITM_EXIT_FAILURE, "cp: %s", path);
      struct dirent *de;
      while (ret == 0 && (de = readdir (d)))
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          cleanup_free char *p = xasprintf ("%s/%s", path, de->d_name);
          cleanup_free char *nm = xasprintf ("%s/%s", name, de->d_name);
          ret = tar_add (t, p, nm, false);
        }
      closedir (d);
    }
  return ret;
}

/* The tar of src, its top entry named name, in a new unlinked temporary
 * file rewound to its start; NULL with err set. */
static FILE *
tar_of (const char *src, const char *name, const struct cp_opts *o, struct itm_err *err)
{
  FILE *f = tmpfile ();
  if (f == NULL)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "cp: a temporary file");
      return NULL;
    }
  struct tar_out t = { .a = archive_write_new (), .o = o, .err = err };
  archive_write_set_format_pax_restricted (t.a);
  archive_write_open (t.a, f, NULL, tar_write, NULL);
  int r = tar_add (&t, src, name, true);
  if (archive_write_close (t.a) != ARCHIVE_OK && r == 0)
    r = itm_err_set (err, ITM_EXIT_FAILURE, "cp: %s", archive_error_string (t.a));
  archive_write_free (t.a);
  if (r < 0 || fflush (f) != 0)
    {
      if (r == 0)
        itm_err_errno (err, ITM_EXIT_FAILURE, "cp: a temporary file");
      fclose (f);
      return NULL;
    }
  rewind (f);
  return f;
}

static size_t
file_read_cb (char *buf, size_t size, void *ctx)
{
  return fread (buf, 1, size, ctx);
}

static long
put_archive (struct engine *e, const char *id, const char *dir, FILE *f, struct itm_err *err)
{
  cleanup_free char *q = engine_urlencode (dir);
  cleanup_free char *path = xasprintf ("/containers/%s/archive?path=%s", id, q);
  struct engine_call call = { .method = "PUT", .path = path, .read_cb = file_read_cb,
                              .read_ctx = f, .timeout_ms = -1 };
  return engine_call (e, &call, NULL, err);
}

static int
copy_in (struct engine *e, const struct state_container *c, const char *src, const char *dest,
         const struct cp_opts *o, struct itm_err *err)
{
  cleanup_free char *sname = base_name (src);
  if (strcmp (sname, "/") == 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "cp: copying the host's / is not supported");
  /* into DEST when it is a directory there */
  FILE *f = tar_of (src, sname, o, err);
  if (f == NULL)
    return -1;
  long r = put_archive (e, c->id, dest, f, err);
  fclose (f);
  if (r >= 0)
    return 0;
  size_t dl = strlen (dest);
  /* not there (404), or a file ("extraction point is not a directory":
   * 400 or 500 by engine version) */
  bool not_dir = err->engine_msg && strstr (err->engine_msg, "not a directory");
  if ((err->http_status != 404 && !not_dir) || dest[dl - 1] == '/')
    return itm_err_prefix (err, "cp to %s:%s", c->name, dest);
  /* else as DEST itself, in its directory */
  itm_err_clear (err);
  cleanup_free char *dname = base_name (dest), *ddir = dir_name (dest);
  f = tar_of (src, dname, o, err);
  if (f == NULL)
    return -1;
  r = put_archive (e, c->id, ddir, f, err);
  fclose (f);
  return r < 0 ? itm_err_prefix (err, "cp to %s:%s", c->name, dest) : 0;
}

/* ---- container -> host ---- */

static int
write_fd_cb (const char *data, size_t len, void *ctx)
{
  return fwrite (data, 1, len, ctx) == len ? 0 : -1;
}

/* An archive name is safe to extract: relative, no ".." component. */
static bool
safe_name (const char *p)
{
  if (p == NULL || *p == '/' || *p == '\0')
    return false;
  for (const char *s = p; s; s = strchr (s, '/'), s = s ? s + 1 : NULL)
    if (strncmp (s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
      return false;
  return true;
}

/* from -> to when p is from or under it; a new string, or NULL. */
static char *
renamed (const char *p, const char *from, const char *to)
{
  size_t n = strlen (from);
  if (p == NULL || strncmp (p, from, n) != 0 || (p[n] != '\0' && p[n] != '/'))
    return NULL;
  return xasprintf ("%s%s", to, p + n);
}

static int
extract (FILE *f, const char *dir, const char *from, const char *to, const struct cp_opts *o,
         struct itm_err *err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  struct archive *w = archive_write_disk_new ();
  archive_write_disk_set_options (w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM
                                       | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                       | ARCHIVE_EXTRACT_SECURE_NODOTDOT
                                       | (o->archive ? ARCHIVE_EXTRACT_OWNER : 0));
  int ret = 0;
  if (archive_read_open_fd (a, fileno (f), 65536) != ARCHIVE_OK)
    ret = itm_err_set (err, ITM_EXIT_ENGINE, "cp: the engine's archive: %s",
                       archive_error_string (a));
  struct archive_entry *ent;
  int rr = ARCHIVE_OK;
  while (ret == 0 && (rr = archive_read_next_header (a, &ent)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (ent);
      if (!safe_name (name))
        {
          ret = itm_err_set (err, ITM_EXIT_ENGINE, "cp: the archive holds an unsafe name '%s'",
                             name ? name : "");
          break;
        }
      char *rn = to ? renamed (name, from, to) : NULL;
      cleanup_free char *full = xasprintf ("%s/%s", dir, rn ? rn : name);
      free (rn);
      archive_entry_set_pathname (ent, full);
      const char *hl = archive_entry_hardlink (ent);
      if (hl)
        {
          if (!safe_name (hl))
            {
              ret = itm_err_set (err, ITM_EXIT_ENGINE, "cp: the archive holds an unsafe link "
                                                       "'%s'", hl);
              break;
            }
          char *hr = to ? renamed (hl, from, to) : NULL;
          cleanup_free char *hfull = xasprintf ("%s/%s", dir, hr ? hr : hl);
          free (hr);
          archive_entry_set_hardlink (ent, hfull);
        }
      if (archive_write_header (w, ent) < ARCHIVE_WARN)
        {
          ret = itm_err_set (err, ITM_EXIT_FAILURE, "cp: %s", archive_error_string (w));
          break;
        }
      const void *buf;
      size_t size;
      la_int64_t off;
      int dr;
      while ((dr = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
        if (archive_write_data_block (w, buf, size, off) < ARCHIVE_WARN)
          {
            dr = ARCHIVE_FATAL;
            break;
          }
      if (dr != ARCHIVE_EOF || archive_write_finish_entry (w) < ARCHIVE_WARN)
        ret = itm_err_set (err, ITM_EXIT_FAILURE, "cp: %s: %s", full,
                           archive_error_string (dr != ARCHIVE_EOF ? a : w));
    }
  if (ret == 0 && rr != ARCHIVE_EOF)
    ret = itm_err_set (err, ITM_EXIT_ENGINE, "cp: the engine's archive: %s",
                       archive_error_string (a));
  archive_write_close (w);
  archive_write_free (w);
  archive_read_free (a);
  return ret;
}

static int
copy_out (struct engine *e, const struct state_container *c, const char *src, const char *dest,
          const struct cp_opts *o, struct itm_err *err)
{
  bool to_stdout = strcmp (dest, "-") == 0;
  FILE *f = to_stdout ? stdout : tmpfile ();
  if (f == NULL)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "cp: a temporary file");
  cleanup_free char *q = engine_urlencode (src);
  cleanup_free char *path = xasprintf ("/containers/%s/archive?path=%s", c->id, q);
  struct engine_call call = { .method = "GET", .path = path, .on_data = write_fd_cb, .ctx = f,
                              .timeout_ms = -1 };
  if (engine_call (e, &call, NULL, err) < 0)
    {
      if (!to_stdout)
        fclose (f);
      return itm_err_prefix (err, "cp from %s:%s", c->name, src);
    }
  if (to_stdout)
    return fflush (stdout) == 0 ? 0 : itm_err_errno (err, ITM_EXIT_FAILURE, "cp: stdout");
  fflush (f);
  rewind (f);
  struct stat sb;
  int ret;
  cleanup_free char *sname = base_name (src);
  if (stat (dest, &sb) == 0 && S_ISDIR (sb.st_mode))
    {
      char *real = realpath (dest, NULL);
      ret = extract (f, real ? real : dest, NULL, NULL, o, err);
      free (real);
    }
  else
    {
      cleanup_free char *ddir = dir_name (dest), *dname = base_name (dest);
      char *real = realpath (ddir, NULL);
      if (real == NULL)
        ret = itm_err_errno (err, errno == ENOENT ? ITM_EXIT_NOT_FOUND : ITM_EXIT_FAILURE,
                             "cp: %s", ddir);
      else
        ret = extract (f, real, strcmp (sname, "/") == 0 ? "." : sname, dname, o, err);
      free (real);
    }
  fclose (f);
  return ret;
}

static int
cp_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct cp_opts o = { 0 };
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_cp, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_INDEX:
        if (ctx_parse_index (arg, &o.index, err) < 0)
          return -1;
        break;
      case 'a':
        o.archive = true;
        break;
      case 'L':
        o.follow = true;
        break;
      }
  if (opt < 0)
    return -1;
  if (argc - optind != 2)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "cp: expected SERVICE:SRC DEST or SRC SERVICE:DEST");
      return itm_err_hint (err, "'itm-env help cp'");
    }
  cleanup_free char *s1 = NULL, *p1 = NULL, *s2 = NULL, *p2 = NULL;
  bool from = split_remote (argv[optind], &s1, &p1);
  bool to = split_remote (argv[optind + 1], &s2, &p2);
  if (from == to)
    return itm_err_set (err, ITM_EXIT_USAGE, "cp: one of the two paths must be SERVICE:PATH "
                                             "(and only one)");
  if (to && strcmp (argv[optind], "-") == 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "cp: copying from standard input is not supported");
  cleanup_free char *ns = NULL;
  cleanup_state struct state *st = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0
      || ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  struct state_container *c = ctx_pick_container (st, from ? s1 : s2, o.index, err);
  if (c == NULL)
    return -1;
  if (from)
    return copy_out (ctx->engine, c, p1, argv[optind + 1], &o, err);
  return copy_in (ctx->engine, c, argv[optind], p2, &o, err);
}

static const struct itm_opt cp_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_INDEX, 0, "index", OPT_ARG_REQUIRED, "N",
    "the service's container number N (default: the first running)" },
  { 'a', 'a', "archive", OPT_ARG_NONE, NULL, "keep uid and gid (default: root, as docker cp)" },
  { 'L', 'L', "follow-link", OPT_ARG_NONE, NULL, "copy what a host SRC symlink points to" },
  { 0 },
};

const struct itm_cmd cmd_cp = {
  .name = "cp",
  .args = "SERVICE:SRC DEST|- | SRC SERVICE:DEST",
  .summary = "copy files between a service's container and the host",
  .opts = cp_opts,
  .fn = cp_main,
};
