#!/bin/sh
# look-cost.sh ITM_ENV [ITM_ENV_OLD] - what the readiness looks (ready.h,
# "The looks") cost `up` when many services are awaited at once: N
# services (BENCH_LOOK_N, default "10 50 100 200") that give no signal
# (each waits on a fifo with a shell builtin: no process, file, output
# or socket changes) and whose check passes BENCH_LOOK_WAIT seconds
# (default 6) after its start, so that every gate looks at its process
# table, listen table, log and files for that long, and the blind
# schedule's probes (the same for both binaries) decide.  For each N
# and binary, BENCH_LOOK_ROUNDS rounds (default 2), interleaved: up's
# CPU (user + sys, /usr/bin/time), its CPU per service, and per service
# and second of waiting (what the looks and the probes' calls cost; the
# exec itself is the engine's).  With a second binary (e.g. one that
# looked every 20 ms whatever the number of gates) the ratio new/old.
# Figures, not a test; run it on a quiet machine.
set -eu
itm=${1:?usage: look-cost.sh ITM_ENV [ITM_ENV_OLD]}
old=${2:-}
ns_list=${BENCH_LOOK_N:-10 50 100 200}
wait_s=${BENCH_LOOK_WAIT:-6}
rounds=${BENCH_LOOK_ROUNDS:-2}
bb=${BENCH_IMAGE:-itm-fixture/busybox:latest}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-lookcost.XXXXXX")
nsbase=itmlc-$$
cur= curns=
trap '[ -z "$cur" ] || "$cur" down -p "$curns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM

gen () { # N
  echo "services:"
  i=1
  while [ "$i" -le "$1" ]; do
    printf '  s%d:\n    image: %s\n' "$i" "$bb"
    printf '    command: ["sh", "-c", "trap \\"exit 0\\" TERM; mkfifo /w; exec 3<>/w; read x <&3"]\n'
    printf '    healthcheck: {test: ["CMD-SHELL", "[ $$(( $$(date +%%s) - $$(stat -c %%Y /proc/1) )) -ge %s ]"], interval: 1h, timeout: 10s}\n' "$wait_s"
    i=$((i + 1))
  done
}
# /usr/bin/time -v FILE: "cpu_ms wall_ms"
tv () { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
  /Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
  END { printf "%.0f %.0f\n", (u + s) * 1000, w * 1000 }' "$1"; }

res=$tmp/res   # n tool round cpu_ms wall_ms
: >"$res"
one () { # BIN TOOL N ROUND
  d=$tmp/$2-$3-$4; mkdir -p "$d"; gen "$3" >"$d/s.yml"
  cur=$1 curns=$nsbase-$2-$3-$4
  /usr/bin/time -v -o "$d/time" "$1" -f "$d/s.yml" -p "$curns" up -q \
    || { echo "look-cost.sh: up failed ($2, $3 services)" >&2; exit 1; }
  "$1" down -p "$curns" -q || echo "note: down failed ($2, $3, round $4; moby#42119?)" >&2
  cur=
  echo "$3 $2 $4 $(tv "$d/time")" >>"$res"
  echo "round $4: $2 $3 services: cpu $(tv "$d/time" | cut -d' ' -f1) ms" >&2
}
r=1
while [ "$r" -le "$rounds" ]; do
  for n in $ns_list; do
    one "$itm" new "$n" "$r"
    [ -z "$old" ] || one "$old" old "$n" "$r"
  done
  r=$((r + 1))
done
printf '%5s %-4s %9s %9s %12s %18s %9s\n' n tool wall_ms cpu_ms cpu/svc_ms "cpu/svc/wait-s_ms" new/old
for n in $ns_list; do
  for t in new old; do
    awk -v n="$n" -v t="$t" -v w="$wait_s" '
      $1 == n && $2 == t { c += $4; wl += $5; k++ }
      $1 == n && $2 == "old" { oc += $4; ok++ }
      END { if (!k) exit
            c /= k; wl /= k
            ratio = (t == "new" && ok) ? sprintf ("%.2f", c / (oc / ok)) : "-"
            printf "%5d %-4s %9.0f %9.0f %12.2f %18.3f %9s\n", n, t, wl, c, c / n, c / n / w, ratio }' "$res"
  done
done
