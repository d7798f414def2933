/* progress.c - image progress: a bar per image on a TTY (bytes done of
 * total across its layers, rate, ETA), else a line every few seconds and at
 * the end, each stamped with the time of day as up's lines are
 * ("12:00:01.234 db: pull ..."); --json event lines on stdout; with
 * --quiet only the end line of an image that was built, pulled or failed
 * (build output is still kept for a failure report).  An image already on
 * the engine is "present" in text; its JSON event keeps the name "exists".
 * The bars are live lines of out/out.h's block. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "image/private.h"
#include "out/out.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define PLAIN_EVERY_NS (3LL * 1000000000LL)
#define TTY_EVERY_NS (100LL * 1000000LL)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static enum { M_QUIET, M_JSON, M_TTY, M_PLAIN } mode;
static struct image_prog *jobs;
static size_t njobs;
static int64_t last_draw;

/* The time of day as plain lines begin with, "12:00:01.234 " (out.c's). */
static void
stamp (FILE *f)
{
  struct timeval tv;
  struct tm tm;
  gettimeofday (&tv, NULL);
  localtime_r (&tv.tv_sec, &tm);
  fprintf (f, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (long) (tv.tv_usec / 1000));
}

/* An event's word in text: "exists" reads as if something was pulled. */
static const char *
text_word (const char *event)
{
  return strcmp (event, "exists") == 0 ? "present" : event;
}

static void
human (char *b, size_t n, double v)
{
  const char *u[] = { "B", "kB", "MB", "GB", "TB" };
  int i = 0;
  while (v >= 1000 && i < 4)
    v /= 1000, i++;
  snprintf (b, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void
totals (const struct image_prog *p, int64_t *cur, int64_t *total)
{
  *cur = *total = 0;
  for (size_t i = 0; i < p->nl; i++)
    {
      *total += p->l[i].total;
      *cur += p->l[i].done ? p->l[i].total : p->l[i].cur;
    }
}

/* "12.3 MB / 40.0 MB, 5.1 MB/s, 6s left" */
static void
describe (const struct image_prog *p, char *out, size_t n, bool bar)
{
  int64_t cur, total;
  totals (p, &cur, &total);
  double secs = (double) (mono_ns () - p->t0) / 1e9;
  if (total <= 0)
    {
      snprintf (out, n, "%s", p->status ? p->status : "");
      return;
    }
  char c[32], t[32], r[32];
  human (c, sizeof c, (double) cur);
  human (t, sizeof t, (double) total);
  double rate = secs > 0.05 ? (double) cur / secs : 0;
  human (r, sizeof r, rate);
  char eta[32] = "";
  if (rate > 0 && cur < total && !p->finished)
    snprintf (eta, sizeof eta, ", %.0fs left", (double) (total - cur) / rate);
  char bars[24] = "";
  if (bar)
    {
      int w = 20, fill = (int) ((double) w * (double) cur / (double) total);
      bars[0] = '[';
      for (int i = 0; i < w; i++)
        bars[1 + i] = i < fill ? '#' : '-';
      bars[w + 1] = ']';
      bars[w + 2] = ' ';
      bars[w + 3] = '\0';
    }
  snprintf (out, n, "%s%s / %s (%d%%), %s/s%s", bars, c, t, (int) (100.0 * (double) cur
                                                                   / (double) total), r, eta);
}

/* The live lines (out/out.h renders them): one per image,
 * "db           pull     itm-fixture/postgres:15  [###---] 1.0 MB / ..."
 * and at the end "... pulled, 12.0 MB / 12.0 MB ...", the end word in
 * colour. */
static void
draw_tty (bool force)
{
  int64_t now = mono_ns ();
  if (!force && now - last_draw < TTY_EVERY_NS)
    return;
  last_draw = now;
  for (size_t i = 0; i < njobs; i++)
    {
      struct image_prog *p = &jobs[i];
      char d[160] = "";
      int64_t cur, total;
      totals (p, &cur, &total);
      if (!p->finished || total > 0)
        describe (p, d, sizeof d, !p->finished);
      cleanup_free char *head = xasprintf ("%-12.12s %-8s %s  ", p->label, p->verb, p->image);
      cleanup_free char *line = NULL;
      size_t wlen = 0;
      if (p->finished && p->status)
        {
          wlen = strcspn (p->status, " ");
          line = xasprintf ("%s%s%s%s", head, p->status, *d ? ", " : "", d);
        }
      else
        line = xasprintf ("%s%s", head, d);
      char key[32];
      snprintf (key, sizeof key, "image %zu", i);
      out_live_set (key, line, strlen (head), wlen,
                    p->failed ? OUT_COLOR_RED : OUT_COLOR_GREEN);
    }
  out_tick ();
}

static void
json_line (struct image_prog *p, const char *event, const char *detail)
{
  char iso[48];
  out_json_time (iso, sizeof iso);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "time", json_object_new_string (iso));
  json_object_object_add (o, "event", json_object_new_string (event));
  /* the services using the image: an array (the label joins them by ", ") */
  json_object *svcs = json_object_new_array ();
  for (const char *s = p->label; s && *s;)
    {
      size_t n = strcspn (s, ",");
      json_object_array_add (svcs, json_object_new_string_len (s, (int) n));
      s += n;
      s += strspn (s, ", ");
    }
  json_object_object_add (o, "service", svcs);
  json_object_object_add (o, "image", json_object_new_string (p->image));
  int64_t cur, total;
  totals (p, &cur, &total);
  if (total > 0)
    {
      json_object_object_add (o, "current", json_object_new_int64 (cur));
      json_object_object_add (o, "total", json_object_new_int64 (total));
    }
  if (detail)
    json_object_object_add (o, "detail", json_object_new_string (detail));
  json_object_object_add (o, "elapsed", out_json_secs (mono_ns () - p->t0));
  puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                             | JSON_C_TO_STRING_NOSLASHESCAPE));
  fflush (stdout);
  json_object_put (o);
}

