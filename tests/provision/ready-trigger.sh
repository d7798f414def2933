#!/bin/sh
# ready-trigger.sh - the readiness trigger (src/prov/ready.h) never makes a
# service ready on its own: only the service's check does.  A service
# whose port flaps (opens and closes) while it starts, or whose process
# table keeps changing (a start script's loop), is reported ready no
# sooner than its check first passes (the check writes /tmp/first then);
# one whose port is open but whose check never passes fails its gate.
# Orderings and exit codes only, no time limits.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
# HH:MM:SS.fff or "YYYY-MM-DD HH:MM:SS.fffffffff +0000" -> ms of the day
ms_of_day () { awk '{ t = NF > 1 ? $2 : $1; split(t, a, ":"); printf "%d\n", (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }'; }

cat >"$tmp/flap.yml" <<EOF2
services:
  flappy:
    image: $bb
    command: ["sh", "-c", "for i in 1 2 3 4 5 6; do httpd -f -p 8080 & p=\$\$!; sleep 0.15; kill \$\$p; sleep 0.15; done; touch /tmp/up; exec httpd -f -p 8080"]
    expose: ["8080"]
    healthcheck:
      test: ["CMD-SHELL", "[ -e /tmp/up ] && { [ -e /tmp/first ] || touch /tmp/first; }"]
      interval: 1h
EOF2
run "$ITM_ENV" -f "$tmp/flap.yml" up
is "$rc" 0 "a service whose port flaps while it starts: up succeeds"
rep=$(printf '%s\n' "$err" | grep -E ' flappy ready' | awk '{print $1}' | ms_of_day)
first=$(docker exec "$ITM_NS-flappy-1" stat -c %y /tmp/first 2>/dev/null | ms_of_day)
up=$(docker exec "$ITM_NS-flappy-1" stat -c %y /tmp/up 2>/dev/null | ms_of_day)
not_before () { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -ge "$2" ]; }
ok "reported ready ($rep) no sooner than its check first passed ($first)" not_before "$rep" "$first"
ok "its check first passed once the service was ready ($first >= $up)" not_before "$first" "$up"
run "$ITM_ENV" down
is "$rc" 0 "down"

cat >"$tmp/churn.yml" <<EOF2
services:
  churn:
    image: $bb
    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 0.1; done; touch /tmp/up; exec sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "[ -e /tmp/up ] && { [ -e /tmp/first ] || touch /tmp/first; }"]
      interval: 1h
EOF2
run "$ITM_ENV" -f "$tmp/churn.yml" up
is "$rc" 0 "a service whose process table changes while it starts: up succeeds"
rep=$(printf '%s\n' "$err" | grep -E ' churn ready' | awk '{print $1}' | ms_of_day)
first=$(docker exec "$ITM_NS-churn-1" stat -c %y /tmp/first 2>/dev/null | ms_of_day)
up=$(docker exec "$ITM_NS-churn-1" stat -c %y /tmp/up 2>/dev/null | ms_of_day)
ok "reported ready ($rep) no sooner than its check first passed ($first)" not_before "$rep" "$first"
ok "its check first passed once the service was ready ($first >= $up)" not_before "$first" "$up"
run "$ITM_ENV" down
is "$rc" 0 "down"

cat >"$tmp/open.yml" <<EOF2
services:
  open:
    image: $bb
    command: ["httpd", "-f", "-p", "8080"]
    expose: ["8080"]
    healthcheck:
      test: ["CMD-SHELL", "echo not-yet; exit 1"]
      interval: 1h
    x-itm:
      timeout: 3s
EOF2
run "$ITM_ENV" -f "$tmp/open.yml" up
is "$rc" 7 "an open port with a check that fails: the gate fails (readiness exit code)"
like "$err" 'open.*not healthy within its timeout' "names the service and the timeout"
like "$err" 'exit 1: not-yet' "the failed checks are shown"
done_testing
