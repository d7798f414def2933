/* yaml.c - libyaml events to the node tree (see files.h, node.h).
 *
 * One document per file.  Anchors are registered when their node starts
 * (an alias to a node that is still open is a recursive alias: an error)
 * and completed when it ends; an alias becomes a deep copy of its anchor's
 * node, counted against STACK_YAML_MAX_ALIAS_NODES, and every node counts
 * against YAML_MAX_NODES, so an alias bomb or a huge document ends with an
 * error instead of exhausting memory.  Merge keys (<<) are resolved when
 * their map ends: explicit keys win over merged ones, and in a list of
 * maps an earlier map wins over a later one.
 */
#include <config.h>
#include "stack/files.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util/xalloc.h"

#define YAML_MAX_NODES 1000000

static void
cleanup_yaml_parser (yaml_parser_t *p)
{
  yaml_parser_delete (p);
}
static void
cleanup_yaml_event (yaml_event_t *e)
{
  yaml_event_delete (e);
}

/* A set of strings for duplicate-key checks in big maps. */
struct keyset {
  const char **tab;
  size_t size, n;
};

static size_t
str_hash (const char *s)
{
  size_t h = 14695981039346656037u;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211u;
  return h;
}

/* Insert s; false when an equal string is already there. */
static bool
keyset_add (struct keyset *k, const char *s)
{
  if (2 * (k->n + 1) > k->size)
    {
      struct keyset nk = { .size = k->size ? k->size * 2 : 64 };
      nk.tab = xcalloc (nk.size, sizeof *nk.tab);
      for (size_t i = 0; i < k->size; i++)
        if (k->tab[i])
          keyset_add (&nk, k->tab[i]);
      free (k->tab);
      *k = nk;
    }
  size_t mask = k->size - 1;
  for (size_t i = str_hash (s) & mask;; i = (i + 1) & mask)
    {
      if (k->tab[i] == NULL)
        {
          k->tab[i] = s;
          k->n++;
          return true;
        }
      if (strcmp (k->tab[i], s) == 0)
        return false;
    }
}

struct anchor {
  char *name;
  struct node *node; /* NULL while the anchored node is open */
  size_t size;       /* nodes in its subtree */
};

struct frame {
  struct node *node;
  struct node *key;    /* map: the key waiting for its value */
  size_t anchor;       /* index+1 into anchors, 0: none */
  size_t count;        /* nodes created in this subtree so far */
  struct keyset keys;  /* map with many keys */
  bool merge;          /* map: has a << key */
};

struct yparse {
  struct node_arena *a;
  struct diags *d;
  const char *file;
  const char *data;
  size_t len;
  struct frame *stack;
  size_t depth, cap;
  struct anchor *anchors;
  size_t nanchors, capanchors;
  size_t nodes, alias_nodes;
  struct node *root;
  int ndocs;
  bool failed;
};

static size_t
subtree_size (const struct node *n)
{
  if (n == NULL)
    return 0;
  size_t s = 1;
  for (size_t i = 0; i < n->nitems; i++)
    s += subtree_size (n->items[i]);
  for (size_t i = 0; i < n->npairs; i++)
    s += 1 + subtree_size (n->pairs[i].value);
  return s;
}

static const char *
mark_line_start (const struct yparse *p, size_t line0)
{
  const char *s = p->data, *end = p->data + p->len;
  for (size_t l = 0; l < line0 && s < end; l++)
    {
      const char *nl = memchr (s, '\n', (size_t) (end - s));
      if (nl == NULL)
        return NULL;
      s = nl + 1;
    }
  return s < end ? s : NULL;
}

/* Turn libyaml's error into ours, with a readable message for the usual
 * culprits (tabs, truncation). */
static void
report_parser_error (struct yparse *p, const yaml_parser_t *yp)
{
  p->failed = true;
  int line = (int) yp->problem_mark.line + 1, col = (int) yp->problem_mark.column + 1;
  const char *problem = yp->problem ? yp->problem : "unknown error";
  /* a tab in the indentation of the problem line or of the line before */
  for (size_t back = 0; back < 2 && yp->problem_mark.line >= back; back++)
    {
      size_t l0 = yp->problem_mark.line - back;
      const char *s = mark_line_start (p, l0), *end = p->data + p->len;
      if (s == NULL)
        continue;
      for (const char *c = s; c < end && (*c == ' ' || *c == '\t'); c++)
        if (*c == '\t')
          {
            int tl = (int) l0 + 1, tc = (int) (c - s) + 1;
            diag_addp (p->d, DIAG_ERROR, p->file, tl, tc,
                       "tabs are not allowed for indentation, line %d column %d", tl, tc);
            return;
          }
    }
  if (yp->error == YAML_READER_ERROR)
    {
      diag_addp (p->d, DIAG_ERROR, p->file, 0, 0, "not a text file: %s at offset %zu", problem,
                 yp->problem_offset);
      return;
    }
  if (strstr (problem, "end of stream") || yp->problem_mark.index >= p->len)
    {
      diag_addp (p->d, DIAG_ERROR, p->file, line, col,
                 "unexpected end of file (is the file truncated?): %s%s%s", problem,
                 yp->context ? " " : "", yp->context ? yp->context : "");
      return;
    }
  if (yp->context)
    diag_addp (p->d, DIAG_ERROR, p->file, line, col, "YAML syntax error: %s %s (line %d column %d)",
               problem, yp->context, (int) yp->context_mark.line + 1,
               (int) yp->context_mark.column + 1);
  else
    diag_addp (p->d, DIAG_ERROR, p->file, line, col, "YAML syntax error: %s", problem);
}

__attribute__ ((format (printf, 3, 4))) static void
fail_at (struct yparse *p, const yaml_mark_t *m, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  diag_addp (p->d, DIAG_ERROR, p->file, (int) m->line + 1, (int) m->column + 1, "%s", msg);
  p->failed = true;
}

static bool
count_nodes (struct yparse *p, size_t n, const yaml_mark_t *m)
{
  p->nodes += n;
  for (size_t i = 0; i < p->depth; i++)
    p->stack[i].count += n;
  if (p->nodes > YAML_MAX_NODES)
    {
      fail_at (p, m, "the document has more than %d nodes", YAML_MAX_NODES);
      return false;
    }
  return true;
}

