/* seed.c - x-itm.seed: ordered steps run in a service's container after it
 * is ready and before its dependents start.
 *
 *   x-itm:
 *     seed:
 *       - copy: [data/a.csv, init/]       # files, directories or globs (project dir)
 *         to: /seed                      # directory in the container (created)
 *       - exec: ["sh", "-c", "..."]      # or a string (split like command:)
 *         user: postgres                 # optional
 *         env: {A: b}                    # optional, map or ["A=b"]
 *         workdir: /seed                 # optional
 *       - sql: schema.sql                # psql -v ON_ERROR_STOP=1 -f, as
 *         database: other                # POSTGRES_USER into POSTGRES_DB (optional)
 *       - redis: keys.redis              # redis-cli < file (REDIS_PASSWORD if set)
 */
#include <config.h>

#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "data/priv.h"
#include "engine/engine.h"
#include "report/report.h"
#include "stack/stack.h"
#include "out/out.h"
#include "util/clock.h"
#include "util/strv.h"

#define SEED_TMP "/tmp/itm-env-seed"

const char *
data_svc_env (const struct stack_service *svc, const char *name)
{
  for (size_t i = 0; svc && i < svc->environment.n; i++)
    if (strcmp (svc->environment.v[i].name, name) == 0)
      return svc->environment.v[i].value;
  return NULL;
}

const char *
data_jstr (json_object *o, const char *k)
{
  json_object *v = NULL;
  if (o && json_object_is_type (o, json_type_object) && json_object_object_get_ex (o, k, &v) && v
      && !json_object_is_type (v, json_type_object) && !json_object_is_type (v, json_type_array))
    return json_object_get_string (v);
  return NULL;
}

/* A string or list of strings as a new NULL-terminated array; split: a
 * string is split like a command line. */
static char **
strv_from (json_object *v, bool split, const char *what, struct itm_err *err)
{
  if (v && json_object_is_type (v, json_type_array))
    {
      size_t n = json_object_array_length (v);
      if (n == 0)
        {
          itm_err_set (err, ITM_EXIT_STACK, "%s: an empty list", what);
          return NULL;
        }
      char **out = xcalloc (n + 1, sizeof *out);
      for (size_t i = 0; i < n; i++)
        out[i] = xstrdup (json_object_get_string (json_object_array_get_idx (v, i)));
      return out;
    }
  if (v && json_object_is_type (v, json_type_string))
    {
      const char *s = json_object_get_string (v);
      if (!split)
        {
          char **out = xcalloc (2, sizeof *out);
          out[0] = xstrdup (s);
          return out;
        }
      char **argv = NULL;
      size_t argc = 0;
      const char *why = NULL;
      if (stack_split_command (s, &argv, &argc, &why) < 0 || argc == 0)
        {
          itm_err_set (err, ITM_EXIT_STACK, "%s: %s", what, why ? why : "an empty command");
          strv_free (argv);
          return NULL;
        }
      return argv;
    }
  itm_err_set (err, ITM_EXIT_STACK, "%s: expected a string or a list of strings", what);
  return NULL;
}

/* env: a map or a list of "A=b" */
static char **
env_from (json_object *v, const char *what, struct itm_err *err)
{
  if (v == NULL)
    return xcalloc (1, sizeof (char *));
  if (json_object_is_type (v, json_type_object))
    {
      char **out = xcalloc ((size_t) json_object_object_length (v) + 1, sizeof *out);
      size_t i = 0;
      json_object_object_foreach (v, k, val)
        out[i++] = xasprintf ("%s=%s", k, val ? json_object_get_string (val) : "");
      return out;
    }
  return strv_from (v, false, what, err);
}

char **
data_exec_argv (json_object *step, const char *what, struct itm_err *err)
{
  json_object *v = NULL;
  json_object_object_get_ex (step, "exec", &v);
  return strv_from (v, true, what, err);
}

static const char *const step_keys[] = { "copy", "exec", "sql", "redis", NULL };

const char *
data_step_kind (json_object *step)
{
  if (!json_object_is_type (step, json_type_object))
    return NULL;
  const char *kind = NULL;
  for (const char *const *k = step_keys; *k; k++)
    if (json_object_object_get_ex (step, *k, NULL))
      {
        if (kind)
          return NULL;
        kind = *k;
      }
  return kind;
}

