/* test-files.c - the file layer on the fixtures under tests/stack/files/:
 * lookup, override merges, extends, include, paths, .env, interpolation. */
#include <config.h>

#include <errno.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack/files.h"
#include "tap.h"
#include "util/xalloc.h"

static char *fx;   /* the fixtures directory */
static char env_home[] = "HOME=/home/tester", env_both[] = "BOTH=proc";
static char *envv[] = { env_home, env_both, NULL };

struct load {
  struct node_arena *a;
  struct stack_loaded l;
  struct diags d;
  int ret;
};

static void
load_free (struct load *x)
{
  stack_loaded_free (&x->l);
  diags_free (&x->d);
  node_arena_free (x->a);
}

static void
load (struct load *x, const char *project_dir, const char *const *files, size_t nfiles,
      const char *const *env_files, size_t nenv, char **environ_)
{
  memset (x, 0, sizeof *x);
  x->a = node_arena_new ();
  struct stack_load_opts o = {
    .files = files, .nfiles = nfiles, .project_dir = project_dir,
    .env_files = env_files, .nenv_files = nenv, .environ = environ_ ? environ_ : envv,
  };
  x->ret = stack_files_load (&o, x->a, &x->l, &x->d);
}

/* "a.b.0.c": through maps by key and sequences by index */
static const struct node *
nget (const struct node *n, const char *path)
{
  char buf[512];
  snprintf (buf, sizeof buf, "%s", path);
  char *save = NULL;
  for (char *tok = strtok_r (buf, ".", &save); tok && n; tok = strtok_r (NULL, ".", &save))
    {
      if (n->kind == NODE_SEQ)
        {
          size_t i = (size_t) atol (tok);
          n = i < n->nitems ? n->items[i] : NULL;
        }
      else
        n = node_map_get (n, tok);
    }
  return n;
}

static const char *
sget (const struct load *x, const char *path)
{
  const struct node *n = nget (x->l.root, path);
  return n && n->kind == NODE_SCALAR ? n->scalar : n && n->kind == NODE_NULL ? "(null)" : NULL;
}

static long
count (const struct load *x, const char *path)
{
  const struct node *n = nget (x->l.root, path);
  return n == NULL ? -1 : n->kind == NODE_SEQ ? (long) n->nitems : (long) n->npairs;
}

static const struct diag *
find_diag (const struct load *x, enum diag_severity sev, const char *want)
{
  for (size_t i = 0; i < x->d.n; i++)
    if (x->d.v[i].severity == sev && strstr (x->d.v[i].msg, want))
      return &x->d.v[i];
  return NULL;
}

static bool
ok_load (struct load *x, const char *what)
{
  bool ok = tap_ok (x->ret == 0 && x->d.nerrors == 0 && x->l.root, "%s: loads", what);
  if (!ok || x->d.n)
    diags_print (&x->d, stdout);
  return ok;
}

static void
expect_error (struct load *x, const char *want, int line, int col, const char *what)
{
  const struct diag *g = find_diag (x, DIAG_ERROR, want);
  tap_ok (g != NULL, "%s: error '%s'", what, want);
  if (g == NULL)
    diags_print (&x->d, stdout);
  if (g && line)
    {
      tap_is_int (g->line, line, "%s: line", what);
      if (col)
        tap_is_int (g->col, col, "%s: column", what);
    }
}

static char *
fxp (const char *rel)
{
  return xasprintf ("%s/%s", fx, rel);
}

