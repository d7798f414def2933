/* test-util.c - errors and buffers. */
#include <config.h>

#include "tap.h"
#include "util/err.h"
#include "util/xalloc.h"
#include "util/fds.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

/* run's child closes what was opened after the parent's close-on-exec
 * sweep (another thread's socket between the sweep and fork: the
 * run-matrix.sh failure on the second engine), and keeps the caller's. */
static void
test_fds (void)
{
  int given = dup (2);   /* stands for a descriptor the caller gave */
  fds_note_inherited ();
  int early[2];
  tap_ok (pipe (early) == 0, "fds: a pipe of ours before the sweep");
  fds_cloexec_own ();
  tap_ok (fcntl (early[0], F_GETFD) & FD_CLOEXEC, "fds: the sweep marks ours close-on-exec");
  tap_ok (!(fcntl (given, F_GETFD) & FD_CLOEXEC), "fds: ... not the caller's");
  int late[2];
  tap_ok (pipe (late) == 0, "fds: a pipe opened after the sweep (no close-on-exec)");
  int high = fcntl (late[0], F_DUPFD, 1500);   /* above the tracked range */
  pid_t pid = fork ();
  if (pid == 0)
    {
      fds_close_own_in_child ();
      int bad = 0;
      if (fcntl (late[0], F_GETFD) >= 0 || fcntl (late[1], F_GETFD) >= 0)
        bad |= 1;
      if (high >= 0 && fcntl (high, F_GETFD) >= 0)
        bad |= 2;
      if (fcntl (given, F_GETFD) < 0 || fcntl (2, F_GETFD) < 0)
        bad |= 4;
      _exit (bad);
    }
  int st = -1;
  waitpid (pid, &st, 0);
  tap_ok (WIFEXITED (st) && !(WEXITSTATUS (st) & 1), "fds: the child closes what was opened after the sweep");
  tap_ok (WIFEXITED (st) && !(WEXITSTATUS (st) & 2), "fds: ... and ours above the tracked range");
  tap_ok (WIFEXITED (st) && !(WEXITSTATUS (st) & 4), "fds: ... and keeps the caller's");
  close (early[0]), close (early[1]), close (late[0]), close (late[1]), close (given);
  if (high >= 0)
    close (high);
}

int
main (void)
{
  test_fds ();
  struct itm_err err = { 0 };
  tap_ok (!itm_err_isset (&err), "a zeroed error is unset");
  tap_is_int (itm_err_set (&err, ITM_EXIT_ENGINE, "first %d", 1), -1, "set returns -1");
  itm_err_set (&err, ITM_EXIT_USAGE, "second");
  tap_is_str (err.msg, "first 1", "the first error is kept");
  tap_is_int (err.code, ITM_EXIT_ENGINE, "its code too");
  itm_err_prefix (&err, "creating %s", "net");
  tap_is_str (err.msg, "creating net: first 1", "prefix adds context");
  struct itm_err moved = { 0 };
  itm_err_move (&moved, &err);
  tap_ok (!itm_err_isset (&err) && itm_err_isset (&moved), "move empties the source");
  itm_err_clear (&moved);

  struct buf b = { 0 };
  buf_adds (&b, "hello ");
  buf_addf (&b, "%s %d", "world", 42);
  tap_is_str (b.data, "hello world 42", "buf_addf appends");
  buf_consume (&b, 6);
  tap_is_str (b.data, "world 42", "buf_consume drops the front");
  char *s = buf_steal (&b);
  tap_is_str (s, "world 42", "buf_steal hands the string over");
  tap_ok (b.data == NULL && b.len == 0, "and empties the buffer");
  free (s);
  return tap_done ();
}
