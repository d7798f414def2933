#!/bin/sh
# engine-up.sh - make sure a Docker engine answers, starting one if needed.
#
# Uses $DOCKER_HOST (unix:// or tcp://) or the default socket.  When /_ping
# answers, there is nothing to do.  Otherwise, as root and for a local unix
# socket only, it installs Debian's docker.io if dockerd is missing, starts
# dockerd in the background (its own session, log and pid file under
# $ITM_TEST_STATE, default /var/tmp/itm-env-test) and waits up to
# $ITM_ENGINE_WAIT seconds (60) for /_ping.  Concurrent callers are
# serialized with flock; the engine it starts outlives it on purpose (the
# whole test run shares it).  $ITM_DOCKERD_ARGS adds dockerd options (a
# second engine beside the system's: --data-root, --exec-root, --iptables=false;
# never --bridge=none, which deletes the shared docker0).  Exit 0 when it answers.
set -eu

state=${ITM_TEST_STATE:-/var/tmp/itm-env-test}
wait_s=${ITM_ENGINE_WAIT:-60}
host=${DOCKER_HOST:-unix:///var/run/docker.sock}

ping () {
  case "$host" in
    unix://*)
      curl -sf --max-time 3 --unix-socket "${host#unix://}" http://engine/_ping \
        >/dev/null 2>&1 ;;
    tcp://*)
      if [ "${DOCKER_TLS_VERIFY:-}" = 1 ]; then
        d=${DOCKER_CERT_PATH:-$HOME/.docker}
        curl -sf --max-time 3 --cacert "$d/ca.pem" --cert "$d/cert.pem" \
          --key "$d/key.pem" "https://${host#tcp://}/_ping" >/dev/null 2>&1
      else
        curl -sf --max-time 3 "http://${host#tcp://}/_ping" >/dev/null 2>&1
      fi ;;
    *) return 1 ;;
  esac
}

ping && exit 0

case "$host" in
  unix://*) sock=${host#unix://} ;;
  *) echo "engine-up: no engine answers at $host, and only a local unix socket can be started" >&2
     exit 1 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "engine-up: no engine answers at $sock; start one (as root: $0)" >&2
  exit 1
fi

mkdir -p "$state"
exec 9>"$state/engine-up.lock"
flock 9
# Someone else may have started it while we waited for the lock.
ping && exit 0

PATH=$PATH:/usr/sbin:/sbin
if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine-up: installing docker.io" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io </dev/null
  # The package may have started its own service: done then.
  ping && exit 0
fi

log=$state/dockerd.log
pidfile=$state/dockerd.pid
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "engine-up: dockerd $(cat "$pidfile") is running but does not answer yet" >&2
else
  # A socket file left behind by a dead engine makes dockerd refuse to start.
  [ -S "$sock" ] && rm -f "$sock"
  echo "engine-up: starting dockerd (log: $log)" >&2
  # shellcheck disable=SC2086
  setsid dockerd --host "unix://$sock" --pidfile "$state/dockerd.dpid" ${ITM_DOCKERD_ARGS:-} 9>&- \
    </dev/null >>"$log" 2>&1 &
  echo $! >"$pidfile"
fi

i=0
why="no answer from $sock after ${wait_s}s"
while [ $i -lt $((wait_s * 4)) ]; do
  ping && { echo "engine-up: engine answers at $sock" >&2; exit 0; }
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    why="dockerd exited"
    break
  fi
  sleep 0.25
  i=$((i + 1))
done
echo "engine-up: $why; dockerd log (tail):" >&2
tail -n 30 "$log" >&2 || true
exit 1
