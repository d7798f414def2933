# ssh-lib.sh - sourced by tests/engine2/ssh*.sh after tests/lib.sh: an sshd
# of the test's own (Debian's openssh-server, on 127.0.0.1 and a free port,
# host key and client key made here) whose authorized key runs the
# machine's docker CLI (`docker system dial-stdio`) against the engine
# under test, and $d/ssh-good, $d/ssh-wronghost, $d/ssh-rogue: wrappers of
# ssh (for $ITM_ENV_SSH) adding -F /dev/null, the test's known_hosts and
# key; $d/ssh-good logs every call to $d/calls.  Exports
# DOCKER_HOST=ssh://root@127.0.0.1:$port, ITM_ENV_SSH=$d/ssh-good, and a
# TMPDIR of the test's own ($rt: where itm-env's ssh control directories
# go, unset XDG_RUNTIME_DIR).  ssh_leftovers prints what itm-env left of
# its ssh connections (control directories and sockets, ssh processes).
need_root
need_engine
need_cmd ssh ssh-keygen docker jq
[ -x /usr/sbin/sshd ] || skip_all "needs /usr/sbin/sshd (openssh-server: tests/install-deps.sh)"

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
echo "\$*" >>$d/calls
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
: >"$d/calls"

rt=$tmp/rt
mkdir -p "$rt"
export TMPDIR="$rt"
unset XDG_RUNTIME_DIR
export DOCKER_HOST="ssh://root@127.0.0.1:$port"
export ITM_ENV_SSH="$d/ssh-good"
# what itm-env left of its ssh connections: nothing, once it has exited (a
# master told to exit takes a moment to go: waited for)
ssh_leftovers () {
  _sl_i=0
  while :; do
    _sl=$(find "$rt" -mindepth 1 2>/dev/null; ps -eo pid=,args= | grep -F "$rt/itm-env-ssh" | grep -v grep)
    [ -z "$_sl" ] || [ $_sl_i -ge 30 ] && break
    _sl_i=$((_sl_i + 1))
    sleep 0.1
  done
  printf '%s' "$_sl"
}
# ssh logins sshd has let in so far
ssh_logins () { grep -c 'Accepted publickey' "$tmp/sshd.log"; }
