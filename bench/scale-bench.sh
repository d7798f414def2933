#!/bin/sh
# scale-bench.sh ITM_ENV - `up` and `down` of many services against the
# floor: the same engine calls scripted with curl on the socket (32 at
# once), on a project network as itm-env makes one.  Rows (BENCH_SCALE):
#   ind-N     N independent busybox services
#   chain-N   N services in a 10-deep dependency chain (10 layers of N/10,
#             each layer depends_on every service of the one before,
#             service_started; the floor starts a layer when the previous
#             layer's starts returned)
# Prints wall time of up and down, itm-env's CPU and peak RSS of up, and
# the ratio to the floor.  Figures, not a test.  Goal: up within 1.05x the
# floor, memory linear in N.
set -eu
itm=${1:?usage: scale-bench.sh path/to/itm-env}
sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; sock=${sock#unix://}
rows=${BENCH_SCALE:-ind-200 chain-200 ind-500 chain-500}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-scalebench.XXXXXX")
ns=itmsc-$$
trap '"$itm" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
bb=itm-fixture/busybox:latest
P=32
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
api () { curl -sf --unix-socket "$sock" -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "http://e/v1.41$2"; }

gen () { # KIND N
  echo "services:"
  per=$(( $2 / 10 ))
  i=1
  while [ $i -le "$2" ]; do
    printf '  s%d:\n    image: %s\n    command: ["sleep", "3600"]\n' $i "$bb"
    if [ "$1" = chain ] && [ $i -gt "$per" ]; then
      layer=$(( (i - 1) / per )); j=$(( (layer - 1) * per + 1 )); echo "    depends_on:"
      while [ $j -le $(( layer * per )) ]; do echo "      - s$j"; j=$((j + 1)); done
    fi
    i=$((i + 1))
  done
}

labels='"Labels":{"io.itm-env.namespace":"'$ns'"}'
# one engine call per name, $P at once (xargs runs these scripts)
cat >"$tmp/create" <<EOF2
#!/bin/sh
exec curl -sf -o /dev/null --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
  -d '{"Image":"$bb","Cmd":["sleep","3600"],$labels,"HostConfig":{"NetworkMode":"${ns}_default"}}' \
  "http://e/v1.41/containers/create?name=$ns-\$1-1"
EOF2
cat >"$tmp/start" <<EOF2
#!/bin/sh
exec curl -sf -o /dev/null --unix-socket "$sock" -X POST "http://e/v1.41/containers/$ns-\$1-1/start"
EOF2
chmod +x "$tmp/create" "$tmp/start"
seqs () { i=$1; while [ $i -le "$2" ]; do echo "s$i"; i=$((i + 1)); done; }
par () { xargs -P $P -n 1 "$tmp/$1"; }
floor_up () { # KIND N
  api POST /networks/create "{\"Name\":\"${ns}_default\",$labels}" >/dev/null
  seqs 1 "$2" | par create
  if [ "$1" = chain ]; then
    per=$(( $2 / 10 )); l=0
    while [ $l -lt 10 ]; do seqs $(( l * per + 1 )) $(( (l + 1) * per )) | par start; l=$((l + 1)); done
  else
    seqs 1 "$2" | par start
  fi
}
floor_down () {
  api GET "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.itm-env.namespace%3D$ns%22%5D%7D" \
    | jq -r '.[].Id' | xargs -P $P -I{} curl -sf --unix-socket "$sock" -X DELETE "http://e/v1.41/containers/{}?force=1&v=1" >/dev/null
  api DELETE "/networks/${ns}_default" >/dev/null
}

printf '%-10s %-9s %8s %8s %8s %8s %9s\n' row tool up_ms down_ms up/floor cpu_ms rss_kb
for row in $rows; do
  kind=${row%-*} n=${row#*-}
  gen "$kind" "$n" >"$tmp/s.yml"
  t0=$(now_ms); floor_up "$kind" "$n"; t1=$(now_ms); floor_down; t2=$(now_ms)
  fup=$((t1 - t0))
  printf '%-10s %-9s %8d %8d %8s %8s %9s\n' "$row" floor $fup $((t2 - t1)) 1.00 - -
  t0=$(now_ms)
  /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$itm" -f "$tmp/s.yml" -p "$ns" up -q
  t1=$(now_ms); "$itm" down -p "$ns" -q; t2=$(now_ms)
  read -r u sy rss <"$tmp/time"
  printf '%-10s %-9s %8d %8d %8s %8.0f %9d\n' "$row" itm-env $((t1 - t0)) $((t2 - t1)) \
    "$(echo "scale=2; ($t1 - $t0) / $fup" | bc)" "$(echo "($u + $sy) * 1000" | bc)" "$rss"
done
