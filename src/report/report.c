/* report.c - the report collector, its three renderings (text, JSON,
 * JUnit XML), log files and GitHub Actions annotations. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "report/report.h"
#include "util/xalloc.h"

struct rsvc {
  char *name, *state, *gate, *detail;
  int64_t ready_ns, probe_ns;
  bool failed;                   /* report_failure was called */
  char *reason, *logs, *probes;
  char *logs_file;
};
struct rseed {
  char *service, *step, *output;
  bool ok;
  int64_t ns;
  long long rows;
};
struct rcheck {
  char *service, *name, *expected, *actual;
  bool ok;
  int64_t ns;
};
enum { RES_CREATED = 1, RES_REMOVED = 2, RES_LEFT = 4, RES_SUSPECT = 8 };
struct rres {
  char *kind, *name, *detail;
  unsigned flags;
};
struct ralias {
  char *kind, *id, *name;
};

struct report {
  pthread_mutex_t mu;
  char *command, *ns;
  char *endpoint, *version, *api;
  char **files;
  size_t nfiles;
  int64_t t0, t1;
  time_t wall0;
  bool finished;
  int exit_code;
  char *message;
  struct rsvc *svc;
  size_t nsvc;
  struct rseed *seeds;
  size_t nseeds;
  struct rcheck *checks;
  size_t nchecks;
  struct rres *res;
  size_t nres;
  struct ralias *alias;
  size_t nalias;
  bool verified, clean;
  char *checked;
  char **argv;
  int cmd_exit;
  int64_t cmd_ns;
  bool has_cmd;
  char *logs_dir;
  bool annotated;
};

static struct report *current;
static char *(*mask_fn) (const char *s);

void
report_set_mask (char *(*mask) (const char *s))
{
  mask_fn = mask;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A copy of s that is valid UTF-8 (invalid bytes become U+FFFD), or NULL. */
static char *
clean_dup (const char *s)
{
  if (s == NULL)
    return NULL;
  cleanup_free char *masked = mask_fn ? mask_fn (s) : NULL;
  struct buf b = { 0 };
  buf_adds (&b, "");
  const unsigned char *p = (const unsigned char *) (masked ? masked : s);
  while (*p)
    {
      size_t n = 0;
      unsigned c = *p;
      if (c < 0x80)
        n = 1;
      else if (c >= 0xc2 && c <= 0xdf)
        n = 2;
      else if (c >= 0xe0 && c <= 0xef)
        n = 3;
      else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
      bool ok = n > 0;
      for (size_t i = 1; ok && i < n; i++)
        ok = (p[i] & 0xc0) == 0x80;
      if (ok && n == 3)
        ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
      if (ok && n == 4)
        ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
      if (ok)
        {
          buf_add (&b, p, n);
          p += n;
        }
      else
        {
          buf_adds (&b, "\xef\xbf\xbd");
          p++;
        }
    }
  return buf_steal (&b);
}

static void
set_str (char **dst, const char *s)
{
  free (*dst);
  *dst = clean_dup (s);
}

/* ---- the collector ---- */

struct report *
report_new (const char *command)
{
  struct report *r = xzalloc (sizeof *r);
  pthread_mutex_init (&r->mu, NULL);
  r->command = xstrdup (command ? command : "itm-env");
  r->t0 = now_ns ();
  r->wall0 = time (NULL);
  r->cmd_exit = -1;
  return r;
}

void
report_free (struct report *r)
{
  if (r == NULL)
    return;
  if (current == r)
    current = NULL;
  free (r->command);
  free (r->ns);
  free (r->endpoint);
  free (r->version);
  free (r->api);
  for (size_t i = 0; i < r->nfiles; i++)
    free (r->files[i]);
  free (r->files);
  free (r->message);
  for (size_t i = 0; i < r->nsvc; i++)
    {
      struct rsvc *s = &r->svc[i];
      free (s->name), free (s->state), free (s->gate), free (s->detail);
      free (s->reason), free (s->logs), free (s->probes), free (s->logs_file);
    }
  free (r->svc);
  for (size_t i = 0; i < r->nseeds; i++)
    free (r->seeds[i].service), free (r->seeds[i].step), free (r->seeds[i].output);
  free (r->seeds);
  for (size_t i = 0; i < r->nchecks; i++)
    {
      free (r->checks[i].service), free (r->checks[i].name);
      free (r->checks[i].expected), free (r->checks[i].actual);
    }
  free (r->checks);
  for (size_t i = 0; i < r->nres; i++)
    free (r->res[i].kind), free (r->res[i].name), free (r->res[i].detail);
  free (r->res);
  for (size_t i = 0; i < r->nalias; i++)
    free (r->alias[i].kind), free (r->alias[i].id), free (r->alias[i].name);
  free (r->alias);
  free (r->checked);
  if (r->argv)
    for (char **a = r->argv; *a; a++)
      free (*a);
  free (r->argv);
  free (r->logs_dir);
  pthread_mutex_destroy (&r->mu);
  free (r);
}

void
report_set_current (struct report *r)
{
  current = r;
}

struct report *
report_current (void)
{
  return current;
}

void
report_engine (struct report *r, const char *endpoint, const char *version,
               const char *api_version)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  set_str (&r->endpoint, endpoint);
  set_str (&r->version, version);
  set_str (&r->api, api_version);
  pthread_mutex_unlock (&r->mu);
}

void
report_engine_from (struct report *r, struct engine *e)
{
  if (r == NULL || e == NULL)
    return;
  cleanup_err struct itm_err err = { 0 };
  json_object *v = NULL, *ver = NULL;
  if (engine_get (e, "/version", &v, &err) == 0)
    json_object_object_get_ex (v, "Version", &ver);
  report_engine (r, engine_endpoint (e), ver ? json_object_get_string (ver) : NULL,
                 engine_api_version (e));
  json_object_put (v);
}

void
report_namespace (struct report *r, const char *ns)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  set_str (&r->ns, ns);
  pthread_mutex_unlock (&r->mu);
}

