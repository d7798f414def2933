/* test-yaml.c - the YAML layer: tree shape, places, anchors and merge
 * keys, and hostile input (each with its message, in bounded time). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stack/files.h"
#include "tap.h"
#include "util/xalloc.h"

static struct node_arena *arena;
static struct diags d;

static struct node *
parse (const char *text)
{
  diags_free (&d);
  return stack_yaml_parse (arena, "t.yaml", text, strlen (text), &d);
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The first error's message contains want; report its place. */
static bool
has_error (const char *want, int line, int col, const char *what)
{
  const struct diag *g = d.n ? &d.v[0] : NULL;
  bool ok = g && g->severity == DIAG_ERROR && strstr (g->msg, want) != NULL;
  tap_ok (ok, "%s: error '%s'", what, want);
  if (!ok)
    diags_print (&d, stdout);
  if (ok && line)
    {
      tap_is_int (g->line, line, "%s: error line", what);
      tap_is_int (g->col, col, "%s: error column", what);
    }
  return ok;
}

static const char *
sget (const struct node *m, const char *path)
{
  /* "a.b.c" through maps */
  char buf[256];
  snprintf (buf, sizeof buf, "%s", path);
  const struct node *n = m;
  for (char *tok = strtok (buf, "."); tok && n; tok = strtok (NULL, "."))
    n = node_map_get (n, tok);
  return n && n->kind == NODE_SCALAR ? n->scalar : n && n->kind == NODE_NULL ? "(null)" : NULL;
}

static void
test_basic (void)
{
  struct node *r = parse ("services:\n  web:\n    image: \"busybox\"\n    init: true\n"
                          "    a: ~\n    b: null\n    c:\n    e: ''\n    f: 'null'\n"
                          "x-ext: {k: v}\n");
  tap_ok (r && r->kind == NODE_MAP, "basic: a map");
  struct node *img = node_map_get (node_map_get (node_map_get (r, "services"), "web"), "image");
  tap_ok (img && img->kind == NODE_SCALAR && !img->plain, "quoted scalar is not plain");
  tap_is_int (img ? img->line : 0, 3, "image line");
  tap_is_int (img ? img->col : 0, 12, "image column");
  struct node *web = node_map_get (node_map_get (r, "services"), "web");
  struct node *init = node_map_get (web, "init");
  tap_ok (init && init->plain && strcmp (init->scalar, "true") == 0, "plain scalar");
  tap_is_int (node_map_get (web, "a")->kind, NODE_NULL, "~ is null");
  tap_is_int (node_map_get (web, "b")->kind, NODE_NULL, "null is null");
  tap_is_int (node_map_get (web, "c")->kind, NODE_NULL, "empty is null");
  tap_is_int (node_map_get (web, "e")->kind, NODE_SCALAR, "'' is a string");
  tap_is_int (node_map_get (web, "f")->kind, NODE_SCALAR, "'null' is a string");
  tap_is_str (sget (r, "x-ext.k"), "v", "x- keys are kept");
  tap_is_str (r->file, "t.yaml", "file name");
  struct node *e = parse ("");
  tap_ok (e && e->kind == NODE_NULL, "empty document: null root");
  e = parse ("# only a comment\n");
  tap_ok (e && e->kind == NODE_NULL, "comment-only document: null root");
  e = parse ("a: !!str 10\nb: !!int 10\n");
  tap_ok (e && !node_map_get (e, "a")->plain && node_map_get (e, "b")->plain, "!!str tag quotes");
}

