/* node.c - the document tree's arena, node operations and diagnostics
 * (see node.h). */
#include <config.h>
#include "stack/node.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* A chunked bump allocator: blocks of at least ARENA_CHUNK bytes, each a
 * singly linked list entry; everything is freed at once. */
#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
  struct arena_chunk *next;
  size_t used, size;
  max_align_t data[];
};

/* Arrays of items and pairs grow by doubling (below); a block left
 * behind by a growth is kept here, by size (a power of two, 2^i bytes),
 * for the next array of that size: most maps and lists are small, so the
 * blocks of 4 and 8 are taken again at once. */
#define ARENA_NFREE 24

struct node_arena {
  struct arena_chunk *chunks;
  void *freeblocks[ARENA_NFREE];
  /* interned paths: a small open list (few distinct files per load) */
  const char **interned;
  size_t ninterned, capinterned;
  bool tagged;                 /* a node has a merge tag */
};

struct node_arena *
node_arena_new (void)
{
  return xzalloc (sizeof (struct node_arena));
}

void
node_arena_free (struct node_arena *a)
{
  if (a == NULL)
    return;
  struct arena_chunk *c = a->chunks;
  while (c)
    {
      struct arena_chunk *next = c->next;
      free (c);
      c = next;
    }
  free (a->interned);
  free (a);
}

void
node_arena_mark (struct node_arena *a, struct node_arena_mark *m)
{
  m->chunk = a->chunks;
  m->next = a->chunks ? a->chunks->next : NULL;
  m->used = a->chunks ? a->chunks->used : 0;
}

void
node_arena_release (struct node_arena *a, const struct node_arena_mark *m)
{
  /* chunks are added in front, big blocks behind the front chunk */
  while (a->chunks != m->chunk)
    {
      struct arena_chunk *c = a->chunks;
      a->chunks = c->next;
      free (c);
    }
  if (a->chunks)
    {
      while (a->chunks->next != m->next)
        {
          struct arena_chunk *c = a->chunks->next;
          a->chunks->next = c->next;
          free (c);
        }
      a->chunks->used = m->used;
    }
  /* the free blocks may be anywhere, and the lists run through them */
  memset (a->freeblocks, 0, sizeof a->freeblocks);
}

void
node_arena_note_tag (struct node_arena *a)
{
  a->tagged = true;
}

bool
node_arena_tagged (const struct node_arena *a)
{
  return a->tagged;
}

/* Everything in a node arena is pointers, sizes and ints (8-byte
 * alignment) or text (none): max_align_t's 16 bytes made each node 96
 * bytes instead of 88 and each string 8 bytes longer on average. */
#define ARENA_ALIGN _Alignof (void *)

static void *
arena_alloc_aligned (struct node_arena *a, size_t n, size_t align)
{
  if (n == 0)
    n = 1;
  struct arena_chunk *c = a->chunks;
  size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
  if (c == NULL || c->size < at || c->size - at < n)
    {
      size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
      c = xmalloc (sizeof *c + size);
      c->size = size;
      c->used = 0;
      if (n > ARENA_CHUNK / 4 && a->chunks)
        {
          /* a big block: keep the current chunk for small allocations */
          c->next = a->chunks->next;
          a->chunks->next = c;
        }
      else
        {
          c->next = a->chunks;
          a->chunks = c;
        }
      at = 0;
    }
  void *p = (char *) c->data + at;
  c->used = at + n;
  return p;
}

static void *
arena_alloc (struct node_arena *a, size_t n)
{
  return arena_alloc_aligned (a, n, ARENA_ALIGN);
}

static void *
arena_zalloc (struct node_arena *a, size_t n)
{
  void *p = arena_alloc (a, n);
  memset (p, 0, n);
  return p;
}

struct node *
node_new (struct node_arena *a, enum node_kind kind, const char *file, int line, int col)
{
  struct node *n = arena_zalloc (a, sizeof *n);
  n->kind = kind;
  n->file = file;
  n->line = line;
  n->col = col;
  return n;
}