static void
test_lookup (void)
{
  struct load x;
  cleanup_free char *dir = fxp ("lookup");
  load (&x, dir, NULL, 0, NULL, 0, NULL);
  if (ok_load (&x, "lookup"))
    {
      tap_is_int (x.l.nfiles, 2, "lookup: the file and its override");
      cleanup_free char *f0 = fxp ("lookup/compose.yaml");
      cleanup_free char *f1 = fxp ("lookup/compose.override.yaml");
      tap_is_str (x.l.files[0], f0, "lookup: compose.yaml first");
      tap_is_str (x.l.files[1], f1, "lookup: then compose.override.yaml");
      tap_is_str (sget (&x, "services.web.image"), "override", "lookup: override applied");
      tap_is_str (sget (&x, "services.web.environment.FROM_OVERRIDE"), "1", "lookup: merged");
      tap_is_str (x.l.project_dir, dir, "lookup: project directory");
    }
  load_free (&x);

  /* from a subdirectory without a project directory: upward */
  char cwd[4096];
  if (getcwd (cwd, sizeof cwd) == NULL)
    cwd[0] = 0;
  cleanup_free char *sub = fxp ("lookup/sub");
  if (chdir (sub) == 0)
    {
      load (&x, NULL, NULL, 0, NULL, 0, NULL);
      if (ok_load (&x, "upward lookup"))
        tap_is_str (x.l.project_dir, dir, "upward lookup: the parent's directory");
      load_free (&x);
      if (chdir (cwd) < 0)
        tap_ok (0, "chdir back");
    }

  cleanup_free char *multi = fxp ("lookup-multi");
  load (&x, multi, NULL, 0, NULL, 0, NULL);
  tap_is_str (sget (&x, "services.a.image"), "compose-yaml", "several files: compose.yaml wins");
  tap_ok (find_diag (&x, DIAG_WARNING, "found several stack files") != NULL,
          "several files: a warning");
  tap_ok (find_diag (&x, DIAG_WARNING, "docker-compose.yml") != NULL,
          "several files: the warning names the others");
  load_free (&x);

  cleanup_free char *docker = fxp ("lookup-docker");
  load (&x, docker, NULL, 0, NULL, 0, NULL);
  tap_is_str (sget (&x, "services.a.image"), "docker-override",
              "docker-compose.yml with docker-compose.override.yml");
  load_free (&x);

  char tmp[] = "/tmp/itm-test-files-XXXXXX";
  if (mkdtemp (tmp))
    {
      load (&x, tmp, NULL, 0, NULL, 0, NULL);
      tap_ok (x.ret < 0, "no stack file: fails");
      cleanup_free char *want = xasprintf ("no stack file found in %s (looked for compose.yaml, "
                                           "compose.yml, docker-compose.yaml, docker-compose.yml)",
                                           tmp);
      expect_error (&x, want, 0, 0, "no stack file");
      load_free (&x);
      rmdir (tmp);
    }

  /* COMPOSE_FILE stands for -f */
  cleanup_free char *cfv = xasprintf ("COMPOSE_FILE=%s/lookup-multi/docker-compose.yml,%s/"
                                      "lookup-docker/docker-compose.override.yml", fx, fx);
  static char sepv[] = "COMPOSE_PATH_SEPARATOR=,";
  char *cenv[] = { cfv, sepv, NULL };
  load (&x, NULL, NULL, 0, NULL, 0, cenv);
  tap_is_int (x.l.nfiles, 2, "COMPOSE_FILE: two files");
  tap_is_str (sget (&x, "services.a.image"), "docker-override", "COMPOSE_FILE: merged in order");
  tap_is_str (x.l.project_dir, multi, "COMPOSE_FILE: project dir of the first");
  load_free (&x);

  cleanup_free char *missing = fxp ("lookup/nothere.yaml");
  const char *files[] = { missing };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  tap_ok (x.ret < 0, "-f missing: fails");
  expect_error (&x, "stack file not found", 0, 0, "-f missing");
  tap_is_str (x.d.n ? x.d.v[0].file : NULL, missing, "-f missing: names the path");
  load_free (&x);
}

