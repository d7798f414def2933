/* check.c - x-itm.verify: data checks, each a command whose output must
 * match.
 *
 *   x-itm:
 *     verify:
 *       - sql: "SELECT count(*) FROM items"   # psql -tA, as POSTGRES_USER, the
 *                                            # query on its stdin (never in
 *                                            # a process's arguments)
 *         expect: "10000"                      # exact (trailing blanks ignored)
 *       - exec: ["cat", "/seed/ok"]
 *         expect: "regex:^ok"                  # POSIX extended regular expression
 *       - redis: "GET greeting"                # redis-cli with these arguments
 *         expect: hello
 *
 * A check passes when its command exits 0 and its output matches. */
#include <config.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/priv.h"
#include "engine/engine.h"
#include "report/report.h"
#include "stack/stack.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/strv.h"

static const char *const verify_keys[] = { "expect", "name", NULL };

static void
trim (struct buf *b)
{
  while (b->len && strchr ("\n\r\t ", b->data[b->len - 1]))
    b->data[--b->len] = '\0';
}

static bool
matches (const char *expect, const char *actual, struct itm_err *err, int *bad)
{
  if (strncmp (expect, "regex:", 6) == 0)
    {
      regex_t re;
      int rc = regcomp (&re, expect + 6, REG_EXTENDED | REG_NOSUB);
      if (rc != 0)
        {
          char msg[256];
          regerror (rc, &re, msg, sizeof msg);
          itm_err_set (err, ITM_EXIT_STACK, "x-itm.verify: bad regular expression '%s': %s",
                       expect + 6, msg);
          *bad = 1;
          return false;
        }
      bool ok = regexec (&re, actual, 0, NULL, 0) == 0;
      regfree (&re);
      return ok;
    }
  size_t l = strlen (expect);
  while (l && strchr ("\n\r\t ", expect[l - 1]))
    l--;
  return strlen (actual) == l && strncmp (expect, actual, l) == 0;
}

static int
run_check (struct engine *e, const struct stack_service *svc, const char *cid, json_object *chk,
           struct buf *out, int *ec, struct itm_err *err)
{
  const char *kind = data_step_kind (chk);
  json_object *v = NULL;
  json_object_object_get_ex (chk, kind, &v);
  if (strcmp (kind, "sql") == 0)
    {
      struct data_pg pg;
      json_object *db = NULL;
      json_object_object_get_ex (chk, "database", &db);
      data_pg_creds (svc, db ? json_object_get_string (db) : NULL, &pg);
      /* the query on psql's standard input, from the exec's environment:
       * never on a command line (the host's process table shows those) */
      static const char script[] =
        "printf '%s\\n' \"$ITM_SQL\" | psql -X -v ON_ERROR_STOP=1 -tA -U \"$1\" -d \"$2\"";
      const char *argv[] = { "sh", "-c", script, "sh", pg.user, pg.db, NULL };
      cleanup_free char *q = xasprintf ("ITM_SQL=%s", json_object_get_string (v));
      cleanup_free char *pw = pg.password ? xasprintf ("PGPASSWORD=%s", pg.password) : NULL;
      const char *env[] = { q, pw, NULL };
      struct data_exec x = { .argv = argv, .env = env };
      return data_exec_run (e, cid, &x, out, ec, err);
    }
  if (strcmp (kind, "redis") == 0)
    {
      cleanup_free char *script = xasprintf ("redis-cli %s", json_object_get_string (v));
      return data_run_redis (e, cid, data_svc_env (svc, "REDIS_PASSWORD"), script, out, ec, err);
    }
  if (strcmp (kind, "exec") == 0)
    {
      char **argv = data_exec_argv (chk, "x-itm.verify", err);
      if (argv == NULL)
        return -1;
      struct data_exec x = { .argv = (const char *const *) argv };
      int rc = data_exec_run (e, cid, &x, out, ec, err);
      strv_free (argv);
      return rc;
    }
  return itm_err_set (err, ITM_EXIT_STACK, "x-itm.verify: a check is exec, sql or redis");
}

