/* datans.c - data namespaces: an isolated copy of the seeded data per test or
 * worker, in every service with x-itm.data.
 *
 *   x-itm.data: postgres   CREATE DATABASE "itm_<name>" TEMPLATE <POSTGRES_DB>
 *                          (when the template has sessions open: connections
 *                          to it are disallowed, its sessions terminated, the
 *                          clone made, connections allowed again)
 *   x-itm.data: redis      a database index of its own (1..databases-1), the
 *                          keys of database 0 copied into it (COPY ... DB)
 *   x-itm.data:            a custom kind: steps run in the container with
 *     create: [steps]      ITM_DATA_NS=<name> in their environment; exports
 *     drop: [steps]        templates expand ${ITM_DATA_NS}, ${HOST}, ${PORT}
 *     exports: {K: tpl}    (write $${...} in the file: the loader interpolates)
 *
 * The registry of a namespace's data namespaces lives in its private state
 * directory (ns_state_dir()/data/<name>.json), written under an flock on
 * ns_state_dir()/data.lock, which also serializes create and drop (eight
 * `ns create` at once each get their own copy).  An entry keeps what drop
 * needs (kind, database or index, user, drop steps), so `ns drop` and
 * `down` work without the stack file. */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn/conn.h"
#include "data/priv.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "out/out.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/file.h"
#include "util/json.h"
#include "util/strv.h"

#define PG_PREFIX "itm_"
#define REG_MAX (1024 * 1024)     /* a registry entry's size limit */

int
data_ns_check_name (const char *name, struct itm_err *err)
{
  size_t l = strlen (name);
  bool ok = l >= 1 && l <= DATA_NS_MAX_LEN && islower ((unsigned char) name[0]);
  for (const char *p = name; ok && *p; p++)
    ok = islower ((unsigned char) *p) || isdigit ((unsigned char) *p) || *p == '_';
  if (!ok)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "'%s' is not a valid data namespace name", name);
      return itm_err_hint (err, "1 to %d characters of [a-z0-9_], starting with a letter",
                           DATA_NS_MAX_LEN);
    }
  return 0;
}

/* ---- registry ---- */
static char *
reg_dir (const char *ns, bool create, struct itm_err *err)
{
  cleanup_free char *d = ns_state_dir (ns, create, err);
  if (d == NULL)
    return NULL;
  char *r = xasprintf ("%s/data", d);
  if (create && mkdir (r, 0700) < 0 && errno != EEXIST)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "cannot create %s", r);
      free (r);
      return NULL;
    }
  return r;
}

static int
reg_lock (const char *ns, struct itm_err *err)
{
  cleanup_free char *d = ns_state_dir (ns, true, err);
  if (d == NULL)
    return -1;
  cleanup_free char *p = xasprintf ("%s/data.lock", d);
  int fd = open (p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot open %s", p);
  if (flock (fd, LOCK_EX) < 0)
    {
      close (fd);
      return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot lock %s", p);
    }
  return fd;
}

static json_object *
reg_read (const char *ns, const char *name)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *d = reg_dir (ns, false, &err);
  if (d == NULL)
    return NULL;
  cleanup_free char *p = xasprintf ("%s/%s.json", d, name);
  if (access (p, F_OK) < 0)
    return NULL;
  cleanup_free char *text = file_read (p, REG_MAX, NULL, ITM_EXIT_FAILURE, &err);
  return text ? json_tokener_parse (text) : NULL;
}

static int
reg_write (const char *ns, const char *name, json_object *entry, struct itm_err *err)
{
  cleanup_free char *d = reg_dir (ns, true, err);
  if (d == NULL)
    return -1;
  cleanup_free char *p = xasprintf ("%s/%s.json", d, name);
  cleanup_free char *t = xasprintf ("%s/.%s.json.tmp", d, name);
  if (json_object_to_file_ext (t, entry, JSON_C_TO_STRING_PLAIN) < 0 || rename (t, p) < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot write %s", p);
  return 0;
}

static void
reg_remove (const char *ns, const char *name)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *d = reg_dir (ns, false, &err);
  if (d == NULL)
    return;
  cleanup_free char *p = xasprintf ("%s/%s.json", d, name);
  unlink (p);
}

