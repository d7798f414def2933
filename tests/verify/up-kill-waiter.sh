#!/bin/sh
# up-kill-waiter.sh - SIGKILL of an up while a second up waits on the
# namespace lock: the dead up's watchdog keeps the lock until it has
# removed the namespace; the second up then creates it afresh and ends
# with everything ready (exit 0), nothing of the first left, and no
# container recreated "because its configuration changed".
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<EOF2
services:
  slow:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "sleep 3; touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 1s
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    depends_on:
      slow:
        condition: service_healthy
EOF2
"$ITM_ENV" -f "$tmp/stack.yml" up --timeout 60 >"$tmp/a.out" 2>&1 &
a=$!
# the first holds the lock and has created its containers
wait_for 60 sh -c "curl -s --unix-socket '$ITM_SOCK' 'http://e/containers/json?all=1&filters=$(ns_filter)' | jq -e 'length == 2'" || true
"$ITM_ENV" -f "$tmp/stack.yml" up --timeout 90 >"$tmp/b.out" 2>&1 &
b=$!
wait_for 30 grep -q 'waiting for it' "$tmp/b.out" || true
kill -KILL "$a"
set +e; wait "$a"; wait "$b"; rb=$?; set -e
diag "first:" "$(cat "$tmp/a.out")" "second:" "$(cat "$tmp/b.out")"
like "$(cat "$tmp/b.out")" "another itm-env up \\(pid $a\\) is at work on it: waiting" \
  "the second waited for the first"
is "$rb" 0 "the second up succeeds"
unlike "$(cat "$tmp/b.out")" "configuration changed" "nothing recreated as 'its configuration changed'"
cs=$(engine_get "/containers/json?all=1&filters=$(ns_filter)")
is "$(printf '%s' "$cs" | jq length)" 2 "one container per service"
is "$(printf '%s' "$cs" | jq -r "[.[] | .Labels[\"io.itm-env.creator-pid\"]] | unique | join(\" \")")" "$b" \
  "every container is the second up's"
is "$(printf '%s' "$cs" | jq -r '[.[] | .State] | unique | join(" ")')" running "all running"
is "$(engine_get "/containers/$ITM_NS-slow-1/json" | jq -r .State.Health.Status)" healthy "slow is healthy"
is "$(engine_get "/networks?filters=$(ns_filter)" | jq -r "[.[] | .Labels[\"io.itm-env.creator-pid\"]] | join(\" \")")" "$b" \
  "the network is the second up's"
ok "the namespace is released to the user" test -e "$ITM_ENV_STATE_DIR/$ITM_NS/released"
# the first's watchdog is done (it held the lock the second got)
wd=0
for p in /proc/[0-9]*; do
  tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "--watchdog $ITM_NS " && wd=$((wd + 1))
done
is "$wd" 0 "no watchdog of the first is left running"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 2 "and it removed nothing of the second's"
run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