void
report_stack_file (struct report *r, const char *path)
{
  if (r == NULL || path == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->files = xrealloc (r->files, (r->nfiles + 1) * sizeof *r->files);
  r->files[r->nfiles++] = clean_dup (path);
  pthread_mutex_unlock (&r->mu);
}

void
report_finish (struct report *r, int exit_code, const char *message)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->finished = true;
  r->t1 = now_ns ();
  r->exit_code = exit_code;
  set_str (&r->message, message);
  pthread_mutex_unlock (&r->mu);
}

/* The service's entry, made on first use (r->mu held). */
static struct rsvc *
svc_get (struct report *r, const char *name)
{
  for (size_t i = 0; i < r->nsvc; i++)
    if (strcmp (r->svc[i].name, name) == 0)
      return &r->svc[i];
  r->svc = xrealloc (r->svc, (r->nsvc + 1) * sizeof *r->svc);
  struct rsvc *s = &r->svc[r->nsvc++];
  *s = (struct rsvc){ .name = clean_dup (name), .state = xstrdup ("pending"), .ready_ns = -1,
                      .probe_ns = -1 };
  return s;
}

void
report_service (struct report *r, const char *service, const char *state,
                int64_t time_to_ready_ns, int64_t probe_ns, const char *gate, const char *detail)
{
  if (r == NULL || service == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  struct rsvc *s = svc_get (r, service);
  if (state)
    set_str (&s->state, state);
  if (time_to_ready_ns >= 0)
    s->ready_ns = time_to_ready_ns;
  if (probe_ns >= 0)
    s->probe_ns = probe_ns;
  if (gate)
    set_str (&s->gate, gate);
  if (detail)
    set_str (&s->detail, detail);
  pthread_mutex_unlock (&r->mu);
}

void
report_failure (struct report *r, const char *service, const char *reason,
                const char *last_logs, const char *probe_output)
{
  cleanup_free char *title = xasprintf ("itm-env: %s failed", service ? service : "stack");
  cleanup_buf struct buf m = { 0 };
  buf_addf (&m, "%s%s%s", service ? service : "", service ? ": " : "",
            reason ? reason : "failed");
  if (last_logs && *last_logs)
    buf_addf (&m, "\nlast log lines:\n%s", last_logs);
  if (probe_output && *probe_output)
    buf_addf (&m, "\nlast probes:\n%s", probe_output);
  report_annotate (title, m.data);
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->annotated = true;
  if (service)
    {
      struct rsvc *s = svc_get (r, service);
      s->failed = true;
      set_str (&s->reason, reason);
      set_str (&s->logs, last_logs);
      set_str (&s->probes, probe_output);
      if (strcmp (s->state, "pending") == 0 || strcmp (s->state, "ready") == 0)
        set_str (&s->state, "failed");
    }
  pthread_mutex_unlock (&r->mu);
}

void
report_seed (struct report *r, const char *service, const char *step, bool ok,
             int64_t duration_ns, long long rows, const char *output)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->seeds = xrealloc (r->seeds, (r->nseeds + 1) * sizeof *r->seeds);
  r->seeds[r->nseeds++] = (struct rseed){ .service = clean_dup (service ? service : ""),
                                          .step = clean_dup (step ? step : "seed"),
                                          .output = clean_dup (output), .ok = ok,
                                          .ns = duration_ns, .rows = rows };
  pthread_mutex_unlock (&r->mu);
}

void
report_check (struct report *r, const char *service, const char *name, bool ok,
              int64_t duration_ns, const char *expected, const char *actual)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->checks = xrealloc (r->checks, (r->nchecks + 1) * sizeof *r->checks);
  r->checks[r->nchecks++] = (struct rcheck){ .service = clean_dup (service ? service : ""),
                                             .name = clean_dup (name ? name : "check"),
                                             .expected = clean_dup (expected),
                                             .actual = clean_dup (actual), .ok = ok,
                                             .ns = duration_ns };
  pthread_mutex_unlock (&r->mu);
}

void
report_resource_id (struct report *r, const char *kind, const char *id, const char *name)
{
  if (r == NULL || kind == NULL || id == NULL || name == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->alias = xrealloc (r->alias, (r->nalias + 1) * sizeof *r->alias);
  r->alias[r->nalias++] = (struct ralias){ .kind = xstrdup (kind), .id = xstrdup (id),
                                           .name = clean_dup (name) };
  pthread_mutex_unlock (&r->mu);
}

void
report_resource (struct report *r, const char *kind, const char *name, enum report_res status,
                 const char *detail)
{
  if (r == NULL || kind == NULL || name == NULL)
    return;
  static const unsigned flag[] = { RES_CREATED, RES_REMOVED, RES_LEFT, RES_SUSPECT };
  pthread_mutex_lock (&r->mu);
  for (size_t i = 0; i < r->nalias; i++)
    if (strcmp (r->alias[i].kind, kind) == 0 && strcmp (r->alias[i].id, name) == 0)
      {
        name = r->alias[i].name;
        break;
      }
  struct rres *x = NULL;
  for (size_t i = 0; i < r->nres && x == NULL; i++)
    if (strcmp (r->res[i].kind, kind) == 0 && strcmp (r->res[i].name, name) == 0)
      x = &r->res[i];
  if (x == NULL)
    {
      r->res = xrealloc (r->res, (r->nres + 1) * sizeof *r->res);
      x = &r->res[r->nres++];
      *x = (struct rres){ .kind = clean_dup (kind), .name = clean_dup (name) };
    }
  if ((unsigned) status < 4)
    x->flags |= flag[status];
  if (status == REPORT_RES_REMOVED)
    x->flags &= ~(unsigned) RES_LEFT;
  if (detail)
    set_str (&x->detail, detail);
  pthread_mutex_unlock (&r->mu);
}

void
report_verify (struct report *r, bool clean, const char *checked)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->verified = true;
  r->clean = clean;
  set_str (&r->checked, checked);
  pthread_mutex_unlock (&r->mu);
}

