/* test-dockerignore.c - the build context: the .dockerignore case corpus
 * (tests/image/dockerignore.cases) run through the real walk and tar
 * stream, then the digest and an outside Dockerfile. */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "tap.h"
#include "util/xalloc.h"

static char *
unescape (const char *s)
{
  struct buf b = { 0 };
  if (strcmp (s, "<empty>") == 0)
    return xstrdup ("");
  for (; *s; s++)
    if (*s == '\\' && (s[1] == 's' || s[1] == 't' || s[1] == 'r'))
      {
        buf_addc (&b, s[1] == 's' ? ' ' : s[1] == 't' ? '\t' : '\r');
        s++;
      }
    else
      buf_addc (&b, *s);
  return b.data ? buf_steal (&b) : xstrdup ("");
}

static void
mkparents (const char *root, const char *rel)
{
  char *p = xasprintf ("%s/%s", root, rel);
  for (char *q = p + strlen (root) + 1; *q; q++)
    if (*q == '/')
      {
        *q = '\0';
        mkdir (p, 0755);
        *q = '/';
      }
  free (p);
}

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    {
      perror (path);
      exit (99);
    }
  fputs (text, f);
  fclose (f);
}

/* The names the stream carries, "\n"-joined with leading and trailing "\n". */
static char *
sent_names (const char *dir, const char *dockerfile, struct itm_err *err)
{
  struct image_context *c = image_context_open (dir, dockerfile, err);
  if (c == NULL)
    return NULL;
  struct buf tar = { 0 };
  char chunk[4096];
  size_t n;
  while ((n = image_context_read (chunk, sizeof chunk, c)) > 0 && n != 0x10000000)
    buf_add (&tar, chunk, n);
  if (n == 0x10000000)
    {
      struct itm_err cerr = { 0 };
      if (image_context_error (c, &cerr) < 0)
        {
          itm_err_move (err, &cerr);
          itm_err_prefix (err, "stream");
        }
      else
        itm_err_set (err, ITM_EXIT_IMAGE, "stream: aborted without an error");
      image_context_free (c);
      buf_free (&tar);
      return NULL;
    }
  image_context_free (c);
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  struct buf names = { 0 };
  buf_addc (&names, '\n');
  if (archive_read_open_memory (a, tar.data, tar.len) == ARCHIVE_OK)
    {
      struct archive_entry *ent;
      while (archive_read_next_header (a, &ent) == ARCHIVE_OK)
        {
          buf_addf (&names, "%s", archive_entry_pathname (ent));
          if (archive_entry_filetype (ent) == AE_IFDIR && names.data[names.len - 1] != '/')
            buf_addc (&names, '/');
          buf_addc (&names, '\n');
        }
    }
  archive_read_free (a);
  buf_free (&tar);
  return buf_steal (&names);
}

static void
rm_rf (const char *dir)
{
  char *cmd = xasprintf ("rm -rf '%s'", dir);
  if (system (cmd) != 0)
    tap_diag ("cannot remove %s", dir);
  free (cmd);
}

struct expect {
  char *path;
  bool sent;
};

static void
run_case (const char *name, const char *ignore, struct expect *ex, size_t nex)
{
  char tmpl[] = "/tmp/itm-dockerignore.XXXXXX";
  char *dir = mkdtemp (tmpl);
  bool have_df = false;
  for (size_t i = 0; i < nex; i++)
    {
      mkparents (dir, ex[i].path);
      char *p = xasprintf ("%s/%s", dir, ex[i].path);
      size_t l = strlen (p);
      if (p[l - 1] == '/')
        mkdir (p, 0755);
      else
        write_file (p, ex[i].path);
      free (p);
      have_df |= strcmp (ex[i].path, "Dockerfile") == 0;
    }
  char *p = xasprintf ("%s/Dockerfile", dir);
  if (!have_df)
    write_file (p, "FROM scratch\n");
  free (p);
  p = xasprintf ("%s/.dockerignore", dir);
  write_file (p, ignore);
  free (p);
  struct itm_err err = { 0 };
  char *names = sent_names (dir, NULL, &err);
  if (names == NULL)
    {
      tap_ok (0, "%s: %s", name, err.msg);
      itm_err_clear (&err);
    }
  else
    for (size_t i = 0; i < nex; i++)
      {
        char *needle = xasprintf ("\n%s\n", ex[i].path);
        bool sent = strstr (names, needle) != NULL;
        if (!tap_ok (sent == ex[i].sent, "%s: %s %s", name, ex[i].path,
                     ex[i].sent ? "sent" : "not sent"))
          tap_diag ("stream: %s", names);
        free (needle);
      }
  free (names);
  rm_rf (dir);
}