static void
test_merge (void)
{
  struct load x;
  cleanup_free char *b = fxp ("merge/base.yaml");
  cleanup_free char *o = fxp ("merge/override.yaml");
  cleanup_free char *dir = fxp ("merge");
  const char *files[] = { b, o };
  load (&x, NULL, files, 2, NULL, 0, NULL);
  if (!ok_load (&x, "merge"))
    {
      load_free (&x);
      return;
    }
  tap_is_str (x.l.project_dir, dir, "merge: project dir is the first file's");
  tap_is_str (sget (&x, "name"), "base", "merge: top-level scalar kept");
  tap_is_str (sget (&x, "services.app.image"), "app:2", "merge: scalar replaced");
  tap_is_int (count (&x, "services.app.command"), 2, "command replaced, not appended");
  tap_is_str (sget (&x, "services.app.command.1"), "--over", "command: the override's");
  tap_is_str (sget (&x, "services.app.entrypoint.0"), "/over-entry", "entrypoint replaced");
  tap_is_str (sget (&x, "services.app.environment.A"), "1", "environment: list item kept");
  tap_is_str (sget (&x, "services.app.environment.B"), "over", "environment: overridden");
  tap_is_str (sget (&x, "services.app.environment.C"), "3", "environment: added");
  tap_is_str (sget (&x, "services.app.environment.ONLY_NAME"), "(null)",
              "environment: a bare name becomes null");
  tap_is_str (sget (&x, "services.app.labels.l1"), "base", "labels: map kept");
  tap_is_str (sget (&x, "services.app.labels.l2"), "over", "labels: list form merged");
  /* Compose: every entry of both, a host may have several addresses */
  tap_is_str (sget (&x, "services.app.extra_hosts.0"), "db=10.0.0.1", "extra_hosts: base's kept");
  tap_is_str (sget (&x, "services.app.extra_hosts.1"), "db=10.0.0.2", "extra_hosts: added");
  tap_is_str (sget (&x, "services.app.extra_hosts.2"), "cache=10.0.0.3", "extra_hosts: added too");
  tap_is_str (sget (&x, "services.app.sysctls.net.core.somaxconn"), NULL,
              "(sysctl names have dots: looked up below)");
  const struct node *sc = nget (x.l.root, "services.app.sysctls");
  tap_ok (sc && node_map_get (sc, "net.core.somaxconn") && node_map_get (sc, "net.ipv4.ip_forward"),
          "sysctls merged by key");
  tap_is_str (sget (&x, "services.app.ulimits.nofile.soft"), "300", "ulimits: soft overridden");
  tap_is_str (sget (&x, "services.app.ulimits.nofile.hard"), "200", "ulimits: hard kept");
  tap_is_str (sget (&x, "services.app.ulimits.nproc"), "50", "ulimits: other kept");
  tap_is_int (count (&x, "services.app.ports"), 3, "ports: unique union");
  tap_is_str (sget (&x, "services.app.ports.2"), "7000:70", "ports: new one appended");
  tap_is_int (count (&x, "services.app.expose"), 2, "expose: unique union");
  tap_is_int (count (&x, "services.app.dns"), 2, "dns: string + list, unique");
  tap_is_str (sget (&x, "services.app.dns.1"), "1.1.1.1", "dns: appended");
  tap_is_int (count (&x, "services.app.dns_search"), 2, "dns_search: union");
  tap_is_int (count (&x, "services.app.tmpfs"), 2, "tmpfs: union");
  tap_is_int (count (&x, "services.app.cap_add"), 2, "cap_add: unique");
  tap_is_int (count (&x, "services.app.cap_drop"), 1, "cap_drop: unique");
  tap_is_int (count (&x, "services.app.volumes"), 4, "volumes: merged by target");
  tap_is_str (sget (&x, "services.app.volumes.0"), "/host/data:/data:ro",
              "volumes: same target replaced in place");
  tap_is_str (sget (&x, "services.app.volumes.3"), "more:/more", "volumes: new target appended");
  tap_is_int (count (&x, "services.app.secrets"), 1, "secrets: merged by target");
  tap_is_str (sget (&x, "services.app.secrets.0.source"), "s2", "secrets: replaced");
  tap_is_int (count (&x, "services.app.configs"), 2, "configs: different targets");
  tap_is_str (sget (&x, "services.app.networks.front"), "(null)", "networks: list to map");
  tap_is_str (sget (&x, "services.app.networks.back.aliases.0"), "b", "networks: merged by name");
  tap_ok (nget (x.l.root, "services.app.networks.extra") != NULL, "networks: added");
  tap_is_str (sget (&x, "services.app.depends_on.db.condition"), "service_started",
              "depends_on: list to map with service_started");
  tap_is_str (sget (&x, "services.app.depends_on.cache.condition"), "service_healthy",
              "depends_on: merged by name");
  tap_is_str (sget (&x, "services.app.healthcheck.test.1"), "over", "healthcheck.test replaced");
  tap_is_int (count (&x, "services.app.healthcheck.test"), 2, "healthcheck.test not appended");
  tap_is_str (sget (&x, "services.app.healthcheck.interval"), "10s", "healthcheck: kept");
  tap_is_str (sget (&x, "services.app.healthcheck.timeout"), "5s", "healthcheck: added");
  cleanup_free char *ctx = fxp ("merge/app");
  tap_is_str (sget (&x, "services.app.build.context"), ctx, "build: context kept, absolute");
  tap_is_str (sget (&x, "services.app.build.args.X"), "1", "build.args: kept");
  tap_is_str (sget (&x, "services.app.build.args.Y"), "over", "build.args: list form merged");
  tap_is_str (sget (&x, "services.app.build.args.Z"), "3", "build.args: added");
  tap_is_str (sget (&x, "services.app.build.dockerfile"), "Dockerfile.dev",
              "build.dockerfile: relative, overridden");
  tap_is_int (count (&x, "services.app.profiles"), 2, "profiles: unique union");
  tap_is_str (sget (&x, "services.cache.image"), "cache:1", "a new service");
  tap_is_str (sget (&x, "services.db.image"), "db:1", "an untouched service");
  tap_is_int (count (&x, "networks.front.labels"), 2, "top-level network labels merged");
  cleanup_free char *s1 = fxp ("merge/s1.txt");
  tap_is_str (sget (&x, "secrets.s1.file"), s1, "secret file absolute");
  load_free (&x);
}