void
report_command (struct report *r, const char *const *argv, int exit_code, int64_t duration_ns)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  if (r->argv)
    for (char **a = r->argv; *a; a++)
      free (*a);
  free (r->argv);
  size_t n = 0;
  while (argv && argv[n])
    n++;
  r->argv = xcalloc (n + 1, sizeof *r->argv);
  for (size_t i = 0; i < n; i++)
    r->argv[i] = clean_dup (argv[i]);
  r->has_cmd = true;
  r->cmd_exit = exit_code;
  r->cmd_ns = duration_ns;
  pthread_mutex_unlock (&r->mu);
}

void
report_logs_file (struct report *r, const char *service, const char *path)
{
  if (r == NULL || service == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  set_str (&svc_get (r, service)->logs_file, path);
  pthread_mutex_unlock (&r->mu);
}

/* ---- rendering helpers ---- */

static double
secs (int64_t ns)
{
  return (double) ns / 1e9;
}

static int64_t
duration (const struct report *r)
{
  return (r->finished ? r->t1 : now_ns ()) - r->t0;
}

static void
iso_time (time_t t, char *out, size_t n)
{
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static size_t
count_res (const struct report *r, unsigned flag, const char *kind)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nres; i++)
    if ((r->res[i].flags & flag) && (kind == NULL || strcmp (r->res[i].kind, kind) == 0))
      n++;
  return n;
}

static bool
svc_failed (const struct rsvc *s)
{
  return s->failed || strcmp (s->state, "failed") == 0 || strcmp (s->state, "timeout") == 0
         || strcmp (s->state, "interrupted") == 0;
}

static bool
svc_skipped (const struct rsvc *s)
{
  return !svc_failed (s) && (strcmp (s->state, "skipped") == 0
                             || strcmp (s->state, "pending") == 0);
}

static bool
has_teardown (const struct report *r)
{
  return r->verified || r->nres > 0;
}

static bool
teardown_ok (const struct report *r)
{
  return (r->verified ? r->clean : true) && count_res (r, RES_LEFT, NULL) == 0;
}

/* ---- text ---- */

static void
text_block (struct buf *b, const char *title, const char *text)
{
  if (text == NULL || *text == '\0')
    return;
  buf_addf (b, "    %s:\n", title);
  const char *p = text;
  while (*p)
    {
      const char *nl = strchr (p, '\n');
      size_t n = nl ? (size_t) (nl - p) : strlen (p);
      buf_addf (b, "      | %.*s\n", (int) n, p);
      p += n + (nl ? 1 : 0);
    }
}

static void
fmt_dur (char *out, size_t n, int64_t ns)
{
  if (ns < 0)
    snprintf (out, n, "-");
  else
    snprintf (out, n, "%.3f s", secs (ns));
}

static void
text_res_line (struct buf *b, const struct report *r, const char *label, unsigned flag)
{
  static const char *const kinds[] = { "container", "network", "volume", "image",
                                       "data-namespace" };
  buf_addf (b, "  %-10s", label);
  bool first = true;
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
    {
      size_t n = count_res (r, flag, kinds[k]);
      /* images and data namespaces: shown when there were any */
      if (n == 0 && k >= 3 && count_res (r, RES_CREATED, kinds[k]) == 0)
        continue;
      buf_addf (b, "%s%zu %s%s", first ? "" : ", ", n, kinds[k],
                n == 1 ? "" : "s");
      first = false;
    }
  buf_adds (b, "\n");
  if (flag & (RES_LEFT | RES_SUSPECT))
    for (size_t i = 0; i < r->nres; i++)
      if (r->res[i].flags & flag)
        buf_addf (b, "    %s %s%s%s\n", r->res[i].kind, r->res[i].name,
                  r->res[i].detail ? ": " : "", r->res[i].detail ? r->res[i].detail : "");
}

