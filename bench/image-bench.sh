#!/bin/sh
# image-bench.sh ITM_ENV - figures for images (issue 5), not a test:
#   cached   a second `up` of three built services whose contexts did not
#            change: the image phase per service (digest + cache lookup, no
#            build request; goal < 50 ms) and the whole second up, against
#            docker-compose's second `up --build -d` on the same stack.
#   big      a 10,000-file, 200 MB context (BENCH_BIG_MB to change): digest
#            rate (a cached build: digest + lookup), send rate (a forced build
#            of a Dockerfile that copies nothing: the whole context streamed
#            to the engine), peak memory of each (goal < 30 MB).
set -eu
itm=${1:?usage: image-bench.sh path/to/itm-env}
rows=${BENCH_ROWS:-cached big}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-imgbench.XXXXXX")
ns=itmb-img-$$
dcp=itmbdc-$$
dc=$(command -v docker-compose || true)
bb=itm-fixture/busybox:latest
cleanup () {
  "$itm" down -p "$ns" -q >/dev/null 2>&1 || true
  [ -z "$dc" ] || "$dc" -p "$dcp" -f "$tmp/stack.yml" down --rmi local >/dev/null 2>&1 || true
  for s in a b c big; do docker rmi -f "$ns-$s" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
peak_kb () { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

if echo "$rows" | grep -qw cached; then
  for s in a b c; do
    mkdir -p "$tmp/$s/src"
    printf 'FROM %s\nCOPY . /app\nCMD ["sleep", "3600"]\n' "$bb" >"$tmp/$s/Dockerfile"
    i=0; while [ $i -lt 50 ]; do echo "$s $i" >"$tmp/$s/src/f$i.txt"; i=$((i + 1)); done
  done
  cat >"$tmp/stack.yml" <<EOF2
services:
  a: { build: ./a, command: ["sleep", "3600"] }
  b: { build: ./b, command: ["sleep", "3600"] }
  c: { build: ./c, command: ["sleep", "3600"] }
EOF2
  "$itm" -f "$tmp/stack.yml" -p "$ns" up -q >/dev/null
  t0=$(now_ms); "$itm" -f "$tmp/stack.yml" -p "$ns" build -q; t1=$(now_ms)
  t2=$(now_ms); "$itm" -f "$tmp/stack.yml" -p "$ns" up -q >/dev/null; t3=$(now_ms)
  echo "cached: image phase, 3 built services unchanged: $((t1 - t0)) ms ($(( (t1 - t0) / 3 )) ms per service; goal < 50)"
  echo "cached: second itm-env up (images + containers kept): $((t3 - t2)) ms"
  if [ -n "$dc" ]; then
    (cd "$tmp" && "$dc" -p "$dcp" -f stack.yml up --build -d >/dev/null 2>&1) || true
    t4=$(now_ms); (cd "$tmp" && "$dc" -p "$dcp" -f stack.yml up --build -d >/dev/null 2>&1) || true; t5=$(now_ms)
    echo "cached: second docker-compose up --build -d: $((t5 - t4)) ms"
  else
    echo "cached: docker-compose not installed: no comparison"
  fi
fi

if echo "$rows" | grep -qw big; then
  mb=${BENCH_BIG_MB:-200}
  files=10000
  per=$(( mb * 1024 * 1024 / files ))
  mkdir -p "$tmp/big"
  printf 'FROM %s\nCMD ["true"]\n' "$bb" >"$tmp/big/Dockerfile"
  # 100 directories of 100 files, pseudo-random contents (not compressible)
  head -c $((per * files)) /dev/urandom | (cd "$tmp/big" && d=0; while [ $d -lt 100 ]; do
    mkdir "d$d"; f=0; while [ $f -lt 100 ]; do head -c "$per" >"d$d/f$f"; f=$((f + 1)); done; d=$((d + 1)); done)
  printf 'services:\n  big:\n    build: ./big\n' >"$tmp/big.yml"
  t0=$(now_ms)
  /usr/bin/time -v "$itm" -f "$tmp/big.yml" -p "$ns" build --force -q 2>"$tmp/send.time" >/dev/null
  t1=$(now_ms)
  /usr/bin/time -v "$itm" -f "$tmp/big.yml" -p "$ns" build -q 2>"$tmp/digest.time" >/dev/null
  t2=$(now_ms)
  dig=$((t2 - t1)); send=$((t1 - t0 - dig))
  [ $send -gt 0 ] || send=1
  echo "big: $files files, $mb MB: digest (cached build) $dig ms = $(( mb * 1000 / (dig > 0 ? dig : 1) )) MB/s, peak $(( $(peak_kb "$tmp/digest.time") / 1024 )) MB"
  echo "big: forced build (digest + send + engine) $((t1 - t0)) ms; send alone ~$send ms = $(( mb * 1000 / send )) MB/s, peak $(( $(peak_kb "$tmp/send.time") / 1024 )) MB (goal < 30 MB)"
fi
