/* trigger.h - private to src/prov/: the readiness trigger (ready.h's
 * schedule): the container's TCP ports, looked at with a connect() from
 * here, and, when the engine runs on this host, its signals: its process
 * table (its cgroup's processes and their names), its listen table (the
 * sockets listening in its network namespace), file activity in its
 * writable layer and mounts, and its log (fswatch.h), each cheap enough
 * to look at often (ready.h, "The looks"). */
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

/* A value looked at again and again (ready.h, "The looks"): a change that then holds
 * still for one look, to a value other than the one it last settled at,
 * is a signal (trigger_settle). */
struct settle {
  uint64_t last;                /* the value at the last look */
  uint64_t base;                /* the value when it last settled */
  bool known;                   /* false: the next look only learns it */
};

/* The listen table of a network namespace: a sock_diag netlink socket
 * made in it, asked only when its count of TCP sockets in use
 * (/proc/PID/net/sockstat, sockstat6: a read of a few counters, 1 us)
 * changed since the last look: a dump walks the host's whole listening
 * hash, 20-70 us. */
struct listen_table {
  int diag;                     /* the socket, -1: none */
  int stat[2];                  /* sockstat, sockstat6, -1: none (every look dumps) */
  uint64_t inuse;               /* their TCP lines at the last dump */
  uint64_t sum;                 /* what the last dump hashed */
  bool known;
  unsigned dumps;               /* dumps so far (tests) */
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
  struct listen_table ltab;                     /* its netns's listen table, diag <= 0: none */
  /* the log from the engine (not on this host, or no log file here) */
  struct engine_raw *stream;                    /* GET .../logs?follow, NULL: none */
  char head[256];                               /* its answer's head, so far */
  size_t head_len;
  int head_end;                                 /* how much of "\r\n\r\n" came */
  uint64_t stream_bytes;                        /* the log's bytes since */
  struct settle s_procs, s_listen, s_files, s_log;
};

/* The container's exposed TCP ports at its address on its (first)
 * network, from an inspect; t->n == 0 when there are none, or the
 * container has no address of its own (host network).  And its signals:
 * t->pid is 0 unless the container's init (State.Pid) is a process of
 * this host in a cgroup whose path names the container; then its process
 * table, its listen table, its writable layer (overlay2's UpperDir, when
 * it can be read from here), its mounts (seen through /proc/PID/root) and
 * its log (LogPath) are watched.  When its log file cannot be watched
 * from here (another host, a job container), its log comes as a stream
 * from the engine (not over ssh://).  trigger_free ends it. */
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
/* Open the listen table of process pid's network namespace (needs
 * CAP_SYS_ADMIN there); false when no socket can be had. */
bool trigger_listen_open (long long pid, struct listen_table *lt);
void trigger_listen_close (struct listen_table *lt);
/* The listen table: the listening TCP sockets' family, address and port,
 * hashed into *h; false when the socket does not answer. */
bool trigger_listen_sum (struct listen_table *lt, uint64_t *h);

#endif