/* s, of length n */
static bool
is_null_scalar (const char *s, size_t n)
{
  return n == 0 || (n == 1 && s[0] == '~')
         || (n == 4 && (memcmp (s, "null", 4) == 0 || memcmp (s, "Null", 4) == 0
                        || memcmp (s, "NULL", 4) == 0));
}

/* Tags: the YAML core ones are accepted (!!str makes a scalar a string),
 * and Compose's !reset and !override; anything else is rejected. */
static bool
check_tag (struct yparse *p, const yaml_char_t *tag, const yaml_mark_t *m, bool *quoted,
           int *merge_tag)
{
  if (tag == NULL)
    return true;
  const char *t = (const char *) tag;
  if (strcmp (t, "!reset") == 0 || strcmp (t, "!override") == 0)
    {
      *merge_tag = t[1] == 'r' ? NODE_TAG_RESET : NODE_TAG_OVERRIDE;
      return true;
    }
  static const char core[] = "tag:yaml.org,2002:";
  if (strncmp (t, core, sizeof core - 1) == 0)
    {
      if (strcmp (t + sizeof core - 1, "str") == 0 && quoted)
        *quoted = true;
      return true;
    }
  fail_at (p, m, "YAML tag \"%s\" is not supported", t);
  return false;
}

/* Define (or redefine: the later one is used from here on) an anchor,
 * open until its node ends.  Returns its index. */
static size_t
set_anchor (struct yparse *p, const yaml_char_t *name)
{
  for (size_t i = 0; i < p->nanchors; i++)
    if (strcmp (p->anchors[i].name, (const char *) name) == 0)
      {
        p->anchors[i].node = NULL;
        p->anchors[i].size = 0;
        return i;
      }
  p->anchors = xgrow (p->anchors, &p->capanchors, p->nanchors + 1, sizeof *p->anchors);
  p->anchors[p->nanchors] = (struct anchor){ .name = xstrdup ((const char *) name) };
  return p->nanchors++;
}

static bool
keyset_has (const struct keyset *k, const char *s)
{
  if (k->size == 0)
    return false;
  size_t mask = k->size - 1;
  for (size_t i = str_hash (s) & mask; k->tab[i]; i = (i + 1) & mask)
    if (strcmp (k->tab[i], s) == 0)
      return true;
  return false;
}

static bool
is_merge_key (const struct node *k)
{
  return k->plain && strcmp (k->scalar, "<<") == 0;
}

/* Whether map has the key k (not counting << when explicit_only). */
static bool
map_has (const struct node *map, const char *k, bool explicit_only)
{
  for (size_t i = 0; i < map->npairs; i++)
    {
      const struct node *key = map->pairs[i].key;
      if (key->scalar[0] == k[0] && strcmp (key->scalar, k) == 0
          && !(explicit_only && is_merge_key (key)))
        return true;
    }
  return false;
}

/* The keys of src that map does not give explicitly and no earlier
 * merge gave, onto out: looked up in map and out when small (sets NULL),
 * else in the sets explicit and seen. */
static void
add_merge (struct yparse *p, const struct node *map, const struct keyset *explicit,
           struct keyset *seen, const struct node *src, struct node *out)
{
  for (size_t i = 0; i < src->npairs; i++)
    {
      const char *k = src->pairs[i].key->scalar;
      if (explicit ? keyset_has (explicit, k) || !keyset_add (seen, k)
                   : map_has (map, k, true) || map_has (out, k, false))
        continue;
      node_map_append (p->a, out, src->pairs[i].key, src->pairs[i].value);
    }
}

/* Resolve << in a finished map: merged keys take the place of the <<. */
static void
resolve_merge (struct yparse *p, struct frame *f)
{
  struct node *map = f->node;
  /* built aside and copied over map at the end: only its pairs array need
   * be in the arena */
  struct node outn = { .kind = NODE_MAP, .file = map->file, .line = map->line, .col = map->col };
  struct node *out = &outn;
  struct keyset explicit = { 0 }, seen = { 0 };
  /* the usual merge (a service, an environment) is small: linear
   * lookups then, hash sets beyond */
  size_t total = map->npairs;
  for (size_t i = 0; i < map->npairs; i++)
    if (is_merge_key (map->pairs[i].key))
      {
        const struct node *v = map->pairs[i].value;
        total += v->npairs;
        for (size_t j = 0; j < v->nitems; j++)
          total += v->items[j]->npairs;
      }
  bool small = total <= 32;
  for (size_t i = 0; i < map->npairs && !small; i++)
    if (!is_merge_key (map->pairs[i].key))
      keyset_add (&explicit, map->pairs[i].key->scalar);
  for (size_t i = 0; i < map->npairs; i++)
    {
      struct node_pair *pr = &map->pairs[i];
      if (!is_merge_key (pr->key))
        {
          node_map_append (p->a, out, pr->key, pr->value);
          continue;
        }
      struct node *v = pr->value;
      if (v->kind == NODE_MAP)
        add_merge (p, map, small ? NULL : &explicit, &seen, v, out);
      else if (v->kind == NODE_SEQ)
        {
          for (size_t j = 0; j < v->nitems; j++)
            {
              if (v->items[j]->kind != NODE_MAP)
                {
                  diag_add (p->d, DIAG_ERROR, v->items[j],
                            "merge key \"<<\": item %zu of the list is not a map", j + 1);
                  p->failed = true;
                  continue;
                }
              add_merge (p, map, small ? NULL : &explicit, &seen, v->items[j], out);
            }
        }
      else
        {
          diag_add (p->d, DIAG_ERROR, v, "merge key \"<<\" needs a map or a list of maps");
          p->failed = true;
        }
    }
  free (explicit.tab);
  free (seen.tab);
  out->merge_tag = map->merge_tag;
  *map = *out;
}

