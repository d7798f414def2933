/* buildkit.c - BuildKit's progress stream read as text.
 *
 * POST /build?version=2 answers with JSON lines whose "aux" (with "id":
 * "moby.buildkit.trace") is a base64 protobuf StatusResponse (buildkit.proto,
 * decoded by protobuf-c).  Each message updates vertexes (build steps),
 * statuses and logs; this file turns them into the lines `docker build
 * --progress=plain` shows, numbered in order of first appearance:
 *
 *   #1 [internal] load build definition from Dockerfile
 *   #1 DONE 0.0s
 *   #5 [2/3] RUN make
 *   #5 0.412 cc -o x x.c
 *   #5 ERROR: executor failed running [/bin/sh -c make]: exit code: 2
 *
 * and keeps each vertex's last output lines, so that a failed step can be
 * reported with its own output even when other steps ran in parallel. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "image/buildkit.pb-c.h"
#include "image/private.h"
#include "util/xalloc.h"

#define KEEP_LINES 40

struct bk_vertex {
  char *digest;
  char *name;
  int num;                   /* #N */
  bool started, done, cached, failed;
  int64_t t_start;           /* ns since the epoch, from the engine's stamps */
  char *lines[KEEP_LINES];   /* its last output lines */
  size_t nlines;
  struct buf partial[3];     /* a line not yet ended, per stream (1, 2) */
};

struct bk_trace {
  struct bk_vertex *v;
  size_t n, cap;
  int failed;                /* index + 1 of the first failed vertex, 0: none */
};

struct bk_trace *
bk_trace_new (void)
{
  return xcalloc (1, sizeof (struct bk_trace));
}

void
bk_trace_free (struct bk_trace *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    {
      struct bk_vertex *v = &t->v[i];
      free (v->digest);
      free (v->name);
      for (size_t k = 0; k < v->nlines; k++)
        free (v->lines[k]);
      for (size_t k = 0; k < 3; k++)
        buf_free (&v->partial[k]);
    }
  free (t->v);
  free (t);
}

/* RFC 4648 base64 (padding optional, no line breaks): the decoded bytes
 * (new, *n their count), or NULL on a character outside the alphabet. */
static unsigned char *
b64_decode (const char *s, size_t *n)
{
  size_t len = strlen (s);
  unsigned char *out = xmalloc (len / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++)
    {
      int c = (unsigned char) s[i], d;
      if (c >= 'A' && c <= 'Z')
        d = c - 'A';
      else if (c >= 'a' && c <= 'z')
        d = c - 'a' + 26;
      else if (c >= '0' && c <= '9')
        d = c - '0' + 52;
      else if (c == '+' || c == '-')
        d = 62;
      else if (c == '/' || c == '_')
        d = 63;
      else if (c == '=')
        break;
      else
        {
          free (out);
          return NULL;
        }
      acc = (acc << 6) | (uint32_t) d;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (unsigned char) (acc >> bits);
        }
    }
  *n = o;
  return out;
}

static struct bk_vertex *
vertex (struct bk_trace *t, const char *digest)
{
  for (size_t i = 0; i < t->n; i++)
    if (strcmp (t->v[i].digest, digest) == 0)
      return &t->v[i];
  t->v = xgrow (t->v, &t->cap, t->n + 1, sizeof *t->v);
  struct bk_vertex *v = &t->v[t->n++];
  *v = (struct bk_vertex){ .digest = xstrdup (digest), .num = (int) t->n };
  return v;
}

static int64_t
ts_ns (const Itm__Buildkit__Timestamp *ts)
{
  return ts ? ts->seconds * 1000000000LL + ts->nanos : 0;
}

static void
keep (struct bk_vertex *v, const char *line)
{
  if (v->nlines == KEEP_LINES)
    {
      free (v->lines[0]);
      memmove (v->lines, v->lines + 1, (KEEP_LINES - 1) * sizeof *v->lines);
      v->nlines--;
    }
  v->lines[v->nlines++] = xstrdup (line);
}

