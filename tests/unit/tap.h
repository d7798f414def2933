/* tap.h - a tiny TAP producer for the unit tests (automake's tap-driver). */
#ifndef ITM_TAP_H
#define ITM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__ ((format (printf, 2, 3), unused)) static int
tap_ok (int cond, const char *fmt, ...)
{
  va_list ap;
  tap_n++;
  printf ("%sok %d - ", cond ? "" : "not ", tap_n);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  if (!cond)
    tap_failed++;
  fflush (stdout);
  return cond;
}

__attribute__ ((format (printf, 1, 2), unused)) static void
tap_diag (const char *fmt, ...)
{
  va_list ap;
  printf ("# ");
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
}

#define tap_is_str(got, want, ...)                                              \
  ({ const char *_g = (got), *_w = (want);                                     \
     int _r = tap_ok (_g && _w ? strcmp (_g, _w) == 0 : _g == _w, __VA_ARGS__); \
     if (!_r) tap_diag ("got '%s', want '%s'", _g ? _g : "(null)", _w ? _w : "(null)"); \
     _r; })
#define tap_is_int(got, want, ...)                                              \
  ({ long long _g = (got), _w = (want);                                        \
     int _r = tap_ok (_g == _w, __VA_ARGS__);                                  \
     if (!_r) tap_diag ("got %lld, want %lld", _g, _w);                        \
     _r; })

/* n checks that cannot run here, counted as passed with a SKIP directive. */
__attribute__ ((unused)) static void
tap_skip (int n, const char *why)
{
  for (int i = 0; i < n; i++)
    printf ("ok %d # SKIP %s\n", ++tap_n, why);
  fflush (stdout);
}

__attribute__ ((unused)) static int
tap_done (void)
{
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
