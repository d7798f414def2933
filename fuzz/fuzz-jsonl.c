/* fuzz-jsonl.c - fuzz the engine's JSON-lines parser (jsonl_feed,
 * jsonl_finish, jsonl_stream_error in src/engine/stream.c), as pull, build,
 * push and /events bodies reach it: in pieces cut anywhere.  The input is
 * the body; it is fed whole, one byte at a time, and in pieces of 1 to 16
 * bytes (a pattern taken from the input), and the three runs must agree on
 * the values delivered and on where the stream stopped (see the comment
 * in LLVMFuzzerTestOneInput for a body that does not parse).  A
 * value that is an object with a "stop" member makes the callback stop the
 * stream.  Bare scalars at the top level (numbers, true, null) are only
 * checked for crashes and the counts: where one ends depends on the pieces
 * in json-c itself ("2-3" whole is 2 then -3, cut after the 2 an error),
 * and the engine sends objects.  With libFuzzer: clang -fsanitize=fuzzer
 * -DITM_LIBFUZZER ...; else a replay of fuzz/corpus-jsonl/ (see fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "engine/engine.h"
#include "fuzz-common.h"
#include "util/err.h"
#include "util/xalloc.h"

struct seen {
  struct buf out; /* the values, one a line */
  size_t values;
  bool scalar; /* a top-level value that is not an object, array or string */
  int rc;
};

static int
on_value (json_object *v, void *ctx)
{
  struct seen *s = ctx;
  s->values++;
  if (!json_object_is_type (v, json_type_object) && !json_object_is_type (v, json_type_array)
      && !json_object_is_type (v, json_type_string))
    s->scalar = true;
  buf_adds (&s->out, v ? json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN) : "null");
  const char *m = jsonl_stream_error (v);
  if (m)
    buf_addf (&s->out, " error=%s", m);
  buf_addc (&s->out, '\n');
  if (v && json_object_is_type (v, json_type_object) && json_object_object_get_ex (v, "stop", NULL))
    return 1;
  return 0;
}

/* Feed data in pieces: step 0 whole, else sizes from pat (1 to 16). */
static void
feed (const uint8_t *data, size_t size, size_t step, struct seen *s)
{
  struct jsonl p;
  struct itm_err err = { 0 };
  jsonl_init (&p, on_value, s);
  size_t off = 0, k = 0;
  int rc = 0;
  while (off < size && rc == 0)
    {
      size_t n = step == 0 ? size : step == 1 ? 1 : (size_t) (data[k++ % size] % 16) + 1;
      if (n > size - off)
        n = size - off;
      rc = jsonl_feed (&p, (const char *) data + off, n, &err);
      off += n;
    }
  if (rc == 0)
    rc = jsonl_finish (&p, &err);
  if (rc < 0 && !itm_err_isset (&err))
    abort (); /* an error says why */
  if (rc >= 0 && itm_err_isset (&err))
    abort ();
  if (p.values != s->values)
    abort ();
  s->rc = rc;
  itm_err_clear (&err);
  jsonl_free (&p);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  struct seen s[3] = { 0 };
  for (size_t i = 0; i < 3; i++)
    {
      feed (data, size, i, &s[i]);
      if (i == 0 || s[0].scalar || s[i].scalar)
        continue;
      /* Where the whole body parses, the pieces give the same values and
       * the same end.  Where it does not, json-c may let pieces through
       * (a bad number cut in pieces is read as far as it goes: {"a":1--}
       * is {"a":1}), and the errors are seen at different places: what
       * came before the error must still be the same. */
      bool same = s[0].rc >= 0 ? s[i].rc == s[0].rc && s[i].out.len == s[0].out.len
                               : s[i].out.len >= s[0].out.len;
      if (!same || (s[0].out.len && memcmp (s[i].out.data, s[0].out.data, s[0].out.len) != 0))
        {
          fprintf (stderr, "whole (rc %d):\n%.*s\ncut (%zu, rc %d):\n%.*s\n", s[0].rc,
                   (int) s[0].out.len, s[0].out.data, i, s[i].rc, (int) s[i].out.len,
                   s[i].out.data);
          abort (); /* where the pieces are cut changes nothing */
        }
    }
  for (size_t i = 0; i < 3; i++)
    buf_free (&s[i].out);
  return 0;
}

FUZZ_MAIN ("corpus-jsonl")