static void
test_reset (void)
{
  struct load x;
  cleanup_free char *b = fxp ("merge/base.yaml");
  cleanup_free char *r = fxp ("merge/reset.yaml");
  const char *files[] = { b, r };
  load (&x, NULL, files, 2, NULL, 0, NULL);
  if (ok_load (&x, "!reset/!override"))
    {
      tap_ok (nget (x.l.root, "services.app.ports") == NULL, "!reset drops ports");
      tap_ok (nget (x.l.root, "services.app.labels") == NULL, "!reset null drops labels");
      tap_is_int (count (&x, "services.app.environment"), 1, "!override replaces environment");
      tap_is_str (sget (&x, "services.app.environment.ONLY"), "x", "!override: the new value");
      tap_ok (nget (x.l.root, "services.app.healthcheck.interval") == NULL,
              "!override healthcheck: nothing merged");
      tap_ok (nget (x.l.root, "services.db") == NULL, "!reset drops a service");
      tap_is_str (sget (&x, "services.app.image"), "app:1", "the rest kept");
    }
  load_free (&x);
  /* in a single file, !reset values are dropped */
  const char *one[] = { r };
  load (&x, NULL, one, 1, NULL, 0, NULL);
  tap_ok (nget (x.l.root, "services.app.ports") == NULL && nget (x.l.root, "services.db") == NULL,
          "!reset in a single file: dropped");
  load_free (&x);
}