static void
test_anchors (void)
{
  struct node *r = parse ("x-base: &base\n  image: busybox\n  environment:\n    A: 1\n"
                          "services:\n  a: *base\n  b:\n    <<: *base\n    image: other\n"
                          "  c:\n    image: &img alpine\n    hostname: *img\n");
  tap_ok (r != NULL, "anchors parse");
  if (r == NULL)
    {
      diags_print (&d, stdout);
      return;
    }
  tap_is_str (sget (r, "services.a.image"), "busybox", "alias copies the map");
  tap_is_str (sget (r, "services.b.image"), "other", "explicit key wins over merged");
  tap_is_str (sget (r, "services.b.environment.A"), "1", "merged key present");
  tap_is_str (sget (r, "services.c.hostname"), "alpine", "scalar alias");
  struct node *a = node_map_get (node_map_get (r, "services"), "a");
  struct node *base = node_map_get (r, "x-base");
  tap_ok (a != base, "alias is a copy, not shared");
  struct node *b = node_map_get (node_map_get (r, "services"), "b");
  tap_ok (node_map_get (b, "<<") == NULL, "<< key removed");
  tap_is_int (b->npairs, 2, "b has image and environment");

  r = parse ("x-1: &one {a: 1, b: 1}\nx-2: &two {b: 2, c: 2}\n"
             "m:\n  <<: [*one, *two]\n  c: 3\n");
  tap_ok (r != NULL, "merge list parses");
  tap_is_str (sget (r, "m.a"), "1", "merge list: a from the first");
  tap_is_str (sget (r, "m.b"), "1", "merge list: earlier map wins");
  tap_is_str (sget (r, "m.c"), "3", "merge list: explicit wins");

  r = parse ("m:\n  c: 3\n  <<: {c: 4, d: 5}\n");
  tap_is_str (sget (r, "m.c"), "3", "explicit key before << still wins");
  tap_is_str (sget (r, "m.d"), "5", "inline merge map");

  r = parse ("m:\n  \"<<\": {a: 1}\n");
  tap_ok (r && node_map_get (node_map_get (r, "m"), "<<") != NULL, "quoted << is an ordinary key");

  r = parse ("x: &a 1\nm:\n  <<: [*a]\n");
  tap_ok (r == NULL, "merge of a scalar fails");
  has_error ("item 1 of the list is not a map", 3, 8, "merge of non-map");
  r = parse ("m:\n  <<: 5\n");
  has_error ("needs a map or a list of maps", 2, 7, "merge of scalar");

  r = parse ("a: *nope\n");
  has_error ("unknown anchor \"nope\"", 1, 4, "unknown anchor");
  r = parse ("a: &x [1, *x]\n");
  has_error ("recursive alias", 1, 11, "recursive alias");
  r = parse ("a: &x 1\nb: *x\na2: &x 2\nc: *x\n");
  tap_is_str (sget (r, "c"), "2", "redefined anchor: the later one");
}

