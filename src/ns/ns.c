/* ns.c - see ns.h */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ns/ns.h"
#include "out/out.h"
#include "util/xalloc.h"

char *
ns_normalize (const char *s)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) tolower ((unsigned char) *s);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
        {
          if (b.len == 0 && (c == '-' || c == '_'))
            continue;
          buf_addc (&b, (char) c);
        }
    }
  if (b.len > NS_MAX_LEN)
    b.data[b.len = NS_MAX_LEN] = '\0';
  return buf_steal (&b);
}

int
ns_check (const char *ns, const char *from, struct itm_err *err)
{
  size_t n = strlen (ns);
  if (n == 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "empty namespace%s%s", from ? " from " : "",
                        from ? from : "");
  if (n > NS_MAX_LEN)
    return itm_err_set (err, ITM_EXIT_USAGE,
                        "namespace '%s'%s%s is %zu characters long; at most %d are allowed", ns,
                        from ? " from " : "", from ? from : "", n, NS_MAX_LEN);
  for (size_t i = 0; i < n; i++)
    {
      char c = ns[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || (i > 0 && (c == '-' || c == '_'));
      if (!ok)
        {
          itm_err_set (err, ITM_EXIT_USAGE, "invalid namespace '%s'%s%s: character %zu ('%c')", ns,
                       from ? " from " : "", from ? from : "", i + 1, c);
          return itm_err_hint (err, "use lowercase letters, digits, '-' and '_', starting with a "
                                    "letter or digit");
        }
    }
  return 0;
}

int
ns_resolve (const char *flag, const char *stack_name, const char *project_dir, char **out,
            struct itm_err *err)
{
  const char *env = getenv ("ITM_ENV_NAMESPACE");
  if (flag && *flag)
    {
      if (ns_check (flag, "-p", err) < 0)
        return -1;
      *out = xstrdup (flag);
      return 0;
    }
  if (env && *env)
    {
      if (ns_check (env, "ITM_ENV_NAMESPACE", err) < 0)
        return -1;
      *out = xstrdup (env);
      return 0;
    }
  if (stack_name && *stack_name)
    {
      char *n = ns_normalize (stack_name);
      if (*n)
        {
          *out = n;
          return 0;
        }
      free (n);
    }
  if (project_dir && *project_dir)
    {
      const char *base = strrchr (project_dir, '/');
      base = base ? base + 1 : project_dir;
      char *n = ns_normalize (base);
      if (*n)
        {
          *out = n;
          return 0;
        }
      free (n);
    }
  itm_err_set (err, ITM_EXIT_USAGE, "no namespace: none given and none can be derived");
  return itm_err_hint (err, "give one with -p NS or ITM_ENV_NAMESPACE");
}

char *
ns_container_name (const char *ns, const char *service, int n)
{
  return xasprintf ("%s-%s-%d", ns, service, n);
}

char *
ns_network_name (const char *ns, const char *key)
{
  return xasprintf ("%s_%s", ns, key);
}

char *
ns_volume_name (const char *ns, const char *key)
{
  return xasprintf ("%s_%s", ns, key);
}

void
ns_format_time (time_t t, char buf[32])
{
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
ns_parse_time (const char *s, time_t *t)
{
  struct tm tm = { 0 };
  const char *end = strptime (s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == NULL || *end != '\0')
    return -1;
  *t = timegm (&tm);
  return 0;
}

json_object *
ns_labels (const char *ns, long ttl)
{
  char host[256] = "", now[32], exp[32];
  time_t t = time (NULL);
  if (gethostname (host, sizeof host - 1) < 0)
    strcpy (host, "unknown");
  ns_format_time (t, now);
  ns_format_time (t + (ttl > 0 ? ttl : NS_DEFAULT_TTL), exp);
  json_object *o = json_object_new_object ();
  json_object_object_add (o, ITM_LABEL_NAMESPACE, json_object_new_string (ns));
  json_object_object_add (o, ITM_LABEL_CREATOR_HOST, json_object_new_string (host));
  char pid[32];
  snprintf (pid, sizeof pid, "%ld", (long) getpid ());
  json_object_object_add (o, ITM_LABEL_CREATOR_PID, json_object_new_string (pid));
  json_object_object_add (o, ITM_LABEL_CREATED, json_object_new_string (now));
  json_object_object_add (o, ITM_LABEL_EXPIRES, json_object_new_string (exp));
  json_object_object_add (o, ITM_LABEL_VERSION, json_object_new_string (PACKAGE_VERSION));
  return o;
}

char *
ns_filter_query (const char *ns)
{
  cleanup_free char *v = xasprintf ("%s=%s", ITM_LABEL_NAMESPACE, ns);
  const char *vals[] = { v };
  return engine_filters ("label", vals, 1);
}

static char *
state_root (void)
{
  const char *v = getenv ("ITM_ENV_STATE_DIR");
  if (v && *v)
    return xstrdup (v);
  v = getenv ("XDG_STATE_HOME");
  if (v && *v == '/')
    return xasprintf ("%s/itm-env", v);
  v = getenv ("HOME");
  return xasprintf ("%s/.local/state/itm-env", v && *v ? v : "/root");
}

static int
mkdir_p (char *path, mode_t mode)
{
  for (char *p = path + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        int r = mkdir (path, mode);
        *p = '/';
        if (r < 0 && errno != EEXIST)
          return -1;
      }
  if (mkdir (path, mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

char *
ns_state_dir (const char *ns, bool create, struct itm_err *err)
{
  if (ns_check (ns, NULL, err) < 0)
    return NULL;
  cleanup_free char *root = state_root ();
  char *dir = xasprintf ("%s/%s", root, ns);
  if (create)
    {
      if (mkdir_p (dir, 0700) < 0)
        {
          itm_err_errno (err, ITM_EXIT_FAILURE, "cannot create the state directory %s", dir);
          free (dir);
          return NULL;
        }
      /* never world-readable, whatever the umask or an earlier mode */
      if (chmod (dir, 0700) < 0)
        {
          itm_err_errno (err, ITM_EXIT_FAILURE, "chmod %s", dir);
          free (dir);
          return NULL;
        }
    }
  return dir;
}

/* Remove what directory fd dfd (named path, for messages) holds, and the
 * directories in it, depth levels down at most (the state dir has one:
 * data/).  Symbolic links are removed, never followed. */
static int
remove_tree_at (int dfd, const char *path, int depth, struct itm_err *err)
{
  DIR *d = fdopendir (dfd);
  if (d == NULL)
    {
      close (dfd);
      return itm_err_errno (err, ITM_EXIT_FAILURE, "opendir %s", path);
    }
  struct dirent *de;
  int ret = 0;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", path, de->d_name);
      if (unlinkat (dirfd (d), de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if ((errno == EISDIR || errno == EPERM) && depth > 0)
        {
          int sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            ret = itm_err_errno (err, ITM_EXIT_FAILURE, "opening %s", p);
          else if (remove_tree_at (sub, p, depth - 1, err) < 0)
            ret = -1;
          else if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ret = itm_err_errno (err, ITM_EXIT_FAILURE, "removing %s", p);
        }
      else
        ret = itm_err_errno (err, ITM_EXIT_FAILURE, "removing %s", p);
    }
  closedir (d);
  return ret;
}

int
ns_state_remove (const char *ns, struct itm_err *err)
{
  cleanup_free char *dir = ns_state_dir (ns, false, err);
  if (dir == NULL)
    return -1;
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : itm_err_errno (err, ITM_EXIT_FAILURE, "opening %s", dir);
  int ret = remove_tree_at (fd, dir, 2, err);
  if (ret == 0 && rmdir (dir) < 0 && errno != ENOENT)
    ret = itm_err_errno (err, ITM_EXIT_FAILURE, "removing %s", dir);
  return ret;
}

/* Open and lock path; the lock counts only while path still names the
 * file locked (ns_unlock may remove it while a waiter sleeps): otherwise
 * start over. */
int
ns_lock (const char *ns, struct itm_err *err)
{
  cleanup_free char *dir = ns_state_dir (ns, true, err);
  if (dir == NULL)
    return -1;
  cleanup_free char *path = xasprintf ("%s/up.lock", dir);
  bool said = false;
  for (int tries = 0;; tries++)
    {
      if (tries > 0 && mkdir (dir, 0700) < 0 && errno != EEXIST)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "creating %s", dir);
      int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "opening %s", path);
      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          if (errno != EWOULDBLOCK)
            {
              itm_err_errno (err, ITM_EXIT_FAILURE, "locking %s", path);
              close (fd);
              return -1;
            }
          if (!said)
            {
              char pid[32] = "";
              ssize_t n = pread (fd, pid, sizeof pid - 1, 0);
              pid[n > 0 ? n : 0] = '\0';
              pid[strcspn (pid, "\n")] = '\0';
              out_warn ("namespace %s: another itm-env up%s%s%s is at work on it: waiting for "
                        "it to finish", ns, *pid ? " (pid " : "", pid, *pid ? ")" : "");
              said = true;
            }
          /* blocking; a signal (SIGINT: no SA_RESTART) ends the wait */
          if (flock (fd, LOCK_EX) < 0)
            {
              int e = errno;
              close (fd);
              if (e == EINTR)
                return itm_err_set (err, ITM_EXIT_INTERRUPTED, "interrupted while waiting for "
                                    "the other up on namespace %s", ns);
              errno = e;
              return itm_err_errno (err, ITM_EXIT_FAILURE, "locking %s", path);
            }
        }
      struct stat a, b;
      if (fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino
          && a.st_dev == b.st_dev)
        {
          char pid[32];
          int len = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
          if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, (size_t) len, 0) != len)
            {
              /* the pid is only for the message above: not worth failing up */
            }
          return fd;
        }
      close (fd);   /* removed by its holder meanwhile: lock the new one */
    }
}

void
ns_unlock (const char *ns, int fd)
{
  if (fd < 0)
    return;
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, false, &err);
  if (dir)
    {
      /* the namespace keeps no other state (an up that created nothing):
       * leave no trace; waiters see the file gone and start over */
      DIR *d = opendir (dir);
      size_t others = 0;
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
            && strcmp (de->d_name, "up.lock"))
          others++;
      if (d)
        closedir (d);
      if (d && others == 0)
        {
          cleanup_free char *path = xasprintf ("%s/up.lock", dir);
          if (unlink (path) == 0)
            rmdir (dir);
        }
    }
  close (fd);
}
