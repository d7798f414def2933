/* fuzz-mux.c - fuzz the multiplexed stdout/stderr stream parser (mux_feed,
 * mux_finish in src/engine/stream.c), as logs, attach and exec bodies
 * reach it: in pieces cut anywhere.  The input is the body; it is fed
 * whole, one byte at a time, and in pieces of 1 to 16 bytes (a pattern
 * taken from the input), and the three runs must agree on the bytes each
 * stream got, in order, and on the error; no run delivers more bytes than
 * it was fed.  Then raw mode (a TTY) must hand every byte to stream 1 as
 * it is, and a callback that stops at once must stop the stream.  With
 * libFuzzer: clang -fsanitize=fuzzer -DITM_LIBFUZZER ...; else a replay of
 * fuzz/corpus-mux/ (see fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "engine/engine.h"
#include "fuzz-common.h"
#include "util/err.h"
#include "util/xalloc.h"

struct seen {
  struct buf out; /* "\n<stream>:" at each change of stream, then its bytes */
  int last;
  size_t bytes;
};

static int
on_frame (int stream, const char *data, size_t len, void *ctx)
{
  struct seen *s = ctx;
  if (stream < 0 || stream > 3)
    abort (); /* the header's stream byte is checked */
  if (len == 0)
    abort (); /* no empty pieces */
  if (stream != s->last)
    buf_addf (&s->out, "\n%d:", stream);
  s->last = stream;
  buf_add (&s->out, data, len);
  s->bytes += len;
  return 0;
}

static int
stop_at_once (int stream, const char *data, size_t len, void *ctx)
{
  (void) stream, (void) data, (void) len;
  ++*(int *) ctx;
  return 1;
}

static void
feed (const uint8_t *data, size_t size, size_t step, bool raw, struct seen *s)
{
  struct mux p;
  struct itm_err err = { 0 };
  s->last = -1;
  mux_init (&p, raw, on_frame, s);
  size_t off = 0, k = 0;
  int rc = 0;
  while (off < size && rc == 0)
    {
      size_t n = step == 0 ? size : step == 1 ? 1 : (size_t) (data[k++ % size] % 16) + 1;
      if (n > size - off)
        n = size - off;
      rc = mux_feed (&p, (const char *) data + off, n, &err);
      off += n;
    }
  if (rc == 0)
    rc = mux_finish (&p, &err);
  if (rc > 0)
    abort (); /* on_frame never stops */
  if ((rc < 0) != itm_err_isset (&err))
    abort (); /* an error says why, and only an error */
  if (s->bytes > size)
    abort ();
  if (!raw && size - s->bytes < 8 * (size > 0) && rc == 0)
    abort (); /* a complete stream has at least one header */
  buf_addf (&s->out, "\nrc=%d %s\n", rc, rc < 0 ? err.msg : "");
  itm_err_clear (&err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  struct seen s[3] = { 0 };
  for (size_t i = 0; i < 3; i++)
    {
      feed (data, size, i, false, &s[i]);
      if (i > 0 && (s[i].out.len != s[0].out.len
                    || memcmp (s[i].out.data, s[0].out.data, s[0].out.len) != 0))
        abort (); /* where the pieces are cut changes nothing */
    }
  for (size_t i = 0; i < 3; i++)
    buf_free (&s[i].out);

  /* raw: every byte to stream 1, as it is */
  struct seen r = { 0 };
  feed (data, size, 2, true, &r);
  if (r.bytes != size || (size && (r.out.len < 3 + size || memcmp (r.out.data, "\n1:", 3) != 0
                                   || memcmp (r.out.data + 3, data, size) != 0)))
    abort ();
  buf_free (&r.out);

  /* a callback that stops: mux_feed says so at the first payload byte */
  struct mux p;
  struct itm_err err = { 0 };
  int calls = 0;
  mux_init (&p, false, stop_at_once, &calls);
  int rc = mux_feed (&p, (const char *) data, size, &err);
  if (rc > 0 && calls != 1)
    abort ();
  if (rc == 0 && calls != 0)
    abort ();
  itm_err_clear (&err);
  return 0;
}

FUZZ_MAIN ("corpus-mux")
