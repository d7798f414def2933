/* checks.c - x-itm.checks: each service's checks parsed into struct
 * stack_check (stack/checks.h) at load time, every mistake a diagnostic at
 * its place in the file (an unknown kind, a bad JSON pointer, an invalid
 * regular expression, a port the service does not publish).
 *
 *   x-itm:
 *     checks:
 *       - name: user contract
 *         http: {path: /user.json, port: 8080}
 *         expect:
 *           status: 200
 *           shape: {id: string, email: email, createdAt: date-time}
 *           max_latency: 500ms
 *       - sql: "show server_version"
 *         expect: {match: "^15\\."}
 */
#include <config.h>

#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "stack/checks.h"
#include "stack/model.h"
#include "stack/node.h"
#include "util/strv.h"
#include "util/xalloc.h"

static const char *const kind_names[] = { "http", "sql", "redis", "exec", "tcp", "image" };
static const char *const type_names[] = {
  "any", "string", "number", "integer", "boolean", "null", "array", "object",
  "email", "uuid", "date-time", "uri",
};

const char *
stack_check_kind_name (enum stack_check_kind k)
{
  return kind_names[k];
}

const char *
stack_check_type_name (enum stack_check_type t)
{
  return type_names[t];
}

const struct stack_check *
stack_checks (const struct stack_service *svc, size_t *n)
{
  *n = svc->nchecks;
  return svc->checks;
}

struct cctx {
  struct diags *d;
  struct stack_arena *a;
  const char *where;           /* "services.api.x-itm.checks[0]" */
  bool bad;
};

