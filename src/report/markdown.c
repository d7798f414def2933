/* markdown.c - the report as an integration test report in GitHub
 * Flavored Markdown (--report-format markdown, a .md file, and
 * $GITHUB_STEP_SUMMARY in GitHub Actions): the verdict, then one section
 * per part, each a table: environment, services (readiness), checks
 * (expected and actual, latency figures), data (seed steps, data
 * namespaces), the command (run), teardown verification.  A section with
 * nothing in it is left out, except the environment and the teardown. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "report/priv.h"

/* s in a table cell: | escaped, line breaks as <br>, < > & escaped */
static void
cell (struct buf *b, const char *s)
{
  if (s == NULL || *s == '\0')
    {
      buf_adds (b, "-");
      return;
    }
  for (const char *p = s; *p; p++)
    switch (*p)
      {
      case '|': buf_adds (b, "\\|"); break;
      case '\n': if (p[1]) buf_adds (b, "<br>"); break;
      case '\r': break;
      case '<': buf_adds (b, "&lt;"); break;
      case '>': buf_adds (b, "&gt;"); break;
      case '&': buf_adds (b, "&amp;"); break;
      default: buf_addc (b, *p);
      }
}

/* inline code: `s` (a backtick in s: double fences) */
static void
code (struct buf *b, const char *s)
{
  bool tick = s && strchr (s, '`');
  buf_adds (b, tick ? "`` " : "`");
  for (const char *p = s ? s : ""; *p; p++)
    if (*p == '|')
      buf_adds (b, "\\|");
    else if (*p == '\n')
      buf_addc (b, ' ');
    else
      buf_addc (b, *p);
  buf_adds (b, tick ? " ``" : "`");
}

static void
secs (struct buf *b, int64_t ns)
{
  if (ns < 0)
    buf_adds (b, "-");
  else
    buf_addf (b, "%.3f s", report_secs (ns));
}

static void
msec (struct buf *b, int64_t ns)
{
  buf_addf (b, "%.3f", (double) ns / 1e6);
}

/* a fenced block (``` inside: ~~~ fences) */
static void
block (struct buf *b, const char *text)
{
  const char *fence = strstr (text, "```") ? "~~~~" : "```";
  buf_addf (b, "%s\n%s%s%s\n", fence, text,
            *text && text[strlen (text) - 1] != '\n' ? "\n" : "", fence);
}

static void
md_environment (const struct report *r, struct buf *b)
{
  char when[32];
  report_iso_time (r->wall0, when, sizeof when);
  buf_adds (b, "\n## Environment\n\n| | |\n| --- | --- |\n");
  buf_adds (b, "| Namespace | ");
  code (b, r->ns ? r->ns : "-");
  buf_adds (b, " |\n| Engine | ");
  cell (b, r->endpoint);
  if (r->version || r->api)
    buf_addf (b, " (Docker %s, API %s)", r->version ? r->version : "?", r->api ? r->api : "?");
  buf_adds (b, " |\n| Stack files | ");
  for (size_t i = 0; i < r->nfiles; i++)
    {
      if (i)
        buf_adds (b, "<br>");
      code (b, r->files[i]);
    }
  if (r->nfiles == 0)
    buf_adds (b, "-");
  buf_addf (b, " |\n| Started | %s |\n| Duration | ", when);
  secs (b, report_duration (r));
  buf_addf (b, " |\n| Result | %s (exit %d)", r->exit_code == 0 ? "passed" : "**FAILED**",
            r->exit_code);
  if (r->message)
    {
      buf_adds (b, ": ");
      cell (b, r->message);
    }
  buf_adds (b, " |\n");
}

static void
md_services (const struct report *r, struct buf *b)
{
  if (r->nsvc == 0)
    return;
  buf_addf (b, "\n## Services (%zu)\n\n", r->nsvc);
  buf_adds (b, "| Service | State | Gate | Ready in | Probe round trip | Detail |\n"
               "| --- | --- | --- | --- | --- | --- |\n");
  for (size_t i = 0; i < r->nsvc; i++)
    {
      const struct rsvc *s = &r->svc[i];
      buf_adds (b, "| ");
      cell (b, s->name);
      buf_addf (b, " | %s%s%s | ", report_svc_failed (s) ? "**" : "", s->state,
                report_svc_failed (s) ? "**" : "");
      cell (b, s->gate);
      buf_adds (b, " | ");
      secs (b, s->ready_ns);
      buf_adds (b, " | ");
      secs (b, s->probe_ns);
      buf_adds (b, " | ");
      cell (b, s->reason ? s->reason : s->detail);
      buf_adds (b, " |\n");
    }
}

