/* test-auth.c - image references and registry credentials as the docker
 * CLI reads them: normalization, config.json auths, credential helpers,
 * the X-Registry-Auth value. */
#include <config.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "tap.h"
#include "util/xalloc.h"

static void
ref_is (const char *in, const char *want)
{
  struct image_ref r;
  struct itm_err err = { 0 };
  if (image_ref_parse (in, &r, &err) < 0)
    {
      tap_ok (want == NULL, "%s is refused (%s)", in, err.msg);
      itm_err_clear (&err);
      return;
    }
  char *s = image_ref_string (&r);
  tap_is_str (s, want, "%s -> %s", in, want ? want : "error");
  free (s);
  image_ref_free (&r);
}

static void
write_file (const char *path, const char *text, int mode)
{
  FILE *f = fopen (path, "w");
  fputs (text, f);
  fclose (f);
  chmod (path, (mode_t) mode);
}

static void
creds_are (const char *dir, const char *domain, const char *user, const char *secret,
           const char *token, const char *what)
{
  char *u, *s, *t;
  struct itm_err err = { 0 };
  int r = image_credentials (dir, domain, &u, &s, &t, &err);
  if (r < 0)
    tap_diag ("error: %s", err.msg);
  tap_ok (r >= 0 && ((u && user && strcmp (u, user) == 0) || (!u && !user))
            && ((s && secret && strcmp (s, secret) == 0) || (!s && !secret))
            && ((t && token && strcmp (t, token) == 0) || (!t && !token)),
          "%s: %s", domain, what);
  if (r >= 0)
    tap_diag ("got user=%s secret=%s token=%s", u ? u : "-", s ? s : "-", t ? t : "-");
  free (u), free (s), free (t);
  itm_err_clear (&err);
}

