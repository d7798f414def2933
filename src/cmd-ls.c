/* cmd-ls.c - itm-env ls: every namespace on the engine, with the status of
 * its containers, its owner and its expiry (gc's scan and verdict, plus
 * one list of every labelled container for the states). */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ns/ns.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

/* "exited(1), running(2)": the states of ns's containers, by name; "-"
 * when it has none. */
static char *
status_of (json_object *ctrs, const char *ns)
{
  const char *names[16];
  int counts[16];
  size_t k = 0;
  for (size_t i = 0; i < json_object_array_length (ctrs); i++)
    {
      json_object *c = json_object_array_get_idx (ctrs, i);
      const char *cns = json_label (c, ITM_LABEL_NAMESPACE), *st = json_str (c, "State");
      if (cns == NULL || strcmp (cns, ns) != 0)
        continue;
      if (st == NULL)
        st = "unknown";
      size_t j = 0;
      while (j < k && strcmp (names[j], st) != 0)
        j++;
      if (j == k && k < 16)
        {
          size_t at = 0;
          while (at < k && strcmp (names[at], st) < 0)
            at++;
          memmove (names + at + 1, names + at, (k - at) * sizeof *names);
          memmove (counts + at + 1, counts + at, (k - at) * sizeof *counts);
          names[at] = st;
          counts[at] = 0;
          j = at;
          k++;
        }
      if (j < k)
        counts[j]++;
    }
  if (k == 0)
    return xstrdup ("-");
  struct buf b = { 0 };
  for (size_t j = 0; j < k; j++)
    buf_addf (&b, "%s%s(%d)", j ? ", " : "", names[j], counts[j]);
  return buf_steal (&b);
}

/* The first io.itm-env.stack-files label of ns's containers, or NULL. */
static const char *
files_of (json_object *ctrs, const char *ns)
{
  for (size_t i = 0; i < json_object_array_length (ctrs); i++)
    {
      json_object *c = json_object_array_get_idx (ctrs, i);
      const char *cns = json_label (c, ITM_LABEL_NAMESPACE);
      if (cns && strcmp (cns, ns) == 0 && json_label (c, ITM_LABEL_STACK_FILES))
        return json_label (c, ITM_LABEL_STACK_FILES);
    }
  return NULL;
}

static char *
owner_text (json_object *o)
{
  const char *h = json_str (o, "owner_host");
  int64_t pid = json_int (o, "owner_pid", 0);
  json_object *alive = json_path (o, "owner_alive");
  if (h == NULL)
    return xstrdup ("-");
  return xasprintf ("%s/%lld%s", h, (long long) pid,
                    alive && !json_object_get_boolean (alive) && !json_object_get_boolean (
                      json_path (o, "released")) ? " (gone)" : "");
}

static int
ls_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false, quiet = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_ls, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_JSON)
      json = true;
    else if (opt == 'q')
      quiet = true;
  if (opt < 0)
    return -1;
  if (optind < argc)
    return itm_err_set (err, ITM_EXIT_USAGE, "ls: unexpected argument '%s'", argv[optind]);
  struct engine *e = ctx_engine (ctx, err);
  if (e == NULL)
    return -1;
  cleanup_json json_object *list = NULL, *ctrs = NULL;
  if (gc_list_json (e, ctx->namespace, &list, err) < 0
      || state_list_ours (e, "containers", NULL, &ctrs, err) < 0)
    return -1;
  size_t n = json_object_array_length (list);
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx (list, i);
      const char *ns = json_str (o, "namespace");
      const char *f = files_of (ctrs, ns);
      char *st = status_of (ctrs, ns);
      json_object_object_add (o, "status", json_object_new_string (st));
      free (st);
      json_object_object_add (o, "stack_files", f ? json_object_new_string (f) : NULL);
    }
  if (json)
    {
      print_json (list);
      return 0;
    }
  if (quiet)
    {
      for (size_t i = 0; i < n; i++)
        printf ("%s\n", json_str (json_object_array_get_idx (list, i), "namespace"));
      return 0;
    }
  static const char *const head[] = { "NAMESPACE", "STATUS", "OWNER", "EXPIRES", "STACK FILES" };
  enum { NCOL = 5 };
  char **cells = xcalloc ((n + 1) * NCOL, sizeof *cells);
  for (size_t k = 0; k < NCOL; k++)
    cells[k] = xstrdup (head[k]);
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx (list, i);
      char **r = &cells[(i + 1) * NCOL];
      const char *x = json_str (o, "expires"), *f = json_str (o, "stack_files");
      r[0] = xstrdup (json_str (o, "namespace"));
      r[1] = xstrdup (json_str (o, "status"));
      r[2] = owner_text (o);
      r[3] = xstrdup (x ? x : "-");
      r[4] = xstrdup (f ? f : "-");
      if (strcmp (r[1], "-") == 0)
        {
          free (r[1]);
          r[1] = xasprintf ("no containers (%lld networks, %lld volumes)",
                            (long long) json_int (o, "networks", 0),
                            (long long) json_int (o, "volumes", 0));
        }
    }
  cmd_print_table (cells, n + 1, NCOL);
  return 0;
}

static const struct itm_opt ls_opts[] = {
  { .group = cmd_stack_opts, .hidden = true },
  { OPT_NAMESPACE, 'p', "namespace", OPT_ARG_REQUIRED, "NS", "only this namespace" },
  { 'a', 'a', "all", OPT_ARG_NONE, NULL, NULL },   /* Compose's; ls always shows all */
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "only the namespaces' names" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "a JSON array of objects instead of the table" },
  { 0 },
};

const struct itm_cmd cmd_ls = {
  .name = "ls",
  .summary = "list every namespace on the engine: status, owner, expiry",
  .opts = ls_opts,
  .fn = ls_main,
};
