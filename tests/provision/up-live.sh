#!/bin/sh
# up-live.sh - the live progress of `up` on a terminal, read off the
# screen: `up` runs in a tmux pane of 40 columns, then of 120, on a stack
# with a build printing long lines, a long service name and a service that
# waits a few seconds for its health check (many redraws).  On the final
# screen (with the pane's history) no line is wider than the pane (none
# wrapped), each service's line and each image's line is there once (no
# stale copies scrolled up), and the end states are shown, ready in green
# (not with NO_COLOR=1, given at 40 columns).  Then Ctrl-C
# while a service waits, and a failing service, at 40 columns.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd tmux
need_fixtures busybox
sock=itmtest$$
at_exit "tmux -L $sock kill-server >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-w40' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-w120' >/dev/null 2>&1"

bb=itm-fixture/busybox:latest
long=a-service-with-a-rather-long-name
mkdir "$tmp/app"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
RUN for i in 1 2 3 4 5 6 7 8; do echo "build output line \$i \$(printf '%0150d' 0)"; sleep 0.2; done
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sh", "-c", "sleep 3; touch /tmp/up; exec sleep 600"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/up"]
      interval: 1s
  $long:
    image: $bb
    command: ["sleep", "600"]
  app:
    build: ./app
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
EOF2

# live WIDTH NO_COLOR: up in a pane of WIDTH x 30; the screen and its
# history in $tmp/screen-WIDTH (with colour codes: $tmp/colour-WIDTH), up's
# exit status in $tmp/rc-WIDTH
live () {
  _w=$1
  tmux -L "$sock" -f /dev/null new-session -d -s "w$_w" -x "$_w" -y 30 \
    "cd '$tmp' && NO_COLOR=$2 '$ITM_ENV' -f stack.yml -p '$ITM_NS-w$_w' up --timeout 100; echo \$? >'$tmp/rc-$_w'; exec sleep 600"
  _i=0
  while [ ! -s "$tmp/rc-$_w" ] && [ $_i -lt 1200 ]; do sleep 0.1; _i=$((_i + 1)); done
  sleep 0.3
  # -J: a line the terminal wrapped comes back joined, as wide as it was
  tmux -L "$sock" capture-pane -t "w$_w" -p -J -S - >"$tmp/screen-$_w"
  tmux -L "$sock" capture-pane -t "w$_w" -p -e -S - >"$tmp/colour-$_w"
  diag "the pane at $_w columns:" "$(sed '/^$/d' "$tmp/screen-$_w")"
}

for w in 40 120; do
  if [ $w = 40 ]; then live $w 1; else live $w ""; fi
  is "$(cat "$tmp/rc-$w" 2>/dev/null)" 0 "$w columns: up succeeds"
  # the live lines (namespace events are log lines above or below them)
  widest=$(grep -v '^[0-9][0-9]:[0-9][0-9]:' "$tmp/screen-$w" \
             | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
  ok "$w columns: no live line is wider than the pane (widest $widest)" test "$widest" -lt "$w"
  for s in db "$(printf %.20s "$long")" app; do
    is "$(grep -c "^ $s" "$tmp/screen-$w")" 1 "$w columns: $s's line is on the screen once"
  done
  is "$(grep -c '^app  .* build ' "$tmp/screen-$w")" 1 "$w columns: the image's line is there once"
  like "$(grep "^ db " "$tmp/screen-$w")" "^ db  *ready \\([0-9.]* s\\)" "$w columns: db ends ready"
  like "$(grep "^ app " "$tmp/screen-$w")" "^ app  *ready" "$w columns: app ends ready"
  like "$(cat "$tmp/screen-$w")" "all ready" "$w columns: all ready is there"
  unlike "$(cat "$tmp/screen-$w")" "build output line [0-9] 0000*
.*build output line" "$w columns: build output is not left line after line"
done
esc=$(printf '\033')
ok "120 columns: ready is green" grep -q "^ db .*${esc}\\[32mready" "$tmp/colour-120"
ok "40 columns, NO_COLOR=1: no colour" sh -c "! grep -q '${esc}\\[3[12]m' '$tmp/colour-40'"
like "$(grep "^ $long" "$tmp/screen-120")" "^ $long ready" "120 columns: the long name is whole"

# Ctrl-C while db waits, and a db that fails: the lines stay as they were
# drawn (once), what up says after them comes below them, and api, which
# waits for db, says it was not started.
cat >"$tmp/stuck.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sh", "-c", "sleep \${DB_FAIL_AFTER:-600}; exit 1"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/up"]
      interval: 1s
  api:
    image: $bb
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
EOF2
at_exit "'$ITM_ENV' down -p '$ITM_NS-int' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-fail' >/dev/null 2>&1"
tmux -L "$sock" -f /dev/null new-session -d -s int -x 40 -y 30 \
  "cd '$tmp' && '$ITM_ENV' -f stuck.yml -p '$ITM_NS-int' up --timeout 100; echo \$? >'$tmp/rc-int'; exec sleep 600"
tmux -L "$sock" -f /dev/null new-session -d -s fail -x 40 -y 30 \
  "cd '$tmp' && DB_FAIL_AFTER=2 '$ITM_ENV' -f stuck.yml -p '$ITM_NS-fail' up --timeout 100; echo \$? >'$tmp/rc-fail'; exec sleep 600"
wait_for 60 sh -c "tmux -L '$sock' capture-pane -t int -p | grep -q '^ db  *waiting'" || diag "db did not show waiting"
tmux -L "$sock" send-keys -t int C-c
for s in int fail; do
  _i=0
  while [ ! -s "$tmp/rc-$s" ] && [ $_i -lt 900 ]; do sleep 0.1; _i=$((_i + 1)); done
  tmux -L "$sock" capture-pane -t $s -p -J -S - | sed '/^$/d' >"$tmp/screen-$s"
  diag "the pane of up ($s):" "$(cat "$tmp/screen-$s")"
  for svc in db api; do
    is "$(grep -c "^ $svc " "$tmp/screen-$s")" 1 "$s: $svc's line is on the screen once"
  done
  last=$(grep -n '^ [a-z]' "$tmp/screen-$s" | tail -1 | cut -d: -f1)
  removed=$(grep -n 'removed what this up created' "$tmp/screen-$s" | cut -d: -f1)
  if [ -n "$removed" ] && [ "$removed" -gt "$last" ]; then
    pass "$s: the service lines are not drawn again below 'removed what this up created'"
  else
    fail "$s: the service lines are not drawn again below 'removed what this up created'"
  fi
  if grep -q '^ api  *not started' "$tmp/screen-$s"; then
    pass "$s: api, which waits for db, was not started"
  else
    fail "$s: api, which waits for db, was not started"
  fi
done
is "$(cat "$tmp/rc-int")" 130 "int: up exits 130"
is "$(cat "$tmp/rc-fail")" 7 "fail: up exits 7"
like "$(grep '^ db ' "$tmp/screen-fail")" '^ db  *failed' "fail: db's line says failed"

run "$ITM_ENV" down -p "$ITM_NS-w40"
is "$rc" 0 "down (40)"
run "$ITM_ENV" down -p "$ITM_NS-w120"
is "$rc" 0 "down (120)"
done_testing
