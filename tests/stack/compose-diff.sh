#!/bin/sh
# compose-diff.sh - the differential test against Docker Compose v2 (issue 13):
# every case of the stack corpus (tests/stack/corpus/*.case) that both
# `itm-env config --format json` and `docker compose config --format json`
# accept, compared on the fields both models share
# (tests/stack/compose-diff.py).  The differences itm-env makes on purpose
# are normalized by the comparator, each named in itm-env-stack(5),
# section "DIFFERENCES FROM COMPOSE" (checked here too).  One TAP line per
# case; a case one of the two refuses is a skip with the reason.
#
# Compose runs with a time and memory cap (it takes tens of gigabytes on a
# YAML alias bomb).  Skipped with a note when tests/fixtures/compose-v2.sh
# cannot provide the binary, or python3 is missing.
set -eu
: "${ITM_ENV:?ITM_ENV: the itm-env binary}"
: "${ITM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
corpus=${CORPUS_DIR:-$ITM_SRCDIR/tests/stack/corpus}
cmpy=$ITM_SRCDIR/tests/stack/compose-diff.py
man=$ITM_SRCDIR/man/itm-env-stack.5
# the oracle's caps: seconds, bytes of address space
DC_TIMEOUT=${ITM_COMPOSE_TIMEOUT:-20}
DC_MEM=${ITM_COMPOSE_MEM:-2000000000}

split_case () {
  awk -v dir="$2" '
    function out(p) { if (cur != "") close(cur); cur = p; printf "" > cur }
    /^--- / {
      kind = $2
      if (kind == "file") {
        name = $3
        d = name; sub(/\/[^\/]*$/, "", d)
        if (d != name) system("mkdir -p \"" dir "/work/" d "\"")
        out(dir "/work/" name)
      } else if (kind == "compare") { out(dir "/sec/compare") }
      else out(dir "/sec/" kind)
      next
    }
    cur == "" { next }
    { print >> cur }
  ' "$1"
}

# one case: $1 the case file; writes $tmp/res/NAME: "same", "skip REASON"
# or "differ" and the differences
one_case () {
  case=$1
  name=$(basename "$case" .case)
  d=$tmp/$name
  res=$tmp/res/$name
  mkdir -p "$d/work" "$d/sec"
  split_case "$case" "$d"
  # the global options of the case's command line (-f, -p, --profile,
  # --env-file, --project-directory: Compose has the same), given to both;
  # a case of another command, or with other options, is not compared
  args=config
  [ -f "$d/sec/args" ] && args=$(cat "$d/sec/args")
  glob=
  skip=
  eval "set -- $args"
  while [ $# -gt 0 ]; do
    case $1 in
      -f|-p|--profile|--env-file|--project-directory)
        [ $# -ge 2 ] || { skip="option $1 without a value"; break; }
        glob="$glob $1 '$2'"; shift 2 ;;
      config) break ;;
      *) skip="command line '$args'"; break ;;
    esac
  done
  [ $# -gt 0 ] || [ -n "$skip" ] || skip="command line '$args'"
  envs=
  [ -f "$d/sec/env" ] && envs=$(grep -v '^#' "$d/sec/env" | tr '\n' ' ')
  if [ -z "$skip" ]; then
    rc=0
    (cd "$d/work" && eval "exec env -i PATH=\"\$PATH\" HOME=/home/test $envs \"\$ITM_ENV\" $glob config --format json") \
      > "$d/itm.json" 2> "$d/itm.err" < /dev/null || rc=$?
    [ $rc = 0 ] || skip="itm-env refuses it (exit $rc)"
  fi
  if [ -z "$skip" ]; then
    rc=0
    (cd "$d/work" && eval "exec env -i PATH=\"\$PATH\" HOME=/home/test $envs prlimit --as=$DC_MEM timeout -s KILL $DC_TIMEOUT \"\$dc\" $glob config --format json") \
      > "$d/dc.json" 2> "$d/dc.err" < /dev/null || rc=$?
    [ $rc = 0 ] || skip="Compose refuses it (exit $rc: $(grep -v '^time=' "$d/dc.err" | head -1 | cut -c1-100))"
  fi
  if [ -n "$skip" ]; then
    echo "skip $skip" > "$res"
  elif python3 "$cmpy" --dir "$d/work" "$d/dc.json" "$d/itm.json" > "$d/diff" 2>&1; then
    echo same > "$res"
  else
    { echo differ; cat "$d/diff"; } > "$res"
  fi
  [ -n "${CORPUS_KEEP:-}" ] || rm -rf "$d"
}

if [ "${1:-}" = --one ]; then
  tmp=$2 dc=$3
  trap - EXIT INT TERM
  one_case "$4"
  exit 0
fi

if ! command -v python3 > /dev/null 2>&1; then
  echo "1..0 # SKIP python3 not installed"
  exit 0
fi
if ! dc=$("$ITM_SRCDIR/tests/fixtures/compose-v2.sh" 2> /dev/null); then
  echo "1..0 # SKIP Docker Compose v2 not available (tests/fixtures/compose-v2.sh)"
  exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-cdiff.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM


set -- "$corpus"/*.case
echo "1..$(($# + 1))"
# the comparator's list of deliberate differences is the man page's
if python3 "$cmpy" --check-man "$man" > "$tmp/man.out" 2>&1; then
  echo "ok 1 - every difference the comparator normalizes is in itm-env-stack(5)"
else
  echo "not ok 1 - the comparator's differences and itm-env-stack(5) disagree"
  sed 's/^/# /' "$tmp/man.out"
fi
# two at a time (Compose takes most of the time, starting)
mkdir -p "$tmp/res"
printf '%s\n' "$@" | xargs -P "${ITM_CDIFF_JOBS:-2}" -I{} sh "$0" --one "$tmp" "$dc" {}
n=1
same=0
for case in "$@"; do
  n=$((n + 1))
  name=$(basename "$case" .case)
  res=$tmp/res/$name
  read -r kind why < "$res" || kind=missing
  case $kind in
    same) same=$((same + 1)); echo "ok $n - $name" ;;
    skip) echo "ok $n - $name # SKIP $why" ;;
    differ)
      echo "not ok $n - $name: itm-env and Compose disagree"
      tail -n +2 "$res" | head -40 | sed 's/^/# /' ;;
    *) echo "not ok $n - $name: no result" ;;
  esac
done
echo "# $same cases give the same model as Compose v2"
exit 0
