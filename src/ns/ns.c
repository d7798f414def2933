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

/* ---- the state directory: trusted, never through a link ----
 *
 * Like ssh's StrictModes and systemd's chase: the path to the state root
 * is walked one component at a time from "/", each opened relative to its
 * parent's fd.  Every directory on the way must be owned by root or the
 * user, and not writable by group or others unless it has the sticky bit
 * (like /tmp: others cannot rename or remove what is ours there).  A
 * symbolic link on the way is followed only where it sits in a directory
 * nobody else can write (only root or the user can have made it); the
 * state root itself and everything under it is never a link.  <root>/<ns>
 * must be owned by the user and not writable by group or others; it is
 * made 0700.  Missing directories are made (mkdirat, 0700) when asked. */

static bool root_warned;

static int
unsafe (struct itm_err *err, const char *what, const char *path, const char *why)
{
  itm_err_set (err, ITM_EXIT_FAILURE, "unsafe state %s: %s %s", what, path, why);
  return itm_err_hint (err, "itm-env keeps its state under $ITM_ENV_STATE_DIR, else "
                            "$XDG_STATE_HOME/itm-env, else ~/.local/state/itm-env: choose a "
                            "directory only you (or root) can write");
}

/* A directory on the way to the state root (or the root): acceptable? */
static int
dir_trusted (const struct stat *s, const char *path, struct itm_err *err)
{
  uid_t me = geteuid ();
  if (!S_ISDIR (s->st_mode))
    return unsafe (err, "directory", path, "is not a directory");
  if (s->st_uid != me && s->st_uid != 0)
    {
      char why[96];
      snprintf (why, sizeof why, "is owned by uid %ld, neither you (uid %ld) nor root",
                (long) s->st_uid, (long) me);
      return unsafe (err, "directory", path, why);
    }
  if ((s->st_mode & 0022) && !(s->st_mode & S_ISVTX))
    return unsafe (err, "directory", path,
                   "is writable by group or others and has no sticky bit");
  return 0;
}

/* fd of the directory name in parent (path names it, for messages),
 * created when create; 0 when absent and !create.  shared: parent is
 * writable by others; last: the state root itself (no link). */
static int
walk_one (int parent, const char *name, const char *path, bool create, bool shared, bool last,
          int *out, struct itm_err *err)
{
  struct stat s;
  for (int tries = 0;; tries++)
    {
      if (fstatat (parent, name, &s, AT_SYMLINK_NOFOLLOW) == 0)
        break;
      if (errno != ENOENT)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", path);
      if (!create)
        return 0;
      if (mkdirat (parent, name, 0700) < 0 && errno != EEXIST)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot create the state directory %s",
                              path);
      if (tries > 3)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", path);
    }
  bool link = S_ISLNK (s.st_mode);
  if (link && (last || shared))
    return unsafe (err, "directory", path,
                   last ? "is a symbolic link (refusing to follow it)"
                        : "is a symbolic link in a directory others can write (refusing to "
                          "follow it)");
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (link ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", path);
  if (fstat (fd, &s) < 0 || dir_trusted (&s, path, err) < 0)
    {
      if (!itm_err_isset (err))
        itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", path);
      close (fd);
      return -1;
    }
  *out = fd;
  return 1;
}

/* The state root, walked from "/": its fd in *out; 1, 0 (absent and
 * !create) or -1. */