static void
render_text (struct report *r, struct buf *b)
{
  char when[32], d[32];
  iso_time (r->wall0, when, sizeof when);
  cleanup_free char *title = xasprintf ("itm-env %s report", r->command);
  buf_addf (b, "%s\n", title);
  for (size_t i = strlen (title); i > 0; i--)
    buf_addc (b, '=');
  buf_adds (b, "\n");
  buf_addf (b, "Namespace:  %s\n", r->ns ? r->ns : "-");
  buf_addf (b, "Engine:     %s", r->endpoint ? r->endpoint : "-");
  if (r->version || r->api)
    buf_addf (b, " (Docker %s, API %s)", r->version ? r->version : "?", r->api ? r->api : "?");
  buf_adds (b, "\n");
  for (size_t i = 0; i < r->nfiles; i++)
    buf_addf (b, "%s %s\n", i == 0 ? "Stack:     " : "           ", r->files[i]);
  buf_addf (b, "Started:    %s\n", when);
  fmt_dur (d, sizeof d, duration (r));
  buf_addf (b, "Duration:   %s\n", d);
  buf_addf (b, "Result:     %s (exit %d)%s%s\n", r->exit_code == 0 ? "PASSED" : "FAILED",
            r->exit_code, r->message ? ": " : "", r->message ? r->message : "");

  if (r->has_cmd)
    {
      buf_adds (b, "\nCommand\n");
      buf_adds (b, " ");
      for (char **a = r->argv; a && *a; a++)
        buf_addf (b, " %s", *a);
      fmt_dur (d, sizeof d, r->cmd_ns);
      if (r->cmd_exit >= 0)
        buf_addf (b, "\n  exit %d after %s\n", r->cmd_exit, d);
      else
        buf_adds (b, "\n  not run\n");
    }

  size_t nready = 0, nfailed = 0, nskipped = 0;
  if (r->nsvc)
    {
      buf_addf (b, "\nServices (%zu)\n", r->nsvc);
      buf_addf (b, "  %-20s %-12s %-12s %-12s %s\n", "SERVICE", "STATE", "GATE", "READY IN",
                "PROBE");
      for (size_t i = 0; i < r->nsvc; i++)
        {
          struct rsvc *s = &r->svc[i];
          char rd[32], pd[32];
          fmt_dur (rd, sizeof rd, s->ready_ns);
          fmt_dur (pd, sizeof pd, s->probe_ns);
          buf_addf (b, "  %-20s %-12s %-12s %-12s %s", s->name, s->state,
                    s->gate ? s->gate : "-", rd, pd);
          if (s->detail)
            buf_addf (b, "  (%s)", s->detail);
          buf_adds (b, "\n");
          if (svc_failed (s))
            nfailed++;
          else if (svc_skipped (s))
            nskipped++;
          else
            nready++;
        }
    }
  size_t seeds_failed = 0, checks_failed = 0;
  if (r->nseeds)
    {
      buf_addf (b, "\nSeeds (%zu steps)\n", r->nseeds);
      for (size_t i = 0; i < r->nseeds; i++)
        {
          struct rseed *s = &r->seeds[i];
          fmt_dur (d, sizeof d, s->ns);
          buf_addf (b, "  %-20s %-6s %-10s", s->service, s->ok ? "ok" : "FAILED", d);
          if (s->rows >= 0)
            buf_addf (b, " %lld rows", s->rows);
          buf_addf (b, "  %s\n", s->step);
          if (!s->ok)
            {
              seeds_failed++;
              text_block (b, "output", s->output);
            }
        }
    }
  if (r->nchecks)
    {
      buf_addf (b, "\nData checks (%zu)\n", r->nchecks);
      for (size_t i = 0; i < r->nchecks; i++)
        {
          struct rcheck *c = &r->checks[i];
          fmt_dur (d, sizeof d, c->ns);
          buf_addf (b, "  %-20s %-6s %-10s %s\n", c->service, c->ok ? "ok" : "FAILED", d,
                    c->name);
          if (!c->ok)
            {
              checks_failed++;
              text_block (b, "expected", c->expected);
              text_block (b, "actual", c->actual);
            }
        }
    }
  if (has_teardown (r))
    {
      buf_adds (b, "\nTeardown\n");
      text_res_line (b, r, "created:", RES_CREATED);
      text_res_line (b, r, "removed:", RES_REMOVED);
      text_res_line (b, r, "left:", RES_LEFT);
      if (count_res (r, RES_SUSPECT, NULL))
        text_res_line (b, r, "suspects:", RES_SUSPECT);
      if (r->verified)
        buf_addf (b, "  verified: %s%s%s\n", r->clean ? "clean" : "LEFTOVERS",
                  r->checked ? " - " : "", r->checked ? r->checked : "");
      else
        buf_adds (b, "  verified: not run\n");
    }
  bool any_failure = false;
  for (size_t i = 0; i < r->nsvc; i++)
    if (r->svc[i].failed || r->svc[i].reason)
      any_failure = true;
  if (any_failure)
    {
      buf_adds (b, "\nFailures\n");
      for (size_t i = 0; i < r->nsvc; i++)
        {
          struct rsvc *s = &r->svc[i];
          if (!s->failed && !s->reason)
            continue;
          buf_addf (b, "  %s: %s\n", s->name, s->reason ? s->reason : s->state);
          text_block (b, "last log lines", s->logs);
          text_block (b, "last probes", s->probes);
        }
    }
  bool any_logs = false;
  for (size_t i = 0; i < r->nsvc; i++)
    any_logs |= r->svc[i].logs_file != NULL;
  if (any_logs)
    {
      buf_adds (b, "\nLogs\n");
      for (size_t i = 0; i < r->nsvc; i++)
        if (r->svc[i].logs_file)
          buf_addf (b, "  %-20s %s\n", r->svc[i].name, r->svc[i].logs_file);
    }
  buf_addf (b, "\nSummary: %zu services (%zu ready, %zu failed, %zu skipped), "
               "%zu seed steps (%zu failed), %zu data checks (%zu failed), teardown %s\n",
            r->nsvc, nready, nfailed, nskipped, r->nseeds, seeds_failed, r->nchecks,
            checks_failed,
            !has_teardown (r) ? "not run" : teardown_ok (r) ? "clean" : "NOT CLEAN");
}

/* ---- JSON ---- */

static json_object *
jstr_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

static json_object *
jsecs (int64_t ns)
{
  if (ns < 0)
    return NULL;
  char t[32];
  snprintf (t, sizeof t, "%.3f", secs (ns));
  return json_object_new_double_s (secs (ns), t);
}

static json_object *
json_res_list (const struct report *r, unsigned flag)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < r->nres; i++)
    if (r->res[i].flags & flag)
      {
        json_object *o = json_object_new_object ();
        json_object_object_add (o, "kind", json_object_new_string (r->res[i].kind));
        json_object_object_add (o, "name", json_object_new_string (r->res[i].name));
        if (flag & (RES_LEFT | RES_SUSPECT))
          json_object_object_add (o, "detail", jstr_or_null (r->res[i].detail));
        json_object_array_add (a, o);
      }
  return a;
}

