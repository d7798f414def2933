/* trigger.c - the readiness trigger (trigger.h): is one of the
 * container's TCP ports accepting connections yet?  A non-blocking
 * connect() to the container's address: refused (a closed port on a
 * local bridge answers with a reset at once) costs a few microseconds;
 * accepted is closed again at once (the service sees one connection that
 * sends nothing).  Did its process table, its listen table, its files or
 * its log change and settle?  Its cgroup's cgroup.procs and each
 * process's comm (about 12 us a file), its listening sockets from a
 * sock_diag netlink socket made in its network namespace (not
 * /proc/PID/net/tcp: reading that walks the host's whole TCP hash table,
 * 6 ms here), asked only when the namespace's count of TCP sockets in
 * use changed, compared by a hash; the files and the log as counts of
 * inotify events (fswatch.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prov/fswatch.h"
#include "prov/trigger.h"
#include "util/json.h"
#include "util/xalloc.h"

/* How long one look waits for a connection that is neither accepted nor
 * refused at once. */
#define LOOK_WAIT_MS 5
#define UNKNOWN_MAX 3

/* A small file's text into b (at most n - 1 bytes); its length, -1 when
 * it cannot be read. */
static ssize_t
slurp (const char *path, char *b, size_t n)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t len = 0;
  ssize_t r;
  while (len < n - 1 && (r = read (fd, b + len, n - 1 - len)) > 0)
    len += (size_t) r;
  b[len] = '\0';
  return (ssize_t) len;
}

/* The cgroup.procs of the container whose init is pid, into t->procs:
 * the first line of /proc/PID/cgroup whose path names the container
 * (cgroup v2: "0::PATH"; v1: "N:CONTROLLERS:PATH", mounted at
 * /sys/fs/cgroup/CONTROLLERS) whose file can be read. */
