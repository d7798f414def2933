/* test-ns.c - namespace names, validation and labels. */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns/ns.h"
#include "tap.h"
#include "util/xalloc.h"

static void
resolve (const char *flag, const char *name, const char *dir, const char *want, int code,
         const char *what)
{
  struct itm_err err = { 0 };
  char *got = NULL;
  int r = ns_resolve (flag, name, dir, &got, &err);
  if (want)
    tap_ok (r == 0 && got && strcmp (got, want) == 0, "%s: %s (got %s%s%s)", what, want,
            got ? got : "nothing", err.msg ? ": " : "", err.msg ? err.msg : "");
  else
    tap_ok (r < 0 && err.code == code, "%s: refused with code %d (%s)", what, code,
            err.msg ? err.msg : "no error");
  free (got);
  itm_err_clear (&err);
}

int
main (void)
{
  unsetenv ("ITM_ENV_NAMESPACE");
  resolve ("ci-42", "stack", "/x/dir", "ci-42", 0, "-p wins");
  resolve (NULL, "My Stack!", "/x/dir", "mystack", 0, "name: is normalized");
  resolve (NULL, NULL, "/home/u/My_Project", "my_project", 0, "directory is normalized");
  resolve (NULL, "---", "/x/dir", "dir", 0, "an empty normalized name falls through");
  resolve ("Bad NS", NULL, NULL, NULL, ITM_EXIT_USAGE, "an invalid -p is an error");
  resolve ("-x", NULL, NULL, NULL, ITM_EXIT_USAGE, "a leading dash is an error");
  resolve (NULL, NULL, "/", NULL, ITM_EXIT_USAGE, "nothing to derive from");
  setenv ("ITM_ENV_NAMESPACE", "from-env", 1);
  resolve (NULL, "stack", "/x/dir", "from-env", 0, "ITM_ENV_NAMESPACE over name:");
  resolve ("flag", "stack", "/x/dir", "flag", 0, "-p over ITM_ENV_NAMESPACE");
  setenv ("ITM_ENV_NAMESPACE", "UPPER", 1);
  resolve (NULL, "stack", "/x/dir", NULL, ITM_EXIT_USAGE, "an invalid ITM_ENV_NAMESPACE is an error");
  unsetenv ("ITM_ENV_NAMESPACE");
  char long_ns[NS_MAX_LEN + 2];
  memset (long_ns, 'a', sizeof long_ns - 1);
  long_ns[sizeof long_ns - 1] = '\0';
  resolve (long_ns, NULL, NULL, NULL, ITM_EXIT_USAGE, "too long a namespace is an error");

  char *s = ns_container_name ("ns", "db", 1);
  tap_is_str (s, "ns-db-1", "container name");
  free (s);
  s = ns_network_name ("ns", "default");
  tap_is_str (s, "ns_default", "network name");
  free (s);
  s = ns_volume_name ("ns", "data");
  tap_is_str (s, "ns_data", "volume name");
  free (s);

  char buf[32];
  time_t t;
  ns_format_time (86400 * 365, buf);
  tap_is_str (buf, "1971-01-01T00:00:00Z", "RFC 3339 format");
  tap_ok (ns_parse_time (buf, &t) == 0 && t == 86400 * 365, "and back");
  tap_ok (ns_parse_time ("yesterday", &t) < 0, "a malformed time is refused");

  json_object *l = ns_labels ("ns1", 60);
  json_object *v;
  tap_ok (json_object_object_get_ex (l, ITM_LABEL_NAMESPACE, &v)
            && strcmp (json_object_get_string (v), "ns1") == 0, "labels carry the namespace");
  time_t c, e;
  json_object *cv, *ev;
  tap_ok (json_object_object_get_ex (l, ITM_LABEL_CREATED, &cv)
            && json_object_object_get_ex (l, ITM_LABEL_EXPIRES, &ev)
            && ns_parse_time (json_object_get_string (cv), &c) == 0
            && ns_parse_time (json_object_get_string (ev), &e) == 0 && e - c == 60,
          "expires is created + ttl");
  tap_ok (json_object_object_get_ex (l, ITM_LABEL_CREATOR_PID, &v), "labels carry the pid");
  json_object_put (l);
  s = ns_filter_query ("ns1");
  tap_is_str (s, "%7B%22label%22%3A%5B%22io.itm-env.namespace%3Dns1%22%5D%7D", "filter query");
  free (s);

  char tmpl[] = "/tmp/itm-ns-test-XXXXXX";
  tap_ok (mkdtemp (tmpl) != NULL, "temporary root");
  cleanup_free char *root = xasprintf ("%s/deep/er", tmpl);
  setenv ("ITM_ENV_STATE_DIR", root, 1);
  struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir ("ns1", true, &err);
  struct stat sb;
  tap_ok (dir && stat (dir, &sb) == 0 && S_ISDIR (sb.st_mode) && (sb.st_mode & 0777) == 0700,
          "state dir created with mode 0700");
  cleanup_free char *f = xasprintf ("%s/secret", dir ? dir : "");
  FILE *fp = fopen (f, "w");
  if (fp)
    fclose (fp);
  /* a data/ subdirectory with a file, and a symlink to outside (removed,
   * not followed) */
  cleanup_free char *sub = xasprintf ("%s/data", dir ? dir : "");
  cleanup_free char *subf = xasprintf ("%s/w1.json", sub);
  cleanup_free char *outside = xasprintf ("%s/outside", tmpl);
  cleanup_free char *link = xasprintf ("%s/link", dir ? dir : "");
  tap_ok (mkdir (sub, 0700) == 0 && (fp = fopen (subf, "w")) != NULL && fclose (fp) == 0
            && mkdir (outside, 0700) == 0 && symlink (outside, link) == 0,
          "a data/ subdirectory and a symlink in the state dir");
  tap_ok (ns_state_remove ("ns1", &err) == 0 && stat (dir, &sb) < 0, "state dir removed with its files");
  tap_ok (stat (outside, &sb) == 0 && rmdir (outside) == 0, "the symlink's target is left alone");
  /* the up lock: taken, released; no trace when the namespace has no other state */
  int lfd = ns_lock ("ns2", &err);
  cleanup_free char *d2 = ns_state_dir ("ns2", false, &err);
  cleanup_free char *lock2 = xasprintf ("%s/up.lock", d2 ? d2 : "");
  tap_ok (lfd >= 0 && stat (lock2, &sb) == 0, "ns_lock creates up.lock");
  ns_unlock ("ns2", lfd);
  tap_ok (stat (d2, &sb) < 0, "ns_unlock leaves no state dir behind when there is no other state");
  lfd = ns_lock ("ns2", &err);
  cleanup_free char *snap = xasprintf ("%s/snapshot.json", d2 ? d2 : "");
  fp = fopen (snap, "w");
  if (fp)
    fclose (fp);
  ns_unlock ("ns2", lfd);
  tap_ok (stat (snap, &sb) == 0, "... and keeps it when there is");
  tap_ok (ns_state_remove ("ns2", &err) == 0, "removed");
  tap_ok (ns_state_remove ("ns1", &err) == 0, "removing an absent state dir is fine");
  tap_ok (ns_state_dir ("../x", true, &err) == NULL && err.code == ITM_EXIT_USAGE,
          "a namespace with a path in it is refused");
  itm_err_clear (&err);
  /* refused: <root>/<ns> a symbolic link, a group-writable <ns>, a
   * world-writable directory on the way without the sticky bit; a file in
   * it that is a link is never opened */
  cleanup_free char *lnk = xasprintf ("%s/ns3", root);
  tap_ok (symlink (tmpl, lnk) == 0 && ns_state_dir ("ns3", true, &err) == NULL
          && err.code == ITM_EXIT_FAILURE && strstr (err.msg, "is a symbolic link"),
          "a symbolic link as <root>/<ns> is refused");
  itm_err_clear (&err);
  unlink (lnk);
  cleanup_free char *gw = xasprintf ("%s/ns4", root);
  tap_ok (mkdir (gw, 0700) == 0 && chmod (gw, 0770) == 0 && ns_state_dir ("ns4", true, &err) == NULL
          && strstr (err.msg, "writable by group or others"),
          "a group-writable <root>/<ns> is refused");
  itm_err_clear (&err);
  chmod (gw, 0700);
  cleanup_free char *glink = xasprintf ("%s/secrets", gw);
  tap_ok (symlink ("/etc/hostname", glink) == 0
          && ns_state_file ("ns4", "secrets", O_RDWR | O_CREAT, 0600, &err) == -1
          && strstr (err.msg, "is a symbolic link"),
          "a file in it that is a symbolic link is not opened");
  itm_err_clear (&err);
  tap_ok (ns_state_remove ("ns4", &err) == 0 && lstat (gw, &sb) < 0
          && stat ("/etc/hostname", &sb) == 0, "removed, the link's target left alone");
  cleanup_free char *mid0 = xasprintf ("%s/deep", tmpl);
  tap_ok (chmod (mid0, 0777) == 0 && ns_state_dir ("ns5", true, &err) == NULL
          && strstr (err.msg, "has no sticky bit"),
          "a world-writable directory on the way is refused");
  itm_err_clear (&err);
  cleanup_free char *d5 = chmod (mid0, 01777) == 0 ? ns_state_dir ("ns5", true, &err) : NULL;
  tap_ok (d5 != NULL, "... unless it has the sticky bit (as /tmp)");
  ns_state_remove ("ns5", &err);
  chmod (mid0, 0700);
  rmdir (root);
  cleanup_free char *mid = xasprintf ("%s/deep", tmpl);
  rmdir (mid);
  rmdir (tmpl);
  unsetenv ("ITM_ENV_STATE_DIR");
  return tap_done ();
}
