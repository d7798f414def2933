/* test-check.c - x-itm.checks as data (src/stack/checks.c: the model a
 * stack file gives) and the latency figures of src/check/ (nearest-rank
 * percentiles, throughput). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "stack/checks.h"
#include "stack/stack.h"
#include "tap.h"

static void
figures (void)
{
  int64_t lat[100];
  for (int i = 0; i < 100; i++)
    lat[i] = (int64_t) (100 - i);         /* 100..1, unsorted */
  struct check_figures f;
  check_figures (lat, 100, 2000000000LL, &f);
  tap_is_int (f.count, 100, "figures: count");
  tap_is_int (f.min, 1, "figures: min");
  tap_is_int (f.p50, 50, "figures: p50 (nearest rank)");
  tap_is_int (f.p95, 95, "figures: p95");
  tap_is_int (f.p99, 99, "figures: p99");
  tap_is_int (f.max, 100, "figures: max");
  tap_ok (f.throughput > 49.99 && f.throughput < 50.01, "figures: 100 in 2 s is 50/s");
  int64_t one[] = { 7 };
  check_figures (one, 1, 0, &f);
  tap_ok (f.min == 7 && f.p50 == 7 && f.p99 == 7 && f.max == 7 && f.throughput == 0,
          "figures: one request, no wall time");
  int64_t three[] = { 30, 10, 20 };
  check_figures (three, 3, 1000000000LL, &f);
  tap_ok (f.p50 == 20 && f.p95 == 30 && f.p99 == 30, "figures: three requests");
}

static const char yml[] =
  "services:\n"
  "  api:\n"
  "    image: busybox\n"
  "    ports: [\"127.0.0.1::8080\", \"9090\"]\n"
  "    x-itm:\n"
  "      checks:\n"
  "        - name: contract\n"
  "          http: {path: /u, method: PUT, headers: {X-A: b}, body: {k: 1}}\n"
  "          expect:\n"
  "            status: [200, 201]\n"
  "            headers: {Content-Type: json}\n"
  "            body: {/a~1b: {equals: [1, \"x\", true], type: array}}\n"
  "            shape: {id: string, \"a/b\": uuid, user: {email: email}}\n"
  "            max_latency: 250ms\n"
  "        - tcp: 9090\n"
  "        - sql: show server_version\n"
  "          database: other\n"
  "          expect: {rows: [[1, a], [2, b]]}\n"
  "        - redis: CONFIG GET maxmemory-policy\n"
  "          expect: {equals: allkeys-lru}\n"
  "        - exec: [\"cat\", \"/x\"]\n"
  "          expect: {exit_code: 3, match: \"^o\"}\n"
  "        - image: {digest: \"sha256:ab\"}\n";

static void
model (void)
{
  char path[] = "/tmp/test-check-XXXXXX.yml";
  int fd = mkstemps (path, 4);
  if (fd < 0 || write (fd, yml, sizeof yml - 1) != (ssize_t) (sizeof yml - 1))
    {
      tap_ok (0, "temp file");
      return;
    }
  close (fd);
  const char *files[] = { path };
  char *noenv[] = { NULL };
  struct stack_opts o = { .files = files, .nfiles = 1, .environ = noenv };
  struct stack *st = NULL;
  struct stack_diags diags = { 0 };
  struct itm_err err = { 0 };
  int rc = stack_load (&o, &st, &diags, &err);
  unlink (path);
  if (!tap_ok (rc == 0, "the stack loads"))
    {
      stack_diags_print (&diags, stdout);
      stack_diags_free (&diags);
      itm_err_clear (&err);
      return;
    }
  size_t n = 0;
  const struct stack_check *c = stack_checks (stack_service (st, "api"), &n);
  tap_is_int (n, 6, "six checks");
  tap_is_str (c[0].name, "contract", "http: name");
  tap_ok (c[0].kind == STACK_CHECK_HTTP, "http: kind");
  tap_is_str (c[0].method, "PUT", "http: method");
  tap_is_int (c[0].port, 8080, "http: the first published port by default");
  tap_is_str (c[0].body, "{\"k\":1}", "http: a map body as JSON");
  tap_ok (c[0].headers.n == 1 && strcmp (c[0].headers.v[0].value, "b") == 0, "http: headers");
  tap_ok (c[0].nstatus == 2 && c[0].status[0] == 200 && c[0].status[1] == 201, "status set");
  tap_is_int (c[0].max_latency, 250000000, "max_latency in ns");
  tap_is_int (c[0].nrules, 5, "one body rule and four shape rules");
  tap_is_str (c[0].rules[0].pointer, "/a~1b", "body rule: pointer");
  tap_is_str (c[0].rules[0].equals, "[1,\"x\",true]", "body rule: equals as JSON");
  tap_ok (c[0].rules[0].type == STACK_TYPE_ARRAY && !c[0].rules[0].from_shape, "body rule: type");
  tap_is_str (c[0].rules[2].pointer, "/a~1b", "shape: a field with '/' escaped");
  tap_ok (c[0].rules[2].type == STACK_TYPE_UUID && c[0].rules[2].from_shape, "shape: a format");
  tap_ok (strcmp (c[0].rules[3].pointer, "/user") == 0 && c[0].rules[3].type == STACK_TYPE_OBJECT,
          "shape: a nested map is an object");
  tap_is_str (c[0].rules[4].pointer, "/user/email", "shape: its fields");
  tap_ok (c[1].kind == STACK_CHECK_TCP && c[1].port == 9090, "tcp: port");
  tap_is_str (c[1].name, "tcp 9090", "tcp: a name made");
  tap_is_str (c[2].database, "other", "sql: database");
  tap_ok (c[2].nrows == 2 && strcmp (c[2].rows[0], "1|a") == 0 && strcmp (c[2].rows[1], "2|b") == 0,
          "sql: rows as psql -tA prints them");
  tap_ok (c[3].argv.n == 3 && strcmp (c[3].argv.v[2], "maxmemory-policy") == 0
          && strcmp (c[3].equals, "allkeys-lru") == 0, "redis: command split, equals");
  tap_ok (c[4].exit_code == 3 && strcmp (c[4].match, "^o") == 0, "exec: exit code, match");
  tap_is_str (c[5].digest, "sha256:ab", "image: digest");
  stack_free (st);
  stack_diags_free (&diags);
}

int
main (void)
{
  figures ();
  model ();
  return tap_done ();
}
