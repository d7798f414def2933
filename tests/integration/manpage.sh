#!/bin/sh
# manpage.sh - every command in `itm-env help` has its section in
# man/itm-env.1, every long option of every command's option table (read
# through the hidden `itm-env help --options`: one line per option,
# "command short long argument [hidden]", tab-separated) that --help shows
# is in the man page, --help shows exactly the table's visible options, and
# both man pages format without warnings.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
man1=$ITM_SRCDIR/man/itm-env.1
man5=$ITM_SRCDIR/man/itm-env-stack.5
cmds=$("$ITM_ENV" help 2>&1 | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }')
like "$cmds" '^up$' "itm-env help lists the commands"
opts=$("$ITM_ENV" help --options 2>&1)
like "$opts" '^up	-	--timeout	DURATION$' "help --options lists the option tables"
for c in $cmds; do
  ok "man page: a section for '$c'" grep -q "^\.SS \"itm-env $c" "$man1"
  missing=
  for o in $(printf '%s\n' "$opts" | awk -F '\t' -v c="$c" '$1 == c && $3 != "-" && $5 != "hidden" { print $3 }' | sort -u); do
    m=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
    grep -q -- "$m" "$man1" || missing="$missing $o"
  done
  is "$missing" "" "man page: every option of '$c' is documented"
  shown=$("$ITM_ENV" help "$c" 2>&1 | grep -o -- '--[a-z][a-z-]*' | grep -v '^--help$' | sort -u | tr '\n' ' ')
  table=$(printf '%s\n' "$opts" | awk -F '\t' -v c="$c" '$1 == c && $3 != "-" && $5 != "hidden" { print $3 }' | sort -u | tr '\n' ' ')
  is "$shown" "$table" "'$c --help' shows the options of its table"
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