/* ---- helpers ---- */
static const char *
running_cid (const struct state *s, const char *service, const struct state_container **cp)
{
  size_t n = 0;
  struct state_container *c = state_service (s, service, &n);
  for (size_t i = 0; c && i < n; i++)
    if (strcmp (c[i].state, "running") == 0)
      {
        if (cp)
          *cp = &c[i];
        return c[i].id;
      }
  return NULL;
}

/* SVC_name=value (SVC: the service's variable prefix) */
static void
prefixed (struct conn_vars *vars, const char *service, const char *name, const char *value)
{
  cleanup_free char *px = conn_var_name (service);
  cleanup_free char *n = xasprintf ("%s_%s", px, name);
  conn_vars_add (vars, n, value);
}

/* SVC_HOST and SVC_PORT (the binding of cport, else the first published
 * port) when one is published: *host and port, else *host NULL. */
static void
host_port (struct conn_vars *vars, const char *service, const struct state_container *c,
           unsigned cport, const char **host, char port[static 16])
{
  const struct state_port *p = conn_port (c, cport);
  *host = NULL;
  if (p == NULL)
    return;
  *host = conn_reach_host (c, p);
  conn_reach_port (p, port);
  prefixed (vars, service, "HOST", *host);
  prefixed (vars, service, "PORT", port);
}

static int
fail_out (struct itm_err *err, const char *what, int ec, struct buf *out)
{
  data_mask_buf (out);
  while (out->len && strchr ("\n ", out->data[out->len - 1]))
    out->data[--out->len] = '\0';
  return itm_err_set (err, ITM_EXIT_DATA, "%s: exit code %d%s%s", what, ec,
                      out->len ? ": " : "", out->len ? out->data : "");
}

/* ---- PostgreSQL ---- */
static char *
sql_ident (const char *s)
{
  struct buf b = { 0 };
  buf_addc (&b, '"');
  for (; *s; s++)
    {
      if (*s == '"')
        buf_addc (&b, '"');
      buf_addc (&b, *s);
    }
  buf_addc (&b, '"');
  return buf_steal (&b);
}

static char *
sql_lit (const char *s)
{
  struct buf b = { 0 };
  buf_addc (&b, '\'');
  for (; *s; s++)
    {
      if (*s == '\'')
        buf_addc (&b, '\'');
      buf_addc (&b, *s);
    }
  buf_addc (&b, '\'');
  return buf_steal (&b);
}

/* SVC_HOST, SVC_PORT, SVC_DB, SVC_USER, SVC_PASSWORD, SVC_URL of database
 * dbname (what ns create prints, and env for the seeded database) */
static void
pg_vars (struct conn_vars *vars, const char *service, const struct state_container *c,
         const struct data_pg *pg, const char *dbname)
{
  const char *host;
  char port[16];
  host_port (vars, service, c, 5432, &host, port);
  prefixed (vars, service, "DB", dbname);
  prefixed (vars, service, "USER", pg->user);
  if (pg->password)
    prefixed (vars, service, "PASSWORD", pg->password);
  if (host)
    {
      cleanup_free char *url = xasprintf ("postgresql://%s%s%s@%s:%s/%s", pg->user,
                                          pg->password ? ":" : "",
                                          pg->password ? pg->password : "", host, port, dbname);
      prefixed (vars, service, "URL", url);
    }
}

/* SVC_HOST, SVC_PORT, SVC_DB, SVC_URL of database index idx */
static void
redis_vars (struct conn_vars *vars, const char *service, const struct state_container *c,
            const char *pw, long idx)
{
  const char *host;
  char port[16];
  cleanup_free char *sidx = xasprintf ("%ld", idx);
  host_port (vars, service, c, 6379, &host, port);
  prefixed (vars, service, "DB", sidx);
  if (host)
    {
      cleanup_free char *url = xasprintf ("redis://%s%s%s%s:%s/%ld", pw ? ":" : "", pw ? pw : "",
                                          pw ? "@" : "", host, port, idx);
      prefixed (vars, service, "URL", url);
    }
}