void
progress_start (enum image_progress m, struct image_prog *j, size_t n)
{
  pthread_mutex_lock (&mu);
  jobs = j;
  njobs = n;
  last_draw = 0;
  mode = m == IMAGE_PROGRESS_QUIET ? M_QUIET
         : m == IMAGE_PROGRESS_JSON ? M_JSON
         : out_tty () ? M_TTY
                      : M_PLAIN;
  for (size_t i = 0; i < n; i++)
    j[i].t0 = j[i].t_last = mono_ns ();
  pthread_mutex_unlock (&mu);
}

static void
periodic (struct image_prog *p)
{
  int64_t now = mono_ns ();
  if (mode == M_TTY)
    draw_tty (false);
  else if (now - p->t_last >= PLAIN_EVERY_NS)
    {
      p->t_last = now;
      if (mode == M_PLAIN)
        {
          char d[160];
          describe (p, d, sizeof d, false);
          stamp (stderr);
          fprintf (stderr, "%s: %s %s: %s\n", p->label, p->verb, p->image, d);
        }
      else if (mode == M_JSON)
        json_line (p, "progress", p->status);
    }
}

void
progress_pull (struct image_prog *p, json_object *v)
{
  json_object *st = NULL, *id = NULL, *pd = NULL;
  json_object_object_get_ex (v, "status", &st);
  json_object_object_get_ex (v, "id", &id);
  json_object_object_get_ex (v, "progressDetail", &pd);
  pthread_mutex_lock (&mu);
  const char *status = st ? json_object_get_string (st) : "";
  if (id && json_object_is_type (id, json_type_string) && strlen (json_object_get_string (id)) == 12)
    {
      const char *lid = json_object_get_string (id);
      size_t i;
      for (i = 0; i < p->nl; i++)
        if (strcmp (p->l[i].id, lid) == 0)
          break;
      if (i == p->nl)
        {
          p->l = xgrow (p->l, &p->capl, p->nl + 1, sizeof *p->l);
          p->l[p->nl++] = (struct layer){ .id = xstrdup (lid) };
        }
      struct layer *l = &p->l[i];
      json_object *c, *t;
      if (strcmp (status, "Downloading") == 0 && pd && json_object_object_get_ex (pd, "current", &c)
          && json_object_object_get_ex (pd, "total", &t))
        {
          l->cur = json_object_get_int64 (c);
          if (json_object_get_int64 (t) > 0)
            l->total = json_object_get_int64 (t);
        }
      else if (strcmp (status, "Download complete") == 0 || strcmp (status, "Pull complete") == 0
               || strcmp (status, "Already exists") == 0)
        l->done = true;
    }
  else if (*status)
    {
      free (p->status);
      p->status = xstrdup (status);
    }
  periodic (p);
  pthread_mutex_unlock (&mu);
}

void
progress_build (struct image_prog *p, const char *text)
{
  pthread_mutex_lock (&mu);
  for (const char *s = text; *s; s++)
    {
      if (*s != '\n')
        {
          if (*s != '\r')
            buf_addc (&p->partial, *s);
          continue;
        }
      char *line = p->partial.data ? buf_steal (&p->partial) : xstrdup ("");
      if (strncmp (line, "Step ", 5) == 0 && !p->step_fixed)
        {
          free (p->step);
          p->step = xstrdup (line);
          /* keep only the current step's output for a failure report */
          for (size_t i = 0; i < p->nlines; i++)
            free (p->lines[i]);
          p->nlines = 0;
        }
      if (mode == M_PLAIN)
        {
          stamp (stderr);
          fprintf (stderr, "%s | %s\n", p->label, line);
        }
      else if (mode == M_JSON)
        json_line (p, "output", line);
      free (p->status);
      p->status = xstrdup (line);
      if (p->step_fixed)
        {
          free (line);
          continue;
        }
      if (p->nlines == sizeof p->lines / sizeof p->lines[0])
        {
          free (p->lines[0]);
          memmove (p->lines, p->lines + 1, (p->nlines - 1) * sizeof *p->lines);
          p->nlines--;
        }
      p->lines[p->nlines++] = line;
    }
  if (mode == M_TTY)
    draw_tty (false);
  pthread_mutex_unlock (&mu);
}