/* Attach a finished node to its parent (or make it the root). */
static void
attach (struct yparse *p, struct node *n, const yaml_mark_t *m)
{
  if (p->depth == 0)
    {
      p->root = n;
      return;
    }
  struct frame *f = &p->stack[p->depth - 1];
  if (f->node->kind == NODE_SEQ)
    {
      node_seq_push (p->a, f->node, n);
      return;
    }
  if (f->key == NULL)
    {
      if (n->kind != NODE_SCALAR)
        {
          fail_at (p, m, "a map key must be a string, not a %s",
                   n->kind == NODE_MAP ? "map" : n->kind == NODE_SEQ ? "list" : "null");
          /* keep going with a placeholder so the value is consumed */
          n = node_new (p->a, NODE_SCALAR, n->file, n->line, n->col);
          n->scalar = node_strdup (p->a, "");
        }
      f->key = n;
      return;
    }
  struct node *key = f->key;
  f->key = NULL;
  if (is_merge_key (key))
    {
      if (f->merge)
        {
          diag_add (p->d, DIAG_ERROR, key, "duplicate merge key \"<<\" (use a list of maps)");
          p->failed = true;
          return;
        }
      f->merge = true;
      node_map_append (p->a, f->node, key, n);
      return;
    }
  /* duplicates: a linear scan for small maps, a hash set beyond */
  bool dup = false;
  if (f->node->npairs < 16)
    {
      for (size_t i = 0; i < f->node->npairs && !dup; i++)
        {
          struct node *k = f->node->pairs[i].key;
          dup = !is_merge_key (k) && strcmp (k->scalar, key->scalar) == 0;
        }
      if (!dup && f->node->npairs == 15)
        for (size_t i = 0; i < f->node->npairs; i++)
          if (!is_merge_key (f->node->pairs[i].key))
            keyset_add (&f->keys, f->node->pairs[i].key->scalar);
      if (!dup && f->keys.size)
        keyset_add (&f->keys, key->scalar);
    }
  else
    dup = !keyset_add (&f->keys, key->scalar);
  if (dup)
    {
      const struct node *first = NULL;
      for (size_t i = 0; i < f->node->npairs && !first; i++)
        if (!is_merge_key (f->node->pairs[i].key)
            && strcmp (f->node->pairs[i].key->scalar, key->scalar) == 0)
          first = f->node->pairs[i].key;
      diag_add (p->d, DIAG_ERROR, key, "duplicate key \"%s\" (first defined at line %d column %d)",
                key->scalar, first ? first->line : 0, first ? first->col : 0);
      p->failed = true;
      return;
    }
  node_map_append (p->a, f->node, key, n);
}

static void
push_frame (struct yparse *p, struct node *n)
{
  p->stack = xgrow (p->stack, &p->cap, p->depth + 1, sizeof *p->stack);
  p->stack[p->depth++] = (struct frame){ .node = n };
}

static int
handle_event (struct yparse *p, yaml_event_t *ev)
{
  const yaml_mark_t *m = &ev->start_mark;
  int line = (int) m->line + 1, col = (int) m->column + 1;
  switch (ev->type)
    {
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_NO_EVENT:
      return 0;
    case YAML_DOCUMENT_START_EVENT:
      if (++p->ndocs > 1)
        {
          fail_at (p, m,
                   "a stack file holds one YAML document; a second one starts here (use "
                   "several -f files instead)");
          return -1;
        }
      return 0;
    case YAML_DOCUMENT_END_EVENT:
      return 0;
    case YAML_ALIAS_EVENT:
      {
        const char *name = (const char *) ev->data.alias.anchor;
        struct anchor *an = NULL;
        for (size_t i = 0; i < p->nanchors; i++)
          if (strcmp (p->anchors[i].name, name) == 0)
            an = &p->anchors[i];
        if (an == NULL)
          {
            fail_at (p, m, "unknown anchor \"%s\" (aliases must follow their &%s)", name, name);
            return -1;
          }
        if (an->node == NULL)
          {
            fail_at (p, m, "alias *%s refers to a node that contains it (recursive alias)", name);
            return -1;
          }
        p->alias_nodes += an->size;
        if (p->alias_nodes > STACK_YAML_MAX_ALIAS_NODES)
          {
            fail_at (p, m, "aliases expand to more than %d nodes (an alias bomb?)",
                     STACK_YAML_MAX_ALIAS_NODES);
            return -1;
          }
        if (!count_nodes (p, an->size, m))
          return -1;
        /* the copy's root is placed at the alias (where it is used),
         * its insides where the anchor's node was written */
        struct node *c = node_copy (p->a, an->node);
        c->line = line;
        c->col = col;
        attach (p, c, m);
        return 0;
      }
    case YAML_SCALAR_EVENT:
      {
        if (!count_nodes (p, 1, m))
          return -1;
        bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        int mtag = NODE_TAG_NONE;
        if (!check_tag (p, ev->data.scalar.tag, m, &quoted, &mtag))
          return -1;
        /* the text up to a NUL a \0 escape may have put in it (the fast
         * path's plain scalars point into the file: not NUL-terminated) */
        const char *v = (const char *) ev->data.scalar.value;
        size_t vlen = strnlen (v, ev->data.scalar.length);
        /* a key is never null: "~: x" has the key "~" */
        bool is_key = p->depth > 0 && p->stack[p->depth - 1].node->kind == NODE_MAP
                      && p->stack[p->depth - 1].key == NULL;
        struct node *n;
        if (!quoted && !is_key && is_null_scalar (v, vlen))
          n = node_new (p->a, NODE_NULL, p->file, line, col);
        else
          {
            n = node_new (p->a, NODE_SCALAR, p->file, line, col);
            n->scalar = node_strndup (p->a, v, vlen);
            n->plain = !quoted;
          }
        n->merge_tag = mtag;
        if (mtag != NODE_TAG_NONE)
          node_arena_note_tag (p->a);
        if (ev->data.scalar.anchor)
          {
            size_t ai = set_anchor (p, ev->data.scalar.anchor);
            p->anchors[ai].node = n;
            p->anchors[ai].size = 1;
          }
        attach (p, n, m);
        return 0;
      }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      {
        if (p->depth >= STACK_YAML_MAX_DEPTH)
          {
            fail_at (p, m, "nesting deeper than %d levels", STACK_YAML_MAX_DEPTH);
            return -1;
          }
        if (!count_nodes (p, 1, m))
          return -1;
        bool is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t *tag = is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
        const yaml_char_t *anchor
          = is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        int mtag = NODE_TAG_NONE;
        if (!check_tag (p, tag, m, NULL, &mtag))
          return -1;
        struct node *n = node_new (p->a, is_seq ? NODE_SEQ : NODE_MAP, p->file, line, col);
        n->merge_tag = mtag;
        if (mtag != NODE_TAG_NONE)
          node_arena_note_tag (p->a);
        push_frame (p, n);
        /* count_nodes above counted n in the parents only */
        p->stack[p->depth - 1].count = 1;
        if (anchor)
          p->stack[p->depth - 1].anchor = set_anchor (p, anchor) + 1;
        return 0;
      }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      {
        struct frame f = p->stack[--p->depth];
        if (f.merge)
          resolve_merge (p, &f);
        free (f.keys.tab);
        if (f.anchor)
          {
            p->anchors[f.anchor - 1].node = f.node;
            p->anchors[f.anchor - 1].size = f.merge ? subtree_size (f.node) : f.count;
          }
        attach (p, f.node, m);
        return 0;
      }
    }
  return 0;
}