char *
node_strdup (struct node_arena *a, const char *s)
{
  size_t len = strlen (s);
  char *p = arena_alloc_aligned (a, len + 1, 1);
  memcpy (p, s, len + 1);
  return p;
}

char *
node_strndup (struct node_arena *a, const char *s, size_t n)
{
  char *p = arena_alloc_aligned (a, n + 1, 1);
  memcpy (p, s, n);
  p[n] = '\0';
  return p;
}

const char *
node_intern (struct node_arena *a, const char *path)
{
  if (path == NULL)
    return NULL;
  for (size_t i = 0; i < a->ninterned; i++)
    if (strcmp (a->interned[i], path) == 0)
      return a->interned[i];
  a->interned = xgrow (a->interned, &a->capinterned, a->ninterned + 1, sizeof *a->interned);
  const char *s = node_strdup (a, path);
  a->interned[a->ninterned++] = s;
  return s;
}

/* Scalar strings are shared between a node and its copies: nothing
 * changes a node's scalar in place (interpolation stores a new string).
 * Key nodes are shared too (see below). */
struct node *
node_copy (struct node_arena *a, const struct node *n)
{
  if (n == NULL)
    return NULL;
  struct node *c = node_new (a, n->kind, n->file, n->line, n->col);
  c->scalar = n->scalar;
  c->plain = n->plain;
  c->merge_tag = n->merge_tag;
  if (n->nitems)
    {
      c->items = arena_alloc (a, n->nitems * sizeof *c->items);
      for (size_t i = 0; i < n->nitems; i++)
        c->items[i] = node_copy (a, n->items[i]);
      c->nitems = c->capitems = n->nitems;
    }
  if (n->npairs)
    {
      c->pairs = arena_alloc (a, n->npairs * sizeof *c->pairs);
      for (size_t i = 0; i < n->npairs; i++)
        {
          /* keys are shared: nothing changes a key node after parsing
           * (files.c's merges already share them between trees) */
          c->pairs[i].key = n->pairs[i].key;
          c->pairs[i].value = node_copy (a, n->pairs[i].value);
        }
      c->npairs = c->cappairs = n->npairs;
    }
  return c;
}

/* The free-list index of a block of n bytes, or -1 when n is no power
 * of two in range. */
static int
block_class (size_t n)
{
  if (n < sizeof (void *) || (n & (n - 1)) != 0)
    return -1;
  int c = 0;
  while ((n >>= 1) != 0)
    c++;
  return c < ARENA_NFREE ? c : -1;
}

static void *
array_alloc (struct node_arena *a, size_t n)
{
  int c = block_class (n);
  if (c >= 0 && a->freeblocks[c])
    {
      void *p = a->freeblocks[c];
      memcpy (&a->freeblocks[c], p, sizeof (void *));
      return p;
    }
  return arena_alloc (a, n);
}

/* old, n bytes, is no longer referenced (only its node pointed to it) */
static void
array_release (struct node_arena *a, void *old, size_t n)
{
  int c = block_class (n);
  if (old == NULL || c < 0)
    return;
  memcpy (old, &a->freeblocks[c], sizeof (void *));
  a->freeblocks[c] = old;
}

/* Arrays grow by doubling inside the arena: the old block is left behind
 * for the next array of its size (see freeblocks). */
void
node_seq_push (struct node_arena *a, struct node *seq, struct node *item)
{
  if (seq->nitems >= seq->capitems)
    {
      size_t cap = seq->nitems < 2 ? 4 : seq->nitems * 2;
      struct node **v = array_alloc (a, cap * sizeof *v);
      if (seq->nitems)
        memcpy (v, seq->items, seq->nitems * sizeof *v);
      array_release (a, seq->items, seq->capitems * sizeof *v);
      seq->items = v;
      seq->capitems = cap;
    }
  seq->items[seq->nitems++] = item;
}

void
node_map_set (struct node_arena *a, struct node *map, struct node *key, struct node *value)
{
  for (size_t i = 0; i < map->npairs; i++)
    if (strcmp (map->pairs[i].key->scalar, key->scalar) == 0)
      {
        map->pairs[i].value = value;
        return;
      }
  node_map_append (a, map, key, value);
}