static void
run_corpus (const char *path)
{
  FILE *f = fopen (path, "r");
  if (f == NULL)
    {
      tap_ok (0, "open %s: %s", path, strerror (errno));
      return;
    }
  char line[1024];
  char *name = NULL;
  struct buf ignore = { 0 };
  struct expect ex[64];
  size_t nex = 0;
  int state = 0;   /* 0 outside, 1 patterns, 2 expectations */
  size_t ncases = 0;
  for (;;)
    {
      char *got = fgets (line, sizeof line, f);
      if (got)
        line[strcspn (line, "\n")] = '\0';
      if (!got || strncmp (line, "=== ", 4) == 0)
        {
          if (name)
            {
              run_case (name, ignore.data ? ignore.data : "", ex, nex);
              ncases++;
            }
          for (size_t i = 0; i < nex; i++)
            free (ex[i].path);
          nex = 0;
          free (name);
          name = got ? xstrdup (line + 4) : NULL;
          buf_free (&ignore);
          state = 1;
          if (!got)
            break;
          continue;
        }
      if (state == 1)
        {
          if (strcmp (line, "---") == 0)
            state = 2;
          else
            {
              char *u = unescape (line);
              buf_adds (&ignore, u);
              if (strcmp (line, "<empty>") != 0)
                buf_addc (&ignore, '\n');
              free (u);
            }
        }
      else if (state == 2 && (line[0] == '+' || line[0] == '-') && line[1] == ' ' && nex < 64)
        ex[nex++] = (struct expect){ .path = xstrdup (line + 2), .sent = line[0] == '+' };
    }
  fclose (f);
  tap_ok (ncases >= 25, "the corpus has %zu cases", ncases);
}

static void
test_digest (void)
{
  char tmpl[] = "/tmp/itm-digest.XXXXXX";
  char *dir = mkdtemp (tmpl);
  char *ctx = xasprintf ("%s/ctx", dir);
  mkdir (ctx, 0755);
  char *df = xasprintf ("%s/Dockerfile", ctx), *a = xasprintf ("%s/a", ctx);
  char *ign = xasprintf ("%s/.dockerignore", ctx), *junk = xasprintf ("%s/junk.log", ctx);
  write_file (df, "FROM scratch\n");
  write_file (a, "one");
  write_file (ign, "*.log\n");
  write_file (junk, "1");
  struct itm_err err = { 0 };
  char d1[65], d2[65], d3[65], d4[65], d5[65];
  struct image_context *c = image_context_open (ctx, NULL, &err);
  tap_ok (c != NULL, "context opens");
  image_context_digest (c, "", d1, &err);
  image_context_free (c);
  write_file (junk, "2");  /* an ignored file changes nothing */
  c = image_context_open (ctx, NULL, &err);
  image_context_digest (c, "", d2, &err);
  tap_is_str (d2, d1, "an ignored file does not change the digest");
  image_context_digest (c, "arg x=1", d3, &err);
  tap_ok (strcmp (d3, d1) != 0, "args change the digest");
  image_context_free (c);
  write_file (a, "two");
  c = image_context_open (ctx, NULL, &err);
  image_context_digest (c, "", d4, &err);
  tap_ok (strcmp (d4, d1) != 0, "a changed file changes the digest");
  image_context_free (c);
  chmod (a, 0755);
  c = image_context_open (ctx, NULL, &err);
  image_context_digest (c, "", d5, &err);
  tap_ok (strcmp (d5, d4) != 0, "a changed mode changes the digest");
  uint64_t files = 0, bytes = 0;
  image_context_stats (c, &files, &bytes, NULL);
  tap_is_int ((long long) files, 3, "three entries hashed (.dockerignore, Dockerfile, a)");
  image_context_free (c);

  /* a Dockerfile outside the context */
  char *outside = xasprintf ("%s/Other.dockerfile", dir);
  write_file (outside, "FROM scratch\nCOPY a /a\n");
  c = image_context_open (ctx, outside, &err);
  tap_ok (c != NULL, "a Dockerfile outside the context is accepted");
  char *name = xstrdup (c ? image_context_dockerfile (c) : "");
  tap_ok (strncmp (name, ".itm-dockerfile.", 16) == 0, "it gets a generated name (%s)", name);
  image_context_free (c);
  char *names = sent_names (ctx, outside, &err);
  char *needle = xasprintf ("\n%s\n", name);
  tap_ok (names && strstr (names, "\n.itm-dockerfile.") && strstr (names, "\na\n"),
          "it is in the stream with the context");
  free (needle);
  free (names);
  free (name);
  /* a Dockerfile in a subdirectory, relative to the context */
  char *sub = xasprintf ("%s/sub", ctx), *subdf = xasprintf ("%s/sub/Build", ctx);
  mkdir (sub, 0755);
  write_file (subdf, "FROM scratch\n");
  c = image_context_open (ctx, "sub/Build", &err);
  tap_is_str (c ? image_context_dockerfile (c) : NULL, "sub/Build", "an inside Dockerfile keeps its path");
  image_context_free (c);
  c = image_context_open (ctx, "missing", &err);
  tap_ok (c == NULL && err.code == ITM_EXIT_IMAGE, "a missing Dockerfile is an image error");
  itm_err_clear (&err);
  struct image_ignore *ig = image_ignore_parse ("!\n", 2, &err);
  tap_ok (ig == NULL && err.msg && strstr (err.msg, "illegal exclusion"), "'!' alone is refused");
  itm_err_clear (&err);
  ig = image_ignore_parse ("[a\n", 3, &err);
  tap_ok (ig == NULL, "an unclosed class is refused");
  itm_err_clear (&err);
  rm_rf (dir);
  free (ctx), free (df), free (a), free (ign), free (junk), free (outside), free (sub), free (subdf);
}

int
main (int argc, char **argv)
{
  const char *srcdir = getenv ("ITM_SRCDIR");
  char *corpus = argc > 1 ? xstrdup (argv[1])
                          : xasprintf ("%s/tests/image/dockerignore.cases", srcdir ? srcdir : ".");
  run_corpus (corpus);
  free (corpus);
  test_digest ();
  return tap_done ();
}