static void cerr (struct cctx *c, const struct node *at, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
static void
cerr (struct cctx *c, const struct node *at, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  diag_add (c->d, DIAG_ERROR, at, "%s: %s", c->where, msg);
  c->bad = true;
}

static const char *
what (const struct node *n)
{
  switch (n->kind)
    {
    case NODE_NULL:
      return "null";
    case NODE_SCALAR:
      return "a scalar";
    case NODE_SEQ:
      return "a list";
    case NODE_MAP:
      return "a map";
    }
  return "?";
}

static char *
scalar (struct cctx *c, const struct node *n, const char *key)
{
  if (n->kind != NODE_SCALAR)
    {
      cerr (c, n, "%s: expected a string, got %s", key, what (n));
      return NULL;
    }
  return sa_strdup (c->a, n->scalar);
}

static bool
regex_ok (struct cctx *c, const struct node *at, const char *key, const char *re)
{
  regex_t r;
  int rc = regcomp (&r, re, REG_EXTENDED | REG_NOSUB);
  if (rc != 0)
    {
      char msg[256];
      regerror (rc, &r, msg, sizeof msg);
      cerr (c, at, "%s: invalid regular expression '%s': %s", key, re, msg);
      return false;
    }
  regfree (&r);
  return true;
}

/* RFC 6901: "" or "/"-separated tokens, '~' only as ~0 or ~1. */
static bool
pointer_ok (struct cctx *c, const struct node *at, const char *p)
{
  const char *why = NULL;
  if (*p != '\0' && *p != '/')
    why = "it must be empty or begin with '/'";
  for (const char *q = p; why == NULL && *q; q++)
    if (*q == '~' && q[1] != '0' && q[1] != '1')
      why = "'~' must be followed by 0 or 1";
  if (why)
    cerr (c, at, "bad JSON pointer '%s': %s", p, why);
  return why == NULL;
}

static bool
parse_type (const char *s, enum stack_check_type *t)
{
  for (size_t i = 1; i < sizeof type_names / sizeof *type_names; i++)
    if (strcmp (s, type_names[i]) == 0)
      return *t = (enum stack_check_type) i, true;
  return false;
}

static int64_t
duration (struct cctx *c, const struct node *n, const char *key)
{
  int64_t ns = 0;
  const char *why;
  if (n->kind != NODE_SCALAR || stack_parse_duration (n->scalar, &ns, &why) < 0)
    {
      cerr (c, n, "%s: expected a duration (\"500ms\", \"2s\")%s%s", key,
            n->kind == NODE_SCALAR ? ": " : "", n->kind == NODE_SCALAR ? why : "");
      return 0;
    }
  return ns;
}

static long
integer (struct cctx *c, const struct node *n, const char *key, long lo, long hi)
{
  char *end;
  if (n->kind == NODE_SCALAR)
    {
      long v = strtol (n->scalar, &end, 10);
      if (*n->scalar && *end == '\0' && v >= lo && v <= hi)
        return v;
    }
  cerr (c, n, "%s: expected an integer from %ld to %ld", key, lo, hi);
  return lo;
}

/* A node as compact JSON text (plain scalars: numbers, booleans, null). */
static void
node_json (const struct node *n, struct buf *b)
{
  switch (n->kind)
    {
    case NODE_NULL:
      buf_adds (b, "null");
      return;
    case NODE_SCALAR:
      {
        const char *s = n->scalar;
        char *end;
        if (n->plain && *s)
          {
            if (strcmp (s, "true") == 0 || strcmp (s, "false") == 0 || strcmp (s, "null") == 0)
              {
                buf_adds (b, s);
                return;
              }
            (void) strtod (s, &end);
            if (*end == '\0' && strpbrk (s, "0123456789") && !strpbrk (s, "xXnN"))
              {
                buf_adds (b, s);
                return;
              }
          }
        buf_addc (b, '"');
        for (; *s; s++)
          {
            unsigned char ch = (unsigned char) *s;
            if (ch == '"' || ch == '\\')
              buf_addf (b, "\\%c", ch);
            else if (ch < 0x20)
              buf_addf (b, "\\u%04x", ch);
            else
              buf_addc (b, (char) ch);
          }
        buf_addc (b, '"');
        return;
      }
    case NODE_SEQ:
      buf_addc (b, '[');
      for (size_t i = 0; i < n->nitems; i++)
        {
          if (i)
            buf_addc (b, ',');
          node_json (n->items[i], b);
        }
      buf_addc (b, ']');
      return;
    case NODE_MAP:
      buf_addc (b, '{');
      for (size_t i = 0; i < n->npairs; i++)
        {
          if (i)
            buf_addc (b, ',');
          struct node k = *n->pairs[i].key;
          k.plain = false;
          node_json (&k, b);
          buf_addc (b, ':');
          node_json (n->pairs[i].value, b);
        }
      buf_addc (b, '}');
      return;
    }
}

struct rules {
  struct stack_check_rule *v;
  size_t n, cap;
};

static struct stack_check_rule *
rule_add (struct rules *r)
{
  r->v = xgrow (r->v, &r->cap, r->n + 1, sizeof *r->v);
  struct stack_check_rule *x = &r->v[r->n++];
  memset (x, 0, sizeof *x);
  return x;
}

/* body: {POINTER: {equals, matches, type, format}, ...} */
static void
parse_body_rules (struct cctx *c, const struct node *n, struct rules *r)
{
  if (n->kind != NODE_MAP)
    {
      cerr (c, n, "expect.body: expected a map of JSON pointers to rules, got %s", what (n));
      return;
    }
  for (size_t i = 0; i < n->npairs; i++)
    {
      const struct node *k = n->pairs[i].key, *v = n->pairs[i].value;
      if (!pointer_ok (c, k, k->scalar))
        continue;
      if (v->kind != NODE_MAP)
        {
          cerr (c, v, "expect.body.%s: expected a map (equals, matches, type, format), got %s",
                k->scalar, what (v));
          continue;
        }
      struct stack_check_rule *x = rule_add (r);
      x->pointer = sa_strdup (c->a, k->scalar);
      for (size_t j = 0; j < v->npairs; j++)
        {
          const char *rk = v->pairs[j].key->scalar;
          const struct node *rv = v->pairs[j].value;
          if (strcmp (rk, "equals") == 0)
            {
              cleanup_buf struct buf b = { 0 };
              node_json (rv, &b);
              x->equals = sa_strdup (c->a, b.data);
            }
          else if (strcmp (rk, "matches") == 0)
            {
              x->matches = scalar (c, rv, "matches");
              if (x->matches && !regex_ok (c, rv, "matches", x->matches))
                x->matches = NULL;
            }
          else if (strcmp (rk, "type") == 0 || strcmp (rk, "format") == 0)
            {
              enum stack_check_type t;
              const char *s = rv->kind == NODE_SCALAR ? rv->scalar : "";
              bool fmt = rk[0] == 'f';
              if (!parse_type (s, &t) || (fmt != (t >= STACK_TYPE_EMAIL)))
                cerr (c, rv, "%s: unknown %s '%s' (%s)", rk, rk, s,
                      fmt ? "email, uuid, date-time, uri"
                          : "string, number, integer, boolean, null, array, object");
              else
                x->type = t;
            }
          else
            cerr (c, v->pairs[j].key, "expect.body.%s: unknown rule '%s' (equals, matches, "
                  "type, format)", k->scalar, rk);
        }
    }
}

/* shape: {field: type-or-format, nested: {field: ...}}: one rule per field,
 * at pointer prefix/field; a nested map is an object with those fields. */
static void
parse_shape (struct cctx *c, const struct node *n, const char *prefix, struct rules *r)
{
  if (n->kind != NODE_MAP)
    {
      cerr (c, n, "expect.shape: expected a map of fields to types, got %s", what (n));
      return;
    }
  for (size_t i = 0; i < n->npairs; i++)
    {
      const struct node *k = n->pairs[i].key, *v = n->pairs[i].value;
      cleanup_buf struct buf p = { 0 };
      buf_adds (&p, prefix);
      buf_addc (&p, '/');
      for (const char *s = k->scalar; *s; s++)
        if (*s == '~')
          buf_adds (&p, "~0");
        else if (*s == '/')
          buf_adds (&p, "~1");
        else
          buf_addc (&p, *s);
      struct stack_check_rule *x = rule_add (r);
      x->pointer = sa_strdup (c->a, p.data);
      x->from_shape = true;
      if (v->kind == NODE_MAP)
        {
          x->type = STACK_TYPE_OBJECT;
          parse_shape (c, v, p.data, r);
          continue;
        }
      enum stack_check_type t;
      if (v->kind != NODE_SCALAR || !parse_type (v->scalar, &t))
        cerr (c, v, "expect.shape.%s: unknown type '%s' (string, number, integer, boolean, "
              "null, array, object, any, or a format: email, uuid, date-time, uri)", k->scalar,
              v->kind == NODE_SCALAR ? v->scalar : what (v));
      else
        x->type = t;
    }
}

static void
parse_kvs (struct cctx *c, const struct node *n, const char *key, struct stack_kvs *out,
           bool regex)
{
  if (n->kind != NODE_MAP)
    {
      cerr (c, n, "%s: expected a map, got %s", key, what (n));
      return;
    }
  out->v = sa_alloc (c->a, (n->npairs ? n->npairs : 1) * sizeof *out->v);
  for (size_t i = 0; i < n->npairs; i++)
    {
      const struct node *v = n->pairs[i].value;
      char *s = scalar (c, v, key);
      if (s == NULL || (regex && !regex_ok (c, v, key, s)))
        continue;
      out->v[out->n].name = sa_strdup (c->a, n->pairs[i].key->scalar);
      out->v[out->n++].value = s;
    }
}

static void
parse_status (struct cctx *c, const struct node *n, struct stack_check *k)
{
  const struct node *one = n;
  size_t cnt = n->kind == NODE_SEQ ? n->nitems : 1;
  k->status = sa_alloc (c->a, (cnt ? cnt : 1) * sizeof *k->status);
  for (size_t i = 0; i < cnt; i++)
    {
      if (n->kind == NODE_SEQ)
        one = n->items[i];
      k->status[k->nstatus++] = (int) integer (c, one, "expect.status", 100, 599);
    }
}

static void
parse_rows (struct cctx *c, const struct node *n, struct stack_check *k)
{
  k->rows_set = true;
  if (n->kind != NODE_SEQ)
    {
      cerr (c, n, "expect.rows: expected a list of rows, got %s", what (n));
      return;
    }
  k->rows = sa_alloc (c->a, (n->nitems ? n->nitems : 1) * sizeof *k->rows);
  for (size_t i = 0; i < n->nitems; i++)
    {
      const struct node *row = n->items[i];
      cleanup_buf struct buf b = { 0 };
      buf_adds (&b, "");
      if (row->kind == NODE_SCALAR)
        buf_adds (&b, row->scalar);
      else if (row->kind == NODE_SEQ)
        for (size_t j = 0; j < row->nitems; j++)
          {
            const struct node *f = row->items[j];
            buf_addf (&b, "%s%s", j ? "|" : "", f->kind == NODE_SCALAR ? f->scalar : "");
          }
      else
        cerr (c, row, "expect.rows[%zu]: expected a list of values, got %s", i, what (row));
      k->rows[k->nrows++] = sa_strdup (c->a, b.data);
    }
}

static void
parse_expect (struct cctx *c, const struct node *n, struct stack_check *k, struct rules *r)
{
  if (n->kind != NODE_MAP)
    {
      cerr (c, n, "expect: expected a map, got %s", what (n));
      return;
    }
  bool http = k->kind == STACK_CHECK_HTTP;
  bool text = k->kind == STACK_CHECK_SQL || k->kind == STACK_CHECK_REDIS
              || k->kind == STACK_CHECK_EXEC;
  for (size_t i = 0; i < n->npairs; i++)
    {
      const char *key = n->pairs[i].key->scalar;
      const struct node *v = n->pairs[i].value;
      if (http && strcmp (key, "status") == 0)
        parse_status (c, v, k);
      else if (http && strcmp (key, "headers") == 0)
        parse_kvs (c, v, "expect.headers", &k->expect_headers, true);
      else if (http && strcmp (key, "body") == 0)
        parse_body_rules (c, v, r);
      else if (http && strcmp (key, "shape") == 0)
        parse_shape (c, v, "", r);
      else if (http && strcmp (key, "max_latency") == 0)
        k->max_latency = duration (c, v, "expect.max_latency");
      else if (text && strcmp (key, "equals") == 0)
        k->equals = scalar (c, v, "expect.equals");
      else if (text && strcmp (key, "match") == 0)
        {
          k->match = scalar (c, v, "expect.match");
          if (k->match && !regex_ok (c, v, "expect.match", k->match))
            k->match = NULL;
        }
      else if (k->kind == STACK_CHECK_SQL && strcmp (key, "rows") == 0)
        parse_rows (c, v, k);
      else if (k->kind == STACK_CHECK_EXEC && strcmp (key, "exit_code") == 0)
        k->exit_code = (int) integer (c, v, "expect.exit_code", 0, 255);
      else
        cerr (c, n->pairs[i].key, "expect: unknown key '%s' for a %s check (%s)", key,
              kind_names[k->kind],
              http ? "status, headers, body, shape, max_latency"
              : k->kind == STACK_CHECK_SQL ? "equals, match, rows"
              : k->kind == STACK_CHECK_EXEC ? "exit_code, equals, match"
              : text ? "equals, match" : "none");
    }
}

/* The kind's own value: http's and tcp's map or port, sql's query... */
static void
parse_target (struct cctx *c, const struct node *v, struct stack_check *k)
{
  switch (k->kind)
    {
    case STACK_CHECK_HTTP:
    case STACK_CHECK_TCP:
      if (v->kind == NODE_SCALAR && k->kind == STACK_CHECK_TCP)
        {
          k->port = (unsigned) integer (c, v, "tcp", 1, 65535);
          return;
        }
      if (v->kind == NODE_SCALAR)
        {
          k->path = scalar (c, v, "http");
          return;
        }
      if (v->kind != NODE_MAP)
        {
          cerr (c, v, "%s: expected a map, got %s", kind_names[k->kind], what (v));
          return;
        }
      for (size_t i = 0; i < v->npairs; i++)
        {
          const char *key = v->pairs[i].key->scalar;
          const struct node *x = v->pairs[i].value;
          bool http = k->kind == STACK_CHECK_HTTP;
          if (strcmp (key, "port") == 0)
            k->port = (unsigned) integer (c, x, "port", 1, 65535);
          else if (strcmp (key, "timeout") == 0)
            k->timeout = duration (c, x, "timeout");
          else if (http && strcmp (key, "path") == 0)
            {
              k->path = scalar (c, x, "path");
              if (k->path && k->path[0] != '/')
                cerr (c, x, "path: '%s' must begin with '/'", k->path);
            }
          else if (http && strcmp (key, "method") == 0)
            k->method = scalar (c, x, "method");
          else if (http && strcmp (key, "headers") == 0)
            parse_kvs (c, x, "headers", &k->headers, false);
          else if (http && strcmp (key, "body") == 0)
            {
              if (x->kind == NODE_SCALAR)
                k->body = scalar (c, x, "body");
              else
                {
                  cleanup_buf struct buf b = { 0 };
                  node_json (x, &b);
                  k->body = sa_strdup (c->a, b.data);
                }
            }
          else
            cerr (c, v->pairs[i].key, "%s: unknown key '%s' (%s)", kind_names[k->kind], key,
                  http ? "method, path, port, headers, body, timeout" : "port, timeout");
        }
      return;
    case STACK_CHECK_SQL:
      k->query = scalar (c, v, "sql");
      return;
    case STACK_CHECK_REDIS:
    case STACK_CHECK_EXEC:
      if (v->kind == NODE_SEQ)
        {
          k->argv.v = sa_alloc (c->a, (v->nitems + 1) * sizeof *k->argv.v);
          for (size_t i = 0; i < v->nitems; i++)
            if (v->items[i]->kind == NODE_SCALAR)
              k->argv.v[k->argv.n++] = sa_strdup (c->a, v->items[i]->scalar);
            else
              cerr (c, v->items[i], "%s[%zu]: expected a string", kind_names[k->kind], i);
        }
      else if (v->kind == NODE_SCALAR)
        {
          char **av = NULL;
          size_t ac = 0;
          const char *why;
          if (stack_split_command (v->scalar, &av, &ac, &why) < 0)
            {
              cerr (c, v, "%s: %s", kind_names[k->kind], why);
              return;
            }
          k->argv.v = sa_alloc (c->a, (ac + 1) * sizeof *k->argv.v);
          for (size_t i = 0; i < ac; i++)
            k->argv.v[k->argv.n++] = sa_strdup (c->a, av[i]);
          strv_free (av);
          k->query = sa_strdup (c->a, v->scalar);
        }
      else
        cerr (c, v, "%s: expected a command (a string or a list), got %s", kind_names[k->kind],
              what (v));
      k->argv.set = true;
      if (k->argv.n == 0 && v->kind != NODE_MAP)
        cerr (c, v, "%s: an empty command", kind_names[k->kind]);
      return;
    case STACK_CHECK_IMAGE:
      if (v->kind == NODE_MAP)
        {
          for (size_t i = 0; i < v->npairs; i++)
            if (strcmp (v->pairs[i].key->scalar, "digest") == 0)
              k->digest = scalar (c, v->pairs[i].value, "image.digest");
            else
              cerr (c, v->pairs[i].key, "image: unknown key '%s' (digest)",
                    v->pairs[i].key->scalar);
        }
      else
        cerr (c, v, "image: expected {digest: sha256:...}, got %s", what (v));
      if (k->digest == NULL && !c->bad)
        cerr (c, v, "image: needs 'digest'");
      return;
    }
}

/* Whether an `expose` entry ("80", "8000-8010", "53/udp") covers tcp port. */
static bool
exposes (const char *e, unsigned port)
{
  char *end;
  unsigned long lo = strtoul (e, &end, 10), hi = lo;
  if (end == e)
    return false;
  if (*end == '-')
    {
      const char *h = end + 1;
      hi = strtoul (h, &end, 10);
      if (end == h)
        return false;
    }
  if (*end == '/' && strcmp (end + 1, "tcp") != 0)
    return false;
  if (*end != '\0' && *end != '/')
    return false;
  return port >= lo && port <= hi;
}

/* The port the check needs must be one the service publishes or exposes
 * (an exposed one is reached when itm-env has joined the namespace's
 * networks: the check then says, at run time, when it is not). */
static void
check_port (struct cctx *c, const struct node *at, const struct stack_service *s,
            struct stack_check *k)
{
  if (k->kind != STACK_CHECK_HTTP && k->kind != STACK_CHECK_TCP)
    return;
  if (s->nports == 0 && s->expose.n == 0)
    {
      cerr (c, at, "a %s check needs a published or exposed port, and service '%s' has neither "
            "'ports' nor 'expose'", kind_names[k->kind], s->name);
      return;
    }
  if (k->port == 0)
    {
      if (s->nports > 0)
        k->port = s->ports[0].target_start;
      else
        k->port = (unsigned) strtoul (s->expose.v[0], NULL, 10);
      return;
    }
  for (size_t i = 0; i < s->nports; i++)
    if (k->port >= s->ports[i].target_start && k->port <= s->ports[i].target_end
        && (s->ports[i].protocol == NULL || strcmp (s->ports[i].protocol, "tcp") == 0))
      return;
  for (size_t i = 0; i < s->expose.n; i++)
    if (exposes (s->expose.v[i], k->port))
      return;
  cerr (c, at, "port %u is not among service '%s''s published or exposed ports", k->port,
        s->name);
}

static void
parse_one (struct cctx *c, const struct node *n, const struct stack_service *s,
           struct stack_check *k)
{
  k->file = n->file;
  k->line = n->line;
  k->col = n->col;
  if (n->kind != NODE_MAP)
    {
      cerr (c, n, "expected a map (name, a kind: http, sql, redis, exec, tcp, image; expect), "
            "got %s", what (n));
      return;
    }
  const struct node *kindnode = NULL, *kindkey = NULL, *expect = NULL, *name = NULL;
  for (size_t i = 0; i < n->npairs; i++)
    {
      const char *key = n->pairs[i].key->scalar;
      bool known = false;
      for (size_t j = 0; j < sizeof kind_names / sizeof *kind_names; j++)
        if (strcmp (key, kind_names[j]) == 0)
          {
            known = true;
            if (kindnode)
              cerr (c, n->pairs[i].key, "a check has one kind; '%s' and '%s' are both given",
                    kindkey->scalar, key);
            else
              {
                kindnode = n->pairs[i].value;
                kindkey = n->pairs[i].key;
                k->kind = (enum stack_check_kind) j;
              }
          }
      if (known)
        continue;
      if (strcmp (key, "name") == 0)
        name = n->pairs[i].value;
      else if (strcmp (key, "expect") == 0)
        expect = n->pairs[i].value;
      else if (strcmp (key, "database") == 0)
        k->database = scalar (c, n->pairs[i].value, "database");
      else
        cerr (c, n->pairs[i].key, "unknown check kind or key '%s' (a check is one of http, "
              "sql, redis, exec, tcp, image, with name and expect)", key);
    }
  if (kindnode == NULL)
    {
      if (!c->bad)
        cerr (c, n, "no check kind (http, sql, redis, exec, tcp or image)");
      return;
    }
  if (k->database && k->kind != STACK_CHECK_SQL)
    cerr (c, n, "'database' is for sql checks");
  parse_target (c, kindnode, k);
  struct rules r = { 0 };
  if (expect)
    parse_expect (c, expect, k, &r);
  if (r.n)
    {
      k->rules = sa_alloc (c->a, r.n * sizeof *k->rules);
      memcpy (k->rules, r.v, r.n * sizeof *k->rules);
      k->nrules = r.n;
    }
  free (r.v);
  check_port (c, kindkey, s, k);
  if (k->kind == STACK_CHECK_HTTP)
    {
      if (k->method == NULL)
        k->method = sa_strdup (c->a, k->body ? "POST" : "GET");
      if (k->path == NULL)
        k->path = sa_strdup (c->a, "/");
    }
  if (name)
    k->name = scalar (c, name, "name");
  if (k->name == NULL)
    switch (k->kind)
      {
      case STACK_CHECK_HTTP:
        k->name = sa_printf (c->a, "http %s %s", k->method, k->path);
        break;
      case STACK_CHECK_TCP:
        k->name = sa_printf (c->a, "tcp %u", k->port);
        break;
      case STACK_CHECK_SQL:
        k->name = sa_printf (c->a, "sql %s", k->query ? k->query : "");
        break;
      case STACK_CHECK_IMAGE:
        k->name = sa_printf (c->a, "image digest %s", k->digest ? k->digest : "");
        break;
      default:
        {
          cleanup_buf struct buf b = { 0 };
          buf_adds (&b, kind_names[k->kind]);
          for (size_t i = 0; i < k->argv.n; i++)
            buf_addf (&b, " %s", k->argv.v[i]);
          k->name = sa_strdup (c->a, b.data);
        }
      }
}

void
stack_checks_parse (struct diags *d, struct stack_arena *a, const struct node *svcnode,
                    struct stack_service *s)
{
  const struct node *x = node_map_get (svcnode, "x-itm");
  const struct node *list = x && x->kind == NODE_MAP ? node_map_get (x, "checks") : NULL;
  if (list == NULL || list->kind == NODE_NULL)
    return;
  cleanup_free char *where = xasprintf ("services.%s.x-itm.checks", s->name);
  struct cctx c = { .d = d, .a = a, .where = where };
  if (list->kind != NODE_SEQ)
    {
      cerr (&c, list, "expected a list of checks, got %s", what (list));
      return;
    }
  s->checks = sa_alloc (a, (list->nitems ? list->nitems : 1) * sizeof *s->checks);
  for (size_t i = 0; i < list->nitems; i++)
    {
      cleanup_free char *w = xasprintf ("services.%s.x-itm.checks[%zu]", s->name, i);
      c.where = w;
      struct stack_check *k = &s->checks[s->nchecks++];
      parse_one (&c, list->items[i], s, k);
    }
}
