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
static bool high_inherited;   /* the caller gave one at FDS_TRACKED or above */

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
      if (*end || end == de->d_name || fd == self || fd < 0)
        continue;
      if (fd >= FDS_TRACKED)
        {
          high_inherited = true;
          continue;
        }
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

/* close_range where the C library has it, else one close per descriptor
 * (both async-signal-safe). */
static void
close_from_to (unsigned lo, unsigned hi)
{
#ifdef HAVE_CLOSE_RANGE
  if (close_range (lo, hi, 0) == 0)
    return;
#endif
  if (hi >= FDS_TRACKED)
    hi = FDS_TRACKED - 1;   /* without close_range: the tracked ones only */
  for (unsigned fd = lo; fd <= hi; fd++)
    close ((int) fd);
}

void
fds_close_own_in_child (void)
{
  if (!noted)
    return;
  unsigned lo = 3;
  for (unsigned fd = 3; fd < FDS_TRACKED; fd++)
    if (inherited[fd / 8] & (1u << (fd % 8)))
      {
        if (fd > lo)
          close_from_to (lo, fd - 1);
        lo = fd + 1;
      }
  if (lo < FDS_TRACKED)
    close_from_to (lo, high_inherited ? FDS_TRACKED - 1 : ~0u);
  else if (!high_inherited)
    close_from_to (FDS_TRACKED, ~0u);
}
