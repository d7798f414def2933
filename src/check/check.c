/* check.c - x-itm.checks evaluated: each kind against a namespace that is
 * up, the results printed, as JSON, and into the report.
 *
 * http: libcurl (util/lazylib.c loads it on first use) to the service's
 * published port on the host; every request of a repeated check
 * (--repeat, --concurrency: one thread and one easy handle per worker) is
 * evaluated in full, and the latencies (measured around the request, so
 * itm-env's own overhead is in them) give the figures.  sql, redis, exec
 * and image go through the engine (exec; inspect), tcp is a connect(). */
#include <config.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check.h"
#include "conn/conn.h"
#include "data/data.h"
#include "engine/engine.h"
#include "report/report.h"
#include "stack/checks.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define BODY_CAP (4 * 1024 * 1024)

/* ---- failures ---- */

struct fails {
  struct check_failure *v;
  size_t n, cap;
  struct buf diff;
};

static void fail_add (struct fails *f, const char *what, const char *expected, const char *fmt,
                      ...) __attribute__ ((format (printf, 4, 5)));
static void
fail_add (struct fails *f, const char *what, const char *expected, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  f->v = xgrow (f->v, &f->cap, f->n + 1, sizeof *f->v);
  /* generated secrets (x-itm.secrets) never shown: masked as everywhere */
  cleanup_free char *actual = xvasprintf (fmt, ap);
  va_end (ap);
  f->v[f->n++] = (struct check_failure){ .what = data_mask (what),
                                         .expected = data_mask (expected),
                                         .actual = data_mask (actual) };
}

static void
fails_free (struct fails *f)
{
  for (size_t i = 0; i < f->n; i++)
    free (f->v[i].what), free (f->v[i].expected), free (f->v[i].actual);
  free (f->v);
  buf_free (&f->diff);
  memset (f, 0, sizeof *f);
}

static bool
check_re_match (const char *re, const char *s)
{
  regex_t r;
  if (regcomp (&r, re, REG_EXTENDED | REG_NOSUB) != 0)
    return false;               /* checked at load time */
  bool ok = regexec (&r, s, 0, NULL, 0) == 0;
  regfree (&r);
  return ok;
}

static void
fmt_ns (char *out, size_t n, int64_t ns)
{
  if (ns < 1000000)
    snprintf (out, n, "%.3f ms", (double) ns / 1e6);
  else if (ns < 1000000000)
    snprintf (out, n, "%.1f ms", (double) ns / 1e6);
  else
    snprintf (out, n, "%.3f s", (double) ns / 1e9);
}

/* ---- JSON: pointers, types, formats ---- */

/* RFC 6901 on a json-c tree; NULL when absent.  *found false then. */
static json_object *
pointer_get (json_object *doc, const char *p, bool *found)
{
  *found = true;
  json_object *cur = doc;
  while (*p == '/')
    {
      p++;
      const char *end = strchr (p, '/');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      cleanup_free char *tok = xmalloc (len + 1);
      size_t k = 0;
      for (size_t i = 0; i < len; i++)
        if (p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1'))
          tok[k++] = p[++i] == '0' ? '~' : '/';
        else
          tok[k++] = p[i];
      tok[k] = '\0';
      p += len;
      if (json_object_is_type (cur, json_type_object))
        {
          if (!json_object_object_get_ex (cur, tok, &cur))
            return *found = false, NULL;
        }
      else if (json_object_is_type (cur, json_type_array))
        {
          char *e;
          unsigned long idx = strtoul (tok, &e, 10);
          if (*tok == '\0' || *e || idx >= json_object_array_length (cur))
            return *found = false, NULL;
          cur = json_object_array_get_idx (cur, idx);
        }
      else
        return *found = false, NULL;
    }
  return cur;
}

static const char *
json_type_word (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_null:
      return "null";
    case json_type_boolean:
      return "boolean";
    case json_type_int:
      return "integer";
    case json_type_double:
      return "number";
    case json_type_string:
      return "string";
    case json_type_array:
      return "array";
    case json_type_object:
      return "object";
    }
  return "?";
}

static const char *
json_text (json_object *v)
{
  return v ? json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN
                                                  | JSON_C_TO_STRING_NOSLASHESCAPE)
           : "null";
}

/* "number 42", "string \"x\"" (cut at 80 characters) */
static char *
describe (json_object *v)
{
  const char *t = json_text (v);
  size_t l = strlen (t);
  if (l > 80)
    return xasprintf ("%s %.77s...", json_type_word (v), t);
  return xasprintf ("%s %s", json_type_word (v), t);
}