static void
render_json (struct report *r, struct buf *b)
{
  char when[32];
  iso_time (r->wall0, when, sizeof when);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "report_version", json_object_new_int (1));
  json_object_object_add (o, "command", json_object_new_string (r->command));
  json_object_object_add (o, "namespace", jstr_or_null (r->ns));
  json_object_object_add (o, "started_at", json_object_new_string (when));
  json_object_object_add (o, "duration_s", jsecs (duration (r)));
  json_object_object_add (o, "exit_code", json_object_new_int (r->exit_code));
  json_object_object_add (o, "passed", json_object_new_boolean (r->exit_code == 0));
  json_object_object_add (o, "message", jstr_or_null (r->message));
  json_object *en = json_object_new_object ();
  json_object_object_add (en, "endpoint", jstr_or_null (r->endpoint));
  json_object_object_add (en, "version", jstr_or_null (r->version));
  json_object_object_add (en, "api_version", jstr_or_null (r->api));
  json_object_object_add (o, "engine", en);
  json_object *fs = json_object_new_array ();
  for (size_t i = 0; i < r->nfiles; i++)
    json_object_array_add (fs, json_object_new_string (r->files[i]));
  json_object_object_add (o, "stack_files", fs);

  json_object *ss = json_object_new_array ();
  for (size_t i = 0; i < r->nsvc; i++)
    {
      struct rsvc *s = &r->svc[i];
      json_object *j = json_object_new_object ();
      json_object_object_add (j, "name", json_object_new_string (s->name));
      json_object_object_add (j, "state", json_object_new_string (s->state));
      json_object_object_add (j, "gate", jstr_or_null (s->gate));
      json_object_object_add (j, "time_to_ready_s", jsecs (s->ready_ns));
      json_object_object_add (j, "probe_response_s", jsecs (s->probe_ns));
      json_object_object_add (j, "detail", jstr_or_null (s->detail));
      json_object *f = NULL;
      if (s->failed || s->reason)
        {
          f = json_object_new_object ();
          json_object_object_add (f, "reason", jstr_or_null (s->reason));
          json_object_object_add (f, "last_logs", jstr_or_null (s->logs));
          json_object_object_add (f, "probe_output", jstr_or_null (s->probes));
        }
      json_object_object_add (j, "failure", f);
      json_object_object_add (j, "logs_file", jstr_or_null (s->logs_file));
      json_object_array_add (ss, j);
    }
  json_object_object_add (o, "services", ss);

  json_object *sd = json_object_new_array ();
  for (size_t i = 0; i < r->nseeds; i++)
    {
      struct rseed *s = &r->seeds[i];
      json_object *j = json_object_new_object ();
      json_object_object_add (j, "service", json_object_new_string (s->service));
      json_object_object_add (j, "step", json_object_new_string (s->step));
      json_object_object_add (j, "ok", json_object_new_boolean (s->ok));
      json_object_object_add (j, "duration_s", jsecs (s->ns));
      json_object_object_add (j, "rows", s->rows >= 0 ? json_object_new_int64 (s->rows) : NULL);
      json_object_object_add (j, "output", jstr_or_null (s->output));
      json_object_array_add (sd, j);
    }
  json_object_object_add (o, "seeds", sd);

  json_object *cs = json_object_new_array ();
  for (size_t i = 0; i < r->nchecks; i++)
    {
      struct rcheck *c = &r->checks[i];
      json_object *j = json_object_new_object ();
      json_object_object_add (j, "service", json_object_new_string (c->service));
      json_object_object_add (j, "name", json_object_new_string (c->name));
      json_object_object_add (j, "ok", json_object_new_boolean (c->ok));
      json_object_object_add (j, "duration_s", jsecs (c->ns));
      json_object_object_add (j, "expected", jstr_or_null (c->expected));
      json_object_object_add (j, "actual", jstr_or_null (c->actual));
      json_object_array_add (cs, j);
    }
  json_object_object_add (o, "checks", cs);

  json_object *td = NULL;
  if (has_teardown (r))
    {
      td = json_object_new_object ();
      json_object_object_add (td, "created", json_res_list (r, RES_CREATED));
      json_object_object_add (td, "removed", json_res_list (r, RES_REMOVED));
      json_object_object_add (td, "left", json_res_list (r, RES_LEFT));
      json_object_object_add (td, "suspects", json_res_list (r, RES_SUSPECT));
      json_object_object_add (td, "verified", json_object_new_boolean (r->verified));
      json_object_object_add (td, "clean", r->verified ? json_object_new_boolean (r->clean)
                                                       : NULL);
      json_object_object_add (td, "checked", jstr_or_null (r->checked));
    }
  json_object_object_add (o, "teardown", td);

  json_object *rc = NULL;
  if (r->has_cmd)
    {
      rc = json_object_new_object ();
      json_object *a = json_object_new_array ();
      for (char **p = r->argv; p && *p; p++)
        json_object_array_add (a, json_object_new_string (*p));
      json_object_object_add (rc, "argv", a);
      json_object_object_add (rc, "exit_code",
                              r->cmd_exit >= 0 ? json_object_new_int (r->cmd_exit) : NULL);
      json_object_object_add (rc, "duration_s", jsecs (r->cmd_ns));
    }
  json_object_object_add (o, "run", rc);

  buf_adds (b, json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY
                                                    | JSON_C_TO_STRING_SPACED
                                                    | JSON_C_TO_STRING_NOSLASHESCAPE));
  buf_adds (b, "\n");
  json_object_put (o);
}

/* ---- JUnit XML ---- */

/* s escaped for XML 1.0 text or attributes: & < > " ' escaped, characters
 * XML cannot hold (C0 controls but tab, LF, CR) become U+FFFD; in
 * attributes tab, LF and CR are kept as character references. */
static void
xml_esc (struct buf *b, const char *s, bool attr)
{
  for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++)
    switch (*p)
      {
      case '&': buf_adds (b, "&amp;"); break;
      case '<': buf_adds (b, "&lt;"); break;
      case '>': buf_adds (b, "&gt;"); break;
      case '"': buf_adds (b, attr ? "&quot;" : "\""); break;
      case '\'': buf_adds (b, attr ? "&apos;" : "'"); break;
      case '\n': buf_adds (b, attr ? "&#10;" : "\n"); break;
      case '\r': buf_adds (b, "&#13;"); break;
      case '\t': buf_adds (b, attr ? "&#9;" : "\t"); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          buf_adds (b, "\xef\xbf\xbd");
        else if (*p == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
          {
            buf_adds (b, "\xef\xbf\xbd"); /* U+FFFE, U+FFFF are not XML characters */
            p += 2;
          }
        else
          buf_addc (b, (char) *p);
      }
}

struct jcase {
  char *name, *classname;
  double time;
  int kind;                /* 0 pass, 1 failure, 2 skipped */
  char *message, *type, *body, *out;
};

static void
jcase_add (struct jcase **v, size_t *n, struct jcase c)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = c;
}