static bool
key_allowed (const char *kind, const char *k, const char *const *extra)
{
  if (strcmp (k, kind) == 0)
    return true;
  static const char *const by_kind[][5] = {
    { "copy", "to", NULL },
    { "exec", "user", "env", "workdir", NULL },
    { "sql", "database", "user", NULL },
    { "redis", NULL },
  };
  for (size_t i = 0; i < sizeof by_kind / sizeof by_kind[0]; i++)
    if (strcmp (by_kind[i][0], kind) == 0)
      for (size_t j = 1; by_kind[i][j]; j++)
        if (strcmp (by_kind[i][j], k) == 0)
          return true;
  for (; extra && *extra; extra++)
    if (strcmp (*extra, k) == 0)
      return true;
  return false;
}

/* A relative pattern whose '..' components climb above where it starts
 * ("../x", "a/../../x"): outside the project directory whatever is there.
 * (Absolute paths and symlinks are resolved when the step runs.) */
static bool
climbs_out (const char *pat)
{
  if (pat[0] == '/')
    return false;
  long depth = 0;
  for (const char *c = pat; *c;)
    {
      size_t l = strcspn (c, "/");
      if (l == 2 && c[0] == '.' && c[1] == '.')
        {
          if (--depth < 0)
            return true;
        }
      else if (l && !(l == 1 && c[0] == '.'))
        depth++;
      c += l;
      c += strspn (c, "/");
    }
  return false;
}

static int
files_inside (json_object *v, const char *kind, const char *what, struct itm_err *err)
{
  size_t n = json_object_is_type (v, json_type_array) ? json_object_array_length (v) : 1;
  for (size_t i = 0; i < n; i++)
    {
      json_object *it = json_object_is_type (v, json_type_array)
                          ? json_object_array_get_idx (v, i) : v;
      const char *pat = json_object_is_type (it, json_type_string)
                          ? json_object_get_string (it) : NULL;
      if (pat && climbs_out (pat))
        return itm_err_set (err, ITM_EXIT_STACK, "%s: %s: '%s' is outside the project "
                            "directory", what, kind, pat);
    }
  return 0;
}

int
data_step_validate (json_object *step, const char *what, const char *const *extra,
                    struct itm_err *err)
{
  const char *kind = data_step_kind (step);
  if (kind == NULL)
    return itm_err_set (err, ITM_EXIT_STACK,
                        "%s: a step is a map with exactly one of copy, exec, sql, redis", what);
  json_object_object_foreach (step, k, v)
    {
      (void) v;
      if (!key_allowed (kind, k, extra))
        return itm_err_set (err, ITM_EXIT_STACK, "%s: unknown key '%s' in a %s step", what, k,
                            kind);
    }
  if (strcmp (kind, "copy") == 0 && data_jstr (step, "to") == NULL)
    return itm_err_set (err, ITM_EXIT_STACK, "%s: a copy step needs to: (a directory)", what);
  if (strcmp (kind, "exec") == 0)
    {
      char **argv = data_exec_argv (step, what, err);
      if (argv == NULL)
        return -1;
      strv_free (argv);
      json_object *env = NULL;
      json_object_object_get_ex (step, "env", &env);
      char **ev = env_from (env, what, err);
      if (ev == NULL)
        return -1;
      strv_free (ev);
    }
  if ((strcmp (kind, "sql") == 0 || strcmp (kind, "redis") == 0) && data_jstr (step, kind) == NULL)
    return itm_err_set (err, ITM_EXIT_STACK, "%s: %s: expected a string", what, kind);
  if (strcmp (kind, "exec") != 0)
    {
      json_object *files = NULL;
      json_object_object_get_ex (step, kind, &files);
      if (files_inside (files, kind, what, err) < 0)
        return -1;
    }
  return 0;
}

bool
data_has_seed (const struct stack_service *svc)
{
  json_object *v = NULL;
  return svc->x_itm && json_object_object_get_ex (svc->x_itm, "seed", &v) && v
         && json_object_is_type (v, json_type_array) && json_object_array_length (v) > 0;
}

