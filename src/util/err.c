/* err.c - see err.h */
#include <config.h>
#include "util/err.h"
#include "util/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t exit_signal;

void
itm_exit_signal_note (int sig)
{
  if (exit_signal == 0)
    exit_signal = sig;
}

int
itm_exit_signal (void)
{
  return exit_signal;
}

int
itm_exit_interrupted (void)
{
  return exit_signal == SIGTERM ? ITM_EXIT_TERMINATED : ITM_EXIT_INTERRUPTED;
}

int
itm_err_setv (struct itm_err *err, int code, const char *fmt, va_list ap)
{
  if (err == NULL || err->code != 0)
    return -1;
  if (code == ITM_EXIT_INTERRUPTED)
    code = itm_exit_interrupted ();
  err->code = code ? code : ITM_EXIT_FAILURE;
  err->msg = xvasprintf (fmt, ap);
  return -1;
}

int
itm_err_set (struct itm_err *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  itm_err_setv (err, code, fmt, ap);
  va_end (ap);
  return -1;
}

int
itm_err_errno (struct itm_err *err, int code, const char *fmt, ...)
{
  int saved = errno;
  va_list ap;
  if (err == NULL || err->code != 0)
    return -1;
  va_start (ap, fmt);
  char *head = xvasprintf (fmt, ap);
  va_end (ap);
  itm_err_set (err, code, "%s: %s", head, strerror (saved));
  free (head);
  return -1;
}

int
itm_err_hint (struct itm_err *err, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL)
    return -1;
  free (err->hint);
  va_start (ap, fmt);
  err->hint = xvasprintf (fmt, ap);
  va_end (ap);
  return -1;
}

int
itm_err_prefix (struct itm_err *err, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL || err->code == 0)
    return -1;
  va_start (ap, fmt);
  char *head = xvasprintf (fmt, ap);
  va_end (ap);
  char *msg = xasprintf ("%s: %s", head, err->msg ? err->msg : "");
  free (head);
  free (err->msg);
  err->msg = msg;
  return -1;
}

void
itm_err_clear (struct itm_err *err)
{
  if (err == NULL)
    return;
  free (err->msg);
  free (err->engine_msg);
  free (err->hint);
  memset (err, 0, sizeof *err);
}

void
itm_err_move (struct itm_err *dst, struct itm_err *src)
{
  itm_err_clear (dst);
  *dst = *src;
  memset (src, 0, sizeof *src);
}