static void
md_checks (const struct report *r, struct buf *b, size_t *failed)
{
  if (r->nchecks == 0)
    return;
  bool figs = false;
  for (size_t i = 0; i < r->nchecks; i++)
    {
      figs |= r->checks[i].has_fig;
      *failed += !r->checks[i].ok;
    }
  buf_addf (b, "\n## Checks (%zu, %zu failed)\n\n", r->nchecks, *failed);
  buf_adds (b, "| Service | Check | Kind | Result | Time | Expected | Actual |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n");
  for (size_t i = 0; i < r->nchecks; i++)
    {
      const struct rcheck *c = &r->checks[i];
      buf_adds (b, "| ");
      cell (b, c->service);
      buf_adds (b, " | ");
      cell (b, c->name);
      buf_addf (b, " | %s | %s | ", c->kind ? c->kind : "data", c->ok ? "passed" : "**FAILED**");
      secs (b, c->ns);
      buf_adds (b, " | ");
      cell (b, c->ok ? NULL : c->expected);
      buf_adds (b, " | ");
      cell (b, c->ok ? NULL : c->actual);
      buf_adds (b, " |\n");
    }
  if (figs)
    {
      buf_adds (b, "\n### Latency (ms)\n\n"
                   "| Service | Check | Requests | Failed | min | p50 | p95 | p99 | max | req/s |\n"
                   "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
      for (size_t i = 0; i < r->nchecks; i++)
        {
          const struct rcheck *c = &r->checks[i];
          if (!c->has_fig)
            continue;
          buf_adds (b, "| ");
          cell (b, c->service);
          buf_adds (b, " | ");
          cell (b, c->name);
          buf_addf (b, " | %zu | %zu | ", c->fig.count, c->fig.failed);
          msec (b, c->fig.min);
          buf_adds (b, " | ");
          msec (b, c->fig.p50);
          buf_adds (b, " | ");
          msec (b, c->fig.p95);
          buf_adds (b, " | ");
          msec (b, c->fig.p99);
          buf_adds (b, " | ");
          msec (b, c->fig.max);
          buf_addf (b, " | %.1f |\n", c->fig.throughput);
        }
    }
  for (size_t i = 0; i < r->nchecks; i++)
    {
      const struct rcheck *c = &r->checks[i];
      if (c->ok || c->detail == NULL)
        continue;
      buf_addf (b, "\n<details><summary>%s: ", c->service);
      cell (b, c->name);
      buf_adds (b, "</summary>\n\n");
      block (b, c->detail);
      buf_adds (b, "\n</details>\n");
    }
}

static void
md_faults (const struct report *r, struct buf *b)
{
  if (r->nfaults == 0)
    return;
  buf_addf (b, "\n## Faults (%zu)\n\n| Service | When | Fault |\n| --- | --- | --- |\n",
            r->nfaults);
  for (size_t i = 0; i < r->nfaults; i++)
    {
      buf_adds (b, "| ");
      cell (b, r->faults[i].service);
      buf_adds (b, " | ");
      cell (b, r->faults[i].when);
      buf_adds (b, " | ");
      cell (b, r->faults[i].fault);
      buf_adds (b, " |\n");
    }
}

static void
md_data (const struct report *r, struct buf *b)
{
  size_t ndns = report_count_res (r, RES_CREATED | RES_REMOVED | RES_LEFT, "data-namespace");
  if (r->nseeds == 0 && ndns == 0)
    return;
  buf_adds (b, "\n## Data\n");
  if (r->nseeds)
    {
      buf_adds (b, "\n| Service | Seed step | Result | Time | Rows |\n"
                   "| --- | --- | --- | --- | --- |\n");
      for (size_t i = 0; i < r->nseeds; i++)
        {
          const struct rseed *s = &r->seeds[i];
          buf_adds (b, "| ");
          cell (b, s->service);
          buf_adds (b, " | ");
          cell (b, s->step);
          buf_addf (b, " | %s | ", s->ok ? "passed" : "**FAILED**");
          secs (b, s->ns);
          if (s->rows >= 0)
            buf_addf (b, " | %lld |\n", s->rows);
          else
            buf_adds (b, " | - |\n");
        }
    }
  if (ndns)
    {
      buf_adds (b, "\n| Data namespace | Created | Dropped | Left |\n| --- | --- | --- | --- |\n");
      for (size_t i = 0; i < r->nres; i++)
        {
          const struct rres *x = &r->res[i];
          if (strcmp (x->kind, "data-namespace") != 0)
            continue;
          buf_adds (b, "| ");
          cell (b, x->name);
          buf_addf (b, " | %s | %s | %s |\n", x->flags & RES_CREATED ? "yes" : "-",
                    x->flags & RES_REMOVED ? "yes" : "-",
                    x->flags & RES_LEFT ? "**yes**" : "-");
        }
    }
}

static void
md_command (const struct report *r, struct buf *b)
{
  if (!r->has_cmd)
    return;
  buf_adds (b, "\n## Command\n\n| Command | Exit status | Time |\n| --- | --- | --- |\n| ");
  cleanup_buf struct buf cmd = { 0 };
  buf_adds (&cmd, "");
  for (char **a = r->argv; a && *a; a++)
    buf_addf (&cmd, "%s%s", a == r->argv ? "" : " ", *a);
  code (b, cmd.data);
  if (r->cmd_exit >= 0)
    buf_addf (b, " | %d | ", r->cmd_exit);
  else
    buf_adds (b, " | not run | ");
  secs (b, r->cmd_ns);
  buf_adds (b, " |\n");
  if (r->cmd_out && *r->cmd_out && r->cmd_exit != 0)
    {
      buf_adds (b, "\nIts last output lines:\n\n");
      block (b, r->cmd_out);
    }
}

static void
md_teardown (const struct report *r, struct buf *b)
{
  static const char *const kinds[] = { "container", "network", "volume", "image",
                                       "data-namespace" };
  buf_adds (b, "\n## Teardown\n\n");
  if (!report_has_teardown (r))
    {
      buf_adds (b, "Not run (the environment is up).\n");
      return;
    }
  buf_adds (b, "| Resource | Created | Removed | Left |\n| --- | --- | --- | --- |\n");
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
    {
      size_t c = report_count_res (r, RES_CREATED, kinds[k]);
      size_t m = report_count_res (r, RES_REMOVED, kinds[k]);
      size_t l = report_count_res (r, RES_LEFT, kinds[k]);
      if (k >= 3 && c + m + l == 0)
        continue;
      buf_addf (b, "| %s | %zu | %zu | %s%zu%s |\n", kinds[k], c, m, l ? "**" : "", l,
                l ? "**" : "");
    }
  buf_addf (b, "\nVerified: %s", !r->verified ? "not run" : r->clean ? "clean" : "**LEFTOVERS**");
  if (r->checked)
    {
      buf_adds (b, " - ");
      cell (b, r->checked);
    }
  buf_adds (b, "\n");
  for (size_t i = 0; i < r->nres; i++)
    if (r->res[i].flags & (RES_LEFT | RES_SUSPECT))
      {
        buf_addf (b, "- %s %s ", r->res[i].flags & RES_LEFT ? "left:" : "suspect:",
                  r->res[i].kind);
        code (b, r->res[i].name);
        if (r->res[i].detail)
          buf_addf (b, ": %s", r->res[i].detail);
        buf_adds (b, "\n");
      }
}

void
report_render_markdown (const struct report *r, struct buf *b)
{
  buf_addf (b, "# itm-env %s: %s\n", r->command, r->exit_code == 0 ? "passed" : "FAILED");
  md_environment (r, b);
  md_services (r, b);
  size_t cfailed = 0;
  md_checks (r, b, &cfailed);
  md_faults (r, b);
  md_data (r, b);
  md_command (r, b);
  md_teardown (r, b);
}
