#!/bin/sh
# manpage.sh - every command in `itm-env help` has its section in
# man/itm-env.1, every long option a command's --help lists is in the man
# page, and both man pages format without warnings.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
man1=$ITM_SRCDIR/man/itm-env.1
man5=$ITM_SRCDIR/man/itm-env-stack.5
cmds=$("$ITM_ENV" help 2>&1 | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }')
like "$cmds" '^up$' "itm-env help lists the commands"
for c in $cmds; do
  ok "man page: a section for '$c'" grep -q "^\.SS \"itm-env $c" "$man1"
  missing=
  for o in $("$ITM_ENV" help "$c" 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    m=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
    grep -q -- "$m" "$man1" || missing="$missing $o"
  done
  is "$missing" "" "man page: every option of '$c' is documented"
done
if command -v groff >/dev/null 2>&1; then
  for m in "$man1" "$man5"; do
    run groff -man -ww -z "$m"
    is "$rc:$err" "0:" "groff -ww formats $(basename "$m") without warnings"
  done
else
  skip "groff -ww on the man pages" "groff not installed"
fi
done_testing
