/* fds.c - the descriptors itm-env was given (fds.h).
 *
 * Why not only O_CLOEXEC where itm-env opens things: libraries open
 * descriptors of their own (libcurl's sockets and its multi handle's
 * wake-up pair, a resolver's, a lazily loaded library's), some in other
 * threads, and one missed is one leaked into run's command (found by
 * tests/verify/run-matrix.sh under make -j2: the command had three
 * descriptors its caller did not).  So the rule is stated once, by what
 * the caller gave: everything else is marked close-on-exec before run
 * starts its command. */
#include <config.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/fds.h"

#define FDS_TRACKED 1024   /* inherited descriptors above this are rare; they are kept open */

static unsigned char inherited[FDS_TRACKED / 8];
static bool noted;

static bool
is_inherited (int fd)
{
  return fd >= FDS_TRACKED || (inherited[fd / 8] & (1u << (fd % 8)));
}

void
fds_note_inherited (void)
{
  noted = true;
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    {
      /* no /proc: probe */
      for (int fd = 0; fd < FDS_TRACKED; fd++)
        if (fcntl (fd, F_GETFD) >= 0)
          inherited[fd / 8] |= (unsigned char) (1u << (fd % 8));
      return;
    }
  int self = dirfd (d);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long fd = strtol (de->d_name, &end, 10);
      if (*end || end == de->d_name || fd == self || fd < 0 || fd >= FDS_TRACKED)
        continue;
      inherited[fd / 8] |= (unsigned char) (1u << (fd % 8));
    }
  closedir (d);
}

void
fds_cloexec_own (void)
{
  if (!noted)
    return;
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    {
      for (int fd = 3; fd < FDS_TRACKED; fd++)
        if (!is_inherited (fd))
          {
            int fl = fcntl (fd, F_GETFD);
            if (fl >= 0 && !(fl & FD_CLOEXEC))
              fcntl (fd, F_SETFD, fl | FD_CLOEXEC);
          }
      return;
    }
  int self = dirfd (d);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long fd = strtol (de->d_name, &end, 10);
      if (*end || end == de->d_name || fd == self || fd < 3 || is_inherited ((int) fd))
        continue;
      int fl = fcntl ((int) fd, F_GETFD);
      if (fl >= 0 && !(fl & FD_CLOEXEC))
        fcntl ((int) fd, F_SETFD, fl | FD_CLOEXEC);
    }
  closedir (d);
}
