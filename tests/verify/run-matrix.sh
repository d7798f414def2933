#!/bin/sh
# run-matrix.sh - itm-env run: the command gets env's variables and the
# namespace; exit status for CMD passes/fails x environment clean/dirty;
# --keep-on-failure; a fresh namespace by default; SIGTERM forwarded.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq curl
need_fixtures busybox
bb=itm-fixture/busybox:latest
stray=$ITM_NS-stray
export bb stray ITM_SOCK
rmc () { for _c; do engine_req DELETE "/containers/$_c?force=1" >/dev/null 2>&1 || true; done; }
at_exit "rmc '$stray'; '$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["httpd", "-f", "-p", "8080"]
    ports: ["8080"]
EOF2
cd "$tmp"
labelled () { # NS: how many containers/networks/volumes carry its label
  _n=0
  for _q in "/containers/json?all=1&filters=$(ns_filter "$1")" "/networks?filters=$(ns_filter "$1")"; do
    _n=$((_n + $(engine_get "$_q" | jq length)))
  done
  echo $((_n + $(engine_get "/volumes?filters=$(ns_filter "$1")" | jq '.Volumes // [] | length')))
}
# a command that leaves a container of its own on the namespace's network
cat >"$tmp/leak.sh" <<'EOF2'
#!/bin/sh
curl -sf --unix-socket "$ITM_SOCK" -H 'Content-Type: application/json' \
  -d "{\"Image\":\"$bb\",\"Cmd\":[\"sleep\",\"3600\"],\"HostConfig\":{\"NetworkMode\":\"${ITM_ENV_NAMESPACE}_default\"}}" \
  "http://engine/containers/create?name=$stray" >/dev/null || exit 99
curl -sf --unix-socket "$ITM_SOCK" -X POST "http://engine/containers/$stray/start" || exit 98
exit "${1:-0}"
EOF2
chmod +x "$tmp/leak.sh"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- sh -c 'echo "ns=$ITM_ENV_NAMESPACE port=$WEB_PORT host=$WEB_HOST"; wget -q -O /dev/null "http://$WEB_HOST:$WEB_PORT/" 2>/dev/null; exit 0'
is "$rc" 0 "CMD passes, environment clean: 0"
like "$out" "^ns=$ITM_NS port=[0-9]+ host=127.0.0.1$" "CMD has env's variables and ITM_ENV_NAMESPACE"
like "$err" "verified namespace $ITM_NS: checked .*: nothing is left" "the verification line"
is "$(labelled "$ITM_NS")" 0 "nothing left"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- sh -c 'exit 3'
is "$rc" 3 "CMD fails (3), environment clean: 3"
is "$(labelled "$ITM_NS")" 0 "nothing left"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- "$tmp/leak.sh" 0
is "$rc" 9 "CMD passes, environment dirty: 9 (the verifier's)"
like "$err" "leftover: container $stray " "the leftover is named"
rmc "$stray"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- "$tmp/leak.sh" 4
is "$rc" 4 "CMD fails (4), environment dirty: 4 (the command's)"
like "$err" "leftover: container $stray " "the leftover is still named"
rmc "$stray"
is "$(labelled "$ITM_NS")" 0 "nothing labelled left"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- sh -c 'kill -TERM $$'
is "$rc" 143 "CMD killed by a signal: 128+N"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- no-such-command-itmt
is "$rc" 127 "CMD not found: 127"
is "$(labelled "$ITM_NS")" 0 "nothing left"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run --keep-on-failure -- sh -c 'exit 5'
is "$rc" 5 "--keep-on-failure: the command's status"
like "$err" "itm-env down -p $ITM_NS" "says how to remove it"
like "$err" "itm-env env -p $ITM_NS" "says how to reach it"
is "$(labelled "$ITM_NS")" 2 "the environment is kept (container and network)"
run "$ITM_ENV" down -p "$ITM_NS"
is "$rc" 0 "and down removes it"

run "$ITM_ENV" -f stack.yml run -- sh -c 'echo "$ITM_ENV_NAMESPACE"'
is "$rc" 0 "a fresh namespace by default"
fresh=$out
like "$fresh" '^run-[0-9a-f]{12}$' "named run-<hex>"
is "$(labelled "$fresh")" 0 "nothing left in it"

# the command inherits none of itm-env's descriptors (engine connections,
# the watchdog's pipe): only what the caller gave itm-env (here 7)
# (the shell lists its own descriptors while it runs one command, ls,
# whose output goes to a file: in a pipeline the shell holds the pipes it
# is still setting up while ls reads the list, which made this flaky)
fds_of () { tr -s ' \n' '  ' <"$1" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/^ *//'; }
run sh -c 'ls /proc/$$/fd >"$0"' "$tmp/fds-mine" 7>"$tmp/seven"
mine=$(fds_of "$tmp/fds-mine")
run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -q -- sh -c 'ls /proc/$$/fd >"$0"; echo seven >&7' "$tmp/fds-cmd" 7>"$tmp/seven"
is "$rc" 0 "run -- ls /proc/\$\$/fd: 0"
out=$(fds_of "$tmp/fds-cmd")
# no more than the caller's: every descriptor the command has, the caller
# had too (make's jobserver pipe, which the caller may hold, is not ours
# to pass on or to assert about: 7 below is the one the caller gives)
extra=
for fd in $out; do
  case " $mine " in *" $fd "*) ;; *) extra="$extra $fd" ;; esac
done
is "$extra" "" "run's command has no descriptor its caller did not give it (itm-env's own: none)"
diag "caller: $mine" "command: $out"
is "$(cat "$tmp/seven")" seven "a descriptor the caller passes reaches the command"

# SIGTERM to run reaches the command; run then tears down
rm -f "$tmp/started"
timeout 120 "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -- sh -c 'trap "exit 42" TERM; touch "$0"; while :; do sleep 0.1; done' "$tmp/started" >"$tmp/bg.out" 2>"$tmp/bg.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
if wait_for 60 test -e "$tmp/started"; then pass "the command started"; else fail "the command started"; fi
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
is "$rc" 42 "SIGTERM forwarded: the command's trap ran, its status is run's"
is "$(labelled "$ITM_NS")" 0 "and the namespace was removed"
done_testing
