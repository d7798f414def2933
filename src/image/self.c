/* self.c - itm-env's own image, made from the running process when missing:
 * FROM scratch, the executable (/proc/self/exe) as /itm-env, every shared
 * library the process has loaded (the lazily loaded ones loaded first) at
 * the path the loader found it under, and the loader itself (the
 * executable's PT_INTERP).  Nothing is pulled: the reaper container (and a
 * later fault proxy) runs from it on any engine that can run this binary.
 *
 * The context is written to a temporary directory and streamed to the
 * engine as a tar by image/context.c; the tag is itm-env-self:<the first 12
 * hex digits of the executable's SHA-256>, so a build happens once per
 * binary and every later call is one inspect. */
#include <config.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "engine/engine.h"
#include "image/private.h"
#include "util/json.h"
#include "util/lazylib.h"
#include "util/xalloc.h"

/* SHA-256 of a file, 64 hex digits. */
static int
file_sha256 (const char *path, char hex[65], struct itm_err *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", path, strerror (errno));
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (md, EVP_sha256 (), NULL);
  char buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      EVP_DigestUpdate (md, buf, (size_t) n);
  unsigned char d[32];
  unsigned int dl = 0;
  EVP_DigestFinal_ex (md, d, &dl);
  EVP_MD_CTX_free (md);
  if (n < 0)
    return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", path, strerror (errno));
  for (unsigned i = 0; i < 32; i++)
    snprintf (hex + 2 * i, 3, "%02x", d[i]);
  return 0;
}

char *
image_self_ref (struct itm_err *err)
{
  char hex[65];
  if (file_sha256 ("/proc/self/exe", hex, err) < 0)
    return NULL;
  return xasprintf ("%s:%.12s", IMAGE_SELF_REPO, hex);
}

/* mkdir -p of path's parent directories. */
static int
mkparents (char *path)
{
  for (char *s = strchr (path + 1, '/'); s; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      int r = mkdir (path, 0755);
      *s = '/';
      if (r < 0 && errno != EEXIST)
        return -1;
    }
  return 0;
}

/* Copy the file src (symlinks followed) to dst, mode `mode`. */
static int
copy_file (const char *src, char *dst, mode_t mode, struct itm_err *err)
{
  if (mkparents (dst) < 0)
    return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", dst, strerror (errno));
  cleanup_close int in = open (src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", src, strerror (errno));
  cleanup_close int out = open (dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0)
    {
      if (errno == EEXIST)
        return 0;   /* the same library under the same path twice */
      return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", dst, strerror (errno));
    }
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", src, strerror (errno));
      if (n == 0)
        break;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (out, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", dst,
                                strerror (errno));
          off += w;
        }
    }
  return 0;
}

struct libs {
  char **paths;
  size_t n, cap;
  char *interp;
};

static int
on_object (struct dl_phdr_info *info, size_t size, void *vctx)
{
  (void) size;
  struct libs *l = vctx;
  if (info->dlpi_name && info->dlpi_name[0] == '/')
    {
      if (l->n == l->cap)
        {
          l->cap = l->cap ? 2 * l->cap : 32;
          l->paths = xrealloc (l->paths, l->cap * sizeof *l->paths);
        }
      l->paths[l->n++] = xstrdup (info->dlpi_name);
    }
  else if (l->interp == NULL)
    /* the executable (empty name; the vDSO has a name without '/'):
     * its interpreter is the loader */
    for (int i = 0; i < info->dlpi_phnum; i++)
      if (info->dlpi_phdr[i].p_type == PT_INTERP)
        l->interp = xstrdup ((const char *) (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr));
  return 0;
}

static int
rm_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void) sb;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

