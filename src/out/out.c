/* out.c - progress output, notes and warnings: plain timestamped lines (not a TTY), one live
 * line per service (a TTY), nothing (--quiet), and --json event lines on
 * stdout.  Called from many threads: one mutex. */
#include <config.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "out/out.h"
#include "util/clock.h"
#include "util/xalloc.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static enum out_mode out_mode = OUT_PLAIN;
static bool json_mode;

struct live {
  char *service;
  char *event;
  char *detail;
  int64_t since;   /* when the event happened (monotonic) */
  int64_t elapsed; /* shown, or -1 */
};
static struct live *lives;
static size_t nlives, drawn;

void
out_init (enum out_mode mode, bool json)
{
  out_mode = mode;
  json_mode = json;
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

static void
redraw_locked (void)
{
  if (drawn)
    fprintf (stderr, "\033[%zuA", drawn);
  int64_t now = mono_ns ();
  for (size_t i = 0; i < nlives; i++)
    {
      struct live *l = &lives[i];
      char el[32] = "";
      bool waiting = strcmp (l->event, "waiting") == 0 || strcmp (l->event, "starting") == 0;
      if (waiting)
        snprintf (el, sizeof el, " %.1f s", (double) (now - l->since) / 1e9);
      else if (l->elapsed >= 0)
        snprintf (el, sizeof el, " (%.1f s)", (double) l->elapsed / 1e9);
      fprintf (stderr, "\033[2K %-20s %s%s%s%s\n", l->service, l->event, el,
               l->detail ? ": " : "", l->detail ? l->detail : "");
    }
  drawn = nlives;
  fflush (stderr);
}

void
out_event (const char *service, const char *event, int64_t elapsed_ns, const char *detail)
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
        json_object_object_add (o, "elapsed", json_object_new_double ((double) elapsed_ns / 1e9));
      if (detail)
        json_object_object_add (o, "detail", json_object_new_string (detail));
      fputs (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
             stdout);
      fputc ('\n', stdout);
      fflush (stdout);
      json_object_put (o);
    }
  else if (out_mode == OUT_PLAIN || (out_mode == OUT_TTY && service == NULL))
    {
      /* on a TTY, namespace-wide lines go below the live block */
      if (out_mode == OUT_TTY)
        drawn = 0;
      fprintf (stderr, "%s %s %s", ts, service ? service : "-", event);
      if (elapsed_ns >= 0)
        fprintf (stderr, " (%.1f s)", (double) elapsed_ns / 1e9);
      if (detail)
        fprintf (stderr, ": %s", detail);
      fputc ('\n', stderr);
      fflush (stderr);
    }
  else if (out_mode == OUT_TTY && service)
    {
      struct live *l = NULL;
      for (size_t i = 0; i < nlives; i++)
        if (strcmp (lives[i].service, service) == 0)
          l = &lives[i];
      if (l == NULL)
        {
          lives = xrealloc (lives, (nlives + 1) * sizeof *lives);
          l = &lives[nlives++];
          memset (l, 0, sizeof *l);
          l->service = xstrdup (service);
        }
      free (l->event);
      free (l->detail);
      l->event = xstrdup (event);
      l->detail = detail ? xstrdup (detail) : NULL;
      l->since = mono_ns ();
      l->elapsed = elapsed_ns;
      redraw_locked ();
    }
  pthread_mutex_unlock (&out_mu);
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
      if (out_mode == OUT_TTY)
        drawn = 0; /* the note scrolls the live lines up: start a new block below */
      fprintf (stderr, "%s\n", msg);
      if (out_mode == OUT_TTY && nlives)
        redraw_locked ();
      fflush (stderr);
    }
  pthread_mutex_unlock (&out_mu);
}

void
out_tick (void)
{
  pthread_mutex_lock (&out_mu);
  if (out_mode == OUT_TTY && !json_mode && nlives)
    redraw_locked ();
  pthread_mutex_unlock (&out_mu);
}

void
out_finish (void)
{
  pthread_mutex_lock (&out_mu);
  for (size_t i = 0; i < nlives; i++)
    {
      free (lives[i].service);
      free (lives[i].event);
      free (lives[i].detail);
    }
  free (lives);
  lives = NULL;
  nlives = drawn = 0;
  pthread_mutex_unlock (&out_mu);
}

void
out_auto (bool quiet, bool json)
{
  enum out_mode m = quiet ? OUT_QUIET : isatty (STDERR_FILENO) ? OUT_TTY : OUT_PLAIN;
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
  if (out_mode == OUT_TTY)
    drawn = 0; /* the warning scrolls the live lines up: start a new block below */
  fflush (stdout);
  fprintf (stderr, "itm-env: warning: %s\n", msg);
  fflush (stderr);
  if (json_mode)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "event", json_object_new_string ("warning"));
      json_object_object_add (o, "detail", json_object_new_string (msg));
      puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      fflush (stdout);
      json_object_put (o);
    }
  else if (out_mode == OUT_TTY && nlives)
    redraw_locked ();
  pthread_mutex_unlock (&out_mu);
}
