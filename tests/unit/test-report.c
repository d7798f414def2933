/* test-report.c - the report collector and its renderings: text, JSON
 * (stable keys), JUnit XML (escaping, valid against tests/report/junit.xsd
 * when xmllint is there), format names, GitHub annotations. */
#include <config.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out/out.h"
#include "report/report.h"
#include "tap.h"
#include "util/xalloc.h"

#define SEC 1000000000LL

static const char *
jpath (json_object *o, const char *path)
{
  cleanup_free char *p = xstrdup (path);
  char *save = NULL;
  for (char *t = strtok_r (p, ".", &save); t && o; t = strtok_r (NULL, ".", &save))
    {
      if (json_object_is_type (o, json_type_array))
        o = json_object_array_get_idx (o, (size_t) atoi (t));
      else if (!json_object_object_get_ex (o, t, &o))
        return "(missing)";
    }
  return o ? json_object_get_string (o) : "(null)";
}

static struct report *
sample (void)
{
  struct report *r = report_new ("up");
  report_namespace (r, "itmt-ns");
  report_engine (r, "unix:///var/run/docker.sock", "24.0.5", "1.43");
  report_stack_file (r, "/tmp/a b/stack.yml");
  report_service (r, "db", "ready", 2 * SEC + 500000000LL, 21000000LL, "healthcheck", NULL);
  report_service (r, "web", "failed", -1, -1, "healthcheck", NULL);
  report_failure (r, "web", "not healthy within its timeout <2s> & \"more\"",
                  "line 1 <b>&amp;</b>\nbell \a and \x01 ctl\ninvalid \xff\xfe utf-8\n",
                  "exit 1: probe-says-no\n");
  report_service (r, "after", "skipped", -1, -1, "running", "a dependency failed");
  report_seed (r, "db", "exec psql -f /seed/init.sql", true, SEC / 4, 42, NULL);
  report_seed (r, "db", "copy ]]> data", false, SEC / 10, -1, "ERROR: ]]> boom");
  report_check (r, "db", "select count(*)", true, SEC / 100, "42", "42");
  report_check (r, "db", "users exist", false, SEC / 100, "3", "0");
  report_resource_id (r, "container", "abc123", "itmt-ns-db-1");
  report_resource (r, "container", "itmt-ns-db-1", REPORT_RES_CREATED, NULL);
  report_resource (r, "container", "abc123", REPORT_RES_REMOVED, NULL);
  report_resource (r, "network", "itmt-ns_default", REPORT_RES_CREATED, NULL);
  report_resource (r, "network", "itmt-ns_default", REPORT_RES_LEFT, "active endpoints: stray");
  report_verify (r, false, "checked 3 containers, 1 network, 0 volumes");
  report_logs_file (r, "web", "logs/web.log");
  report_finish (r, 7, "web: not healthy within its timeout");
  return r;
}