static int
pg_create (struct engine *e, const char *cid, const struct stack_service *svc, const char *name,
           json_object *entry, struct conn_vars *vars, const struct state_container *c,
           struct itm_err *err)
{
  struct data_pg pg;
  data_pg_creds (svc, NULL, &pg);
  const char *tmpl = pg.db;
  struct data_pg admin = pg;
  admin.db = strcmp (tmpl, "postgres") == 0 ? "template1" : "postgres";
  cleanup_free char *dbname = xasprintf (PG_PREFIX "%s", name);
  cleanup_free char *qdb = sql_ident (dbname), *qt = sql_ident (tmpl), *lt = sql_lit (tmpl);
  cleanup_free char *create = xasprintf ("CREATE DATABASE %s TEMPLATE %s", qdb, qt);
  cleanup_free char *busy = xasprintf (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", lt);
  cleanup_free char *deny = xasprintf ("ALTER DATABASE %s ALLOW_CONNECTIONS false", qt);
  cleanup_free char *kill = xasprintf (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s "
    "AND pid <> pg_backend_pid()", lt);
  cleanup_free char *allow = xasprintf ("ALTER DATABASE %s ALLOW_CONNECTIONS true", qt);
  /* One exec.  PostgreSQL waits 5 s before it refuses to clone a template
   * in use, so look first; when sessions are open on it: keep new ones
   * out, end the open ones, clone, let them in again. */
  static const char script[] =
    "n=$(psql -X -tA -U \"$ITM_U\" -d \"$ITM_D\" -c \"$ITM_BUSY\") || exit $?\n"
    "if [ \"$n\" = 0 ]; then\n"
    "  exec psql -X -q -v ON_ERROR_STOP=1 -U \"$ITM_U\" -d \"$ITM_D\" -c \"$ITM_CREATE\"\n"
    "fi\n"
    "rc=0\n"
    "psql -X -q -v ON_ERROR_STOP=1 -U \"$ITM_U\" -d \"$ITM_D\" -c \"$ITM_DENY\" -c \"$ITM_KILL\" "
    "-c \"$ITM_CREATE\" >/dev/null || rc=$?\n"
    "psql -X -q -U \"$ITM_U\" -d \"$ITM_D\" -c \"$ITM_ALLOW\" || :\n"
    "exit $rc\n";
  cleanup_free char *e_u = xasprintf ("ITM_U=%s", admin.user);
  cleanup_free char *e_d = xasprintf ("ITM_D=%s", admin.db);
  cleanup_free char *e_busy = xasprintf ("ITM_BUSY=%s", busy);
  cleanup_free char *e_create = xasprintf ("ITM_CREATE=%s", create);
  cleanup_free char *e_deny = xasprintf ("ITM_DENY=%s", deny);
  cleanup_free char *e_kill = xasprintf ("ITM_KILL=%s", kill);
  cleanup_free char *e_allow = xasprintf ("ITM_ALLOW=%s", allow);
  cleanup_free char *e_pw = pg.password ? xasprintf ("PGPASSWORD=%s", pg.password) : NULL;
  const char *env[] = { e_u, e_d, e_busy, e_create, e_deny, e_kill, e_allow, e_pw, NULL };
  const char *argv[] = { "sh", "-c", script, NULL };
  struct data_exec x = { .argv = argv, .env = env };
  cleanup_buf struct buf out = { 0 };
  int ec = 0;
  if (data_exec_run (e, cid, &x, &out, &ec, err) < 0)
    return -1;
  if (ec != 0)
    {
      cleanup_free char *w = xasprintf ("%s: cloning database %s into %s", svc->name, tmpl, dbname);
      return fail_out (err, w, ec, &out);
    }
  json_object_object_add (entry, "database", json_object_new_string (dbname));
  json_object_object_add (entry, "user", json_object_new_string (pg.user));
  pg_vars (vars, svc->name, c, &pg, dbname);
  return 0;
}

static int
pg_drop (struct engine *e, const char *cid, json_object *entry, const struct state_container *c,
         struct itm_err *err)
{
  struct data_pg admin = { .user = data_jstr (entry, "user"), .db = "postgres",
                           .password = conn_container_env (c, "POSTGRES_PASSWORD", strlen ("POSTGRES_PASSWORD")) };
  if (admin.user == NULL || data_jstr (entry, "database") == NULL)
    return itm_err_set (err, ITM_EXIT_DATA, "a broken registry entry");
  cleanup_free char *qdb = sql_ident (data_jstr (entry, "database"));
  cleanup_free char *drop = xasprintf ("DROP DATABASE IF EXISTS %s WITH (FORCE)", qdb);
  const char *a[] = { "-q", "-c", drop, NULL };
  cleanup_buf struct buf out = { 0 };
  int ec = 0;
  if (data_run_psql (e, cid, &admin, a, &out, &ec, err) < 0)
    return -1;
  if (ec != 0 && out.data && strstr (out.data, "\"postgres\" does not exist"))
    {
      admin.db = "template1";
      buf_reset (&out);
      if (data_run_psql (e, cid, &admin, a, &out, &ec, err) < 0)
        return -1;
    }
  if (ec != 0)
    return fail_out (err, "dropping the database", ec, &out);
  return 0;
}

/* ---- Redis ---- */
static int
redis_cmd (struct engine *e, const char *cid, const char *password, const char *script,
           struct buf *out, const char *what, struct itm_err *err)
{
  int ec = 0;
  if (data_run_redis (e, cid, password, script, out, &ec, err) < 0)
    return -1;
  if (ec != 0)
    return fail_out (err, what, ec, out);
  return 0;
}

static int
redis_create (struct engine *e, const char *cid, const struct stack_service *svc, const char *ns,
              json_object *entry, struct conn_vars *vars, const struct state_container *c,
              struct itm_err *err)
{
  const char *pw = data_svc_env (svc, "REDIS_PASSWORD");
  cleanup_buf struct buf out = { 0 };
  if (redis_cmd (e, cid, pw, "redis-cli CONFIG GET databases", &out, "reading databases", err) < 0)
    return -1;
  const char *nl = out.data ? strchr (out.data, '\n') : NULL;
  long ndb = nl ? strtol (nl + 1, NULL, 10) : 16;
  if (ndb <= 0)
    ndb = 16;
  /* the indexes taken by this namespace's other data namespaces */
  bool *used = xcalloc ((size_t) ndb, sizeof *used);
  used[0] = true;
  cleanup_json json_object *all = NULL;
  cleanup_err struct itm_err e2 = { 0 };
  if (data_ns_list (ns, &all, &e2) == 0)
    for (size_t i = 0; i < json_object_array_length (all); i++)
      {
        json_object *svcs = NULL;
        json_object_object_get_ex (json_object_array_get_idx (all, i), "services", &svcs);
        for (size_t k = 0; svcs && k < json_object_array_length (svcs); k++)
          {
            json_object *s = json_object_array_get_idx (svcs, k), *ix = NULL;
            if (data_jstr (s, "service") && strcmp (data_jstr (s, "service"), svc->name) == 0
                && json_object_object_get_ex (s, "index", &ix))
              {
                int v = json_object_get_int (ix);
                if (v >= 0 && v < ndb)
                  used[v] = true;
              }
          }
      }
  long idx = -1;
  for (long i = 1; i < ndb; i++)
    if (!used[i])
      {
        idx = i;
        break;
      }
  free (used);
  if (idx < 0)
    {
      itm_err_set (err, ITM_EXIT_DATA,
                   "%s: no free Redis database index: all %ld are taken (0 holds the seed, "
                   "1-%ld are data namespaces)", svc->name, ndb, ndb - 1);
      return itm_err_hint (err, "drop one ('itm-env ns drop NAME') or start redis-server with a "
                                "higher --databases");
    }
  cleanup_free char *copy = xasprintf (
    "redis-cli -n %ld FLUSHDB >/dev/null && redis-cli EVAL \"local n = 0 "
    "for _, k in ipairs(redis.call('KEYS', '*')) do redis.call('COPY', k, k, 'DB', ARGV[1]) "
    "n = n + 1 end return n\" 0 %ld", idx, idx);
  buf_reset (&out);
  if (redis_cmd (e, cid, pw, copy, &out, "copying database 0", err) < 0)
    return itm_err_prefix (err, "%s", svc->name);
  json_object_object_add (entry, "index", json_object_new_int ((int) idx));
  redis_vars (vars, svc->name, c, pw, idx);
  return 0;
}

static int
redis_drop (struct engine *e, const char *cid, json_object *entry, const struct state_container *c,
            struct itm_err *err)
{
  json_object *ix = NULL;
  if (!json_object_object_get_ex (entry, "index", &ix))
    return itm_err_set (err, ITM_EXIT_DATA, "a broken registry entry");
  cleanup_free char *cmd = xasprintf ("redis-cli -n %d FLUSHDB", json_object_get_int (ix));
  cleanup_buf struct buf out = { 0 };
  return redis_cmd (e, cid, conn_container_env (c, "REDIS_PASSWORD", strlen ("REDIS_PASSWORD")), cmd, &out, "FLUSHDB", err);
}

/* ---- custom kind ---- */
static int
run_steps (struct engine *e, const char *cid, json_object *steps, const char *name,
           const char *service, const char *what, struct itm_err *err)
{
  cleanup_free char *env0 = xasprintf ("ITM_DATA_NS=%s", name);
  for (size_t i = 0; steps && i < json_object_array_length (steps); i++)
    {
      json_object *step = json_object_array_get_idx (steps, i);
      cleanup_free char *w = xasprintf ("%s: x-itm.data.%s[%zu]", service, what, i);
      const char *kind = data_step_kind (step);
      if (kind == NULL || strcmp (kind, "exec") != 0)
        return itm_err_set (err, ITM_EXIT_STACK, "%s: expected an exec step", w);
      char **argv = data_exec_argv (step, w, err);
      if (argv == NULL)
        return -1;
      const char *env[] = { env0, NULL };
      json_object *u = NULL, *wd = NULL;
      json_object_object_get_ex (step, "user", &u);
      json_object_object_get_ex (step, "workdir", &wd);
      struct data_exec x = { .argv = (const char *const *) argv, .env = env,
                             .user = u ? json_object_get_string (u) : NULL,
                             .workdir = wd ? json_object_get_string (wd) : NULL };
      cleanup_buf struct buf out = { 0 };
      int ec = 0;
      int rc = data_exec_run (e, cid, &x, &out, &ec, err);
      strv_free (argv);
      if (rc < 0)
        return -1;
      if (ec != 0)
        return fail_out (err, w, ec, &out);
    }
  return 0;
}

static int
custom_create (struct engine *e, const char *cid, const struct stack_service *svc,
               json_object *spec, const char *name, json_object *entry, struct conn_vars *vars,
               const struct state_container *c, struct itm_err *err)
{
  json_object *create = NULL, *drop = NULL, *exports = NULL;
  json_object_object_get_ex (spec, "create", &create);
  json_object_object_get_ex (spec, "drop", &drop);
  json_object_object_get_ex (spec, "exports", &exports);
  if (drop)
    json_object_object_add (entry, "drop", json_object_get (drop));
  if (run_steps (e, cid, create, name, svc->name, "create", err) < 0)
    return -1;
  if (exports == NULL || !json_object_is_type (exports, json_type_object))
    return 0;
  /* the templates' variables: ITM_DATA_NS, HOST and PORT (empty when the
   * service publishes no port) */
  const struct state_port *p = conn_port (c, 0);
  char port[16] = "";
  if (p)
    conn_reach_port (p, port);
  cleanup_conn_vars struct conn_vars local = { 0 };
  conn_vars_add (&local, "ITM_DATA_NS", name);
  conn_vars_add (&local, "HOST", p ? conn_reach_host (c, p) : "");
  conn_vars_add (&local, "PORT", port);
  const struct conn_scope scope = {
    .local = &local,
    .hint = "x-itm.data exports know ITM_DATA_NS, HOST and PORT; write $${VAR} in the "
            "stack file",
  };
  json_object_object_foreach (exports, k, v)
    {
      cleanup_free char *what = xasprintf ("%s: x-itm.data.exports.%s", svc->name, k);
      cleanup_buf struct buf val = { 0 };
      buf_adds (&val, "");
      if (conn_expand (v ? json_object_get_string (v) : "", &scope, what, &val, err) < 0)
        return -1;
      conn_vars_add (vars, k, val.data);
    }
  return 0;
}

/* ---- create, drop, list ---- */
static int
drop_entry (struct engine *e, const struct state *s, json_object *entry, struct itm_err *err)
{
  json_object *svcs = NULL;
  json_object_object_get_ex (entry, "services", &svcs);
  int ret = 0;
  for (size_t i = 0; svcs && i < json_object_array_length (svcs); i++)
    {
      json_object *se = json_object_array_get_idx (svcs, i);
      const char *service = data_jstr (se, "service"), *kind = data_jstr (se, "kind");
      const struct state_container *c = NULL;
      const char *cid = service ? running_cid (s, service, &c) : NULL;
      struct itm_err e2 = { 0 };
      int rc = 0;
      if (cid == NULL)
        rc = 0; /* no running container: nothing holds the data any more */
      else if (kind && strcmp (kind, "postgres") == 0)
        rc = pg_drop (e, cid, se, c, &e2);
      else if (kind && strcmp (kind, "redis") == 0)
        rc = redis_drop (e, cid, se, c, &e2);
      else
        {
          json_object *drop = NULL;
          json_object_object_get_ex (se, "drop", &drop);
          rc = run_steps (e, cid, drop, data_jstr (entry, "name"), service, "drop", &e2);
        }
      if (rc < 0)
        {
          itm_err_prefix (&e2, "%s", service);
          if (ret == 0)
            itm_err_move (err, &e2);
          else
            out_warn ("%s", e2.msg);
          itm_err_clear (&e2);
          ret = -1;
        }
    }
  return ret;
}

int
data_ns_create (struct engine *e, const struct stack *st, const char *ns, const char *name,
                struct conn_vars *vars, struct itm_err *err)
{
  if (data_ns_check_name (name, err) < 0 || data_validate (st, err) < 0)
    return -1;
  size_t ndata = 0;
  for (size_t i = 0; i < st->nservices; i++)
    if (st->services[i].x_itm && json_object_object_get_ex (st->services[i].x_itm, "data", NULL))
      ndata++;
  if (ndata == 0)
    {
      itm_err_set (err, ITM_EXIT_DATA, "no service of the stack has x-itm.data");
      return itm_err_hint (err, "add x-itm.data: postgres (or redis, or create/drop steps) to "
                                "the service that holds the data");
    }
  cleanup_state struct state *s = NULL;
  if (state_load (e, ns, &s, err) < 0)
    return -1;
  cleanup_close int lock = reg_lock (ns, err);
  if (lock < 0)
    return -1;
  cleanup_json json_object *old = reg_read (ns, name);
  if (old)
    {
      itm_err_set (err, ITM_EXIT_DATA, "data namespace '%s' exists in namespace '%s'", name, ns);
      return itm_err_hint (err, "drop it first ('itm-env ns drop %s') or pick another name", name);
    }
  cleanup_json json_object *entry = json_object_new_object ();
  json_object *svcs = json_object_new_array ();
  char tbuf[32];
  ns_format_time (time (NULL), tbuf);
  json_object_object_add (entry, "name", json_object_new_string (name));
  json_object_object_add (entry, "created", json_object_new_string (tbuf));
  json_object_object_add (entry, "services", svcs);
  conn_vars_add (vars, "ITM_DATA_NS", name);
  int ret = 0;
  for (size_t i = 0; i < st->nservices && ret == 0; i++)
    {
      const struct stack_service *svc = &st->services[i];
      json_object *spec = NULL;
      if (!svc->x_itm || !json_object_object_get_ex (svc->x_itm, "data", &spec) || !spec)
        continue;
      const struct state_container *c = NULL;
      const char *cid = running_cid (s, svc->name, &c);
      if (cid == NULL)
        {
          ret = itm_err_set (err, ITM_EXIT_NOT_FOUND,
                             "service '%s' has no running container in namespace '%s'",
                             svc->name, ns);
          itm_err_hint (err, "is it up? ('itm-env up -p %s')", ns);
          break;
        }
      json_object *se = json_object_new_object ();
      json_object_object_add (se, "service", json_object_new_string (svc->name));
      const char *kind = json_object_is_type (spec, json_type_string)
                           ? json_object_get_string (spec) : "custom";
      json_object_object_add (se, "kind", json_object_new_string (kind));
      if (strcmp (kind, "postgres") == 0)
        ret = pg_create (e, cid, svc, name, se, vars, c, err);
      else if (strcmp (kind, "redis") == 0)
        ret = redis_create (e, cid, svc, ns, se, vars, c, err);
      else
        ret = custom_create (e, cid, svc, spec, name, se, vars, c, err);
      if (ret == 0)
        json_object_array_add (svcs, se);
      else
        {
          /* what a custom create left half-made: its drop steps */
          if (strcmp (kind, "postgres") != 0 && strcmp (kind, "redis") != 0)
            json_object_array_add (svcs, se);
          else
            json_object_put (se);
        }
      /* the registry knows each piece as soon as it exists (a crash in
       * between leaves it droppable) */
      if (json_object_array_length (svcs))
        {
          cleanup_err struct itm_err e2 = { 0 };
          if (reg_write (ns, name, entry, &e2) < 0 && ret == 0)
            {
              itm_err_move (err, &e2);
              ret = -1;
            }
        }
    }
  if (ret < 0)
    {
      cleanup_err struct itm_err e2 = { 0 };
      drop_entry (e, s, entry, &e2);
      reg_remove (ns, name);
      conn_vars_free (vars);
    }
  return ret;
}

void
data_default_vars (const struct stack *st, const struct state *s, const char *const *services,
                   size_t nservices, struct conn_vars *out)
{
  for (size_t i = 0; st && i < st->nservices; i++)
    {
      const struct stack_service *svc = &st->services[i];
      json_object *spec = NULL;
      if (!svc->x_itm || !json_object_object_get_ex (svc->x_itm, "data", &spec) || !spec
          || !json_object_is_type (spec, json_type_string))
        continue;
      bool sel = nservices == 0;
      for (size_t k = 0; k < nservices && !sel; k++)
        sel = strcmp (services[k], svc->name) == 0;
      const struct state_container *c = sel ? conn_container (s, svc->name) : NULL;
      if (c == NULL)
        continue;
      if (strcmp (json_object_get_string (spec), "postgres") == 0)
        {
          struct data_pg pg;
          data_pg_creds (svc, NULL, &pg);
          pg_vars (out, svc->name, c, &pg, pg.db);
        }
      else if (strcmp (json_object_get_string (spec), "redis") == 0)
        redis_vars (out, svc->name, c, data_svc_env (svc, "REDIS_PASSWORD"), 0);
    }
}

int
data_ns_drop (struct engine *e, const char *ns, const char *name, struct itm_err *err)
{
  if (data_ns_check_name (name, err) < 0)
    return -1;
  cleanup_close int lock = reg_lock (ns, err);
  if (lock < 0)
    return -1;
  cleanup_json json_object *entry = reg_read (ns, name);
  if (entry == NULL)
    return itm_err_set (err, ITM_EXIT_NOT_FOUND, "no data namespace '%s' in namespace '%s'", name,
                        ns);
  cleanup_state struct state *s = NULL;
  if (state_load (e, ns, &s, err) < 0 || drop_entry (e, s, entry, err) < 0)
    return -1;
  reg_remove (ns, name);
  return 0;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
data_ns_list (const char *ns, json_object **out, struct itm_err *err)
{
  *out = json_object_new_array ();
  cleanup_free char *d = reg_dir (ns, false, err);
  if (d == NULL)
    {
      json_object_put (*out);
      *out = NULL;
      return -1;
    }
  DIR *dir = opendir (d);
  if (dir == NULL)
    return 0;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      size_t l = strlen (de->d_name);
      if (de->d_name[0] == '.' || l < 6 || strcmp (de->d_name + l - 5, ".json") != 0)
        continue;
      names = xgrow (names, &cap, n + 1, sizeof *names);
      names[n++] = xstrndup (de->d_name, l - 5);
    }
  closedir (dir);
  if (n)
    qsort (names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++)
    {
      json_object *en = reg_read (ns, names[i]);
      if (en)
        json_object_array_add (*out, en);
      free (names[i]);
    }
  free (names);
  return 0;
}

int
data_ns_drop_all (struct engine *e, const char *ns, struct itm_err *err)
{
  cleanup_json json_object *all = NULL;
  cleanup_err struct itm_err e2 = { 0 };
  if (data_ns_list (ns, &all, &e2) < 0)
    return 0;
  int ret = 0;
  for (size_t i = 0; i < json_object_array_length (all); i++)
    {
      const char *name = data_jstr (json_object_array_get_idx (all, i), "name");
      if (name == NULL)
        continue;
      struct itm_err e3 = { 0 };
      if (data_ns_drop (e, ns, name, &e3) < 0)
        {
          out_warn ("dropping data namespace %s: %s", name, e3.msg ? e3.msg : "failed");
          if (!itm_err_isset (err))
            itm_err_move (err, &e3);
          ret = -1;
        }
      itm_err_clear (&e3);
    }
  return ret;
}