int
main (void)
{
  /* ---- references ---- */
  ref_is ("busybox", "docker.io/library/busybox:latest");
  ref_is ("busybox:1.36", "docker.io/library/busybox:1.36");
  ref_is ("docker.io/busybox", "docker.io/library/busybox:latest");
  ref_is ("index.docker.io/library/busybox", "docker.io/library/busybox:latest");
  ref_is ("registry-1.docker.io/foo/bar:x", "docker.io/foo/bar:x");
  ref_is ("user/app", "docker.io/user/app:latest");
  ref_is ("localhost/app", "localhost/app:latest");
  ref_is ("127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2");
  ref_is ("registry.example.com/app", "registry.example.com/app:latest");
  ref_is ("itm-fixture/busybox:latest", "docker.io/itm-fixture/busybox:latest");
  ref_is ("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io/library/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ref_is ("app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io/library/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ref_is ("App", NULL);
  ref_is ("app@sha256:short", NULL);
  ref_is ("app:", NULL);

  char *k = image_auth_key ("docker.io");
  tap_is_str (k, "https://index.docker.io/v1/", "docker.io's credential key");
  free (k);
  k = image_auth_key ("127.0.0.1:5000");
  tap_is_str (k, "127.0.0.1:5000", "another registry's key is its host");
  free (k);
  k = image_auth_hostname ("https://127.0.0.1:5000/v2/");
  tap_is_str (k, "127.0.0.1:5000", "ConvertToHostname strips scheme and path");
  free (k);

  /* ---- config.json ---- */
  char tmpl[] = "/tmp/itm-auth.XXXXXX";
  char *dir = mkdtemp (tmpl);
  char *cfg = xasprintf ("%s/config.json", dir);
  creds_are (dir, "127.0.0.1:5000", NULL, NULL, NULL, "no config.json: anonymous");
  /* "auth" is base64(user:password); keys with a scheme match by host */
  write_file (cfg,
              "{\"auths\":{\"https://127.0.0.1:5000/v1/\":{\"auth\":\"YWxpY2U6czNjcjN0\"},"
              "\"reg.example:443\":{\"username\":\"bob\",\"password\":\"pw\"},"
              "\"https://index.docker.io/v1/\":{\"auth\":\"ZG9jazpodWI=\"},"
              "\"tok.example\":{\"identitytoken\":\"T0K\"}}}", 0600);
  creds_are (dir, "127.0.0.1:5000", "alice", "s3cr3t", NULL, "auths auth, key with scheme");
  creds_are (dir, "reg.example:443", "bob", "pw", NULL, "auths username and password");
  creds_are (dir, "docker.io", "dock", "hub", NULL, "docker.io under index.docker.io/v1/");
  creds_are (dir, "tok.example", NULL, NULL, "T0K", "identitytoken");
  creds_are (dir, "other.example", NULL, NULL, NULL, "another registry: anonymous");

  /* X-Registry-Auth: base64url of the JSON */
  char *hdr = NULL;
  struct itm_err err = { 0 };
  tap_ok (image_registry_auth (dir, "127.0.0.1:5000", &hdr, &err) == 0 && hdr,
          "X-Registry-Auth built");
  if (hdr)
    {
      char *std = xstrdup (hdr);
      for (char *q = std; *q; q++)
        *q = *q == '-' ? '+' : *q == '_' ? '/' : *q;
      unsigned char dec[1024] = { 0 };
      EVP_DecodeBlock (dec, (unsigned char *) std, (int) strlen (std));
      json_object *o = json_tokener_parse ((char *) dec);
      json_object *u = NULL, *p = NULL, *s = NULL;
      json_object_object_get_ex (o, "username", &u);
      json_object_object_get_ex (o, "password", &p);
      json_object_object_get_ex (o, "serveraddress", &s);
      tap_ok (u && p && s && strcmp (json_object_get_string (u), "alice") == 0
                && strcmp (json_object_get_string (p), "s3cr3t") == 0
                && strcmp (json_object_get_string (s), "127.0.0.1:5000") == 0,
              "it carries username, password and serveraddress");
      tap_ok (strchr (hdr, '+') == NULL && strchr (hdr, '/') == NULL, "it is URL-safe base64");
      json_object_put (o);
      free (std);
      free (hdr);
    }
  hdr = NULL;
  tap_ok (image_registry_auth (dir, "other.example", &hdr, &err) == 0 && hdr == NULL,
          "no credentials: no header");

  /* credential helpers: credHelpers per registry, credsStore for the rest */
  char *bin = xasprintf ("%s/bin", dir);
  mkdir (bin, 0755);
  char *h1 = xasprintf ("%s/docker-credential-itmtest", bin);
  write_file (h1,
              "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r url\n"
              "case $url in\n"
              "  127.0.0.1:5000) echo '{\"ServerURL\":\"'$url'\",\"Username\":\"carol\",\"Secret\":\"hp\"}' ;;\n"
              "  tok.example) echo '{\"ServerURL\":\"'$url'\",\"Username\":\"<token>\",\"Secret\":\"IDT\"}' ;;\n"
              "  broken.example) echo 'keychain locked' >&2; exit 1 ;;\n"
              "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
              "esac\n", 0755);
  char *path = xasprintf ("%s:%s", bin, getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
  setenv ("PATH", path, 1);
  write_file (cfg,
              "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6czNjcjN0\"}},"
              "\"credHelpers\":{\"127.0.0.1:5000\":\"itmtest\",\"tok.example\":\"itmtest\","
              "\"broken.example\":\"itmtest\",\"gone.example\":\"nosuchhelper\"}}", 0600);
  creds_are (dir, "127.0.0.1:5000", "carol", "hp", NULL, "credHelpers over auths");
  creds_are (dir, "tok.example", NULL, NULL, "IDT", "a helper's <token> is an identity token");
  creds_are (dir, "nothere.example", NULL, NULL, NULL, "no helper configured: anonymous");
  char *u, *s, *t;
  tap_ok (image_credentials (dir, "broken.example", &u, &s, &t, &err) < 0 && err.msg
            && strstr (err.msg, "keychain locked"), "a failing helper's message is kept");
  tap_diag ("%s", err.msg ? err.msg : "");
  itm_err_clear (&err);
  tap_ok (image_credentials (dir, "gone.example", &u, &s, &t, &err) < 0 && err.msg
            && strstr (err.msg, "docker-credential-nosuchhelper"), "a missing helper is named");
  itm_err_clear (&err);
  /* a helper that never answers is killed after ITM_ENV_CREDENTIAL_TIMEOUT */
  char *h2 = xasprintf ("%s/docker-credential-itmhang", bin);
  write_file (h2, "#!/bin/sh\nexec sleep 30\n", 0755);
  write_file (cfg, "{\"credHelpers\":{\"hang.example\":\"itmhang\"}}", 0600);
  setenv ("ITM_ENV_CREDENTIAL_TIMEOUT", "0.5", 1);
  struct timespec ta, tb;
  clock_gettime (CLOCK_MONOTONIC, &ta);
  tap_ok (image_credentials (dir, "hang.example", &u, &s, &t, &err) < 0 && err.msg
            && strstr (err.msg, "did not answer") && strstr (err.msg, "itmhang"),
          "a helper that hangs is killed and named");
  clock_gettime (CLOCK_MONOTONIC, &tb);
  tap_diag ("%s", err.msg ? err.msg : "");
  tap_ok (tb.tv_sec - ta.tv_sec < 10, "... after the timeout, not after its 30 s sleep");
  itm_err_clear (&err);
  setenv ("ITM_ENV_CREDENTIAL_TIMEOUT", "soon", 1);
  tap_ok (image_credentials (dir, "hang.example", &u, &s, &t, &err) < 0
            && err.code == ITM_EXIT_USAGE && strstr (err.msg, "ITM_ENV_CREDENTIAL_TIMEOUT=soon"),
          "a bad ITM_ENV_CREDENTIAL_TIMEOUT is a usage error naming it");
  itm_err_clear (&err);
  unsetenv ("ITM_ENV_CREDENTIAL_TIMEOUT");
  free (h2);
  write_file (cfg, "{\"credsStore\":\"itmtest\"}", 0600);
  creds_are (dir, "127.0.0.1:5000", "carol", "hp", NULL, "credsStore");
  creds_are (dir, "docker.io", NULL, NULL, NULL, "credsStore without an entry: anonymous");

  /* a helper inherits none of our descriptors: fd 37 stands for an
   * engine connection opened without close-on-exec (libcurl's sockets) */
  char *h3 = xasprintf ("%s/docker-credential-itmfds", bin);
  write_file (h3, "#!/bin/sh\nread -r url\nfds=$(ls /proc/$$/fd | tr '\\n' ,)\n"
              "echo '{\"ServerURL\":\"'$url'\",\"Username\":\",'$fds'\",\"Secret\":\"x\"}'\n",
              0755);
  write_file (cfg, "{\"credHelpers\":{\"fds.example\":\"itmfds\"}}", 0600);
  int sk = socket (AF_UNIX, SOCK_STREAM, 0);
  tap_ok (sk >= 0 && dup2 (sk, 37) == 37, "fd 37: a socket without close-on-exec");
  u = s = t = NULL;
  tap_ok (image_credentials (dir, "fds.example", &u, &s, &t, &err) >= 0 && u
            && strstr (u, ",0,") && strstr (u, ",1,") && strstr (u, ",2,"),
          "the helper has its stdin, stdout and stderr");
  tap_ok (u && strstr (u, ",37,") == NULL, "the helper does not inherit fd 37");
  tap_diag ("the helper's descriptors: %s", u ? u : "(none)");
  itm_err_clear (&err);
  free (u);
  free (s);
  free (t);
  close (37);
  close (sk);
  free (h3);
  write_file (cfg, "{not json", 0600);
  tap_ok (image_credentials (dir, "docker.io", &u, &s, &t, &err) < 0
            && err.code == ITM_EXIT_IMAGE, "a broken config.json is an error");
  itm_err_clear (&err);

  char *cmd = xasprintf ("rm -rf '%s'", dir);
  if (system (cmd) != 0)
    tap_diag ("cannot remove %s", dir);
  free (cmd), free (cfg), free (bin), free (h1), free (path);
  return tap_done ();
}