/* Is path (resolved: symlinks followed) root or under it?  root is
 * resolved. */
static bool
inside (const char *root, const char *path)
{
  cleanup_free char *rp = realpath (path, NULL);
  size_t l = strlen (root);
  return rp && strncmp (rp, root, l) == 0 && (rp[l] == '\0' || rp[l] == '/' || l == 1);
}

/* nftw has no context argument: the walk's root and first escape, per
 * thread (services seed in parallel). */
static __thread const char *walk_root;
static __thread char *walk_escape;

static int
walk_one (const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
  (void) sb;
  (void) ftw;
  if (type == FTW_SL && !inside (walk_root, path))
    {
      walk_escape = xstrdup (path);
      return 1;
    }
  return 0;
}

/* A seed file, or anything under a seed directory, that resolves outside
 * the project directory (a path, a '..', a symlink) is refused: a stack
 * copies its own files, not the host's. */
static int
check_inside (const char *root, const char *path, struct itm_err *err)
{
  if (!inside (root, path))
    return itm_err_set (err, ITM_EXIT_STACK, "%s is outside the project directory %s", path,
                        root);
  struct stat sb;
  if (stat (path, &sb) < 0 || !S_ISDIR (sb.st_mode))
    return 0;
  walk_root = root;
  walk_escape = NULL;
  nftw (path, walk_one, 16, FTW_PHYS);
  if (walk_escape)
    {
      itm_err_set (err, ITM_EXIT_STACK, "%s (under %s) is a link to outside the project "
                   "directory %s", walk_escape, path, root);
      free (walk_escape);
      walk_escape = NULL;
      return -1;
    }
  return 0;
}

/* The files a pattern names (relative to the project directory, and
 * inside it). */
static int
expand_glob (const char *project_dir, const char *pat, char ***paths, size_t *n, size_t *cap,
             struct itm_err *err)
{
  cleanup_free char *abs = pat[0] == '/' ? xstrdup (pat) : xasprintf ("%s/%s", project_dir, pat);
  size_t l = strlen (abs);
  while (l > 1 && abs[l - 1] == '/')
    abs[--l] = '\0';
  glob_t g;
  int rc = glob (abs, GLOB_NOSORT, NULL, &g);
  if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0))
    {
      if (rc == 0)
        globfree (&g);
      return itm_err_set (err, ITM_EXIT_DATA, "no such file: %s", abs);
    }
  if (rc != 0)
    return itm_err_set (err, ITM_EXIT_DATA, "cannot expand %s", abs);
  cleanup_free char *root = realpath (project_dir, NULL);
  if (root == NULL)
    {
      globfree (&g);
      return itm_err_errno (err, ITM_EXIT_DATA, "project directory %s", project_dir);
    }
  for (size_t i = 0; i < g.gl_pathc; i++)
    if (check_inside (root, g.gl_pathv[i], err) < 0)
      {
        globfree (&g);
        return -1;
      }
  for (size_t i = 0; i < g.gl_pathc; i++)
    {
      *paths = xgrow (*paths, cap, *n + 2, sizeof **paths);
      (*paths)[(*n)++] = xstrdup (g.gl_pathv[i]);
      (*paths)[*n] = NULL;
    }
  globfree (&g);
  return 0;
}

int
data_files (const char *project_dir, json_object *v, char ***out, size_t *n, struct itm_err *err)
{
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  if (json_object_is_type (v, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (v); i++)
        if (expand_glob (project_dir, json_object_get_string (json_object_array_get_idx (v, i)),
                         out, n, &cap, err) < 0)
          goto fail;
      return 0;
    }
  if (expand_glob (project_dir, json_object_get_string (v), out, n, &cap, err) == 0)
    return 0;
fail:
  strv_free (*out);
  *out = NULL;
  return -1;
}

static void
step_desc (json_object *step, const char *kind, size_t i, struct buf *b)
{
  json_object *v = NULL;
  json_object_object_get_ex (step, kind, &v);
  buf_addf (b, "step %zu (%s ", i + 1, kind);
  if (json_object_is_type (v, json_type_array))
    for (size_t k = 0; k < json_object_array_length (v); k++)
      buf_addf (b, "%s%s", k ? " " : "", json_object_get_string (json_object_array_get_idx (v, k)));
  else
    buf_adds (b, json_object_get_string (v));
  if (strcmp (kind, "copy") == 0)
    buf_addf (b, " to %s", data_jstr (step, "to"));
  buf_adds (b, ")");
}

