/* auth.c - image references and registry credentials as the docker CLI
 * reads them: reference normalization, config.json (auths, credsStore,
 * credHelpers), credential helpers, the X-Registry-Auth header value. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/json.h"
#include "util/xalloc.h"

/* A Docker config.json is never larger. */
#define AUTH_CONFIG_MAX (16UL << 20)

/* ---- references ---- */

static bool
is_domain_like (const char *s, size_t n)
{
  if (n == 9 && strncmp (s, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || isupper ((unsigned char) s[i]))
      return true;
  return false;
}

int
image_ref_parse (const char *name, struct image_ref *r, struct itm_err *err)
{
  *r = (struct image_ref){ 0 };
  cleanup_free char *s = xstrdup (name);
  char *at = strchr (s, '@');
  if (at)
    {
      *at = '\0';
      r->digest = xstrdup (at + 1);
      if (strncmp (r->digest, "sha256:", 7) != 0 || strlen (r->digest) != 71)
        goto bad;
    }
  char *slash = strrchr (s, '/');
  char *colon = strrchr (slash ? slash : s, ':');
  if (colon)
    {
      *colon = '\0';
      r->tag = xstrdup (colon + 1);
      if (*r->tag == '\0' || strlen (r->tag) > 128)
        goto bad;
      for (const char *q = r->tag; *q; q++)
        if (!isalnum ((unsigned char) *q) && *q != '_' && *q != '.' && *q != '-')
          goto bad;
    }
  else if (!r->digest)
    r->tag = xstrdup ("latest");
  char *first = strchr (s, '/');
  const char *rest = s;
  if (first && is_domain_like (s, (size_t) (first - s)))
    {
      r->domain = xstrndup (s, (size_t) (first - s));
      rest = first + 1;
    }
  else
    r->domain = xstrdup ("docker.io");
  if (strcmp (r->domain, "index.docker.io") == 0 || strcmp (r->domain, "registry-1.docker.io") == 0)
    {
      free (r->domain);
      r->domain = xstrdup ("docker.io");
    }
  if (strcmp (r->domain, "docker.io") == 0 && !strchr (rest, '/'))
    r->path = xasprintf ("library/%s", rest);
  else
    r->path = xstrdup (rest);
  if (*rest == '\0')
    goto bad;
  for (const char *q = r->path; *q; q++)
    if (!(islower ((unsigned char) *q) || isdigit ((unsigned char) *q) || *q == '.' || *q == '_'
          || *q == '-' || *q == '/'))
      {
        if (isupper ((unsigned char) *q))
          {
            image_ref_free (r);
            return itm_err_set (err, ITM_EXIT_IMAGE,
                                "invalid image reference '%s': repository name must be lowercase",
                                name);
          }
        goto bad;
      }
  return 0;
bad:
  image_ref_free (r);
  return itm_err_set (err, ITM_EXIT_IMAGE, "invalid image reference '%s'", name);
}

void
image_ref_free (struct image_ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  *r = (struct image_ref){ 0 };
}

char *
image_ref_string (const struct image_ref *r)
{
  return xasprintf ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                    r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *
image_auth_key (const char *domain)
{
  if (strcmp (domain, "docker.io") == 0)
    return xstrdup ("https://index.docker.io/v1/");
  return xstrdup (domain);
}

char *
image_auth_hostname (const char *key)
{
  const char *s = key;
  if (strncmp (s, "http://", 7) == 0)
    s += 7;
  else if (strncmp (s, "https://", 8) == 0)
    s += 8;
  const char *sl = strchr (s, '/');
  return sl ? xstrndup (s, (size_t) (sl - s)) : xstrdup (s);
}

/* ---- base64 ---- */

static char *
b64_encode (const char *s, size_t n, bool url)
{
  char *out = xmalloc (4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock ((unsigned char *) out, (const unsigned char *) s, (int) n);
  if (url)
    for (char *q = out; *q; q++)
      *q = *q == '+' ? '-' : *q == '/' ? '_' : *q;
  return out;
}

static char *
b64_decode (const char *s)
{
  size_t n = strlen (s);
  if (n % 4)
    return NULL;
  unsigned char *out = xmalloc (3 * (n / 4) + 1);
  int len = EVP_DecodeBlock (out, (const unsigned char *) s, (int) n);
  if (len < 0)
    {
      free (out);
      return NULL;
    }
  while (n > 0 && s[n - 1] == '=')
    n--, len--;
  out[len] = '\0';
  return (char *) out;
}

/* ---- config.json ---- */

static char *
config_path (const char *config_dir)
{
  const char *d = config_dir ? config_dir : getenv ("DOCKER_CONFIG");
  if (d && *d)
    return xasprintf ("%s/config.json", d);
  const char *home = getenv ("HOME");
  return xasprintf ("%s/.docker/config.json", home && *home ? home : "/");
}

/* How long a credential helper may take: $ITM_ENV_CREDENTIAL_TIMEOUT
 * seconds (a positive number), else 30 s.  A usage error otherwise. */
static int
helper_timeout_ms (long *ms, struct itm_err *err)
{
  const char *v = getenv ("ITM_ENV_CREDENTIAL_TIMEOUT");
  *ms = 30000;
  if (v == NULL || *v == '\0')
    return 0;
  char *end;
  double d = strtod (v, &end);
  if (*end != '\0' || !(d > 0) || d > 86400)
    return itm_err_set (err, ITM_EXIT_USAGE, "ITM_ENV_CREDENTIAL_TIMEOUT=%s: expected a number "
                        "of seconds (0 < s <= 86400)", v);
  *ms = (long) (d * 1000);
  return 0;
}

/* Run docker-credential-<helper> get with key on stdin: 1 found, 0 none. */
static int
helper_get (const char *helper, const char *key, char **user, char **secret,
            struct itm_err *err)
{
  cleanup_free char *prog = xasprintf ("docker-credential-%s", helper);
  long limit_ms;
  if (helper_timeout_ms (&limit_ms, err) < 0)
    return -1;
  int in[2], out[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return itm_err_errno (err, ITM_EXIT_IMAGE, "pipe");
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return itm_err_errno (err, ITM_EXIT_IMAGE, "pipe");
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (in[0]);
      close (in[1]);
      close (out[0]);
      close (out[1]);
      return itm_err_errno (err, ITM_EXIT_IMAGE, "fork");
    }
  if (pid == 0)
    {
      dup2 (in[0], 0);
      dup2 (out[1], 1);
      dup2 (out[1], 2);
      /* the helper gets its three pipes and nothing else of ours */
      close_range (3, ~0U, 0);
      execlp (prog, prog, "get", (char *) NULL);
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  void (*old) (int) = signal (SIGPIPE, SIG_IGN);
  ssize_t wn = write (in[1], key, strlen (key));
  (void) wn;
  close (in[1]);
  signal (SIGPIPE, old);
  /* read its answer until EOF, within the deadline: a helper that waits
   * for a locked keychain or a prompt nobody sees is killed */
  struct buf b = { 0 };
  char tmp[4096];
  int64_t t0 = mono_ns ();
  bool timed_out = false;
  for (;;)
    {
      long left = limit_ms - (long) ((mono_ns () - t0) / 1000000);
      if (left <= 0)
        {
          timed_out = true;
          break;
        }
      struct pollfd pfd = { .fd = out[0], .events = POLLIN };
      int pr = poll (&pfd, 1, (int) (left > 1000 ? 1000 : left));
      if (pr < 0 && errno != EINTR)
        break;
      if (pr <= 0)
        continue;
      ssize_t n = read (out[0], tmp, sizeof tmp);
      if (n == 0)
        break;
      if (n < 0)
        {
          if (errno == EINTR || errno == EAGAIN)
            continue;
          break;
        }
      if (b.len < 1 << 20)
        buf_add (&b, tmp, (size_t) n);
    }
  close (out[0]);
  if (timed_out)
    kill (pid, SIGKILL);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  const char *text = b.data ? b.data : "";
  int ret;
  if (timed_out)
    {
      ret = itm_err_set (err, ITM_EXIT_IMAGE, "credential helper %s did not answer for %s within "
                         "%g s (killed)", prog, key, (double) limit_ms / 1000);
      itm_err_hint (err, "is it waiting for an unlocked keychain or a prompt? "
                         "ITM_ENV_CREDENTIAL_TIMEOUT=SECONDS changes the limit");
    }
  else if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    {
      ret = itm_err_set (err, ITM_EXIT_IMAGE, "credential helper %s not found", prog);
      itm_err_hint (err, "install %s in PATH or fix credsStore/credHelpers in %s", prog,
                    "config.json");
    }
  else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      if (strstr (text, "credentials not found"))
        ret = 0;
      else
        {
          cleanup_free char *t = xstrdup (text);
          size_t l = strlen (t);
          while (l && (t[l - 1] == '\n' || t[l - 1] == '\r'))
            t[--l] = '\0';
          ret = itm_err_set (err, ITM_EXIT_IMAGE, "credential helper %s failed for %s: %s", prog,
                             key, *t ? t : "no output");
        }
    }
  else
    {
      json_object *o = json_tokener_parse (text);
      if (o == NULL || !json_key_str (o, "Secret"))
        ret = itm_err_set (err, ITM_EXIT_IMAGE, "credential helper %s: unexpected output", prog);
      else
        {
          *user = json_key_str (o, "Username") ? xstrdup (json_key_str (o, "Username")) : xstrdup ("");
          *secret = xstrdup (json_key_str (o, "Secret"));
          ret = 1;
        }
      json_object_put (o);
    }
  buf_free (&b);
  return ret;
}

int
image_credentials (const char *config_dir, const char *domain, char **user, char **secret,
                   char **token, struct itm_err *err)
{
  *user = *secret = *token = NULL;
  cleanup_free char *path = config_path (config_dir);
  cleanup_free char *key = image_auth_key (domain);
  cleanup_free char *host = image_auth_hostname (key);
  struct stat sb;
  if (stat (path, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  size_t len = 0;
  cleanup_free char *data = file_read (path, AUTH_CONFIG_MAX, &len, ITM_EXIT_IMAGE, err);
  if (data == NULL)
    return -1;
  cleanup_json json_object *cfg = len ? json_tokener_parse (data) : json_object_new_object ();
  if (cfg == NULL || !json_object_is_type (cfg, json_type_object))
    return itm_err_set (err, ITM_EXIT_IMAGE, "%s is not valid JSON", path);
  int ret = 0;
  /* credHelpers[key], then credsStore, then auths */
  json_object *helpers = json_key (cfg, "credHelpers");
  const char *helper = json_key_str (helpers, key);
  if (!helper)
    helper = json_key_str (helpers, host);
  if (!helper)
    helper = json_key_str (cfg, "credsStore");
  if (helper && *helper)
    {
      char *u = NULL, *s = NULL;
      ret = helper_get (helper, key, &u, &s, err);
      if (ret > 0)
        {
          if (strcmp (u, "<token>") == 0)
            {
              *token = s;
              free (u);
            }
          else
            {
              *user = u;
              *secret = s;
            }
        }
      if (ret != 0)
        return ret < 0 ? -1 : ret;
    }
  json_object *auths = json_key (cfg, "auths");
  json_object *entry = json_key (auths, key);
  if (!entry && auths && json_object_is_type (auths, json_type_object))
    {
      json_object_object_foreach (auths, k, v)
        {
          cleanup_free char *h = image_auth_hostname (k);
          if (strcmp (h, host) == 0)
            {
              entry = v;
              break;
            }
        }
    }
  if (entry)
    {
      const char *a = json_key_str (entry, "auth");
      if (a && *a)
        {
          char *dec = b64_decode (a);
          char *c = dec ? strchr (dec, ':') : NULL;
          if (c == NULL)
            {
              free (dec);
              return itm_err_set (err, ITM_EXIT_IMAGE, "%s: auths[\"%s\"].auth is not "
                                  "base64 of user:password", path, key);
            }
          *c = '\0';
          *user = xstrdup (dec);
          *secret = xstrdup (c + 1);
          free (dec);
          ret = 1;
        }
      else if (json_key_str (entry, "username"))
        {
          *user = xstrdup (json_key_str (entry, "username"));
          *secret = xstrdup (json_key_str (entry, "password") ? json_key_str (entry, "password") : "");
          ret = 1;
        }
      const char *it = json_key_str (entry, "identitytoken");
      if (it && *it)
        {
          *token = xstrdup (it);
          ret = 1;
        }
    }
  return ret;
}

int
image_registry_auth (const char *config_dir, const char *domain, char **out,
                     struct itm_err *err)
{
  *out = NULL;
  char *user = NULL, *secret = NULL, *token = NULL;
  int r = image_credentials (config_dir, domain, &user, &secret, &token, err);
  if (r <= 0)
    return r;
  json_object *o = json_object_new_object ();
  if (user)
    json_object_object_add (o, "username", json_object_new_string (user));
  if (secret)
    json_object_object_add (o, "password", json_object_new_string (secret));
  if (token)
    json_object_object_add (o, "identitytoken", json_object_new_string (token));
  cleanup_free char *key = image_auth_key (domain);
  json_object_object_add (o, "serveraddress", json_object_new_string (key));
  const char *js = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                        | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = b64_encode (js, strlen (js), true);
  json_object_put (o);
  if (secret)
    explicit_bzero (secret, strlen (secret));
  free (user);
  free (secret);
  free (token);
  return 0;
}
