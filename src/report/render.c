/* render.c - what the three renderings share, report_render() and writing
 * the report to a file. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "report/priv.h"
#include "util/clock.h"

double
report_secs (int64_t ns)
{
  return (double) ns / 1e9;
}

int64_t
report_duration (const struct report *r)
{
  return (r->finished ? r->t1 : mono_ns ()) - r->t0;
}

void
report_iso_time (time_t t, char *out, size_t n)
{
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

size_t
report_count_res (const struct report *r, unsigned flag, const char *kind)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nres; i++)
    if ((r->res[i].flags & flag) && (kind == NULL || strcmp (r->res[i].kind, kind) == 0))
      n++;
  return n;
}

bool
report_svc_failed (const struct rsvc *s)
{
  return s->failed || strcmp (s->state, "failed") == 0 || strcmp (s->state, "timeout") == 0
         || strcmp (s->state, "interrupted") == 0;
}

bool
report_svc_skipped (const struct rsvc *s)
{
  return !report_svc_failed (s) && (strcmp (s->state, "skipped") == 0
                             || strcmp (s->state, "pending") == 0);
}

bool
report_has_teardown (const struct report *r)
{
  return r->verified || r->nres > 0;
}

bool
report_teardown_ok (const struct report *r)
{
  return (r->verified ? r->clean : true) && report_count_res (r, RES_LEFT, NULL) == 0;
}


char *
report_render (struct report *r, enum report_format fmt)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  pthread_mutex_lock (&r->mu);
  if (fmt == REPORT_JSON)
    report_render_json (r, &b);
  else if (fmt == REPORT_JUNIT)
    report_render_junit (r, &b);
  else if (fmt == REPORT_MARKDOWN)
    report_render_markdown (r, &b);
  else
    report_render_text (r, &b);
  pthread_mutex_unlock (&r->mu);
  return buf_steal (&b);
}

/* ---- writing ---- */

int
report_format_parse (const char *s, enum report_format *fmt, struct itm_err *err)
{
  if (strcmp (s, "text") == 0)
    *fmt = REPORT_TEXT;
  else if (strcmp (s, "json") == 0)
    *fmt = REPORT_JSON;
  else if (strcmp (s, "junit") == 0 || strcmp (s, "xml") == 0)
    *fmt = REPORT_JUNIT;
  else if (strcmp (s, "markdown") == 0 || strcmp (s, "md") == 0)
    *fmt = REPORT_MARKDOWN;
  else
    return itm_err_set (err, ITM_EXIT_USAGE,
                        "--report-format: '%s' is not one of text, json, junit, markdown", s);
  return 0;
}

enum report_format
report_format_guess (const char *path)
{
  const char *dot = path ? strrchr (path, '.') : NULL;
  if (dot && strchr (dot, '/') == NULL)
    {
      if (strcasecmp (dot, ".json") == 0)
        return REPORT_JSON;
      if (strcasecmp (dot, ".xml") == 0)
        return REPORT_JUNIT;
      if (strcasecmp (dot, ".md") == 0)
        return REPORT_MARKDOWN;
    }
  return REPORT_TEXT;
}

int
report_write (struct report *r, const char *path, enum report_format fmt, struct itm_err *err)
{
  cleanup_free char *text = report_render (r, fmt);
  size_t len = strlen (text);
  if (strcmp (path, "-") == 0)
    {
      fwrite (text, 1, len, stdout);
      fflush (stdout);
      return 0;
    }
  cleanup_free char *tmp = xasprintf ("%s.tmp.%ld", path, (long) getpid ());
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
  size_t off = 0;
  while (off < len)
    {
      ssize_t w = write (fd, text + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
          close (fd);
          unlink (tmp);
          return -1;
        }
      off += (size_t) w;
    }
  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
      unlink (tmp);
      return -1;
    }
  return 0;
}

