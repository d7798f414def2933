/* cmd-gc.c - itm-env gc: remove the namespaces nobody will remove: those
 * whose owner process is gone (created on this host by a process that no
 * longer runs, and not handed over to the user by a successful up) and
 * those whose expiry label has passed.  Nothing without our label is ever
 * looked at.
 *
 * Also the crash-safety watchdog's entry point (hidden options
 * --watchdog NS --watchdog-fd FD, src/verify/watchdog.c). */
#include <config.h>

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "util/xalloc.h"
#include "verify/verify.h"
#include "out/out.h"

enum {
  OPT_JSON = OPT_FIRST_COMMAND_OPT,
  OPT_DRY_RUN,
  OPT_OLDER_THAN,
  OPT_WATCHDOG,
  OPT_WATCHDOG_FD,
};

struct gc_ns {
  char *ns;
  char *host;
  long pid;
  time_t created;       /* earliest, 0 unknown */
  time_t expires;       /* earliest, 0 unknown */
  size_t nc, nn, nv;
};

static struct gc_ns *
find_or_add (struct gc_ns **v, size_t *n, size_t *cap, const char *ns)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*v)[i].ns, ns) == 0)
      return &(*v)[i];
  *v = xgrow (*v, cap, *n + 1, sizeof **v);
  (*v)[*n] = (struct gc_ns){ .ns = xstrdup (ns) };
  return &(*v)[(*n)++];
}

static const char *
lbl (json_object *o, const char *name)
{
  json_object *l, *v;
  if (!json_object_object_get_ex (o, "Labels", &l) || !json_object_is_type (l, json_type_object)
      || !json_object_object_get_ex (l, name, &v))
    return NULL;
  return json_object_get_string (v);
}

static void
account (struct gc_ns *g, json_object *o)
{
  const char *h = lbl (o, ITM_LABEL_CREATOR_HOST), *p = lbl (o, ITM_LABEL_CREATOR_PID);
  const char *c = lbl (o, ITM_LABEL_CREATED), *x = lbl (o, ITM_LABEL_EXPIRES);
  time_t t;
  if (h && g->host == NULL)
    g->host = xstrdup (h);
  if (p && g->pid == 0)
    g->pid = atol (p);
  if (c && ns_parse_time (c, &t) == 0 && (g->created == 0 || t < g->created))
    g->created = t;
  if (x && ns_parse_time (x, &t) == 0 && (g->expires == 0 || t < g->expires))
    g->expires = t;
}

/* When process pid started (unix time), from /proc; 0 when unknown. */
static time_t
proc_start (long pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return 0;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  char *p = strrchr (buf, ')');   /* comm may hold spaces */
  if (p == NULL)
    return 0;
  unsigned long long ticks = 0;
  /* after ')': field 3 (state) ... field 22 (starttime) */
  int field = 2;
  for (char *tok = strtok (p + 1, " "); tok; tok = strtok (NULL, " "))
    if (++field == 22)
      {
        ticks = strtoull (tok, NULL, 10);
        break;
      }
  f = fopen ("/proc/stat", "r");
  if (f == NULL)
    return 0;
  char line[256];
  unsigned long long btime = 0;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "btime %llu", &btime) == 1)
      break;
  fclose (f);
  long hz = sysconf (_SC_CLK_TCK);
  if (btime == 0 || hz <= 0)
    return 0;
  return (time_t) (btime + ticks / (unsigned long long) hz);
}

/* Whether the owner of g is gone: created on this host by a process that
 * does not exist, or whose pid now belongs to a process started after the
 * namespace was created (pid reuse).  NULL when not gone, else why. */
static char *
owner_gone (const struct gc_ns *g, const char *host)
{
  if (g->host == NULL || strcmp (g->host, host) != 0 || g->pid <= 0)
    return NULL;
  if (kill ((pid_t) g->pid, 0) < 0 && errno == ESRCH)
    return xasprintf ("owner process %ld on %s is gone", g->pid, host);
  time_t st = proc_start (g->pid);
  if (st && g->created && st > g->created + 2)
    return xasprintf ("owner process %ld on %s is gone (the pid now belongs to a process "
                      "started after the namespace was created)", g->pid, host);
  return NULL;
}

