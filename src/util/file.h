/* file.h - whole files read in one call, safely: only regular files (a
 * FIFO, a device or a directory is refused without blocking), at most
 * `max` bytes (a bigger file is refused, not cut), close-on-exec.
 *
 * Ownership: the buffer returned is new, NUL-terminated, for the caller to
 * free(). */
#ifndef ITM_FILE_H
#define ITM_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The file's contents (*len bytes, may be NULL) or NULL with err set to
 * code: "PATH: No such file or directory", "PATH: not a regular file",
 * "PATH: larger than N bytes".  max 0: no limit. */
char *file_read (const char *path, size_t max, size_t *len, int code, struct itm_err *err);
/* The same from a directory fd (openat, O_NOFOLLOW when nofollow). */
char *file_read_at (int dirfd, const char *path, bool nofollow, size_t max, size_t *len, int code,
                    struct itm_err *err);

#endif
