/* trigger.c - the readiness trigger (trigger.h): is one of the
 * container's TCP ports accepting connections yet?  A non-blocking
 * connect() to the container's address: refused (a closed port on a
 * local bridge answers with a reset at once) costs a few microseconds;
 * accepted is closed again at once (the service sees one connection that
 * sends nothing).  Did its process table change and settle?  One read of
 * its cgroup's cgroup.procs (a few microseconds), compared by a hash. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prov/trigger.h"
#include "util/json.h"
#include "util/xalloc.h"

/* How long one look waits for a connection that is neither accepted nor
 * refused at once. */
#define LOOK_WAIT_MS 5
#define UNKNOWN_MAX 3

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
  cleanup_close int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, cg, sizeof cg - 1);
  if (n <= 0)
    return;
  cg[n] = '\0';
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
          t->procs_learn = true;
          return;
        }
    }
  t->procs[0] = '\0';
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

/* FNV-1a over the table's bytes; false when it cannot be read. */
static bool
procs_sum (const char *path, uint64_t *sum)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  uint64_t h = 14695981039346656037ULL;
  char b[4096];
  ssize_t n;
  while ((n = read (fd, b, sizeof b)) > 0)
    for (ssize_t i = 0; i < n; i++)
      h = (h ^ (unsigned char) b[i]) * 1099511628211ULL;
  *sum = h;
  return n == 0;
}

bool
trigger_procs_look (struct trigger *t)
{
  uint64_t sum;
  if (t->procs[0] == '\0')
    return false;
  if (!procs_sum (t->procs, &sum))
    {
      t->procs[0] = '\0';      /* the container is gone, or never was here */
      return false;
    }
  if (t->procs_learn)
    {
      t->procs_learn = false;
      t->procs_sum = t->procs_base = sum;
      return false;
    }
  if (sum != t->procs_sum)
    {
      t->procs_sum = sum;       /* changing: wait until it holds */
      return false;
    }
  if (sum == t->procs_base)
    return false;
  t->procs_base = sum;
  return true;
}
