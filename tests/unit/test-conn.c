/* test-conn.c - src/conn/: $VAR templates (one set of rules for env's
 * x-itm.exports and the data namespaces' exports), a container's own
 * variables, and the shell/dotenv/json formats.  No engine needed. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn.h"
#include "state/state.h"
#include "tap.h"
#include "util/xalloc.h"

/* state structs own their strings: literals here, never freed */
#define S(lit) ((char *) (lit))

static void
test_expand (void)
{
  struct conn_vars local = { 0 }, global = { 0 };
  conn_vars_set (&local, "HOST", "127.0.0.1");
  conn_vars_set (&local, "PORT", "32768");
  conn_vars_set (&local, "EMPTY", "");
  conn_vars_set (&global, "DB_PORT", "5432");
  conn_vars_set (&global, "HOST", "not-this-one");
  char *env[] = { S ("POSTGRES_PASSWORD=pw"), S ("PORT=shadowed") };
  struct state_container c = { .env = env, .nenv = 2 };
  struct conn_scope scope = { .local = &local, .c = &c, .global = &global, .hint = "h" };
  static const struct { const char *tpl, *want; } ok[] = {
    { "plain", "plain" },
    { "$HOST:$PORT", "127.0.0.1:32768" },
    { "${HOST}x", "127.0.0.1x" },
    { "u:$POSTGRES_PASSWORD@$DB_PORT", "u:pw@5432" },
    { "$$HOST $$", "$HOST $" },
    { "${NOPE:-dflt}|${NOPE-d2}", "dflt|d2" },
    { "${EMPTY:-dflt}|${EMPTY-d2}|", "dflt||" },
    { "${HOST:-x}", "127.0.0.1" },
    { "a $ b $- c $", "a $ b $- c $" },
    { "", "" },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      struct buf b = { 0 };
      buf_adds (&b, "");
      struct itm_err err = { 0 };
      int rc = conn_expand (ok[i].tpl, &scope, "t", &b, &err);
      tap_ok (rc == 0, "'%s' expands", ok[i].tpl);
      tap_is_str (b.data, ok[i].want, "'%s' -> '%s'", ok[i].tpl, ok[i].want);
      itm_err_clear (&err);
      buf_free (&b);
    }
  static const struct { const char *tpl, *msg; } bad[] = {
    { "$UNDEFINED", "t: variable 'UNDEFINED' is not defined" },
    { "${UNDEFINED}", "t: variable 'UNDEFINED' is not defined" },
    { "$5", "t: variable '5' is not defined" },
    { "${HOST", "t: bad variable reference at '${HOST'" },
    { "${HOST:-x", "t: unterminated '${' at '${HOST:-x'" },
    { "${}", "t: bad variable reference at '${}'" },
    { "${HOST:x}", "t: bad variable reference at '${HOST:x}'" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct buf b = { 0 };
      struct itm_err err = { 0 };
      int rc = conn_expand (bad[i].tpl, &scope, "t", &b, &err);
      tap_ok (rc < 0 && err.code == ITM_EXIT_STACK, "'%s' is an error (exit 3)", bad[i].tpl);
      tap_is_str (err.msg, bad[i].msg, "'%s': %s", bad[i].tpl, bad[i].msg);
      itm_err_clear (&err);
      buf_free (&b);
    }
  conn_vars_free (&local);
  conn_vars_free (&global);
}

static void
test_service_vars (void)
{
  struct state_port ports[] = {
    { .host_ip = NULL, .host_port = 0, .container_port = 80, .protocol = S ("tcp") },
    { .host_ip = S ("0.0.0.0"), .host_port = 40001, .container_port = 5432, .protocol = S ("tcp") },
    { .host_ip = S ("::"), .host_port = 40001, .container_port = 5432, .protocol = S ("tcp") },
    { .host_ip = S ("0.0.0.0"), .host_port = 40002, .container_port = 53, .protocol = S ("udp") },
  };
  /* sorted as state.h says: container port, protocol, address */
  struct state_port sorted[] = { ports[3], ports[0], ports[1], ports[2] };
  struct state_container c = { .service = S ("my-db"), .name = S ("ns-my-db-1"), .ports = sorted,
                               .nports = 4 };
  struct conn_vars vs = { 0 };
  conn_service_vars (&c, "ns", &vs);
  cleanup_buf struct buf got = { 0 };
  for (size_t i = 0; i < vs.n; i++)
    buf_addf (&got, "%s=%s;", vs.names[i], vs.values[i]);
  tap_is_str (got.data,
              "SERVICE=my-db;CONTAINER=ns-my-db-1;NAMESPACE=ns;HOST=127.0.0.1;PORT=40002;"
              "PORT_53_UDP=40002;PORT_5432=40001;",
              "a container's own variables, in order");
  /* the reach: joined (service name, container ports), an override
   * (its address, the published ports), back to the host's bindings */
  static const struct { enum conn_reach r; const char *host, *want; } reach[] = {
    { CONN_REACH_JOINED, NULL, "HOST=my-db;PORT=53;PORT_53_UDP=53;PORT_5432=5432;" },
    { CONN_REACH_OVERRIDE, "host.docker.internal",
      "HOST=host.docker.internal;PORT=40002;PORT_53_UDP=40002;PORT_5432=40001;" },
    { CONN_REACH_HOST, NULL, "HOST=127.0.0.1;PORT=40002;PORT_53_UDP=40002;PORT_5432=40001;" },
  };
  for (size_t i = 0; i < sizeof reach / sizeof *reach; i++)
    {
      conn_set_reach (reach[i].r, reach[i].host);
      struct conn_vars rv = { 0 };
      conn_service_vars (&c, "ns", &rv);
      cleanup_buf struct buf rg = { 0 };
      for (size_t k = 3; k < rv.n; k++)
        buf_addf (&rg, "%s=%s;", rv.names[k], rv.values[k]);
      tap_is_str (rg.data, reach[i].want, "reach %d: HOST and the ports", (int) reach[i].r);
      conn_vars_free (&rv);
    }
  enum conn_connect cm;
  struct itm_err cerr = { 0 };
  tap_ok (conn_parse_connect ("--connect", "always", &cm, &cerr) == 0 && cm == CONN_CONNECT_ALWAYS,
          "conn_parse_connect: always");
  tap_ok (conn_parse_connect ("--connect", "yes", &cm, &cerr) < 0 && cerr.code == ITM_EXIT_USAGE,
          "conn_parse_connect: anything else is a usage error");
  itm_err_clear (&cerr);
  const struct state_port *p = conn_port (&c, 5432);
  tap_ok (p && p->host_port == 40001 && strcmp (p->host_ip, "0.0.0.0") == 0,
          "conn_port: the IPv4 binding of 5432");
  cleanup_free char *n = conn_var_name ("my-db.x_1");
  tap_is_str (n, "MY_DB_X_1", "a service name as a variable prefix");
  conn_vars_free (&vs);
}

static char *
print_to_string (const struct conn_vars *vs, enum conn_format fmt, int *rc, struct itm_err *err)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);
  *rc = conn_print (f, vs, fmt, err);
  fclose (f);
  return text;
}

