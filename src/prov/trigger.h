/* trigger.h - private to src/prov/: the readiness trigger (ready.h's
 * schedule): the container's TCP ports, looked at with a connect() from
 * here, and, when the engine runs on this host, its signals: its process
 * table (its cgroup's processes and their names), its listen table (the
 * sockets listening in its network namespace), file activity in its
 * writable layer and mounts, and its log (fswatch.h), each cheap enough
 * to look at every TRIGGER_POLL_NS. */
#ifndef ITM_PROV_TRIGGER_H
#define ITM_PROV_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "prov/ready.h"

#define TRIGGER_MAX_PORTS 4
/* At most this many directories of the writable layer and mounts are
 * watched per container (inotify's watches are a per-user limit). */
#define TRIGGER_MAX_DIRS 128

/* A value looked at every TRIGGER_POLL_NS: a change that then holds
 * still for one look, to a value other than the one it last settled at,
 * is a signal (trigger_settle). */
struct settle {
  uint64_t last;                /* the value at the last look */
  uint64_t base;                /* the value when it last settled */
  bool known;                   /* false: the next look only learns it */
};

struct trigger {
  unsigned n;                                   /* 0: no port trigger */
  struct sockaddr_storage addr[TRIGGER_MAX_PORTS];
  socklen_t len[TRIGGER_MAX_PORTS];
  unsigned unknown;                             /* looks in a row that learnt nothing */
  /* the signals, when the container's init is a process of this host
   * (pid 0: it is not, and there are none) */
  long long pid;
  char procs[256];                              /* its cgroup's cgroup.procs */
  int files;                                    /* fswatch slot: writable layer and mounts, 0: none */
  int log;                                      /* fswatch slot: its json-file log, 0: none */
  int diag;                                     /* sock_diag socket in its netns, 0: none */
  struct settle s_procs, s_listen, s_files, s_log;
};

/* The container's exposed TCP ports at its address on its (first)
 * network, from an inspect; t->n == 0 when there are none, or the
 * container has no address of its own (host network).  And its signals:
 * t->pid is 0 unless the container's init (State.Pid) is a process of
 * this host in a cgroup whose path names the container; then its process
 * table, its listen table, its writable layer (overlay2's UpperDir, when
 * it can be read from here), its mounts (seen through /proc/PID/root) and
 * its log (LogPath) are watched.  trigger_free ends it. */
void trigger_find (struct engine *e, const char *id, struct trigger *t);
void trigger_free (struct trigger *t);
/* One look: TRIG_OPEN when a port accepts a connection, TRIG_CLOSED when
 * all refuse, TRIG_NONE (and no more looks: t->n becomes 0) when the
 * ports cannot be reached from here (another host, a network this
 * process is not on) three looks in a row. */
enum ready_trigger trigger_look (struct trigger *t);
/* Whether there are signals to look at (trigger_signal_look). */
bool trigger_watching (const struct trigger *t);
/* One look at the signals: true, with what gave it in *cause
 * (CAUSE_PROCS, CAUSE_LISTEN, CAUSE_LOG, CAUSE_FILES, in that order),
 * when one of them changed and settled (trigger_settle).  A process
 * that came and went between two looks (a probe's exec) is none.  When
 * the process table cannot be read any more (the container is gone)
 * every signal stops: t->pid becomes 0. */
bool trigger_signal_look (struct trigger *t, enum ready_cause *cause);

/* One look at a value (pure: tests): true when it is a signal. */
bool trigger_settle (struct settle *s, uint64_t v);
/* A sock_diag netlink socket in the network namespace of process pid
 * (needs CAP_SYS_ADMIN there), -1 when none can be had. */
int trigger_listen_open (long long pid);
/* The listen table through that socket: the listening TCP sockets'
 * family, address and port, hashed into *h; false when it does not
 * answer. */
bool trigger_listen_sum (int fd, uint64_t *h);

#endif