static void
procs_find (struct trigger *t, const char *id, long long pid)
{
  t->procs[0] = '\0';
  if (pid <= 0 || id == NULL || strlen (id) < 12)
    return;
  char p[64], cg[4096];
  snprintf (p, sizeof p, "/proc/%lld/cgroup", pid);
  if (slurp (p, cg, sizeof cg) <= 0)
    return;
  char *save = NULL;
  for (char *l = strtok_r (cg, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      char *ctl = strchr (l, ':'), *path = ctl ? strchr (ctl + 1, ':') : NULL;
      if (path == NULL || strstr (path, id) == NULL)
        continue;
      *path++ = '\0';
      ctl++;
      if (strncmp (ctl, "name=", 5) == 0)
        ctl += 5;
      int w = snprintf (t->procs, sizeof t->procs, "/sys/fs/cgroup%s%s%s/cgroup.procs",
                        *ctl ? "/" : "", ctl, path);
      if (w > 0 && (size_t) w < sizeof t->procs && access (t->procs, R_OK) == 0)
        {
          t->pid = pid;
          return;
        }
    }
  t->procs[0] = '\0';
}

/* The files and the log of container c (inspect) whose init is t->pid:
 * its writable layer (overlay2's UpperDir, when this process sees the
 * engine's directory) and its mounts, seen from inside it
 * (/proc/PID/root/DEST: a volume, a bind, a tmpfs), in one fswatch slot;
 * its log in another. */
static void
files_find (struct trigger *t, json_object *c)
{
  const char *up = NULL, *drv = json_str (c, "GraphDriver.Name");
  if (drv && strcmp (drv, "overlay2") == 0)
    up = json_str (c, "GraphDriver.Data.UpperDir");
  size_t n = 0;
  char *paths[1 + 16] = { 0 };
  if (up && *up == '/')
    paths[n++] = xstrdup (up);
  json_object *mounts = json_path (c, "Mounts");
  size_t nm = mounts && json_object_is_type (mounts, json_type_array)
                ? json_object_array_length (mounts) : 0;
  for (size_t i = 0; i < nm && n < sizeof paths / sizeof *paths; i++)
    {
      const char *dst = json_str (json_object_array_get_idx (mounts, i), "Destination");
      if (dst && *dst == '/')
        paths[n++] = xasprintf ("/proc/%lld/root%s", t->pid, dst);
    }
  /* tmpfs mounts (HostConfig.Tmpfs and Mounts of type tmpfs) are not in
   * Mounts */
  json_object *tmpfs = json_path (c, "HostConfig.Tmpfs");
  if (tmpfs && json_object_is_type (tmpfs, json_type_object))
    {
      json_object_object_foreach (tmpfs, dst, v)
        {
          (void) v;
          if (*dst == '/' && n < sizeof paths / sizeof *paths)
            paths[n++] = xasprintf ("/proc/%lld/root%s", t->pid, dst);
        }
    }
  json_object *hm = json_path (c, "HostConfig.Mounts");
  size_t nh = hm && json_object_is_type (hm, json_type_array) ? json_object_array_length (hm) : 0;
  for (size_t i = 0; i < nh && n < sizeof paths / sizeof *paths; i++)
    {
      json_object *m = json_object_array_get_idx (hm, i);
      const char *ty = json_str (m, "Type"), *dst = json_str (m, "Target");
      if (ty && strcmp (ty, "tmpfs") == 0 && dst && *dst == '/')
        paths[n++] = xasprintf ("/proc/%lld/root%s", t->pid, dst);
    }
  t->files = fswatch_add ((const char *const *) paths, n, TRIGGER_MAX_DIRS);
  for (size_t i = 0; i < n; i++)
    free (paths[i]);
  const char *log = json_str (c, "LogPath");
  if (log && *log == '/')
    t->log = fswatch_add (&log, 1, 0);
}

/* The log as a stream from the engine, for an engine on another host
 * (or a log file this process cannot see): GET /containers/ID/logs with
 * follow, from now on, on a raw connection of its own, read without
 * waiting at each look.  Not over ssh:// (each connection is an ssh
 * session, and sshd allows a few). */
static void
stream_open (struct engine *e, const char *id, struct trigger *t)
{
  const char *ep = engine_endpoint (e), *api = engine_api_version (e);
  if (id == NULL || (ep && strncmp (ep, "ssh://", 6) == 0))
    return;
  cleanup_err struct itm_err err = { 0 };
  struct engine_raw *r = engine_raw_open (e, &err);
  if (r == NULL)
    return;
  cleanup_free char *req
    = xasprintf ("GET %s%s/containers/%s/logs?follow=1&stdout=1&stderr=1&tail=0 HTTP/1.1\r\n"
                 "Host: docker\r\nUser-Agent: itm-env/" PACKAGE_VERSION "\r\n\r\n",
                 api ? "/v" : "", api ? api : "", id);
  if (engine_raw_send (r, req, strlen (req), &err) < 0)
    {
      engine_raw_close (r);
      return;
    }
  t->stream = r;
}

/* What came on the stream since the last look: its head (an answer other
 * than 200 ends it), then the bytes of the log counted; the end of the
 * stream ends it. */
static void
stream_end (struct trigger *t)
{
  engine_raw_close (t->stream);
  t->stream = NULL;
}

static void
stream_look (struct trigger *t)
{
  char b[4096];
  ssize_t n;
  while (t->stream && (n = engine_raw_read (t->stream, b, sizeof b, 0)) != -2)
    {
      if (n <= 0)
        return stream_end (t);
      ssize_t i = 0;
      while (i < n && t->head_end < 4)
        {
          /* the head ends at "\r\n\r\n": head_end counts how much of it came */
          char c = b[i++];
          if (t->head_len < sizeof t->head - 1)
            t->head[t->head_len++] = c;
          t->head_end = c == (t->head_end % 2 ? '\n' : '\r') ? t->head_end + 1 : c == '\r';
        }
      if (t->head_end == 4 && t->head_len)
        {
          /* the head is whole: its status once, then only the body counts */
          int status = 0;
          t->head[t->head_len] = '\0';
          t->head_len = 0;
          if (sscanf (t->head, "HTTP/%*s %d", &status) != 1 || status != 200)
            return stream_end (t);
        }
      t->stream_bytes += (uint64_t) (n - i);
    }
}

void
trigger_free (struct trigger *t)
{
  if (t->stream)
    engine_raw_close (t->stream);
  t->stream = NULL;
  fswatch_remove (t->files);
  fswatch_remove (t->log);
  t->files = t->log = 0;
  if (t->ltab.diag > 0)
    trigger_listen_close (&t->ltab);      /* diag -1 after: closed once */
}

void
trigger_find (struct engine *e, const char *id, struct trigger *t)
{
  memset (t, 0, sizeof *t);
  cleanup_err struct itm_err err = { 0 };
  cleanup_json json_object *c = NULL;
  cleanup_free char *path = xasprintf ("/containers/%s/json", id);
  if (engine_get (e, path, &c, &err) < 0)
    return;
  const char *ip = NULL;
  json_object *nets = json_path (c, "NetworkSettings.Networks");
  if (nets && json_object_is_type (nets, json_type_object))
    {
      json_object_object_foreach (nets, name, net)
        {
          (void) name;
          const char *a = json_str (net, "IPAddress");
          if (ip == NULL && a && *a)
            ip = a;
        }
    }
  procs_find (t, json_str (c, "Id"), (long long) json_int (c, "State.Pid", 0));
  if (t->pid)
    {
      files_find (t, c);
      trigger_listen_open (t->pid, &t->ltab);   /* diag -1 when it cannot */
    }
  if (t->log == 0)
    stream_open (e, json_str (c, "Id"), t);
  json_object *ports = json_path (c, "Config.ExposedPorts");
  struct in_addr in;
  if (ip == NULL || inet_pton (AF_INET, ip, &in) != 1 || ports == NULL
      || !json_object_is_type (ports, json_type_object))
    return;
  json_object_object_foreach (ports, key, v)
    {
      (void) v;
      char *end;
      long port = strtol (key, &end, 10);
      if (t->n >= TRIGGER_MAX_PORTS || port < 1 || port > 65535 || strcmp (end, "/tcp") != 0)
        continue;
      struct sockaddr_in *sa = (struct sockaddr_in *) &t->addr[t->n];
      sa->sin_family = AF_INET;
      sa->sin_port = htons ((uint16_t) port);
      sa->sin_addr = in;
      t->len[t->n++] = sizeof *sa;
    }
}

/* 1: accepted, 0: refused, -1: learnt nothing. */
static int
look_one (const struct sockaddr_storage *a, socklen_t len)
{
  int fd = socket (a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int r = -1;
  if (connect (fd, (const struct sockaddr *) a, len) == 0)
    r = 1;
  else if (errno == ECONNREFUSED)
    r = 0;
  else if (errno == EINPROGRESS)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      if (poll (&p, 1, LOOK_WAIT_MS) == 1)
        {
          int soerr = 0;
          socklen_t sl = sizeof soerr;
          if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
            r = soerr == 0 ? 1 : soerr == ECONNREFUSED ? 0 : -1;
        }
    }
  close (fd);
  return r;
}

enum ready_trigger
trigger_look (struct trigger *t)
{
  if (t->n == 0)
    return TRIG_NONE;
  bool refused = false;
  for (unsigned i = 0; i < t->n; i++)
    {
      int r = look_one (&t->addr[i], t->len[i]);
      if (r == 1)
        {
          t->unknown = 0;
          return TRIG_OPEN;
        }
      if (r == 0)
        refused = true;
    }
  if (refused)
    {
      t->unknown = 0;
      return TRIG_CLOSED;
    }
  if (++t->unknown >= UNKNOWN_MAX)
    t->n = 0;
  return t->n ? TRIG_CLOSED : TRIG_NONE;
}

#define FNV_INIT 14695981039346656037ULL

static uint64_t
fnv (uint64_t h, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char) b[i]) * 1099511628211ULL;
  return h;
}

