/* context.c - the build context: .dockerignore as the engine's builder reads
 * it, a sorted walk of the directory, its SHA-256 digest, and its tar
 * stream produced on demand for curl's read callback. */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "util/file.h"
#include "util/xalloc.h"

/* A .dockerignore is never larger. */
#define DOCKERIGNORE_MAX (16UL << 20)

/* ---- .dockerignore ----
 *
 * The docker CLI's dockerignore.ReadAll then moby's fileutils.PatternMatcher
 * (Docker 20.10): each pattern is cleaned (filepath.Clean), compiled to an
 * anchored regular expression (a star: any run without a slash; "?": one
 * character but a slash; a double star: anything at the end, else any
 * number of leading directories; backslash escapes; [...] classes), and a path matches
 * a pattern when it, or its first len(pattern dirs) parent components,
 * match.  The last matching pattern decides; "!" patterns re-include. */

enum tok_kind { T_LIT, T_STAR, T_ONE, T_ANY, T_DIRS, T_CLASS };
struct tok {
  enum tok_kind kind;
  char c;                /* T_LIT */
  bool neg;              /* T_CLASS */
  char *set;             /* T_CLASS: pairs lo,hi */
  size_t nset;           /* pairs */
};
struct pattern {
  char *text;            /* cleaned, without '!' */
  bool exclusion;
  size_t ndirs;
  struct tok *t;
  size_t n;
};
struct image_ignore {
  struct pattern *p;
  size_t n;
  bool exclusions;
};

/* Go's path.Clean. */
static char *
clean_path (const char *s)
{
  if (*s == '\0')
    return xstrdup (".");
  bool rooted = *s == '/';
  size_t len = strlen (s);
  char *out = xmalloc (len + 2);
  size_t w = 0, r = 0, dotdot = 0;
  if (rooted)
    {
      out[w++] = '/';
      r = 1;
      dotdot = 1;
    }
  while (r < len)
    {
      if (s[r] == '/')
        r++;
      else if (s[r] == '.' && (r + 1 == len || s[r + 1] == '/'))
        r++;
      else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == len || s[r + 2] == '/'))
        {
          r += 2;
          if (w > dotdot)
            {
              w--;
              while (w > dotdot && out[w] != '/')
                w--;
            }
          else if (!rooted)
            {
              if (w > 0)
                out[w++] = '/';
              out[w++] = '.';
              out[w++] = '.';
              dotdot = w;
            }
        }
      else
        {
          if ((rooted && w != 1) || (!rooted && w != 0))
            out[w++] = '/';
          for (; r < len && s[r] != '/'; r++)
            out[w++] = s[r];
        }
    }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}

static char *
trim_space (const char *s, size_t n)
{
  while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f'))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'
                   || s[n - 1] == '\v' || s[n - 1] == '\f'))
    n--;
  return xstrndup (s, n);
}

static void
tok_add (struct pattern *p, size_t *cap, struct tok t)
{
  p->t = xgrow (p->t, cap, p->n + 1, sizeof *p->t);
  p->t[p->n++] = t;
}

