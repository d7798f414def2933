/* out.c - progress output, notes and warnings: plain timestamped lines (not
 * a terminal), one live line per service (a terminal), nothing (--quiet),
 * and --json event lines on stdout; below them the live block's renderer.
 * Called from many threads: one mutex, out_mu, over everything here. */
#include <config.h>

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "out/out.h"
#include "util/clock.h"
#include "util/xalloc.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static enum out_mode out_mode = OUT_PLAIN;
static bool json_mode;

/* ==== the live block ==== */

struct rline {
  char *key;
  char *text;
  size_t at, len;           /* the coloured bytes of text */
  enum out_color color;
};
static struct rline *rl;    /* the block's lines, top first */
static size_t nrl, caprl;
static size_t *drawn_cols;  /* columns each row of the last drawing took */
static size_t ndrawn, capdrawn;
static FILE *live_to;       /* NULL: stderr */
static int test_cols, test_rows, test_color;
static int cols = 80, rows = 24;
static volatile sig_atomic_t winched = 1; /* the size is to be read (again) */
static bool winch_installed;

static void
on_winch (int sig)
{
  (void) sig;
  winched = 1;
}

static FILE *
live_file (void)
{
  return live_to ? live_to : stderr;
}

bool
out_tty (void)
{
  const char *term = getenv ("TERM");
  return isatty (STDERR_FILENO) && term && *term && strcmp (term, "dumb") != 0;
}

bool
out_color (void)
{
  if (live_to)
    return test_color;
  const char *nc = getenv ("NO_COLOR");
  return out_tty () && !(nc && *nc);
}

/* SIGWINCH sets a flag (SA_RESTART: no call in flight sees EINTR); a
 * handler someone else installed is left alone. */
static void
winch_install_locked (void)
{
  if (winch_installed || live_to)
    return;
  winch_installed = true;
  struct sigaction old;
  if (sigaction (SIGWINCH, NULL, &old) == 0 && old.sa_handler != SIG_DFL)
    return;
  struct sigaction sa = { 0 };
  sa.sa_handler = on_winch;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGWINCH, &sa, NULL);
}

static void
size_read_locked (void)
{
  if (live_to)
    {
      cols = test_cols, rows = test_rows;
      return;
    }
  if (!winched)
    return;
  winched = 0;
  struct winsize ws;
  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    cols = ws.ws_col, rows = ws.ws_row > 0 ? ws.ws_row : 24;
  else
    cols = 80, rows = 24;
}

/* Append TEXT to B cut to MAXCOL columns (one per code point), without
 * control characters or escape sequences of its own; bytes [at, at+len)
 * between SGR colour codes when COLOR.  Returns the columns taken. */
static size_t
cut (struct buf *b, const char *text, size_t maxcol, size_t at, size_t len, enum out_color color)
{
  static const char *const sgr[] = { "", "\033[32m", "\033[31m" };
  bool on = false;
  size_t col = 0;
  for (size_t i = 0; text[i]; i++)
    {
      unsigned char c = (unsigned char) text[i];
      if (color && !on && i == at && len)
        buf_adds (b, sgr[color]), on = true;
      if (on && i == at + len)
        buf_adds (b, "\033[m"), on = false;
      if (c == 033)
        {
          /* a CSI sequence to its final byte, or ESC and one byte */
          if (text[i + 1] == '[')
            for (i += 2; text[i] && !(text[i] >= 0x40 && text[i] <= 0x7e); i++)
              ;
          else if (text[i + 1])
            i++;
          if (!text[i])
            break;
          continue;
        }
      if (c == '\t')
        c = ' ';
      if (c < 0x20 || c == 0x7f)
        continue;
      if ((c & 0xc0) != 0x80)
        {
          if (col == maxcol)
            break;
          col++;
        }
      buf_addc (b, (char) c);
    }
  if (on)
    buf_adds (b, "\033[m");
  return col;
}

/* The screen rows the last drawing takes now: a line of more columns than
 * the terminal has (it got narrower) was wrapped by the terminal. */