/* A service's database credentials (PostgreSQL official image's variables). */
void
data_pg_creds (const struct stack_service *svc, const char *db, struct data_pg *pg)
{
  const char *u = data_svc_env (svc, "POSTGRES_USER");
  pg->user = u && *u ? u : "postgres";
  const char *d = data_svc_env (svc, "POSTGRES_DB");
  pg->db = db ? db : d && *d ? d : pg->user;
  pg->password = data_svc_env (svc, "POSTGRES_PASSWORD");
}

int
data_run_psql (struct engine *e, const char *cid, const struct data_pg *pg,
               const char *const *args, struct buf *out, int *ec, struct itm_err *err)
{
  const char *argv[32] = { "psql", "-X", "-v", "ON_ERROR_STOP=1", "-U", pg->user, "-d", pg->db };
  size_t n = 8;
  for (; args && *args && n < 31; args++)
    argv[n++] = *args;
  argv[n] = NULL;
  cleanup_free char *pw = pg->password ? xasprintf ("PGPASSWORD=%s", pg->password) : NULL;
  const char *env[] = { pw, NULL };
  struct data_exec x = { .argv = argv, .env = env };
  return data_exec_run (e, cid, &x, out, ec, err);
}

int
data_run_redis (struct engine *e, const char *cid, const char *password, const char *script,
                struct buf *out, int *ec, struct itm_err *err)
{
  cleanup_free char *pw = password && *password ? xasprintf ("REDISCLI_AUTH=%s", password) : NULL;
  const char *env[] = { pw, NULL };
  const char *argv[] = { "sh", "-c", script, NULL };
  struct data_exec x = { .argv = argv, .env = env };
  if (data_exec_run (e, cid, &x, out, ec, err) < 0)
    return -1;
  /* redis-cli goes on after a failing command: its errors are in the output */
  for (const char *p = out->data; *ec == 0 && p && *p;)
    {
      if (strncmp (p, "ERR", 3) == 0 || strncmp (p, "(error)", 7) == 0
          || strncmp (p, "WRONGTYPE", 9) == 0 || strncmp (p, "NOAUTH", 6) == 0
          || strncmp (p, "WRONGPASS", 9) == 0)
        *ec = 1;
      p = strchr (p, '\n');
      p = p ? p + 1 : NULL;
    }
  return 0;
}

