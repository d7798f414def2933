/* clock.c - the monotonic clock. */
#include <config.h>

#include <time.h>

#include "util/clock.h"

int64_t
mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