static size_t
rows_drawn_locked (void)
{
  size_t n = 0, w = cols > 1 ? (size_t) cols : 1;
  for (size_t i = 0; i < ndrawn; i++)
    n += drawn_cols[i] > w ? (drawn_cols[i] + w - 1) / w : 1;
  return n;
}

/* One drawing is written at once (stderr has no buffer of its own). */
static struct buf frame;

/* Back to the first row of the block, at its first column. */
static void
live_up_locked (void)
{
  size_t up = rows_drawn_locked ();
  if (up)
    buf_addf (&frame, "\r\033[%zuA", up);
  ndrawn = 0;
}

static void
draw_row_locked (struct buf *b, const char *text, size_t at, size_t len,
                 enum out_color color, bool colored)
{
  /* one column short of the width: no terminal wraps it */
  size_t w = cols > 1 ? (size_t) cols - 1 : 1;
  buf_reset (b);
  size_t c = cut (b, text, w, at, len, colored ? color : OUT_COLOR_NONE);
  buf_addf (&frame, "\r\033[2K%s\n", b->data ? b->data : "");
  drawn_cols = xgrow (drawn_cols, &capdrawn, ndrawn + 1, sizeof *drawn_cols);
  drawn_cols[ndrawn++] = c;
}

static void
frame_write_locked (void)
{
  FILE *f = live_file ();
  if (frame.len)
    fwrite (frame.data, 1, frame.len, f);
  fflush (f);
  buf_reset (&frame);
}

static void
live_draw_locked (void)
{
  if (nrl == 0 && ndrawn == 0)
    {
      frame_write_locked ();
      return;
    }
  winch_install_locked ();
  size_read_locked ();
  /* up the rows of the old drawing as the terminal shows it now, at the
   * new width */
  live_up_locked ();
  bool colored = out_color ();
  cleanup_buf struct buf b = { 0 };
  size_t fit = rows > 2 ? (size_t) rows - 1 : 1, shown = nrl <= fit ? nrl : fit - 1;
  for (size_t i = 0; i < shown; i++)
    draw_row_locked (&b, rl[i].text, rl[i].at, rl[i].len, rl[i].color, colored);
  if (shown < nrl)
    {
      cleanup_free char *more = xasprintf ("... %zu more", nrl - shown);
      draw_row_locked (&b, more, 0, 0, OUT_COLOR_NONE, false);
    }
  buf_adds (&frame, "\033[J"); /* what a terminal may have left below */
  frame_write_locked ();
}

/* Print LINE above the block: the block moves down one line. */
static void
live_above_locked (const char *line)
{
  if (ndrawn)
    {
      size_read_locked ();
      live_up_locked ();
      buf_adds (&frame, "\033[J");
    }
  buf_addf (&frame, "%s\n", line);
  live_draw_locked ();
}

static void
live_end_locked (void)
{
  if (nrl)
    live_draw_locked ();
  for (size_t i = 0; i < nrl; i++)
    {
      free (rl[i].key);
      free (rl[i].text);
    }
  nrl = 0;
  ndrawn = 0;
}

static void
live_set_locked (const char *key, const char *text, size_t at, size_t len, enum out_color color)
{
  struct rline *l = NULL;
  for (size_t i = 0; i < nrl && l == NULL; i++)
    if (strcmp (rl[i].key, key) == 0)
      l = &rl[i];
  if (l == NULL)
    {
      rl = xgrow (rl, &caprl, nrl + 1, sizeof *rl);
      l = &rl[nrl++];
      *l = (struct rline){ .key = xstrdup (key) };
    }
  free (l->text);
  l->text = xstrdup (text);
  l->at = at;
  l->len = len;
  l->color = color;
}

void
out_live_set (const char *key, const char *text, size_t at, size_t len, enum out_color color)
{
  pthread_mutex_lock (&out_mu);
  live_set_locked (key, text, at, len, color);
  pthread_mutex_unlock (&out_mu);
}

void
out_scroll (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&out_mu);
  live_above_locked (msg);
  pthread_mutex_unlock (&out_mu);
}

