#!/bin/sh
# ready-signals.sh - the readiness signals (src/prov/ready.h, itm-env(1)
# READINESS): a service whose readiness shows only as an exec into the
# server (its process names), a socket listening on 127.0.0.1 inside it,
# a line in its log, or a file in its writable layer, a tmpfs or a volume
# gets its passing probe from that signal, as the report's ready_by says;
# one whose check depends on time alone gets it from the blind schedule.
# Each service waits (a shell builtin: no process, no file, no output)
# about 2.5 s, then does the one thing of its kind.  A blind probe may
# happen to come first, so there are three rounds: every service is
# ready, by its own kind's signal or the schedule (or the engine's own
# health on API 1.44+), and each kind by its signal in one round at
# least.
# In a CI job container (its own pid namespace: no process table, no
# files, no log file of the services can be seen), the log comes as a
# stream from the engine: a service that prints when it is ready is
# ready by "log"; one that only execs, by the schedule.
# No time limits.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox debian-data
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
wait_='mkfifo /w; exec 3<>/w; read -t 2.5 x <&3'

svc () { # NAME CMD CHECK [EXTRA]
  printf '  %s:\n    image: %s\n    command: ["sh", "-c", "%s"]\n' "$1" "$bb" "$2"
  printf '    healthcheck: {test: ["CMD-SHELL", "%s"], interval: 1h, timeout: 10s}\n' "$3"
  [ -z "${4:-}" ] || printf '    %s\n' "$4"
}
kinds="exec listen log files tmpfs volume"
# three rounds of one service of each kind (a round of all eighteen at
# once loads the engine so that a probe takes a third of a second, and
# the blind probe in flight at the moment of truth then often passes)
for i in 1 2 3; do
  {
    echo "services:"
    svc exec "$wait_; exec sleep 3600" "grep -q sleep /proc/1/comm"
    # exec -a keeps the process's name (sh): only the listen table changes
    svc listen "mkdir /x; ln -s /bin/busybox /x/sh; $wait_; exec -a httpd /x/sh -f -p 127.0.0.1:8080" \
      "nc 127.0.0.1 8080 </dev/null"
    svc log "$wait_; echo ready; cd /etc; read x <&3" '[ $$(readlink /proc/1/cwd) = /etc ]'
    # mkdir is a process of its own (busybox sh has no such builtin): it
    # runs before the wait, or a slow one is a processes signal
    svc files "mkdir -p /a/b; $wait_; : >/a/b/up; read x <&3" "test -e /a/b/up"
    svc tmpfs "$wait_; : >/run/up; read x <&3" "test -e /run/up" "tmpfs: [/run]"
    svc volume "$wait_; : >/data/up; read x <&3" "test -e /data/up" 'volumes: ["data:/data"]'
    svc silent "sleep 3600" '[ $$(( $$(date +%s) - $$(stat -c %Y /proc/1) )) -ge 3 ]'
    echo "volumes: {data: {}}"
  } >"$tmp/s.yml"
  run "$ITM_ENV" -f "$tmp/s.yml" up --report "$tmp/r$i.json"
  is "$rc" 0 "round $i: every service is ready"
  is "$(jq -r '[.services[] | select(.ready_by != null)] | length' "$tmp/r$i.json")" 7 \
    "round $i: every service names what ran its passing probe"
  run "$ITM_ENV" down
  is "$rc" 0 "round $i: down"
done
by () { jq -r --arg n "$1" '.services[] | select(.name == $n) | .ready_by' "$tmp/r$2.json"; }
for k in $kinds; do
  want=$k
  case $k in exec) want=processes ;; tmpfs | volume) want=files ;; esac
  hits=0 all=
  for i in 1 2 3; do
    b=$(by "$k" "$i")
    all="$all $b"
    case $b in
      "$want") hits=$((hits + 1)) ;;
      blind | engine) ;;
      *) ok "$k, round $i: ready by '$b', not $want, blind or engine" false ;;
    esac
  done
  ok "$k: the probe that passed came from a $want signal in $hits of 3 rounds (by:$all)" \
    test "$hits" -ge 1
done
for i in 1 2 3; do
  b=$(by silent "$i")
  ok "silent (its check depends on time alone), round $i: ready by the schedule or the engine ('$b')" \
    sh -c "[ '$b' = blind ] || [ '$b' = engine ]"
done
# ---- in a job container: the log from the engine ----
image=$("$ITM_SRCDIR/tests/fixtures/job-image.sh" "$ITM_ENV") || bail "the job image failed to build"
job=$ITM_NS-job
at_exit "docker rm -f $job >/dev/null 2>&1 || true"
{
  echo "services:"
  for i in 1 2 3; do
    svc "log$i" "$wait_; echo ready; cd /etc; read x <&3" '[ $$(readlink /proc/1/cwd) = /etc ]'
  done
  svc exec "$wait_; exec sleep 3600" "grep -q sleep /proc/1/comm"
} >"$tmp/job.yml"
run timeout 300 docker run --rm --name "$job" -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp:/w" -w /w \
  -e NO_COLOR=1 "$image" sh -c "itm-env -f job.yml -p '$ITM_NS' up --report job.json; rc=\$?; itm-env -p '$ITM_NS' down -q; exit \$rc"
is "$rc" 0 "in a job container: every service is ready"
hits=0 all=
for i in 1 2 3; do
  b=$(jq -r --arg n "log$i" '.services[] | select(.name == $n) | .ready_by' "$tmp/job.json")
  all="$all $b"
  case $b in log) hits=$((hits + 1)) ;; blind | engine) ;; *) ok "job log$i: ready by '$b'" false ;; esac
done
ok "in a job container, the probe that passed came from the log stream in $hits of 3 (by:$all)" \
  test "$hits" -ge 1
b=$(jq -r '.services[] | select(.name == "exec") | .ready_by' "$tmp/job.json")
ok "in a job container, an exec into the server is not seen: ready by the schedule ('$b')" \
  sh -c "[ '$b' = blind ] || [ '$b' = engine ]"
done_testing