static void
test_errors (void)
{
  struct node *r = parse ("services:\n  web:\n    image: a\n    image: b\n");
  tap_ok (r == NULL, "duplicate key fails");
  has_error ("duplicate key \"image\" (first defined at line 3 column 5)", 4, 5, "duplicate key");

  cleanup_buf struct buf big = { 0 };
  for (int i = 0; i < 40; i++)
    buf_addf (&big, "k%d: %d\n", i, i);
  buf_adds (&big, "k33: again\n");
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", big.data, big.len, &d);
  has_error ("duplicate key \"k33\"", 41, 1, "duplicate key in a big map");

  r = parse ("a: 1\n---\nb: 2\n");
  has_error ("a second one starts here", 2, 1, "two documents");

  r = parse ("? [a]\n: 1\n");
  has_error ("a map key must be a string", 0, 0, "complex key");

  r = parse ("a: !custom []\n");
  has_error ("YAML tag \"!custom\" is not supported", 1, 4, "custom tag");
  r = parse ("a: !reset []\nb: !override {x: 1}\nc: !reset\n");
  tap_ok (r && node_map_get (r, "a")->merge_tag == NODE_TAG_RESET
            && node_map_get (r, "b")->merge_tag == NODE_TAG_OVERRIDE
            && node_map_get (r, "c")->merge_tag == NODE_TAG_RESET,
          "!reset and !override are kept as merge tags");

  r = parse ("services:\n  web:\n\timage: x\n");
  has_error ("tabs are not allowed for indentation, line 3 column 1", 3, 1, "tab indentation");
  r = parse ("a:\n  b: 1\n  \tc: 2\n");
  has_error ("tabs are not allowed for indentation, line 3 column 3", 3, 3, "tab after spaces");

  r = parse ("services:\n  web:\n    image: \"unterminated\n");
  has_error ("unexpected end of file", 0, 0, "truncated quoted string");
  r = parse ("a: [1, 2\n");
  has_error ("unexpected end of file", 0, 0, "truncated flow sequence");
  r = parse ("a: {b: 1,\n");
  has_error ("unexpected end of file", 0, 0, "truncated flow map");
  r = parse ("a: b: c\n");
  has_error ("YAML syntax error", 1, 5, "syntax error");

  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", "a: 1\0b: 2\n", 10, &d);
  has_error ("not a text file: a NUL byte at offset 4", 1, 5, "NUL byte");
  r = parse ("a: \xff\xfe\n");
  has_error ("not a text file: invalid UTF-8 at offset 3", 1, 4, "invalid UTF-8");
  r = parse ("a: \xc3\n");
  has_error ("invalid UTF-8 at offset 3", 0, 0, "truncated UTF-8");
  r = parse ("a: \xed\xa0\x80\n");
  has_error ("invalid UTF-8 at offset 3", 0, 0, "UTF-8 surrogate");
  r = parse ("a: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\n");
  tap_ok (r != NULL, "valid UTF-8 accepted");
  r = parse ("\xef\xbb\xbf" "a: 1\n");
  tap_ok (r != NULL && sget (r, "a"), "UTF-8 BOM accepted");
}

/* The fast path (the usual subset of YAML without libyaml) gives the same
 * tree as libyaml, places included, or gives up and leaves the file to
 * libyaml. */