static void
render_suite (struct buf *b, const char *suite, const char *host, const char *when,
              struct jcase *c, size_t n, const struct report *r, bool props)
{
  size_t nf = 0, ns = 0;
  double t = 0;
  for (size_t i = 0; i < n; i++)
    {
      nf += c[i].kind == 1;
      ns += c[i].kind == 2;
      t += c[i].time;
    }
  buf_adds (b, "  <testsuite name=\"");
  xml_esc (b, suite, true);
  buf_addf (b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\" "
               "timestamp=\"%s\" hostname=\"",
            n, nf, ns, t, when);
  xml_esc (b, host, true);
  buf_adds (b, "\">\n");
  if (props)
    {
      buf_adds (b, "    <properties>\n");
      const char *const kv[][2] = {
        { "itm-env.command", r->command }, { "itm-env.namespace", r->ns },
        { "engine.endpoint", r->endpoint }, { "engine.version", r->version },
        { "engine.api_version", r->api },
      };
      for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (kv[i][1])
          {
            buf_adds (b, "      <property name=\"");
            xml_esc (b, kv[i][0], true);
            buf_adds (b, "\" value=\"");
            xml_esc (b, kv[i][1], true);
            buf_adds (b, "\"/>\n");
          }
      for (size_t i = 0; i < r->nfiles; i++)
        {
          buf_adds (b, "      <property name=\"itm-env.stack_file\" value=\"");
          xml_esc (b, r->files[i], true);
          buf_adds (b, "\"/>\n");
        }
      buf_adds (b, "    </properties>\n");
    }
  for (size_t i = 0; i < n; i++)
    {
      buf_adds (b, "    <testcase name=\"");
      xml_esc (b, c[i].name, true);
      buf_adds (b, "\" classname=\"");
      xml_esc (b, c[i].classname, true);
      buf_addf (b, "\" time=\"%.3f\"", c[i].time);
      if (c[i].kind == 0 && c[i].out == NULL)
        {
          buf_adds (b, "/>\n");
          continue;
        }
      buf_adds (b, ">\n");
      if (c[i].kind == 1)
        {
          buf_adds (b, "      <failure message=\"");
          xml_esc (b, c[i].message, true);
          buf_adds (b, "\" type=\"");
          xml_esc (b, c[i].type, true);
          buf_adds (b, "\">");
          xml_esc (b, c[i].body, false);
          buf_adds (b, "</failure>\n");
        }
      else if (c[i].kind == 2)
        {
          buf_adds (b, "      <skipped message=\"");
          xml_esc (b, c[i].message, true);
          buf_adds (b, "\"/>\n");
        }
      if (c[i].out)
        {
          buf_adds (b, "      <system-out>");
          xml_esc (b, c[i].out, false);
          buf_adds (b, "</system-out>\n");
        }
      buf_adds (b, "    </testcase>\n");
    }
  buf_adds (b, "  </testsuite>\n");
}

static void
jcases_free (struct jcase *c, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (c[i].name), free (c[i].classname), free (c[i].message);
      free (c[i].type), free (c[i].body), free (c[i].out);
    }
  free (c);
}

