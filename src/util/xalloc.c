/* xalloc.c - see xalloc.h */
#include <config.h>
#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
oom (void)
{
  static const char msg[] = "itm-env: out of memory\n";
  ssize_t r = write (STDERR_FILENO, msg, sizeof msg - 1);
  (void) r;
  abort ();
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xzalloc (size_t n)
{
  return xcalloc (1, n);
}

void *
xcalloc (size_t nmemb, size_t size)
{
  void *p = calloc (nmemb ? nmemb : 1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xgrow (void *p, size_t *cap, size_t need, size_t size)
{
  if (need <= *cap && p != NULL)
    return p;
  size_t n = *cap ? *cap : 8;
  while (n < need)
    {
      if (n > SIZE_MAX / 2)
        oom ();
      n *= 2;
    }
  if (size && n > SIZE_MAX / size)
    oom ();
  p = xrealloc (p, n * size);
  *cap = n;
  return p;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s ? s : "");
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = strndup (s, n);
  if (p == NULL)
    oom ();
  return p;
}

char *
xvasprintf (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    oom ();
  return s;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *s = xvasprintf (fmt, ap);
  va_end (ap);
  return s;
}

void
cleanup_freep (void *p)
{
  void **pp = p;
  free (*pp);
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

void
cleanup_fclosep (FILE **f)
{
  if (*f != NULL)
    fclose (*f);
}

void
buf_add (struct buf *b, const void *data, size_t n)
{
  b->data = xgrow (b->data, &b->cap, b->len + n + 1, 1);
  if (n)
    memcpy (b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void
buf_adds (struct buf *b, const char *s)
{
  buf_add (b, s, strlen (s));
}

void
buf_addc (struct buf *b, char c)
{
  buf_add (b, &c, 1);
}

void
buf_addf (struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *s = xvasprintf (fmt, ap);
  va_end (ap);
  buf_adds (b, s);
  free (s);
}

void
buf_consume (struct buf *b, size_t n)
{
  if (n >= b->len)
    {
      buf_reset (b);
      return;
    }
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

void
buf_reset (struct buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void
buf_free (struct buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *
buf_steal (struct buf *b)
{
  char *s = b->data ? b->data : xstrdup ("");
  b->data = NULL;
  b->len = b->cap = 0;
  return s;
}
