/* stream.c - incremental parsers for the engine's streaming bodies: JSON
 * values one after another (progress, /events) and multiplexed
 * stdout/stderr frames.  Neither holds a whole body: jsonl keeps only the
 * value being parsed (inside json-c's tokener), mux only a frame header. */
#include <config.h>

#include <string.h>

#include "engine/engine.h"
#include "util/xalloc.h"

/* ---- JSON values, one after another ---- */

void
jsonl_init (struct jsonl *p, jsonl_cb cb, void *ctx)
{
  memset (p, 0, sizeof *p);
  p->tok = json_tokener_new ();
  if (p->tok == NULL)
    oom ();
  json_tokener_set_flags (p->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
  p->cb = cb;
  p->ctx = ctx;
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse data[0..len) as the next part of the stream.  A value that ends at
 * the end of the data (a bare number) stays open until more data or the
 * end of stream proves it complete. */
static int
jsonl_parse (struct jsonl *p, const char *data, size_t len, struct itm_err *err)
{
  size_t off = 0;

  while (off < len)
    {
      if (!p->partial)
        {
          while (off < len && is_space (data[off]))
            off++;
          if (off == len)
            break;
        }
      size_t chunk = len - off;
      if (chunk > (size_t) INT32_MAX)
        chunk = INT32_MAX;
      bool carried = p->partial; /* a value begun in an earlier piece */
      json_object *v = json_tokener_parse_ex (p->tok, data + off, (int) chunk);
      enum json_tokener_error jerr = json_tokener_get_error (p->tok);
      if (v == NULL && jerr == json_tokener_continue)
        {
          p->partial = true;
          off += chunk;
          continue;
        }
      if (v == NULL && jerr != json_tokener_success)
        {
          itm_err_set (err, ITM_EXIT_ENGINE, "malformed JSON in the stream after %zu value%s: %s",
                       p->values, p->values == 1 ? "" : "s", json_tokener_error_desc (jerr));
          json_tokener_reset (p->tok);
          p->partial = false;
          return -1;
        }
      /* A complete value (a JSON null comes back as NULL with success).
       * A value carried over from an earlier piece may end at this piece's
       * first byte (a number ended by the '{' of the next value): none of
       * it was used, and it is the next value's. */
      size_t used = json_tokener_get_parse_end (p->tok);
      if ((used == 0 && !carried) || used > chunk)
        used = chunk;
      off += used;
      json_tokener_reset (p->tok);
      p->partial = false;
      p->values++;
      int stop = p->cb ? p->cb (v, p->ctx) : 0;
      json_object_put (v);
      if (stop)
        return stop > 0 ? stop : 1;
    }
  return 0;
}

int
jsonl_feed (struct jsonl *p, const char *data, size_t len, struct itm_err *err)
{
  return jsonl_parse (p, data, len, err);
}

int
jsonl_finish (struct jsonl *p, struct itm_err *err)
{
  if (!p->partial)
    return 0;
  /* A blank ends a value json-c could not see the end of (a bare number);
   * anything else still open is cut short. */
  size_t before = p->values;
  int ret = jsonl_parse (p, " ", 1, err);
  if (ret < 0)
    return itm_err_prefix (err, "stream ended inside a JSON value");
  if (p->values == before || p->partial)
    {
      json_tokener_reset (p->tok);
      p->partial = false;
      return itm_err_set (err, ITM_EXIT_ENGINE,
                          "stream ended inside a JSON value (after %zu complete value%s)",
                          before, before == 1 ? "" : "s");
    }
  return ret > 0 ? ret : 0;
}

void
jsonl_free (struct jsonl *p)
{
  if (p->tok)
    json_tokener_free (p->tok);
  p->tok = NULL;
}

const char *
jsonl_stream_error (json_object *value)
{
  json_object *detail, *msg;

  if (value == NULL || !json_object_is_type (value, json_type_object))
    return NULL;
  if (json_object_object_get_ex (value, "errorDetail", &detail)
      && json_object_object_get_ex (detail, "message", &msg)
      && json_object_is_type (msg, json_type_string) && json_object_get_string_len (msg) > 0)
    return json_object_get_string (msg);
  if (json_object_object_get_ex (value, "error", &msg) && json_object_is_type (msg, json_type_string))
    return json_object_get_string (msg);
  return NULL;
}

/* ---- multiplexed stdout/stderr frames ---- */

void
mux_init (struct mux *p, bool raw, mux_cb cb, void *ctx)
{
  memset (p, 0, sizeof *p);
  p->raw = raw;
  p->cb = cb;
  p->ctx = ctx;
}

int
mux_feed (struct mux *p, const char *data, size_t len, struct itm_err *err)
{
  size_t off = 0;

  if (p->raw)
    {
      if (len == 0 || p->cb == NULL)
        return 0;
      int stop = p->cb (1, data, len, p->ctx);
      return stop ? (stop > 0 ? stop : 1) : 0;
    }
  while (off < len)
    {
      if (p->left == 0)
        {
          size_t want = sizeof p->hdr - p->hdr_len;
          size_t n = len - off < want ? len - off : want;
          memcpy (p->hdr + p->hdr_len, data + off, n);
          p->hdr_len += n;
          off += n;
          if (p->hdr_len < sizeof p->hdr)
            break;
          if (p->hdr[0] > 3 || p->hdr[1] || p->hdr[2] || p->hdr[3])
            return itm_err_set (err, ITM_EXIT_ENGINE,
                                "not a multiplexed stream: bad frame header %02x %02x %02x %02x",
                                p->hdr[0], p->hdr[1], p->hdr[2], p->hdr[3]);
          p->stream = p->hdr[0];
          p->left = (uint32_t) p->hdr[4] << 24 | (uint32_t) p->hdr[5] << 16
                    | (uint32_t) p->hdr[6] << 8 | (uint32_t) p->hdr[7];
          p->hdr_len = 0;
          continue;
        }
      size_t n = len - off < p->left ? len - off : p->left;
      p->left -= (uint32_t) n;
      int stop = p->cb ? p->cb (p->stream, data + off, n, p->ctx) : 0;
      off += n;
      if (stop)
        return stop > 0 ? stop : 1;
    }
  return 0;
}

int
mux_finish (struct mux *p, struct itm_err *err)
{
  if (p->raw)
    return 0;
  if (p->hdr_len > 0)
    return itm_err_set (err, ITM_EXIT_ENGINE,
                        "stream ended inside a frame header (%zu of 8 bytes)", p->hdr_len);
  if (p->left > 0)
    return itm_err_set (err, ITM_EXIT_ENGINE,
                        "stream ended inside a frame (%lu payload bytes missing)",
                        (unsigned long) p->left);
  return 0;
}