static const char *const format_re[] = {
  [STACK_TYPE_EMAIL] = "^[^@[:space:]]+@[^@[:space:].]+(\\.[^@[:space:].]+)+$",
  [STACK_TYPE_UUID] = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      "[0-9a-fA-F]{12}$",
  [STACK_TYPE_DATE_TIME] = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]"
                           "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?"
                           "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
  [STACK_TYPE_URI] = "^[A-Za-z][A-Za-z0-9+.-]*:[^[:space:]]+$",
};

static bool
type_holds (enum stack_check_type t, json_object *v)
{
  enum json_type jt = json_object_get_type (v);
  switch (t)
    {
    case STACK_TYPE_ANY:
      return true;
    case STACK_TYPE_STRING:
      return jt == json_type_string;
    case STACK_TYPE_NUMBER:
      return jt == json_type_int || jt == json_type_double;
    case STACK_TYPE_INTEGER:
      if (jt == json_type_double)
        {
          double d = json_object_get_double (v);
          return isfinite (d) && d > -9e18 && d < 9e18 && (double) (int64_t) d == d;
        }
      return jt == json_type_int;
    case STACK_TYPE_BOOLEAN:
      return jt == json_type_boolean;
    case STACK_TYPE_NULL:
      return jt == json_type_null;
    case STACK_TYPE_ARRAY:
      return jt == json_type_array;
    case STACK_TYPE_OBJECT:
      return jt == json_type_object;
    default:
      return jt == json_type_string && check_re_match (format_re[t], json_object_get_string (v));
    }
}

static void
eval_rule (const struct stack_check_rule *r, json_object *doc, struct fails *f)
{
  bool found;
  json_object *v = pointer_get (doc, r->pointer, &found);
  const char *where = *r->pointer ? r->pointer : "body";
  const char *tn = stack_check_type_name (r->type);
  bool fmt = r->type >= STACK_TYPE_EMAIL;
  cleanup_free char *exp_type = r->type == STACK_TYPE_ANY ? NULL
                                : xasprintf ("%s%s", fmt ? "format " : "", tn);
  if (!found)
    {
      fail_add (f, where, exp_type ? exp_type : r->equals ? r->equals : "present", "missing");
      if (r->from_shape)
        buf_addf (&f->diff, "- %s: %s\n+ %s: missing\n", r->pointer, tn, r->pointer);
      return;
    }
  if (r->type != STACK_TYPE_ANY && !type_holds (r->type, v))
    {
      cleanup_free char *d = describe (v);
      fail_add (f, where, exp_type, "%s", d);
      if (r->from_shape)
        buf_addf (&f->diff, "- %s: %s\n+ %s: %s\n", r->pointer, tn, r->pointer, d);
    }
  else if (r->from_shape)
    buf_addf (&f->diff, "  %s: %s\n", r->pointer, tn);
  if (r->equals)
    {
      cleanup_json json_object *want = json_tokener_parse (r->equals);
      if (!json_object_equal (want, v))
        fail_add (f, where, r->equals, "%s", json_text (v));
    }
  if (r->matches)
    {
      const char *text = json_object_is_type (v, json_type_string) ? json_object_get_string (v)
                                                                   : json_text (v);
      if (!check_re_match (r->matches, text))
        {
          cleanup_free char *e = xasprintf ("to match '%s'", r->matches);
          fail_add (f, where, e, "%s", json_text (v));
        }
    }
}

/* ---- http ---- */

struct http_resp {
  long status;
  struct buf headers, body;
  int64_t ns;
  char errbuf[CURL_ERROR_SIZE];
  CURLcode rc;
};

static size_t
on_body (char *p, size_t size, size_t n, void *ctx)
{
  struct buf *b = ctx;
  size_t len = size * n;
  if (b->len < BODY_CAP)
    buf_add (b, p, len < BODY_CAP - b->len ? len : BODY_CAP - b->len);
  return len;
}

struct target {
  char *url;
  char *host;                  /* for tcp */
  unsigned port;
};

static void
http_once (CURL *h, const struct target *t, const struct stack_check *c,
           struct curl_slist *hdrs, struct http_resp *r)
{
  curl_easy_reset (h);
  buf_reset (&r->headers);
  buf_reset (&r->body);
  buf_adds (&r->headers, "");
  buf_adds (&r->body, "");
  r->errbuf[0] = '\0';
  curl_easy_setopt (h, CURLOPT_URL, t->url);
  curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, c->method);
  if (strcmp (c->method, "HEAD") == 0)
    curl_easy_setopt (h, CURLOPT_NOBODY, 1L);
  if (c->body)
    {
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, c->body);
      curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE, (long) strlen (c->body));
    }
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &r->body);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, on_body);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, &r->headers);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (h, CURLOPT_TIMEOUT_MS, (long) ((c->timeout ? c->timeout : 10000000000LL)
                                                    / 1000000));
  int64_t t0 = mono_ns ();
  r->rc = curl_easy_perform (h);
  r->ns = mono_ns () - t0;
  r->status = 0;
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &r->status);
}