void
node_map_append (struct node_arena *a, struct node *map, struct node *key, struct node *value)
{
  if (map->npairs >= map->cappairs)
    {
      size_t cap = map->npairs < 2 ? 4 : map->npairs * 2;
      struct node_pair *v = array_alloc (a, cap * sizeof *v);
      if (map->npairs)
        memcpy (v, map->pairs, map->npairs * sizeof *v);
      array_release (a, map->pairs, map->cappairs * sizeof *v);
      map->pairs = v;
      map->cappairs = cap;
    }
  map->pairs[map->npairs].key = key;
  map->pairs[map->npairs].value = value;
  map->npairs++;
}

struct node *
node_map_get (const struct node *map, const char *key)
{
  if (map == NULL || map->kind != NODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->npairs; i++)
    if (strcmp (map->pairs[i].key->scalar, key) == 0)
      return map->pairs[i].value;
  return NULL;
}

bool
node_map_del (struct node *map, const char *key)
{
  if (map == NULL || map->kind != NODE_MAP)
    return false;
  for (size_t i = 0; i < map->npairs; i++)
    if (strcmp (map->pairs[i].key->scalar, key) == 0)
      {
        memmove (&map->pairs[i], &map->pairs[i + 1], (map->npairs - i - 1) * sizeof *map->pairs);
        map->npairs--;
        return true;
      }
  return false;
}

bool
node_identical (const struct node *x, const struct node *y)
{
  if (x == NULL || y == NULL)
    return x == y;
  if (x->kind != y->kind || x->plain != y->plain || x->merge_tag != y->merge_tag
      || x->line != y->line || x->col != y->col || x->nitems != y->nitems
      || x->npairs != y->npairs || (x->scalar == NULL) != (y->scalar == NULL)
      || (x->scalar && strcmp (x->scalar, y->scalar) != 0)
      || (x->file != y->file && (x->file == NULL || y->file == NULL
                                 || strcmp (x->file, y->file) != 0)))
    return false;
  for (size_t i = 0; i < x->nitems; i++)
    if (!node_identical (x->items[i], y->items[i]))
      return false;
  for (size_t i = 0; i < x->npairs; i++)
    if (!node_identical (x->pairs[i].key, y->pairs[i].key)
        || !node_identical (x->pairs[i].value, y->pairs[i].value))
      return false;
  return true;
}

/* ---- diagnostics */

static void
diag_vadd (struct diags *d, enum diag_severity sev, const char *file, int line, int col,
           const char *fmt, va_list ap)
{
  d->v = xgrow (d->v, &d->cap, d->n + 1, sizeof *d->v);
  struct diag *g = &d->v[d->n++];
  g->severity = sev;
  g->file = file;
  g->line = line;
  g->col = col;
  g->msg = xvasprintf (fmt, ap);
  if (sev == DIAG_ERROR)
    d->nerrors++;
  else if (sev == DIAG_WARNING)
    d->nwarnings++;
}

void
diag_add (struct diags *d, enum diag_severity sev, const struct node *at, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  diag_vadd (d, sev, at ? at->file : NULL, at ? at->line : 0, at ? at->col : 0, fmt, ap);
  va_end (ap);
}

void
diag_addp (struct diags *d, enum diag_severity sev, const char *file, int line, int col,
           const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  diag_vadd (d, sev, file, line, col, fmt, ap);
  va_end (ap);
}

void
diags_print (const struct diags *d, FILE *out)
{
  static const char *const sevname[] = { "note", "warning", "error" };
  for (size_t i = 0; i < d->n; i++)
    {
      const struct diag *g = &d->v[i];
      if (g->file)
        {
          fputs (g->file, out);
          if (g->line > 0)
            {
              fprintf (out, ":%d", g->line);
              if (g->col > 0)
                fprintf (out, ":%d", g->col);
            }
          fputs (": ", out);
        }
      fprintf (out, "%s: %s\n", sevname[g->severity], g->msg);
    }
}

void
diags_free (struct diags *d)
{
  for (size_t i = 0; i < d->n; i++)
    free (d->v[i].msg);
  free (d->v);
  memset (d, 0, sizeof *d);
}