static void
render_junit (struct report *r, struct buf *b)
{
  char when[32], host[256] = "localhost";
  struct tm tm;
  gmtime_r (&r->wall0, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  if (gethostname (host, sizeof host - 1) != 0)
    snprintf (host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0';
  const char *ns = r->ns ? r->ns : "itm-env";

  struct jcase *c[5] = { NULL };
  size_t n[5] = { 0 };
  cleanup_free char *cls_ready = xasprintf ("itm-env.%s.readiness", ns);
  cleanup_free char *cls_seed = xasprintf ("itm-env.%s.seed", ns);
  cleanup_free char *cls_check = xasprintf ("itm-env.%s.check", ns);
  cleanup_free char *cls_td = xasprintf ("itm-env.%s.teardown", ns);
  cleanup_free char *cls_run = xasprintf ("itm-env.%s.run", ns);

  for (size_t i = 0; i < r->nsvc; i++)
    {
      struct rsvc *s = &r->svc[i];
      struct jcase k = { .name = xasprintf ("%s is ready", s->name),
                         .classname = xstrdup (cls_ready),
                         .time = s->ready_ns >= 0 ? secs (s->ready_ns) : 0 };
      if (svc_failed (s))
        {
          struct buf body = { 0 };
          buf_adds (&body, "");
          buf_addf (&body, "%s: %s\n", s->name, s->reason ? s->reason : s->state);
          if (s->logs && *s->logs)
            buf_addf (&body, "\nlast log lines:\n%s%s", s->logs,
                      s->logs[strlen (s->logs) - 1] == '\n' ? "" : "\n");
          if (s->probes && *s->probes)
            buf_addf (&body, "\nlast probes:\n%s", s->probes);
          k.kind = 1;
          k.message = xasprintf ("%s: %s", s->name, s->reason ? s->reason : s->state);
          k.type = xstrdup (strcmp (s->state, "failed") == 0 ? "readiness" : s->state);
          k.body = buf_steal (&body);
        }
      else if (svc_skipped (s))
        {
          k.kind = 2;
          k.message = xstrdup (s->detail ? s->detail : "not started: a dependency failed");
        }
      else
        {
          struct buf out = { 0 };
          buf_adds (&out, "");
          buf_addf (&out, "state: %s\ngate: %s\n", s->state, s->gate ? s->gate : "-");
          if (s->ready_ns >= 0)
            buf_addf (&out, "time to ready: %.3f s\n", secs (s->ready_ns));
          if (s->probe_ns >= 0)
            buf_addf (&out, "probe response: %.3f s\n", secs (s->probe_ns));
          if (s->logs_file)
            buf_addf (&out, "logs: %s\n", s->logs_file);
          k.out = buf_steal (&out);
        }
      jcase_add (&c[0], &n[0], k);
    }
  for (size_t i = 0; i < r->nseeds; i++)
    {
      struct rseed *s = &r->seeds[i];
      struct jcase k = { .name = xasprintf ("%s: %s", s->service, s->step),
                         .classname = xstrdup (cls_seed), .time = s->ns >= 0 ? secs (s->ns) : 0 };
      if (!s->ok)
        {
          k.kind = 1;
          k.message = xasprintf ("seed step failed: %s", s->step);
          k.type = xstrdup ("seed");
          k.body = xstrdup (s->output ? s->output : "");
        }
      else if (s->rows >= 0)
        k.out = xasprintf ("%lld rows\n", s->rows);
      jcase_add (&c[1], &n[1], k);
    }
  for (size_t i = 0; i < r->nchecks; i++)
    {
      struct rcheck *ck = &r->checks[i];
      struct jcase k = { .name = xasprintf ("%s: %s", ck->service, ck->name),
                         .classname = xstrdup (cls_check),
                         .time = ck->ns >= 0 ? secs (ck->ns) : 0 };
      if (!ck->ok)
        {
          k.kind = 1;
          k.message = xasprintf ("data check failed: %s", ck->name);
          k.type = xstrdup ("check");
          k.body = xasprintf ("expected:\n%s\nactual:\n%s\n", ck->expected ? ck->expected : "",
                              ck->actual ? ck->actual : "");
        }
      jcase_add (&c[2], &n[2], k);
    }
  /* a teardown testcase once something was torn down or verified (not
   * after an up that succeeded: nothing was removed yet) */
  if (r->verified || count_res (r, RES_REMOVED | RES_LEFT, NULL) > 0)
    {
      struct buf out = { 0 };
      buf_adds (&out, "");
      static const char *const what[] = { "created", "removed", "left", "suspect" };
      for (unsigned f = 0; f < 4; f++)
        for (size_t i = 0; i < r->nres; i++)
          if (r->res[i].flags & (1u << f))
            buf_addf (&out, "%s %s %s%s%s\n", what[f], r->res[i].kind, r->res[i].name,
                      r->res[i].detail ? ": " : "", r->res[i].detail ? r->res[i].detail : "");
      if (r->checked)
        buf_addf (&out, "%s\n", r->checked);
      struct jcase k = { .name = xstrdup ("teardown verification"), .classname = xstrdup (cls_td) };
      if (!teardown_ok (r))
        {
          k.kind = 1;
          k.message = xasprintf ("%zu resources left after teardown",
                                 count_res (r, RES_LEFT, NULL));
          k.type = xstrdup ("leak");
          k.body = buf_steal (&out);
        }
      else
        k.out = buf_steal (&out);
      jcase_add (&c[3], &n[3], k);
    }

  if (r->has_cmd)
    {
      struct buf cmd = { 0 };
      buf_adds (&cmd, "");
      for (char **a = r->argv; a && *a; a++)
        buf_addf (&cmd, "%s%s", a == r->argv ? "" : " ", *a);
      struct jcase k = { .name = buf_steal (&cmd), .classname = xstrdup (cls_run),
                         .time = r->cmd_ns >= 0 ? secs (r->cmd_ns) : 0 };
      if (r->cmd_exit < 0)
        {
          k.kind = 2;
          k.message = xstrdup ("not run: the environment did not come up");
        }
      else if (r->cmd_exit != 0)
        {
          k.kind = 1;
          k.message = xasprintf ("exit status %d", r->cmd_exit);
          k.type = xstrdup ("command");
          k.body = xasprintf ("%s exited with status %d\n", k.name, r->cmd_exit);
        }
      jcase_add (&c[4], &n[4], k);
    }

  size_t tests = n[0] + n[1] + n[2] + n[3] + n[4], failures = 0;
  for (int s = 0; s < 5; s++)
    for (size_t i = 0; i < n[s]; i++)
      failures += c[s][i].kind == 1;
  buf_adds (b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  buf_adds (b, "<testsuites name=\"");
  cleanup_free char *top = xasprintf ("itm-env %s %s", r->command, ns);
  xml_esc (b, top, true);
  buf_addf (b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", tests,
            failures, secs (duration (r)));
  static const char *const suffix[] = { "readiness", "seed", "check", "teardown", "run" };
  bool props = true;
  for (int s = 0; s < 5; s++)
    if (n[s] || (s == 3 && tests == 0))
      {
        cleanup_free char *sn = xasprintf ("itm-env.%s.%s", ns, suffix[s]);
        render_suite (b, sn, host, when, c[s], n[s], r, props);
        props = false;
      }
  buf_adds (b, "</testsuites>\n");
  for (int s = 0; s < 5; s++)
    jcases_free (c[s], n[s]);
}

char *
report_render (struct report *r, enum report_format fmt)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  pthread_mutex_lock (&r->mu);
  if (fmt == REPORT_JSON)
    render_json (r, &b);
  else if (fmt == REPORT_JUNIT)
    render_junit (r, &b);
  else
    render_text (r, &b);
  pthread_mutex_unlock (&r->mu);
  return buf_steal (&b);
}

/* ---- writing ---- */

int
report_format_parse (const char *s, enum report_format *fmt, struct itm_err *err)
{
  if (strcmp (s, "text") == 0)
    *fmt = REPORT_TEXT;
  else if (strcmp (s, "json") == 0)
    *fmt = REPORT_JSON;
  else if (strcmp (s, "junit") == 0 || strcmp (s, "xml") == 0)
    *fmt = REPORT_JUNIT;
  else
    return itm_err_set (err, ITM_EXIT_USAGE,
                        "--report-format: '%s' is not one of text, json, junit", s);
  return 0;
}

enum report_format
report_format_guess (const char *path)
{
  const char *dot = path ? strrchr (path, '.') : NULL;
  if (dot && strchr (dot, '/') == NULL)
    {
      if (strcasecmp (dot, ".json") == 0)
        return REPORT_JSON;
      if (strcasecmp (dot, ".xml") == 0)
        return REPORT_JUNIT;
    }
  return REPORT_TEXT;
}

int
report_write (struct report *r, const char *path, enum report_format fmt, struct itm_err *err)
{
  cleanup_free char *text = report_render (r, fmt);
  size_t len = strlen (text);
  if (strcmp (path, "-") == 0)
    {
      fwrite (text, 1, len, stdout);
      fflush (stdout);
      return 0;
    }
  cleanup_free char *tmp = xasprintf ("%s.tmp.%ld", path, (long) getpid ());
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
  size_t off = 0;
  while (off < len)
    {
      ssize_t w = write (fd, text + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
          close (fd);
          unlink (tmp);
          return -1;
        }
      off += (size_t) w;
    }
  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "writing the report %s", path);
      unlink (tmp);
      return -1;
    }
  return 0;
}

