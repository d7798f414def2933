/* clock.h - the one monotonic clock every module measures with. */
#ifndef ITM_CLOCK_H
#define ITM_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mono_ns (void);

#endif
