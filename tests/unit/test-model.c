/* test-model.c - the model layer's value parsers (ports, durations, sizes,
 * command splitting), the start waves and the config hash. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack/stack.h"
#include "tap.h"
#include "util/xalloc.h"

static void
test_durations (void)
{
  static const struct { const char *in; int64_t ns; const char *out; } ok[] = {
    { "10s", 10000000000LL, "10s" },
    { "1m30s", 90000000000LL, "1m30s" },
    { "500ms", 500000000LL, "500ms" },
    { "1h", 3600000000000LL, "1h0m0s" },
    { "1.5s", 1500000000LL, "1.5s" },
    { "250us", 250000LL, "250\xc2\xb5s" },
    { "10ns", 10, "10ns" },
    { "0", 0, "0s" },
    { "2h45m", 9900000000000LL, "2h45m0s" },
    { "1m0.5s", 60500000000LL, "1m0.5s" },
    { "90s", 90000000000LL, "1m30s" },
  };
  static const char *const bad[] = { "", "10", "5d", "-1s", "s", "1.s5", "ms", "1m x", "abc" };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      int64_t ns = -1;
      const char *why = NULL;
      char buf[64];
      tap_ok (stack_parse_duration (ok[i].in, &ns, &why) == 0 && ns == ok[i].ns,
              "duration '%s' = %lld ns", ok[i].in, (long long) ok[i].ns);
      stack_format_duration (ok[i].ns, buf, sizeof buf);
      tap_ok (strcmp (buf, ok[i].out) == 0, "duration %lld ns prints as %s", (long long) ok[i].ns,
              buf);
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      int64_t ns;
      const char *why = NULL;
      tap_ok (stack_parse_duration (bad[i], &ns, &why) < 0 && why, "duration '%s' rejected (%s)",
              bad[i], why ? why : "");
    }
}

static void
test_sizes (void)
{
  static const struct { const char *in; uint64_t v; } ok[] = {
    { "512m", 512ULL << 20 }, { "1g", 1ULL << 30 }, { "1024", 1024 }, { "64MB", 64ULL << 20 },
    { "2k", 2048 }, { "1.5g", 3ULL << 29 }, { "100b", 100 }, { "1GiB", 1ULL << 30 },
    { "1 g", 1ULL << 30 }, { "3T", 3ULL << 40 },
  };
  static const char *const bad[] = { "", "x", "5x", "-1", "1.g", "g", "1gg", "1e3" };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      uint64_t v = 0;
      const char *why;
      tap_ok (stack_parse_size (ok[i].in, &v, &why) == 0 && v == ok[i].v, "size '%s' = %llu",
              ok[i].in, (unsigned long long) ok[i].v);
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      uint64_t v;
      const char *why = NULL;
      tap_ok (stack_parse_size (bad[i], &v, &why) < 0 && why, "size '%s' rejected", bad[i]);
    }
}

static void
test_split (void)
{
  static const struct { const char *in; const char *argv[6]; } ok[] = {
    { "echo hello world", { "echo", "hello", "world" } },
    { "  sh   -c  'a  b' ", { "sh", "-c", "a  b" } },
    { "echo \"a \\\"q\\\" b\"", { "echo", "a \"q\" b" } },
    { "echo a\\ b", { "echo", "a b" } },
    { "echo '' x", { "echo", "", "x" } },
    { "a'b'\"c\"d", { "abcd" } },
    { "sh -c 'x && y; z | w'", { "sh", "-c", "x && y; z | w" } },
    { "echo '$HOME' \"$PATH\"", { "echo", "$HOME", "$PATH" } },
    { "tab\tsep\nnl", { "tab", "sep", "nl" } },
    { "", { NULL } },
  };
  static const char *const bad[] = { "echo 'a", "echo \"a", "a && b", "a; b", "a | b", "a > f",
                                     "trailing\\" };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      char **argv = NULL;
      size_t argc = 0, want = 0;
      const char *why = NULL;
      while (want < 6 && ok[i].argv[want])
        want++;
      int r = stack_split_command (ok[i].in, &argv, &argc, &why);
      bool same = r == 0 && argc == want;
      for (size_t k = 0; same && k < argc; k++)
        same = strcmp (argv[k], ok[i].argv[k]) == 0;
      tap_ok (same, "split case %zu into %zu words", i, want);
      if (r == 0)
        {
          for (size_t k = 0; k < argc; k++)
            free (argv[k]);
          free (argv);
        }
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char **argv;
      size_t argc;
      const char *why = NULL;
      tap_ok (stack_split_command (bad[i], &argv, &argc, &why) < 0 && why, "split [%s] rejected (%s)",
              bad[i], why ? why : "");
    }
}

static void
test_ports (void)
{
  static const struct {
    const char *in, *ip;
    unsigned ps, pe, ts, te;
    const char *proto;
  } ok[] = {
    { "80", NULL, 0, 0, 80, 80, "tcp" },
    { "8080:80", NULL, 8080, 8080, 80, 80, "tcp" },
    { "127.0.0.1:8080:80", "127.0.0.1", 8080, 8080, 80, 80, "tcp" },
    { "127.0.0.1::80", "127.0.0.1", 0, 0, 80, 80, "tcp" },
    { "8000-8010:8000-8010", NULL, 8000, 8010, 8000, 8010, "tcp" },
    { "80/udp", NULL, 0, 0, 80, 80, "udp" },
    { "9000-9002:80", NULL, 9000, 9002, 80, 80, "tcp" },
    { "[::1]:8080:80/sctp", "::1", 8080, 8080, 80, 80, "sctp" },
    { "[::1]::80", "::1", 0, 0, 80, 80, "tcp" },
    { "5000-5001", NULL, 0, 0, 5000, 5001, "tcp" },
    { "0:80", NULL, 0, 0, 80, 80, "tcp" },
    { ":80", NULL, 0, 0, 80, 80, "tcp" },
  };
  static const char *const bad[] = { "", "abc", "0", "70000", "80/icmp", "1.2.3.4:80",
                                     "999.1.1.1:80:80", "8000-8002:80-81", "10-5:80",
                                     "a:b:c:d", "[::1:80:80", "8080:", "::1:80:80",
                                     "[zz]:1:1" };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      struct stack_port p;
      const char *why = NULL;
      int r = stack_parse_port (ok[i].in, &p, &why);
      bool same = r == 0 && p.published_start == ok[i].ps && p.published_end == ok[i].pe
                  && p.target_start == ok[i].ts && p.target_end == ok[i].te
                  && strcmp (p.protocol, ok[i].proto) == 0
                  && (ok[i].ip ? p.host_ip && strcmp (p.host_ip, ok[i].ip) == 0 : !p.host_ip);
      tap_ok (same, "port '%s'", ok[i].in);
      if (r == 0)
        free (p.host_ip), free (p.protocol), free (p.mode);
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct stack_port p;
      const char *why = NULL;
      int r = stack_parse_port (bad[i], &p, &why);
      tap_ok (r < 0 && why, "port '%s' rejected (%s)", bad[i], why ? why : "");
      if (r == 0)
        free (p.host_ip), free (p.protocol), free (p.mode);
    }
}

/* waves and hash through the whole loader, on a file written here */
static void
test_load (void)
{
  char dir[] = "/tmp/itm-test-model.XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      tap_ok (0, "mkdtemp");
      return;
    }
  char *path = xasprintf ("%s/compose.yaml", dir);
  FILE *f = fopen (path, "w");
  fputs ("services:\n"
         "  web: {image: a, depends_on: [api]}\n"
         "  api: {image: b, depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}}\n"
         "  db: {image: c, healthcheck: {test: [CMD, x]}}\n"
         "  cache: {image: d}\n"
         "  job: {image: e}\n",
         f);
  fclose (f);
  const char *files[] = { path };
  char *envp[] = { NULL };
  struct stack_opts o = { .files = files, .nfiles = 1, .environ = envp };
  struct stack *st = NULL;
  struct stack_diags d = { 0 };
  struct itm_err err = { 0 };
  int r = stack_load (&o, &st, &d, &err);
  tap_ok (r == 0 && st && d.nerrors == 0, "the stack loads");
  if (r == 0)
    {
      struct stack_wave *w;
      size_t nw = stack_waves (st, &w);
      tap_is_int (nw, 3, "three waves");
      if (nw == 3)
        {
          tap_is_int (w[0].n, 3, "wave 1: cache, db, job");
          tap_is_str (w[0].services[0]->name, "cache", "wave 1 sorted by name");
          tap_is_str (w[1].services[0]->name, "api", "wave 2: api");
          tap_is_str (w[2].services[0]->name, "web", "wave 3: web");
        }
      stack_waves_free (w, nw);
      const struct stack_service *api = stack_service (st, "api");
      tap_ok (api && api->ndepends_on == 2 && api->depends_on[1].condition == STACK_COND_HEALTHY,
              "api depends on db (healthy), sorted");
      char *h1 = stack_service_hash (stack_service (st, "web"));
      char *h2 = stack_service_hash (stack_service (st, "web"));
      char *h3 = stack_service_hash (stack_service (st, "job"));
      tap_ok (strlen (h1) == 64 && strcmp (h1, h2) == 0, "hash: 64 hex digits, stable");
      tap_ok (strcmp (h1, h3) != 0, "hash: differs between services");
      /* depends_on does not change the hash */
      struct stack_service copy = *stack_service (st, "web");
      copy.ndepends_on = 0;
      char *h4 = stack_service_hash (&copy);
      tap_is_str (h4, h1, "hash: depends_on not included");
      copy.image = (char *) "other";
      char *h5 = stack_service_hash (&copy);
      tap_ok (strcmp (h5, h1) != 0, "hash: image included");
      free (h1), free (h2), free (h3), free (h4), free (h5);
      tap_ok (stack_service (st, "nope") == NULL && stack_network (st, "default") != NULL,
              "lookups");
    }
  stack_free (st);
  stack_diags_free (&d);
  itm_err_clear (&err);

  /* a cycle: the error names it */
  f = fopen (path, "w");
  fputs ("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n", f);
  fclose (f);
  st = NULL;
  r = stack_load (&o, &st, &d, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_STACK && st == NULL, "a cycle fails with ITM_EXIT_STACK");
  bool found = false;
  for (size_t i = 0; i < d.n; i++)
    found = found || strstr (d.v[i].msg, "a -> b -> a") != NULL;
  tap_ok (found, "the cycle is printed");
  stack_diags_free (&d);
  itm_err_clear (&err);
  unlink (path);
  rmdir (dir);
  free (path);
}

int
main (void)
{
  test_durations ();
  test_sizes ();
  test_split ();
  test_ports ();
  test_load ();
  return tap_done ();
}
