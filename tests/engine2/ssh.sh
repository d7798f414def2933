#!/bin/sh
# ssh.sh - DOCKER_HOST=ssh://USER@127.0.0.1:PORT: an sshd of the test's own
# (tests/engine2/ssh-lib.sh) whose authorized key runs the machine's docker
# CLI (`docker system dial-stdio`) against the engine under test.  itm-env
# runs `ssh -l root -p PORT -o BatchMode=yes -o ConnectTimeout=N ... --
# 127.0.0.1 docker system dial-stdio` per connection, each a client of one
# master connection ($ITM_ENV_SSH: a wrapper adding -F with the test's
# known_hosts and key).  version, up of ten services (its event stream; a
# few ssh logins, not one per request), exec with stdin, logs -f and down
# work over it, and leave nothing behind (no master, no control socket); a
# host key mismatch and a refused key fail with exit 4 and ssh's own words,
# and so does, within the connect timeout, a host that accepts the TCP
# connection and never speaks.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_fixtures busybox
at_exit "'$ITM_ENV' -H 'unix://$ITM_SOCK' down -p '$ITM_NS' >/dev/null 2>&1"

. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/engine2/ssh-lib.sh"

run "$ITM_ENV" version
is "$rc" 0 "version over ssh://"
like "$out" "endpoint: +ssh://root@127\\.0\\.0\\.1:$port" "... naming the ssh endpoint"
like "$(cat "$d/calls")" "ConnectTimeout=5 " "... ssh's ConnectTimeout is itm-env's connect timeout (5 s)"
is "$(ssh_leftovers)" "" "... nothing left (no master, no control socket)"

cd "$tmp"
cat >stack.yml <<EOF2
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo hello-over-ssh; while :; do echo tick; sleep 0.2; done"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
EOF2
i=0
while [ $i -lt 9 ]; do
  printf '  s%d:\n    image: itm-fixture/busybox:latest\n    command: ["sh", "-c", "trap \\"exit 0\\" TERM; while :; do sleep 1; done"]\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 30s\n' $i >>stack.yml
  i=$((i + 1))
done
logins0=$(ssh_logins)
: >"$d/calls"
t0=$(date +%s.%N)
run "$ITM_ENV" -f stack.yml -p "$ITM_NS" up --timeout 150
t1=$(date +%s.%N)
is "$rc" 0 "up of ten services over ssh:// (creates, starts, follows the engine's events to ready)"
like "$err" "app ready" "... app ready"
logins=$(($(ssh_logins) - logins0))
diag "up over ssh: $(echo "$t1 - $t0" | bc) s, $(grep -c 'dial-stdio' "$d/calls") connections, $logins ssh logins"
conns=$(grep -c 'dial-stdio' "$d/calls")
ok "... through a few ssh logins (masters, each serving up to 8 connections at once), not one per connection ($logins for $conns)" [ $((logins * 4)) -le "$conns" ]
is "$(ssh_leftovers)" "" "... nothing left after up (no master, no control socket)"
printf 'line1\nline2\n' >in.txt
run sh -c "'$ITM_ENV' -p '$ITM_NS' exec -T app sh -c 'wc -l; exit 3' <in.txt"
is "$rc" 3 "exec over ssh: the command's exit code"
like "$out" '^ *2$' "... its stdin arrived whole (2 lines)"
timeout 60 "$ITM_ENV" -p "$ITM_NS" logs -f app >logs.txt 2>&1 &
lpid=$!
has_ticks () { [ "$(grep -c 'tick' logs.txt)" -ge 3 ]; }
ok "logs -f over ssh: the output streams as it comes" wait_for 40 has_ticks
diag "logs -f: $(head -c 100 logs.txt)"
kill "$lpid" 2>/dev/null || true; wait "$lpid" 2>/dev/null || true
like "$(head -1 logs.txt)" "hello-over-ssh" "... from the start"
logins0=$(ssh_logins)
: >"$d/calls"
t0=$(date +%s.%N)
run "$ITM_ENV" -p "$ITM_NS" down
t1=$(date +%s.%N)
is "$rc" 0 "down over ssh://"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "... nothing left"
logins=$(($(ssh_logins) - logins0))
diag "down over ssh: $(echo "$t1 - $t0" | bc) s, $(grep -c 'dial-stdio' "$d/calls") connections, $logins ssh logins"
conns=$(grep -c 'dial-stdio' "$d/calls")
ok "... through a few ssh logins, not one per connection ($logins for $conns)" [ $((logins * 4)) -le "$conns" ]
is "$(ssh_leftovers)" "" "... nothing left of ssh after down"

ITM_ENV_SSH="$d/ssh-wronghost" run "$ITM_ENV" version
is "$rc" 4 "a host key mismatch: exit 4"
like "$err" "ssh://root@127\\.0\\.0\\.1:$port: ssh failed \\(exit 255\\): .*Host key verification failed" \
  "... with ssh's own words"
like "$err" "hint: the host's key is not the one known_hosts has" "... and what to check"
ITM_ENV_SSH="$d/ssh-rogue" run "$ITM_ENV" version
is "$rc" 4 "a refused key: exit 4"
like "$err" "ssh failed \\(exit 255\\): .*Permission denied" "... with ssh's own words"
like "$err" "hint: 127\\.0\\.0\\.1 refused the key" "... and what to do"
is "$(ssh_leftovers)" "" "... nothing left of the failed connections"

# a host that accepts the connection and says nothing: ssh's ConnectTimeout
# (ITM_ENV_CONNECT_TIMEOUT) ends it, not the request timeout (60 s)
need_cmd socat
silent=$(free_port) || bail "no free port"
socat "TCP-LISTEN:$silent,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'sleep 100' 2>/dev/null &
socat_pid=$!
at_exit "kill $socat_pid 2>/dev/null"
sleep 0.5
DOCKER_HOST="ssh://root@127.0.0.1:$silent" ITM_ENV_CONNECT_TIMEOUT=2 run timeout 40 "$ITM_ENV" version
is "$rc" 4 "a host that never speaks SSH: exit 4 (within the connect timeout, not the request timeout)"
like "$err" "ssh://root@127\\.0\\.0\\.1:$silent: ssh failed \\(exit 255\\): .*timed out" "... with ssh's words"
like "$err" "hint: .*ITM_ENV_CONNECT_TIMEOUT" "... and the knob"
DOCKER_HOST="ssh://root@127.0.0.1:$silent" ITM_ENV_CONNECT_TIMEOUT=2 run timeout 40 "$ITM_ENV" -f stack.yml -p "$ITM_NS" up
is "$rc" 4 "... up to it: exit 4 too"
is "$(ssh_leftovers)" "" "... nothing left"
done_testing
