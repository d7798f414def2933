/* json.c - the report as one JSON object (report_version 1): its keys are
 * stable, and a value not known is null rather than left out. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>

#include "report/priv.h"
#include "util/json.h"

static json_object *
jstr_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

/* Seconds with three decimals, or null when not measured (ns < 0). */
static json_object *
jsecs (int64_t ns)
{
  if (ns < 0)
    return NULL;
  char t[32];
  snprintf (t, sizeof t, "%.3f", report_secs (ns));
  return json_object_new_double_s (report_secs (ns), t);
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

/* The command, its outcome, the engine and the stack files into o. */
static void
json_head (const struct report *r, json_object *o)
{
  char when[32];
  report_iso_time (r->wall0, when, sizeof when);
  json_object_object_add (o, "report_version", json_object_new_int (1));
  json_object_object_add (o, "command", json_object_new_string (r->command));
  json_object_object_add (o, "namespace", jstr_or_null (r->ns));
  json_object_object_add (o, "started_at", json_object_new_string (when));
  json_object_object_add (o, "duration_s", jsecs (report_duration (r)));
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
}

static json_object *
json_service (const struct rsvc *s)
{
  json_object *j = json_object_new_object ();
  json_object_object_add (j, "name", json_object_new_string (s->name));
  json_object_object_add (j, "state", json_object_new_string (s->state));
  json_object_object_add (j, "gate", jstr_or_null (s->gate));
  json_object_object_add (j, "time_to_ready_s", jsecs (s->ready_ns));
  json_object_object_add (j, "probe_response_s", jsecs (s->probe_ns));
  json_object_object_add (j, "ready_by", jstr_or_null (s->ready_by));
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
  return j;
}

static json_object *
json_seed (const struct rseed *s)
{
  json_object *j = json_object_new_object ();
  json_object_object_add (j, "service", json_object_new_string (s->service));
  json_object_object_add (j, "step", json_object_new_string (s->step));
  json_object_object_add (j, "ok", json_object_new_boolean (s->ok));
  json_object_object_add (j, "duration_s", jsecs (s->ns));
  json_object_object_add (j, "rows", s->rows >= 0 ? json_object_new_int64 (s->rows) : NULL);
  json_object_object_add (j, "output", jstr_or_null (s->output));
  return j;
}

static json_object *
json_check (const struct rcheck *c)
{
  json_object *j = json_object_new_object ();
  json_object_object_add (j, "service", json_object_new_string (c->service));
  json_object_object_add (j, "name", json_object_new_string (c->name));
  json_object_object_add (j, "ok", json_object_new_boolean (c->ok));
  json_object_object_add (j, "duration_s", jsecs (c->ns));
  json_object_object_add (j, "expected", jstr_or_null (c->expected));
  json_object_object_add (j, "actual", jstr_or_null (c->actual));
  /* x-itm.checks (src/check/): kind, failures, latency figures */
  json_object_object_add (j, "kind", json_object_new_string (c->kind ? c->kind : "data"));
  json_object_object_add (j, "detail", jstr_or_null (c->detail));
  json_object *lat = NULL;
  if (c->has_fig)
    {
      lat = json_object_new_object ();
      json_object_object_add (lat, "count", json_object_new_int64 ((int64_t) c->fig.count));
      json_object_object_add (lat, "failed", json_object_new_int64 ((int64_t) c->fig.failed));
      json_object_object_add (lat, "min_s", jsecs (c->fig.min));
      json_object_object_add (lat, "p50_s", jsecs (c->fig.p50));
      json_object_object_add (lat, "p95_s", jsecs (c->fig.p95));
      json_object_object_add (lat, "p99_s", jsecs (c->fig.p99));
      json_object_object_add (lat, "max_s", jsecs (c->fig.max));
      json_object_object_add (lat, "throughput_rps", json_object_new_double (c->fig.throughput));
    }
  json_object_object_add (j, "latency", lat);
  return j;
}

/* null when there was no teardown */
static json_object *
json_teardown (const struct report *r)
{
  if (!report_has_teardown (r))
    return NULL;
  json_object *td = json_object_new_object ();
  json_object_object_add (td, "created", json_res_list (r, RES_CREATED));
  json_object_object_add (td, "removed", json_res_list (r, RES_REMOVED));
  json_object_object_add (td, "left", json_res_list (r, RES_LEFT));
  json_object_object_add (td, "suspects", json_res_list (r, RES_SUSPECT));
  json_object_object_add (td, "verified", json_object_new_boolean (r->verified));
  json_object_object_add (td, "clean", r->verified ? json_object_new_boolean (r->clean) : NULL);
  json_object_object_add (td, "checked", jstr_or_null (r->checked));
  return td;
}

/* null when no command was run (run only) */
static json_object *
json_run (const struct report *r)
{
  if (!r->has_cmd)
    return NULL;
  json_object *rc = json_object_new_object ();
  json_object *a = json_object_new_array ();
  for (char **p = r->argv; p && *p; p++)
    json_object_array_add (a, json_object_new_string (*p));
  json_object_object_add (rc, "argv", a);
  json_object_object_add (rc, "exit_code",
                          r->cmd_exit >= 0 ? json_object_new_int (r->cmd_exit) : NULL);
  json_object_object_add (rc, "duration_s", jsecs (r->cmd_ns));
  return rc;
}

void
report_render_json (const struct report *r, struct buf *b)
{
  cleanup_json json_object *o = json_object_new_object ();
  json_head (r, o);
  json_object *ss = json_object_new_array ();
  for (size_t i = 0; i < r->nsvc; i++)
    json_object_array_add (ss, json_service (&r->svc[i]));
  json_object_object_add (o, "services", ss);
  json_object *sd = json_object_new_array ();
  for (size_t i = 0; i < r->nseeds; i++)
    json_object_array_add (sd, json_seed (&r->seeds[i]));
  json_object_object_add (o, "seeds", sd);
  json_object *cs = json_object_new_array ();
  for (size_t i = 0; i < r->nchecks; i++)
    json_object_array_add (cs, json_check (&r->checks[i]));
  json_object_object_add (o, "checks", cs);
  json_object *fs = json_object_new_array ();
  for (size_t i = 0; i < r->nfaults; i++)
    {
      json_object *f = json_object_new_object ();
      json_object_object_add (f, "service", json_object_new_string (r->faults[i].service));
      json_object_object_add (f, "when", json_object_new_string (r->faults[i].when));
      json_object_object_add (f, "fault", json_object_new_string (r->faults[i].fault));
      json_object_array_add (fs, f);
    }
  json_object_object_add (o, "faults", fs);
  json_object_object_add (o, "teardown", json_teardown (r));
  json_object_object_add (o, "run", json_run (r));
  buf_adds (b, json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY
                                                    | JSON_C_TO_STRING_SPACED
                                                    | JSON_C_TO_STRING_NOSLASHESCAPE));
  buf_adds (b, "\n");
}