static int
compile (struct pattern *p, struct itm_err *err)
{
  const char *s = p->text;
  size_t cap = 0;
  for (size_t i = 0; s[i];)
    {
      char ch = s[i++];
      if (ch == '*')
        {
          if (s[i] == '*')
            {
              i++;
              if (s[i] == '/')
                i++;
              tok_add (p, &cap, (struct tok){ .kind = s[i] == '\0' ? T_ANY : T_DIRS });
            }
          else
            tok_add (p, &cap, (struct tok){ .kind = T_STAR });
        }
      else if (ch == '?')
        tok_add (p, &cap, (struct tok){ .kind = T_ONE });
      else if (ch == '\\')
        {
          if (s[i] == '\0')
            return itm_err_set (err, ITM_EXIT_IMAGE, ".dockerignore: bad pattern '%s'", s);
          tok_add (p, &cap, (struct tok){ .kind = T_LIT, .c = s[i++] });
        }
      else if (ch == '[')
        {
          struct tok t = { .kind = T_CLASS };
          size_t scap = 0;
          if (s[i] == '^')
            {
              t.neg = true;
              i++;
            }
          bool first = true;
          while (s[i] && (s[i] != ']' || first))
            {
              first = false;
              char lo = s[i++];
              if (lo == '\\' && s[i])
                lo = s[i++];
              char hi = lo;
              if (s[i] == '-' && s[i + 1] && s[i + 1] != ']')
                {
                  i++;
                  hi = s[i++];
                  if (hi == '\\' && s[i])
                    hi = s[i++];
                }
              t.set = xgrow (t.set, &scap, 2 * (t.nset + 1), 1);
              t.set[2 * t.nset] = lo;
              t.set[2 * t.nset + 1] = hi;
              t.nset++;
            }
          if (s[i] != ']' || t.nset == 0)
            {
              free (t.set);
              return itm_err_set (err, ITM_EXIT_IMAGE, ".dockerignore: bad pattern '%s'", s);
            }
          i++;
          tok_add (p, &cap, t);
        }
      else
        tok_add (p, &cap, (struct tok){ .kind = T_LIT, .c = ch });
    }
  return 0;
}

static bool
class_has (const struct tok *t, char c)
{
  bool in = false;
  for (size_t k = 0; k < t->nset && !in; k++)
    in = (unsigned char) c >= (unsigned char) t->set[2 * k]
         && (unsigned char) c <= (unsigned char) t->set[2 * k + 1];
  return in != t->neg;
}

static bool
tmatch (const struct tok *t, size_t n, const char *s)
{
  while (n > 0)
    {
      switch (t->kind)
        {
        case T_LIT:
          if (*s != t->c)
            return false;
          s++;
          break;
        case T_ONE:
          if (*s == '\0' || *s == '/')
            return false;
          s++;
          break;
        case T_CLASS:
          if (*s == '\0' || *s == '\n' || !class_has (t, *s))
            return false;
          s++;
          break;
        case T_STAR:
          for (const char *q = s;; q++)
            {
              if (tmatch (t + 1, n - 1, q))
                return true;
              if (*q == '\0' || *q == '/')
                return false;
            }
        case T_ANY:
          return strchr (s, '\n') == NULL || tmatch (t + 1, n - 1, s + strlen (s));
        case T_DIRS:
          if (tmatch (t + 1, n - 1, s))
            return true;
          for (const char *q = s; *q && *q != '\n'; q++)
            if (*q == '/' && tmatch (t + 1, n - 1, q + 1))
              return true;
          return false;
        }
      t++;
      n--;
    }
  return *s == '\0';
}

static void
ignore_add (struct image_ignore *ig, size_t *cap, char *text, bool exclusion)
{
  ig->p = xgrow (ig->p, cap, ig->n + 1, sizeof *ig->p);
  struct pattern *p = &ig->p[ig->n++];
  *p = (struct pattern){ .text = text, .exclusion = exclusion, .ndirs = 1 };
  for (const char *q = text; *q; q++)
    p->ndirs += *q == '/';
  if (exclusion)
    ig->exclusions = true;
}

