#!/bin/sh
# ssh-tty.sh - exec with a terminal (docker's `exec -it`) over ssh:// (ssh-lib.sh:
# an sshd of the test's own) from a real terminal: a tmux pane of 100 x 30
# runs `itm-env exec app sh` (a TTY: stdin and stdout are terminals); typed reaches the container's
# shell, which has a terminal of the pane's size, its output comes back to
# the pane, and `exit 7` is exec's exit code.  Nothing of the ssh
# connection is left after.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd tmux
need_fixtures busybox
at_exit "'$ITM_ENV' -H 'unix://$ITM_SOCK' down -p '$ITM_NS' >/dev/null 2>&1"

. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/engine2/ssh-lib.sh"

sock=itm-$$
at_exit "tmux -L $sock kill-server >/dev/null 2>&1"
cd "$tmp"
cat >stack.yml <<EOF2
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    init: true
EOF2
run "$ITM_ENV" -f stack.yml -p "$ITM_NS" up --timeout 90
is "$rc" 0 "up over ssh://"

pane () { tmux -L "$sock" capture-pane -t tty -p -J -S - 2>/dev/null; }
tmux -L "$sock" -f /dev/null new-session -d -s tty -x 100 -y 30 \
  "cd '$tmp' && DOCKER_HOST='$DOCKER_HOST' ITM_ENV_SSH='$ITM_ENV_SSH' TMPDIR='$TMPDIR' timeout --foreground 120 '$ITM_ENV' -p '$ITM_NS' exec app sh; echo \$? >'$tmp/rc'; exec sleep 600"
prompt () { pane | grep -q '# *$'; }
ok "exec in a terminal over ssh: the container's shell prompts in the pane" wait_for 60 prompt
tmux -L "$sock" send-keys -t tty 'tty; stty size; echo out-$((6*7))' Enter
said () { pane | grep -q '^out-42'; }
ok "... a typed command runs, and its output comes back" wait_for 30 said
screen=$(pane)
like "$screen" '/dev/pts/[0-9]' "... in a terminal (tty)"
like "$screen" '^30 100' "... of the pane's size (stty size: 30 100)"
tmux -L "$sock" send-keys -t tty 'exit 7' Enter
done_rc () { [ -s "$tmp/rc" ]; }
ok "... exit ends exec" wait_for 30 done_rc
is "$(cat "$tmp/rc" 2>/dev/null)" 7 "... with the shell's exit code (7)"
diag "the pane:" "$(pane | sed '/^$/d')"
is "$(ssh_leftovers)" "" "nothing left of the ssh connections (no master, no control socket)"
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down over ssh://"
done_testing
