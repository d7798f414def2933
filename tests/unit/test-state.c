/* test-state.c - state_load() against tests/fake-engine serving recorded
 * answers (tests/recorded/state): sorting, inspect fields, ports, a
 * container removed between list and inspect, lookups. */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "state/state.h"
#include "tap.h"
#include "util/xalloc.h"

static char tmpdir[] = "/tmp/itm-test-state-XXXXXX";

static void
test_time (void)
{
  tap_is_int (state_parse_time ("0001-01-01T00:00:00Z"), 0, "zero time is 0");
  tap_is_int (state_parse_time ("1970-01-01T00:00:01.5Z"), 1500000000LL, "fraction");
  tap_is_int (state_parse_time ("1970-01-01T01:00:01+01:00"), 1000000000LL, "offset");
  tap_is_int (state_parse_time ("garbage"), 0, "malformed is 0");
  tap_is_int (state_parse_time (NULL), 0, "NULL is 0");
}

static void
test_load (struct engine *e)
{
  struct itm_err err = { 0 };
  cleanup_state struct state *st = NULL;

  if (!tap_ok (state_load (e, "ns1", &st, &err) == 0, "state_load"))
    {
      tap_diag ("%s", err.msg);
      itm_err_clear (&err);
      return;
    }
  tap_is_int (st->ncontainers, 4, "four containers (the one gone before inspect is dropped)");
  if (st->ncontainers != 4)
    return;
  tap_is_str (st->containers[0].name, "ns1-db-1", "sorted by service: db first");
  tap_is_str (st->containers[1].name, "ns1-job-1", "then job");
  tap_is_str (st->containers[2].name, "ns1-web-1", "then web by number");
  tap_is_str (st->containers[3].name, "ns1-web-2", "web 2 last");

  struct state_container *db = &st->containers[0], *job = &st->containers[1];
  tap_is_str (db->health, "healthy", "health");
  tap_is_str (db->config_hash, "abc", "config hash label");
  tap_is_int (db->started_at, 1795471201500000000LL, "started_at in ns");
  tap_is_int (db->nnetworks, 2, "two networks");
  tap_is_str (db->networks[0], "ns1_back", "networks sorted");
  tap_is_int (db->nenv, 2, "env from the inspect");
  tap_is_str (db->env[0], "POSTGRES_PASSWORD=s3cret", "env entry");
  tap_is_int (db->nports, 3, "ports: two bindings of 5432, one unpublished udp");
  struct state_port *p = state_port (db, 5432, NULL);
  tap_ok (p && p->host_port == 32770 && strcmp (p->host_ip, "0.0.0.0") == 0,
          "state_port prefers IPv4");
  tap_ok (state_port (db, 6000, "udp") == NULL, "unpublished port is not found");
  tap_ok (state_port (db, 5432, "udp") == NULL, "protocol matters");

  tap_is_str (job->state, "exited", "exited state");
  tap_is_int (job->exit_code, 3, "exit code");
  tap_ok (job->health == NULL, "health none is NULL");
  tap_ok (job->tty, "tty");
  tap_is_int (job->nports, 0, "no ports");

  size_t n = 0;
  struct state_container *web = state_service (st, "web", &n);
  tap_ok (web == &st->containers[2] && n == 2, "state_service finds both web containers");
  tap_ok (state_service (st, "nope", &n) == NULL && n == 0, "state_service on a missing service");
  tap_is_int (state_no_service (st, "nope", &err), -1, "state_no_service returns -1");
  tap_is_int (err.code, ITM_EXIT_NOT_FOUND, "NOT_FOUND");
  tap_is_str (err.hint, "its services: db, job, web", "hint names the services");
  itm_err_clear (&err);

  tap_is_int (st->nnetworks, 2, "networks");
  tap_is_str (st->networks[0].name, "ns1_back", "networks sorted by name");
  tap_is_str (st->networks[1].key, "default", "network key label");
  tap_is_int (st->nvolumes, 1, "volumes");
  tap_is_str (st->volumes[0].key, "data", "volume key");
  tap_is_str (st->volumes[0].id, "ns1_data", "volume id is its name");
  tap_ok (!state_empty (st), "not empty");
}

int
main (void)
{
  const char *b = getenv ("ITM_BUILDDIR"), *s = getenv ("ITM_SRCDIR");
  cleanup_free char *fake_bin = xasprintf ("%s/tests/fake-engine", b ? b : ".");
  cleanup_free char *recorded = xasprintf ("%s/tests/recorded/state", s ? s : "..");
  if (access (fake_bin, X_OK) < 0 || mkdtemp (tmpdir) == NULL)
    {
      printf ("Bail out! no %s or no temporary directory\n", fake_bin);
      return 99;
    }
  signal (SIGPIPE, SIG_IGN);
  unsetenv ("DOCKER_HOST");
  test_time ();

  cleanup_free char *sock = xasprintf ("%s/s", tmpdir);
  cleanup_free char *host = xasprintf ("unix://%s", sock);
  pid_t pid = fork ();
  if (pid == 0)
    {
      execl (fake_bin, fake_bin, "--socket", sock, "--dir", recorded, "--lifetime", "20",
             "--fork", (char *) NULL);
      _exit (127);
    }
  struct stat sb;
  for (int i = 0; i < 500 && stat (sock, &sb) < 0; i++)
    usleep (10000);
  struct engine_config cfg = { .host = host, .timeout_ms = 5000 };
  struct itm_err err = { 0 };
  struct engine *e = engine_open (&cfg, &err);
  if (e && engine_negotiate (e, &err) == 0)
    test_load (e);
  else
    tap_ok (0, "engine: %s", err.msg ? err.msg : "?");
  itm_err_clear (&err);
  if (e)
    engine_close (e);
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  unlink (sock);
  rmdir (tmpdir);
  return tap_done ();
}