static int
root_open (const char *root, bool create, int *out, struct itm_err *err)
{
  cleanup_free char *abs = NULL;
  if (root[0] != '/')
    {
      cleanup_free char *cwd = getcwd (NULL, 0);
      if (cwd == NULL)
        return itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", root);
      abs = xasprintf ("%s/%s", cwd, root);
    }
  else
    abs = xstrdup (root);
  int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat s;
  if (fd < 0 || fstat (fd, &s) < 0)
    {
      if (fd >= 0)
        close (fd);
      return itm_err_errno (err, ITM_EXIT_FAILURE, "opening /");
    }
  if (dir_trusted (&s, "/", err) < 0)
    {
      close (fd);
      return -1;
    }
  struct buf so_far = { 0 };
  buf_adds (&so_far, "");
  char *save = NULL;
  int ret = 1;
  for (char *c = strtok_r (abs, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0)
        continue;
      buf_addf (&so_far, "/%s", c);
      if (strcmp (c, "..") == 0)
        {
          ret = unsafe (err, "directory", so_far.data, "contains '..'");
          break;
        }
      bool last = true;
      for (const char *r = save; r && *r; r++)
        if (*r != '/')
          {
            last = false;
            break;
          }
      bool shared = (s.st_mode & 0022) != 0;
      int next = -1;
      ret = walk_one (fd, c, so_far.data, create, shared, last, &next, err);
      close (fd);
      fd = next;
      if (ret <= 0)
        break;
      fstat (fd, &s);
    }
  if (ret == 1 && (s.st_mode & 0002) && !root_warned)
    {
      root_warned = true;
      out_warn ("the state root %s is writable by everyone (sticky, so others cannot touch "
                "itm-env's files, but they can see which namespaces exist)", so_far.data);
    }
  buf_free (&so_far);
  if (ret == 1)
    *out = fd;
  else if (fd >= 0)
    close (fd);
  return ret;
}

int
ns_state_open (const char *ns, bool create, char **path, struct itm_err *err)
{
  if (path)
    *path = NULL;
  if (ns_check (ns, NULL, err) < 0)
    return -1;
  cleanup_free char *root = state_root ();
  cleanup_free char *dir = xasprintf ("%s/%s", root, ns);
  int rfd = -1;
  int r = root_open (root, create, &rfd, err);
  if (r <= 0)
    {
      if (r == 0 && path)
        *path = steal_pointer (&dir);
      return r < 0 ? -1 : -2;
    }
  struct stat s;
  int fd = -1;
  for (int tries = 0;; tries++)
    {
      if (fstatat (rfd, ns, &s, AT_SYMLINK_NOFOLLOW) == 0)
        break;
      if (errno != ENOENT || !create || tries > 3)
        {
          int e = errno;
          close (rfd);
          if (e == ENOENT && path)
            *path = steal_pointer (&dir);
          errno = e;
          return e == ENOENT ? -2 : itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s",
                                                   dir);
        }
      if (mkdirat (rfd, ns, 0700) < 0 && errno != EEXIST)
        {
          itm_err_errno (err, ITM_EXIT_FAILURE, "cannot create the state directory %s", dir);
          close (rfd);
          return -1;
        }
    }
  if (S_ISLNK (s.st_mode))
    {
      close (rfd);
      return unsafe (err, "directory", dir,
                     "is a symbolic link (refusing to follow it)");
    }
  fd = openat (rfd, ns, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close (rfd);
  if (fd < 0 || fstat (fd, &s) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "state directory %s", dir);
      if (fd >= 0)
        close (fd);
      return -1;
    }
  const char *why = NULL;
  char buf[96];
  if (s.st_uid != geteuid ())
    {
      snprintf (buf, sizeof buf, "is owned by uid %ld, not by you (uid %ld)", (long) s.st_uid,
                (long) geteuid ());
      why = buf;
    }
  else if (s.st_mode & 0022)
    why = "is writable by group or others (someone else may have put files there)";
  if (why)
    {
      close (fd);
      return unsafe (err, "directory", dir, why);
    }
  /* never readable by others, whatever the umask or an earlier mode */
  if ((s.st_mode & 07777) != 0700 && fchmod (fd, 0700) < 0)
    {
      itm_err_errno (err, ITM_EXIT_FAILURE, "chmod %s", dir);
      close (fd);
      return -1;
    }
  if (path)
    *path = steal_pointer (&dir);
  return fd;
}

char *
ns_state_dir (const char *ns, bool create, struct itm_err *err)
{
  char *path = NULL;
  int fd = ns_state_open (ns, create, &path, err);
  if (fd >= 0)
    close (fd);
  else if (fd == -1)
    {
      free (path);
      return NULL;
    }
  return path;
}

