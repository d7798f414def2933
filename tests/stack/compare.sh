#!/bin/sh
# compare.sh - itm-env config against docker-compose 1.29's config on the
# corpus cases marked `--- compare`, on the fields both normalize
# (tests/stack/compose-normalize.py).  Skipped without docker-compose.
set -eu
: "${ITM_ENV:?ITM_ENV: the itm-env binary}"
: "${ITM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
corpus=${CORPUS_DIR:-$ITM_SRCDIR/tests/stack/corpus}
norm=$ITM_SRCDIR/tests/stack/compose-normalize.py
if ! command -v docker-compose > /dev/null 2>&1 || ! python3 -c 'import yaml' 2> /dev/null; then
  echo "1..0 # SKIP docker-compose (Debian package docker-compose) or python3-yaml not installed"
  exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cases=$(grep -l '^--- compare' "$corpus"/*.case)
set -- $cases
echo "1..$#"
n=0
for case in "$@"; do
  n=$((n + 1))
  name=$(basename "$case" .case)
  d=$tmp/$name
  mkdir -p "$d/work"
  awk -v dir="$d/work" '
    /^--- / { if (cur != "") close(cur); cur = ""; if ($2 == "file") { cur = dir "/" $3; printf "" > cur }; next }
    cur != "" { print >> cur }' "$case"
  envs=
  if grep -q '^--- env' "$case"; then
    envs=$(awk '/^--- env/ {on=1; next} /^--- / {on=0} on' "$case" | tr '\n' ' ')
  fi
  why=
  if ! (cd "$d/work" && eval "env -i PATH=\"\$PATH\" HOME=/home/test $envs docker-compose -p cmp config") \
       > "$d/dc.yaml" 2> "$d/dc.err"; then
    why="docker-compose failed: $(head -1 "$d/dc.err")"
  elif ! (cd "$d/work" && eval "env -i PATH=\"\$PATH\" HOME=/home/test $envs \"\$ITM_ENV\" config --format json") \
       > "$d/itm.json" 2> "$d/itm.err"; then
    why="itm-env failed: $(head -1 "$d/itm.err")"
  else
    python3 "$norm" < "$d/dc.yaml" > "$d/dc.norm"
    python3 "$norm" < "$d/itm.json" > "$d/itm.norm"
    cmp -s "$d/dc.norm" "$d/itm.norm" || why="outputs differ"
  fi
  if [ -z "$why" ]; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name ($why)"
    [ -f "$d/itm.norm" ] && diff -u "$d/dc.norm" "$d/itm.norm" | sed 's/^/# /' | head -30
  fi
done
