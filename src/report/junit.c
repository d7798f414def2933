/* junit.c - the report as JUnit XML (tests/report/junit.xsd): one
 * testsuite per kind of step (readiness, seed, check, teardown, run), each
 * step a testcase; the first suite carries the report's properties.
 * Times: a testcase's own (a gate's until ready or failed); a suite's the
 * sum of its testcases' (readiness: the longest, the gates run at once);
 * the total the command's, at least the suites' sum. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/priv.h"

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

/* One testcase; every string is owned. */
enum jkind { J_PASS, J_FAILURE, J_SKIPPED };
struct jcase {
  char *name, *classname;
  double time;
  enum jkind kind;
  char *message, *type, *body, *out;
};

/* The testcases of one suite. */
struct jsuite {
  struct jcase *c;
  size_t n;
};

enum { S_READINESS, S_SEED, S_CHECK, S_TEARDOWN, S_RUN, S_COUNT };
static const char *const suite_suffix[S_COUNT] = { "readiness", "seed", "check", "teardown",
                                                   "run" };

static void
jcase_add (struct jsuite *s, struct jcase c)
{
  s->c = xrealloc (s->c, (s->n + 1) * sizeof *s->c);
  s->c[s->n++] = c;
}

static void
jsuite_free (struct jsuite *s)
{
  for (size_t i = 0; i < s->n; i++)
    {
      struct jcase *c = &s->c[i];
      free (c->name), free (c->classname), free (c->message);
      free (c->type), free (c->body), free (c->out);
    }
  free (s->c);
}

/* ---- writing the XML ---- */

/* <tag>text</tag>, text escaped, on a line of its own. */
static void
xml_text_elem (struct buf *b, const char *tag, const char *text)
{
  buf_addf (b, "      <%s>", tag);
  xml_esc (b, text, false);
  buf_addf (b, "</%s>\n", tag);
}

static void
xml_property (struct buf *b, const char *name, const char *value)
{
  buf_adds (b, "      <property name=\"");
  xml_esc (b, name, true);
  buf_adds (b, "\" value=\"");
  xml_esc (b, value, true);
  buf_adds (b, "\"/>\n");
}

static void
write_properties (struct buf *b, const struct report *r)
{
  buf_adds (b, "    <properties>\n");
  const char *const kv[][2] = {
    { "itm-env.command", r->command }, { "itm-env.namespace", r->ns },
    { "engine.endpoint", r->endpoint }, { "engine.version", r->version },
    { "engine.api_version", r->api },
  };
  for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
    if (kv[i][1])
      xml_property (b, kv[i][0], kv[i][1]);
  for (size_t i = 0; i < r->nfiles; i++)
    xml_property (b, "itm-env.stack_file", r->files[i]);
  for (size_t i = 0; i < r->nfaults; i++)
    {
      cleanup_free char *n = xasprintf ("itm-env.fault.%s", r->faults[i].when);
      xml_property (b, n, r->faults[i].fault);
    }
  buf_adds (b, "    </properties>\n");
}

static void
write_case (struct buf *b, const struct jcase *c)
{
  buf_adds (b, "    <testcase name=\"");
  xml_esc (b, c->name, true);
  buf_adds (b, "\" classname=\"");
  xml_esc (b, c->classname, true);
  buf_addf (b, "\" time=\"%.3f\"", c->time);
  if (c->kind == J_PASS && c->out == NULL)
    {
      buf_adds (b, "/>\n");
      return;
    }
  buf_adds (b, ">\n");
  if (c->kind == J_FAILURE)
    {
      buf_adds (b, "      <failure message=\"");
      xml_esc (b, c->message, true);
      buf_adds (b, "\" type=\"");
      xml_esc (b, c->type, true);
      buf_adds (b, "\">");
      xml_esc (b, c->body, false);
      buf_adds (b, "</failure>\n");
    }
  else if (c->kind == J_SKIPPED)
    {
      buf_adds (b, "      <skipped message=\"");
      xml_esc (b, c->message, true);
      buf_adds (b, "\"/>\n");
    }
  if (c->out)
    xml_text_elem (b, "system-out", c->out);
  buf_adds (b, "    </testcase>\n");
}

/* A suite's time: its testcases' sum, or (parallel: the readiness gates
 * run at once) the longest of them. */
static double
suite_time (const struct jsuite *s, bool parallel)
{
  double t = 0;
  for (size_t i = 0; i < s->n; i++)
    t = parallel ? (s->c[i].time > t ? s->c[i].time : t) : t + s->c[i].time;
  return t;
}

