/* out.h - what every command prints while it works: progress events,
 * notes and warnings.  The bottom of the house next to util/: any module
 * may use it, it uses nothing but util/.
 *
 * Modes: plain timestamped lines on stderr (not a terminal), one live line
 * per service (a terminal), nothing but warnings (--quiet).  With --json,
 * events, notes and warnings are also (events and notes: only) JSON lines
 * on stdout, one object each: {"time","service","event","elapsed","detail"}
 * (elapsed: seconds rounded to milliseconds), {"event":"note","detail"},
 * {"event":"warning","detail"}; itm-env(1)'s JSON OUTPUT documents them.
 * Thread-safe: one mutex.  Strings passed in are copied; nothing returned
 * needs freeing.
 */
#ifndef ITM_OUT_H
#define ITM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum out_mode { OUT_PLAIN, OUT_TTY, OUT_QUIET };
void out_init (enum out_mode mode, bool json);
/* What out_init set (to put it back after a quiet interlude). */
void out_get (enum out_mode *mode, bool *json);
/* --quiet, a terminal on stderr (live lines, see out_tty) or plain lines; --json. */
void out_auto (bool quiet, bool json);
/* Whether --json event lines are being written on stdout. */
bool out_json (void);
/* One progress event of a service (service may be NULL for the namespace).
 * event: "created", "started", "waiting", "ready", "failed", "removed"...;
 * elapsed_ns < 0: not shown; detail may be NULL.  On a terminal a
 * service's event replaces its live line; a namespace event ends the live
 * block (see out_live_end) and is printed below it. */
void out_event (const char *service, const char *event, int64_t elapsed_ns, const char *detail);
/* out_event with counts: with --json the line also carries
 * "counts":{"NAME":N,...} (down's "removed": containers, networks,
 * volumes, images); the text lines show detail only. */
struct out_count {
  const char *name;
  long long n;
};
void out_event_counts (const char *service, const char *event, int64_t elapsed_ns,
                       const char *detail, const struct out_count *counts, size_t ncounts);
/* ---- what every --json line shares ---- */
/* Seconds as a JSON number rounded to milliseconds (0.017, printed with
 * three decimals): every duration in --json output. */
struct json_object *out_json_secs (int64_t ns);
/* The "time" of a JSON event: now, UTC, "2024-01-02T03:04:05.123456Z". */
void out_json_time (char *iso, size_t n);
/* A free-form note (stderr, above the live block; not in quiet mode; a
 * "note" JSON event). */
void out_note (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* A warning: "itm-env: warning: MSG" on stderr in every mode (above the
 * live block on a terminal), and with --json also a "warning" JSON event on
 * stdout.  The one way library code reports a problem it goes on after. */
void out_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Redraw the live block (waiting times go on); no-op when there is none. */
void out_tick (void);
/* The end of a command's progress: the live block is drawn a last time and
 * left on the screen as it is; it is never drawn again. */
void out_finish (void);

/* ---- the live block: one renderer for every live line (service lines
 * above, image progress in image/progress.c) ----
 * On a terminal, lines kept at the bottom of the output and redrawn in
 * place.  Every line is cut to the terminal's width (TIOCGWINSZ on stderr,
 * 80 columns if unknown, read again after a SIGWINCH) so that it never
 * wraps; the cursor goes up by the screen rows the block took; a block
 * taller than the screen shows its first lines and "... N more".  Notes,
 * warnings and out_scroll lines appear above it. */
enum out_color { OUT_COLOR_NONE, OUT_COLOR_GREEN, OUT_COLOR_RED };
/* Whether stderr is a terminal the live block can be drawn on: a TTY, and
 * $TERM set and not "dumb". */
bool out_tty (void);
/* Whether colour is on: out_tty, and $NO_COLOR unset or empty. */
bool out_color (void);
/* Set live line KEY to TEXT (a new line at the bottom of the block the
 * first time); the LEN bytes at TEXT + AT are shown in COLOR when colour is
 * on.  Drawn by the next out_tick. */
void out_live_set (const char *key, const char *text, size_t at, size_t len,
                   enum out_color color);
/* A line of text on stderr above the live block (no JSON). */
void out_scroll (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Draw the block a last time and leave it as it is: its lines are
 * forgotten; a later out_live_set starts a new block below it. */
void out_live_end (void);
/* For tests: draw the live block on TO as on a terminal of COLS x ROWS
 * (colour as COLOR) instead of stderr; a later call with other COLS is a
 * resize.  TO NULL: back to stderr. */
void out_live_test (FILE *to, int cols, int rows, bool color);

#endif
