#!/bin/sh
# No idle wake-ups: a call waiting on a silent stream (logs -f of a
# container that prints nothing more) sleeps in poll() until the engine
# sends something or a cancel wakes it, instead of waking on a clock; and
# SIGINT still ends it at once (engine_cancel_wake, src/engine/wake.c).
# The count is of poll() calls over an idle stretch, not a time limit.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq strace

rs_net
rs_ctr quiet 1 '{"Cmd":["sh","-c","echo started; sleep 600"]}'
# LeakSanitizer cannot work under ptrace: without it in a sanitizer build
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -e trace=poll,ppoll,epoll_wait,select,pselect6 -o "$tmp/trace" \
  "$ITM_ENV" logs --follow quiet >"$tmp/f.out" 2>"$tmp/f.err" &
spid=$!
at_exit "kill $spid 2>/dev/null || true"
ok "-f shows the first line" wait_for 20 grep -q 'quiet | started' "$tmp/f.out"
# the itm-env under strace
ipid=
for _i in 1 2 3 4 5 6 7 8 9 10; do
  ipid=$(ps -o pid= --ppid "$spid" | tr -d ' ' | head -n1)
  [ -n "$ipid" ] && break
  sleep 0.2
done
sleep 0.5
n1=$(wc -l <"$tmp/trace")
sleep 3
n2=$(wc -l <"$tmp/trace")
# each line is a call or its resumption: nothing happened, so (almost) no
# lines; a 100 ms clock would have made 30 calls and more
ok "no poll() wake-ups on a silent stream in 3 s ($((n2 - n1)) trace lines)" [ $((n2 - n1)) -le 4 ]
kill -INT "$ipid"
set +e
timeout 20 sh -c "while kill -0 $spid 2>/dev/null; do sleep 0.1; done"
wait "$spid"
rc=$?
set -e
is "$rc" 130 "-f: SIGINT still ends it with 130"

rs_cleanup
done_testing
