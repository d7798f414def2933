#!/bin/sh
# teardown-bench.sh [ROUNDS] - does the teardown order provoke moby#42119
# (a network the engine will not remove, "has active endpoints", although
# no container is attached: a stale endpoint count that only a daemon
# restart clears)?
#
# Each round creates one network and N busybox containers on it (N=50,
# BENCH_N), started, each running a loop that exits on SIGTERM, then tears
# them down with one of two orders, 8 requests in flight like itm-env:
#   rmf    what `itm-env down` did: DELETE /containers/ID?force=1&v=1 for
#          all of them in parallel (running), then DELETE the network at once
#   stop   POST /containers/ID/stop?t=10 for all in parallel, then DELETE
#          them in parallel, then DELETE the network
#   stop0  what `itm-env down` does since: POST /containers/ID/stop?t=0 for
#          all in parallel (SIGKILL at once), then DELETE them in parallel,
#          then DELETE the network
# and counts, per order: "busy" = the first network DELETE answered "has
# active endpoints" (a transient race: itm-env retries it), "phantom" = it
# still did after 13 s of retries (0.1 s doubling) while the network's
# inspect lists no container (moby#42119).  A phantom network is left in
# place (only a daemon restart removes it) and named at the end.
# Figures, not a test.  Needs curl and itm-fixture/busybox:latest.
set -eu
rounds=${1:-10}
n=${BENCH_N:-50}
orders=${BENCH_ORDERS:-rmf stop stop0}
sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; sock=${sock#unix://}
bb=itm-fixture/busybox:latest
tag=itmtd-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-tdbench.XXXXXX")

api () { # METHOD PATH [JSON] -> body on stdout, "HTTP <code>" on fd 3
  if [ $# -ge 3 ]; then
    curl -s --unix-socket "$sock" -X "$1" -H 'Content-Type: application/json' -d "$3" \
         -w '\n%{http_code}' "http://e/v1.41$2"
  else
    curl -s --unix-socket "$sock" -X "$1" -w '\n%{http_code}' "http://e/v1.41$2"
  fi
}
code () { tail -n 1; }

cleanup () {
  for id in $(api GET "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22bench.itm-env%3D$tag%22%5D%7D" \
              | sed '$d' | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
    api DELETE "/containers/$id?force=1&v=1" >/dev/null
  done
  for net in $(cat "$tmp/nets" 2>/dev/null); do
    grep -qx "$net" "$tmp/phantoms" 2>/dev/null || api DELETE "/networks/$net" >/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
: > "$tmp/phantoms"

create_round () { # NET
  r=$(api POST /networks/create "{\"Name\":\"$1\",\"CheckDuplicate\":true,\"Labels\":{\"bench.itm-env\":\"$tag\"}}")
  [ "$(echo "$r" | code)" = 201 ] || { echo "network create: $r" >&2; exit 1; }
  echo "$1" >> "$tmp/nets"
  : > "$tmp/ids"
  i=1
  while [ $i -le "$n" ]; do
    echo "$1-c$i"
    i=$((i + 1))
  done | xargs -P 8 -I{} sh -c '
    body="{\"Image\":\"'"$bb"'\",\"Cmd\":[\"sh\",\"-c\",\"trap exit TERM; while :; do sleep 1; done\"],\"Labels\":{\"bench.itm-env\":\"'"$tag"'\"},\"HostConfig\":{\"NetworkMode\":\"'"$1"'\"}}"
    id=$(curl -s --unix-socket "'"$sock"'" -X POST -H "Content-Type: application/json" -d "$body" "http://e/v1.41/containers/create?name={}" | grep -o "\"Id\":\"[0-9a-f]*\"" | cut -d\" -f4)
    [ -n "$id" ] && curl -s --unix-socket "'"$sock"'" -X POST "http://e/v1.41/containers/$id/start" && echo "$id"' \
    >> "$tmp/ids"
}

par () { # METHOD PATH-TEMPLATE (with {}) over $tmp/ids, 8 in flight
  xargs -P 8 -I{} curl -s -o /dev/null --unix-socket "$sock" -X "$1" "http://e/v1.41$2" < "$tmp/ids"
}

teardown () { # ORDER NET -> "busy phantom"
  case $1 in
    rmf) par DELETE '/containers/{}?force=1&v=1' ;;
    stop) par POST '/containers/{}/stop?t=10'; par DELETE '/containers/{}?force=1&v=1' ;;
    stop0) par POST '/containers/{}/stop?t=0'; par DELETE '/containers/{}?force=1&v=1' ;;
  esac
  busy=0 phantom=0
  r=$(api DELETE "/networks/$2")
  c=$(echo "$r" | code)
  if [ "$c" != 204 ] && echo "$r" | grep -q 'active endpoints'; then
    busy=1
    d=1
    for _ in 1 2 3 4 5 6 7 8; do
      sleep "$(awk "BEGIN{print $d/10}")"
      [ $d -lt 32 ] && d=$((d * 2))
      r=$(api DELETE "/networks/$2"); c=$(echo "$r" | code)
      [ "$c" = 204 ] && break
    done
    if [ "$c" != 204 ]; then
      attached=$(api GET "/networks/$2" | sed '$d' | grep -o '"Containers":{[^}]' || true)
      if [ -z "$attached" ]; then phantom=1; echo "$2" >> "$tmp/phantoms"; fi
    fi
  elif [ "$c" != 204 ]; then
    echo "network delete: $r" >&2
  fi
  echo "$busy $phantom"
}

for o in $orders; do echo 0 > "$tmp/busy-$o"; echo 0 > "$tmp/phantom-$o"; echo 0 > "$tmp/ms-$o"; done
round=1
while [ "$round" -le "$rounds" ]; do
  for o in $orders; do
    net=$tag-$o-$round
    create_round "$net"
    t0=$(date +%s%N)
    set -- $(teardown "$o" "$net")
    t1=$(date +%s%N)
    echo $(( $(cat "$tmp/busy-$o") + $1 )) > "$tmp/busy-$o"
    echo $(( $(cat "$tmp/phantom-$o") + $2 )) > "$tmp/phantom-$o"
    echo $(( $(cat "$tmp/ms-$o") + (t1 - t0) / 1000000 )) > "$tmp/ms-$o"
    printf 'round %d %-5s %d containers: busy %d phantom %d (%d ms)\n' "$round" "$o" \
      "$(wc -l < "$tmp/ids")" "$1" "$2" $(( (t1 - t0) / 1000000 ))
  done
  round=$((round + 1))
done
echo "order  rounds  busy(first network DELETE refused)  phantom(moby#42119)  mean teardown ms"
for o in $orders; do
  printf '%-6s %6d  %34d  %19d  %16d\n' "$o" "$rounds" "$(cat "$tmp/busy-$o")" \
    "$(cat "$tmp/phantom-$o")" $(( $(cat "$tmp/ms-$o") / rounds ))
done
if [ -s "$tmp/phantoms" ]; then
  echo "phantom networks left (engine bug moby#42119: restart the daemon to clear them):"
  cat "$tmp/phantoms"
fi