static void
test_print (void)
{
  struct conn_vars vs = { 0 };
  conn_vars_add (&vs, "A", "plain-1.2:3");
  conn_vars_add (&vs, "B", "two words");
  conn_vars_add (&vs, "C", "it's $x\n");
  conn_vars_add (&vs, "D", "");
  static const struct { enum conn_format fmt; const char *want; } cases[] = {
    { CONN_FMT_SHELL, "export A='plain-1.2:3'\nexport B='two words'\n"
                      "export C='it'\\''s $x\n'\nexport D=''\n" },
    { CONN_FMT_JSON, "{\"A\":\"plain-1.2:3\",\"B\":\"two words\",\"C\":\"it's $x\\n\",\"D\":\"\"}\n" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      int rc;
      struct itm_err err = { 0 };
      char *text = print_to_string (&vs, cases[i].fmt, &rc, &err);
      tap_is_str (text, cases[i].want, "format %d", (int) cases[i].fmt);
      tap_ok (rc == 0, "format %d: printed", (int) cases[i].fmt);
      free (text);
    }
  enum conn_format fmt;
  struct itm_err err = { 0 };
  tap_ok (conn_parse_format ("env", "yaml", &fmt, &err) < 0 && err.code == ITM_EXIT_USAGE,
          "an unknown format is a usage error");
  itm_err_clear (&err);
  conn_vars_free (&vs);
}

/* dotenv: NAME=value with the rest of the line literal (docker run
 * --env-file, $GITHUB_ENV); a value those cannot carry is refused */
static void
test_dotenv (void)
{
  struct conn_vars vs = { 0 };
  conn_vars_add (&vs, "A", "plain-1.2:3");
  conn_vars_add (&vs, "B", " two  words ");
  conn_vars_add (&vs, "C", "it's \"$x\" `id` $(id) \\n a=b #c");
  conn_vars_add (&vs, "D", "");
  conn_vars_add (&vs, "E", "h\xc3\xa9");
  int rc;
  struct itm_err err = { 0 };
  char *text = print_to_string (&vs, CONN_FMT_DOTENV, &rc, &err);
  tap_ok (rc == 0, "dotenv: printed");
  tap_is_str (text, "A=plain-1.2:3\nB= two  words \nC=it's \"$x\" `id` $(id) \\n a=b #c\nD=\n"
                    "E=h\xc3\xa9\n", "dotenv: every value as it is, unquoted, unescaped");
  free (text);
  static const struct { const char *value, *why; } bad[] = {
    { "two\nlines", "line break" },
    { "cr\r", "line break" },
    { "a\rb", "line break" },
    { "\xff", "UTF-8" },
    { "\xc3(", "UTF-8" },
    { "\xed\xa0\x80", "UTF-8" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct conn_vars b = { 0 };
      conn_vars_add (&b, "OK", "fine");
      conn_vars_add (&b, "BAD_ONE", bad[i].value);
      text = print_to_string (&b, CONN_FMT_DOTENV, &rc, &err);
      tap_ok (rc < 0 && err.code == ITM_EXIT_FAILURE && err.msg && strstr (err.msg, "BAD_ONE")
                && strstr (err.msg, bad[i].why),
              "dotenv refuses value %zu, naming the variable and why (%s)", i,
              err.msg ? err.msg : "no error");
      tap_is_str (text ? text : "", "", "... and prints nothing");
      free (text);
      itm_err_clear (&err);
      /* shell and json carry it */
      text = print_to_string (&b, CONN_FMT_SHELL, &rc, &err);
      tap_ok (rc == 0, "shell carries value %zu", i);
      free (text);
      conn_vars_free (&b);
    }
  struct conn_vars big = { 0 };
  char *v = xmalloc (70000);
  memset (v, 'x', 69999);
  v[69999] = '\0';
  conn_vars_add (&big, "BIG", v);
  free (v);
  text = print_to_string (&big, CONN_FMT_DOTENV, &rc, &err);
  tap_ok (rc < 0 && strstr (err.msg, "BIG") && strstr (err.msg, "64 KiB"), "dotenv refuses a line of 64 KiB or more");
  free (text);
  itm_err_clear (&err);
  conn_vars_free (&big);
  conn_vars_free (&vs);
}

int
main (void)
{
  test_expand ();
  test_service_vars ();
  test_print ();
  test_dotenv ();
  return tap_done ();
}