struct image_ignore *
image_ignore_parse (const char *text, size_t len, struct itm_err *err)
{
  struct image_ignore *ig = xzalloc (sizeof *ig);
  size_t cap = 0;
  const char *s = text, *end = text + len;
  if (len >= 3 && memcmp (s, "\xEF\xBB\xBF", 3) == 0)
    s += 3;
  while (s < end)
    {
      const char *nl = memchr (s, '\n', (size_t) (end - s));
      size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
      const char *line = s;
      s = nl ? nl + 1 : end;
      if (n > 0 && line[n - 1] == '\r')   /* bufio.ScanLines drops a CR before LF */
        n--;
      if (n > 0 && line[0] == '#')
        continue;
      cleanup_free char *pat = trim_space (line, n);
      if (*pat == '\0')
        continue;
      bool inv = pat[0] == '!';
      char *body = inv ? trim_space (pat + 1, strlen (pat + 1)) : xstrdup (pat);
      if (*body)
        {
          char *c = clean_path (body);
          free (body);
          body = c;
          if (strlen (body) > 1 && body[0] == '/')
            memmove (body, body + 1, strlen (body));
        }
      /* NewPatternMatcher: trim, clean again, then the '!' */
      if (!inv)
        {
          char *c = clean_path (body);
          free (body);
          body = c;
        }
      else if (*body == '\0')
        {
          free (body);
          image_ignore_free (ig);
          itm_err_set (err, ITM_EXIT_IMAGE, ".dockerignore: illegal exclusion pattern: \"!\"");
          return NULL;
        }
      else
        {
          char *c = clean_path (body);
          free (body);
          body = c;
        }
      ignore_add (ig, &cap, body, inv);
      if (compile (&ig->p[ig->n - 1], err) < 0)
        {
          image_ignore_free (ig);
          return NULL;
        }
    }
  return ig;
}

void
image_ignore_keep (struct image_ignore *ig, const char *relpath)
{
  size_t cap = ig->n;
  ignore_add (ig, &cap, clean_path (relpath), true);
  /* a literal path: escape pattern characters */
  struct pattern *p = &ig->p[ig->n - 1];
  size_t tcap = 0;
  for (const char *q = p->text; *q; q++)
    tok_add (p, &tcap, (struct tok){ .kind = T_LIT, .c = *q });
}

static bool
pattern_match (const struct pattern *p, const char *s)
{
  return tmatch (p->t, p->n, s);
}

bool
image_ignore_match (const struct image_ignore *ig, const char *file)
{
  if (ig == NULL)
    return false;
  /* parent path components, as filepath.Dir and strings.Split */
  const char *slash = strrchr (file, '/');
  size_t plen = slash ? (size_t) (slash - file) : 0;
  size_t nparent = 1;
  for (size_t k = 0; k < plen; k++)
    nparent += file[k] == '/';
  bool matched = false;
  for (size_t i = 0; i < ig->n; i++)
    {
      const struct pattern *p = &ig->p[i];
      bool m = pattern_match (p, file);
      if (!m && slash && p->ndirs <= nparent)
        {
          /* the first ndirs components of the parent path */
          size_t k = 0, seen = 0;
          for (; k < plen; k++)
            if (file[k] == '/' && ++seen == p->ndirs)
              break;
          char *pre = xstrndup (file, k);
          m = pattern_match (p, pre);
          free (pre);
        }
      if (m)
        matched = !p->exclusion;
    }
  return matched;
}

bool
image_ignore_descend (const struct image_ignore *ig, const char *reldir)
{
  if (ig == NULL || !ig->exclusions)
    return false;
  size_t dl = strlen (reldir);
  for (size_t i = 0; i < ig->n; i++)
    {
      const struct pattern *p = &ig->p[i];
      if (!p->exclusion)
        continue;
      size_t pl = strlen (p->text);
      /* strings.HasPrefix(pattern+"/", dir+"/") */
      if (pl + 1 >= dl + 1 && strncmp (p->text, reldir, dl) == 0
          && (pl == dl ? true : p->text[dl] == '/'))
        return true;
    }
  return false;
}

void
image_ignore_free (struct image_ignore *ig)
{
  if (ig == NULL)
    return;
  for (size_t i = 0; i < ig->n; i++)
    {
      for (size_t k = 0; k < ig->p[i].n; k++)
        free (ig->p[i].t[k].set);
      free (ig->p[i].t);
      free (ig->p[i].text);
    }
  free (ig->p);
  free (ig);
}

/* ---- the walk: sorted, filtered ---- */

struct frame {
  char *rel;             /* "" for the root, else "a/b" */
  char **names;
  size_t n, i;
};
struct walk {
  struct frame *f;
  size_t depth, cap;
  bool started;
};

