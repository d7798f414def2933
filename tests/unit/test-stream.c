/* test-stream.c - the stream parsers on recorded bodies, fed whole, byte by
 * byte, and split at every offset into two and three parts: the same
 * values (or bytes) must come out every time. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tap.h"
#include "util/xalloc.h"

static char *
slurp (const char *name, size_t *len)
{
  const char *src = getenv ("ITM_SRCDIR");
  char *path = xasprintf ("%s/tests/recorded/%s", src ? src : "..", name);
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      printf ("Bail out! cannot open %s\n", path);
      exit (99);
    }
  struct buf b = { 0 };
  char tmp[4096];
  size_t n;
  while ((n = fread (tmp, 1, sizeof tmp, f)) > 0)
    buf_add (&b, tmp, n);
  fclose (f);
  free (path);
  *len = b.len;
  if (b.data == NULL)
    buf_adds (&b, "");
  return buf_steal (&b);
}

/* ---- JSON lines ---- */

struct jcollect {
  struct buf out;
  size_t stop_after;   /* stop after this many values (0: never) */
  size_t seen;
};

static int
jcollect_cb (json_object *v, void *ctx)
{
  struct jcollect *c = ctx;
  buf_adds (&c->out, json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
  buf_addc (&c->out, '\n');
  c->seen++;
  return c->stop_after && c->seen >= c->stop_after ? 1 : 0;
}

/* The values of a one-value-per-line file, parsed line by line with
 * json_tokener_parse (not the code under test). */
static char *
reference (const char *data)
{
  struct buf b = { 0 };
  char *copy = xstrdup (data), *save = NULL;
  buf_adds (&b, "");
  for (char *line = strtok_r (copy, "\r\n", &save); line; line = strtok_r (NULL, "\r\n", &save))
    {
      json_object *v = json_tokener_parse (line);
      buf_adds (&b, json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
      buf_addc (&b, '\n');
      json_object_put (v);
    }
  free (copy);
  return buf_steal (&b);
}

/* Feed data in the pieces cut at the given offsets; the values seen, or
 * NULL when an error came up. */
static char *
jsonl_run (const char *data, size_t len, const size_t *cuts, size_t ncuts, int *rc)
{
  struct jcollect c = { 0 };
  struct jsonl p;
  struct itm_err err = { 0 };
  size_t prev = 0;
  int r = 0;

  buf_adds (&c.out, "");
  jsonl_init (&p, jcollect_cb, &c);
  for (size_t i = 0; i <= ncuts && r == 0; i++)
    {
      size_t end = i < ncuts ? cuts[i] : len;
      r = jsonl_feed (&p, data + prev, end - prev, &err);
      prev = end;
    }
  if (r == 0)
    r = jsonl_finish (&p, &err);
  jsonl_free (&p);
  itm_err_clear (&err);
  *rc = r;
  return buf_steal (&c.out);
}

static void
test_jsonl_file (const char *name, size_t want_values)
{
  size_t len;
  char *data = slurp (name, &len);
  char *want = reference (data);
  size_t nl = 0;
  for (const char *p = want; *p; p++)
    nl += *p == '\n';
  tap_is_int (nl, want_values, "%s: %zu values in the reference", name, want_values);

  int rc;
  char *got = jsonl_run (data, len, NULL, 0, &rc);
  tap_ok (rc == 0 && strcmp (got, want) == 0, "%s: fed whole", name);
  free (got);

  /* byte by byte */
  size_t *cuts = xcalloc (len + 1, sizeof *cuts);
  for (size_t i = 1; i < len; i++)
    cuts[i - 1] = i;
  got = jsonl_run (data, len, cuts, len ? len - 1 : 0, &rc);
  tap_ok (rc == 0 && strcmp (got, want) == 0, "%s: fed byte by byte", name);
  free (got);
  free (cuts);

  /* two parts, every offset */
  size_t bad = 0;
  for (size_t i = 0; i <= len; i++)
    {
      size_t cut[1] = { i };
      got = jsonl_run (data, len, cut, 1, &rc);
      if (rc != 0 || strcmp (got, want) != 0)
        {
          if (bad++ == 0)
            tap_diag ("split at %zu: rc %d, got:\n%s", i, rc, got);
        }
      free (got);
    }
  tap_ok (bad == 0, "%s: split in two at every offset (%zu bad)", name, bad);

  /* three parts: every pair of offsets on small files, a stride on big ones */
  size_t stride = len > 600 ? 7 : 1, runs = 0;
  bad = 0;
  for (size_t i = 0; i <= len; i += stride)
    for (size_t j = i; j <= len; j += (len > 600 ? 11 : 1))
      {
        size_t cut[2] = { i, j };
        got = jsonl_run (data, len, cut, 2, &rc);
        runs++;
        if (rc != 0 || strcmp (got, want) != 0)
          bad++;
        free (got);
      }
  tap_ok (bad == 0, "%s: split in three, %zu ways (%zu bad)", name, runs, bad);
  free (want);
  free (data);
}

static void
test_jsonl_edges (void)
{
  int rc;
  char *got;
  struct itm_err err = { 0 };

  /* values without newlines between, whitespace and CRLF around, bare scalars */
  const char *s = " \r\n{\"a\":1}{\"b\":[1,2]}\r\n\r\n  \"str\" 12 true null 3.5\n";
  got = jsonl_run (s, strlen (s), NULL, 0, &rc);
  tap_is_str (got, "{\"a\":1}\n{\"b\":[1,2]}\n\"str\"\n12\ntrue\nnull\n3.5\n", "concatenated values and scalars");
  tap_is_int (rc, 0, "... without error");
  free (got);

  /* a number at the very end is completed by finish */
  size_t cut[1] = { 2 };
  got = jsonl_run ("123", 3, cut, 1, &rc);
  tap_ok (rc == 0 && strcmp (got, "123\n") == 0, "a number split and ending the stream");
  free (got);

  /* a number ending a piece is ended by the next piece's first byte, which
   * belongs to what follows (found by fuzz/fuzz-jsonl: it was dropped) */
  got = jsonl_run ("12{\"a\":1}", 9, cut, 1, &rc);
  tap_ok (rc == 0 && strcmp (got, "12\n{\"a\":1}\n") == 0,
          "a number ending a piece, a value glued to it: both");
  free (got);
  size_t cut1[1] = { 1 };
  got = jsonl_run ("5\x03", 2, cut1, 1, &rc);
  tap_ok (rc < 0, "a number ending a piece, then a control character: an error");
  free (got);

  /* an empty stream, only whitespace */
  got = jsonl_run ("\r\n \n", 4, NULL, 0, &rc);
  tap_ok (rc == 0 && strcmp (got, "") == 0, "whitespace only: no values, no error");
  free (got);

  /* partial value at end: error at finish, values before it delivered */
  const char *partial = "{\"status\":\"ok\"}\r\n{\"status\":\"Downl";
  struct jcollect c = { 0 };
  struct jsonl p;
  jsonl_init (&p, jcollect_cb, &c);
  tap_is_int (jsonl_feed (&p, partial, strlen (partial), &err), 0, "partial: feed is fine");
  tap_is_int (jsonl_finish (&p, &err), -1, "partial value at the end: finish fails");
  tap_ok (err.code == ITM_EXIT_ENGINE && err.msg && strstr (err.msg, "inside a JSON value"),
          "... with an engine error: %s", err.msg ? err.msg : "(none)");
  tap_is_int (c.seen, 1, "... after the complete value");
  jsonl_free (&p);
  buf_free (&c.out);
  itm_err_clear (&err);

  /* malformed JSON: error at feed */
  const char *bad[] = { "{\"a\":}\r\n", "{\"a\" 1}", "[1,,2]", "{\"a\":1}\n}", "nul", "{\"a\":1,}" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      memset (&c, 0, sizeof c);
      jsonl_init (&p, jcollect_cb, &c);
      int r = jsonl_feed (&p, bad[i], strlen (bad[i]), &err);
      if (r == 0)
        r = jsonl_finish (&p, &err);
      tap_ok (r < 0 && err.code == ITM_EXIT_ENGINE, "malformed case %zu: error (%s)", i,
              err.msg ? err.msg : "none");
      jsonl_free (&p);
      buf_free (&c.out);
      itm_err_clear (&err);
    }

  /* the callback stops the stream: feed returns > 0, no more values */
  size_t len;
  char *data = slurp ("events.jsonl", &len);
  memset (&c, 0, sizeof c);
  c.stop_after = 2;
  jsonl_init (&p, jcollect_cb, &c);
  int r = jsonl_feed (&p, data, len, &err);
  tap_ok (r > 0, "callback stop: feed returns %d", r);
  tap_is_int (c.seen, 2, "... after exactly 2 values");
  tap_is_int (p.values, 2, "... and counts 2");
  jsonl_free (&p);
  buf_free (&c.out);
  free (data);
}

static int
first_error_cb (json_object *v, void *ctx)
{
  const char **m = ctx;
  const char *e = jsonl_stream_error (v);
  if (e && *m == NULL)
    *m = xstrdup (e);
  return 0;
}

static void
test_stream_error (void)
{
  size_t len;
  char *data = slurp ("pull-error.jsonl", &len);
  const char *m = NULL;
  struct jsonl p;
  struct itm_err err = { 0 };
  jsonl_init (&p, first_error_cb, &m);
  jsonl_feed (&p, data, len, &err);
  jsonl_finish (&p, &err);
  tap_ok (m && strncmp (m, "pull access denied for nosuch", 29) == 0, "errorDetail message: %s",
          m ? m : "(none)");
  jsonl_free (&p);
  free ((char *) m);
  free (data);

  json_object *v = json_tokener_parse ("{\"error\":\"only the old field\"}");
  tap_is_str (jsonl_stream_error (v), "only the old field", "error without errorDetail");
  json_object_put (v);
  v = json_tokener_parse ("{\"status\":\"Downloading\"}");
  tap_ok (jsonl_stream_error (v) == NULL, "no error in a progress value");
  json_object_put (v);
}

/* ---- multiplexed frames ---- */

struct mcollect {
  struct buf out[3];
  struct buf transcript;   /* "[1]" + bytes when the stream changes */
  int last;
  size_t calls, max_piece, stop_at_call;
};

static int
mcollect_cb (int stream, const char *data, size_t len, void *ctx)
{
  struct mcollect *c = ctx;
  c->calls++;
  if (len > c->max_piece)
    c->max_piece = len;
  if (stream >= 0 && stream < 3)
    buf_add (&c->out[stream], data, len);
  if (stream != c->last)
    buf_addf (&c->transcript, "[%d]", stream);
  c->last = stream;
  buf_add (&c->transcript, data, len);
  return c->stop_at_call && c->calls >= c->stop_at_call ? 1 : 0;
}

static void
mcollect_free (struct mcollect *c)
{
  for (int i = 0; i < 3; i++)
    buf_free (&c->out[i]);
  buf_free (&c->transcript);
}

static int
mux_run (bool raw, const char *data, size_t len, const size_t *cuts, size_t ncuts,
         struct mcollect *c, struct itm_err *err)
{
  struct mux p;
  size_t prev = 0;
  int r = 0;
  memset (c, 0, sizeof *c);
  c->last = -1;
  buf_adds (&c->transcript, "");
  mux_init (&p, raw, mcollect_cb, c);
  for (size_t i = 0; i <= ncuts && r == 0; i++)
    {
      size_t end = i < ncuts ? cuts[i] : len;
      r = mux_feed (&p, data + prev, end - prev, err);
      prev = end;
    }
  if (r == 0)
    r = mux_finish (&p, err);
  return r;
}

static bool
same (const struct buf *b, const char *want, size_t wlen)
{
  return b->len == wlen && (wlen == 0 || memcmp (b->data, want, wlen) == 0);
}

static void
test_mux_file (void)
{
  size_t len, olen, elen;
  char *data = slurp ("logs.mux", &len);
  char *out = slurp ("logs.mux.stdout", &olen);
  char *errs = slurp ("logs.mux.stderr", &elen);
  struct mcollect c, c2;
  struct itm_err err = { 0 };

  int r = mux_run (false, data, len, NULL, 0, &c, &err);
  tap_ok (r == 0 && same (&c.out[1], out, olen) && same (&c.out[2], errs, elen),
          "logs.mux fed whole: stdout %zu bytes, stderr %zu bytes", c.out[1].len, c.out[2].len);
  char *want_transcript = xmalloc (c.transcript.len + 1);
  memcpy (want_transcript, c.transcript.data, c.transcript.len);
  size_t tlen = c.transcript.len;
  tap_ok (strncmp (want_transcript, "[1]starting web server\n[2]warning", 33) == 0,
          "... streams interleaved in order");
  mcollect_free (&c);

  size_t *cuts = xcalloc (len + 1, sizeof *cuts);
  for (size_t i = 1; i < len; i++)
    cuts[i - 1] = i;
  r = mux_run (false, data, len, cuts, len - 1, &c, &err);
  tap_ok (r == 0 && same (&c.transcript, want_transcript, tlen) && c.max_piece == 1,
          "logs.mux byte by byte: same bytes, delivered in pieces");
  mcollect_free (&c);
  free (cuts);

  size_t bad = 0, runs = 0;
  for (size_t i = 0; i <= len; i++)
    {
      size_t cut[1] = { i };
      r = mux_run (false, data, len, cut, 1, &c, &err);
      if (r != 0 || !same (&c.transcript, want_transcript, tlen))
        bad++;
      mcollect_free (&c);
    }
  tap_ok (bad == 0, "logs.mux split in two at every offset (%zu bad)", bad);
  bad = 0;
  for (size_t i = 0; i <= len; i += 3)
    for (size_t j = i; j <= len; j += 5)
      {
        size_t cut[2] = { i, j };
        r = mux_run (false, data, len, cut, 2, &c2, &err);
        runs++;
        if (r != 0 || !same (&c2.transcript, want_transcript, tlen))
          bad++;
        mcollect_free (&c2);
      }
  tap_ok (bad == 0, "logs.mux split in three, %zu ways (%zu bad)", runs, bad);

  /* truncated: inside a header, inside a payload */
  r = mux_run (false, data, 5, NULL, 0, &c, &err);
  tap_ok (r < 0 && err.msg && strstr (err.msg, "frame header"), "ends inside a header: %s",
          err.msg ? err.msg : "(none)");
  mcollect_free (&c);
  itm_err_clear (&err);
  r = mux_run (false, data, 8 + 10, NULL, 0, &c, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_ENGINE && err.msg && strstr (err.msg, "inside a frame"),
          "ends inside a payload: %s", err.msg ? err.msg : "(none)");
  tap_is_int (c.out[1].len, 10, "... the 10 bytes that came were delivered");
  mcollect_free (&c);
  itm_err_clear (&err);

  /* not a multiplexed stream */
  r = mux_run (false, "{\"message\":\"x\"}", 15, NULL, 0, &c, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_ENGINE, "a bad header is an error: %s",
          err.msg ? err.msg : "(none)");
  mcollect_free (&c);
  itm_err_clear (&err);

  /* callback stop */
  r = mux_run (false, data, len, NULL, 0, &c, &err);
  mcollect_free (&c);
  struct mux p;
  memset (&c, 0, sizeof c);
  c.stop_at_call = 2;
  mux_init (&p, false, mcollect_cb, &c);
  r = mux_feed (&p, data, len, &err);
  tap_ok (r > 0 && c.calls == 2, "callback stop: feed returns %d after %zu calls", r, c.calls);
  mcollect_free (&c);

  free (want_transcript);
  free (data);
  free (out);
  free (errs);
}

static void
test_mux_big_frame (void)
{
  /* a 300000-byte stdout frame and a stderr frame, fed in 4096-byte reads:
   * the payload comes in pieces no bigger than a read */
  size_t big = 300000, len = 8 + big + 8 + 3;
  unsigned char *d = xmalloc (len);
  d[0] = 1, d[1] = d[2] = d[3] = 0;
  d[4] = (unsigned char) (big >> 24), d[5] = (unsigned char) (big >> 16);
  d[6] = (unsigned char) (big >> 8), d[7] = (unsigned char) big;
  for (size_t i = 0; i < big; i++)
    d[8 + i] = (unsigned char) (i * 7 + 3);
  memcpy (d + 8 + big, "\x02\0\0\0\0\0\0\x03" "err", 11);
  size_t ncuts = len / 4096;
  size_t *cuts = xcalloc (ncuts + 1, sizeof *cuts);
  for (size_t i = 0; i < ncuts; i++)
    cuts[i] = (i + 1) * 4096;
  struct mcollect c;
  struct itm_err err = { 0 };
  int r = mux_run (false, (char *) d, len, cuts, ncuts, &c, &err);
  tap_ok (r == 0 && same (&c.out[1], (char *) d + 8, big) && same (&c.out[2], "err", 3),
          "a frame larger than one read: all bytes, right streams");
  tap_ok (c.max_piece <= 4096 && c.calls >= big / 4096, "... delivered in %zu pieces of <= 4096",
          c.calls);
  mcollect_free (&c);
  free (cuts);
  free (d);
}

static void
test_raw (void)
{
  size_t len;
  char *data = slurp ("tty.raw", &len);
  struct mcollect c;
  struct itm_err err = { 0 };
  size_t bad = 0;
  for (size_t i = 0; i <= len; i++)
    {
      size_t cut[1] = { i };
      int r = mux_run (true, data, len, cut, 1, &c, &err);
      if (r != 0 || !same (&c.out[1], data, len) || c.out[2].len)
        bad++;
      mcollect_free (&c);
    }
  tap_ok (bad == 0, "TTY raw stream: every byte to stdout, split anywhere (%zu bad)", bad);
  int r = mux_run (true, data, 3, NULL, 0, &c, &err);
  tap_is_int (r, 0, "a raw stream may end anywhere");
  mcollect_free (&c);
  free (data);
}

int
main (void)
{
  test_jsonl_file ("pull-progress.jsonl", 12);
  test_jsonl_file ("build-progress.jsonl", 9);
  test_jsonl_file ("pull-error.jsonl", 2);
  test_jsonl_file ("events.jsonl", 4);
  test_jsonl_edges ();
  test_stream_error ();
  test_mux_file ();
  test_mux_big_frame ();
  test_raw ();
  return tap_done ();
}