/* The process table: the cgroup's processes that descend from the
 * container's init (its own pid, or a parent among them, up to init),
 * and each one's name.  A process whose parent is outside the container
 * is an exec (the engine's health probe, itm-env's, `docker exec`): it
 * and its children are left out.  False when the cgroup cannot be
 * read. */
#define PROCS_MAX 256
static bool
procs_sum (const char *path, long long init, uint64_t *sum)
{
  char b[4096], p[64], st[512];
  ssize_t n = slurp (path, b, sizeof b);
  if (n < 0)
    return false;
  long long pid[PROCS_MAX], ppid[PROCS_MAX];
  char comm[PROCS_MAX][17];
  size_t np = 0;
  char *save = NULL;
  for (char *l = strtok_r (b, "\n", &save); l && np < PROCS_MAX; l = strtok_r (NULL, "\n", &save))
    {
      /* "PID (COMM) S PPID ...": COMM may hold spaces and parentheses */
      snprintf (p, sizeof p, "/proc/%s/stat", l);
      char *o, *c;
      if (slurp (p, st, sizeof st) <= 0 || (o = strchr (st, '(')) == NULL
          || (c = strrchr (st, ')')) == NULL || c - o - 1 > 16)
        continue;               /* gone since */
      pid[np] = atoll (l);
      memcpy (comm[np], o + 1, (size_t) (c - o - 1));
      comm[np][c - o - 1] = '\0';
      char state;
      if (sscanf (c + 1, " %c %lld", &state, &ppid[np]) != 2)
        continue;
      np++;
    }
  uint64_t h = FNV_INIT;
  for (size_t i = 0; i < np; i++)
    {
      /* up the parents within the table, at most np steps */
      long long q = pid[i];
      for (size_t steps = 0; q != init && steps <= np; steps++)
        {
          size_t j = 0;
          while (j < np && pid[j] != q)
            j++;
          q = j < np ? ppid[j] : 0;
          if (q == 0)
            break;
        }
      if (q != init)
        continue;
      h = fnv (h, (const char *) &pid[i], sizeof pid[i]);
      h = fnv (h, comm[i], strlen (comm[i]) + 1);
    }
  *sum = h;
  return true;
}