/* One output line of a vertex: "#N 0.412 text" (seconds since its start). */
static void
log_line (struct bk_vertex *v, int64_t at, const char *text, bk_line_fn fn, void *ctx)
{
  keep (v, text);
  cleanup_free char *s = NULL;
  if (at && v->t_start && at >= v->t_start)
    s = xasprintf ("#%d %.3f %s\n", v->num, (double) (at - v->t_start) / 1e9, text);
  else
    s = xasprintf ("#%d %s\n", v->num, text);
  fn (ctx, s);
}

static void
flush_partial (struct bk_vertex *v, bk_line_fn fn, void *ctx)
{
  for (size_t k = 0; k < 3; k++)
    if (v->partial[k].len)
      {
        cleanup_free char *line = buf_steal (&v->partial[k]);
        log_line (v, 0, line, fn, ctx);
      }
}

int
bk_trace_feed (struct bk_trace *t, const char *b64, bk_line_fn fn, void *ctx)
{
  size_t n = 0;
  cleanup_free unsigned char *raw = b64_decode (b64, &n);
  if (raw == NULL)
    return -1;
  Itm__Buildkit__StatusResponse *r = itm__buildkit__status_response__unpack (NULL, n, raw);
  if (r == NULL)
    return -1;
  for (size_t i = 0; i < r->n_vertexes; i++)
    {
      const Itm__Buildkit__Vertex *pv = r->vertexes[i];
      if (pv->digest == NULL || *pv->digest == '\0')
        continue;
      struct bk_vertex *v = vertex (t, pv->digest);
      if (pv->name && *pv->name && (v->name == NULL || strcmp (v->name, pv->name)))
        {
          free (v->name);
          v->name = xstrdup (pv->name);
        }
      if (!v->started && (pv->started || pv->cached || pv->completed))
        {
          v->started = true;
          v->t_start = ts_ns (pv->started);
          cleanup_free char *s = xasprintf ("#%d %s\n", v->num, v->name ? v->name : v->digest);
          fn (ctx, s);
        }
      if (pv->cached && !v->cached)
        {
          v->cached = true;
          cleanup_free char *s = xasprintf ("#%d CACHED\n", v->num);
          fn (ctx, s);
        }
      if (pv->completed && !v->done)
        {
          v->done = true;
          flush_partial (v, fn, ctx);
          cleanup_free char *s = NULL;
          if (pv->error && *pv->error)
            {
              v->failed = true;
              if (t->failed == 0)
                t->failed = (int) (v - t->v) + 1;
              s = xasprintf ("#%d ERROR: %s\n", v->num, pv->error);
            }
          else if (!v->cached)
            {
              int64_t d = ts_ns (pv->completed) - v->t_start;
              s = xasprintf ("#%d DONE %.1fs\n", v->num, d > 0 ? (double) d / 1e9 : 0.0);
            }
          if (s)
            fn (ctx, s);
        }
    }
  for (size_t i = 0; i < r->n_logs; i++)
    {
      const Itm__Buildkit__VertexLog *l = r->logs[i];
      if (l->vertex == NULL || *l->vertex == '\0')
        continue;
      struct bk_vertex *v = vertex (t, l->vertex);
      struct buf *pb = &v->partial[l->stream == 2 ? 2 : 1];
      int64_t at = ts_ns (l->timestamp);
      for (size_t k = 0; k < l->msg.len; k++)
        {
          char c = (char) l->msg.data[k];
          if (c == '\r')
            continue;
          if (c != '\n')
            {
              buf_addc (pb, c == '\0' ? ' ' : c);
              continue;
            }
          cleanup_free char *line = pb->data ? buf_steal (pb) : xstrdup ("");
          log_line (v, at, line, fn, ctx);
        }
    }
  itm__buildkit__status_response__free_unpacked (r, NULL);
  return 0;
}

bool
bk_trace_failed (const struct bk_trace *t, char **step, char ***lines, size_t *nlines)
{
  if (t->failed == 0)
    return false;
  const struct bk_vertex *v = &t->v[t->failed - 1];
  *step = xasprintf ("#%d %s", v->num, v->name ? v->name : v->digest);
  *lines = xcalloc (v->nlines + 1, sizeof **lines);
  for (size_t i = 0; i < v->nlines; i++)
    (*lines)[i] = xstrdup (v->lines[i]);
  *nlines = v->nlines;
  return true;
}
