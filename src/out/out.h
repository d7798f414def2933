/* out.h - what every command prints while it works: progress events,
 * notes and warnings.  The bottom of the house next to util/: any module
 * may use it, it uses nothing but util/.
 *
 * Modes: plain timestamped lines on stderr (not a TTY), one live line per
 * service (a TTY), nothing but warnings (--quiet).  With --json, events,
 * notes and warnings are also (events and notes: only) JSON lines on
 * stdout, one object each: {"time","service","event","elapsed","detail"},
 * {"event":"note","detail"}, {"event":"warning","detail"}.
 * Thread-safe: one mutex.
 */
#ifndef ITM_OUT_H
#define ITM_OUT_H

#include <stdbool.h>
#include <stdint.h>

enum out_mode { OUT_PLAIN, OUT_TTY, OUT_QUIET };
void out_init (enum out_mode mode, bool json);
/* --quiet, a TTY on stderr (live lines) or plain lines; --json. */
void out_auto (bool quiet, bool json);
/* Whether --json event lines are being written on stdout. */
bool out_json (void);
/* One progress event of a service (service may be NULL for the namespace).
 * event: "created", "started", "waiting", "ready", "failed", "removed"...;
 * elapsed_ns < 0: not shown; detail may be NULL. */
void out_event (const char *service, const char *event, int64_t elapsed_ns, const char *detail);
/* A free-form note (stderr, not in quiet mode; a "note" JSON event). */
void out_note (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* A warning: "itm-env: warning: MSG" on stderr in every mode (below the
 * live lines on a TTY), and with --json also a "warning" JSON event on
 * stdout.  The one way library code reports a problem it goes on after. */
void out_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Redraw live lines (a TTY); no-op otherwise. */
void out_tick (void);
void out_finish (void);

#endif