static void
test_extends (void)
{
  struct load x;
  cleanup_free char *f = fxp ("extends/compose.yaml");
  const char *files[] = { f };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  if (ok_load (&x, "extends"))
    {
      tap_is_str (sget (&x, "services.middle.image"), "base", "extends: inherited");
      tap_is_str (sget (&x, "services.middle.environment.LEVEL"), "middle", "extends: overridden");
      tap_is_str (sget (&x, "services.middle.environment.KEEP"), "yes", "extends: merged by key");
      tap_ok (nget (x.l.root, "services.middle.extends") == NULL, "extends: key removed");
      tap_is_str (sget (&x, "services.top.environment.LEVEL"), "middle", "extends chain");
      tap_is_str (sget (&x, "services.top.command"), "top-cmd", "extends chain: own command");
      tap_is_str (sget (&x, "services.top.image"), "base", "extends chain: from the root");
      tap_is_str (sget (&x, "services.remote.image"), "tools", "extends file: chain in that file");
      tap_is_str (sget (&x, "services.remote.labels.from"), "tools", "extends file: labels");
      tap_is_str (sget (&x, "services.remote.environment.MINE"), "1", "extends file: own keys");
      cleanup_free char *ctx = fxp ("extends/common/ctx");
      cleanup_free char *vol = xasprintf ("%s/extends/common/src:/src", fx);
      cleanup_free char *envf = fxp ("extends/common/common.env");
      tap_is_str (sget (&x, "services.remote.build"), ctx,
                  "extends file: build relative to its own file");
      tap_is_str (sget (&x, "services.remote.volumes.0"), vol,
                  "extends file: bind source relative to its own file");
      tap_is_str (sget (&x, "services.remote.env_file"), envf,
                  "extends file: env_file relative to its own file");
      tap_is_str (sget (&x, "services.base.command"), "base-cmd", "the base is unchanged");
    }
  load_free (&x);

  cleanup_free char *c = fxp ("extends/cycle/compose.yaml");
  const char *cf[] = { c };
  load (&x, NULL, cf, 1, NULL, 0, NULL);
  expect_error (&x, "extends cycle: a -> b -> c -> a", 0, 0, "extends cycle");
  expect_error (&x, "extends: service \"nowhere\" not found in", 13, 14, "extends unknown");
  tap_is_str (sget (&x, "services.ok.image"), "fine", "cycle: other services still load");
  load_free (&x);
}

static void
test_include (void)
{
  struct load x;
  cleanup_free char *f = fxp ("include/compose.yaml");
  const char *files[] = { f };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  if (ok_load (&x, "include"))
    {
      tap_ok (nget (x.l.root, "include") == NULL, "include: key removed");
      tap_is_str (sget (&x, "services.web.image"), "web", "include: own service");
      tap_is_str (sget (&x, "services.db.image"), "postgres:16",
                  "include: interpolated with its own .env");
      tap_is_str (sget (&x, "services.cache.image"), "redis:7", "include: env_file");
      cleanup_free char *redis = fxp ("include/inc/redis");
      tap_is_str (sget (&x, "services.cache.build"), redis,
                  "include: paths relative to its directory");
      cleanup_free char *vol = xasprintf ("%s/include/inc/initdb:/docker-entrypoint-initdb.d", fx);
      tap_is_str (sget (&x, "services.db.volumes.0"), vol, "include: bind source");
      tap_ok (nget (x.l.root, "volumes.dbdata") != NULL, "include: volumes");
    }
  load_free (&x);

  cleanup_free char *cf = fxp ("include/conflict/compose.yaml");
  const char *c1[] = { cf };
  load (&x, NULL, c1, 1, NULL, 0, NULL);
  expect_error (&x, "services.db conflicts with the one defined by the included file", 4, 3,
                "include conflict");
  load_free (&x);

  cleanup_free char *mf = fxp ("include/conflict/missing.yaml");
  const char *c2[] = { mf };
  load (&x, NULL, c2, 1, NULL, 0, NULL);
  tap_ok (x.ret < 0, "include missing: fails");
  expect_error (&x, "include: file", 2, 5, "include missing");
  expect_error (&x, "nothere.yaml not found", 0, 0, "include missing names the path");
  load_free (&x);

  cleanup_free char *df = fxp ("include/diamond/compose.yaml");
  const char *c4[] = { df };
  load (&x, NULL, c4, 1, NULL, 0, NULL);
  if (ok_load (&x, "include diamond"))
    {
      tap_is_str (sget (&x, "services.shared.image"), "shared", "include diamond: shared once");
      tap_is_int (count (&x, "services"), 4, "include diamond: four services");
    }
  load_free (&x);

  cleanup_free char *sf = fxp ("include/conflict/self.yaml");
  const char *c3[] = { sf };
  load (&x, NULL, c3, 1, NULL, 0, NULL);
  expect_error (&x, "include cycle", 2, 5, "include cycle");
  load_free (&x);
}