/* NUL bytes and invalid UTF-8 mean this is no text file. */
static bool
check_text (const char *data, size_t len, size_t *bad, const char **why)
{
  const unsigned char *s = (const unsigned char *) data;
  size_t i = 0;
  while (i < len)
    {
      unsigned char c = s[i];
      if (c == 0)
        {
          *bad = i;
          *why = "a NUL byte";
          return false;
        }
      if (c < 0x80)
        {
          i++;
          continue;
        }
      size_t n;
      uint32_t cp;
      if (c >= 0xc2 && c <= 0xdf)
        n = 1, cp = c & 0x1f;
      else if (c >= 0xe0 && c <= 0xef)
        n = 2, cp = c & 0x0f;
      else if (c >= 0xf0 && c <= 0xf4)
        n = 3, cp = c & 0x07;
      else
        goto bad;
      if (len - i <= n)
        goto bad;
      for (size_t k = 1; k <= n; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            goto bad;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
          || (cp >= 0xd800 && cp <= 0xdfff))
        goto bad;
      i += n + 1;
      continue;
    bad:
      *bad = i;
      *why = "invalid UTF-8";
      return false;
    }
  return true;
}

/* ---- the fast path
 *
 * Stack files mostly use a small part of YAML: block maps and lists
 * indented with spaces, plain and quoted scalars on one line, flow lists
 * and maps on one line, comments, anchors, aliases and merge keys.  For
 * such a file the events libyaml would give are made here straight from
 * the text (several times faster: no token queue, no allocation per
 * event) and go through handle_event as libyaml's do.  At anything else
 * (tabs, carriage returns, scalars over several lines, block scalars,
 * tags, directives, document markers, "?" keys, flow collections over
 * several lines...) and at any error, the fast path gives up, its work is
 * dropped, and libyaml parses the file from the start: every error
 * message and every unusual construct is libyaml's.  tests/unit/test-yaml
 * and fuzz/fuzz-yaml compare the two paths. */

struct fmark {
  size_t line, col;            /* 0-based, as libyaml's marks */
};

struct fastp {
  struct yparse *p;
  const char *end;             /* of the input */
  const char *ls, *le;         /* the current line: its start, its end ('\n' or end) */
  size_t line;                 /* 0-based number of the current line */
  bool high;                   /* the current line has non-ASCII characters */
  const char *mpos;            /* on such a line, the last place whose */
  size_t mcol;                 /* column fp_mark counted */
  struct buf text;             /* the current scalar, NUL-terminated */
  char anchor[128];            /* the current anchor or alias name */
};

#define TRY(x)                                  \
  do                                            \
    {                                           \
      if (!(x))                                 \
        return false;                           \
    }                                           \
  while (0)

/* Make the line starting at s current: find its end and check that every
 * character is one the fast path knows (printable ASCII but tab, or
 * non-ASCII that libyaml reads as an ordinary character). */
static bool
fp_line (struct fastp *f, const char *s)
{
  const unsigned char *u = (const unsigned char *) s, *end = (const unsigned char *) f->end;
  bool high = false;
  f->ls = s;
  for (; u < end && *u != '\n'; u++)
    {
      /* eight characters at a time while none is below 0x20 (line feed
       * among them) or above 0x7e */
      const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
      uint64_t w;
      while (end - u >= 8 && (memcpy (&w, u, 8),
                              !(((w - 0x20 * ones) & ~w) & highs) && !((w | (w + ones)) & highs)))
        u += 8;
      if (u == end || *u == '\n')
        break;
      if (*u >= 0x20 && *u < 0x7f)
        continue;
      if (*u < 0x80)
        return false;          /* tab, carriage return, other controls, DEL */
      high = true;
      /* valid UTF-8 (check_text): reject U+0080..U+009F (NEL among
       * them), U+2028, U+2029 (line breaks), U+FEFF, U+FFFE, U+FFFF */
      if (*u == 0xc2 && u[1] < 0xa0)
        return false;
      if (*u == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9))
        return false;
      if (*u == 0xef && ((u[1] == 0xbb && u[2] == 0xbf) || (u[1] == 0xbf && u[2] >= 0xbe)))
        return false;
    }
  f->le = (const char *) u;
  f->high = high;
  f->mpos = s;
  f->mcol = 0;
  /* directives and document markers */
  size_t n = (size_t) (f->le - s);
  if (n && (s[0] == '%' || (n >= 3 && (memcmp (s, "---", 3) == 0 || memcmp (s, "...", 3) == 0))))
    return false;
  return true;
}

/* The mark of q on the current line: libyaml counts characters, not
 * bytes (counted on from the last mark: one pass over a long line) */