struct image_context {
  char *dir;
  char *df_name;         /* the Dockerfile's name in the stream */
  char *df_outside;      /* its absolute path when outside the context */
  struct image_ignore *ig;
  struct walk w;
  /* stream */
  struct archive *a;
  struct buf out;
  int fd;
  bool opened, closed, df_sent;
  struct itm_err err;    /* the walk's or the stream's failure, kept for image_context_error */
  uint64_t files, bytes, tar_bytes;
};

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
walk_push (struct image_context *c, struct walk *w, const char *rel)
{
  cleanup_free char *path = *rel ? xasprintf ("%s/%s", c->dir, rel) : xstrdup (c->dir);
  DIR *d = opendir (path);
  if (d == NULL)
    {
      itm_err_errno (&c->err, ITM_EXIT_IMAGE, "%s", path);
      return -1;
    }
  struct frame fr = { .rel = xstrdup (rel) };
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      fr.names = xgrow (fr.names, &cap, fr.n + 1, sizeof *fr.names);
      fr.names[fr.n++] = xstrdup (de->d_name);
    }
  closedir (d);
  if (fr.n)
    qsort (fr.names, fr.n, sizeof *fr.names, cmp_str);
  w->f = xgrow (w->f, &w->cap, w->depth + 1, sizeof *w->f);
  w->f[w->depth++] = fr;
  return 0;
}

static void
walk_pop (struct walk *w)
{
  struct frame *fr = &w->f[--w->depth];
  for (size_t k = 0; k < fr->n; k++)
    free (fr->names[k]);
  free (fr->names);
  free (fr->rel);
}

static void
walk_reset (struct walk *w)
{
  while (w->depth)
    walk_pop (w);
  free (w->f);
  *w = (struct walk){ 0 };
}

/* The next entry to send: 1 with *rel (new) and *sb, 0 at the end, -1 on error. */
static int
walk_next (struct image_context *c, struct walk *w, char **rel, struct stat *sb)
{
  if (!w->started)
    {
      w->started = true;
      if (walk_push (c, w, "") < 0)
        return -1;
    }
  while (w->depth)
    {
      struct frame *fr = &w->f[w->depth - 1];
      if (fr->i == fr->n)
        {
          walk_pop (w);
          continue;
        }
      const char *name = fr->names[fr->i++];
      char *r = *fr->rel ? xasprintf ("%s/%s", fr->rel, name) : xstrdup (name);
      cleanup_free char *path = xasprintf ("%s/%s", c->dir, r);
      if (lstat (path, sb) < 0)
        {
          if (errno == ENOENT)   /* vanished since the listing */
            {
              free (r);
              continue;
            }
          itm_err_errno (&c->err, ITM_EXIT_IMAGE, "%s", path);
          free (r);
          return -1;
        }
      bool skip = image_ignore_match (c->ig, r);
      if (S_ISDIR (sb->st_mode))
        {
          if (skip && !image_ignore_descend (c->ig, r))
            {
              free (r);
              continue;
            }
          if (walk_push (c, w, r) < 0)
            {
              free (r);
              return -1;
            }
          if (skip)
            {
              free (r);
              continue;
            }
          *rel = r;
          return 1;
        }
      if (skip || !(S_ISREG (sb->st_mode) || S_ISLNK (sb->st_mode)))
        {
          free (r);
          continue;
        }
      *rel = r;
      return 1;
    }
  return 0;
}

/* ---- open ---- */