/* ---- logs and annotations ---- */

static int
log_write (int stream, const char *data, size_t len, void *ctx)
{
  FILE *f = ctx;
  (void) stream;
  return fwrite (data, 1, len, f) == len ? 0 : 1;
}

int
report_save_logs (struct engine *e, const char *container, const char *path,
                  struct itm_err *err)
{
  cleanup_free char *enc = engine_urlencode (container);
  cleanup_free char *ip = xasprintf ("/containers/%s/json", enc);
  json_object *info = NULL, *cfg = NULL, *tty = NULL;
  if (engine_get (e, ip, &info, err) < 0)
    return itm_err_prefix (err, "logs of %s", container);
  if (json_object_object_get_ex (info, "Config", &cfg))
    json_object_object_get_ex (cfg, "Tty", &tty);
  bool raw = tty && json_object_get_boolean (tty);
  json_object_put (info);
  cleanup_fclose FILE *f = fopen (path, "we");
  if (f == NULL)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
  cleanup_free char *p = xasprintf ("/containers/%s/logs?stdout=1&stderr=1", enc);
  struct engine_call c = { .method = "GET", .path = p, .on_frame = log_write,
                           .frames_raw = raw, .ctx = f, .timeout_ms = 60000 };
  if (engine_call (e, &c, NULL, err) < 0)
    return itm_err_prefix (err, "logs of %s", container);
  if (fflush (f) != 0 || ferror (f))
    return itm_err_errno (err, ITM_EXIT_FAILURE, "writing %s", path);
  return 0;
}

static pthread_mutex_t annotate_mu = PTHREAD_MUTEX_INITIALIZER;

static void
gh_esc (struct buf *b, const char *s, bool prop)
{
  for (; s && *s; s++)
    switch (*s)
      {
      case '%': buf_adds (b, "%25"); break;
      case '\r': buf_adds (b, "%0D"); break;
      case '\n': buf_adds (b, "%0A"); break;
      case ':': buf_adds (b, prop ? "%3A" : ":"); break;
      case ',': buf_adds (b, prop ? "%2C" : ","); break;
      default: buf_addc (b, *s);
      }
}

void
report_annotate (const char *title, const char *message)
{
  const char *gh = getenv ("GITHUB_ACTIONS");
  if (gh == NULL || strcmp (gh, "true") != 0)
    return;
  cleanup_buf struct buf b = { 0 };
  cleanup_free char *t = clean_dup (title);
  cleanup_free char *m = clean_dup (message ? message : "failed");
  buf_adds (&b, "::error");
  if (t && *t)
    {
      buf_adds (&b, " title=");
      gh_esc (&b, t, true);
    }
  buf_adds (&b, "::");
  gh_esc (&b, m, false);
  buf_addc (&b, '\n');
  pthread_mutex_lock (&annotate_mu);
  fflush (stdout);
  fwrite (b.data, 1, b.len, stdout);
  fflush (stdout);
  pthread_mutex_unlock (&annotate_mu);
}

/* ---- the commands' options ---- */

int
report_begin (const char *command, const struct report_opts *o, struct report **out,
              struct itm_err *err)
{
  if (out)
    *out = NULL;
  if (o->format)
    {
      enum report_format f;
      if (report_format_parse (o->format, &f, err) < 0)
        return -1;
    }
  if (o->logs_dir)
    {
      struct stat st;
      if (stat (o->logs_dir, &st) < 0 && mkdir (o->logs_dir, 0755) < 0 && errno != EEXIST)
        return itm_err_errno (err, ITM_EXIT_USAGE, "--logs-dir %s", o->logs_dir);
      if (stat (o->logs_dir, &st) < 0 || !S_ISDIR (st.st_mode))
        return itm_err_set (err, ITM_EXIT_USAGE, "--logs-dir %s: not a directory", o->logs_dir);
    }
  struct report *r = report_new (command);
  r->logs_dir = o->logs_dir ? xstrdup (o->logs_dir) : NULL;
  report_set_current (r);
  if (out)
    *out = r;
  return 0;
}

int
report_end (struct report *r, const struct report_opts *o, int rc, struct itm_err *err)
{
  if (r == NULL)
    return rc;
  bool failed = itm_err_isset (err);
  report_finish (r, failed ? err->code : rc, failed ? err->msg : NULL);
  if (failed && !r->annotated)
    report_annotate (r->command ? r->command : "itm-env", err->msg);
  else if (!failed && rc > 0 && !r->annotated)
    {
      cleanup_free char *m = r->has_cmd && r->argv && r->argv[0]
                               ? xasprintf ("%s exited with status %d", r->argv[0], rc)
                               : xasprintf ("exit status %d", rc);
      report_annotate (r->command, m);
    }
  if (o->path)
    {
      enum report_format f = REPORT_TEXT;
      if (o->format)
        report_format_parse (o->format, &f, err);
      else
        f = report_format_guess (o->path);
      cleanup_err struct itm_err werr = { 0 };
      if (report_write (r, o->path, f, &werr) < 0)
        {
          if (failed)
            fprintf (stderr, "itm-env: warning: %s\n", werr.msg);
          else
            {
              itm_err_move (err, &werr);
              rc = -1;
            }
        }
    }
  report_set_current (NULL);
  report_free (r);
  return rc;
}

const char *
report_logs_dir (struct report *r)
{
  return r ? r->logs_dir : NULL;
}
