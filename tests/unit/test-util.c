/* test-util.c - errors and buffers. */
#include <config.h>

#include "tap.h"
#include "util/err.h"
#include "util/xalloc.h"

int
main (void)
{
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