/* The context directory: Dockerfile, rootfs/. */
static int
write_context (const char *dir, struct itm_err *err)
{
  lazylib_load_all ();
  struct libs l = { 0 };
  dl_iterate_phdr (on_object, &l);
  int ret = 0;
  cleanup_free char *exe = xasprintf ("%s/rootfs/itm-env", dir);
  ret = copy_file ("/proc/self/exe", exe, 0755, err);
  for (size_t i = 0; ret == 0 && i < l.n; i++)
    {
      cleanup_free char *dst = xasprintf ("%s/rootfs%s", dir, l.paths[i]);
      ret = copy_file (l.paths[i], dst, 0755, err);
    }
  if (ret == 0 && l.interp == NULL)
    ret = itm_err_set (err, ITM_EXIT_IMAGE, "self image: the executable names no loader "
                       "(PT_INTERP): a static build has no self image");
  if (ret == 0)
    {
      cleanup_free char *dst = xasprintf ("%s/rootfs%s", dir, l.interp);
      ret = copy_file (l.interp, dst, 0755, err);
    }
  cleanup_free char *tmpd = xasprintf ("%s/rootfs/tmp", dir);
  if (ret == 0 && ((mkdir (tmpd, 0755) < 0 && errno != EEXIST) || chmod (tmpd, 01777) < 0))
    ret = itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", tmpd, strerror (errno));
  if (ret == 0)
    {
      cleanup_free char *df = xasprintf ("%s/Dockerfile", dir);
      FILE *f = fopen (df, "we");
      if (f == NULL)
        ret = itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", df, strerror (errno));
      else
        {
          /* the loader looks where this process's loader found them:
           * the directories of the libraries, in load order (a build
           * whose libraries came from LD_LIBRARY_PATH or an RPATH, as in
           * a CI job image's /opt/itm-env/lib, runs too) */
          struct buf lp = { 0 };
          for (size_t i = 0; i < l.n; i++)
            {
              const char *sl = strrchr (l.paths[i], '/');
              cleanup_free char *d = xstrndup (l.paths[i], (size_t) (sl - l.paths[i]));
              if (*d == '\0' || strchr (d, ':') || strchr (d, '"') || strchr (d, '\\'))
                continue;
              cleanup_free char *pad = xasprintf (":%s:", lp.data ? lp.data : "");
              cleanup_free char *needle = xasprintf (":%s:", d);
              if (strstr (pad, needle) == NULL)
                buf_addf (&lp, "%s%s", lp.len ? ":" : "", d);
            }
          fprintf (f, "FROM scratch\n"
                   "COPY rootfs/ /\n"
                   "ENV HOME=/tmp ITM_ENV_STATE_DIR=/tmp/itm-env-state%s%s%s\n"
                   "ENTRYPOINT [\"/itm-env\"]\n",
                   lp.len ? " LD_LIBRARY_PATH=\"" : "", lp.len ? lp.data : "", lp.len ? "\"" : "");
          buf_free (&lp);
          if (fclose (f) != 0)
            ret = itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", df,
                               strerror (errno));
        }
    }
  for (size_t i = 0; i < l.n; i++)
    free (l.paths[i]);
  free (l.paths);
  free (l.interp);
  return ret;
}

struct self_build {
  char *error;
};

static int
on_self_build (json_object *v, void *vctx)
{
  struct self_build *b = vctx;
  const char *msg = jsonl_stream_error (v);
  if (msg && !b->error)
    b->error = xstrdup (msg);
  return 0;
}

int
image_self (struct engine *e, char **ref, struct itm_err *err)
{
  *ref = NULL;
  cleanup_free char *name = image_self_ref (err);
  if (name == NULL)
    return -1;
  int r = image_inspect (e, name, NULL, err);
  if (r < 0)
    return itm_err_prefix (err, "self image %s", name);
  if (r > 0)
    {
      *ref = steal_pointer (&name);
      return 0;
    }
  const char *td = getenv ("TMPDIR");
  cleanup_free char *dir = xasprintf ("%s/itm-env-self.XXXXXX", td && *td ? td : "/tmp");
  if (mkdtemp (dir) == NULL)
    return itm_err_set (err, ITM_EXIT_IMAGE, "self image: %s: %s", dir, strerror (errno));
  int ret = write_context (dir, err);
  struct image_context *c = ret == 0 ? image_context_open (dir, NULL, err) : NULL;
  if (ret == 0 && c == NULL)
    ret = -1;
  if (ret == 0)
    {
      cleanup_free char *en = engine_urlencode (name);
      cleanup_free char *el = engine_urlencode ("{\"" IMAGE_LABEL_SELF "\":\"1\"}");
      cleanup_free char *q = xasprintf ("/build?t=%s&rm=1&forcerm=1&labels=%s", en, el);
      struct self_build b = { 0 };
      struct engine_call call = {
        .method = "POST",
        .path = q,
        .read_cb = image_context_read,
        .read_ctx = c,
        .content_type = "application/x-tar",
        .on_json = on_self_build,
        .ctx = &b,
        .timeout_ms = -1,
      };
      struct itm_err cerr = { 0 };
      if (engine_call (e, &call, NULL, err) < 0)
        ret = -1;
      else if (image_context_error (c, &cerr) < 0)
        {
          itm_err_move (err, &cerr);
          ret = -1;
        }
      else if (b.error)
        ret = itm_err_set (err, ITM_EXIT_IMAGE, "%s", b.error);
      free (b.error);
      if (ret < 0)
        {
          err->code = ITM_EXIT_IMAGE;
          itm_err_prefix (err, "building the self image %s", name);
        }
    }
  image_context_free (c);
  nftw (dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (ret == 0)
    *ref = steal_pointer (&name);
  return ret;
}
