/* trigger.h - private to src/prov/: the readiness trigger (ready.h's
 * schedule): the container's TCP ports, looked at with a connect() from
 * here, and its process table (its cgroup's list of processes, when the
 * engine runs on this host), each cheap enough to look at every
 * TRIGGER_POLL_NS. */
#ifndef ITM_PROV_TRIGGER_H
#define ITM_PROV_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "prov/ready.h"

#define TRIGGER_MAX_PORTS 4

struct trigger {
  unsigned n;                                   /* 0: no trigger */
  struct sockaddr_storage addr[TRIGGER_MAX_PORTS];
  socklen_t len[TRIGGER_MAX_PORTS];
  unsigned unknown;                             /* looks in a row that learnt nothing */
  /* the process table: "" when it cannot be read from here */
  char procs[256];                              /* the cgroup's cgroup.procs */
  uint64_t procs_sum;                           /* what it held at the last look */
  uint64_t procs_base;                          /* what it held when it last settled */
  bool procs_learn;                             /* the next look only learns it */
};

/* The container's exposed TCP ports at its address on its (first)
 * network, from an inspect; t->n == 0 when there are none, or the
 * container has no address of its own (host network).  And its process
 * table: t->procs is "" unless the container's init (State.Pid) is a
 * process of this host in a cgroup whose path names the container. */
void trigger_find (struct engine *e, const char *id, struct trigger *t);
/* One look: TRIG_OPEN when a port accepts a connection, TRIG_CLOSED when
 * all refuse, TRIG_NONE (and no more looks: t->n becomes 0) when the
 * ports cannot be reached from here (another host, a network this
 * process is not on) three looks in a row. */
enum ready_trigger trigger_look (struct trigger *t);
/* One look at the process table: true (a signal) when it is the same as
 * at the last look (it settled) and not what it was when it last settled
 * (a process that came and went, e.g. a probe's exec, is none); false
 * when it cannot be read (and no more looks: t->procs becomes ""). */
bool trigger_procs_look (struct trigger *t);

#endif