/* The value of header name in the raw header block (the last response's). */
static char *
header_value (const char *block, const char *name)
{
  size_t nl = strlen (name);
  char *found = NULL;
  for (const char *p = block; p && *p;)
    {
      const char *e = strstr (p, "\r\n");
      size_t len = e ? (size_t) (e - p) : strlen (p);
      if (strncmp (p, "HTTP/", 5) == 0)
        free (found), found = NULL;         /* a new response (100 Continue, redirects) */
      else if (len > nl && strncasecmp (p, name, nl) == 0 && p[nl] == ':')
        {
          const char *v = p + nl + 1;
          while (*v == ' ' || *v == '\t')
            v++;
          free (found);
          found = xstrndup (v, (size_t) (p + len - v));
        }
      p = e ? e + 2 : NULL;
    }
  return found;
}

static void
http_eval (const struct stack_check *c, const struct http_resp *r, struct fails *f)
{
  if (r->rc != CURLE_OK)
    {
      fail_add (f, "request", "an answer", "%s", r->errbuf[0] ? r->errbuf
                                                            : curl_easy_strerror (r->rc));
      return;
    }
  bool status_ok = false;
  cleanup_buf struct buf want = { 0 };
  buf_adds (&want, "");
  for (size_t i = 0; i < c->nstatus; i++)
    {
      buf_addf (&want, "%s%d", i ? " or " : "", c->status[i]);
      status_ok |= r->status == c->status[i];
    }
  if (c->nstatus == 0)
    {
      buf_adds (&want, "2xx");
      status_ok = r->status >= 200 && r->status < 300;
    }
  if (!status_ok)
    fail_add (f, "status", want.data, "%ld", r->status);
  for (size_t i = 0; i < c->expect_headers.n; i++)
    {
      const struct stack_kv *kv = &c->expect_headers.v[i];
      cleanup_free char *v = header_value (r->headers.data, kv->name);
      cleanup_free char *what = xasprintf ("header %s", kv->name);
      cleanup_free char *e = xasprintf ("to match '%s'", kv->value);
      if (v == NULL)
        fail_add (f, what, e, "missing");
      else if (!check_re_match (kv->value, v))
        fail_add (f, what, e, "'%s'", v);
    }
  if (c->nrules)
    {
      enum json_tokener_error jerr = json_tokener_success;
      cleanup_json json_object *doc = json_tokener_parse_verbose (r->body.data, &jerr);
      if (doc == NULL && jerr != json_tokener_success)
        fail_add (f, "body", "JSON", "not JSON (%s): %.60s", json_tokener_error_desc (jerr),
                  r->body.data);
      else
        for (size_t i = 0; i < c->nrules; i++)
          eval_rule (&c->rules[i], doc, f);
    }
  if (c->max_latency > 0 && r->ns > c->max_latency)
    {
      char e[48], a[32];
      stack_format_duration (c->max_latency, a, sizeof a);
      snprintf (e, sizeof e, "at most %s", a);
      fmt_ns (a, sizeof a, r->ns);
      fail_add (f, "latency", e, "%s", a);
    }
}

struct http_job {
  const struct stack_check *c;
  const struct target *t;
  struct curl_slist *hdrs;
  unsigned total;
  atomic_uint next;
  int64_t *lat;
  atomic_size_t failed;
  pthread_mutex_t mu;
  struct fails first;          /* the first failed request's */
  bool have_first;
};

static void *
http_worker (void *arg)
{
  struct http_job *j = arg;
  CURL *h = curl_easy_init ();
  if (h == NULL)
    return NULL;
  struct http_resp r = { 0 };
  for (;;)
    {
      unsigned i = atomic_fetch_add (&j->next, 1);
      if (i >= j->total)
        break;
      http_once (h, j->t, j->c, j->hdrs, &r);
      j->lat[i] = r.ns;
      struct fails f = { 0 };
      http_eval (j->c, &r, &f);
      if (f.n)
        {
          atomic_fetch_add (&j->failed, 1);
          pthread_mutex_lock (&j->mu);
          if (!j->have_first)
            {
              j->first = f;
              j->have_first = true;
              memset (&f, 0, sizeof f);
            }
          pthread_mutex_unlock (&j->mu);
        }
      fails_free (&f);
    }
  buf_free (&r.headers);
  buf_free (&r.body);
  curl_easy_cleanup (h);
  return NULL;
}

static int
cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

