/* context.c - docker contexts, read as the docker CLI reads them.
 *
 * Which context: --context, unless -H is given too (a usage error, as in
 * the CLI); none when -H or DOCKER_HOST is set (they win over DOCKER_CONTEXT
 * and the configuration, as in the CLI); else DOCKER_CONTEXT; else
 * "currentContext" in $DOCKER_CONFIG/config.json (default ~/.docker).
 * "default" is the engine the environment names (DOCKER_HOST unset: the
 * default socket).  Any other name is read from the context store:
 * $DOCKER_CONFIG/contexts/meta/<sha256 of the name>/meta.json gives
 * Endpoints.docker.Host and .SkipTLSVerify; TLS material, when there is
 * any, is contexts/tls/<sha256>/docker/{ca,cert,key}.pem, and then the
 * connection is TLS (verified unless SkipTLSVerify). */
#include <config.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/context.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_META (1UL << 20)

/* $DOCKER_CONFIG, or ~/.docker. */
static char *
config_dir (void)
{
  const char *d = getenv ("DOCKER_CONFIG");
  if (d && *d)
    return xstrdup (d);
  const char *home = getenv ("HOME");
  return xasprintf ("%s/.docker", home && *home ? home : ".");
}

/* currentContext of DIR/config.json, or NULL (no file, no key). */
static char *
current_context (const char *dir, const char *path, struct itm_err *err)
{
  cleanup_err struct itm_err rerr = { 0 };
  cleanup_free char *text = file_read (path, MAX_META, NULL, ITM_EXIT_USAGE, &rerr);
  (void) dir;
  if (text == NULL)
    {
      if (access (path, F_OK) != 0)
        return NULL;
      itm_err_move (err, &rerr);
      return NULL;
    }
  cleanup_json json_object *cfg = json_tokener_parse (text);
  if (cfg == NULL || !json_object_is_type (cfg, json_type_object))
    {
      itm_err_set (err, ITM_EXIT_USAGE, "%s is not a JSON object", path);
      return NULL;
    }
  const char *c = json_key_str (cfg, "currentContext");
  return c && *c ? xstrdup (c) : NULL;
}

static char *
sha256_hex (const char *s)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest (s, strlen (s), md, &n, EVP_sha256 (), NULL);
  char *hex = xzalloc (2 * n + 1);
  for (unsigned int i = 0; i < n; i++)
    snprintf (hex + 2 * i, 3, "%02x", md[i]);
  return hex;
}

/* DIR/NAME when it exists, else NULL. */
static char *
tls_file (const char *dir, const char *name)
{
  char *p = xasprintf ("%s/%s", dir, name);
  if (access (p, F_OK) == 0)
    return p;
  free (p);
  return NULL;
}

static int
load (struct engine_context *c, const char *dir, struct itm_err *err)
{
  cleanup_free char *id = sha256_hex (c->name);
  cleanup_free char *meta = xasprintf ("%s/contexts/meta/%s/meta.json", dir, id);
  if (access (meta, F_OK) != 0)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "docker context '%s' (from %s) does not exist: no %s",
                   c->name, c->from, meta);
      return itm_err_hint (err, "`docker context ls` lists the contexts of %s", dir);
    }
  cleanup_free char *text = file_read (meta, MAX_META, NULL, ITM_EXIT_USAGE, err);
  if (text == NULL)
    return itm_err_prefix (err, "docker context '%s'", c->name);
  cleanup_json json_object *m = json_tokener_parse (text);
  const char *host = m ? json_str (m, "Endpoints.docker.Host") : NULL;
  if (host == NULL || *host == '\0')
    {
      itm_err_set (err, ITM_EXIT_USAGE, "docker context '%s' (from %s): %s has no docker endpoint "
                   "(Endpoints.docker.Host)", c->name, c->from, meta);
      return -1;
    }
  c->host = xstrdup (host);
  json_object *skip = json_path (m, "Endpoints.docker.SkipTLSVerify");
  c->skip_verify = skip && json_object_get_boolean (skip);
  cleanup_free char *tls = xasprintf ("%s/contexts/tls/%s/docker", dir, id);
  c->ca = tls_file (tls, "ca.pem");
  c->cert = tls_file (tls, "cert.pem");
  c->key = tls_file (tls, "key.pem");
  c->tls = c->ca || c->cert || c->key;
  return 0;
}

int
engine_context_resolve (const char *opt, bool host_given, struct engine_context *c,
                        struct itm_err *err)
{
  memset (c, 0, sizeof *c);
  if (opt && *opt && host_given)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "conflicting options: -H and --context");
      return itm_err_hint (err, "give one of them, as with the docker CLI");
    }
  if (opt && *opt)
    {
      c->name = xstrdup (opt);
      c->from = xstrdup ("--context");
    }
  else
    {
      const char *h = getenv ("DOCKER_HOST");
      if (host_given || (h && *h))
        return 0;
      const char *env = getenv ("DOCKER_CONTEXT");
      if (env && *env)
        {
          c->name = xstrdup (env);
          c->from = xstrdup ("DOCKER_CONTEXT");
        }
      else
        {
          cleanup_free char *dir = config_dir ();
          cleanup_free char *path = xasprintf ("%s/config.json", dir);
          c->name = current_context (dir, path, err);
          if (err->code)
            return -1;
          if (c->name == NULL)
            return 0;
          c->from = xasprintf ("currentContext in %s", path);
        }
    }
  if (strcmp (c->name, "default") == 0)
    return 0;
  cleanup_free char *dir = config_dir ();
  if (load (c, dir, err) < 0)
    {
      engine_context_free (c);
      return -1;
    }
  return 0;
}

void
engine_context_free (struct engine_context *c)
{
  free (c->name);
  free (c->from);
  free (c->host);
  free (c->ca);
  free (c->cert);
  free (c->key);
  memset (c, 0, sizeof *c);
}