int
data_verify (struct engine *e, const struct stack *st, const char *ns, FILE *f,
             struct itm_err *err)
{
  cleanup_state struct state *s = NULL;
  if (state_load (e, ns, &s, err) < 0)
    return -1;
  size_t nchecks = 0, nfailed = 0;
  int ret = 0;
  for (size_t i = 0; i < st->nservices && ret == 0; i++)
    {
      const struct stack_service *svc = &st->services[i];
      json_object *list = NULL;
      if (!svc->x_itm || !json_object_object_get_ex (svc->x_itm, "verify", &list) || !list)
        continue;
      if (!json_object_is_type (list, json_type_array))
        {
          ret = itm_err_set (err, ITM_EXIT_STACK, "%s: x-itm.verify: expected a list", svc->name);
          break;
        }
      size_t nc = 0;
      struct state_container *c = state_service (s, svc->name, &nc);
      const char *cid = NULL;
      for (size_t k = 0; c && k < nc; k++)
        if (strcmp (c[k].state, "running") == 0)
          {
            cid = c[k].id;
            break;
          }
      for (size_t k = 0; k < json_object_array_length (list) && ret == 0; k++)
        {
          json_object *chk = json_object_array_get_idx (list, k);
          cleanup_free char *what = xasprintf ("%s: x-itm.verify[%zu]", svc->name, k);
          if (data_step_validate (chk, what, verify_keys, err) < 0)
            {
              ret = -1;
              break;
            }
          const char *kind = data_step_kind (chk);
          if (strcmp (kind, "copy") == 0)
            {
              ret = itm_err_set (err, ITM_EXIT_STACK, "%s: a check is exec, sql or redis", what);
              break;
            }
          json_object *ex = NULL, *nm = NULL, *v = NULL;
          json_object_object_get_ex (chk, "expect", &ex);
          json_object_object_get_ex (chk, "name", &nm);
          json_object_object_get_ex (chk, kind, &v);
          cleanup_free char *label = nm ? xstrdup (json_object_get_string (nm))
                                        : xasprintf ("%s %s", kind, json_object_to_json_string_ext (
                                                                      v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
          cleanup_free char *mlabel = data_mask (label);
          nchecks++;
          if (cid == NULL)
            {
              fprintf (f, "FAILED %s: %s\n  service %s has no running container\n", svc->name,
                      mlabel, svc->name);
              nfailed++;
              continue;
            }
          cleanup_buf struct buf out = { 0 };
          int ec = 0, bad = 0;
          int64_t ts = mono_ns ();
          if (run_check (e, svc, cid, chk, &out, &ec, err) < 0)
            {
              ret = -1;
              break;
            }
          trim (&out);
          data_mask_buf (&out);
          const char *expect = ex ? json_object_get_string (ex) : NULL;
          bool ok = ec == 0 && (expect == NULL || matches (expect, out.data, err, &bad));
          if (bad)
            {
              ret = -1;
              break;
            }
          cleanup_free char *mexpect = expect ? data_mask (expect) : NULL;
          report_check (report_current (), svc->name, mlabel, ok, mono_ns () - ts, mexpect,
                        out.data);
          if (ok)
            fprintf (f, "ok     %s: %s\n", svc->name, mlabel);
          else
            {
              nfailed++;
              fprintf (f, "FAILED %s: %s\n", svc->name, mlabel);
              if (ec != 0)
                fprintf (f, "  exit code: %d\n", ec);
              if (mexpect)
                fprintf (f, "  expected: %s\n", mexpect);
              fprintf (f, "  actual:   %s\n", out.data);
            }
        }
    }
  fflush (f);
  if (ret < 0)
    return -1;
  if (nfailed)
    return itm_err_set (err, ITM_EXIT_DATA, "%zu of %zu data check%s failed", nfailed,
                        nchecks, nchecks == 1 ? "" : "s");
  return 0;
}