static void
test_paths (void)
{
  struct load x;
  cleanup_free char *f = fxp ("paths/compose.yaml");
  cleanup_free char *p = fxp ("paths");
  const char *files[] = { f };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  if (ok_load (&x, "paths"))
    {
      cleanup_free char *app = xasprintf ("%s/app", p);
      cleanup_free char *v0 = xasprintf ("%s/data:/data", p);
      cleanup_free char *v1 = xasprintf ("%s/shared:/shared:ro", fx);
      cleanup_free char *conf = xasprintf ("%s/conf", p);
      cleanup_free char *envf = xasprintf ("%s/app.env", p);
      cleanup_free char *ctx = xasprintf ("%s/ctx", p);
      cleanup_free char *aenv = xasprintf ("%s/a.env", p);
      cleanup_free char *benv = xasprintf ("%s/b.env", p);
      cleanup_free char *tok = xasprintf ("%s/secrets/token.txt", p);
      cleanup_free char *ini = xasprintf ("%s/conf.ini", p);
      tap_is_str (sget (&x, "services.app.build"), app, "build string");
      tap_is_str (sget (&x, "services.app.volumes.0"), v0, "./ bind source");
      tap_is_str (sget (&x, "services.app.volumes.1"), v1, "../ bind source, mode kept");
      tap_is_str (sget (&x, "services.app.volumes.2"), "/home/tester/cache:/cache", "~ bind source");
      tap_is_str (sget (&x, "services.app.volumes.3"), "named:/named", "named volume untouched");
      tap_is_str (sget (&x, "services.app.volumes.4"), "/abs:/abs", "absolute untouched");
      tap_is_str (sget (&x, "services.app.volumes.5.source"), conf, "long bind source");
      tap_is_str (sget (&x, "services.app.volumes.6.source"), "vol", "long volume source untouched");
      tap_is_str (sget (&x, "services.app.env_file"), envf, "env_file string");
      tap_is_str (sget (&x, "services.ctx.build.context"), ctx, "build.context");
      tap_is_str (sget (&x, "services.ctx.build.dockerfile"), "docker/Dockerfile",
                  "dockerfile stays relative to the context");
      tap_is_str (sget (&x, "services.noctx.build.context"), p, "build without context: the dir");
      tap_is_str (sget (&x, "services.remote.build"), "https://github.com/example/repo.git#main",
                  "remote build context untouched");
      tap_is_str (sget (&x, "services.remote.env_file.0"), aenv, "env_file list");
      tap_is_str (sget (&x, "services.remote.env_file.1.path"), benv, "env_file long form");
      tap_is_str (sget (&x, "secrets.token.file"), tok, "secrets file");
      tap_is_str (sget (&x, "configs.conf.file"), ini, "configs file");
    }
  load_free (&x);

  load (&x, "/srv/proj", files, 1, NULL, 0, NULL);
  tap_is_str (sget (&x, "services.app.build"), "/srv/proj/app",
              "--project-directory: paths against it");
  tap_is_str (x.l.project_dir, "/srv/proj", "--project-directory");
  load_free (&x);
}

