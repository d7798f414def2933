/* toxic.c - toxics as data: their types and attributes, their JSON (in
 * Toxiproxy's shapes and words), and px_shape(): when the bytes of a read
 * may leave through latency, bandwidth and slicer. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "util/json.h"
#include "util/xalloc.h"

static const struct {
  const char *name;
  const char *attrs[PX_MAX_ATTRS + 1];
} types[PX_NTYPES] = {
  [PX_LATENCY] = { "latency", { "latency", "jitter" } },
  [PX_BANDWIDTH] = { "bandwidth", { "rate" } },
  [PX_SLOW_CLOSE] = { "slow_close", { "delay" } },
  [PX_TIMEOUT] = { "timeout", { "timeout" } },
  [PX_RESET_PEER] = { "reset_peer", { "timeout" } },
  [PX_SLICER] = { "slicer", { "average_size", "size_variation", "delay" } },
  [PX_LIMIT_DATA] = { "limit_data", { "bytes" } },
  [PX_FAIL_FIRST] = { "fail_first", { "connections" } },
  [PX_HANG] = { "hang", { NULL } },
};

const char *
px_type_name (enum px_type t)
{
  return (unsigned) t < PX_NTYPES ? types[t].name : NULL;
}

const char *const *
px_type_attrs (enum px_type t)
{
  return types[t].attrs;
}

int
px_type_find (const char *name)
{
  for (int i = 0; name && i < PX_NTYPES; i++)
    if (strcmp (types[i].name, name) == 0)
      return i;
  return -1;
}

static uint64_t next_id = 1;

void
px_toxic_clear (struct px_toxic *t)
{
  free (t->name);
  t->name = NULL;
}

static int
bad (char **msg, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int
bad (char **msg, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return 400;
}

/* Toxiproxy's attributes are Go int64 fields: a JSON integer (an integral
 * number is one too); itm-env also refuses negative values. */
static int
parse_attrs (enum px_type type, json_object *attrs, int64_t out[PX_MAX_ATTRS], char **msg)
{
  if (attrs == NULL || json_object_get_type (attrs) == json_type_null)
    return 0;
  if (!json_object_is_type (attrs, json_type_object))
    return bad (msg, "bad request body: json: cannot unmarshal %s into Go struct field"
                " ToxicWrapper.attributes of type toxics.Toxic (attributes must be an object)",
                json_type_to_name (json_object_get_type (attrs)));
  const char *const *names = types[type].attrs;
  for (int i = 0; names[i]; i++)
    {
      json_object *v = json_key (attrs, names[i]);
      if (v == NULL)
        continue;
      int64_t x;
      if (json_object_is_type (v, json_type_int))
        x = json_object_get_int64 (v);
      else if (json_object_is_type (v, json_type_double)
               && json_object_get_double (v) > -9e15 && json_object_get_double (v) < 9e15
               && json_object_get_double (v) == (double) (int64_t) json_object_get_double (v))
        x = (int64_t) json_object_get_double (v);
      else
        return bad (msg, "bad request body: json: cannot unmarshal %s into Go struct field"
                    " attributes.%s of type int64 (toxic '%s' wants an integer)",
                    json_object_is_type (v, json_type_double) ? "number"
                    : json_type_to_name (json_object_get_type (v)), names[i],
                    types[type].name);
      if (x < 0)
        return bad (msg, "bad request body: attribute %s of toxic '%s' must not be negative"
                    " (got %lld)", names[i], types[type].name, (long long) x);
      out[i] = x;
    }
  return 0;
}

static int
parse_toxicity (json_object *v, double *out, char **msg)
{
  if (v == NULL)
    return 0;
  if (!json_object_is_type (v, json_type_int) && !json_object_is_type (v, json_type_double))
    return bad (msg, "bad request body: json: cannot unmarshal %s into Go struct field"
                " ToxicWrapper.toxicity of type float32",
                json_type_to_name (json_object_get_type (v)));
  double d = json_object_get_double (v);
  if (!(d >= 0 && d <= 1))
    return bad (msg, "bad request body: toxicity must be between 0 and 1 (got %g)", d);
  *out = d;
  return 0;
}

int
px_toxic_parse (json_object *body, struct px_toxic *t, char **msg)
{
  *t = (struct px_toxic) { .stream = PX_DOWNSTREAM, .toxicity = 1.0 };
  if (!json_object_is_type (body, json_type_object))
    return bad (msg, "bad request body: the body is not a JSON object");
  json_object *v;
  const char *name = NULL, *type = NULL, *stream = "downstream";
  static const char *const strs[] = { "name", "type", "stream" };
  const char **dst[] = { &name, &type, &stream };
  for (int i = 0; i < 3; i++)
    if ((v = json_key (body, strs[i])) != NULL)
      {
        if (!json_object_is_type (v, json_type_string))
          return bad (msg, "bad request body: json: cannot unmarshal %s into Go struct field"
                      " ToxicWrapper.%s of type string",
                      json_type_to_name (json_object_get_type (v)), strs[i]);
        *dst[i] = json_object_get_string (v);
      }
  if (parse_toxicity (json_key (body, "toxicity"), &t->toxicity, msg))
    return 400;
  if (strcasecmp (stream, "upstream") == 0)
    t->stream = PX_UPSTREAM;
  else if (strcasecmp (stream, "downstream") == 0)
    t->stream = PX_DOWNSTREAM;
  else
    return bad (msg, "stream was invalid, can be either upstream or downstream");
  int ty = px_type_find (type);
  if (ty < 0)
    return bad (msg, "invalid toxic type");
  t->type = (enum px_type) ty;
  if (parse_attrs (t->type, json_key (body, "attributes"), t->attr, msg))
    return 400;
  t->name = name && *name ? xstrdup (name)
    : xasprintf ("%s_%s", type, t->stream == PX_UPSTREAM ? "upstream" : "downstream");
  t->id = next_id++;
  return 0;
}

