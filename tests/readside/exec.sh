#!/bin/sh
# exec: exit code propagation, stdout and stderr apart, -T, -e, -u, -w,
# --index, stdin piped in, a TTY (under script(1)), unknown service,
# namespace and container number, a stopped container.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

rs_net
rs_ctr box 1 '{"Cmd":["sleep","600"],"Env":["FROM_IMAGE=yes"]}'
rs_ctr box 2 '{"Cmd":["sh","-c","echo two > /tmp/me; sleep 600"]}'
rs_ctr done 1 '{"Cmd":["true"]}'
ok "done exits" wait_for 20 rs_status done-1 exited

run "$ITM_ENV" exec box sh -c 'exit 3'
is "$rc" 3 "exit code propagated (3)"
run "$ITM_ENV" exec box -- sh -c 'echo out; echo err >&2'
is "$rc" 0 "exit 0"
is "$out" out "stdout on stdout"
is "$err" err "stderr on stderr"
run "$ITM_ENV" exec -T box sh -c 'echo t; exit 4'
is "$rc.$out" "4.t" "-T: output and exit code"
run "$ITM_ENV" exec -e A=1 -e 'B=two words' --env C=3 box sh -c 'echo "$A|$B|$C|$FROM_IMAGE"'
is "$out" "1|two words|3|yes" "-e sets variables, the container's stay"
run env ITM_RS_PASS=passed "$ITM_ENV" exec -e ITM_RS_PASS box sh -c 'echo "$ITM_RS_PASS"'
is "$out" passed "-e NAME takes our value"
run "$ITM_ENV" exec -u 1234:5678 box sh -c 'echo "$(id -u):$(id -g)"'
is "$out" "1234:5678" "-u"
run "$ITM_ENV" exec -w /tmp box pwd
is "$out" /tmp "-w"
run "$ITM_ENV" exec --index 2 box cat /tmp/me
is "$out" two "--index 2"
run "$ITM_ENV" exec box sh -c 'test -e /tmp/me'
is "$rc" 1 "the first container by default"
run "$ITM_ENV" exec box nosuchcommand
like "$rc" "^12[67]$" "a missing command: 126 or 127, as the engine says"
run "$ITM_ENV" exec box ls -la --help
like "$out$err" "Usage|usage" "options after SERVICE belong to the command"

printf 'line1\nline2\n' >"$tmp/in"
set +e
"$ITM_ENV" exec box sh -c 'wc -l; exit 6' <"$tmp/in" >"$tmp/o" 2>"$tmp/e"
rc=$?
set -e
is "$rc.$(tr -d ' ' <"$tmp/o")" "6.2" "stdin piped into the command"

if command -v script >/dev/null 2>&1; then
  set +e
  sleep 3 | script -eqc "'$ITM_ENV' exec box sh -c 'tty; exit 5'" /dev/null >"$tmp/o" 2>&1
  rc=$?
  set -e
  is "$rc" 5 "a TTY session: exit code"
  like "$(cat "$tmp/o")" "/dev/pts/" "a TTY session: the command has a TTY"
  set +e
  sleep 3 | script -eqc "'$ITM_ENV' exec -T box sh -c 'tty; exit 0'" /dev/null >"$tmp/o" 2>&1
  set -e
  like "$(cat "$tmp/o")" "not a tty" "-T on a terminal: no TTY"
else
  skip "a TTY session" "no script(1)"; skip "a TTY" "no script(1)"; skip "-T" "no script(1)"
fi

# a closed stdin is an empty one (fd 0 is not left for an engine socket)
set +e
timeout 30 "$ITM_ENV" exec box cat <&- >"$tmp/o" 2>"$tmp/e"
rc=$?
set -e
is "$rc" 0 "stdin closed: the command reads EOF at once and exits 0"
is "$(cat "$tmp/o")" "" "stdin closed: nothing read"
set +e
timeout 30 "$ITM_ENV" exec box sh -c 'echo out; echo err >&2' <&- >&- 2>"$tmp/e"
rc=$?
set -e
is "$rc" 0 "stdout closed too: the command still runs"
is "$(cat "$tmp/e")" "err" "stdout closed: stderr still carries the command's"

run "$ITM_ENV" exec nosuch true
is "$rc" 10 "unknown service: exit 10"
like "$err" "no service 'nosuch' in namespace '$ITM_NS'" "unknown service: message"
like "$err" "its services: box, done" "unknown service: the services"
run "$ITM_ENV" exec --index 3 box true
is "$rc" 10 "unknown container number: exit 10"
run "$ITM_ENV" exec -p "$ITM_NS-none" box true
is "$rc" 10 "unknown namespace: exit 10"
run "$ITM_ENV" exec done true
is "$rc" 1 "a stopped container: exit 1"
like "$err" "is exited, not running" "a stopped container: message"
run "$ITM_ENV" exec box
is "$rc" 2 "no command: usage error"
run "$ITM_ENV" exec --help
like "$out" "^usage: itm-env exec" "exec --help"

rs_cleanup
done_testing