void
check_figures (int64_t *lat, size_t n, int64_t wall, struct check_figures *f)
{
  memset (f, 0, sizeof *f);
  f->count = n;
  f->wall = wall;
  if (n == 0)
    return;
  qsort (lat, n, sizeof *lat, cmp_i64);
  /* nearest rank: the smallest value with at least p% of them at or below */
#define RANK(p) lat[((p) * n + 99) / 100 - 1]
  f->min = lat[0];
  f->p50 = RANK (50);
  f->p95 = RANK (95);
  f->p99 = RANK (99);
  f->max = lat[n - 1];
#undef RANK
  f->throughput = wall > 0 ? (double) n / ((double) wall / 1e9) : 0;
}

static void
http_check (const struct stack_check *c, const struct target *t, unsigned repeat,
            unsigned conc, struct check_result *res, struct fails *f)
{
  struct curl_slist *hdrs = NULL;
  for (size_t i = 0; i < c->headers.n; i++)
    {
      cleanup_free char *line = xasprintf ("%s: %s", c->headers.v[i].name,
                                           c->headers.v[i].value ? c->headers.v[i].value : "");
      hdrs = curl_slist_append (hdrs, line);
    }
  if (c->body && c->headers.n == 0)
    hdrs = curl_slist_append (hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append (hdrs, "Expect:");
  if (repeat <= 1)
    {
      CURL *h = curl_easy_init ();
      struct http_resp r = { 0 };
      http_once (h, t, c, hdrs, &r);
      res->ns = r.ns;
      http_eval (c, &r, f);
      buf_free (&r.headers);
      buf_free (&r.body);
      curl_easy_cleanup (h);
      curl_slist_free_all (hdrs);
      return;
    }
  if (conc == 0)
    conc = 1;
  if (conc > repeat)
    conc = repeat;
  struct http_job j = { .c = c, .t = t, .hdrs = hdrs, .total = repeat,
                        .lat = xcalloc (repeat, sizeof (int64_t)) };
  pthread_mutex_init (&j.mu, NULL);
  pthread_t *th = xcalloc (conc, sizeof *th);
  int64_t t0 = mono_ns ();
  for (unsigned i = 0; i < conc; i++)
    if (pthread_create (&th[i], NULL, http_worker, &j) != 0)
      th[i] = 0;
  for (unsigned i = 0; i < conc; i++)
    if (th[i])
      pthread_join (th[i], NULL);
  int64_t wall = mono_ns () - t0;
  free (th);
  res->ns = j.lat[0];
  check_figures (j.lat, repeat, wall, &res->fig);
  res->fig.failed = atomic_load (&j.failed);
  res->has_figures = true;
  if (j.have_first)
    {
      *f = j.first;
      if (res->fig.failed > 0)
        {
          char e[64];
          snprintf (e, sizeof e, "0 of %u requests failing", repeat);
          fail_add (f, "requests", e, "%zu failed (the first's failures above)", res->fig.failed);
        }
    }
  pthread_mutex_destroy (&j.mu);
  free (j.lat);
  curl_slist_free_all (hdrs);
}

/* ---- tcp ---- */

static void
tcp_check (const struct stack_check *c, const struct target *t, struct check_result *res,
           struct fails *f)
{
  int64_t limit = c->timeout ? c->timeout : 2000000000LL;
  char port[16];
  snprintf (port, sizeof port, "%u", t->port);
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
  int64_t t0 = mono_ns ();
  const char *why = NULL;
  char ebuf[128];
  if (getaddrinfo (t->host, port, &hints, &ai) != 0 || ai == NULL)
    why = "cannot resolve the address";
  int fd = -1;
  if (why == NULL)
    {
      fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0 || (connect (fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS))
        snprintf (ebuf, sizeof ebuf, "connect: %s", strerror (errno)), why = ebuf;
      else
        {
          struct pollfd p = { .fd = fd, .events = POLLOUT };
          int n = poll (&p, 1, (int) (limit / 1000000));
          int soerr = 0;
          socklen_t sl = sizeof soerr;
          if (n == 0)
            why = "no connection in time";
          else if (n < 0 || getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
            snprintf (ebuf, sizeof ebuf, "connect: %s", strerror (soerr ? soerr : errno)),
              why = ebuf;
        }
    }
  res->ns = mono_ns () - t0;
  if (fd >= 0)
    close (fd);
  if (ai)
    freeaddrinfo (ai);
  char d[32], e[160];
  stack_format_duration (limit, d, sizeof d);
  snprintf (e, sizeof e, "a connection to %s:%s within %s", t->host, port, d);
  if (why)
    fail_add (f, "connect", e, "%s", why);
}

/* ---- through the container: sql, redis, exec ---- */

/* exec argv (env: "NAME=value", may be NULL) in cid; output and exit code
 * (data_exec_run: the data module's exec, output capped at 64 KiB) */
static int
cexec (struct engine *e, const char *cid, const char *const *argv, const char *const *env,
       struct buf *out, int *ec, struct itm_err *err)
{
  struct data_exec x = { .argv = argv, .env = env, .timeout_ms = 120000 };
  return data_exec_run (e, cid, &x, out, ec, err);
}

static const char *
svc_env (const struct stack_service *svc, const char *name)
{
  for (size_t i = svc->environment.n; i-- > 0;)
    if (strcmp (svc->environment.v[i].name, name) == 0)
      return svc->environment.v[i].value;
  return NULL;
}

static void
trim (struct buf *b)
{
  while (b->len && strchr ("\n\r\t ", b->data[b->len - 1]))
    b->data[--b->len] = '\0';
}

/* expect equals / match / rows on the trimmed output */
static void
text_eval (const struct stack_check *c, const char *out, struct fails *f)
{
  if (c->equals)
    {
      size_t l = strlen (c->equals);
      while (l && strchr ("\n\r\t ", c->equals[l - 1]))
        l--;
      if (strlen (out) != l || strncmp (out, c->equals, l) != 0)
        fail_add (f, "output", c->equals, "%s", out);
    }
  if (c->match && !check_re_match (c->match, out))
    {
      cleanup_free char *e = xasprintf ("to match '%s'", c->match);
      fail_add (f, "output", e, "%s", out);
    }
  if (c->rows_set)
    {
      cleanup_buf struct buf want = { 0 };
      buf_adds (&want, "");
      for (size_t i = 0; i < c->nrows; i++)
        buf_addf (&want, "%s%s", i ? "\n" : "", c->rows[i]);
      if (strcmp (want.data, out) != 0)
        fail_add (f, "rows", want.data, "%s", out);
    }
}

static int
container_check (struct engine *e, const struct stack_service *svc, const char *cid,
                 const struct stack_check *c, struct check_result *res, struct fails *f,
                 struct itm_err *err)
{
  cleanup_buf struct buf out = { 0 };
  int ec = 0, rc;
  int64_t t0 = mono_ns ();
  if (c->kind == STACK_CHECK_SQL)
    {
      const char *user = svc_env (svc, "POSTGRES_USER");
      if (user == NULL || *user == '\0')
        user = "postgres";
      const char *db = c->database ? c->database : svc_env (svc, "POSTGRES_DB");
      if (db == NULL || *db == '\0')
        db = user;
      const char *pw = svc_env (svc, "POSTGRES_PASSWORD");
      /* the query on psql's standard input, from the exec's environment:
       * never on a command line */
      static const char script[] =
        "printf '%s\\n' \"$ITM_SQL\" | psql -X -v ON_ERROR_STOP=1 -tA -U \"$1\" -d \"$2\"";
      const char *argv[] = { "sh", "-c", script, "sh", user, db, NULL };
      cleanup_free char *q = xasprintf ("ITM_SQL=%s", c->query);
      cleanup_free char *pe = pw ? xasprintf ("PGPASSWORD=%s", pw) : NULL;
      const char *env[] = { q, pe, NULL };
      rc = cexec (e, cid, argv, env, &out, &ec, err);
    }
  else if (c->kind == STACK_CHECK_REDIS)
    {
      cleanup_free const char **argv = xcalloc (c->argv.n + 2, sizeof *argv);
      argv[0] = "redis-cli";
      for (size_t i = 0; i < c->argv.n; i++)
        argv[i + 1] = c->argv.v[i];
      const char *pw = svc_env (svc, "REDIS_PASSWORD");
      cleanup_free char *pe = pw ? xasprintf ("REDISCLI_AUTH=%s", pw) : NULL;
      const char *env[] = { pe, NULL };
      rc = cexec (e, cid, argv, env, &out, &ec, err);
    }
  else
    rc = cexec (e, cid, (const char *const *) c->argv.v, NULL, &out, &ec, err);
  res->ns = mono_ns () - t0;
  if (rc < 0)
    return -1;
  trim (&out);
  const char *value = out.data;
  if (c->kind == STACK_CHECK_REDIS)
    {
      /* redis-cli without a terminal: an error is a line "ERR ..." */
      if (strncmp (value, "ERR ", 4) == 0 || strncmp (value, "WRONGTYPE ", 10) == 0
          || strncmp (value, "NOAUTH ", 7) == 0)
        ec = ec ? ec : 1;
      /* CONFIG GET one parameter: the name, then the value */
      if (c->argv.n == 3 && strcasecmp (c->argv.v[0], "CONFIG") == 0
          && strcasecmp (c->argv.v[1], "GET") == 0)
        {
          const char *nl = strchr (value, '\n');
          value = nl ? nl + 1 : "";
        }
    }
  if (c->kind == STACK_CHECK_EXEC)
    {
      if (ec != c->exit_code)
        {
          char e2[16];
          snprintf (e2, sizeof e2, "%d", c->exit_code);
          fail_add (f, "exit code", e2, "%d (output: %.200s)", ec, value);
        }
    }
  else if (ec != 0)
    {
      fail_add (f, c->kind == STACK_CHECK_SQL ? "psql" : "redis-cli", "exit code 0",
                "exit code %d: %.300s", ec, value);
      return 0;
    }
  text_eval (c, value, f);
  return 0;
}

static int
image_check (struct engine *e, const char *cid, const struct stack_check *c,
             struct check_result *res, struct fails *f, struct itm_err *err)
{
  int64_t t0 = mono_ns ();
  cleanup_json json_object *ci = NULL, *ii = NULL;
  cleanup_free char *p = xasprintf ("/containers/%s/json", cid);
  if (engine_get (e, p, &ci, err) < 0)
    return -1;
  const char *img = json_str (ci, "Image");
  cleanup_free char *q = xasprintf ("/images/%s/json", img ? img : "");
  if (engine_get (e, q, &ii, err) < 0)
    return -1;
  res->ns = mono_ns () - t0;
  const char *id = json_str (ii, "Id");
  if (id && strcmp (id, c->digest) == 0)
    return 0;
  cleanup_buf struct buf have = { 0 };
  buf_addf (&have, "%s", id ? id : "?");
  json_object *rd = json_key (ii, "RepoDigests");
  for (size_t i = 0; rd && i < json_object_array_length (rd); i++)
    {
      const char *d = json_object_get_string (json_object_array_get_idx (rd, i));
      const char *at = d ? strchr (d, '@') : NULL;
      if (d && (strcmp (d, c->digest) == 0 || (at && strcmp (at + 1, c->digest) == 0)))
        return 0;
      buf_addf (&have, ", %s", d ? d : "");
    }
  fail_add (f, "image digest", c->digest, "%s", have.data);
  return 0;
}

/* ---- the run ---- */

static bool
selected (const struct check_opts *o, const char *name)
{
  if (o == NULL || o->nservices == 0)
    return true;
  for (size_t i = 0; i < o->nservices; i++)
    if (strcmp (o->services[i], name) == 0)
      return true;
  return false;
}

size_t
check_count (const struct stack *st, const char *const *services, size_t nservices)
{
  struct check_opts o = { .services = services, .nservices = nservices };
  size_t n = 0;
  for (size_t i = 0; i < st->nservices; i++)
    if (selected (&o, st->services[i].name))
      n += st->services[i].nchecks;
  return n;
}

/* Where to reach the container's port: when itm-env has joined the
 * namespace's networks, the service name and the container port (published
 * or not); else its published binding on the engine's host (127.0.0.1 for
 * a wildcard) or ITM_ENV_HOST_OVERRIDE's address with the published port,
 * as the connection variables say (conn_reach_host). */
static bool
target_of (const struct state_container *sc, unsigned port, struct target *t)
{
  if (conn_get_reach () == CONN_REACH_JOINED && sc->service)
    {
      t->host = xstrdup (sc->service);
      t->port = port;
      return true;
    }
  struct state_port *p = state_port (sc, port, "tcp");
  if (p == NULL || p->host_port == 0)
    return false;
  char pbuf[16];
  conn_reach_port (p, pbuf);
  t->host = xstrdup (conn_reach_host (sc, p));
  t->port = (unsigned) strtoul (pbuf, NULL, 10);
  return true;
}

static int
run_one (struct engine *e, const struct state *s, const struct stack_service *svc,
         const struct stack_check *c, const struct check_opts *o, struct check_result *res,
         struct itm_err *err)
{
  struct fails f = { 0 };
  res->service = svc->name;
  res->check = c;
  res->ns = -1;
  size_t nc = 0;
  struct state_container *sc = state_service (s, svc->name, &nc), *run = NULL;
  for (size_t k = 0; sc && k < nc && run == NULL; k++)
    if (strcmp (sc[k].state, "running") == 0)
      run = &sc[k];
  int rc = 0;
  struct target t = { 0 };
  if (run == NULL)
    fail_add (&f, "service", "a running container", "none");
  else if (c->kind == STACK_CHECK_HTTP || c->kind == STACK_CHECK_TCP)
    {
      if (!target_of (run, c->port, &t))
        {
          cleanup_free char *e2 = xasprintf ("port %u published (or itm-env joined to the "
                                             "namespace's networks: --connect)", c->port);
          fail_add (&f, "port", e2, "not published");
        }
      else if (c->kind == STACK_CHECK_TCP)
        tcp_check (c, &t, res, &f);
      else
        {
          t.url = strchr (t.host, ':') ? xasprintf ("http://[%s]:%u%s", t.host, t.port, c->path)
                                       : xasprintf ("http://%s:%u%s", t.host, t.port, c->path);
          http_check (c, &t, o ? o->repeat : 1, o ? o->concurrency : 1, res, &f);
        }
    }
  else if (c->kind == STACK_CHECK_IMAGE)
    rc = image_check (e, run->id, c, res, &f, err);
  else
    rc = container_check (e, svc, run->id, c, res, &f, err);
  free (t.url);
  free (t.host);
  res->ok = rc == 0 && f.n == 0;
  res->failures = f.v;
  res->nfailures = f.n;
  res->shape_diff = f.n && f.diff.len ? data_mask (f.diff.data) : NULL;
  buf_free (&f.diff);
  return rc;
}

int
check_all (struct engine *e, const struct stack *st, const char *ns,
           const struct check_opts *o, struct check_run *r, struct itm_err *err)
{
  memset (r, 0, sizeof *r);
  r->repeat = o && o->repeat > 1 ? o->repeat : 1;
  r->concurrency = o && o->concurrency ? o->concurrency : 1;
  for (size_t i = 0; o && i < o->nservices; i++)
    if (stack_service (st, o->services[i]) == NULL)
      return itm_err_set (err, ITM_EXIT_NOT_FOUND, "check: no service '%s' in the stack",
                          o->services[i]);
  cleanup_state struct state *s = NULL;
  if (state_load (e, ns, &s, err) < 0)
    return -1;
  if (state_empty (s))
    return itm_err_set (err, ITM_EXIT_NOT_FOUND, "namespace '%s' has no containers (is it up?)",
                        ns);
  size_t total = check_count (st, o ? o->services : NULL, o ? o->nservices : 0);
  r->v = xcalloc (total ? total : 1, sizeof *r->v);
  for (size_t i = 0; i < st->nservices; i++)
    {
      const struct stack_service *svc = &st->services[i];
      if (!selected (o, svc->name))
        continue;
      for (size_t k = 0; k < svc->nchecks; k++)
        {
          struct check_result *res = &r->v[r->n++];
          if (run_one (e, s, svc, &svc->checks[k], o, res, err) < 0)
            return itm_err_prefix (err, "check '%s' of %s", svc->checks[k].name, svc->name);
          if (!res->ok)
            r->nfailed++;
        }
    }
  return 0;
}

void
check_run_free (struct check_run *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      struct fails f = { .v = r->v[i].failures, .n = r->v[i].nfailures };
      fails_free (&f);
      free (r->v[i].shape_diff);
    }
  free (r->v);
  memset (r, 0, sizeof *r);
}

/* ---- output ---- */

static void
failures_text (const struct check_result *c, struct buf *b)
{
  for (size_t i = 0; i < c->nfailures; i++)
    buf_addf (b, "%s: expected %s, got %s\n", c->failures[i].what, c->failures[i].expected,
              c->failures[i].actual);
  if (c->shape_diff)
    buf_addf (b, "shape diff (- expected, + actual):\n%s", c->shape_diff);
}

static void
figures_line (const struct check_figures *f, unsigned conc, struct buf *b)
{
  char mn[32], p50[32], p95[32], p99[32], mx[32];
  fmt_ns (mn, sizeof mn, f->min);
  fmt_ns (p50, sizeof p50, f->p50);
  fmt_ns (p95, sizeof p95, f->p95);
  fmt_ns (p99, sizeof p99, f->p99);
  fmt_ns (mx, sizeof mx, f->max);
  buf_addf (b, "%zu requests (%u at once, %zu failed): min %s, p50 %s, p95 %s, p99 %s, "
            "max %s, %.1f req/s", f->count, conc, f->failed, mn, p50, p95, p99, mx,
            f->throughput);
}

void
check_print (const struct check_run *r, FILE *out)
{
  for (size_t i = 0; i < r->n; i++)
    {
      const struct check_result *c = &r->v[i];
      char d[32];
      fmt_ns (d, sizeof d, c->ns < 0 ? 0 : c->ns);
      fprintf (out, "%-6s %s: %s (%s, %s)\n", c->ok ? "ok" : "FAILED", c->service, c->check->name,
               stack_check_kind_name (c->check->kind), d);
      cleanup_buf struct buf b = { 0 };
      buf_adds (&b, "");
      if (c->has_figures)
        {
          figures_line (&c->fig, r->concurrency, &b);
          buf_adds (&b, "\n");
        }
      if (!c->ok)
        failures_text (c, &b);
      for (char *p = b.data; *p;)
        {
          char *nl = strchr (p, '\n');
          size_t n = nl ? (size_t) (nl - p) : strlen (p);
          fprintf (out, "  %.*s\n", (int) n, p);
          p += n + (nl ? 1 : 0);
        }
    }
  fprintf (out, "%zu check%s, %zu passed, %zu failed\n", r->n, r->n == 1 ? "" : "s",
           r->n - r->nfailed, r->nfailed);
  fflush (out);
}

static json_object *
ms (int64_t ns)
{
  return json_object_new_double ((double) ns / 1e6);
}

json_object *
check_json (const struct check_run *r)
{
  json_object *o = json_object_new_object ();
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < r->n; i++)
    {
      const struct check_result *c = &r->v[i];
      json_object *j = json_object_new_object ();
      json_object_object_add (j, "service", json_object_new_string (c->service));
      json_object_object_add (j, "name", json_object_new_string (c->check->name));
      json_object_object_add (j, "kind",
                              json_object_new_string (stack_check_kind_name (c->check->kind)));
      json_object_object_add (j, "ok", json_object_new_boolean (c->ok));
      json_object_object_add (j, "duration_ms", c->ns < 0 ? NULL : ms (c->ns));
      json_object *fl = json_object_new_array ();
      for (size_t k = 0; k < c->nfailures; k++)
        {
          json_object *x = json_object_new_object ();
          json_object_object_add (x, "what", json_object_new_string (c->failures[k].what));
          json_object_object_add (x, "expected",
                                  json_object_new_string (c->failures[k].expected));
          json_object_object_add (x, "actual", json_object_new_string (c->failures[k].actual));
          json_object_array_add (fl, x);
        }
      json_object_object_add (j, "failures", fl);
      json_object_object_add (j, "shape_diff",
                              c->shape_diff ? json_object_new_string (c->shape_diff) : NULL);
      if (c->has_figures)
        {
          json_object *l = json_object_new_object ();
          json_object_object_add (l, "count", json_object_new_int64 ((int64_t) c->fig.count));
          json_object_object_add (l, "failed", json_object_new_int64 ((int64_t) c->fig.failed));
          json_object_object_add (l, "concurrency", json_object_new_int64 (r->concurrency));
          json_object_object_add (l, "min_ms", ms (c->fig.min));
          json_object_object_add (l, "p50_ms", ms (c->fig.p50));
          json_object_object_add (l, "p95_ms", ms (c->fig.p95));
          json_object_object_add (l, "p99_ms", ms (c->fig.p99));
          json_object_object_add (l, "max_ms", ms (c->fig.max));
          json_object_object_add (l, "wall_ms", ms (c->fig.wall));
          json_object_object_add (l, "throughput_rps", json_object_new_double (c->fig.throughput));
          json_object_object_add (j, "latency", l);
        }
      json_object_array_add (a, j);
    }
  json_object_object_add (o, "checks", a);
  json_object_object_add (o, "passed", json_object_new_int64 ((int64_t) (r->n - r->nfailed)));
  json_object_object_add (o, "failed", json_object_new_int64 ((int64_t) r->nfailed));
  return o;
}