int
px_toxic_update (struct px_toxic *t, json_object *body, char **msg)
{
  if (!json_object_is_type (body, json_type_object))
    return bad (msg, "bad request body: the body is not a JSON object");
  int64_t attr[PX_MAX_ATTRS];
  double toxicity = t->toxicity;
  memcpy (attr, t->attr, sizeof attr);
  if (parse_attrs (t->type, json_key (body, "attributes"), attr, msg)
      || parse_toxicity (json_key (body, "toxicity"), &toxicity, msg))
    return 400;
  memcpy (t->attr, attr, sizeof attr);
  t->toxicity = toxicity;
  return 0;
}

json_object *
px_toxic_json (const struct px_toxic *t)
{
  json_object *o = json_object_new_object (), *a = json_object_new_object ();
  for (int i = 0; types[t->type].attrs[i]; i++)
    json_object_object_add (a, types[t->type].attrs[i], json_object_new_int64 (t->attr[i]));
  json_object_object_add (o, "attributes", a);
  json_object_object_add (o, "name", json_object_new_string (t->name));
  json_object_object_add (o, "type", json_object_new_string (types[t->type].name));
  json_object_object_add (o, "stream",
                          json_object_new_string (t->stream == PX_UPSTREAM ? "upstream"
                                                  : "downstream"));
  json_object_object_add (o, "toxicity", json_object_new_double (t->toxicity));
  return o;
}

/* ---- randomness: xorshift64* (tests seed it) ---- */
static uint64_t
rnd (uint64_t *s)
{
  uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1dULL;
}

double
px_rand01 (uint64_t *rng)
{
  return (double) (rnd (rng) >> 11) / 9007199254740992.0;
}

int64_t
px_randn (uint64_t *rng, int64_t n)
{
  return n <= 0 ? 0 : (int64_t) (rnd (rng) % (uint64_t) n);
}

/* ---- shaping ---- */
struct plist {
  struct px_piece *v;
  size_t n, cap;
};

static void
padd (struct plist *l, size_t off, size_t len, int64_t at)
{
  l->v = xgrow (l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n++] = (struct px_piece) { off, len, at };
}

struct px_piece *
px_shape (struct px_shape_state *st, const struct px_toxic *const *active, size_t nactive,
          int64_t now, size_t n, size_t *npieces, uint64_t *rng)
{
  struct plist cur = { 0 };
  padd (&cur, 0, n, now);
  for (size_t k = 0; k < nactive; k++)
    {
      const struct px_toxic *t = active[k];
      struct plist next = { 0 };
      switch (t->type)
        {
        case PX_LATENCY:
          {
            /* Toxiproxy: latency + a uniform jitter in [-jitter, jitter) */
            int64_t d = t->attr[0];
            if (t->attr[1] > 0)
              d += px_randn (rng, 2 * t->attr[1]) - t->attr[1];
            for (size_t i = 0; i < cur.n; i++)
              cur.v[i].at += d * 1000000;
            continue;
          }
        case PX_BANDWIDTH:
          {
            int64_t rate = t->attr[0] * 1000;   /* bytes per second */
            if (rate <= 0)
              continue;
            /* pieces of at most 100 ms of the rate, each leaving when the
             * link is free, which it is again len/rate later */
            size_t max = (size_t) (rate / 10 > 0 ? rate / 10 : 1);
            for (size_t i = 0; i < cur.n; i++)
              for (size_t off = 0; off < cur.v[i].len; off += max)
                {
                  size_t len = cur.v[i].len - off < max ? cur.v[i].len - off : max;
                  int64_t at = cur.v[i].at > st->bw_next ? cur.v[i].at : st->bw_next;
                  padd (&next, cur.v[i].off + off, len, at);
                  st->bw_next = at + (int64_t) len * 1000000000 / rate;
                }
            break;
          }
        case PX_SLICER:
          {
            int64_t avg = t->attr[0], var = t->attr[1], delay = t->attr[2] * 1000;
            if (avg <= 0)
              continue;
            if (var >= avg)
              var = avg - 1;
            for (size_t i = 0; i < cur.n; i++)
              {
                int64_t at = cur.v[i].at;
                for (size_t off = 0; off < cur.v[i].len;)
                  {
                    int64_t size = avg + (var > 0 ? px_randn (rng, 2 * var + 1) - var : 0);
                    size_t len = (size_t) size;
                    if (len > cur.v[i].len - off)
                      len = cur.v[i].len - off;
                    padd (&next, cur.v[i].off + off, len, at);
                    off += len;
                    at += delay;
                  }
              }
            break;
          }
        default:
          continue;
        }
      free (cur.v);
      cur = next;
    }
  /* the bytes keep their order: a piece never leaves before the one before */
  for (size_t i = 0; i < cur.n; i++)
    {
      if (cur.v[i].at < st->last_at)
        cur.v[i].at = st->last_at;
      st->last_at = cur.v[i].at;
    }
  *npieces = cur.n;
  return cur.v;
}
