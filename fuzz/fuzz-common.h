/* fuzz-common.h - the plain main() of a fuzz target built without
 * libFuzzer: replays every file of the directories (or files) given, or
 * of $ITM_SRCDIR/fuzz/<default corpus>, as TAP for `make check`.  A crash
 * fails the test; the target's own checks abort(). */
#ifndef ITM_FUZZ_COMMON_H
#define ITM_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#ifndef ITM_LIBFUZZER
static int fuzz_n;

static void
fuzz_replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      printf ("not ok %d - %s: cannot open\n", ++fuzz_n, path);
      return;
    }
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc (cap);
  size_t r;
  while (buf && (r = fread (buf + len, 1, cap - len, f)) > 0)
    {
      len += r;
      if (len == cap)
        buf = realloc (buf, cap *= 2);
    }
  fclose (f);
  if (buf == NULL)
    abort ();
  LLVMFuzzerTestOneInput (buf, len);
  free (buf);
  printf ("ok %d - %s\n", ++fuzz_n, path);
  fflush (stdout);
}

static int
fuzz_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
fuzz_replay (const char *path)
{
  struct stat st;
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    {
      DIR *d = opendir (path);
      struct dirent *e;
      char **names = NULL;
      size_t n = 0;
      while (d && (e = readdir (d)))
        {
          if (e->d_name[0] == '.')
            continue;
          names = realloc (names, (n + 1) * sizeof *names);
          names[n++] = strdup (e->d_name);
        }
      if (d)
        closedir (d);
      qsort (names, n, sizeof *names, fuzz_cmp);
      for (size_t i = 0; i < n; i++)
        {
          char *p = malloc (strlen (path) + strlen (names[i]) + 2);
          sprintf (p, "%s/%s", path, names[i]);
          fuzz_replay_file (p);
          free (p);
          free (names[i]);
        }
      free (names);
      return;
    }
  fuzz_replay_file (path);
}

static int
fuzz_main (int argc, char **argv, const char *corpus)
{
  if (argc > 1)
    for (int i = 1; i < argc; i++)
      fuzz_replay (argv[i]);
  else
    {
      const char *src = getenv ("ITM_SRCDIR");
      char *p = malloc (strlen (src ? src : ".") + strlen (corpus) + 8);
      sprintf (p, "%s/fuzz/%s", src ? src : ".", corpus);
      fuzz_replay (p);
      free (p);
    }
  if (fuzz_n == 0)
    printf ("not ok 1 - empty corpus\n"), fuzz_n = 1;
  printf ("1..%d\n", fuzz_n);
  return 0;
}
#define FUZZ_MAIN(corpus)                                                      \
  int main (int argc, char **argv) { return fuzz_main (argc, argv, corpus); }
#else
#define FUZZ_MAIN(corpus)
#endif

#endif