static void
write_suite (struct buf *b, const char *name, const char *host, const char *when,
             const struct jsuite *s, double t, const struct report *r, bool props)
{
  size_t nf = 0, nskip = 0;
  for (size_t i = 0; i < s->n; i++)
    {
      nf += s->c[i].kind == J_FAILURE;
      nskip += s->c[i].kind == J_SKIPPED;
    }
  buf_adds (b, "  <testsuite name=\"");
  xml_esc (b, name, true);
  buf_addf (b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\" "
               "timestamp=\"%s\" hostname=\"",
            s->n, nf, nskip, t, when);
  xml_esc (b, host, true);
  buf_adds (b, "\">\n");
  if (props)
    write_properties (b, r);
  for (size_t i = 0; i < s->n; i++)
    write_case (b, &s->c[i]);
  buf_adds (b, "  </testsuite>\n");
}

/* ---- the testcases, one suite each ---- */

static double
case_time (int64_t ns)
{
  return ns >= 0 ? report_secs (ns) : 0;
}

static void
readiness_failed (const struct rsvc *s, struct jcase *k)
{
  struct buf body = { 0 };
  buf_adds (&body, "");
  buf_addf (&body, "%s: %s\n", s->name, s->reason ? s->reason : s->state);
  if (s->logs && *s->logs)
    buf_addf (&body, "\nlast log lines:\n%s%s", s->logs,
              s->logs[strlen (s->logs) - 1] == '\n' ? "" : "\n");
  if (s->probes && *s->probes)
    buf_addf (&body, "\nlast probes:\n%s", s->probes);
  k->kind = J_FAILURE;
  k->message = xasprintf ("%s: %s", s->name, s->reason ? s->reason : s->state);
  k->type = xstrdup (strcmp (s->state, "failed") == 0 ? "readiness" : s->state);
  k->body = buf_steal (&body);
}

static void
readiness_passed (const struct rsvc *s, struct jcase *k)
{
  struct buf out = { 0 };
  buf_adds (&out, "");
  buf_addf (&out, "state: %s\ngate: %s\n", s->state, s->gate ? s->gate : "-");
  if (s->ready_ns >= 0)
    buf_addf (&out, "time to ready: %.3f s\n", report_secs (s->ready_ns));
  if (s->probe_ns >= 0)
    buf_addf (&out, "probe response: %.3f s\n", report_secs (s->probe_ns));
  if (s->logs_file)
    buf_addf (&out, "logs: %s\n", s->logs_file);
  k->out = buf_steal (&out);
}

static void
cases_readiness (const struct report *r, const char *cls, struct jsuite *s)
{
  for (size_t i = 0; i < r->nsvc; i++)
    {
      const struct rsvc *sv = &r->svc[i];
      struct jcase k = { .name = xasprintf ("%s is ready", sv->name), .classname = xstrdup (cls),
                         .time = case_time (sv->ready_ns >= 0 ? sv->ready_ns : sv->gate_ns) };
      if (report_svc_failed (sv))
        readiness_failed (sv, &k);
      else if (report_svc_skipped (sv))
        {
          k.kind = J_SKIPPED;
          k.message = xstrdup (sv->detail ? sv->detail : "not started: a dependency failed");
        }
      else
        readiness_passed (sv, &k);
      jcase_add (s, k);
    }
}

static void
cases_seed (const struct report *r, const char *cls, struct jsuite *s)
{
  for (size_t i = 0; i < r->nseeds; i++)
    {
      const struct rseed *sd = &r->seeds[i];
      struct jcase k = { .name = xasprintf ("%s: %s", sd->service, sd->step),
                         .classname = xstrdup (cls), .time = case_time (sd->ns) };
      if (!sd->ok)
        {
          k.kind = J_FAILURE;
          k.message = xasprintf ("seed step failed: %s", sd->step);
          k.type = xstrdup ("seed");
          k.body = xstrdup (sd->output ? sd->output : "");
        }
      else if (sd->rows >= 0)
        k.out = xasprintf ("%lld row%s\n", sd->rows, sd->rows == 1 ? "" : "s");
      jcase_add (s, k);
    }
}

static void
cases_check (const struct report *r, const char *cls, struct jsuite *s)
{
  for (size_t i = 0; i < r->nchecks; i++)
    {
      const struct rcheck *ck = &r->checks[i];
      struct jcase k = { .name = xasprintf ("%s: %s", ck->service, ck->name),
                         .classname = xstrdup (cls), .time = case_time (ck->ns) };
      if (!ck->ok)
        {
          k.kind = J_FAILURE;
          k.message = xasprintf ("%s check failed: %s", ck->kind ? ck->kind : "data", ck->name);
          k.type = xstrdup ("check");
          k.body = ck->detail ? xstrdup (ck->detail)
                              : xasprintf ("expected:\n%s\nactual:\n%s\n",
                                           ck->expected ? ck->expected : "",
                                           ck->actual ? ck->actual : "");
        }
      if (ck->has_fig)
        k.out = xasprintf ("%zu requests (%zu failed): min %.6f s, p50 %.6f s, p95 %.6f s, "
                           "p99 %.6f s, max %.6f s, %.1f req/s\n", ck->fig.count, ck->fig.failed,
                           report_secs (ck->fig.min), report_secs (ck->fig.p50),
                           report_secs (ck->fig.p95), report_secs (ck->fig.p99),
                           report_secs (ck->fig.max), ck->fig.throughput);
      jcase_add (s, k);
    }
}

