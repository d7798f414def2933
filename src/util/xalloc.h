/* xalloc.h - allocation that cannot fail, scope cleanup, a growable buffer.
 *
 * x* functions abort the process with a message on allocation failure, so
 * callers never test their results (crun's OOM(), tmux's xmalloc).
 */
#ifndef ITM_XALLOC_H
#define ITM_XALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void *xmalloc (size_t n) __attribute__ ((malloc, returns_nonnull));
void *xzalloc (size_t n) __attribute__ ((malloc, returns_nonnull));
void *xcalloc (size_t nmemb, size_t size) __attribute__ ((malloc, returns_nonnull));
void *xrealloc (void *p, size_t n) __attribute__ ((returns_nonnull));
/* Grow an array of nmemb elements of size bytes to hold at least need. */
void *xgrow (void *p, size_t *cap, size_t need, size_t size) __attribute__ ((returns_nonnull));
char *xstrdup (const char *s) __attribute__ ((malloc, returns_nonnull));
char *xstrndup (const char *s, size_t n) __attribute__ ((malloc, returns_nonnull));
char *xasprintf (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2), malloc, returns_nonnull));
char *xvasprintf (const char *fmt, va_list ap)
  __attribute__ ((format (printf, 1, 0), malloc, returns_nonnull));
void oom (void) __attribute__ ((noreturn));

/* Scope cleanup (crun's cleanup_free and friends). */
void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_fclosep (FILE **f);
#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))

/* Steal a pointer out of a cleanup variable. */
#define steal_pointer(pp) ({ __typeof__ (*(pp)) _p = *(pp); *(pp) = NULL; _p; })

/* A growable byte buffer, always NUL-terminated when data != NULL. */
struct buf {
  char *data;
  size_t len;
  size_t cap;
};
void buf_add (struct buf *b, const void *data, size_t n);
void buf_adds (struct buf *b, const char *s);
void buf_addc (struct buf *b, char c);
void buf_addf (struct buf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void buf_consume (struct buf *b, size_t n); /* drop n bytes from the front */
void buf_reset (struct buf *b);             /* len = 0, keep memory */
void buf_free (struct buf *b);
char *buf_steal (struct buf *b);            /* the string, buffer emptied */
#define cleanup_buf __attribute__ ((cleanup (buf_free)))

#endif
