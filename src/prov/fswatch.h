/* fswatch.h - private to src/prov/: file activity under a few paths, for
 * the readiness trigger (trigger.h).  One inotify instance for the whole
 * process (the kernel allows 128 per user: one per gate would run out),
 * shared by every gate under a mutex; each gate owns a "slot": its paths,
 * watched recursively up to a number of directories, and a counter of the
 * events seen under them.  Directories made later under a watched one are
 * watched too (while the slot has room).
 *
 * Ownership: a slot from fswatch_add is the caller's until
 * fswatch_remove.  Thread-safe. */
#ifndef ITM_PROV_FSWATCH_H
#define ITM_PROV_FSWATCH_H

#include <stddef.h>
#include <stdint.h>

/* A slot (from 1) watching paths[0..n) (directories recursively,
 * breadth first, at most max_dirs directories in all; files as they
 * are); 0 when nothing could be watched (no inotify, no such path, the
 * kernel's limits). */
int fswatch_add (const char *const *paths, size_t n, unsigned max_dirs);
/* The events seen under the slot's paths so far (reads what the kernel
 * has queued for every slot first). */
uint64_t fswatch_count (int slot);
/* Stop watching; the slot may be given out again.  0 is a no-op. */
void fswatch_remove (int slot);
/* The number of watches held now (tests). */
size_t fswatch_watches (void);

#endif
