#!/bin/sh
# tests/layers.sh - the #includes of src/ point down the layers declared
# in src/LAYERS: one TAP test per source file, and one for the declaration
# itself (every folder of src/ is on a line).  No engine needed.
set -eu
src=${ITM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/src
layers=$src/LAYERS

# level of a folder ("cmd" is src/ itself), from LAYERS
level () {
  awk -v m="$1" '!/^#/ && NF { n++; for (i = 1; i <= NF; i++) if ($i == m) { print n; exit } }' "$layers"
}

files=$(cd "$src" && find . -name '*.[ch]' | sed 's|^\./||' | LC_ALL=C sort)
total=$(( $(printf '%s\n' "$files" | wc -l) + 1 ))
echo "1..$total"

# the declaration: every folder is placed
missing=
for d in $(cd "$src" && find . -mindepth 2 -maxdepth 2 -name '*.[ch]' | cut -d/ -f2 | LC_ALL=C sort -u); do
  [ -n "$(level "$d")" ] || missing="$missing $d"
done
if [ -z "$missing" ]; then
  echo "ok 1 - every folder of src/ is in src/LAYERS"
else
  echo "not ok 1 - folders missing from src/LAYERS:$missing"
fi

n=1
for f in $files; do
  n=$((n + 1))
  case $f in
    */*) mod=${f%%/*} ;;
    *) mod=cmd ;;
  esac
  lv=$(level "$mod")
  bad=
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src/$f"); do
    case $inc in
      */*) im=${inc%%/*} ;;
      *.h) [ -f "$src/$inc" ] && im=cmd || continue ;;
      *) continue ;;
    esac
    case $inc in
      */priv.h|*/private.h)
        [ "$im" = "$mod" ] || bad="$bad $inc(private to $im/)" ;;
    esac
    [ "$im" = "$mod" ] && continue
    il=$(level "$im")
    if [ -z "$il" ]; then
      bad="$bad $inc(folder not in LAYERS)"
    elif [ "$il" -eq "$lv" ]; then
      bad="$bad $inc(sideways: $mod and $im share a layer)"
    elif [ "$il" -gt "$lv" ]; then
      bad="$bad $inc(up: $im is above $mod)"
    fi
  done
  if [ -z "$bad" ]; then
    echo "ok $n - $f"
  else
    echo "not ok $n - $f includes$bad"
  fi
done
