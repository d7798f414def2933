/* text.c - the report as text: a header, then one section per kind of
 * step (command, services, seeds, data checks, teardown, failures, logs),
 * each shown only when there is something in it, and a summary line. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "report/priv.h"

/* text, indented under "    title:", each line prefixed "      | ". */
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

/* "1.234 s", or "-" when not measured (ns < 0). */
static void
fmt_dur (char *out, size_t n, int64_t ns)
{
  if (ns < 0)
    snprintf (out, n, "-");
  else
    snprintf (out, n, "%.3f s", report_secs (ns));
}

static void
text_header (const struct report *r, struct buf *b)
{
  char when[32], d[32];
  report_iso_time (r->wall0, when, sizeof when);
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
  fmt_dur (d, sizeof d, report_duration (r));
  buf_addf (b, "Duration:   %s\n", d);
  buf_addf (b, "Result:     %s (exit %d)%s%s\n", r->exit_code == 0 ? "PASSED" : "FAILED",
            r->exit_code, r->message ? ": " : "", r->message ? r->message : "");
}

static void
text_command (const struct report *r, struct buf *b)
{
  char d[32];
  if (!r->has_cmd)
    return;
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

/* The services' table; counts ready, failed and skipped services. */
static void
text_services (const struct report *r, struct buf *b, size_t *nready, size_t *nfailed,
               size_t *nskipped)
{
  if (r->nsvc == 0)
    return;
  buf_addf (b, "\nServices (%zu)\n", r->nsvc);
  buf_addf (b, "  %-20s %-12s %-12s %-12s %s\n", "SERVICE", "STATE", "GATE", "READY IN",
            "PROBE");
  for (size_t i = 0; i < r->nsvc; i++)
    {
      const struct rsvc *s = &r->svc[i];
      char rd[32], pd[32];
      fmt_dur (rd, sizeof rd, s->ready_ns);
      fmt_dur (pd, sizeof pd, s->probe_ns);
      buf_addf (b, "  %-20s %-12s %-12s %-12s %s", s->name, s->state, s->gate ? s->gate : "-",
                rd, pd);
      if (s->detail)
        buf_addf (b, "  (%s)", s->detail);
      buf_adds (b, "\n");
      if (report_svc_failed (s))
        (*nfailed)++;
      else if (report_svc_skipped (s))
        (*nskipped)++;
      else
        (*nready)++;
    }
}

/* The seed steps; returns how many failed. */
static size_t
text_seeds (const struct report *r, struct buf *b)
{
  size_t failed = 0;
  if (r->nseeds == 0)
    return 0;
  buf_addf (b, "\nSeeds (%zu step%s)\n", r->nseeds, r->nseeds == 1 ? "" : "s");
  for (size_t i = 0; i < r->nseeds; i++)
    {
      const struct rseed *s = &r->seeds[i];
      char d[32];
      fmt_dur (d, sizeof d, s->ns);
      buf_addf (b, "  %-20s %-6s %-10s", s->service, s->ok ? "ok" : "FAILED", d);
      if (s->rows >= 0)
        buf_addf (b, " %lld row%s", s->rows, s->rows == 1 ? "" : "s");
      buf_addf (b, "  %s\n", s->step);
      if (!s->ok)
        {
          failed++;
          text_block (b, "output", s->output);
        }
    }
  return failed;
}

/* The checks: data checks (x-itm.verify) and x-itm.checks, each line
 * with its kind; returns how many failed. */
static size_t
text_checks (const struct report *r, struct buf *b)
{
  size_t failed = 0;
  if (r->nchecks == 0)
    return 0;
  buf_addf (b, "\nChecks (%zu)\n", r->nchecks);
  for (size_t i = 0; i < r->nchecks; i++)
    {
      const struct rcheck *c = &r->checks[i];
      char d[32];
      fmt_dur (d, sizeof d, c->ns);
      buf_addf (b, "  %-20s %-6s %-10s %-5s %s\n", c->service, c->ok ? "ok" : "FAILED", d,
                c->kind ? c->kind : "data", c->name);
      if (c->has_fig)
        buf_addf (b, "    %zu requests (%zu failed): min %.3f ms, p50 %.3f ms, p95 %.3f ms, "
                  "p99 %.3f ms, max %.3f ms, %.1f req/s\n", c->fig.count, c->fig.failed,
                  c->fig.min / 1e6, c->fig.p50 / 1e6, c->fig.p95 / 1e6, c->fig.p99 / 1e6,
                  c->fig.max / 1e6, c->fig.throughput);
      if (!c->ok && c->detail)
        {
          failed++;
          text_block (b, "failures", c->detail);
        }
      else if (!c->ok)
        {
          failed++;
          text_block (b, "expected", c->expected);
          text_block (b, "actual", c->actual);
        }
    }
  return failed;
}

/* The fault proxy's faults: scheduled (x-itm.faults) and active. */
static void
text_faults (const struct report *r, struct buf *b)
{
  if (r->nfaults == 0)
    return;
  buf_addf (b, "\nFaults (%zu)\n", r->nfaults);
  for (size_t i = 0; i < r->nfaults; i++)
    buf_addf (b, "  %-20s %-9s %s\n", r->faults[i].service, r->faults[i].when,
              r->faults[i].fault);
}

/* One teardown line: counts per kind with flag, then (left, suspects)
 * each such resource on a line of its own. */
static void
text_res_line (struct buf *b, const struct report *r, const char *label, unsigned flag)
{
  static const char *const kinds[] = { "container", "network", "volume", "image",
                                       "data-namespace" };
  buf_addf (b, "  %-10s", label);
  bool first = true;
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
    {
      size_t n = report_count_res (r, flag, kinds[k]);
      /* images and data namespaces: shown when there were any */
      if (n == 0 && k >= 3 && report_count_res (r, RES_CREATED, kinds[k]) == 0)
        continue;
      buf_addf (b, "%s%zu %s%s", first ? "" : ", ", n, kinds[k], n == 1 ? "" : "s");
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
text_teardown (const struct report *r, struct buf *b)
{
  if (!report_has_teardown (r))
    return;
  buf_adds (b, "\nTeardown\n");
  text_res_line (b, r, "created:", RES_CREATED);
  text_res_line (b, r, "removed:", RES_REMOVED);
  text_res_line (b, r, "left:", RES_LEFT);
  if (report_count_res (r, RES_SUSPECT, NULL))
    text_res_line (b, r, "suspects:", RES_SUSPECT);
  if (r->verified)
    buf_addf (b, "  verified: %s%s%s\n", r->clean ? "clean" : "LEFTOVERS",
              r->checked ? " - " : "", r->checked ? r->checked : "");
  else
    buf_adds (b, "  verified: not run\n");
}

static void
text_failures (const struct report *r, struct buf *b)
{
  bool any = false;
  for (size_t i = 0; i < r->nsvc; i++)
    any |= r->svc[i].failed || r->svc[i].reason;
  if (!any)
    return;
  buf_adds (b, "\nFailures\n");
  for (size_t i = 0; i < r->nsvc; i++)
    {
      const struct rsvc *s = &r->svc[i];
      if (!s->failed && !s->reason)
        continue;
      buf_addf (b, "  %s: %s\n", s->name, s->reason ? s->reason : s->state);
      text_block (b, "last log lines", s->logs);
      text_block (b, "last probes", s->probes);
    }
}

static void
text_logs (const struct report *r, struct buf *b)
{
  bool any = false;
  for (size_t i = 0; i < r->nsvc; i++)
    any |= r->svc[i].logs_file != NULL;
  if (!any)
    return;
  buf_adds (b, "\nLogs\n");
  for (size_t i = 0; i < r->nsvc; i++)
    if (r->svc[i].logs_file)
      buf_addf (b, "  %-20s %s\n", r->svc[i].name, r->svc[i].logs_file);
}

void
report_render_text (const struct report *r, struct buf *b)
{
  size_t nready = 0, nfailed = 0, nskipped = 0;
  text_header (r, b);
  text_command (r, b);
  text_services (r, b, &nready, &nfailed, &nskipped);
  size_t seeds_failed = text_seeds (r, b);
  size_t checks_failed = text_checks (r, b);
  text_faults (r, b);
  text_teardown (r, b);
  text_failures (r, b);
  text_logs (r, b);
  buf_addf (b, "\nSummary: %zu service%s (%zu ready, %zu failed, %zu skipped), "
               "%zu seed step%s (%zu failed), %zu check%s (%zu failed), teardown %s\n",
            r->nsvc, r->nsvc == 1 ? "" : "s", nready, nfailed, nskipped, r->nseeds,
            r->nseeds == 1 ? "" : "s", seeds_failed, r->nchecks, r->nchecks == 1 ? "" : "s",
            checks_failed, !report_has_teardown (r) ? "not run"
                           : report_teardown_ok (r) ? "clean" : "NOT CLEAN");
}
