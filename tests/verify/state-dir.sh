#!/bin/sh
# state-dir.sh - the state directory cannot be steered by another user
# (itm-env(1), FILES): a second real user (itm-test) plants a directory or
# symbolic links in a shared state root; itm-env refuses (exit 1, "unsafe
# state directory/file: PATH why") and follows, truncates or appends to
# nothing.  Planted links for each file in <root>/<ns> (secrets, released,
# watchdog.log, snapshot.json, up.lock) are never followed either.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_engine
need_cmd setpriv jq
need_fixtures busybox

if ! id itm-test >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin itm-test \
    || bail "cannot create the user itm-test"
fi
as_user="setpriv --reuid=itm-test --regid=itm-test --clear-groups --reset-env"
chmod 711 "$tmp"
shared=$tmp/shared                       # like /tmp: root's, 1777
mkdir -m 1777 "$shared"
cat >"$tmp/stack.yml" <<EOF2
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
x-itm:
  secrets:
    pw: {length: 16}
EOF2
# victims: files root can write; none may change
for v in 1 2 3 4 5 6; do echo "victim $v" >"$tmp/victim$v"; done
mkdir "$tmp/victimdir"; echo keep >"$tmp/victimdir/f"
untouched () {
  for v in 1 2 3 4 5 6; do
    is "$(cat "$tmp/victim$v")" "victim $v" "$1: victim$v unchanged"
  done
  is "$(cat "$tmp/victimdir/f" 2>/dev/null)" keep "$1: the victim directory is intact"
}
nothing_labelled () {
  is "$(engine_get "/containers/json?all=1&filters=$(ns_filter "$1")" | jq length)" 0 \
    "$2: nothing created"
}

# 1. a foreign-owned <root>/<ns>
ns1=$ITM_NS-a
at_exit "'$ITM_ENV' down -p '$ns1' >/dev/null 2>&1"
$as_user mkdir -m 777 "$shared/$ns1"
run env ITM_ENV_STATE_DIR="$shared" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns1" up
is "$rc" 1 "a <root>/<ns> owned by another user: exit 1"
like "$err" "unsafe state directory: $shared/$ns1 is owned by uid [0-9]+, not by you" \
  "the message names the directory and why"
like "$err" "writable by everyone" "a world-writable state root is warned about"
nothing_labelled "$ns1" "foreign <ns>"
is "$(stat -c %U "$shared/$ns1")" itm-test "the foreign directory is not taken over"

# 2. <root>/<ns> a symbolic link (to a directory of root's)
ns2=$ITM_NS-b
at_exit "'$ITM_ENV' down -p '$ns2' >/dev/null 2>&1"
$as_user ln -s "$tmp/victimdir" "$shared/$ns2"
run env ITM_ENV_STATE_DIR="$shared" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns2" up
is "$rc" 1 "<root>/<ns> a symbolic link: exit 1"
like "$err" "unsafe state directory: $shared/$ns2 is a symbolic link" "says so"
nothing_labelled "$ns2" "symlinked <ns>"
is "$(stat -c %a "$tmp/victimdir")" "$(stat -c %a "$tmp/victimdir")" "mode kept"
run env ITM_ENV_STATE_DIR="$shared" "$ITM_ENV" -p "$ns2" down
untouched "down on a symlinked <ns>"
ok "the link is not followed by down either" test -L "$shared/$ns2"
run env ITM_ENV_STATE_DIR="$shared" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns2" config
is "$rc" 1 "config with secrets on a symlinked <ns>: exit 1"
untouched "config"

# 3. the state root itself a link planted in a shared directory
$as_user ln -s "$tmp/victimdir" "$shared/root"
run env ITM_ENV_STATE_DIR="$shared/root" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns2" up
is "$rc" 1 "the state root a symbolic link: exit 1"
like "$err" "unsafe state directory: $shared/root is a symbolic link" "says so"
untouched "linked root"

# 4. a group-writable directory on the way
gw=$tmp/gw
mkdir -m 770 "$gw"; chgrp itm-test "$gw"
run env ITM_ENV_STATE_DIR="$gw/state" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns2" up
is "$rc" 1 "a group-writable directory on the way: exit 1"
like "$err" "unsafe state directory: $gw is writable by group or others and has no sticky bit" \
  "says which and why"
ok "nothing made in it" test ! -e "$gw/state"

# 5. links planted in <root>/<ns> for each file itm-env writes (the
# directory is root's; a link made while it was shared, or by mistake)
root5=$tmp/private; mkdir -m 700 "$root5"
ns5=$ITM_NS
mkdir -m 700 "$root5/$ns5"
at_exit "ITM_ENV_STATE_DIR='$root5' '$ITM_ENV' down -p '$ns5' >/dev/null 2>&1"
plant () { rm -f "$root5/$ns5/$1"; ln -s "$tmp/$2" "$root5/$ns5/$1"; }
plant up.lock victim1
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns5" up
is "$rc" 1 "up.lock a symbolic link: exit 1"
like "$err" "unsafe state file: $root5/$ns5/(up.lock|secrets) is a symbolic link" "says so"
rm -f "$root5/$ns5/up.lock"
plant secrets victim2
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns5" up
is "$rc" 1 "secrets a symbolic link: exit 1"
like "$err" "unsafe state file: $root5/$ns5/secrets is a symbolic link" "says so"
nothing_labelled "$ns5" "planted secrets"
rm -f "$root5/$ns5/secrets"
plant watchdog.log victim3
plant snapshot.json victim4
plant released victim5
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns5" up
is "$rc" 0 "watchdog.log, snapshot.json, released links: up still succeeds"
like "$err" "watchdog.log is a symbolic link" "the log link is refused, with a warning"
like "$err" "released is a symbolic link" "the released link is refused, with a warning"
ok "the snapshot replaced the link with a file of its own" \
  sh -c "test -f '$root5/$ns5/snapshot.json' && test ! -L '$root5/$ns5/snapshot.json'"
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -p "$ns5" down
rm -f "$root5/$ns5/secrets"; mkdir -p -m 700 "$root5/$ns5"
ln "$tmp/victim6" "$root5/$ns5/secrets"
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -f "$tmp/stack.yml" -p "$ns5" up
is "$rc" 1 "secrets a hard link to another file: exit 1"
like "$err" "secrets has other hard links" "says so"
rm -f "$root5/$ns5/secrets"
run env ITM_ENV_STATE_DIR="$root5" "$ITM_ENV" -p "$ns5" down
is "$rc" 0 "down"
ok "down removed the state directory, links and all" test ! -e "$root5/$ns5"
untouched "planted files"

done_testing
