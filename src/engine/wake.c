/* wake.c - cancellation that wakes the calls waiting on the engine.
 *
 * A call with a cancel flag (struct engine_call.cancel) sleeps in
 * curl_multi_poll() until its socket has news or curl's own timer runs
 * out; it does not look at the flag on a clock.  Whoever sets a cancel
 * flag calls engine_cancel_wake(), which makes every waiting call wake up
 * and look at its flag.
 *
 * How: each engine handle owns an eventfd, in its multi handle's poll set
 * (curl_multi_poll's extra_fds).  The eventfds come from a process-wide
 * pool and are never closed: a handle gives its eventfd back when it is
 * closed, and the next handle takes it.  engine_cancel_wake() writes to
 * every eventfd the pool ever made, reading only an append-only array and
 * its atomic length, so it is async-signal-safe (a SIGINT handler calls
 * it) and cannot write into a descriptor that has meanwhile been closed
 * and reused for something else.  A wake-up that finds an idle eventfd is
 * drained by the next call on it (a spurious wake-up costs one turn).
 *
 * No lost wake-up: the waiter drains its eventfd, then reads its flag,
 * then polls; the setter sets the flag, then writes.  Either the waiter
 * sees the flag, or the write comes after its drain and the poll returns.
 *
 * When no eventfd can be had (descriptor limit, pool full) the handle has
 * none (-1) and its calls look at their flag every ENGINE_WAKE_FALLBACK_MS
 * instead. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/wake.h"

#define WAKE_POOL_MAX 4096

static int pool_fd[WAKE_POOL_MAX];        /* append-only: [0, pool_n) are set */
static atomic_uint pool_n;
static bool pool_busy[WAKE_POOL_MAX];     /* under pool_mu */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;

int
wake_fd_get (void)
{
  int fd = -1;
  pthread_mutex_lock (&pool_mu);
  unsigned n = atomic_load (&pool_n);
  for (unsigned i = 0; i < n && fd < 0; i++)
    if (!pool_busy[i])
      {
        pool_busy[i] = true;
        fd = pool_fd[i];
      }
  if (fd < 0 && n < WAKE_POOL_MAX)
    {
      fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd >= 0)
        {
          pool_fd[n] = fd;
          pool_busy[n] = true;
          /* the handler reads pool_fd[i] only for i below the new length */
          atomic_store (&pool_n, n + 1);
        }
    }
  pthread_mutex_unlock (&pool_mu);
  if (fd >= 0)
    wake_fd_drain (fd);
  return fd;
}

void
wake_fd_put (int fd)
{
  if (fd < 0)
    return;
  pthread_mutex_lock (&pool_mu);
  unsigned n = atomic_load (&pool_n);
  for (unsigned i = 0; i < n; i++)
    if (pool_fd[i] == fd)
      pool_busy[i] = false;
  pthread_mutex_unlock (&pool_mu);
}

void
wake_fd_drain (int fd)
{
  uint64_t v;
  ssize_t r;
  do
    r = read (fd, &v, sizeof v);
  while (r < 0 && errno == EINTR);
}

void
engine_cancel_wake (void)
{
  int saved = errno;
  unsigned n = atomic_load (&pool_n);
  uint64_t one = 1;
  for (unsigned i = 0; i < n; i++)
    {
      ssize_t r = write (pool_fd[i], &one, sizeof one);
      (void) r;                 /* EAGAIN: it is readable already */
    }
  errno = saved;
}