static int
run_step (struct engine *e, const struct stack *st, const struct stack_service *svc,
          const char *cid, json_object *step, const char *kind, struct buf *out, int *ec,
          struct itm_err *err)
{
  *ec = 0;
  json_object *v = NULL;
  json_object_object_get_ex (step, kind, &v);
  if (strcmp (kind, "copy") == 0 || strcmp (kind, "sql") == 0 || strcmp (kind, "redis") == 0)
    {
      char **paths = NULL;
      size_t n = 0;
      if (data_files (st->project_dir, v, &paths, &n, err) < 0)
        return -1;
      if (strcmp (kind, "copy") != 0)
        {
          struct stat sb;
          if (n != 1 || stat (paths[0], &sb) < 0 || !S_ISREG (sb.st_mode))
            {
              itm_err_set (err, ITM_EXIT_DATA, "%s: %s: expected one file", kind,
                           json_object_get_string (v));
              strv_free (paths);
              return -1;
            }
        }
      const char *dir = strcmp (kind, "copy") == 0 ? data_jstr (step, "to") : SEED_TMP;
      int rc = data_copy_in (e, cid, (const char *const *) paths, n, dir, err);
      cleanup_free char *base = n ? xstrdup (strrchr (paths[0], '/') + 1) : NULL;
      strv_free (paths);
      if (rc < 0 || strcmp (kind, "copy") == 0)
        return rc;
      cleanup_free char *file = xasprintf (SEED_TMP "/%s", base);
      if (strcmp (kind, "sql") == 0)
        {
          struct data_pg pg;
          data_pg_creds (svc, data_jstr (step, "database"), &pg);
          if (data_jstr (step, "user"))
            pg.user = data_jstr (step, "user");
          const char *args[] = { "-q", "-f", file, NULL };
          rc = data_run_psql (e, cid, &pg, args, out, ec, err);
        }
      else
        {
          cleanup_free char *script = xasprintf ("redis-cli < '%s'", file);
          rc = data_run_redis (e, cid, data_svc_env (svc, "REDIS_PASSWORD"), script, out, ec,
                               err);
        }
      const char *rm[] = { "rm", "-f", file, NULL };
      struct data_exec x = { .argv = rm, .user = "0" };
      cleanup_buf struct buf o2 = { 0 };
      int ec2;
      cleanup_err struct itm_err e2 = { 0 };
      data_exec_run (e, cid, &x, &o2, &ec2, &e2);
      return rc;
    }
  /* exec */
  char **argv = data_exec_argv (step, "exec", err);
  if (argv == NULL)
    return -1;
  json_object *envj = NULL;
  json_object_object_get_ex (step, "env", &envj);
  char **env = env_from (envj, "env", err);
  if (env == NULL)
    {
      strv_free (argv);
      return -1;
    }
  struct data_exec x = { .argv = (const char *const *) argv, .env = (const char *const *) env,
                         .user = data_jstr (step, "user"), .workdir = data_jstr (step, "workdir") };
  int rc = data_exec_run (e, cid, &x, out, ec, err);
  strv_free (argv);
  strv_free (env);
  return rc;
}

int
data_seed_service (struct engine *e, const struct stack *st, const struct stack_service *svc,
                   const char *cid, const char *ns, bool quiet, struct itm_err *err)
{
  if (!data_has_seed (svc))
    return 0;
  json_object *steps = NULL;
  json_object_object_get_ex (svc->x_itm, "seed", &steps);
  size_t n = json_object_array_length (steps);
  int64_t t0 = mono_ns ();
  for (size_t i = 0; i < n; i++)
    {
      json_object *step = json_object_array_get_idx (steps, i);
      cleanup_buf struct buf what = { 0 };
      buf_addf (&what, "%s: x-itm.seed[%zu]", svc->name, i);
      if (data_step_validate (step, what.data, NULL, err) < 0)
        return -1;
      const char *kind = data_step_kind (step);
      cleanup_buf struct buf desc = { 0 };
      step_desc (step, kind, i, &desc);
      data_mask_buf (&desc);
      cleanup_buf struct buf out = { 0 };
      int ec = 0;
      int64_t ts = mono_ns ();
      int rc = run_step (e, st, svc, cid, step, kind, &out, &ec, err);
      if (rc < 0 || ec != 0)
        data_mask_buf (&out);
      report_seed (report_current (), svc->name, desc.data, rc == 0 && ec == 0, mono_ns () - ts,
                   -1, rc < 0 ? err->msg : ec != 0 ? out.data : NULL);
      if (rc < 0)
        {
          itm_err_prefix (err, "seeding %s: %s", svc->name, desc.data);
          /* a path outside the project directory is the stack's error */
          if (err->code != ITM_EXIT_CONNECT && err->code != ITM_EXIT_INTERRUPTED
              && err->code != ITM_EXIT_TERMINATED && err->code != ITM_EXIT_STACK)
            err->code = ITM_EXIT_DATA;
          return -1;
        }
      if (ec != 0)
        {
          data_mask_buf (&out);
          size_t l = out.len;
          while (l && (out.data[l - 1] == '\n' || out.data[l - 1] == ' '))
            out.data[--l] = '\0';
          itm_err_set (err, ITM_EXIT_DATA, "seeding %s: %s exited with code %d%s%s", svc->name,
                       desc.data, ec, l ? ":\n" : "", l ? out.data : "");
          return -1;
        }
    }
  if (!quiet)
    {
      char d[32];
      snprintf (d, sizeof d, "%zu step%s", n, n == 1 ? "" : "s");
      out_event (svc->name, "seeded", mono_ns () - t0, d);
    }
  (void) ns;
  return 0;
}