static void
test_fast_path (void)
{
  static const struct {
    const char *text;
    bool fast;                 /* the fast path takes it */
  } cases[] = {
    { "services:\n  web:\n    image: \"busybox\"\n    init: true\n    a: ~\n    c:\n", true },
    { "a: 1\nb:\n  - x\n  - 'y'\n  -\n  - z: 1\n    w:\n", true },
    { "a:\n- 1\n- 2\nb: 3\n", true },                    /* a list at the key's column */
    { "a:\n  - k: 1\n    l: [1, 2]\n  - k: 2\n", true },
    { "-   a: 1\n    b: 2\n- c\n", true },
    { "  a: 1\n  b: 2\n", true },                        /* an indented root */
    { "a: &x\n  b: 1\nc: *x\nd: &y [1, *x]\ne:\n  <<: [*x, *y]\n", false }, /* merge error */
    { "x: &b {p: 1}\ny:\n  <<: *b\n  q: 2\nz: &s\n- 1\n", true },
    { "a: {b: [c, \"d\"], e: {}, f: []}\ng: [ 1 , 2 ]\nh: []\n", true },
    { "k : v\n\"q k\": 'it''s'\n'': x\n", true },
    { "a: b # c\nd: e#f\n# g\n\n   \n  # h\ni: 'j' # k\n", true },
    { "a: \"\\x41\\u00e9\\U0001F600 \\\" \\\\ \\n\\t\\e\\N\\_\\L\\P\"\n", true },
    { "caf\xc3\xa9: \xe2\x82\xac x\nb: [\xc3\xa9, '\xc3\xa9']\n", true },
    { "a: http://h:80/p\nb: a:b\nc: -1\nd: --x\ne: <<\nf: ${A:-b}\n", true },
    { "a: 1", true },                                   /* no final newline */
    { "a:", true },
    { "- a\n-\n- - b\n", false },                       /* "- - b" */
    { "a: |\n  x\n", false },                            /* block scalar */
    { "a: >\n  x\n", false },
    { "a: b\n  c\n", false },                            /* plain over two lines */
    { "a: \"b\n  c\"\n", false },
    { "a: [1,\n  2]\n", false },
    { "a: !reset []\n", false },                         /* tags */
    { "? a\n: b\n", false },
    { "---\na: 1\n", false },
    { "a: 1\n...\n", false },
    { "%YAML 1.1\n---\na: 1\n", false },
    { "a:\tb\n", false },
    { "a: b\r\n", false },
    { "\xef\xbb\xbf" "a: 1\n", false },
    { "a: 1\n", true },
    { "", false },
    { "# x\n", false },
    { "a\n", false },                                    /* a scalar document */
    { "[a, b]\n", false },
    { "a: b: c\n", false },
    { "a: [b: c]\n", false },
    { "a: {b}\n", false },
    { "a: [b,]\n", false },
    { "a: [b:c]\n", false },
    { "a: \"b\"c\n", false },
    { "a: 'b'#c\n", false },
    { "a: &x\nb: 1\n", false },                         /* an anchored null */
    { "a: *x\n", false },                               /* unknown anchor: libyaml's error */
    { "a: 1\na: 2\n", false },                          /* duplicate: libyaml's error */
    { "a:\n  b: 1\n c: 2\n", false },
    { "a:\n    b: 1\n  c: 2\n", false },
    { "- a\nb: 1\n", false },
    { "a: \"\\/\"\n", false },                           /* escapes libyaml versions differ on */
    { "a: \"\\0\"\n", false },
    { "a: [x?y]\n", false },
    { "a: @b\n", false },
    { "a: -\n", false },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      const char *t = cases[i].text;
      struct diags d1 = { 0 }, d2 = { 0 };
      struct node *x = stack_yaml_parse_mode (arena, "t.yaml", t, strlen (t), &d1, STACK_YAML_FAST);
      struct node *y = stack_yaml_parse_mode (arena, "t.yaml", t, strlen (t), &d2,
                                              STACK_YAML_LIBYAML);
      tap_ok ((x != NULL) == cases[i].fast && d1.n == 0, "fast path %s case %zu",
              cases[i].fast ? "takes" : "gives up", i);
      if (x)
        tap_ok (node_identical (x, y), "fast path: same tree as libyaml, case %zu", i);
      diags_free (&d1);
      diags_free (&d2);
    }
}

