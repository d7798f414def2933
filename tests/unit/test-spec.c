/* test-spec.c - the engine request bodies of src/prov/spec.c, data-driven:
 * every tests/spec/NAME.yml is loaded as a stack and each service's
 * POST /containers/create body (with a fixed namespace, ttl, hash and API
 * version), the extra networks it is connected to, its secrets and configs
 * as they go into the container, and the networks' and volumes' create
 * bodies are compared with tests/spec/NAME.json.
 *
 * What changes from run to run is replaced: the created/expires times,
 * the creator's host and pid, itm-env's version, and the case directory
 * (written "<dir>").  ITM_SPEC_REGEN=1 writes the .json files instead of
 * comparing (review the diff before committing it). */
#include <config.h>

#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "tap.h"
#include "util/file.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define NS "spec-ns"
#define TTL 3600
#define HASH "0123456789abcdef"
#define API "1.44"

/* Replace the labels whose values change from run to run. */
static void
fix_labels (json_object *labels)
{
  static const char *const varying[] = { ITM_LABEL_CREATED, ITM_LABEL_EXPIRES,
                                         ITM_LABEL_CREATOR_HOST, ITM_LABEL_CREATOR_PID,
                                         ITM_LABEL_VERSION, "com.docker.compose.version" };
  for (size_t i = 0; labels && i < sizeof varying / sizeof *varying; i++)
    if (json_object_object_get_ex (labels, varying[i], NULL))
      json_object_object_add (labels, varying[i], json_object_new_string ("<varies>"));
}

static unsigned long
octal (const char *p, size_t n)
{
  char tmp[16] = { 0 };
  memcpy (tmp, p, n < sizeof tmp - 1 ? n : sizeof tmp - 1);
  return strtoul (tmp, NULL, 8);
}

/* The regular files of a ustar archive: path, mode, uid, gid, content. */
static json_object *
tar_files (const char *data, size_t len)
{
  json_object *a = json_object_new_array ();
  for (size_t off = 0; off + 512 <= len;)
    {
      const char *h = data + off;
      if (h[0] == '\0')
        break;
      unsigned long size = octal (h + 124, 12);
      if (h[156] == '0' || h[156] == '\0')
        {
          json_object *f = json_object_new_object ();
          json_object_object_add (f, "path", json_object_new_string_len (h, (int) strnlen (h, 100)));
          char mode[8];
          snprintf (mode, sizeof mode, "%04lo", octal (h + 100, 8) & 07777);
          json_object_object_add (f, "mode", json_object_new_string (mode));
          json_object_object_add (f, "uid", json_object_new_int64 ((int64_t) octal (h + 108, 8)));
          json_object_object_add (f, "gid", json_object_new_int64 ((int64_t) octal (h + 116, 8)));
          size_t n = off + 512 + size <= len ? size : 0;
          json_object_object_add (f, "content",
                                  json_object_new_string_len (h + 512, (int) n));
          json_object_array_add (a, f);
        }
      off += 512 + (size + 511) / 512 * 512;
    }
  return a;
}

static json_object *
service_json (const struct stack *st, const struct stack_service *svc)
{
  json_object *o = json_object_new_object ();
  json_object *create = prov_container_spec (API, st, svc, NS, TTL, HASH);
  json_object *labels = NULL;
  json_object_object_get_ex (create, "Labels", &labels);
  fix_labels (labels);
  json_object_object_add (o, "create", create);
  size_t n = 0;
  char **nets = prov_service_networks (st, svc, NS, &n);
  if (n > prov_networks_at_create (API, n))
    {
      json_object *c = json_object_new_array ();
      for (size_t i = prov_networks_at_create (API, n); i < n; i++)
        {
          json_object *e = json_object_new_object ();
          json_object_object_add (e, "network", json_object_new_string (nets[i]));
          json_object_object_add (e, "EndpointConfig", prov_endpoint_spec (svc, i));
          json_object_array_add (c, e);
        }
      json_object_object_add (o, "connect", c);
    }
  strv_free (nets);
  char *tar = NULL;
  size_t tlen = 0;
  struct itm_err err = { 0 };
  if (prov_files_tar (st, svc, &tar, &tlen, &err) < 0)
    json_object_object_add (o, "files_error", json_object_new_string (err.msg));
  else if (tlen)
    json_object_object_add (o, "files", tar_files (tar, tlen));
  free (tar);
  itm_err_clear (&err);
  if (svc->healthcheck.test.n)
    {
      json_object *t = json_object_new_array ();
      for (size_t k = 0; k < svc->healthcheck.test.n; k++)
        json_object_array_add (t, json_object_new_string (svc->healthcheck.test.v[k]));
      char **probe = prov_probe_argv (t);
      json_object *p = json_object_new_array ();
      for (char **q = probe; q && *q; q++)
        json_object_array_add (p, json_object_new_string (*q));
      json_object_object_add (o, "probe", p);
      strv_free (probe);
      json_object_put (t);
    }
  return o;
}