void
out_live_end (void)
{
  pthread_mutex_lock (&out_mu);
  live_end_locked ();
  pthread_mutex_unlock (&out_mu);
}

void
out_live_test (FILE *to, int c, int r, bool color)
{
  pthread_mutex_lock (&out_mu);
  live_to = to;
  test_cols = c;
  test_rows = r;
  test_color = color;
  winched = 1;
  pthread_mutex_unlock (&out_mu);
}

/* ==== events, notes, warnings ==== */

/* The state of a service's live line (a terminal). */
struct live {
  char *service;
  char *event;
  char *detail;
  int64_t since;   /* when the event happened (monotonic) */
  int64_t elapsed; /* shown, or -1 */
};
static struct live *lives;
static size_t nlives, caplives;

void
out_init (enum out_mode mode, bool json)
{
  out_mode = mode;
  json_mode = json;
}

void
out_get (enum out_mode *mode, bool *json)
{
  *mode = out_mode;
  *json = json_mode;
}

static void
wall (char *buf, size_t n, char *iso, size_t niso)
{
  struct timeval tv;
  struct tm tm;
  gettimeofday (&tv, NULL);
  localtime_r (&tv.tv_sec, &tm);
  snprintf (buf, n, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
            (long) (tv.tv_usec / 1000));
  struct tm u;
  gmtime_r (&tv.tv_sec, &u);
  snprintf (iso, niso, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", u.tm_year + 1900, u.tm_mon + 1,
            u.tm_mday, u.tm_hour, u.tm_min, u.tm_sec, (long) tv.tv_usec);
}

/* " api                  ready (0.4 s)" with the event word coloured */
static void
live_line_locked (const struct live *l, int64_t now)
{
  cleanup_buf struct buf b = { 0 };
  buf_addf (&b, " %-20s ", l->service);
  size_t at = b.len;
  buf_adds (&b, l->event);
  enum out_color color = strcmp (l->event, "ready") == 0 ? OUT_COLOR_GREEN
                         : strcmp (l->event, "failed") == 0 ? OUT_COLOR_RED
                                                            : OUT_COLOR_NONE;
  bool waiting = strcmp (l->event, "waiting") == 0 || strcmp (l->event, "starting") == 0;
  if (waiting)
    buf_addf (&b, " %.1f s", (double) (now - l->since) / 1e9);
  else if (l->elapsed >= 0)
    buf_addf (&b, " (%.1f s)", (double) l->elapsed / 1e9);
  if (l->detail)
    buf_addf (&b, ": %s", l->detail);
  live_set_locked (l->service, b.data, at, strlen (l->event), color);
}

static void
lives_refresh_locked (void)
{
  int64_t now = mono_ns ();
  for (size_t i = 0; i < nlives; i++)
    live_line_locked (&lives[i], now);
}

static void
lives_free_locked (void)
{
  for (size_t i = 0; i < nlives; i++)
    {
      free (lives[i].service);
      free (lives[i].event);
      free (lives[i].detail);
    }
  nlives = 0;
}

static void
live_event_locked (const char *service, const char *event, int64_t elapsed_ns,
                   const char *detail)
{
  struct live *l = NULL;
  for (size_t i = 0; i < nlives && l == NULL; i++)
    if (strcmp (lives[i].service, service) == 0)
      l = &lives[i];
  if (l == NULL)
    {
      lives = xgrow (lives, &caplives, nlives + 1, sizeof *lives);
      l = &lives[nlives++];
      *l = (struct live){ .service = xstrdup (service) };
    }
  free (l->event);
  free (l->detail);
  l->event = xstrdup (event);
  l->detail = detail ? xstrdup (detail) : NULL;
  l->since = mono_ns ();
  l->elapsed = elapsed_ns;
  lives_refresh_locked ();
  live_draw_locked ();
}

/* Both ends of the live block: the last drawing stays, nothing of it is
 * drawn again. */
static void
finish_locked (void)
{
  if (nlives)
    lives_refresh_locked ();
  live_end_locked ();
  lives_free_locked ();
}