struct image_context *
image_context_open (const char *dir, const char *dockerfile, struct itm_err *err)
{
  char *real = realpath (dir, NULL);
  if (real == NULL)
    {
      itm_err_errno (err, ITM_EXIT_IMAGE, "build context %s", dir);
      return NULL;
    }
  struct stat sb;
  if (stat (real, &sb) < 0 || !S_ISDIR (sb.st_mode))
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "build context %s is not a directory", dir);
      free (real);
      return NULL;
    }
  struct image_context *c = xzalloc (sizeof *c);
  c->dir = real;
  c->fd = -1;
  const char *df = dockerfile ? dockerfile : "Dockerfile";
  cleanup_free char *dfabs = df[0] == '/' ? xstrdup (df) : xasprintf ("%s/%s", real, df);
  char *dfreal = realpath (dfabs, NULL);
  if (dfreal == NULL)
    {
      itm_err_errno (err, ITM_EXIT_IMAGE, "Dockerfile %s", dfabs);
      image_context_free (c);
      return NULL;
    }
  /* a FIFO would block the hash and the tar, a device never end */
  if (stat (dfreal, &sb) < 0 || !S_ISREG (sb.st_mode))
    {
      itm_err_set (err, ITM_EXIT_IMAGE, "Dockerfile %s (build.dockerfile): not a regular file",
                   dfabs);
      free (dfreal);
      image_context_free (c);
      return NULL;
    }
  size_t rl = strlen (real);
  if (strncmp (dfreal, real, rl) == 0 && dfreal[rl] == '/')
    {
      /* inside: its path relative to the context (as given when relative,
       * so that a symlinked Dockerfile keeps its name) */
      if (df[0] == '/')
        c->df_name = xstrdup (dfreal + rl + 1);
      else
        c->df_name = clean_path (df);
      free (dfreal);
    }
  else
    {
      /* outside: sent under a name derived from its path */
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned mdlen = 0;
      EVP_Digest (dfreal, strlen (dfreal), md, &mdlen, EVP_sha256 (), NULL);
      c->df_name = xasprintf (".itm-dockerfile.%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2],
                              md[3], md[4], md[5]);
      c->df_outside = dfreal;
    }
  /* .dockerignore */
  cleanup_free char *igpath = xasprintf ("%s/.dockerignore", real);
  struct stat igst;
  if (stat (igpath, &igst) == 0)
    {
      size_t len = 0;
      cleanup_free char *data = file_read (igpath, DOCKERIGNORE_MAX, &len, ITM_EXIT_IMAGE, err);
      c->ig = data ? image_ignore_parse (data, len, err) : NULL;
      if (c->ig == NULL)
        {
          itm_err_prefix (err, "%s", real);
          image_context_free (c);
          return NULL;
        }
      /* the CLI keeps the Dockerfile and .dockerignore (TrimBuildFilesFromExcludes) */
      if (image_ignore_match (c->ig, ".dockerignore"))
        image_ignore_keep (c->ig, ".dockerignore");
      if (!c->df_outside && image_ignore_match (c->ig, c->df_name))
        image_ignore_keep (c->ig, c->df_name);
    }
  return c;
}

const char *
image_context_dockerfile (const struct image_context *c)
{
  return c->df_name;
}

int
image_context_error (struct image_context *c, struct itm_err *err)
{
  if (!itm_err_isset (&c->err))
    return 0;
  itm_err_move (err, &c->err);
  return -1;
}

void
image_context_stats (const struct image_context *c, uint64_t *files, uint64_t *bytes,
                     uint64_t *tar_bytes)
{
  if (files)
    *files = c->files;
  if (bytes)
    *bytes = c->bytes;
  if (tar_bytes)
    *tar_bytes = c->tar_bytes;
}

/* ---- digest ---- */

static int
hash_file (EVP_MD_CTX *md, const char *path, uint64_t *bytes, struct itm_err *err)
{
  /* O_NONBLOCK and fstat: a file replaced by a FIFO or a device since the
   * walk is refused, not waited on or hashed forever */
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_IMAGE, "%s", path);
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return itm_err_set (err, ITM_EXIT_IMAGE, "%s: not a regular file", path);
  char buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    {
      EVP_DigestUpdate (md, buf, (size_t) n);
      *bytes += (uint64_t) n;
    }
  if (n < 0)
    return itm_err_errno (err, ITM_EXIT_IMAGE, "%s", path);
  return 0;
}