static struct fmark
fp_mark (struct fastp *f, const char *q)
{
  struct fmark m = { f->line, (size_t) (q - f->ls) };
  if (f->high)
    {
      if (q < f->mpos)
        f->mpos = f->ls, f->mcol = 0;
      for (; f->mpos < q; f->mpos++)
        f->mcol += ((unsigned char) *f->mpos & 0xc0) != 0x80;
      m.col = f->mcol;
    }
  return m;
}

/* The first content line from the line starting at s (blank and comment
 * lines skipped) becomes current; *at: its first non-space character, or
 * NULL at the end of the input. */
static bool
fp_content (struct fastp *f, const char *s, const char **at)
{
  while (s < f->end)
    {
      TRY (fp_line (f, s));
      const char *q = s;
      while (q < f->le && *q == ' ')
        q++;
      if (q < f->le && *q != '#')
        {
          *at = q;
          return true;
        }
      if (f->le == f->end)
        break;
      s = f->le + 1;
      f->line++;
    }
  *at = NULL;
  return true;
}

/* The next content line after the current one. */
static bool
fp_next (struct fastp *f, const char **at)
{
  if (f->le == f->end)
    {
      *at = NULL;
      return true;
    }
  f->line++;
  return fp_content (f, f->le + 1, at);
}

/* After a value ending at q: spaces, then the end of the line or a
 * comment (a "#" after a space). */
static bool
fp_eol (const struct fastp *f, const char *q)
{
  const char *r = q;
  while (r < f->le && *r == ' ')
    r++;
  return r == f->le || (*r == '#' && r > q);
}

static bool
fp_emit (struct fastp *f, yaml_event_t *ev, struct fmark m)
{
  ev->start_mark.line = m.line;
  ev->start_mark.column = m.col;
  ev->end_mark = ev->start_mark;
  return handle_event (f->p, ev) == 0 && !f->p->failed;
}

static bool
fp_start (struct fastp *f, bool map, struct fmark m, const char *anchor)
{
  yaml_event_t ev;
  memset (&ev, 0, sizeof ev);
  ev.type = map ? YAML_MAPPING_START_EVENT : YAML_SEQUENCE_START_EVENT;
  if (map)
    ev.data.mapping_start.anchor = (yaml_char_t *) anchor;
  else
    ev.data.sequence_start.anchor = (yaml_char_t *) anchor;
  return fp_emit (f, &ev, m);
}

static bool
fp_end (struct fastp *f, bool map, struct fmark m)
{
  yaml_event_t ev;
  memset (&ev, 0, sizeof ev);
  ev.type = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
  return fp_emit (f, &ev, m);
}

/* A scalar event for the text s, of length n. */
static bool
fp_scalar (struct fastp *f, struct fmark m, const char *s, size_t n, bool plain,
           const char *anchor)
{
  yaml_event_t ev;
  memset (&ev, 0, sizeof ev);
  ev.type = YAML_SCALAR_EVENT;
  ev.data.scalar.value = (yaml_char_t *) s;
  ev.data.scalar.length = n;
  ev.data.scalar.style = plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  ev.data.scalar.anchor = (yaml_char_t *) anchor;
  return fp_emit (f, &ev, m);
}

static bool
fp_empty (struct fastp *f, struct fmark m)
{
  return fp_scalar (f, m, "", 0, true, NULL);
}

/* The text of the last quoted scalar. */
#define FP_QTEXT(f) ((f)->text.data ? (f)->text.data : ""), (f)->text.len

/* An anchor or alias name after its "&" or "*" at q, into f->anchor;
 * *endp after it. */
static bool
fp_name (struct fastp *f, const char *q, const char **endp)
{
  const char *r = q + 1;
  while (r < f->le && (isalnum ((unsigned char) *r) || *r == '_' || *r == '-'))
    r++;
  size_t n = (size_t) (r - q - 1);
  if (n == 0 || n >= sizeof f->anchor)
    return false;
  memcpy (f->anchor, q + 1, n);
  f->anchor[n] = '\0';
  *endp = r;
  return true;
}

enum fp_stop { FP_EOL, FP_COMMENT, FP_COLON, FP_FLOW };

/* A plain scalar at q on the current line (in a flow collection when
 * flow): *lastp after its last character (trailing spaces are not part
 * of it), *stopp where it stops, *why why. */
static bool
fp_plain (struct fastp *f, const char *q, bool flow, const char **lastp, const char **stopp,
          enum fp_stop *why)
{
  const char *le = f->le, *r = q, *last = q;
  unsigned char c = (unsigned char) *q;
  /* what cannot start a plain scalar ("-" can, before a character that
   * is not a blank; the fast path takes only the usual ones) */
  if (strchr ("?:,[]{}#&*!|>'\"%@` ", c))
    return false;
  if (c == '-' && !(q + 1 < le && (isalnum ((unsigned char) q[1]) || q[1] == '-' || q[1] == '.')))
    return false;
  *why = FP_EOL;
  while (r < le)
    {
      c = (unsigned char) *r;
      if (c == ' ')
        {
          const char *s = r;
          while (s < le && *s == ' ')
            s++;
          if (s < le && *s == '#')
            {
              if (flow)
                return false;
              *why = FP_COMMENT;
              break;
            }
          r = s;
          continue;
        }
      if (c == ':')
        {
          if (r + 1 == le || r[1] == ' ')
            {
              *why = FP_COLON;
              break;
            }
          if (flow)
            return false;      /* ':' in a flow scalar: libyaml versions differ */
        }
      else if (flow && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}'))
        {
          *why = FP_FLOW;
          break;
        }
      else if (flow && c == '?')
        return false;
      last = ++r;
    }
  *stopp = r;
  *lastp = last;
  return true;
}

