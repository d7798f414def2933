/* trigger.h - private to src/prov/: the readiness trigger (ready.h's
 * schedule): the container's TCP ports, looked at with a connect() from
 * here, cheap enough to do every TRIGGER_POLL_NS. */
#ifndef ITM_PROV_TRIGGER_H
#define ITM_PROV_TRIGGER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "prov/ready.h"

#define TRIGGER_MAX_PORTS 4

struct trigger {
  unsigned n;                                   /* 0: no trigger */
  struct sockaddr_storage addr[TRIGGER_MAX_PORTS];
  socklen_t len[TRIGGER_MAX_PORTS];
  unsigned unknown;                             /* looks in a row that learnt nothing */
};

/* The container's exposed TCP ports at its address on its (first)
 * network, from an inspect; t->n == 0 when there are none, or the
 * container has no address of its own (host network). */
void trigger_find (struct engine *e, const char *id, struct trigger *t);
/* One look: TRIG_OPEN when a port accepts a connection, TRIG_CLOSED when
 * all refuse, TRIG_NONE (and no more looks: t->n becomes 0) when the
 * ports cannot be reached from here (another host, a network this
 * process is not on) three looks in a row. */
enum ready_trigger trigger_look (struct trigger *t);

#endif
