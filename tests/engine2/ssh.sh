#!/bin/sh
# ssh.sh - DOCKER_HOST=ssh://USER@127.0.0.1:PORT: an sshd of the test's own
# (Debian's openssh-server, on 127.0.0.1 and a free port, host key and
# client key made here) whose authorized key runs the machine's docker CLI
# (`docker system dial-stdio`) against the engine under test.  itm-env runs
# `ssh -l root -p PORT -o BatchMode=yes -- 127.0.0.1 docker system
# dial-stdio` per connection ($ITM_ENV_SSH: a wrapper adding -F with the
# test's known_hosts and key).  version, up (its event stream), exec with
# stdin, logs -f and down work over it; a host key mismatch and a refused
# key fail with exit 4 and ssh's own words.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_engine
need_cmd ssh ssh-keygen docker jq
[ -x /usr/sbin/sshd ] || skip_all "needs /usr/sbin/sshd (openssh-server: tests/install-deps.sh)"
need_fixtures busybox
at_exit "'$ITM_ENV' -H 'unix://$ITM_SOCK' down -p '$ITM_NS' >/dev/null 2>&1"

d=$tmp/ssh
mkdir -p "$d" /run/sshd
chmod 700 "$d"
ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$d/otherhost"
ssh-keygen -q -t ed25519 -N '' -f "$d/id"
ssh-keygen -q -t ed25519 -N '' -f "$d/rogue"
printf 'command="DOCKER_HOST=unix://%s docker system dial-stdio",no-pty,no-port-forwarding %s\n' \
  "$ITM_SOCK" "$(cat "$d/id.pub")" >"$d/authorized_keys"
port=$(free_port) || bail "no free port"
cat >"$d/sshd_config" <<EOF2
Port $port
ListenAddress 127.0.0.1
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $d/sshd.pid
EOF2
/usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$tmp/sshd.log" &
sshd_pid=$!
at_exit "kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$d/hostkey.pub")" >"$d/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$d/otherhost.pub")" >"$d/known_hosts.wrong"
mkwrap () { # NAME KNOWN-HOSTS KEY
  cat >"$d/$1" <<EOF2
#!/bin/sh
exec ssh -F /dev/null -o UserKnownHostsFile=$2 -o GlobalKnownHostsFile=/dev/null \\
  -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o IdentityFile=$3 -o LogLevel=ERROR "\$@"
EOF2
  chmod +x "$d/$1"
}
mkwrap ssh-good "$d/known_hosts" "$d/id"
mkwrap ssh-wronghost "$d/known_hosts.wrong" "$d/id"
mkwrap ssh-rogue "$d/known_hosts" "$d/rogue"
up_ssh () { "$d/ssh-good" -l root -p "$port" -o BatchMode=yes -- 127.0.0.1 true </dev/null; }
wait_for 15 up_ssh || { diag "$(cat "$tmp/sshd.log")"; bail "sshd on 127.0.0.1:$port does not let the key in"; }

export DOCKER_HOST="ssh://root@127.0.0.1:$port"
export ITM_ENV_SSH="$d/ssh-good"
run "$ITM_ENV" version
is "$rc" 0 "version over ssh://"
like "$out" "endpoint: +ssh://root@127\\.0\\.0\\.1:$port" "... naming the ssh endpoint"

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
run "$ITM_ENV" -f stack.yml -p "$ITM_NS" up --timeout 90
is "$rc" 0 "up over ssh:// (creates, starts, follows the engine's events to ready)"
like "$err" "app ready" "... app ready"
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
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down over ssh://"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "... nothing left"

ITM_ENV_SSH="$d/ssh-wronghost" run "$ITM_ENV" version
is "$rc" 4 "a host key mismatch: exit 4"
like "$err" "ssh://root@127\\.0\\.0\\.1:$port: ssh failed \\(exit 255\\): .*Host key verification failed" \
  "... with ssh's own words"
like "$err" "hint: the host's key is not the one known_hosts has" "... and what to check"
ITM_ENV_SSH="$d/ssh-rogue" run "$ITM_ENV" version
is "$rc" 4 "a refused key: exit 4"
like "$err" "ssh failed \\(exit 255\\): .*Permission denied" "... with ssh's own words"
like "$err" "hint: 127\\.0\\.0\\.1 refused the key" "... and what to do"
done_testing