static int
hexval (int c)
{
  return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
add_utf8 (struct buf *b, uint32_t cp)
{
  char u[4];
  size_t n;
  if (cp < 0x80)
    u[0] = (char) cp, n = 1;
  else if (cp < 0x800)
    u[0] = (char) (0xc0 | cp >> 6), u[1] = (char) (0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    u[0] = (char) (0xe0 | cp >> 12), u[1] = (char) (0x80 | ((cp >> 6) & 0x3f)),
    u[2] = (char) (0x80 | (cp & 0x3f)), n = 3;
  else
    u[0] = (char) (0xf0 | cp >> 18), u[1] = (char) (0x80 | ((cp >> 12) & 0x3f)),
    u[2] = (char) (0x80 | ((cp >> 6) & 0x3f)), u[3] = (char) (0x80 | (cp & 0x3f)), n = 4;
  buf_add (b, u, n);
}

/* A quoted scalar at q (its quote), closed on the same line, into
 * f->text; *endp after the closing quote. */
static bool
fp_quoted (struct fastp *f, const char *q, const char **endp)
{
  const char *le = f->le, *r = q + 1;
  buf_reset (&f->text);
  if (*q == '\'')
    for (;;)
      {
        const char *e = memchr (r, '\'', (size_t) (le - r));
        if (e == NULL)
          return false;
        buf_add (&f->text, r, (size_t) (e - r));
        if (e + 1 < le && e[1] == '\'')
          {
            buf_addc (&f->text, '\'');
            r = e + 2;
            continue;
          }
        *endp = e + 1;
        return true;
      }
  for (;;)
    {
      const char *e = r;
      while (e < le && *e != '"' && *e != '\\')
        e++;
      if (e == le)
        return false;
      buf_add (&f->text, r, (size_t) (e - r));
      if (*e == '"')
        {
          *endp = e + 1;
          return true;
        }
      if (e + 1 == le)
        return false;          /* a line continuation */
      static const char simple[] = "abtnvfre \"\\N_LP";
      static const uint32_t value[] = { 7, 8, 9, 10, 11, 12, 13, 27, ' ', '"', '\\',
                                        0x85, 0xa0, 0x2028, 0x2029 };
      const char *k = strchr (simple, e[1]);
      r = e + 2;
      if (k && e[1])
        {
          add_utf8 (&f->text, value[k - simple]);
          continue;
        }
      int ndig = e[1] == 'x' ? 2 : e[1] == 'u' ? 4 : e[1] == 'U' ? 8 : 0;
      if (ndig == 0 || le - r < ndig)
        return false;
      uint32_t cp = 0;
      for (int i = 0; i < ndig; i++)
        {
          int h = hexval ((unsigned char) r[i]);
          if (h < 0)
            return false;
          cp = cp << 4 | (uint32_t) h;
        }
      if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return false;
      add_utf8 (&f->text, cp);
      r += ndig;
    }
}

/* A key at q: a plain or quoted scalar followed by ':' and a blank on
 * the line; its event, and *colonp at the ':'. */
static bool
fp_key (struct fastp *f, const char *q, const char **colonp)
{
  const char *r, *last = NULL;
  bool plain = *q != '"' && *q != '\'';
  if (plain)
    {
      enum fp_stop why;
      TRY (fp_plain (f, q, false, &last, &r, &why));
      if (why != FP_COLON)
        return false;
    }
  else
    {
      TRY (fp_quoted (f, q, &r));
      while (r < f->le && *r == ' ')
        r++;
      if (!(r < f->le && *r == ':' && (r + 1 == f->le || r[1] == ' ')))
        return false;
    }
  /* libyaml looks for the ':' of a simple key 1024 characters at most */
  if (r - q > 1000)
    return false;
  *colonp = r;
  if (plain)
    return fp_scalar (f, fp_mark (f, q), q, (size_t) (last - q), true, NULL);
  return fp_scalar (f, fp_mark (f, q), FP_QTEXT (f), false, NULL);
}

/* Whether a key starts at q (a compact map in a list: "- key: value"). */
static bool
fp_is_key (struct fastp *f, const char *q)
{
  const char *r, *last;
  enum fp_stop why;
  if (*q == '"' || *q == '\'')
    {
      if (!fp_quoted (f, q, &r))
        return false;
      while (r < f->le && *r == ' ')
        r++;
      return r < f->le && *r == ':';
    }
  return fp_plain (f, q, false, &last, &r, &why) && why == FP_COLON;
}

/* A flow list or map at *qp ('[' or '{') closed on the same line; *qp
 * after it. */
static bool
fp_flow (struct fastp *f, const char **qp, struct fmark m, const char *anchor)
{
  const char *q = *qp, *le = f->le;
  bool map = *q == '{';
  char close = map ? '}' : ']';
  TRY (fp_start (f, map, m, anchor));
  for (q++; q < le && *q == ' '; q++)
    ;
  if (q < le && *q == close)
    q++;
  else
    for (;;)
      {
        for (int part = map ? 0 : 1; part < 2; part++)
          {
            /* part 0: a map's key, part 1: a value */
            const char *r;
            if (q >= le)
              return false;
            struct fmark vm = fp_mark (f, q);
            if (part == 1 && (*q == '[' || *q == '{'))
              {
                TRY (fp_flow (f, &q, vm, NULL));
                r = q;
              }
            else if (part == 1 && *q == '*')
              {
                yaml_event_t ev;
                TRY (fp_name (f, q, &r));
                if (!(r < le && (*r == ' ' || *r == ',' || *r == close)))
                  return false;
                memset (&ev, 0, sizeof ev);
                ev.type = YAML_ALIAS_EVENT;
                ev.data.alias.anchor = (yaml_char_t *) f->anchor;
                TRY (fp_emit (f, &ev, vm));
              }
            else if (*q == '"' || *q == '\'')
              {
                TRY (fp_quoted (f, q, &r));
                TRY (fp_scalar (f, vm, FP_QTEXT (f), false, NULL));
              }
            else
              {
                enum fp_stop why;
                const char *last;
                TRY (fp_plain (f, q, true, &last, &r, &why));
                if (why == FP_EOL)
                  return false;
                TRY (fp_scalar (f, vm, q, (size_t) (last - q), true, NULL));
              }
            while (r < le && *r == ' ')
              r++;
            if (part == 0)
              {
                if (!(r + 1 < le && *r == ':' && r[1] == ' '))
                  return false;
                for (r += 2; r < le && *r == ' '; r++)
                  ;
              }
            q = r;
          }
        if (q < le && *q == close)
          {
            q++;
            break;
          }
        if (!(q < le && *q == ','))
          return false;
        for (q++; q < le && *q == ' '; q++)
          ;
        if (q < le && *q == close)
          return false;        /* a trailing comma */
      }
  *qp = q;
  return fp_end (f, map, fp_mark (f, q - 1));
}

static bool fp_block (struct fastp *f, const char *q, const char *anchor, struct fmark am,
                      bool indentless, const char **next);

/* The value of a key or a "-" that has nothing more on its line: a block
 * collection on the lines below, or null.  col: the column of the map or
 * list; in_map: of a map (a list at col is its value). */
static bool
fp_below (struct fastp *f, size_t col, bool in_map, struct fmark empty, const char *anchor,
          struct fmark am, const char **next)
{
  const char *n;
  TRY (fp_next (f, &n));
  size_t ncol = n ? (size_t) (n - f->ls) : 0;
  if (n && ncol > col)
    return fp_block (f, n, anchor, am, false, next);
  if (n && in_map && ncol == col && *n == '-' && (n + 1 == f->le || n[1] == ' '))
    return fp_block (f, n, anchor, am, true, next);
  if (anchor)
    return false;              /* an anchored null */
  *next = n;
  return fp_empty (f, empty);
}

/* A value after a key's ':' or a list's "-", at q on the current line
 * (not a compact map); col and in_map as for fp_below. */
static bool
fp_inline (struct fastp *f, const char *q, size_t col, bool in_map, const char **next)
{
  const char *anchor = NULL, *r;
  struct fmark m = fp_mark (f, q);
  char aname[sizeof f->anchor];
  if (*q == '&')
    {
      TRY (fp_name (f, q, &r));
      if (r == f->le)
        {
          memcpy (aname, f->anchor, sizeof aname);
          return fp_below (f, col, in_map, m, aname, m, next);
        }
      if (*r != ' ')
        return false;
      while (r < f->le && *r == ' ')
        r++;
      if (r == f->le || *r == '#' || *r == '*' || *r == '&')
        return false;
      memcpy (aname, f->anchor, sizeof aname);
      anchor = aname;
      q = r;
    }
  if (*q == '*')
    {
      yaml_event_t ev;
      TRY (fp_name (f, q, &r));
      TRY (fp_eol (f, r));
      memset (&ev, 0, sizeof ev);
      ev.type = YAML_ALIAS_EVENT;
      ev.data.alias.anchor = (yaml_char_t *) f->anchor;
      TRY (fp_emit (f, &ev, m));
    }
  else if (*q == '[' || *q == '{')
    {
      r = q;
      TRY (fp_flow (f, &r, m, anchor));
      TRY (fp_eol (f, r));
    }
  else if (*q == '"' || *q == '\'')
    {
      TRY (fp_quoted (f, q, &r));
      TRY (fp_eol (f, r));
      TRY (fp_scalar (f, m, FP_QTEXT (f), false, anchor));
    }
  else
    {
      enum fp_stop why;
      const char *last;
      TRY (fp_plain (f, q, false, &last, &r, &why));
      if (why != FP_EOL && why != FP_COMMENT)
        return false;
      TRY (fp_scalar (f, m, q, (size_t) (last - q), true, anchor));
    }
  /* a more indented line below would continue a plain scalar (or be an
   * error) */
  TRY (fp_next (f, next));
  return *next == NULL || (size_t) (*next - f->ls) <= col;
}

/* A block map whose first key is at q, at column col. */
static bool
fp_map (struct fastp *f, const char *q, size_t col, const char *anchor, struct fmark am,
        const char **next)
{
  TRY (fp_start (f, true, anchor ? am : fp_mark (f, q), anchor));
  for (;;)
    {
      const char *colon, *v, *n;
      TRY (fp_key (f, q, &colon));
      for (v = colon + 1; v < f->le && *v == ' '; v++)
        ;
      if (v == f->le || *v == '#')
        TRY (fp_below (f, col, true, fp_mark (f, colon + 1), NULL, am, &n));
      else
        TRY (fp_inline (f, v, col, true, &n));
      if (n == NULL || (size_t) (n - f->ls) < col)
        {
          *next = n;
          break;
        }
      if ((size_t) (n - f->ls) > col)
        return false;
      q = n;
    }
  return fp_end (f, true, fp_mark (f, f->ls));
}

/* A block list whose first "-" is at q; indentless: the value of a key
 * at the same column (a line at that column that is no "-" ends it). */
static bool
fp_seq (struct fastp *f, const char *q, const char *anchor, struct fmark am, bool indentless,
        const char **next)
{
  size_t col = (size_t) (q - f->ls);
  TRY (fp_start (f, false, anchor ? am : fp_mark (f, q), anchor));
  for (;;)
    {
      const char *v, *n;
      for (v = q + 1; v < f->le && *v == ' '; v++)
        ;
      if (v == f->le || *v == '#')
        TRY (fp_below (f, col, false, fp_mark (f, q + 1), NULL, am, &n));
      else if (*v == '-' && (v + 1 == f->le || v[1] == ' '))
        return false;          /* "- - x" */
      else if (fp_is_key (f, v))
        TRY (fp_map (f, v, (size_t) (v - f->ls), NULL, am, &n));
      else
        TRY (fp_inline (f, v, col, false, &n));
      if (n == NULL || (size_t) (n - f->ls) < col)
        {
          *next = n;
          break;
        }
      if ((size_t) (n - f->ls) > col)
        return false;
      if (!(*n == '-' && (n + 1 == f->le || n[1] == ' ')))
        {
          if (!indentless)
            return false;
          *next = n;
          break;
        }
      q = n;
    }
  return fp_end (f, false, fp_mark (f, f->ls));
}

/* A block map or list starting at q (the first content of its line). */
static bool
fp_block (struct fastp *f, const char *q, const char *anchor, struct fmark am, bool indentless,
          const char **next)
{
  if (*q == '-' && (q + 1 == f->le || q[1] == ' '))
    return fp_seq (f, q, anchor, am, indentless, next);
  return fp_map (f, q, (size_t) (q - f->ls), anchor, am, next);
}

/* The whole document; false: use libyaml. */
static bool
fast_parse (struct yparse *p)
{
  struct fastp f = { .p = p, .end = p->data + p->len };
  yaml_event_t ev;
  const char *q, *next;
  bool ok = fp_content (&f, p->data, &q) && q != NULL;
  struct fmark m0 = { 0, 0 };
  memset (&ev, 0, sizeof ev);
  ev.type = YAML_STREAM_START_EVENT;
  ok = ok && fp_emit (&f, &ev, m0);
  ev.type = YAML_DOCUMENT_START_EVENT;
  ok = ok && fp_emit (&f, &ev, m0);
  ok = ok && fp_block (&f, q, NULL, m0, false, &next) && next == NULL;
  ev.type = YAML_DOCUMENT_END_EVENT;
  ok = ok && fp_emit (&f, &ev, m0);
  ev.type = YAML_STREAM_END_EVENT;
  ok = ok && fp_emit (&f, &ev, m0);
  buf_free (&f.text);
  return ok;
}

#undef TRY

/* Drop what a parse did (the fast path gave up): its state and its
 * diagnostics. */
static void
yparse_reset (struct yparse *p, size_t ndiags)
{
  for (size_t i = 0; i < p->depth; i++)
    free (p->stack[i].keys.tab);
  for (size_t i = 0; i < p->nanchors; i++)
    free (p->anchors[i].name);
  p->depth = p->nanchors = p->nodes = p->alias_nodes = 0;
  p->root = NULL;
  p->ndocs = 0;
  p->failed = false;
  struct diags *d = p->d;
  while (d->n > ndiags)
    {
      struct diag *g = &d->v[--d->n];
      if (g->severity == DIAG_ERROR)
        d->nerrors--;
      else if (g->severity == DIAG_WARNING)
        d->nwarnings--;
      free (g->msg);
    }
}

/* The file through libyaml. */
static void
libyaml_parse (struct yparse *p)
{
  __attribute__ ((cleanup (cleanup_yaml_parser))) yaml_parser_t yp;
  if (!yaml_parser_initialize (&yp))
    oom ();
  yaml_parser_set_input_string (&yp, (const unsigned char *) p->data, p->len);
  yaml_parser_set_encoding (&yp, YAML_UTF8_ENCODING);
  for (;;)
    {
      __attribute__ ((cleanup (cleanup_yaml_event))) yaml_event_t ev;
      if (!yaml_parser_parse (&yp, &ev))
        {
          if (yp.error == YAML_MEMORY_ERROR)
            oom ();
          report_parser_error (p, &yp);
          memset (&ev, 0, sizeof ev);
          break;
        }
      int r = handle_event (p, &ev);
      bool end = ev.type == YAML_STREAM_END_EVENT;
      if (r < 0 || end)
        break;
    }
}

struct node *
stack_yaml_parse_mode (struct node_arena *a, const char *file, const char *data, size_t len,
                       struct diags *d, enum stack_yaml_mode mode)
{
  file = node_intern (a, file);
  if (len > STACK_YAML_MAX_BYTES)
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "file is %zu MB; stack files are limited to %u MiB",
                 (len + (1u << 20) - 1) >> 20, STACK_YAML_MAX_BYTES >> 20);
      return NULL;
    }
  size_t bad;
  const char *why;
  if (!check_text (data, len, &bad, &why))
    {
      /* line and column of the offset, for editors */
      int line = 1, col = 1;
      for (size_t i = 0; i < bad; i++)
        if (data[i] == '\n')
          line++, col = 1;
        else if (((unsigned char) data[i] & 0xc0) != 0x80)
          col++;
      diag_addp (d, DIAG_ERROR, file, line, col, "not a text file: %s at offset %zu", why, bad);
      return NULL;
    }

  struct yparse p = { .a = a, .d = d, .file = file, .data = data, .len = len };
  size_t ndiags = d->n;
  bool fast = false;
  if (mode != STACK_YAML_LIBYAML)
    {
      struct node_arena_mark am;
      node_arena_mark (a, &am);
      fast = fast_parse (&p) && !p.failed && d->n == ndiags;
      if (!fast)
        {
          yparse_reset (&p, ndiags);
          node_arena_release (a, &am);
        }
    }
  if (!fast && mode != STACK_YAML_FAST)
    libyaml_parse (&p);
  for (size_t i = 0; i < p.depth; i++)
    free (p.stack[i].keys.tab);
  free (p.stack);
  for (size_t i = 0; i < p.nanchors; i++)
    free (p.anchors[i].name);
  free (p.anchors);
  if (p.failed || (!fast && mode == STACK_YAML_FAST))
    return NULL;
  if (p.root == NULL)
    return node_new (a, NODE_NULL, file, 1, 1);
  return p.root;
}