static void
test_env (void)
{
  struct load x;
  cleanup_free char *f = fxp ("env/compose.yaml");
  const char *files[] = { f };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  if (ok_load (&x, "env"))
    {
      tap_is_str (sget (&x, "services.app.image"), "app:dotenv", ".env read");
      tap_is_str (sget (&x, "services.app.environment.FROM_DOTENV"), "yes", ".env variable");
      tap_is_str (sget (&x, "services.app.environment.PROC"), "proc",
                  "process environment over .env");
      tap_is_str (sget (&x, "services.app.environment.DEFAULTED"), "fallback", "default");
      tap_is_str (sget (&x, "services.app.environment.ESCAPED"), "$HOME", "$$ escape");
      tap_ok (nget (x.l.root, "services.app.labels.${KEY_NOT_INTERPOLATED}") != NULL,
              "keys are not interpolated");
      tap_is_str (stack_env_get (x.l.env, "TAG"), "dotenv", "loaded env: .env");
      tap_is_str (stack_env_get (x.l.env, "BOTH"), "proc", "loaded env: process wins");
    }
  load_free (&x);

  cleanup_free char *alt = fxp ("env/alt.env");
  const char *envf[] = { alt };
  load (&x, NULL, files, 1, envf, 1, NULL);
  tap_is_str (sget (&x, "services.app.image"), "app:alt", "--env-file replaces .env");
  tap_is_str (sget (&x, "services.app.environment.FROM_DOTENV"), "alt", "--env-file variable");
  tap_is_str (sget (&x, "services.app.environment.PROC"), "proc", "--env-file: process wins");
  load_free (&x);

  static char tag[] = "TAG=fromproc";
  char *penv[] = { tag, NULL };
  load (&x, NULL, files, 1, NULL, 0, penv);
  tap_is_str (sget (&x, "services.app.image"), "app:fromproc", "process TAG over .env TAG");
  load_free (&x);

  cleanup_free char *missing = fxp ("env/none.env");
  const char *envm[] = { missing };
  load (&x, NULL, files, 1, envm, 1, NULL);
  expect_error (&x, "cannot open the env file", 0, 0, "--env-file missing");
  load_free (&x);
}

static void
test_interp_errors (void)
{
  struct load x;
  cleanup_free char *f = fxp ("interp/compose.yaml");
  const char *files[] = { f };
  load (&x, NULL, files, 1, NULL, 0, NULL);
  expect_error (&x, "is not closed", 4, 20, "interpolation error place");
  expect_error (&x, "required variable REQUIRED is missing a value: please set REQUIRED", 5, 15,
                "required variable");
  const struct diag *w = find_diag (&x, DIAG_WARNING, "variable \"UNSET_VAR\" is not set");
  tap_ok (w != NULL, "unset variable: warning");
  tap_is_int (w ? w->line : 0, 6, "unset variable: its line");
  load_free (&x);
}

int
main (void)
{
  const char *srcdir = getenv ("ITM_SRCDIR");
  char cwd[4096];
  if (srcdir == NULL && getcwd (cwd, sizeof cwd))
    srcdir = cwd;
  /* The loader returns canonical paths; so must the expectations (make
   * distcheck's srcdir is ".../_build/sub/..").  */
  cleanup_free char *rel = xasprintf ("%s/tests/stack/files", srcdir);
  fx = realpath (rel, NULL);
  if (fx == NULL)
    {
      printf ("Bail out! %s: %s\n", rel, strerror (errno));
      return 1;
    }
  test_lookup ();
  test_merge ();
  test_reset ();
  test_extends ();
  test_include ();
  test_paths ();
  test_env ();
  test_interp_errors ();
  free (fx);
  return tap_done ();
}