static void
test_json (void)
{
  struct report *r = sample ();
  cleanup_free char *s = report_render (r, REPORT_JSON);
  json_object *o = json_tokener_parse (s);
  tap_ok (o != NULL, "JSON: parses");
  tap_is_str (jpath (o, "command"), "up", "JSON: command");
  tap_is_str (jpath (o, "namespace"), "itmt-ns", "JSON: namespace");
  tap_is_str (jpath (o, "exit_code"), "7", "JSON: exit_code");
  tap_is_str (jpath (o, "passed"), "false", "JSON: passed");
  tap_is_str (jpath (o, "engine.endpoint"), "unix:///var/run/docker.sock", "JSON: engine.endpoint");
  tap_is_str (jpath (o, "engine.version"), "24.0.5", "JSON: engine.version");
  tap_is_str (jpath (o, "engine.api_version"), "1.43", "JSON: engine.api_version");
  tap_is_str (jpath (o, "stack_files.0"), "/tmp/a b/stack.yml", "JSON: stack_files");
  tap_is_str (jpath (o, "services.0.name"), "db", "JSON: services[0].name");
  tap_is_str (jpath (o, "services.0.time_to_ready_s"), "2.500", "JSON: time_to_ready_s");
  tap_is_str (jpath (o, "services.0.probe_response_s"), "0.021", "JSON: probe_response_s");
  tap_is_str (jpath (o, "services.0.gate"), "healthcheck", "JSON: gate");
  tap_is_str (jpath (o, "services.1.state"), "failed", "JSON: failed service state");
  tap_is_str (jpath (o, "services.1.time_to_ready_s"), "(null)", "JSON: not ready: null");
  tap_ok (strstr (jpath (o, "services.1.failure.last_logs"), "\xef\xbf\xbd utf-8") != NULL,
          "JSON: invalid UTF-8 replaced");
  tap_is_str (jpath (o, "services.1.failure.probe_output"), "exit 1: probe-says-no\n",
              "JSON: probe output");
  tap_is_str (jpath (o, "services.1.logs_file"), "logs/web.log", "JSON: logs_file");
  tap_is_str (jpath (o, "services.2.state"), "skipped", "JSON: skipped");
  tap_is_str (jpath (o, "seeds.0.rows"), "42", "JSON: seed rows");
  tap_is_str (jpath (o, "seeds.1.ok"), "false", "JSON: failed seed");
  tap_is_str (jpath (o, "checks.1.actual"), "0", "JSON: check actual");
  tap_is_str (jpath (o, "teardown.created.0.name"), "itmt-ns-db-1", "JSON: created, by name");
  tap_is_str (jpath (o, "teardown.removed.0.name"), "itmt-ns-db-1",
              "JSON: removed, id mapped to its name");
  tap_is_str (jpath (o, "teardown.left.0.name"), "itmt-ns_default", "JSON: left");
  tap_is_str (jpath (o, "teardown.left.0.detail"), "active endpoints: stray", "JSON: left detail");
  tap_is_str (jpath (o, "teardown.clean"), "false", "JSON: clean");
  tap_is_str (jpath (o, "run"), "(null)", "JSON: run is null for up");
  json_object_put (o);
  report_free (r);
}

static void
test_text (void)
{
  struct report *r = sample ();
  cleanup_free char *s = report_render (r, REPORT_TEXT);
  tap_ok (strstr (s, "itm-env up report\n=================\n") != NULL, "text: title");
  tap_ok (strstr (s, "Namespace:  itmt-ns") != NULL, "text: namespace");
  tap_ok (strstr (s, "(Docker 24.0.5, API 1.43)") != NULL, "text: engine");
  tap_ok (strstr (s, "Result:     FAILED (exit 7)") != NULL, "text: result");
  tap_ok (strstr (s, "db                   ready        healthcheck  2.500 s      0.021 s")
            != NULL, "text: service line with time to ready and probe time");
  tap_ok (strstr (s, "42 rows  exec psql") != NULL, "text: seed rows");
  tap_ok (strstr (s, "created:  1 container, 1 network, 0 volumes") != NULL,
          "text: created counts");
  tap_ok (strstr (s, "left:     0 containers, 1 network, 0 volumes\n    network itmt-ns_default")
            != NULL, "text: leftovers named");
  tap_ok (strstr (s, "verified: LEFTOVERS - checked 3") != NULL, "text: verification");
  tap_ok (strstr (s, "      | exit 1: probe-says-no") != NULL, "text: probe output in failures");
  tap_ok (strstr (s, "Summary: 3 services (1 ready, 1 failed, 1 skipped)") != NULL,
          "text: summary");
  if (tap_failed)
    tap_diag ("%s", s);
  report_free (r);
}

static void
test_junit (void)
{
  struct report *r = sample ();
  cleanup_free char *s = report_render (r, REPORT_JUNIT);
  tap_ok (strncmp (s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 50) == 0,
          "JUnit: declaration and root");
  tap_ok (strstr (s, "tests=\"8\" failures=\"4\"") != NULL, "JUnit: totals (8 tests, 4 failures)");
  tap_ok (strstr (s, "<failure message=\"web: not healthy within its timeout &lt;2s&gt; &amp; "
                     "&quot;more&quot;\" type=\"readiness\">") != NULL,
          "JUnit: failure message escaped");
  tap_ok (strstr (s, "line 1 &lt;b&gt;&amp;amp;&lt;/b&gt;\nbell \xef\xbf\xbd and") != NULL,
          "JUnit: log lines escaped, control characters replaced");
  tap_ok (strstr (s, "<skipped message=\"a dependency failed\"/>") != NULL, "JUnit: skipped");
  tap_ok (strstr (s, "ERROR: ]]&gt; boom") != NULL, "JUnit: ]]> in a body");
  tap_ok (strstr (s, "name=\"teardown verification\"") != NULL, "JUnit: teardown testcase");
  tap_ok (strstr (s, "<property name=\"engine.version\" value=\"24.0.5\"/>") != NULL,
          "JUnit: engine as a property");
  char path[] = "/tmp/test-report-XXXXXX";
  int fd = mkstemp (path);
  close (fd);
  cleanup_err struct itm_err err = { 0 };
  tap_ok (report_write (r, path, REPORT_JUNIT, &err) == 0, "report_write");
  const char *src = getenv ("ITM_SRCDIR");
  if (system ("command -v xmllint >/dev/null 2>&1") == 0)
    {
      cleanup_free char *cmd = xasprintf ("xmllint --noout --schema '%s/tests/report/junit.xsd' "
                                          "'%s' >&2",
                                          src ? src : ".", path);
      tap_ok (system (cmd) == 0, "JUnit: valid against tests/report/junit.xsd");
    }
  else
    printf ("ok %d - JUnit schema # SKIP no xmllint\n", ++tap_n);
  unlink (path);
  report_free (r);

  /* an empty report is still a valid document */
  r = report_new ("down");
  report_finish (r, 0, NULL);
  cleanup_free char *e = report_render (r, REPORT_JUNIT);
  tap_ok (strstr (e, "tests=\"0\"") != NULL && strstr (e, "</testsuites>\n") != NULL,
          "JUnit: empty report");
  report_free (r);
}

