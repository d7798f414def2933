/* test-out.c - the live block's renderer (src/out/out.c) on a fake
 * terminal: its bytes go through a small terminal emulator (carriage
 * return, newline, cursor up, erase line, erase below, wrap at the last
 * column) and the screen is read back.  Lines are cut to the width and
 * never wrap, the cursor goes up by the rows drawn (more after the
 * terminal got narrower), notes go above the block, a finished block is
 * not drawn again, colour codes only when asked. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/out.h"
#include "tap.h"

/* ---- a terminal of W x H with a scrollback ---- */
#define MAXW 200
#define MAXH 60
static int W, H, cr, cc, pend, wraps;
static char scr[MAXH][MAXW + 1];
static char sb[400][MAXW + 1];  /* rows scrolled off the top */
static int nsb;

static void
term_reset (int w, int h)
{
  W = w, H = h, cr = cc = pend = wraps = nsb = 0;
  for (int r = 0; r < MAXH; r++)
    memset (scr[r], ' ', MAXW), scr[r][MAXW] = 0;
}

static void
lf (void)
{
  if (cr < H - 1)
    {
      cr++;
      return;
    }
  if (nsb < 400)
    memcpy (sb[nsb++], scr[0], MAXW + 1);
  memmove (scr[0], scr[1], (size_t) (H - 1) * sizeof scr[0]);
  memset (scr[H - 1], ' ', MAXW);
}

static int ups[64], nups;  /* the cursor-up counts seen */

static void
term_feed (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      char c = s[i];
      if (c == '\r')
        cc = 0, pend = 0;
      else if (c == '\n')
        cc = 0, pend = 0, lf (); /* a TTY's onlcr: CR LF */
      else if (c == '\033' && i + 1 < n && s[i + 1] == '[')
        {
          int num = 0;
          size_t j = i + 2;
          while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'))
            num = s[j] == ';' ? 0 : num * 10 + (s[j] - '0'), j++;
          char f = j < n ? s[j] : 0;
          if (f == 'A')
            {
              if (nups < 64)
                ups[nups++] = num ? num : 1;
              cr -= num ? num : 1;
              if (cr < 0)
                cr = 0;
              pend = 0;
            }
          else if (f == 'K')
            memset (scr[cr], ' ', MAXW);
          else if (f == 'J')
            {
              memset (scr[cr] + cc, ' ', (size_t) (MAXW - cc));
              for (int r = cr + 1; r < H; r++)
                memset (scr[r], ' ', MAXW);
            }
          i = j;
        }
      else if ((unsigned char) c >= 0x20)
        {
          if (pend)
            cc = 0, pend = 0, lf (), wraps++;
          scr[cr][cc] = c;
          if (cc == W - 1)
            pend = 1;
          else
            cc++;
        }
    }
}

/* row R of the screen without trailing blanks (static buffer) */
static const char *
row (int r)
{
  static char b[MAXW + 1];
  memcpy (b, scr[r], (size_t) W);
  b[W] = 0;
  for (int k = W - 1; k >= 0 && b[k] == ' '; k--)
    b[k] = 0;
  return b;
}

/* how many rows (screen and scrollback) contain NEEDLE */
static int
count_rows (const char *needle)
{
  int n = 0;
  for (int r = 0; r < nsb; r++)
    {
      char b[MAXW + 1];
      memcpy (b, sb[r], (size_t) W);
      b[W] = 0;
      n += strstr (b, needle) != NULL;
    }
  for (int r = 0; r < H; r++)
    n += strstr (row (r), needle) != NULL;
  return n;
}

/* ---- the renderer's output ---- */
static char *mem;
static size_t memlen, seen;
static FILE *mf;

/* feed what was written since the last call; return it (static copy) */
static const char *
pump (void)
{
  static char last[65536];
  fflush (mf);
  size_t n = memlen - seen;
  if (n >= sizeof last)
    n = sizeof last - 1;
  memcpy (last, mem + seen, n);
  last[n] = 0;
  term_feed (mem + seen, memlen - seen);
  seen = memlen;
  return last;
}

static void
setup (int w, int h, bool color)
{
  term_reset (w, h);
  out_live_test (mf, w, h, color);
}

