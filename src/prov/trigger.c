/* trigger.c - the readiness trigger (trigger.h): is one of the
 * container's TCP ports accepting connections yet?  A non-blocking
 * connect() to the container's address: refused (a closed port on a
 * local bridge answers with a reset at once) costs a few microseconds;
 * accepted is closed again at once (the service sees one connection that
 * sends nothing). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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