void
check_report (struct report *rep, const struct check_run *r)
{
  if (rep == NULL)
    return;
  for (size_t i = 0; i < r->n; i++)
    {
      const struct check_result *c = &r->v[i];
      cleanup_buf struct buf exp = { 0 }, act = { 0 }, det = { 0 };
      buf_adds (&exp, ""), buf_adds (&act, ""), buf_adds (&det, "");
      for (size_t k = 0; k < c->nfailures; k++)
        {
          buf_addf (&exp, "%s%s: %s", k ? "\n" : "", c->failures[k].what,
                    c->failures[k].expected);
          buf_addf (&act, "%s%s: %s", k ? "\n" : "", c->failures[k].what, c->failures[k].actual);
        }
      failures_text (c, &det);
      report_check (rep, c->service, c->check->name, c->ok, c->ns, c->nfailures ? exp.data : NULL,
                    c->nfailures ? act.data : NULL);
      struct report_figures f = { .count = c->fig.count, .failed = c->fig.failed,
                                  .min = c->fig.min, .p50 = c->fig.p50, .p95 = c->fig.p95,
                                  .p99 = c->fig.p99, .max = c->fig.max,
                                  .throughput = c->fig.throughput };
      report_check_detail (rep, c->service, c->check->name,
                           stack_check_kind_name (c->check->kind), det.len ? det.data : NULL,
                           c->has_figures ? &f : NULL);
    }
}

int
check_gate (struct engine *e, const struct stack *st, const char *ns, FILE *f,
            struct itm_err *err)
{
  if (check_count (st, NULL, 0) == 0)
    return 0;
  struct check_run r;
  struct check_opts o = { .repeat = 1 };
  int rc = check_all (e, st, ns, &o, &r, err);
  if (rc == 0)
    {
      check_print (&r, f);
      check_report (report_current (), &r);
      if (r.nfailed)
        rc = itm_err_set (err, ITM_EXIT_CHECK, "%zu of %zu check%s failed", r.nfailed, r.n,
                          r.n == 1 ? "" : "s");
    }
  check_run_free (&r);
  return rc;
}