/* The diag socket is made by a thread of its own that joins the
 * container's network namespace first (a netlink socket answers for the
 * namespace it was made in; the thread's namespace ends with it, so no
 * other thread ever runs in the container's). */
struct diag_open
{
  int ns, fd;
};

static void *
diag_open_thread (void *arg)
{
  struct diag_open *d = arg;
  if (setns (d->ns, CLONE_NEWNET) == 0)
    d->fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  return NULL;
}

bool
trigger_listen_open (long long pid, struct listen_table *lt)
{
  char p[64];
  *lt = (struct listen_table){ .diag = -1, .stat = { -1, -1 } };
  snprintf (p, sizeof p, "/proc/%lld/ns/net", pid);
  struct diag_open d = { .ns = open (p, O_RDONLY | O_CLOEXEC), .fd = -1 };
  pthread_t th;
  if (d.ns >= 0 && pthread_create (&th, NULL, diag_open_thread, &d) == 0)
    pthread_join (th, NULL);
  if (d.ns >= 0)
    close (d.ns);
  lt->diag = d.fd;
  if (lt->diag < 0)
    return false;
  /* /proc/PID/net is the namespace pid is in when it is opened */
  static const char *const name[2] = { "sockstat", "sockstat6" };
  for (int i = 0; i < 2; i++)
    {
      snprintf (p, sizeof p, "/proc/%lld/net/%s", pid, name[i]);
      lt->stat[i] = open (p, O_RDONLY | O_CLOEXEC);
    }
  return true;
}

void
trigger_listen_close (struct listen_table *lt)
{
  for (int i = 0; i < 2; i++)
    if (lt->stat[i] >= 0)
      close (lt->stat[i]);
  if (lt->diag >= 0)
    close (lt->diag);
  *lt = (struct listen_table){ .diag = -1, .stat = { -1, -1 } };
}

/* The "TCP: inuse N" and "TCP6: inuse N" lines, hashed; false when one
 * cannot be read. */
