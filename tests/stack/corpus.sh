#!/bin/sh
# corpus.sh - run the stack corpus (tests/stack/corpus/*.case, format in
# tests/stack/corpus/README): one TAP line per case.
set -eu
: "${ITM_ENV:?ITM_ENV: the itm-env binary}"
: "${ITM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
corpus=${CORPUS_DIR:-$ITM_SRCDIR/tests/stack/corpus}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# split CASE into DIR/work/<files>, DIR/sec/<args|env|stdout|stderr|exit>
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
    cur == "" { next }     # the description before the first section
    { print >> cur }
  ' "$1"
}

n=0
fail=0
set -- "$corpus"/*.case
echo "1..$#"
for case in "$@"; do
  n=$((n + 1))
  name=$(basename "$case" .case)
  d=$tmp/$name
  mkdir -p "$d/work" "$d/sec"
  split_case "$case" "$d"
  args=config
  [ -f "$d/sec/args" ] && args=$(cat "$d/sec/args")
  want_exit=0
  [ -f "$d/sec/exit" ] && want_exit=$(tr -d ' \n' < "$d/sec/exit")
  envs=
  [ -f "$d/sec/env" ] && envs=$(grep -v '^#' "$d/sec/env" | tr '\n' ' ')
  got_exit=0
  (cd "$d/work" && eval "exec env -i PATH=\"\$PATH\" HOME=/home/test $envs \"\$ITM_ENV\" $args") \
    > "$d/out.raw" 2> "$d/err.raw" || got_exit=$?
  sed "s|$d/work|\$DIR|g; s|$d|\$DIR/..|g" "$d/out.raw" > "$d/out"
  sed "s|$d/work|\$DIR|g; s|$d|\$DIR/..|g" "$d/err.raw" > "$d/err"
  why=
  if [ "$got_exit" != "$want_exit" ]; then
    why="exit $got_exit, want $want_exit"
  elif [ -f "$d/sec/stdout" ] && ! cmp -s "$d/sec/stdout" "$d/out"; then
    why="stdout differs"
  elif [ -f "$d/sec/stderr" ] && ! cmp -s "$d/sec/stderr" "$d/err"; then
    why="stderr differs"
  fi
  if [ -n "${CORPUS_UPDATE:-}" ] && [ -n "$why" ]; then
    # rewrite the expectations from what the binary did (review the diff!)
    awk '/^--- (exit|stdout|stderr)$/ { skip = 1; next } /^--- / { skip = 0 } !skip' \
      "$case" > "$d/new"
    { printf -- '--- exit\n%s\n--- stdout\n' "$got_exit"; cat "$d/out"
      printf -- '--- stderr\n'; cat "$d/err"; } >> "$d/new"
    mv "$d/new" "$case"
    why=
  fi
  desc=$(sed -n 's/^# *//p;/^---/q' "$case" | head -1)
  if [ -z "$why" ]; then
    echo "ok $n - $name: $desc"
  else
    fail=$((fail + 1))
    echo "not ok $n - $name: $desc ($why)"
    for s in stdout stderr; do
      f=out; [ $s = stderr ] && f=err
      if [ -f "$d/sec/$s" ]; then diff -u "$d/sec/$s" "$d/$f" | sed 's/^/# /' | head -40; fi
    done
    [ -f "$d/sec/stderr" ] || sed 's/^/# stderr: /' "$d/err" | head -20
  fi
  [ -n "${CORPUS_KEEP:-}" ] || rm -rf "$d"
done
exit 0
