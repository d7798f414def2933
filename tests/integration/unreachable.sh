#!/bin/sh
# unreachable.sh - no engine where we look: a wrong socket path, a socket
# file nobody listens on, a TCP port nobody listens on, a server that
# answers garbage or closes mid-response.  Each gives one clear line (plus
# perhaps a hint) and a documented exit code, quickly: no crash, no hang.
ITM_TEST_NEEDS_ENGINE=0 # none of this talks to the real engine
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd socat

# one_line: the error is one line, apart from a "hint:" line.
one_line () {
  is "$(printf '%s\n' "$err" | grep -v '^itm-env: hint:' | grep -c . || true)" 1 "$1: one line of error"
}
ITM_TEST_TIMEOUT=30

run "$ITM_ENV" -H unix:///nonexistent.sock version
is "$rc" 4 "-H unix:///nonexistent.sock: exit 4"
like "$err" '/nonexistent\.sock' "-H unix:///nonexistent.sock: the message names the path"
one_line "-H unix:///nonexistent.sock"
run "$ITM_ENV" -H unix:///nonexistent.sock doctor
is "$rc" 4 "doctor -H unix:///nonexistent.sock: exit 4"
like "$out" '^FAIL +engine: .*/nonexistent\.sock' "doctor -H unix:///nonexistent.sock: the engine check fails naming the path"

run env DOCKER_HOST=unix:///nonexistent.sock "$ITM_ENV" version --json
is "$rc" 4 "DOCKER_HOST=unix:///nonexistent.sock version: exit 4"
like "$err" '/nonexistent\.sock' "DOCKER_HOST=unix:///nonexistent.sock: the message names the path"

# A socket file with nothing listening (what a dead engine leaves behind):
# socat killed with SIGKILL cannot unlink it.
dead=$tmp/dead.sock
socat "UNIX-LISTEN:$dead,unlink-close=0" /dev/null &
spid=$!
wait_for 10 test -S "$dead" || true
kill -9 "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
if [ -S "$dead" ]; then
  run "$ITM_ENV" -H "unix://$dead" version
  is "$rc" 4 "a socket nobody listens on: exit 4"
  like "$err" "$dead" "a socket nobody listens on: the message names it"
  like "$err" '(refused|not running|no engine)' "a socket nobody listens on: says nobody answers"
  one_line "a socket nobody listens on"
else
  for i in 1 2 3 4; do skip "a socket nobody listens on ($i)" "could not make a dead socket"; done
fi

# A TCP port nobody listens on.
port=$(free_port)
run "$ITM_ENV" -H "tcp://127.0.0.1:$port" version
is "$rc" 4 "tcp://127.0.0.1:$port with nothing listening: exit 4"
like "$err" "127\.0\.0\.1:$port" "tcp with nothing listening: the message names host and port"
one_line "tcp with nothing listening"

# A server that answers garbage, and one that closes mid-response.
fake () { # REPLY-FILE: serve it to every connection on a fresh port; sets $fport
  fport=$(free_port)
  socat "TCP-LISTEN:$fport,bind=127.0.0.1,reuseaddr,fork" "SYSTEM:cat $1; sleep 0.2" &
  fpid=$!
  at_exit "kill $fpid 2>/dev/null"
  wait_for 10 sh -c "exec 3<>/dev/tcp/127.0.0.1/$fport" 2>/dev/null \
    || wait_for 10 sh -c "ss -Htln 'sport = :$fport' | grep -q ."
}
printf 'this is not HTTP at all\r\n\r\n' >"$tmp/garbage"
fake "$tmp/garbage"
run "$ITM_ENV" -H "tcp://127.0.0.1:$fport" version
is "$rc" 5 "a server answering garbage: exit 5"
one_line "a server answering garbage"
kill "$fpid" 2>/dev/null || true

printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\nApi-Version: 1.41\r\n\r\n{"ApiVersion": "1.4' >"$tmp/cut"
fake "$tmp/cut"
run "$ITM_ENV" -H "tcp://127.0.0.1:$fport" version
like "$rc" '^[45]$' "a server closing mid-response: exit 4 or 5 (got $rc)"
one_line "a server closing mid-response"
kill "$fpid" 2>/dev/null || true

printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nApi-Version: 1.41\r\n\r\n{"a": [}\n' >"$tmp/badjson"
fake "$tmp/badjson"
run "$ITM_ENV" -H "tcp://127.0.0.1:$fport" version
is "$rc" 5 "a server answering broken JSON: exit 5"
one_line "a server answering broken JSON"
kill "$fpid" 2>/dev/null || true

run "$ITM_ENV" -H ftp://127.0.0.1 version
is "$rc" 2 "an unknown scheme in -H is a usage error (exit 2)"

done_testing
