#!/bin/sh
# quickstart.sh - the README's first hour: scripts/quickstart.sh builds the
# fixture images before `itm-env doctor` and installs itm-env (binary and
# both man pages: `make install` lands them, `man -l` renders them, man
# finds them by name), and every example of the README's "Using it" names a
# command that exists, with options it takes and files that are there.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

qs=$ITM_SRCDIR/scripts/quickstart.sh
line () { grep -n -- "$1" "$qs" | grep -v '^[0-9]*: *#' | head -1 | cut -d: -f1; }
fx=$(line 'tests/fixtures/build.sh')
dr=$(line 'itm-env doctor')
in=$(line 'make install')
ok "quickstart.sh builds the fixtures and runs doctor" test -n "$fx" -a -n "$dr"
ok "quickstart.sh builds the fixtures before doctor (its round trip needs a local image)" \
  test "${fx:-0}" -lt "${dr:-0}"
ok "quickstart.sh runs make install before its first itm-env command" \
  test -n "$in" -a "${in:-0}" -lt "${dr:-0}"
is "$(grep -c '\./itm-env' "$qs" || true)" 0 "quickstart.sh uses the installed itm-env, as the README does"

# make install, into a staging directory
need_cmd make
D=$tmp/inst
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ITM_BUILDDIR" install DESTDIR="$D"
is "$rc" 0 "make install DESTDIR=... succeeds"
prefix=$(sed -n 's/^prefix = //p' "$ITM_BUILDDIR/Makefile")
mandir=$(sed -n 's/^mandir = //p' "$ITM_BUILDDIR/Makefile" | sed "s|\${datarootdir}|$prefix/share|; s|\$(datarootdir)|$prefix/share|")
ok "the binary lands in $prefix/bin" test -x "$D$prefix/bin/itm-env"
run "$D$prefix/bin/itm-env" --version
is "$rc" 0 "the installed binary runs"
ok "itm-env.1 lands in $mandir/man1" test -f "$D$mandir/man1/itm-env.1"
ok "itm-env-stack.5 lands in $mandir/man5" test -f "$D$mandir/man5/itm-env-stack.5"
if command -v man >/dev/null 2>&1; then
  run env MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$D$mandir/man1/itm-env.1"
  is "$rc" 0 "man -l renders the installed itm-env.1"
  like "$out" '^NAME' "itm-env.1 renders a NAME section"
  run env MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$D$mandir/man5/itm-env-stack.5"
  is "$rc" 0 "man -l renders the installed itm-env-stack.5"
  run env MANPATH="$D$mandir" man -w itm-env
  is "$out" "$D$mandir/man1/itm-env.1" "man finds itm-env by name in the installed man directory"
  run env MANPATH="$D$mandir" man -w itm-env-stack
  is "$out" "$D$mandir/man5/itm-env-stack.5" "man finds itm-env-stack by name"
else
  skip "man renders the installed pages" "man is not installed (man-db)"
fi

# the README's "Using it": every example as it is written
readme=$ITM_SRCDIR/README.md
sed -n '/^## Using it/,/^## /p' "$readme" | grep '^    ' | grep 'itm-env' >"$tmp/examples"
ok "the README's Using it has examples" test -s "$tmp/examples"
cmds=" $("$ITM_ENV" help 2>&1 | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }' | tr '\n' ' ')"
while IFS= read -r ex; do
  ex=$(printf '%s\n' "$ex" | sed 's/ *#.*//; s/^ *//')
  # the words after itm-env, up to a comment or the end of $( )
  words=$(printf '%s\n' "$ex" | sed 's/.*itm-env//; s/)".*//')
  set -f
  set -- $words
  set +f
  file=
  while [ $# -gt 0 ]; do
    case $1 in
      -f|--file) file=$2; shift 2 ;;
      -p|--namespace|-H|--host|--project-directory|--env-file|--profile) shift 2 ;;
      -*) shift ;;
      *) break ;;
    esac
  done
  cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmds in
    *" $cmd "*) pass "README: $ex: '$cmd' is a command" ;;
    *) fail "README: $ex: '$cmd' is a command"; continue ;;
  esac
  helptext=$("$ITM_ENV" "$cmd" --help 2>&1) || true
  bad=
  for w in "$@"; do
    [ "$w" = -- ] && break
    case $w in
      --*) printf '%s\n' "$helptext" | grep -q -- "${w%%=*}" || bad="$bad $w" ;;
    esac
  done
  is "$bad" "" "README: $ex: '$cmd --help' names its options"
  if [ -n "$file" ]; then
    ok "README: $ex: $file is there" test -f "$ITM_SRCDIR/$file"
  fi
done <"$tmp/examples"
# the one that needs no engine runs as written, from the top directory
cfg=$(grep -o 'itm-env [^#]*config' "$tmp/examples" | head -1)
ok "the README has a config example" test -n "$cfg"
run sh -c "cd '$ITM_SRCDIR' && PATH='$(dirname "$ITM_ENV"):'\"\$PATH\" ${cfg:-false} -q"
is "$rc" 0 "'$cfg' runs as written from the top directory"
done_testing
