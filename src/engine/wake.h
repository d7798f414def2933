/* wake.h - private to src/engine/: the eventfds that wake calls waiting
 * on the engine when a cancel flag is set (wake.c; the public side is
 * engine_cancel_wake in engine.h). */
#ifndef ITM_ENGINE_WAKE_H
#define ITM_ENGINE_WAKE_H

/* How often a call whose handle got no eventfd looks at its cancel flag. */
#define ENGINE_WAKE_FALLBACK_MS 100

/* An eventfd from the pool (drained), -1 when none can be had. */
int wake_fd_get (void);
/* Give it back (-1: nothing). */
void wake_fd_put (int fd);
/* Read what is pending on it, without blocking. */
void wake_fd_drain (int fd);

#endif