static void
test_run (void)
{
  struct report *r = report_new ("run");
  report_namespace (r, "run-1");
  const char *argv[] = { "make", "test", NULL };
  report_command (r, argv, 2, SEC);
  report_finish (r, 2, NULL);
  cleanup_free char *x = report_render (r, REPORT_JUNIT);
  tap_ok (strstr (x, "teardown") == NULL, "JUnit: no teardown testcase before any teardown");
  tap_ok (strstr (x, "<testcase name=\"make test\" classname=\"itm-env.run-1.run\" "
                     "time=\"1.000\">\n      <failure message=\"exit status 2\"")
            != NULL, "JUnit: run's command as a testcase, failed");
  cleanup_free char *j = report_render (r, REPORT_JSON);
  json_object *o = json_tokener_parse (j);
  tap_is_str (jpath (o, "run.argv.1"), "test", "JSON: run.argv");
  tap_is_str (jpath (o, "run.exit_code"), "2", "JSON: run.exit_code");
  tap_is_str (jpath (o, "run.duration_s"), "1.000", "JSON: run.duration_s");
  json_object_put (o);
  cleanup_free char *t = report_render (r, REPORT_TEXT);
  tap_ok (strstr (t, "Command\n  make test\n  exit 2 after 1.000 s") != NULL, "text: the command");
  report_free (r);
}

static void
test_formats (void)
{
  enum report_format f = REPORT_TEXT;
  struct itm_err err = { 0 };
  tap_ok (report_format_parse ("junit", &f, &err) == 0 && f == REPORT_JUNIT, "format junit");
  tap_ok (report_format_parse ("json", &f, &err) == 0 && f == REPORT_JSON, "format json");
  tap_ok (report_format_parse ("text", &f, &err) == 0 && f == REPORT_TEXT, "format text");
  int rc = report_format_parse ("html", &f, &err);
  tap_ok (rc < 0 && err.code == ITM_EXIT_USAGE, "format html refused (%s)",
          err.msg ? err.msg : "");
  itm_err_clear (&err);
  tap_ok (report_format_guess ("out/r.json") == REPORT_JSON, "guess .json");
  tap_ok (report_format_guess ("r.XML") == REPORT_JUNIT, "guess .xml");
  tap_ok (report_format_guess ("r.txt") == REPORT_TEXT, "guess .txt");
  tap_ok (report_format_guess ("a.json/report") == REPORT_TEXT, "guess: a dot in a directory");
}