static void
test_hostile (void)
{
  /* deep nesting, flow and block */
  cleanup_buf struct buf b = { 0 };
  for (int i = 0; i < 100000; i++)
    buf_addc (&b, '[');
  double t0 = now ();
  diags_free (&d);
  struct node *r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  tap_ok (r == NULL, "deep flow nesting fails");
  has_error ("nesting deeper than 200 levels", 1, 201, "deep flow nesting");
  tap_diag ("deep flow nesting: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);

  buf_reset (&b);
  for (int i = 0; i < 300; i++)
    buf_addf (&b, "%*sk:\n", 2 * i, "");
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  has_error ("nesting deeper than 200 levels", 201, 401, "deep block nesting");

  buf_reset (&b);
  for (int i = 0; i < 199; i++)
    buf_addc (&b, '[');
  for (int i = 0; i < 199; i++)
    buf_addc (&b, ']');
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  tap_ok (r != NULL, "199 levels are fine");

  /* billion laughs */
  static const char laughs[] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                               "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                               "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                               "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                               "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                               "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                               "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                               "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                               "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
  t0 = now ();
  r = parse (laughs);
  tap_ok (r == NULL, "billion laughs fails");
  has_error ("aliases expand to more than 1000000 nodes", 0, 0, "billion laughs");
  tap_diag ("billion laughs: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);

  /* a map-based bomb with merge keys */
  static const char mbomb[] = "a: &a {x: 1, y: 2, z: 3, w: 4}\n"
                              "b: &b {a1: *a, a2: *a, a3: *a, a4: *a, a5: *a, a6: *a, a7: *a, a8: *a}\n"
                              "c: &c {b1: *b, b2: *b, b3: *b, b4: *b, b5: *b, b6: *b, b7: *b, b8: *b}\n"
                              "d: &d {c1: *c, c2: *c, c3: *c, c4: *c, c5: *c, c6: *c, c7: *c, c8: *c}\n"
                              "e: &e {d1: *d, d2: *d, d3: *d, d4: *d, d5: *d, d6: *d, d7: *d, d8: *d}\n"
                              "f: &f {e1: *e, e2: *e, e3: *e, e4: *e, e5: *e, e6: *e, e7: *e, e8: *e}\n"
                              "g: &g {<<: *f, f1: *f, f2: *f}\n";
  t0 = now ();
  r = parse (mbomb);
  has_error ("aliases expand to more than", 0, 0, "map alias bomb");
  tap_diag ("map alias bomb: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);

  /* many nodes without aliases */
  buf_reset (&b);
  buf_addc (&b, '[');
  for (int i = 0; i < 1100000; i++)
    buf_adds (&b, "0,");
  buf_addc (&b, ']');
  t0 = now ();
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  has_error ("the document has more than 1000000 nodes", 0, 0, "too many nodes");
  tap_diag ("too many nodes: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);

  /* over the size limit: rejected before parsing */
  size_t n = (size_t) 17 << 20;
  char *huge = xmalloc (n);
  memset (huge, ' ', n);
  t0 = now ();
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", huge, n, &d);
  has_error ("file is 17 MB; stack files are limited to 16 MiB", 0, 0, "17 MB file");
  tap_diag ("17 MB file: rejected in %.3fs (a figure, not a test)", now () - t0);
  free (huge);

  /* a big map: duplicate checks stay linear */
  buf_reset (&b);
  for (int i = 0; i < 200000; i++)
    buf_addf (&b, "key%d: %d\n", i, i);
  t0 = now ();
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  tap_ok (r && r->npairs == 200000, "200000-key map parses");
  tap_diag ("200000-key map: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);

  /* a long line with non-ASCII characters (columns count characters) */
  buf_reset (&b);
  buf_adds (&b, "a: [");
  for (int i = 0; i < 300000; i++)
    buf_adds (&b, "\xc3\xa9, ");
  buf_adds (&b, "z]\n");
  t0 = now ();
  diags_free (&d);
  r = stack_yaml_parse (arena, "t.yaml", b.data, b.len, &d);
  struct node *la = node_map_get (r, "a");
  tap_ok (la && la->nitems == 300001 && la->items[300000]->col == 900005,
          "a long non-ASCII line parses, with its columns");
  tap_diag ("300000-item line: %.3fs (a figure, not a test: bench/ measures speed)", now () - t0);
}

static void
test_load (void)
{
  diags_free (&d);
  struct node *r = stack_yaml_load (arena, "/nonexistent/compose.yaml", &d);
  tap_ok (r == NULL, "missing file fails");
  has_error ("cannot open: No such file or directory", 0, 0, "missing file");
  tap_is_str (d.n ? d.v[0].file : NULL, "/nonexistent/compose.yaml", "error names the path");
  diags_free (&d);
  r = stack_yaml_load (arena, "/", &d);
  has_error ("is a directory", 0, 0, "directory");
  const char *srcdir = getenv ("ITM_SRCDIR");
  cleanup_free char *p = xasprintf ("%s/tests/stack/files/lookup/compose.yaml",
                                    srcdir ? srcdir : ".");
  diags_free (&d);
  r = stack_yaml_load (arena, p, &d);
  tap_ok (r && r->kind == NODE_MAP, "load a fixture");
}

int
main (void)
{
  arena = node_arena_new ();
  test_basic ();
  test_anchors ();
  test_errors ();
  test_fast_path ();
  test_hostile ();
  test_load ();
  diags_free (&d);
  node_arena_free (arena);
  return tap_done ();
}
