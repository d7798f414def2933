#!/bin/sh
# up-bench.sh ITM_ENV - time to all-ready and teardown time of itm-env up/down
# against the floor (the same engine calls scripted with curl on the socket,
# readiness from the engine's own health status, polled every 50 ms) and
# docker-compose 1.29 (`up -d`, then polling until healthy; `down -v`), on:
#   four-1s   the demo stack (postgres, redis, one-shot, api), interval 1s
#   four-10s  the same, interval 10s
#   ind-10    10 independent busybox services
#   ind-50    50 independent busybox services
#   cpu-N     N independent services (e.g. cpu-10 cpu-50 cpu-100): CPU time
#             of `up` (user+sys, ms and ms per service) and, with
#             BENCH_STRACE=1, its poll() calls (strace -f -c, a second run)
# Figures, not a test (make bench).  Goal: within 10% + 100 ms of the floor,
# ahead of docker-compose in every row, ahead of the floor in four-10s.
set -eu
itm=${1:?usage: up-bench.sh path/to/itm-env}
sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; sock=${sock#unix://}
rows=${BENCH_ROWS:-four-1s four-10s ind-10 ind-50 cpu-10 cpu-50 cpu-100}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-upbench.XXXXXX")
ns=itmb-$$
trap '"$itm" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
dc=$(command -v docker-compose || true)
bb=itm-fixture/busybox:latest

now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
api () { # METHOD PATH [JSON]
  if [ $# -ge 3 ]; then
    curl -sf --unix-socket "$sock" -X "$1" -H 'Content-Type: application/json' -d "$3" "http://e/v1.41$2"
  else
    curl -sf --unix-socket "$sock" -X "$1" "http://e/v1.41$2"
  fi
}

gen_four () { # INTERVAL
  cat <<EOF2
services:
  db:
    image: itm-fixture/postgres:15
    environment: {POSTGRES_USER: demo, POSTGRES_PASSWORD: demo, POSTGRES_DB: demo}
    ports: ["5432"]
    healthcheck: {test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U demo -d demo"], interval: $1, timeout: 5s, retries: 30}
  cache:
    image: itm-fixture/redis:7
    ports: ["6379"]
    healthcheck: {test: ["CMD", "redis-cli", "ping"], interval: $1, timeout: 5s, retries: 30}
  migrate:
    image: $bb
    command: ["sh", "-c", "echo migrating; sleep 0.2"]
  api:
    image: $bb
    command: ["httpd", "-f", "-p", "8080"]
    ports: ["8080"]
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    healthcheck: {test: ["CMD", "true"], interval: $1, timeout: 3s, retries: 30}
EOF2
}
gen_ind () { # N
  echo "services:"
  i=1
  while [ $i -le "$1" ]; do
    printf '  s%d:\n    image: %s\n    command: ["sleep", "3600"]\n' $i "$bb"
    i=$((i + 1))
  done
}

# ---- the floor: the engine calls, scripted ----
floor_labels='"Labels":{"io.itm-env.namespace":"'$ns'"}'
fl_net () { api POST /networks/create "{\"Name\":\"${ns}_default\",$floor_labels}" >/dev/null; }
fl_create () { # NAME JSON-FIELDS
  api POST "/containers/create?name=$ns-$1-1" \
    "{$2,$floor_labels,\"HostConfig\":{\"NetworkMode\":\"${ns}_default\"${3:-}}}" >/dev/null
}
fl_start () { api POST "/containers/$ns-$1-1/start" >/dev/null; }
fl_state () { api GET "/containers/$ns-$1-1/json" | jq -r '(.State.Health.Status // .State.Status) + " " + (.State.ExitCode|tostring)'; }
fl_until () { # NAME STATE...
  _n=$1; shift
  while :; do
    _s=$(fl_state "$_n")
    for _w; do [ "$_s" = "$_w" ] && return 0; done
    sleep 0.05
  done
}
hc () { echo "\"Healthcheck\":{\"Test\":$1,\"Interval\":$2,\"Timeout\":5000000000,\"Retries\":30}"; }
floor_up_four () { # INTERVAL_NS
  fl_net
  pb=',"PortBindings":{"5432/tcp":[{"HostIp":"127.0.0.1"}]}'
  fl_create db '"Image":"itm-fixture/postgres:15","Env":["POSTGRES_USER=demo","POSTGRES_PASSWORD=demo","POSTGRES_DB=demo"],"ExposedPorts":{"5432/tcp":{}},'"$(hc '["CMD-SHELL","pg_isready -h 127.0.0.1 -U demo -d demo"]' "$1")" "$pb" &
  fl_create cache '"Image":"itm-fixture/redis:7","ExposedPorts":{"6379/tcp":{}},'"$(hc '["CMD","redis-cli","ping"]' "$1")" ',"PortBindings":{"6379/tcp":[{"HostIp":"127.0.0.1"}]}' &
  fl_create migrate '"Image":"'$bb'","Cmd":["sh","-c","echo migrating; sleep 0.2"]' &
  fl_create api '"Image":"'$bb'","Cmd":["httpd","-f","-p","8080"],"ExposedPorts":{"8080/tcp":{}},'"$(hc '["CMD","true"]' "$1")" ',"PortBindings":{"8080/tcp":[{"HostIp":"127.0.0.1"}]}' &
  wait
  fl_start db & fl_start cache & fl_start migrate & wait
  fl_until db "healthy 0" & fl_until cache "healthy 0" & fl_until migrate "exited 0" & wait
  fl_start api
  fl_until api "healthy 0"
}
floor_up_ind () { # N
  fl_net
  i=1; while [ $i -le "$1" ]; do fl_create s$i '"Image":"'$bb'","Cmd":["sleep","3600"]' & i=$((i + 1)); done; wait
  i=1; while [ $i -le "$1" ]; do fl_start s$i & i=$((i + 1)); done; wait
}
floor_down () {
  for id in $(api GET "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.itm-env.namespace%3D$ns%22%5D%7D" | jq -r '.[].Id'); do
    api DELETE "/containers/$id?force=1&v=1" >/dev/null &
  done
  wait
  api DELETE "/networks/${ns}_default" >/dev/null
}

# ---- docker-compose ----
dc_ready () { # poll until every container is healthy, or running without a healthcheck, or exited 0
  while :; do
    _bad=$(docker ps -aq --filter "label=com.docker.compose.project=$ns" | xargs docker inspect \
      | jq '[.[] | select(((.State.Health.Status // "none") as $h | ($h == "healthy") or ($h == "none" and (.State.Status == "running" or (.State.Status == "exited" and .State.ExitCode == 0)))) | not)] | length')
    [ "$_bad" = 0 ] && return 0
    sleep 0.05
  done
}

cpu_row () { # N: CPU of up, per service; poll() calls with BENCH_STRACE=1
  gen_ind "$1" >"$tmp/s.yml"
  /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$itm" -f "$tmp/s.yml" -p "$ns" up -q
  "$itm" down -p "$ns" -q
  read -r u sy rss <"$tmp/time"
  ms=$(echo "($u + $sy) * 1000" | bc)
  polls=-
  if [ "${BENCH_STRACE:-0}" = 1 ]; then
    strace -f -qq -c -e trace=poll,ppoll -o "$tmp/st" "$itm" -f "$tmp/s.yml" -p "$ns" up -q
    "$itm" down -p "$ns" -q
    polls=$(awk '$NF == "poll" || $NF == "ppoll" { n += $4 } END { print n + 0 }' "$tmp/st")
  fi
  printf '%-9s %-14s cpu_ms %6.0f  ms/service %5.2f  peak_rss_kb %6d  polls %s\n' "cpu-$1" itm-env \
    "$ms" "$(echo "scale=2; $ms / $1" | bc)" "$rss" "$polls"
}

printf '%-9s %-14s %9s %9s %9s %9s\n' row tool up_ms down_ms up/floor down/floor
for row in $rows; do
  case $row in
    cpu-*) cpu_row "${row#cpu-}"; continue ;;
    four-1s) gen_four 1s >"$tmp/s.yml"; fu="floor_up_four 1000000000" ;;
    four-10s) gen_four 10s >"$tmp/s.yml"; fu="floor_up_four 10000000000" ;;
    ind-10) gen_ind 10 >"$tmp/s.yml"; fu="floor_up_ind 10" ;;
    ind-50) gen_ind 50 >"$tmp/s.yml"; fu="floor_up_ind 50" ;;
  esac
  t0=$(now_ms); $fu; t1=$(now_ms); floor_down; t2=$(now_ms)
  fup=$((t1 - t0)); fdown=$((t2 - t1))
  printf '%-9s %-14s %9d %9d %9s %9s\n' "$row" floor-curl $fup $fdown 1.00 1.00
  t0=$(now_ms); "$itm" -f "$tmp/s.yml" -p "$ns" up -q; t1=$(now_ms); "$itm" down -p "$ns" -q; t2=$(now_ms)
  printf '%-9s %-14s %9d %9d %9s %9s\n' "$row" itm-env $((t1 - t0)) $((t2 - t1)) \
    "$(echo "scale=2; ($t1 - $t0) / $fup" | bc)" "$(echo "scale=2; ($t2 - $t1) / $fdown" | bc)"
  if [ -n "$dc" ]; then
    t0=$(now_ms); "$dc" -f "$tmp/s.yml" -p "$ns" up -d >/dev/null 2>&1; dc_ready; t1=$(now_ms)
    "$dc" -f "$tmp/s.yml" -p "$ns" down -v >/dev/null 2>&1; t2=$(now_ms)
    printf '%-9s %-14s %9d %9d %9s %9s\n' "$row" docker-compose $((t1 - t0)) $((t2 - t1)) \
      "$(echo "scale=2; ($t1 - $t0) / $fup" | bc)" "$(echo "scale=2; ($t2 - $t1) / $fdown" | bc)"
  fi
done
