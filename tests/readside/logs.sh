#!/bin/sh
# logs: stdout and stderr lines of two services, prefixed and padded;
# --tail, --timestamps, --no-log-prefix; -f until the containers stop and
# on SIGINT; no colour when stdout is not a TTY; a TTY container (raw
# stream); unknown service and namespace.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

rs_net
# stdout and stderr reach the engine through two pipes: their relative
# order is not kept, so stderr is written first and given time.
rs_ctr db 1 '{"Cmd":["sh","-c","for i in 1 2 3 4 5; do echo db-err$i >&2; done; sleep 0.5; for i in 1 2 3 4 5; do echo db-out$i; done; printf no-newline"]}'
rs_ctr long-name 1 '{"Cmd":["sh","-c","echo ln-err1 >&2; sleep 0.5; echo ln-out1; echo ln-out2"]}'
rs_ctr term 1 '{"Tty":true,"Cmd":["sh","-c","echo tty-line"]}'
ok "db exits" wait_for 20 rs_status db-1 exited
ok "long-name exits" wait_for 20 rs_status long-name-1 exited
ok "term exits" wait_for 20 rs_status term-1 exited

run "$ITM_ENV" logs db long-name
is "$rc" 0 "logs SERVICE..."
is "$(printf '%s\n' "$out" | grep -c '^db        | db-out[1-5]$')" 5 "db's stdout lines, prefix padded to the longest name"
is "$(printf '%s\n' "$out" | grep -c '^db        | db-err[1-5]$')" 5 "db's stderr lines"
ok "a last line without a newline is still a line" grep -qx 'db        | no-newline' "$tmp/.out"
is "$(printf '%s\n' "$out" | grep '^long-name | ' | sort | tr '\n' ,)" \
  "long-name | ln-err1,long-name | ln-out1,long-name | ln-out2," "long-name's lines"
is "$(lines "$out")" 14 "nothing else"
is "$(printf '%s\n' "$out" | grep '^long-name | ln-out' | tr '\n' ,)" \
  "long-name | ln-out1,long-name | ln-out2," "lines of one stream keep their order"
unlike "$out" "$(printf '\033')" "no colour when stdout is not a TTY"

run "$ITM_ENV" logs
like "$out" "term      \\| tty-line" "every service by default; a TTY container's raw stream"

run "$ITM_ENV" logs --tail 2 db
is "$out" "db | db-out5
db | no-newline" "--tail 2: the last two lines"
run "$ITM_ENV" logs --tail 0 db
is "$out" "" "--tail 0: nothing"
run "$ITM_ENV" logs -t --tail 1 long-name
like "$out" "^long-name \\| [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ln-out2$" "--timestamps"
run "$ITM_ENV" logs --no-log-prefix long-name
is "$(printf '%s\n' "$out" | sort | tr '\n' ,)" "ln-err1,ln-out1,ln-out2," "--no-log-prefix"
run "$ITM_ENV" logs --tail x db
is "$rc" 2 "--tail x: usage error"

# -f: ends by itself when the containers stop
rs_ctr ticker 1 '{"Cmd":["sh","-c","for i in 1 2 3; do echo tick$i; sleep 0.5; done"]}'
run "$ITM_ENV" logs -f ticker
is "$rc.$(printf '%s' "$out" | tr '\n' ,)" "0.ticker | tick1,ticker | tick2,ticker | tick3" \
  "-f follows until the container stops"

# -f: SIGINT ends it
rs_ctr forever 1 '{"Cmd":["sh","-c","echo started; sleep 600"]}'
"$ITM_ENV" logs --follow forever >"$tmp/f.out" 2>"$tmp/f.err" &
pid=$!
at_exit "kill $pid 2>/dev/null || true"
ok "-f shows the first line" wait_for 10 grep -q 'forever | started' "$tmp/f.out"
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
is "$rc" 130 "-f: SIGINT ends it with 130"

run "$ITM_ENV" logs nosuch
is "$rc" 10 "unknown service: exit 10"
like "$err" "its services: db, forever, long-name, term, ticker" "unknown service: the services"
run "$ITM_ENV" logs -p "$ITM_NS-none"
is "$rc" 10 "unknown namespace: exit 10"

rs_cleanup
done_testing