int
image_context_digest (struct image_context *c, const char *extra, char hex[65],
                      struct itm_err *err)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  if (md == NULL)
    oom ();
  EVP_DigestInit_ex (md, EVP_sha256 (), NULL);
  struct walk w = { 0 };
  char *rel;
  struct stat sb;
  int r;
  c->files = c->bytes = 0;
  EVP_DigestUpdate (md, "itm-build-v1", 13);
  while ((r = walk_next (c, &w, &rel, &sb)) > 0)
    {
      char hdr[64];
      int hl = snprintf (hdr, sizeof hdr, "%o", (unsigned) sb.st_mode);
      EVP_DigestUpdate (md, rel, strlen (rel) + 1);
      EVP_DigestUpdate (md, hdr, (size_t) hl + 1);
      c->files++;
      cleanup_free char *path = xasprintf ("%s/%s", c->dir, rel);
      free (rel);
      if (S_ISREG (sb.st_mode))
        {
          hl = snprintf (hdr, sizeof hdr, "%llu", (unsigned long long) sb.st_size);
          EVP_DigestUpdate (md, hdr, (size_t) hl + 1);
          if (hash_file (md, path, &c->bytes, &c->err) < 0)
            {
              r = -1;
              break;
            }
        }
      else if (S_ISLNK (sb.st_mode))
        {
          char target[4096];
          ssize_t n = readlink (path, target, sizeof target);
          if (n > 0)
            EVP_DigestUpdate (md, target, (size_t) n);
          EVP_DigestUpdate (md, "", 1);
        }
    }
  walk_reset (&w);
  if (r == 0 && c->df_outside)
    {
      EVP_DigestUpdate (md, c->df_name, strlen (c->df_name) + 1);
      if (hash_file (md, c->df_outside, &c->bytes, &c->err) < 0)
        r = -1;
    }
  if (r == 0)
    {
      EVP_DigestUpdate (md, "\0dockerfile=", 12);
      EVP_DigestUpdate (md, c->df_name, strlen (c->df_name) + 1);
      if (extra)
        EVP_DigestUpdate (md, extra, strlen (extra));
    }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex (md, out, &len);
  EVP_MD_CTX_free (md);
  if (r < 0 && !itm_err_isset (&c->err))
    return itm_err_set (err, ITM_EXIT_IMAGE, "build context %s: cannot be read", c->dir);
  if (r < 0)
    {
      itm_err_move (err, &c->err);
      return itm_err_prefix (err, "build context %s", c->dir);
    }
  for (unsigned k = 0; k < 32; k++)
    snprintf (hex + 2 * k, 3, "%02x", out[k]);
  return 0;
}

/* ---- the tar stream ---- */

static la_ssize_t
tar_write_cb (struct archive *a, void *ctx, const void *data, size_t n)
{
  struct image_context *c = ctx;
  buf_add (&c->out, data, n);
  c->tar_bytes += n;
  return (la_ssize_t) n;
}

static int
tar_fail (struct image_context *c, const char *what)
{
  return itm_err_set (&c->err, ITM_EXIT_IMAGE, "%s: %s", what, archive_error_string (c->a));
}

static int
tar_header (struct image_context *c, const char *rel, const struct stat *sb, const char *link)
{
  struct archive_entry *ent = archive_entry_new ();
  archive_entry_copy_stat (ent, sb);
  archive_entry_set_pathname (ent, rel);
  archive_entry_set_uid (ent, 0);
  archive_entry_set_gid (ent, 0);
  archive_entry_set_uname (ent, "root");
  archive_entry_set_gname (ent, "root");
  archive_entry_set_nlink (ent, 1);
  archive_entry_set_ino (ent, 0);
  archive_entry_set_dev (ent, 0);
  if (link)
    archive_entry_set_symlink (ent, link);
  if (!S_ISREG (sb->st_mode))
    archive_entry_set_size (ent, 0);
  int r = archive_write_header (c->a, ent);
  archive_entry_free (ent);
  return r == ARCHIVE_OK ? 0 : tar_fail (c, rel);
}