static int
list_labelled (struct engine *e, const char *what, json_object **out, struct itm_err *err)
{
  const char *key = ITM_LABEL_NAMESPACE;
  cleanup_free char *f = engine_filters ("label", &key, 1);
  cleanup_free char *p = xasprintf ("/%s%sfilters=%s", what,
                                    strcmp (what, "containers/json") == 0 ? "?all=1&" : "?", f);
  json_object *res = NULL;
  if (engine_get (e, p, &res, err) < 0)
    return -1;
  if (strcmp (what, "volumes") == 0)
    {
      json_object *v = NULL;
      json_object_object_get_ex (res, "Volumes", &v);
      *out = v && json_object_is_type (v, json_type_array) ? json_object_get (v)
                                                           : json_object_new_array ();
      json_object_put (res);
      return 0;
    }
  *out = res;
  return json_object_is_type (res, json_type_array)
           ? 0 : itm_err_set (err, ITM_EXIT_ENGINE, "the engine's %s list is not an array", what);
}

static int
gc_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  static const struct option longopts[] = {
    { "host", required_argument, NULL, 'H' },
    { "namespace", required_argument, NULL, 'p' },
    { "dry-run", no_argument, NULL, 'n' },
    { "older-than", required_argument, NULL, OPT_OLDER_THAN },
    { "json", no_argument, NULL, OPT_JSON },
    { "watchdog", required_argument, NULL, OPT_WATCHDOG },
    { "watchdog-fd", required_argument, NULL, OPT_WATCHDOG_FD },
    { NULL, 0, NULL, 0 },
  };
  bool dry = false, json = false;
  int64_t older_ns = 0;
  const char *watch = NULL, *only = NULL;
  int watch_fd = -1;
  int opt;
  while ((opt = getopt_long (argc, argv, ":H:p:n", longopts, NULL)) != -1)
    {
      switch (opt)
        {
        case 'H':
          ctx->host = optarg;
          break;
        case 'p':
          if (ns_check (optarg, "-p", err) < 0)
            return -1;
          only = optarg;
          break;
        case 'n':
          dry = true;
          break;
        case OPT_OLDER_THAN:
          if (cmd_parse_secs ("gc", "--older-than", optarg, &older_ns, err) < 0)
            return -1;
          break;
        case OPT_JSON:
          json = true;
          ctx->json_errors = true;
          break;
        case OPT_WATCHDOG:
          watch = optarg;
          break;
        case OPT_WATCHDOG_FD:
          watch_fd = atoi (optarg);
          break;
        default:
          return cmd_bad_option (&cmd_gc, argv, opt, err);
        }
    }
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "gc: unexpected argument '%s'", argv[optind]);
  if (only == NULL && ctx->namespace && !watch)
    {
      if (ns_check (ctx->namespace, "-p", err) < 0)
        return -1;
      only = ctx->namespace;
    }
  if (watch)
    {
      /* the watchdog: block on the pipe; the engine is needed only when
       * the owner died */
      if (ns_check (watch, "--watchdog", err) < 0)
        return -1;
      if (watch_fd < 0)
        return itm_err_set (err, ITM_EXIT_USAGE, "gc: --watchdog needs --watchdog-fd");
      if (watchdog_wait (watch, watch_fd))
        return 0;
      struct engine *e = ctx_engine (ctx, err);
      if (e == NULL)
        return -1;
      return watchdog_clean (e, watch, err);
    }

  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  struct gc_ns *v = NULL;
  size_t n = 0, cap = 0;
  static const char *const kinds[] = { "containers/json", "networks", "volumes" };
  for (size_t k = 0; k < 3; k++)
    {
      json_object *l = NULL;
      if (list_labelled (e, kinds[k], &l, err) < 0)
        goto fail;
      for (size_t i = 0; i < json_object_array_length (l); i++)
        {
          json_object *o = json_object_array_get_idx (l, i);
          const char *ns = lbl (o, ITM_LABEL_NAMESPACE);
          if (ns == NULL || (only && strcmp (ns, only) != 0))
            continue;
          struct gc_ns *g = find_or_add (&v, &n, &cap, ns);
          account (g, o);
          if (k == 0)
            g->nc++;
          else if (k == 1)
            g->nn++;
          else
            g->nv++;
        }
      json_object_put (l);
    }

  time_t now = time (NULL);
  json_object *jrem = json_object_new_array (), *jkept = json_object_new_array ();
  size_t nrem = 0, nkept = 0, nfail = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct gc_ns *g = &v[i];
      cleanup_free char *why = NULL;
      char t[32];
      if (g->expires && g->expires <= now)
        {
          ns_format_time (g->expires, t);
          why = xasprintf ("expired at %s", t);
        }
      else if (!watchdog_released (g->ns))
        why = owner_gone (g, host);
      const char *keep_why = NULL;
      if (why && older_ns > 0 && g->created
          && (int64_t) (now - g->created) * 1000000000LL < older_ns)
        keep_why = "younger than --older-than";
      if (why == NULL || keep_why)
        {
          nkept++;
          json_object *o = json_object_new_object ();
          json_object_object_add (o, "namespace", json_object_new_string (g->ns));
          json_object_object_add (o, "reason", json_object_new_string (
                                    keep_why ? keep_why
                                    : g->host && strcmp (g->host, host) != 0
                                      ? "not expired (created on another host)"
                                      : "not expired, owner alive or released"));
          json_object_array_add (jkept, o);
          if (ctx->verbose && !json)
            printf ("kept %s: %s\n", g->ns, json_object_get_string (
                                           json_object_object_get (o, "reason")));
          continue;
        }
      bool ok = true;
      if (!dry)
        {
          struct prov_down_opts d = { .ns = g->ns, .grace_s = -1 };
          cleanup_err struct itm_err derr = { 0 };
          out_init (OUT_QUIET, false);
          if (prov_down (e, &d, &derr) < 0)
            {
              ok = false;
              nfail++;
              fprintf (stderr, "itm-env: warning: gc: namespace %s: %s\n", g->ns, derr.msg);
            }
          else
            {
              cleanup_err struct itm_err serr = { 0 };
              ns_state_remove (g->ns, &serr);
            }
        }
      if (ok)
        nrem++;
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "namespace", json_object_new_string (g->ns));
      json_object_object_add (o, "reason", json_object_new_string (why));
      json_object_object_add (o, "containers", json_object_new_int64 ((int64_t) g->nc));
      json_object_object_add (o, "networks", json_object_new_int64 ((int64_t) g->nn));
      json_object_object_add (o, "volumes", json_object_new_int64 ((int64_t) g->nv));
      json_object_object_add (o, "removed", json_object_new_boolean (ok && !dry));
      json_object_array_add (jrem, o);
      if (!json)
        printf ("%s %s (%zu containers, %zu networks, %zu volumes): %s%s\n",
                dry ? "would remove" : ok ? "removed" : "FAILED to remove", g->ns, g->nc, g->nn,
                g->nv, why, ok ? "" : " (see the warning above)");
    }
  if (json)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "dry_run", json_object_new_boolean (dry));
      json_object_object_add (o, "removed", jrem);
      json_object_object_add (o, "kept", jkept);
      print_json (o);
      json_object_put (o);
    }
  else
    {
      printf ("gc: %s %zu namespace%s, kept %zu\n", dry ? "would remove" : "removed", nrem,
              nrem == 1 ? "" : "s", nkept);
      json_object_put (jrem);
      json_object_put (jkept);
    }
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].ns);
      free (v[i].host);
    }
  free (v);
  if (nfail)
    return itm_err_set (err, ITM_EXIT_ENGINE, "gc: %zu namespace%s could not be removed", nfail,
                        nfail == 1 ? "" : "s");
  return 0;
fail:
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].ns);
      free (v[i].host);
    }
  free (v);
  return -1;
}

const struct itm_cmd cmd_gc = {
  .name = "gc",
  .usage = "[--dry-run] [--older-than DURATION] [-p NAMESPACE] [--json]",
  .summary = "remove namespaces whose owner is gone or whose expiry has passed",
  .help =
  "  -n, --dry-run              say what would be removed, remove nothing\n"
  "      --older-than DURATION  only namespaces created at least DURATION ago\n"
  "  -p, --namespace NS         only this namespace\n"
  "      --json                 the result as one JSON object on stdout\n"
  "  -H, --host HOST            engine address\n",
  .fn = gc_main,
};
