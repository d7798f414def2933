/* file.c - whole regular files, bounded, without blocking on FIFOs. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"
#include "util/xalloc.h"

char *
file_read_at (int dirfd, const char *path, bool nofollow, size_t max, size_t *len, int code,
              struct itm_err *err)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0);
  cleanup_close int fd = openat (dirfd, path, flags);
  if (fd < 0)
    {
      if (errno == ELOOP && nofollow)
        {
          itm_err_set (err, code, "%s: a symbolic link (refused)", path);
          return NULL;
        }
      itm_err_errno (err, code, "%s", path);
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      itm_err_errno (err, code, "%s", path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      itm_err_set (err, code, "%s: %s", path,
                   S_ISDIR (st.st_mode) ? "a directory, not a file" : "not a regular file");
      return NULL;
    }
  if (max && (size_t) st.st_size > max)
    {
      itm_err_set (err, code, "%s: larger than %zu bytes", path, max);
      return NULL;
    }
  int fl = fcntl (fd, F_GETFL);
  if (fl >= 0)
    fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
  size_t cap = (size_t) st.st_size + 1, n = 0;
  char *data = xmalloc (cap);
  for (;;)
    {
      if (n + 1 >= cap)
        {
          if (max && n >= max)
            {
              free (data);
              itm_err_set (err, code, "%s: larger than %zu bytes", path, max);
              return NULL;
            }
          cap *= 2;
          data = xrealloc (data, cap);
        }
      ssize_t r = read (fd, data + n, cap - n - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          free (data);
          itm_err_errno (err, code, "%s", path);
          return NULL;
        }
      if (r == 0)
        break;
      n += (size_t) r;
    }
  if (max && n > max)
    {
      free (data);
      itm_err_set (err, code, "%s: larger than %zu bytes", path, max);
      return NULL;
    }
  data[n] = '\0';
  if (len)
    *len = n;
  return data;
}

char *
file_read (const char *path, size_t max, size_t *len, int code, struct itm_err *err)
{
  return file_read_at (AT_FDCWD, path, false, max, len, code, err);
}