int
main (void)
{
  mf = open_memstream (&mem, &memlen);
  unsetenv ("NO_COLOR");

  /* 1. 40 columns: a long line is cut, nothing wraps, updates stay in place */
  setup (40, 30, false);
  out_live_set ("a", "alpha    created", 0, 0, OUT_COLOR_NONE);
  out_live_set ("b", "beta     waiting 0.1 s: a very long detail that goes on and on past forty "
                "columns and more", 0, 0, OUT_COLOR_NONE);
  out_live_set ("c", "gamma    created", 0, 0, OUT_COLOR_NONE);
  out_tick ();
  pump ();
  tap_is_int (nups, 0, "the first drawing does not move up");
  for (int k = 0; k < 20; k++)
    {
      char t[200];
      snprintf (t, sizeof t, "beta     waiting %d.0 s: a very long detail that goes on and on "
                "past forty columns and more", k);
      out_live_set ("b", t, 0, 0, OUT_COLOR_NONE);
      out_tick ();
      pump ();
    }
  tap_is_int (wraps, 0, "no line wrapped at 40 columns");
  int maxlen = 0;
  for (int r = 0; r < H; r++)
    if ((int) strlen (row (r)) > maxlen)
      maxlen = (int) strlen (row (r));
  tap_ok (maxlen < 40, "every row is shorter than the width (longest %d)", maxlen);
  tap_is_int (count_rows ("beta"), 1, "beta's line is on the screen once (no stale copies)");
  tap_is_int (count_rows ("alpha"), 1, "alpha's too");
  tap_is_str (row (1), "beta     waiting 19.0 s: a very long de", "the last update, cut");
  int allthree = nups == 20;
  for (int k = 0; k < nups; k++)
    allthree &= ups[k] == 3;
  tap_ok (allthree, "each redraw moves up the 3 rows drawn (%d moves, first %d)", nups,
          nups ? ups[0] : 0);

  /* 2. a note scrolls above the block */
  out_scroll ("a note");
  pump ();
  tap_is_str (row (0), "a note", "a note goes above the block");
  tap_is_str (row (1), "alpha    created", "the block is drawn below it");
  tap_is_int (count_rows ("alpha"), 1, "and only there");

  /* 3. the terminal gets narrower: the old rows were wrapped by it */
  nups = 0;
  out_live_set ("a", "alpha    created 123456789012345678901", 0, 0, OUT_COLOR_NONE);
  out_tick ();
  pump ();
  out_live_test (mf, 20, 30, false);
  nups = 0;
  out_tick ();
  const char *o = pump ();
  /* rows of 39, 39 and 16 columns at 20 columns: 2 + 2 + 1 */
  tap_ok (strncmp (o, "\r\033[5A", 5) == 0, "after a resize to 20 columns the cursor goes up "
          "5 rows, not 3 lines");
  out_live_test (mf, 40, 30, false);
  out_tick ();
  pump ();

  /* 4. a finished block is never drawn again */
  out_live_end ();
  pump ();
  out_scroll ("removed what this up created");
  out_tick ();
  o = pump ();
  tap_is_str (o, "removed what this up created\n", "after the end a note is just a line");

  /* 5. colour on and off, escape sequences and controls of the text dropped */
  setup (40, 30, true);
  out_live_set ("x", " api ready (0.4 s)", 5, 5, OUT_COLOR_GREEN);
  out_live_set ("y", " db failed", 4, 6, OUT_COLOR_RED);
  out_tick ();
  o = pump ();
  tap_ok (strstr (o, " api \033[32mready\033[m (0.4 s)") != NULL, "ready in green");
  tap_ok (strstr (o, " db \033[31mfailed\033[m") != NULL, "failed in red");
  out_live_end ();
  pump ();
  setup (40, 30, false);
  out_live_set ("x", " api ready (0.4 s)", 5, 5, OUT_COLOR_GREEN);
  out_live_set ("z", "a\033[31mb\tc\rd\001e", 0, 0, OUT_COLOR_NONE);
  out_tick ();
  o = pump ();
  tap_ok (strstr (o, "\033[32m") == NULL && strstr (o, "\033[31m") == NULL,
          "no colour codes when colour is off");
  tap_ok (strstr (o, "ab cde\n") != NULL, "the text's own escapes and controls are dropped");
  out_live_end ();
  pump ();

  /* 6. a block taller than the screen */
  setup (40, 6, false);
  for (int k = 0; k < 10; k++)
    {
      char key[8], t[16];
      snprintf (key, sizeof key, "k%d", k);
      snprintf (t, sizeof t, "line %d", k);
      out_live_set (key, t, 0, 0, OUT_COLOR_NONE);
    }
  out_tick ();
  out_tick ();
  pump ();
  tap_is_str (row (4), "... 6 more", "a block taller than the screen ends in '... N more'");
  tap_is_int (count_rows ("line 0"), 1, "and its first line is not repeated");
  out_live_end ();
  pump ();

  /* 7. service events: one line each, in place, the event word coloured */
  setup (40, 30, true);
  out_init (OUT_TTY, false);
  out_event ("db", "created", -1, NULL);
  out_event ("cache", "created", -1, NULL);
  out_event ("db", "waiting", -1, "health check");
  out_event ("cache", "ready", 900000000, NULL);
  out_event ("db", "failed", -1, "exited with code 1 and a long reason past the width");
  out_tick ();
  o = pump ();
  tap_is_int (count_rows ("cache"), 1, "a service's line appears once");
  tap_ok (strstr (row (0), " db") == row (0) + 0 && strstr (row (0), "failed: exited") != NULL,
          "db's line shows its last event (%s)", row (0));
  tap_ok (strstr (o, "\033[32mready\033[m (0.9 s)") != NULL, "ready is green");
  out_finish ();
  pump ();
  out_note ("itm-env: removed what this up created");
  o = pump ();
  tap_ok (strstr (o, "\033[") == NULL, "after out_finish a note does not draw the block again");
  tap_is_int (count_rows ("cache"), 1, "cache is still on the screen once");

  fclose (mf);
  free (mem);
  return tap_done ();
}
