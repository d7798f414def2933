/* report.c - the report collector: what the command, the provisioner, the
 * data module and the verifier report, kept (copied, masked, valid UTF-8)
 * under one mutex; and the commands' begin and end of a report.  The
 * renderings are render.c, text.c, json.c and junit.c. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "out/out.h"
#include "report/priv.h"
#include "util/clock.h"

static struct report *current;
static char *(*mask_fn) (const char *s);

void
report_set_mask (char *(*mask) (const char *s))
{
  mask_fn = mask;
}

char *
report_clean_dup (const char *s)
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
  *dst = report_clean_dup (s);
}

/* ---- the collector ---- */

struct report *
report_new (const char *command)
{
  struct report *r = xzalloc (sizeof *r);
  pthread_mutex_init (&r->mu, NULL);
  r->command = xstrdup (command ? command : "itm-env");
  r->t0 = mono_ns ();
  r->wall0 = time (NULL);
  r->cmd_exit = -1;
  r->td_ns = -1;
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
      free (s->name), free (s->state), free (s->gate), free (s->detail), free (s->ready_by);
      free (s->reason), free (s->logs), free (s->probes), free (s->logs_file);
    }
  free (r->svc);
  for (size_t i = 0; i < r->nseeds; i++)
    free (r->seeds[i].service), free (r->seeds[i].step), free (r->seeds[i].output);
  free (r->seeds);
  for (size_t i = 0; i < r->nfaults; i++)
    free (r->faults[i].service), free (r->faults[i].when), free (r->faults[i].fault);
  free (r->faults);
  for (size_t i = 0; i < r->nchecks; i++)
    {
      free (r->checks[i].service), free (r->checks[i].name);
      free (r->checks[i].expected), free (r->checks[i].actual);
      free (r->checks[i].kind), free (r->checks[i].detail);
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
  free (r->cmd_out);
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
  r->files[r->nfiles++] = report_clean_dup (path);
  pthread_mutex_unlock (&r->mu);
}

void
report_finish (struct report *r, int exit_code, const char *message)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->finished = true;
  r->t1 = mono_ns ();
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
  *s = (struct rsvc){ .name = report_clean_dup (name), .state = xstrdup ("pending"),
                      .ready_ns = -1, .probe_ns = -1, .gate_ns = -1 };
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
report_service_ready_by (struct report *r, const char *service, const char *by)
{
  if (r == NULL || service == NULL || by == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  set_str (&svc_get (r, service)->ready_by, by);
  pthread_mutex_unlock (&r->mu);
}

void
report_service_time (struct report *r, const char *service, int64_t gate_ns)
{
  if (r == NULL || service == NULL || gate_ns < 0)
    return;
  pthread_mutex_lock (&r->mu);
  svc_get (r, service)->gate_ns = gate_ns;
  pthread_mutex_unlock (&r->mu);
}

void
report_teardown_time (struct report *r, int64_t ns)
{
  if (r == NULL || ns < 0)
    return;
  pthread_mutex_lock (&r->mu);
  r->td_ns = ns;
  pthread_mutex_unlock (&r->mu);
}

void
report_command_output (struct report *r, const char *tail)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  set_str (&r->cmd_out, tail);
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
  r->seeds[r->nseeds++] = (struct rseed){ .service = report_clean_dup (service ? service : ""),
                                          .step = report_clean_dup (step ? step : "seed"),
                                          .output = report_clean_dup (output), .ok = ok,
                                          .ns = duration_ns, .rows = rows };
  pthread_mutex_unlock (&r->mu);
}

void
report_fault (struct report *r, const char *service, const char *when, const char *fault)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  r->faults = xrealloc (r->faults, (r->nfaults + 1) * sizeof *r->faults);
  r->faults[r->nfaults++] = (struct rfault){ .service = report_clean_dup (service ? service : ""),
                                             .when = report_clean_dup (when ? when : "active"),
                                             .fault = report_clean_dup (fault ? fault : "") };
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
  r->checks[r->nchecks++] = (struct rcheck){ .service = report_clean_dup (service ? service : ""),
                                             .name = report_clean_dup (name ? name : "check"),
                                             .expected = report_clean_dup (expected),
                                             .actual = report_clean_dup (actual), .ok = ok,
                                             .ns = duration_ns };
  pthread_mutex_unlock (&r->mu);
}

void
report_check_detail (struct report *r, const char *service, const char *name, const char *kind,
                     const char *detail, const struct report_figures *figures)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->mu);
  cleanup_free char *sv = report_clean_dup (service ? service : "");
  cleanup_free char *nm = report_clean_dup (name ? name : "check");
  for (size_t i = r->nchecks; i-- > 0;)
    {
      struct rcheck *c = &r->checks[i];
      if (strcmp (c->service, sv) != 0 || strcmp (c->name, nm) != 0)
        continue;
      free (c->kind), free (c->detail);
      c->kind = report_clean_dup (kind);
      c->detail = report_clean_dup (detail);
      c->has_fig = figures != NULL;
      if (figures)
        c->fig = *figures;
      break;
    }
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
                                           .name = report_clean_dup (name) };
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
      *x = (struct rres){ .kind = report_clean_dup (kind), .name = report_clean_dup (name) };
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
    r->argv[i] = report_clean_dup (argv[i]);
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

/* In GitHub Actions: up's and run's markdown report appended to
 * $GITHUB_STEP_SUMMARY (a failure to write it: a warning). */
static void
report_step_summary (struct report *r)
{
  const char *gha = getenv ("GITHUB_ACTIONS"), *path = getenv ("GITHUB_STEP_SUMMARY");
  if (gha == NULL || strcmp (gha, "true") != 0 || path == NULL || *path == '\0'
      || r->command == NULL || (strcmp (r->command, "up") != 0 && strcmp (r->command, "run") != 0))
    return;
  cleanup_free char *md = report_render (r, REPORT_MARKDOWN);
  FILE *f = fopen (path, "ae");
  bool ok = f != NULL;
  if (f)
    {
      ok = fprintf (f, "%s\n", md) >= 0;
      ok = fclose (f) == 0 && ok;
    }
  if (!ok)
    out_warn ("cannot write the step summary %s: %s", path, strerror (errno));
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
            out_warn ("%s", werr.msg);
          else
            {
              itm_err_move (err, &werr);
              rc = -1;
            }
        }
    }
  report_step_summary (r);
  report_set_current (NULL);
  report_free (r);
  return rc;
}

const char *
report_logs_dir (struct report *r)
{
  return r ? r->logs_dir : NULL;
}