static bool
listen_inuse (const struct listen_table *lt, uint64_t *h)
{
  *h = FNV_INIT;
  for (int i = 0; i < 2; i++)
    {
      char b[1024];
      ssize_t n = lt->stat[i] >= 0 ? pread (lt->stat[i], b, sizeof b - 1, 0) : -1;
      if (n <= 0)
        return false;
      b[n] = '\0';
      const char *key = i ? "TCP6: inuse " : "TCP: inuse ";
      char *l = strstr (b, key);
      if (l == NULL)
        return false;
      unsigned long long v = strtoull (l + strlen (key), NULL, 10);
      *h = fnv (*h, (const char *) &v, sizeof v);
    }
  return true;
}

/* One family's listening TCP sockets into *h; false when the socket
 * does not answer. */
static bool
listen_dump (int fd, uint8_t family, uint64_t *h)
{
  struct
  {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 r;
  } req = { .nh = { .nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
            .r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << 10 /* TCP_LISTEN */ } };
  if (send (fd, &req, sizeof req, 0) != (ssize_t) sizeof req)
    return false;
  char b[8192] __attribute__ ((aligned (__alignof__ (struct nlmsghdr))));
  for (;;)
    {
      ssize_t n = recv (fd, b, sizeof b, 0);
      if (n <= 0)
        return false;
      for (struct nlmsghdr *nh = (struct nlmsghdr *) b; NLMSG_OK (nh, n); nh = NLMSG_NEXT (nh, n))
        {
          if (nh->nlmsg_type == NLMSG_DONE)
            return true;
          if (nh->nlmsg_type == NLMSG_ERROR)
            return false;
          const struct inet_diag_msg *m = NLMSG_DATA (nh);
          *h = fnv (*h, (const char *) &m->idiag_family, sizeof m->idiag_family);
          *h = fnv (*h, (const char *) &m->id.idiag_sport, sizeof m->id.idiag_sport);
          *h = fnv (*h, (const char *) m->id.idiag_src, sizeof m->id.idiag_src);
        }
    }
}

bool
trigger_listen_sum (struct listen_table *lt, uint64_t *h)
{
  uint64_t u;
  bool counted = listen_inuse (lt, &u);
  if (!(counted && lt->known && u == lt->inuse))
    {
      uint64_t d = FNV_INIT;
      lt->dumps++;
      if (lt->diag < 0 || !listen_dump (lt->diag, AF_INET, &d) || !listen_dump (lt->diag, AF_INET6, &d))
        {
          lt->known = false;
          return false;
        }
      lt->sum = d;
      lt->inuse = u;
      lt->known = counted;
    }
  *h = lt->sum;
  return true;
}

bool
trigger_settle (struct settle *s, uint64_t v)
{
  if (!s->known)
    {
      s->known = true;
      s->last = s->base = v;
      return false;
    }
  if (v != s->last)
    {
      s->last = v;              /* changing: wait until it holds */
      return false;
    }
  if (v == s->base)
    return false;
  s->base = v;
  return true;
}

bool
trigger_watching (const struct trigger *t)
{
  return t->pid != 0 || t->stream != NULL;
}

bool
trigger_signal_look (struct trigger *t, enum ready_cause *cause)
{
  uint64_t sum, l;
  bool sig = false;
  if (t->pid && !procs_sum (t->procs, t->pid, &sum))
    {
      t->pid = 0;               /* the container is gone, or never was here */
      trigger_free (t);
      return false;
    }
  /* every one is looked at (each learns its value), the first one that
   * gives a signal names it */
  if (t->pid && trigger_settle (&t->s_procs, sum))
    sig = true, *cause = CAUSE_PROCS;
  if (t->ltab.diag > 0 && trigger_listen_sum (&t->ltab, &l) && trigger_settle (&t->s_listen, l) && !sig)
    sig = true, *cause = CAUSE_LISTEN;
  if (t->stream)
    stream_look (t);
  if ((t->log || t->stream) && trigger_settle (&t->s_log, t->log ? fswatch_count (t->log)
                                                                  : t->stream_bytes)
      && !sig)
    sig = true, *cause = CAUSE_LOG;
  if (t->files && trigger_settle (&t->s_files, fswatch_count (t->files)) && !sig)
    sig = true, *cause = CAUSE_FILES;
  return sig;
}
