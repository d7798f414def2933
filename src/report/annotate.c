/* annotate.c - GitHub Actions annotations ("::error title=T::MESSAGE"). */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/out.h"
#include "report/priv.h"

static pthread_mutex_t annotate_mu = PTHREAD_MUTEX_INITIALIZER;

static void
gh_esc (struct buf *b, const char *s, bool prop)
{
  for (; s && *s; s++)
    switch (*s)
      {
      case '%': buf_adds (b, "%25"); break;
      case '\r': buf_adds (b, "%0D"); break;
      case '\n': buf_adds (b, "%0A"); break;
      case ':': buf_adds (b, prop ? "%3A" : ":"); break;
      case ',': buf_adds (b, prop ? "%2C" : ","); break;
      default: buf_addc (b, *s);
      }
}

void
report_annotate (const char *title, const char *message)
{
  const char *gh = getenv ("GITHUB_ACTIONS");
  if (gh == NULL || strcmp (gh, "true") != 0)
    return;
  cleanup_buf struct buf b = { 0 };
  cleanup_free char *t = report_clean_dup (title);
  cleanup_free char *m = report_clean_dup (message ? message : "failed");
  buf_adds (&b, "::error");
  if (t && *t)
    {
      buf_adds (&b, " title=");
      gh_esc (&b, t, true);
    }
  buf_adds (&b, "::");
  gh_esc (&b, m, false);
  buf_addc (&b, '\n');
  /* with --json, stdout carries JSON lines only: the annotation goes to
   * stderr (the runner reads workflow commands on both) */
  FILE *to = out_json () ? stderr : stdout;
  pthread_mutex_lock (&annotate_mu);
  fflush (stdout);
  fwrite (b.data, 1, b.len, to);
  fflush (to);
  pthread_mutex_unlock (&annotate_mu);
}

