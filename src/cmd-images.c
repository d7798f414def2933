/* cmd-images.c - itm-env images: the images the namespace's containers
 * use (their reference, id and size), as Compose lists them. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/engine.h"
#include "ns/ns.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"

enum { OPT_JSON = OPT_FIRST_COMMAND_OPT };

static bool
selected (const char *service, char **services, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (services[i], service) == 0)
      return true;
  return n == 0;
}

/* "1.24MB", as docker prints sizes (powers of 1000). */
static void
human_size (long long b, char out[32])
{
  static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
  double v = (double) b;
  size_t u = 0;
  while (v >= 1000 && u + 1 < sizeof unit / sizeof unit[0])
    v /= 1000, u++;
  snprintf (out, 32, u ? "%.3g%s" : "%.0f%s", v, unit[u]);
}

/* repository and tag of a reference ("a/b:1" -> "a/b", "1"; no tag: "latest";
 * a digest: "<none>"). */
static void
split_ref (const char *ref, char **repo, char **tag)
{
  const char *at = strchr (ref, '@');
  const char *slash = strrchr (ref, '/');
  const char *colon = strrchr (ref, ':');
  if (at)
    {
      *repo = xstrndup (ref, (size_t) (at - ref));
      *tag = xstrdup ("<none>");
    }
  else if (colon && (slash == NULL || colon > slash))
    {
      *repo = xstrndup (ref, (size_t) (colon - ref));
      *tag = xstrdup (colon + 1);
    }
  else
    {
      *repo = xstrdup (ref);
      *tag = xstrdup ("latest");
    }
}

/* by service, then container */
static int
cmp_rows (const void *a, const void *b)
{
  json_object *x = *(json_object *const *) a, *y = *(json_object *const *) b;
  int c = strcmp (json_str (x, "service"), json_str (y, "service"));
  return c ? c : strcmp (json_str (x, "container"), json_str (y, "container"));
}

static int
images_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  bool json = false, quiet = false;
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_images, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_JSON)
      json = true;
    else if (opt == 'q')
      quiet = true;
  if (opt < 0)
    return -1;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  struct engine *e = ctx_engine (ctx, err);
  cleanup_json json_object *list = NULL;
  if (e == NULL || state_list_ours (e, "containers", ns, &list, err) < 0)
    return -1;
  size_t n = json_object_array_length (list);
  for (size_t i = 0; i < nservices; i++)
    {
      bool found = false;
      for (size_t k = 0; k < n && !found; k++)
        {
          const char *s = json_label (json_object_array_get_idx (list, k), ITM_LABEL_SERVICE);
          found = s && strcmp (s, services[i]) == 0;
        }
      if (!found)
        {
          cleanup_state struct state *st = NULL;
          if (ctx_state (ctx, ns, true, &st, err) < 0)
            return -1;
          return state_no_service (st, services[i], err);
        }
    }
  cleanup_json json_object *rows = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    {
      json_object *c = json_object_array_get_idx (list, i);
      const char *svc = json_label (c, ITM_LABEL_SERVICE), *id = json_str (c, "ImageID");
      json_object *names = json_path (c, "Names");
      const char *nm = names ? json_object_get_string (json_object_array_get_idx (names, 0)) : NULL;
      if (svc == NULL || !selected (svc, services, nservices))
        continue;
      long long size = -1;
      if (id)
        {
          cleanup_free char *p = xasprintf ("/images/%s/json", id);
          cleanup_json json_object *img = NULL;
          cleanup_err struct itm_err ierr = { 0 };
          if (engine_get (e, p, &img, &ierr) == 0)
            size = (long long) json_int (img, "Size", -1);
        }
      char *repo, *tag;
      split_ref (json_str (c, "Image") ? json_str (c, "Image") : "", &repo, &tag);
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "service", json_object_new_string (svc));
      json_object_object_add (o, "container", json_object_new_string (nm ? nm + (*nm == '/') : ""));
      json_object_object_add (o, "repository", json_object_new_string (repo));
      json_object_object_add (o, "tag", json_object_new_string (tag));
      json_object_object_add (o, "id", id ? json_object_new_string (id) : NULL);
      json_object_object_add (o, "size", size >= 0 ? json_object_new_int64 (size) : NULL);
      json_object_array_add (rows, o);
      free (repo);
      free (tag);
    }
  json_object_array_sort (rows, cmp_rows);
  size_t nr = json_object_array_length (rows);
  if (json)
    {
      print_json (rows);
      return 0;
    }
  if (quiet)
    {
      for (size_t i = 0; i < nr; i++)
        {
          const char *id = json_str (json_object_array_get_idx (rows, i), "id");
          bool seen = id == NULL;
          for (size_t k = 0; k < i && !seen; k++)
            seen = json_str (json_object_array_get_idx (rows, k), "id")
                   && strcmp (json_str (json_object_array_get_idx (rows, k), "id"), id) == 0;
          if (!seen)
            printf ("%s\n", id);
        }
      return 0;
    }
  enum { NCOL = 5 };
  static const char *const head[] = { "CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE" };
  char **cells = xcalloc ((nr + 1) * NCOL, sizeof *cells);
  for (size_t k = 0; k < NCOL; k++)
    cells[k] = xstrdup (head[k]);
  for (size_t i = 0; i < nr; i++)
    {
      json_object *o = json_object_array_get_idx (rows, i);
      char **r = &cells[(i + 1) * NCOL];
      const char *id = json_str (o, "id");
      char sz[32] = "-";
      if (json_path (o, "size"))
        human_size ((long long) json_int (o, "size", 0), sz);
      r[0] = xstrdup (json_str (o, "container"));
      r[1] = xstrdup (json_str (o, "repository"));
      r[2] = xstrdup (json_str (o, "tag"));
      r[3] = id ? xstrndup (id + (strncmp (id, "sha256:", 7) == 0 ? 7 : 0), 12) : xstrdup ("-");
      r[4] = xstrdup (sz);
    }
  cmd_print_table (cells, nr + 1, NCOL);
  return 0;
}

static const struct itm_opt images_opts[] = {
  { .group = cmd_stack_opts },
  { 'q', 'q', "quiet", OPT_ARG_NONE, NULL, "only the image ids" },
  { OPT_JSON, 0, "json", OPT_ARG_NONE, NULL, "a JSON array of objects instead of the table" },
  { 0 },
};

const struct itm_cmd cmd_images = {
  .name = "images",
  .args = "[SERVICE...]",
  .summary = "list the images the namespace's containers use",
  .opts = images_opts,
  .fn = images_main,
};
