/* err.h - errors as out-parameters, exit codes as an enum.
 *
 * A function that can fail takes `struct itm_err *err` last and returns a
 * negative value (or NULL) after filling it with itm_err_set().  Callers add
 * context with itm_err_prefix() and pass the error up; only main() prints it
 * and turns it into the process exit code.  An error is set at most once:
 * itm_err_set() on an error already set keeps the first (it is the cause).
 *
 * Ownership: the strings inside belong to the error; itm_err_clear() frees
 * them.  A zero-initialised struct is a valid "no error" value.
 */
#ifndef ITM_ERR_H
#define ITM_ERR_H

#include <stdarg.h>
#include <stdbool.h>

/* Process exit codes: an interface, documented in man/itm-env.1 (EXIT
 * STATUS).  Never renumber; add at the end of the block. */
enum itm_exit {
  ITM_EXIT_OK = 0,
  ITM_EXIT_FAILURE = 1,    /* a check failed (doctor), or a generic failure */
  ITM_EXIT_USAGE = 2,      /* bad command line */
  ITM_EXIT_STACK = 3,      /* the stack file is invalid */
  ITM_EXIT_CONNECT = 4,    /* the engine cannot be reached */
  ITM_EXIT_ENGINE = 5,     /* the engine refused a request, answered garbage,
                              or speaks an API older than 1.41 */
  ITM_EXIT_IMAGE = 6,      /* an image is missing, or a build or pull failed */
  ITM_EXIT_READINESS = 7,  /* a readiness gate failed or timed out */
  ITM_EXIT_DATA = 8,       /* a seed step, data namespace or data check failed */
  ITM_EXIT_LEAK = 9,       /* the teardown verifier found leftovers */
  ITM_EXIT_NOT_FOUND = 10, /* the namespace, service or port does not exist */
  ITM_EXIT_CHECK = 11,     /* an x-itm.checks check failed (check, up --check, run --check) */
  ITM_EXIT_INTERRUPTED = 130, /* stopped by SIGINT (128 + 2) */
  ITM_EXIT_TERMINATED = 143,  /* stopped by SIGTERM (128 + 15) */
};

/* The shell's convention, 128 + the signal: a handler that stops a
 * command notes its signal (async-signal-safe); from then on an error set
 * with ITM_EXIT_INTERRUPTED gets itm_exit_interrupted(): 143 when the
 * first signal was SIGTERM, else 130. */
void itm_exit_signal_note (int sig);
int itm_exit_interrupted (void);
/* The signal noted first, 0 when none was. */
int itm_exit_signal (void);

struct itm_err {
  int code;          /* enum itm_exit; 0 while no error is set */
  long http_status;  /* the engine's HTTP status, 0 when none */
  char *msg;         /* what went wrong, with context; owned */
  char *engine_msg;  /* the engine's own "message", verbatim; owned, may be NULL */
  char *hint;        /* what the user can do about it; owned, may be NULL */
};

/* Set the error (unless already set) and return -1. */
int itm_err_set (struct itm_err *err, int code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
int itm_err_setv (struct itm_err *err, int code, const char *fmt, va_list ap)
  __attribute__ ((format (printf, 3, 0)));
/* Set the error with errno's text appended (": strerror(errno)"). */
int itm_err_errno (struct itm_err *err, int code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Attach a hint (replaces an earlier one).  Returns -1. */
int itm_err_hint (struct itm_err *err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Prepend context: "creating network x: " + msg.  Returns -1. */
int itm_err_prefix (struct itm_err *err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
static inline bool itm_err_isset (const struct itm_err *err) { return err->code != 0; }
void itm_err_clear (struct itm_err *err);
/* Move src into dst (dst cleared first); src is left empty. */
void itm_err_move (struct itm_err *dst, struct itm_err *src);

#define cleanup_err __attribute__ ((cleanup (itm_err_clear)))

#endif