int
ns_state_file (const char *ns, const char *name, int flags, mode_t mode, struct itm_err *err)
{
  cleanup_free char *dir = NULL;
  int dfd = ns_state_open (ns, (flags & O_CREAT) != 0, &dir, err);
  if (dfd == -2)
    {
      errno = ENOENT;
      return -2;
    }
  if (dfd < 0)
    return -1;
  int fd = openat (dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode);
  int e = errno;
  close (dfd);
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  if (fd < 0)
    {
      if (e == ENOENT && !(flags & O_CREAT))
        {
          errno = ENOENT;
          return -2;
        }
      if (e == ELOOP)
        return unsafe (err, "file", path,
                       "is a symbolic link (refusing to follow it)");
      errno = e;
      return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot open %s", path);
    }
  struct stat s;
  const char *why = NULL;
  if (fstat (fd, &s) < 0)
    why = "cannot be examined";
  else if (!S_ISREG (s.st_mode))
    why = "is not a regular file";
  else if (s.st_uid != geteuid ())
    why = "is not owned by you";
  else if (s.st_nlink > 1)
    why = "has other hard links (refusing to write through them)";
  if (why)
    {
      close (fd);
      return unsafe (err, "file", path, why);
    }
  /* back to blocking (O_NONBLOCK only kept a FIFO from blocking the open) */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
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
  cleanup_free char *dir = NULL;
  int fd = ns_state_open (ns, false, &dir, err);
  if (fd == -2)
    return 0;
  if (fd < 0)
    return -1;
  int ret = remove_tree_at (fd, dir, 2, err);
  if (ret == 0 && rmdir (dir) < 0 && errno != ENOENT)
    ret = itm_err_errno (err, ITM_EXIT_FAILURE, "removing %s", dir);
  return ret;
}

/* The lock this process holds (one namespace at a time), for
 * ns_lock_held. */
static int held_fd = -1;
static char held_ns[NS_MAX_LEN + 1];

int
ns_lock_held (const char *ns)
{
  return held_fd >= 0 && strcmp (held_ns, ns) == 0 ? held_fd : -1;
}

/* Open and lock path; the lock counts only while path still names the
 * file locked (ns_unlock, or the watchdog's removal, may remove it while a
 * waiter sleeps): otherwise start over. */
int
ns_lock (const char *ns, struct itm_err *err)
{
  bool said = false;
  for (int tries = 0;; tries++)
    {
      int fd = ns_state_file (ns, "up.lock", O_RDWR | O_CREAT, 0600, err);
      if (fd < 0)
        return -1;
      cleanup_free char *dir = ns_state_dir (ns, false, err);
      if (dir == NULL)
        {
          close (fd);
          return -1;
        }
      cleanup_free char *path = xasprintf ("%s/up.lock", dir);
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
                        "it (or, if it died, its watchdog) to finish", ns,
                        *pid ? " (pid " : "", pid, *pid ? ")" : "");
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
      if (fstat (fd, &a) == 0 && lstat (path, &b) == 0 && a.st_ino == b.st_ino
          && a.st_dev == b.st_dev)
        {
          char pid[32];
          int len = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
          if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, (size_t) len, 0) != len)
            {
              /* the pid is only for the message above: not worth failing up */
            }
          held_fd = fd;
          snprintf (held_ns, sizeof held_ns, "%s", ns);
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
  if (fd == held_fd)
    held_fd = -1;
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *dir = NULL;
  int dfd = ns_state_open (ns, false, &dir, &err);
  if (dfd >= 0)
    {
      /* the namespace keeps no other state (an up that created nothing):
       * leave no trace; waiters see the file gone and start over */
      DIR *d = fdopendir (dfd);
      size_t others = 0;
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
            && strcmp (de->d_name, "up.lock"))
          others++;
      if (d && others == 0 && unlinkat (dirfd (d), "up.lock", 0) == 0)
        rmdir (dir);
      if (d)
        closedir (d);
      else
        close (dfd);
    }
  close (fd);
}

char **
ns_state_namespaces (void)
{
  cleanup_err struct itm_err err = { 0 };
  cleanup_free char *root = state_root ();
  int fd = -1;
  if (root_open (root, false, &fd, &err) <= 0)
    return NULL;
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return NULL;
    }
  char **v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_err struct itm_err e2 = { 0 };
      if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        continue;
      if (de->d_name[0] == '.' || ns_check (de->d_name, NULL, &e2) < 0)
        continue;
      v = xgrow (v, &cap, n + 2, sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  closedir (d);
  return v;
}