/* What report_annotate writes on fd ofd (1 or 2). */
static char *
capture_annotation_fd (int ofd, const char *title, const char *msg)
{
  char path[] = "/tmp/test-report-ann-XXXXXX";
  int fd = mkstemp (path);
  fflush (stdout);
  fflush (stderr);
  int saved = dup (ofd);
  dup2 (fd, ofd);
  report_annotate (title, msg);
  fflush (stdout);
  fflush (stderr);
  dup2 (saved, ofd);
  close (saved);
  lseek (fd, 0, SEEK_SET);
  char buf[1024] = "";
  ssize_t n = read (fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  close (fd);
  unlink (path);
  return xstrdup (buf);
}

static char *
capture_annotation (const char *title, const char *msg)
{
  return capture_annotation_fd (1, title, msg);
}

static void
test_annotate (void)
{
  unsetenv ("GITHUB_ACTIONS");
  cleanup_free char *a = capture_annotation ("t", "m");
  tap_is_str (a, "", "annotation: nothing outside GitHub Actions");
  setenv ("GITHUB_ACTIONS", "true", 1);
  cleanup_free char *b = capture_annotation ("itm-env: web, failed", "50% done\r\nnext: line");
  tap_is_str (b, "::error title=itm-env%3A web%2C failed::50%25 done%0D%0Anext: line\n",
              "annotation: %%, CR, LF escaped; : and , in the title");
  /* --json: stdout holds JSON lines only, the annotation goes to stderr */
  out_init (OUT_QUIET, true);
  cleanup_free char *c = capture_annotation_fd (1, "t", "m");
  cleanup_free char *d = capture_annotation_fd (2, "t", "m");
  out_init (OUT_PLAIN, false);
  tap_is_str (c, "", "annotation with --json: nothing on stdout");
  tap_is_str (d, "::error title=t::m\n", "annotation with --json: on stderr");
  unsetenv ("GITHUB_ACTIONS");
}

static char *
mask_pw (const char *s)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (const char *p = s; *p;)
    if (strncmp (p, "s3cret", 6) == 0)
      {
        buf_adds (&b, "********");
        p += 6;
      }
    else
      buf_addc (&b, *p++);
  return buf_steal (&b);
}

static void
test_mask (void)
{
  report_set_mask (mask_pw);
  struct report *r = report_new ("up");
  report_failure (r, "db", "password s3cret refused", "FATAL: s3cret\n", NULL);
  report_seed (r, "db", "psql -c 'alter user x password s3cret'", false, 1, -1, "s3cret");
  cleanup_free char *j = report_render (r, REPORT_JSON);
  cleanup_free char *x = report_render (r, REPORT_JUNIT);
  cleanup_free char *t = report_render (r, REPORT_TEXT);
  tap_ok (strstr (j, "s3cret") == NULL && strstr (j, "password ********") != NULL,
          "mask: JSON holds no secret");
  tap_ok (strstr (x, "s3cret") == NULL, "mask: JUnit holds no secret");
  tap_ok (strstr (t, "s3cret") == NULL, "mask: text holds no secret");
  setenv ("GITHUB_ACTIONS", "true", 1);
  cleanup_free char *a = capture_annotation ("s3cret", "the s3cret");
  unsetenv ("GITHUB_ACTIONS");
  tap_ok (strstr (a, "s3cret") == NULL && strstr (a, "the ********") != NULL,
          "mask: annotations hold no secret");
  report_free (r);
  report_set_mask (NULL);
}

/* JUnit times: a failed gate and the teardown timed, the readiness suite
 * the longest of its parallel gates, the total at least the suites' sum;
 * run's output tail in <system-out> and <failure>. */
static void
test_junit_times (void)
{
  struct report *r = report_new ("run");
  report_namespace (r, "tns");
  report_service (r, "a", "ready", 3 * SEC, -1, "running", NULL);
  report_service (r, "b", "ready", 5 * SEC, -1, "running", NULL);
  report_service (r, "c", "failed", -1, -1, "healthcheck", NULL);
  report_service_time (r, "c", 2 * SEC);
  report_failure (r, "c", "not healthy", NULL, NULL);
  report_resource (r, "container", "tns-a-1", REPORT_RES_REMOVED, NULL);
  report_verify (r, true, "checked");
  report_teardown_time (r, SEC / 2);
  const char *argv[] = { "sh", "-c", "exit 3", NULL };
  report_command (r, argv, 3, SEC / 4);
  report_command_output (r, "first <line>\nlast line\n");
  report_finish (r, 3, NULL);
  cleanup_free char *s = report_render (r, REPORT_JUNIT);
  tap_ok (strstr (s, "<testcase name=\"c is ready\" classname=\"itm-env.tns.readiness\" "
                     "time=\"2.000\"") != NULL, "JUnit: the failed gate has its time");
  tap_ok (strstr (s, "<testcase name=\"teardown verification\" classname=\"itm-env.tns.teardown\" "
                     "time=\"0.500\"") != NULL, "JUnit: the teardown has its time");
  tap_ok (strstr (s, "name=\"itm-env.tns.readiness\" tests=\"3\" failures=\"1\" errors=\"0\" "
                     "skipped=\"0\" time=\"5.000\"") != NULL,
          "JUnit: the readiness suite's time is its longest gate (they run at once)");
  tap_ok (strstr (s, "errors=\"0\" time=\"5.750\">") != NULL,
          "JUnit: the total is at least the suites' sum (5 + 0.5 + 0.25)");
  tap_ok (strstr (s, "<system-out>first &lt;line&gt;\nlast line\n</system-out>") != NULL,
          "JUnit: run's output tail in <system-out>");
  tap_ok (strstr (s, "exited with status 3\n\nlast output lines:\nfirst &lt;line&gt;\nlast line\n"
                     "</failure>") != NULL,
          "JUnit: and in its <failure>");
  report_free (r);
}

