/* node.h - the stack loader's internal document tree (not for use outside
 * src/stack/: other modules see only stack.h).
 *
 * The YAML layer (yaml.c) turns a file into this tree with anchors,
 * aliases and merge keys resolved; the file layer (files.c) applies
 * interpolation, extends, include, -f overrides and relative-path
 * resolution on trees; the model layer (model.c) turns the final tree into
 * `struct stack` (stack.h), checking keys and types.
 *
 * Every node keeps where it came from (file, line, column; 1-based) so any
 * layer can report an error at the right place.  Nodes are owned by the
 * arena they were allocated from (struct node_arena); nothing is freed
 * node by node.  Aliases are expanded into copies (bounded: see yaml.c).
 */
#ifndef ITM_STACK_NODE_H
#define ITM_STACK_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum node_kind {
  NODE_NULL,     /* ~, null, empty value */
  NODE_SCALAR,
  NODE_SEQ,
  NODE_MAP,
};

struct node;
struct node_pair {
  struct node *key;    /* always NODE_SCALAR */
  struct node *value;
};

struct node {
  const char *file;    /* interned path of the file it came from */
  /* NODE_SCALAR: the text (plainness below) */
  char *scalar;
  /* NODE_SEQ: items; NODE_MAP: pairs in document order, keys unique */
  struct node **items;
  struct node_pair *pairs;
  int line, col;
  uint32_t nitems, npairs;     /* at most YAML's node limit (yaml.c) */
  /* capacities of items and pairs (node.c's growth; 0 = exactly n, grow
   * by copying on the next push) */
  uint32_t capitems, cappairs;
  enum node_kind kind : 8;
  /* NODE_SCALAR: whether it was plain (unquoted): a plain `true`, `10`
   * or `null` may be read as a bool, number or null by the model layer;
   * a quoted one is always a string. */
  bool plain;
  /* Compose's merge tags, for override files: !reset drops the key from
   * what came before (and from the final tree), !override replaces the
   * value instead of merging it.  Consumed by files.c. */
  enum { NODE_TAG_NONE, NODE_TAG_RESET, NODE_TAG_OVERRIDE } merge_tag : 8;
};

struct node_arena;   /* opaque; a chunked allocator */
struct node_arena *node_arena_new (void);
void node_arena_free (struct node_arena *a);
/* Free everything allocated from a since the mark (no node or string from
 * that time may be used after). */
struct node_arena_mark {
  void *chunk, *next;
  size_t used;
};
void node_arena_mark (struct node_arena *a, struct node_arena_mark *m);
void node_arena_release (struct node_arena *a, const struct node_arena_mark *m);
/* yaml.c notes each merge tag it reads: without any, there is no !reset
 * for files.c to strip. */
void node_arena_note_tag (struct node_arena *a);
bool node_arena_tagged (const struct node_arena *a);
struct node *node_new (struct node_arena *a, enum node_kind kind, const char *file, int line,
                       int col);
char *node_strdup (struct node_arena *a, const char *s);
char *node_strndup (struct node_arena *a, const char *s, size_t n); /* n bytes, then NUL */
const char *node_intern (struct node_arena *a, const char *path);
struct node *node_copy (struct node_arena *a, const struct node *n); /* deep copy */
void node_seq_push (struct node_arena *a, struct node *seq, struct node *item);
/* Append or replace key in map (replacing keeps the position). */
void node_map_set (struct node_arena *a, struct node *map, struct node *key, struct node *value);
/* Append without looking for key (the caller knows it is not there). */
void node_map_append (struct node_arena *a, struct node *map, struct node *key, struct node *value);
struct node *node_map_get (const struct node *map, const char *key);
bool node_map_del (struct node *map, const char *key);
/* The same tree: kinds, text, plainness, merge tags, places, keys and
 * items in the same order (for the tests). */
bool node_identical (const struct node *x, const struct node *y);

/* Diagnostics: every error and warning of a load, with its place.  A load
 * goes on after an error where it can, so all errors of a file are
 * reported, not only the first. */
enum diag_severity { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };
struct diag {
  enum diag_severity severity;
  const char *file;    /* may be NULL (command line, environment) */
  int line, col;       /* 0 when unknown */
  char *msg;           /* "services.db.ports[0]: expected ... , got ..." */
};
struct diags {
  struct diag *v;
  size_t n, cap;
  size_t nerrors, nwarnings;
  bool no_file;        /* no -f and no default stack file found */
};
void diag_add (struct diags *d, enum diag_severity sev, const struct node *at, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));
void diag_addp (struct diags *d, enum diag_severity sev, const char *file, int line, int col,
                const char *fmt, ...) __attribute__ ((format (printf, 6, 7)));
/* "FILE:LINE:COL: error: MSG" lines, in order. */
void diags_print (const struct diags *d, FILE *out);
void diags_free (struct diags *d);

#endif