void
progress_build_step (struct image_prog *p, const char *step, char **lines, size_t n)
{
  pthread_mutex_lock (&mu);
  free (p->step);
  p->step = xstrdup (step);
  for (size_t i = 0; i < p->nlines; i++)
    free (p->lines[i]);
  p->nlines = 0;
  size_t keep = sizeof p->lines / sizeof p->lines[0];
  for (size_t i = n > keep ? n - keep : 0; i < n; i++)
    p->lines[p->nlines++] = xstrdup (lines[i]);
  p->step_fixed = true;
  pthread_mutex_unlock (&mu);
}

/* An event as a plain line (mu held): "12:00:01.234 db: pull NAME: pulled
 * in 3.1s, ...", "... db: image NAME: present", "... db: pulling NAME". */
static void
plain_event (struct image_prog *p, const char *event, bool end)
{
  stamp (stderr);
  if (!end)
    {
      fprintf (stderr, "%s: %s %s\n", p->label, event, p->image);
      return;
    }
  if (strcmp (event, "exists") == 0)
    {
      fprintf (stderr, "%s: %s %s: %s\n", p->label, p->verb, p->image, text_word (event));
      return;
    }
  char d[160] = "";
  int64_t cur, total;
  totals (p, &cur, &total);
  if (total > 0)
    describe (p, d, sizeof d, false);
  fprintf (stderr, "%s: %s %s: %s in %.1fs%s%s\n", p->label, p->verb, p->image, event,
           (double) (mono_ns () - p->t0) / 1e9, *d ? ", " : "", d);
}

void
progress_event (struct image_prog *p, const char *event, const char *detail)
{
  pthread_mutex_lock (&mu);
  bool end = strcmp (event, "pulling") != 0 && strcmp (event, "building") != 0;
  if (strcmp (event, "building") == 0)
    p->verb = "build";
  if (strcmp (event, "exists") == 0)
    p->verb = "image";   /* neither pulled nor built: "db: image NAME: present" */
  if (end)
    {
      p->finished = true;
      p->failed = strcmp (event, "failed") == 0;
    }
  free (p->status);
  p->status = detail && strcmp (event, "cached") != 0
                ? xasprintf ("%s %.19s", text_word (event), detail)
                : xstrdup (text_word (event));
  switch (mode)
    {
    case M_QUIET:
      /* only what changed the engine's images, or failed */
      if (strcmp (event, "built") == 0 || strcmp (event, "pulled") == 0 || p->failed)
        plain_event (p, event, end);
      break;
    case M_JSON:
      json_line (p, event, detail);
      break;
    case M_TTY:
      draw_tty (true);
      break;
    case M_PLAIN:
      plain_event (p, event, end);
      break;
    }
  if (p->failed && (mode == M_TTY || mode == M_QUIET) && p->nlines)
    {
      /* the failing step's output (plain mode printed it as it came),
       * above the live lines on a terminal */
      if (mode == M_TTY)
        {
          out_scroll ("%s: output of %s:", p->label, p->step ? p->step : "the build");
          for (size_t i = 0; i < p->nlines; i++)
            out_scroll ("%s | %s", p->label, p->lines[i]);
        }
      else
        {
          stamp (stderr);
          fprintf (stderr, "%s: output of %s:\n", p->label, p->step ? p->step : "the build");
          for (size_t i = 0; i < p->nlines; i++)
            {
              stamp (stderr);
              fprintf (stderr, "%s | %s\n", p->label, p->lines[i]);
            }
        }
    }
  pthread_mutex_unlock (&mu);
}

void
progress_finish (void)
{
  pthread_mutex_lock (&mu);
  if (mode == M_TTY && njobs)
    {
      draw_tty (true);
      out_live_end ();
    }
  for (size_t i = 0; i < njobs; i++)
    {
      struct image_prog *p = &jobs[i];
      for (size_t k = 0; k < p->nl; k++)
        free (p->l[k].id);
      free (p->l);
      free (p->status);
      for (size_t k = 0; k < p->nlines; k++)
        free (p->lines[k]);
      buf_free (&p->partial);
      free (p->step);
    }
  jobs = NULL;
  njobs = 0;
  pthread_mutex_unlock (&mu);
}
