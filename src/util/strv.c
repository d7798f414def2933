/* strv.c - NULL-terminated string vectors. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

void
strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

void
strv_freep (char ***v)
{
  strv_free (*v);
  *v = NULL;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void
strv_push_take (char ***v, size_t *n, char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

void
strv_push (char ***v, size_t *n, const char *s)
{
  strv_push_take (v, n, xstrdup (s));
}

int
strv_contains (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return 1;
  return 0;
}
