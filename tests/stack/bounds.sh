#!/bin/sh
# bounds.sh - hostile stack inputs end fast, in bounded memory, with exit 3
# (issue 19): the binary under `timeout 10` (a regression fails instead of
# hanging) and, unless built with ASan, `prlimit --as` (1 GiB of address
# space: the unbounded interpolation used 3-4 GB before failing).
set -eu
: "${ITM_ENV:?ITM_ENV: the itm-env binary}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-bounds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

limit="prlimit --as=1073741824"
if grep -q __asan_init "$ITM_ENV" 2>/dev/null || ! command -v prlimit >/dev/null; then
  limit=
fi
n=0
fail=0
echo "1..6"
# check NAME WANT-EXIT WANT-STDERR DIR ARGS...
check () {
  name=$1 want=$2 msg=$3 dir=$4
  shift 4
  n=$((n + 1))
  rc=0
  (cd "$dir" && env -i PATH="$PATH" HOME=/nonexistent timeout 10 $limit "$ITM_ENV" "$@") \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$msg" ] || grep -qF -- "$msg" "$tmp/err"; }; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name (exit $rc, want $want and '$msg')"
    sed 's/^/# /' "$tmp/err" | cut -c1-200 | head -5
    fail=1
  fi
}

# a 1 MiB variable referenced 2,000 times
mkdir "$tmp/total"
{ printf 'BIG='; head -c 1048576 /dev/zero | tr '\0' x; echo; } >"$tmp/total/.env"
{ printf 'services:\n  s:\n    image: alpine\n    command:\n'
  i=0; while [ $i -lt 2000 ]; do echo '      - ${BIG}'; i=$((i + 1)); done; } \
  >"$tmp/total/compose.yaml"
check "1 MiB x 2,000 references" 3 \
  "compose.yaml:21:9: error: interpolation substitutes more than 16 MiB in all" "$tmp/total" config

# an .env whose lines each repeat the previous one ten times
mkdir "$tmp/value"
{ echo 'V0=abcdefghij'
  i=1; while [ $i -lt 12 ]; do
    p='${V'$((i - 1))'}'; echo "V$i=$p$p$p$p$p$p$p$p$p$p"; i=$((i + 1)); done; } \
  >"$tmp/value/.env"
printf 'services:\n  s:\n    image: alpine:${V11}\n' >"$tmp/value/compose.yaml"
check ".env lines x10" 3 ".env:7:1: error: the value of V6: interpolation makes the value larger than 4 MiB" \
  "$tmp/value" config

# 20,000 lines of .env, each using the one before
mkdir "$tmp/long"
awk 'BEGIN { print "K0=v0"; for (i = 1; i < 20000; i++) printf "K%d=${K%d}\n", i, i - 1 }' \
  >"$tmp/long/.env"
printf 'services:\n  s:\n    image: alpine:${K19999}\n' >"$tmp/long/compose.yaml"
check ".env of 20,000 lines" 0 "" "$tmp/long" config
grep -q 'image: alpine:v0' "$tmp/out" || { echo "# K19999 is not v0"; fail=1; }

# FIFOs and /dev/zero
mkdir "$tmp/sp"
mkfifo "$tmp/sp/fifo"
printf 'services:\n  s:\n    image: alpine\n' >"$tmp/sp/compose.yaml"
check "-f FIFO" 3 "fifo: error: a FIFO that nobody writes to" "$tmp/sp" -f fifo config
check "--env-file FIFO" 3 "fifo: error: --env-file: cannot open the env file: not a regular file" \
  "$tmp/sp" --env-file fifo config
check "-f /dev/zero" 3 "/dev/zero: error: not a regular file" "$tmp/sp" -f /dev/zero config
exit $fail