static void
test_null (void)
{
  /* every call accepts no collector */
  report_service (NULL, "a", "ready", 1, 1, NULL, NULL);
  report_seed (NULL, "a", "b", true, 1, 1, NULL);
  report_check (NULL, "a", "b", true, 1, NULL, NULL);
  report_resource (NULL, "container", "x", REPORT_RES_LEFT, NULL);
  report_verify (NULL, true, NULL);
  report_finish (NULL, 0, NULL);
  tap_ok (report_current () == NULL, "no current collector by default");
}

/* Counts of one are singular in the text and the JUnit messages: "1 step",
 * "1 row", "1 service", "1 resource left" (JSON keeps its numbers). */
static void
test_singular (void)
{
  struct report *r = report_new ("up");
  report_namespace (r, "itmt-one");
  report_service (r, "db", "ready", SEC, -1, "healthcheck", NULL);
  report_seed (r, "db", "exec psql -f /seed/one.sql", true, SEC / 4, 1, NULL);
  report_check (r, "db", "one row", true, SEC / 100, "1", "1");
  report_resource (r, "network", "itmt-one_default", REPORT_RES_LEFT, "active endpoints");
  report_verify (r, false, "checked");
  report_finish (r, 9, "leftovers");
  cleanup_free char *t = report_render (r, REPORT_TEXT);
  tap_ok (strstr (t, "Seeds (1 step)\n") != NULL, "text: Seeds (1 step)");
  tap_ok (strstr (t, " 1 row  exec psql") != NULL, "text: 1 row");
  tap_ok (strstr (t, "Summary: 1 service (1 ready, 0 failed, 0 skipped), 1 seed step (0 failed), "
                     "1 check (0 failed)") != NULL, "text: summary in the singular");
  tap_ok (strstr (t, "\nChecks (1)\n") != NULL && strstr (t, " data  one row\n") != NULL,
          "text: a data check under Checks, with its kind");
  if (tap_failed)
    tap_diag ("%s", t);
  cleanup_free char *j = report_render (r, REPORT_JUNIT);
  tap_ok (strstr (j, "message=\"1 resource left after teardown\"") != NULL,
          "JUnit: 1 resource left");
  tap_ok (strstr (j, "1 row\n") != NULL && strstr (j, "1 rows") == NULL, "JUnit: 1 row");
  report_free (r);
}

/* The text report's check section holds data checks and x-itm.checks:
 * titled Checks, each line with its kind. */
static void
test_checks_title (void)
{
  struct report *r = report_new ("up");
  report_check (r, "db", "one row", true, SEC / 100, "1", "1");
  report_check (r, "api", "GET /health", false, SEC / 10, NULL, NULL);
  report_check_detail (r, "api", "GET /health", "http", "status 500, expected 200", NULL);
  report_finish (r, 1, "a check failed");
  cleanup_free char *t = report_render (r, REPORT_TEXT);
  tap_ok (strstr (t, "\nChecks (2)\n") != NULL && strstr (t, "Data checks") == NULL,
          "text: the section is Checks (x-itm.checks are not data checks)");
  tap_ok (strstr (t, " data  one row\n") != NULL && strstr (t, " http  GET /health\n") != NULL,
          "text: each check with its kind");
  tap_ok (strstr (t, "2 checks (1 failed)") != NULL, "text: the summary counts checks");
  if (tap_failed)
    tap_diag ("%s", t);
  report_free (r);
}

int
main (void)
{
  test_null ();
  test_formats ();
  test_json ();
  test_text ();
  test_junit ();
  test_junit_times ();
  test_annotate ();
  test_mask ();
  test_run ();
  test_singular ();
  test_checks_title ();
  return tap_done ();
}