static json_object *
stack_json (const struct stack *st)
{
  json_object *o = json_object_new_object ();
  json_object *svcs = json_object_new_object ();
  for (size_t i = 0; i < st->nservices; i++)
    json_object_object_add (svcs, st->services[i].name, service_json (st, &st->services[i]));
  json_object_object_add (o, "services", svcs);
  json_object *nets = json_object_new_object ();
  for (size_t i = 0; i < st->nnetworks; i++)
    if (!st->networks[i].external)
      {
        json_object *n = prov_network_spec (st, &st->networks[i], NS, TTL);
        json_object *labels = NULL;
        json_object_object_get_ex (n, "Labels", &labels);
        fix_labels (labels);
        json_object_object_add (nets, st->networks[i].key, n);
      }
  json_object_object_add (o, "networks", nets);
  json_object *vols = json_object_new_object ();
  for (size_t i = 0; i < st->nvolumes; i++)
    if (!st->volumes[i].external)
      {
        json_object *v = prov_volume_spec (st, &st->volumes[i], NS, TTL);
        json_object *labels = NULL;
        json_object_object_get_ex (v, "Labels", &labels);
        fix_labels (labels);
        json_object_object_add (vols, st->volumes[i].key, v);
      }
  json_object_object_add (o, "volumes", vols);
  return o;
}

/* s with every occurrence of from replaced by to (new string). */
static char *
replace_all (const char *s, const char *from, const char *to)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  size_t fl = strlen (from);
  for (const char *p; (p = strstr (s, from)) != NULL; s = p + fl)
    {
      buf_add (&b, s, (size_t) (p - s));
      buf_adds (&b, to);
    }
  buf_adds (&b, s);
  return b.data;
}

static void
run_case (const char *dir, const char *name, bool regen)
{
  cleanup_free char *yml = xasprintf ("%s/%s.yml", dir, name);
  cleanup_free char *want_path = xasprintf ("%s/%s.json", dir, name);
  cleanup_free char *absdir = realpath (dir, NULL);
  const char *files[] = { yml };
  char *env[] = { NULL };
  struct stack_opts o = { .files = files, .nfiles = 1, .environ = env };
  cleanup_stack struct stack *st = NULL;
  struct stack_diags d = { 0 };
  struct itm_err err = { 0 };
  if (stack_load (&o, &st, &d, &err) < 0)
    {
      tap_ok (0, "%s: the stack loads", name);
      stack_diags_print (&d, stdout);
      stack_diags_free (&d);
      itm_err_clear (&err);
      return;
    }
  stack_diags_free (&d);
  cleanup_json json_object *got = stack_json (st);
  const char *text = json_object_to_json_string_ext (got, JSON_C_TO_STRING_PRETTY
                                                          | JSON_C_TO_STRING_SPACED
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_free char *norm = replace_all (text, absdir, "<dir>");
  cleanup_free char *out = xasprintf ("%s\n", norm);
  if (regen)
    {
      FILE *f = fopen (want_path, "w");
      tap_ok (f && fputs (out, f) >= 0 && fclose (f) == 0, "%s: written", name);
      return;
    }
  size_t n = 0;
  cleanup_free char *want = file_read (want_path, 0, &n, 1, &err);
  if (!tap_ok (want != NULL, "%s: %s.json is there", name, name))
    {
      itm_err_clear (&err);
      return;
    }
  if (!tap_ok (strcmp (want, out) == 0, "%s: the engine bodies are the expected ones", name))
    {
      /* the first line that differs */
      const char *a = want, *b = out;
      int line = 1;
      while (*a && *a == *b)
        {
          if (*a == '\n')
            line++;
          a++, b++;
        }
      const char *ae = strchr (a, '\n'), *be = strchr (b, '\n');
      tap_diag ("line %d: want '%.*s'", line, ae ? (int) (ae - a) : (int) strlen (a), a);
      tap_diag ("line %d: got  '%.*s'", line, be ? (int) (be - b) : (int) strlen (b), b);
    }
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (void)
{
  const char *srcdir = getenv ("ITM_SRCDIR");
  cleanup_free char *dir = xasprintf ("%s/tests/spec", srcdir ? srcdir : ".");
  bool regen = getenv ("ITM_SPEC_REGEN") && strcmp (getenv ("ITM_SPEC_REGEN"), "1") == 0;
  DIR *dh = opendir (dir);
  if (dh == NULL)
    {
      printf ("1..0 # SKIP no %s\n", dir);
      return 0;
    }
  cleanup_strv char **names = NULL;
  size_t n = 0;
  for (struct dirent *de; (de = readdir (dh)) != NULL;)
    {
      size_t l = strlen (de->d_name);
      if (l > 4 && strcmp (de->d_name + l - 4, ".yml") == 0)
        {
          char *nm = xstrdup (de->d_name);
          nm[l - 4] = '\0';
          strv_push_take (&names, &n, nm);
        }
    }
  closedir (dh);
  if (n)
    qsort (names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    run_case (dir, names[i], regen);
  tap_ok (n >= 10, "at least 10 cases (%zu)", n);
  return tap_done ();
}