/* Produce at least some output (or reach the end). */
static int
tar_step (struct image_context *c)
{
  if (!c->opened)
    {
      c->opened = true;
      c->a = archive_write_new ();
      archive_write_set_format_pax_restricted (c->a);
      archive_write_set_bytes_per_block (c->a, 10240);
      archive_write_set_bytes_in_last_block (c->a, 1);
      if (archive_write_open2 (c->a, c, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK)
        return tar_fail (c, "tar");
      c->files = c->bytes = c->tar_bytes = 0;
    }
  if (c->fd >= 0)
    {
      char buf[65536];
      ssize_t n = read (c->fd, buf, sizeof buf);
      if (n < 0)
        {
          if (errno == EINTR)
            return 0;
          itm_err_errno (&c->err, ITM_EXIT_IMAGE, "reading a context file");
          return -1;
        }
      if (n == 0)
        {
          close (c->fd);
          c->fd = -1;
          return 0;
        }
      c->bytes += (uint64_t) n;
      if (archive_write_data (c->a, buf, (size_t) n) < 0)
        return tar_fail (c, "tar");
      return 0;
    }
  char *rel = NULL;
  struct stat sb;
  int r = walk_next (c, &c->w, &rel, &sb);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      cleanup_free char *path = xasprintf ("%s/%s", c->dir, rel);
      char target[4096];
      const char *link = NULL;
      c->files++;
      if (S_ISLNK (sb.st_mode))
        {
          ssize_t n = readlink (path, target, sizeof target - 1);
          target[n > 0 ? n : 0] = '\0';
          link = target;
        }
      if (S_ISREG (sb.st_mode) && sb.st_size > 0)
        {
          c->fd = open (path, O_RDONLY | O_CLOEXEC);
          if (c->fd < 0)
            {
              itm_err_errno (&c->err, ITM_EXIT_IMAGE, "%s", path);
              free (rel);
              return -1;
            }
        }
      r = tar_header (c, rel, &sb, link);
      free (rel);
      return r;
    }
  if (c->df_outside && !c->df_sent)
    {
      c->df_sent = true;
      if (stat (c->df_outside, &sb) < 0)
        {
          itm_err_errno (&c->err, ITM_EXIT_IMAGE, "%s", c->df_outside);
          return -1;
        }
      sb.st_mode = S_IFREG | 0644;
      c->fd = open (c->df_outside, O_RDONLY | O_CLOEXEC);
      if (c->fd < 0)
        {
          itm_err_errno (&c->err, ITM_EXIT_IMAGE, "%s", c->df_outside);
          return -1;
        }
      return tar_header (c, c->df_name, &sb, NULL);
    }
  if (archive_write_close (c->a) != ARCHIVE_OK)
    return tar_fail (c, "tar");
  c->closed = true;
  return 0;
}

size_t
image_context_read (char *buf, size_t size, void *ctx)
{
  struct image_context *c = ctx;
  while (c->out.len == 0 && !c->closed)
    if (tar_step (c) < 0)
      return (size_t) 0x10000000; /* CURL_READFUNC_ABORT */
  size_t n = c->out.len < size ? c->out.len : size;
  if (n)
    {
      memcpy (buf, c->out.data, n);
      buf_consume (&c->out, n);
    }
  return n;
}

/* Back to the start of the stream: the walk, the archive, the error. */
static void
image_context_rewind (struct image_context *c)
{
  walk_reset (&c->w);
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  if (c->a)
    archive_write_free (c->a);
  c->a = NULL;
  c->opened = c->closed = c->df_sent = false;
  buf_free (&c->out);
  itm_err_clear (&c->err);
}

void
image_context_free (struct image_context *c)
{
  if (c == NULL)
    return;
  image_context_rewind (c);
  image_ignore_free (c->ig);
  free (c->dir);
  free (c->df_name);
  free (c->df_outside);
  free (c);
}
