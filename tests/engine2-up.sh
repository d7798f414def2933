#!/bin/sh
# engine2-up.sh - make sure the test bed's second, newer engine answers,
# starting it if needed; print its DOCKER_HOST on stdout.
#
# The second engine is Debian's next release's docker.io (26.1, API 1.45)
# with its containerd (1.7), fetched and unpacked by
# tests/fixtures/debian-next.sh (cached), run beside the machine's engine with
# everything of its own: socket $ITM_ENGINE2_RUN/docker.sock (default
# /run/itm-env-test/engine2), exec-root and pidfile there, data-root
# $ITM_TEST_STATE/engine2/data (default /var/tmp/itm-env-test/...), the
# containerd dockerd supervises under those two (its socket, root and state),
# and its own bridge itm-br2 (10.213.0.1/24, made here) with its own address
# pool for networks (10.214.0.0/16).  Never --bridge=none, never docker0:
# the machine's engine owns that.  --iptables=false: a second dockerd that
# manages iptables removes and remakes the DOCKER chains the first engine's
# published ports live in; published ports go through docker-proxy.  The
# runtime is Debian 12's runc (/usr/sbin/runc: trixie's needs glibc 2.38).
#
# Idempotent: when /_ping answers, nothing is done; callers are serialized
# with flock; the engine outlives the script on purpose.  As root only.
# Exit 0 (with unix://SOCKET on stdout) when it answers; 1 with a message
# (and the log's tail) when it cannot be had.  `engine2-up.sh stop` stops
# the engine this script started (by its pid file) and removes the bridge.
set -eu

state=${ITM_TEST_STATE:-/var/tmp/itm-env-test}/engine2
run=${ITM_ENGINE2_RUN:-/run/itm-env-test/engine2}
wait_s=${ITM_ENGINE_WAIT:-90}
sock=$run/docker.sock
bridge=itm-br2
bridge_addr=10.213.0.1/24
pool=10.214.0.0/16
here=$(cd "$(dirname "$0")" && pwd)

fw_chain=ITM-ENGINE2
# Containers on one of its bridges talk to each other: with br_netfilter
# (bridge-nf-call-iptables=1) bridged frames cross the FORWARD chain, whose
# policy the machine's engine set to DROP and whose rules only name its own
# bridges.  Our own chain accepts bridged traffic (physdev: the same bridge,
# not routed between networks, so networks stay isolated) within our
# ranges, and nothing else of the machine's rules is touched.
firewall () {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -C FORWARD -j "$fw_chain" 2>/dev/null && return 0
  iptables -N "$fw_chain" 2>/dev/null || iptables -F "$fw_chain"
  for net in "${bridge_addr%.*}.0/24" "$pool"; do
    iptables -A "$fw_chain" -s "$net" -d "$net" -m physdev --physdev-is-bridged -j ACCEPT
  done
  iptables -C FORWARD -j "$fw_chain" 2>/dev/null || iptables -I FORWARD -j "$fw_chain"
}

ping () {
  curl -sf --max-time 3 --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1
}

if [ "${1:-}" = stop ]; then
  [ "$(id -u)" = 0 ] || { echo "engine2-up: stop needs root" >&2; exit 1; }
  mkdir -p "$state"
  exec 9>"$state/lock"
  flock 9
  if [ -s "$run/dockerd.pid" ] && pid=$(cat "$run/dockerd.pid") \
     && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
  fi
  ip link del "$bridge" 2>/dev/null || true
  if command -v iptables >/dev/null 2>&1; then
    iptables -D FORWARD -j ITM-ENGINE2 2>/dev/null || true
    iptables -F ITM-ENGINE2 2>/dev/null && iptables -X ITM-ENGINE2 2>/dev/null || true
  fi
  exit 0
fi

if ping; then
  if [ "$(id -u)" = 0 ] && ! iptables -C FORWARD -j "$fw_chain" 2>/dev/null; then
    mkdir -p "$state"; exec 9>"$state/lock"; flock 9; firewall
  fi
  echo "unix://$sock"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "engine2-up: the second engine does not answer at $sock; start it (as root: $0)" >&2
  exit 1
fi

mkdir -p "$state" "$run"
exec 9>"$state/lock"
flock 9
if ping; then echo "unix://$sock"; exit 0; fi

root=$("$here/fixtures/debian-next.sh" docker.io containerd) || {
  echo "engine2-up: cannot have docker.io/containerd from Debian's next release" >&2
  exit 1
}
for f in "$root/usr/sbin/dockerd" "$root/usr/bin/containerd" \
         "$root/usr/bin/containerd-shim-runc-v2" /usr/sbin/runc; do
  [ -x "$f" ] || { echo "engine2-up: $f is missing" >&2; exit 1; }
done

# The bridge: ours by name; docker0 is never touched.
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge
fi
if ! ip -4 addr show dev "$bridge" | grep -q "inet $bridge_addr"; then
  ip addr add "$bridge_addr" dev "$bridge"
fi
ip link set "$bridge" up

firewall

[ -f "$state/daemon.json" ] || echo "{}" >"$state/daemon.json"
log=$state/dockerd.log
pidfile=$run/dockerd.pid
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "engine2-up: dockerd $(cat "$pidfile") is running but does not answer yet" >&2
else
  [ -S "$sock" ] && rm -f "$sock"
  echo "engine2-up: starting dockerd $("$root/usr/sbin/dockerd" --version) (log: $log)" >&2
  # Its own binaries first (dockerd, containerd, the shim, docker-proxy,
  # docker-init); runc is the machine's.
  PATH=$root/usr/bin:$root/usr/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    setsid "$root/usr/sbin/dockerd" \
      --host "unix://$sock" \
      --pidfile "$run/dockerd.dpid" \
      --exec-root "$run/exec" \
      --data-root "$state/data" \
      --bridge "$bridge" \
      --default-address-pool "base=$pool,size=24" \
      --iptables=false --ip-masq=false --ip-forward=false \
      --add-runtime itm-runc=/usr/sbin/runc --default-runtime itm-runc \
      --userland-proxy-path "$root/usr/sbin/docker-proxy" \
      --config-file "$state/daemon.json" \
      9>&- </dev/null >>"$log" 2>&1 &
  echo $! >"$pidfile"
fi

i=0
why="no answer from $sock after ${wait_s}s"
while [ $i -lt $((wait_s * 4)) ]; do
  if ping; then
    echo "engine2-up: engine answers at $sock" >&2
    echo "unix://$sock"
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    why="dockerd exited"
    break
  fi
  sleep 0.25
  i=$((i + 1))
done
echo "engine2-up: $why; dockerd log (tail):" >&2
tail -n 30 "$log" >&2 || true
exit 1