/* A teardown testcase once something was torn down or verified (not after
 * an up that succeeded: nothing was removed yet). */
static void
cases_teardown (const struct report *r, const char *cls, struct jsuite *s)
{
  if (!r->verified && report_count_res (r, RES_REMOVED | RES_LEFT, NULL) == 0)
    return;
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
  struct jcase k = { .name = xstrdup ("teardown verification"), .classname = xstrdup (cls),
                     .time = case_time (r->td_ns) };
  if (!report_teardown_ok (r))
    {
      k.kind = J_FAILURE;
      size_t left = report_count_res (r, RES_LEFT, NULL);
      k.message = xasprintf ("%zu resource%s left after teardown", left, left == 1 ? "" : "s");
      k.type = xstrdup ("leak");
      k.body = buf_steal (&out);
    }
  else
    k.out = buf_steal (&out);
  jcase_add (s, k);
}

static void
cases_run (const struct report *r, const char *cls, struct jsuite *s)
{
  if (!r->has_cmd)
    return;
  struct buf cmd = { 0 };
  buf_adds (&cmd, "");
  for (char **a = r->argv; a && *a; a++)
    buf_addf (&cmd, "%s%s", a == r->argv ? "" : " ", *a);
  struct jcase k = { .name = buf_steal (&cmd), .classname = xstrdup (cls),
                     .time = case_time (r->cmd_ns) };
  if (r->cmd_exit < 0)
    {
      k.kind = J_SKIPPED;
      k.message = xstrdup ("not run: the environment did not come up");
    }
  else if (r->cmd_exit != 0)
    {
      k.kind = J_FAILURE;
      k.message = xasprintf ("exit status %d", r->cmd_exit);
      k.type = xstrdup ("command");
      if (r->cmd_out && *r->cmd_out)
        k.body = xasprintf ("%s exited with status %d\n\nlast output lines:\n%s%s", k.name,
                            r->cmd_exit, r->cmd_out,
                            r->cmd_out[strlen (r->cmd_out) - 1] == '\n' ? "" : "\n");
      else
        k.body = xasprintf ("%s exited with status %d\n", k.name, r->cmd_exit);
    }
  if (r->cmd_out && *r->cmd_out)
    k.out = xstrdup (r->cmd_out);
  jcase_add (s, k);
}

void
report_render_junit (const struct report *r, struct buf *b)
{
  static void (*const collect[S_COUNT]) (const struct report *, const char *, struct jsuite *)
    = { cases_readiness, cases_seed, cases_check, cases_teardown, cases_run };
  char when[32], host[256] = "localhost";
  struct tm tm;
  gmtime_r (&r->wall0, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  if (gethostname (host, sizeof host - 1) != 0)
    snprintf (host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0';
  const char *ns = r->ns ? r->ns : "itm-env";

  struct jsuite suites[S_COUNT] = { { NULL, 0 } };
  size_t tests = 0, failures = 0;
  double times[S_COUNT], sum = 0;
  for (int s = 0; s < S_COUNT; s++)
    {
      cleanup_free char *cls = xasprintf ("itm-env.%s.%s", ns, suite_suffix[s]);
      collect[s] (r, cls, &suites[s]);
      tests += suites[s].n;
      for (size_t i = 0; i < suites[s].n; i++)
        failures += suites[s].c[i].kind == J_FAILURE;
      times[s] = suite_time (&suites[s], s == S_READINESS);
      sum += times[s];
    }
  /* the total: the command's duration, never less than its suites' */
  double total = report_secs (report_duration (r));
  if (total < sum)
    total = sum;

  buf_adds (b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  buf_adds (b, "<testsuites name=\"");
  cleanup_free char *top = xasprintf ("itm-env %s %s", r->command, ns);
  xml_esc (b, top, true);
  buf_addf (b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", tests,
            failures, total);
  /* suites with testcases; an empty teardown suite when there are none */
  bool props = true;
  for (int s = 0; s < S_COUNT; s++)
    if (suites[s].n || (s == S_TEARDOWN && tests == 0))
      {
        cleanup_free char *name = xasprintf ("itm-env.%s.%s", ns, suite_suffix[s]);
        write_suite (b, name, host, when, &suites[s], times[s], r, props);
        props = false;
      }
  buf_adds (b, "</testsuites>\n");
  for (int s = 0; s < S_COUNT; s++)
    jsuite_free (&suites[s]);
}