struct json_object *
out_json_secs (int64_t ns)
{
  char t[32];
  double ms = (double) ((ns + 500000) / 1000000);
  snprintf (t, sizeof t, "%.3f", ms / 1e3);
  return json_object_new_double_s (ms / 1e3, t);
}

void
out_json_time (char *iso, size_t n)
{
  char ts[32];
  wall (ts, sizeof ts, iso, n);
}

void
out_event_counts (const char *service, const char *event, int64_t elapsed_ns,
                  const char *detail, const struct out_count *counts, size_t ncounts)
{
  char ts[32], iso[48];
  pthread_mutex_lock (&out_mu);
  wall (ts, sizeof ts, iso, sizeof iso);
  if (json_mode)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "time", json_object_new_string (iso));
      if (service)
        json_object_object_add (o, "service", json_object_new_string (service));
      json_object_object_add (o, "event", json_object_new_string (event));
      if (elapsed_ns >= 0)
        json_object_object_add (o, "elapsed", out_json_secs (elapsed_ns));
      if (detail)
        json_object_object_add (o, "detail", json_object_new_string (detail));
      if (ncounts)
        {
          json_object *c = json_object_new_object ();
          for (size_t i = 0; i < ncounts; i++)
            json_object_object_add (c, counts[i].name, json_object_new_int64 (counts[i].n));
          json_object_object_add (o, "counts", c);
        }
      fputs (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
             stdout);
      fputc ('\n', stdout);
      fflush (stdout);
      json_object_put (o);
    }
  else if (out_mode == OUT_PLAIN || (out_mode == OUT_TTY && service == NULL))
    {
      /* on a terminal, a namespace-wide line ends the live block */
      FILE *f = stderr;
      if (out_mode == OUT_TTY)
        {
          finish_locked ();
          f = live_file ();
        }
      fprintf (f, "%s %s %s", ts, service ? service : "-", event);
      if (elapsed_ns >= 0)
        fprintf (f, " (%.1f s)", (double) elapsed_ns / 1e9);
      if (detail)
        fprintf (f, ": %s", detail);
      fputc ('\n', f);
      fflush (f);
    }
  else if (out_mode == OUT_TTY && service)
    live_event_locked (service, event, elapsed_ns, detail);
  pthread_mutex_unlock (&out_mu);
}

void
out_event (const char *service, const char *event, int64_t elapsed_ns, const char *detail)
{
  out_event_counts (service, event, elapsed_ns, detail, NULL, 0);
}

void
out_note (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&out_mu);
  if (json_mode)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "event", json_object_new_string ("note"));
      json_object_object_add (o, "detail", json_object_new_string (msg));
      puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      fflush (stdout);
      json_object_put (o);
    }
  else if (out_mode != OUT_QUIET)
    {
      fflush (stdout);
      live_above_locked (msg);
    }
  pthread_mutex_unlock (&out_mu);
}

void
out_tick (void)
{
  pthread_mutex_lock (&out_mu);
  if (nlives)
    lives_refresh_locked ();
  if (nrl)
    live_draw_locked ();
  pthread_mutex_unlock (&out_mu);
}

void
out_finish (void)
{
  pthread_mutex_lock (&out_mu);
  finish_locked ();
  pthread_mutex_unlock (&out_mu);
}

void
out_auto (bool quiet, bool json)
{
  enum out_mode m = quiet ? OUT_QUIET : out_tty () ? OUT_TTY : OUT_PLAIN;
  out_init (m, json);
}

bool
out_json (void)
{
  pthread_mutex_lock (&out_mu);
  bool j = json_mode;
  pthread_mutex_unlock (&out_mu);
  return j;
}

void
out_warn (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&out_mu);
  fflush (stdout);
  cleanup_free char *line = xasprintf ("itm-env: warning: %s", msg);
  live_above_locked (line);
  if (json_mode)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "event", json_object_new_string ("warning"));
      json_object_object_add (o, "detail", json_object_new_string (msg));
      puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      fflush (stdout);
      json_object_put (o);
    }
  pthread_mutex_unlock (&out_mu);
}
