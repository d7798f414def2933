/* fds.h - the descriptors itm-env was given, and keeping its own from the
 * commands it starts. */
#ifndef ITM_UTIL_FDS_H
#define ITM_UTIL_FDS_H

/* Note the descriptors open at this moment as the caller's (call first
 * thing in main, before anything is opened). */
void fds_note_inherited (void);

/* Mark every open descriptor that fds_note_inherited did not see
 * close-on-exec: a command started next (run's) gets what itm-env's caller
 * gave it and nothing of itm-env's own, whoever opened it (libcurl, a
 * library, another thread).  Call in the parent, right before fork. */
void fds_cloexec_own (void);

/* In the child of a fork, before exec: close every descriptor the caller
 * did not give itm-env.  fds_cloexec_own alone races with the threads
 * that open descriptors between it and fork (the child's table is a copy
 * taken at fork; only the child can close what slipped in).  Async-signal
 * safe: no allocation, no stdio. */
void fds_close_own_in_child (void);

#endif