struct node *
stack_yaml_parse (struct node_arena *a, const char *file, const char *data, size_t len,
                  struct diags *d)
{
  return stack_yaml_parse_mode (a, file, data, len, d, STACK_YAML_AUTO);
}

struct node *
stack_yaml_load (struct node_arena *a, const char *path, struct diags *d)
{
  const char *file = node_intern (a, path);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "cannot open: %s", strerror (errno));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "cannot read: %s", strerror (errno));
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "is a directory, not a stack file");
      return NULL;
    }
  if (S_ISREG (st.st_mode) && (uintmax_t) st.st_size > STACK_YAML_MAX_BYTES)
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "file is %ju MB; stack files are limited to %u MiB",
                 ((uintmax_t) st.st_size + (1u << 20) - 1) >> 20, STACK_YAML_MAX_BYTES >> 20);
      return NULL;
    }
  /* read at most the limit + 1 (a pipe or a growing file) */
  cleanup_buf struct buf b = { 0 };
  char chunk[65536];
  for (;;)
    {
      ssize_t r = read (fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          diag_addp (d, DIAG_ERROR, file, 0, 0, "cannot read: %s", strerror (errno));
          return NULL;
        }
      if (r == 0)
        break;
      buf_add (&b, chunk, (size_t) r);
      if (b.len > STACK_YAML_MAX_BYTES)
        break;
    }
  return stack_yaml_parse (a, file, b.data ? b.data : "", b.len, d);
}
