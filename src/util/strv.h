/* strv.h - NULL-terminated vectors of malloc'd strings (char **), the
 * shape engine lists, argv and label values take everywhere.
 *
 * Ownership: a strv owns its strings; strv_free() releases both. */
#ifndef ITM_STRV_H
#define ITM_STRV_H

#include <stddef.h>

/* Free every string and the vector; NULL is fine. */
void strv_free (char **v);
void strv_freep (char ***v);
#define cleanup_strv __attribute__ ((cleanup (strv_freep)))
/* The number of strings before the NULL; 0 for NULL. */
size_t strv_len (char *const *v);
/* Append a copy of s (the vector grows; *n counts, the NULL follows). */
void strv_push (char ***v, size_t *n, const char *s);
/* Append s itself (taken over). */
void strv_push_take (char ***v, size_t *n, char *s);
/* Whether s is one of v's strings. */
int strv_contains (char *const *v, const char *s);

#endif
