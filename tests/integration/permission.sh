#!/bin/sh
# permission.sh - the engine's socket is there but we may not use it: run
# itm-env as an unprivileged user (itm-test, created if missing) against a
# socket mode 660 root:docker.  Exit 4, and the message says permission denied.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_engine
need_cmd setpriv

if ! id itm-test >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin itm-test \
    || bail "cannot create the user itm-test"
fi
if id -nG itm-test | tr ' ' '\n' | grep -qx docker; then
  skip_all "itm-test is in the docker group"
fi
if setpriv --reuid=itm-test --regid=itm-test --clear-groups test -w "$ITM_SOCK" 2>/dev/null; then
  skip_all "$ITM_SOCK is writable by anyone (mode $(stat -c %a "$ITM_SOCK"))"
fi

# The binary where itm-test can reach it (the build tree may be private).
bin=$tmp/bin
mkdir -p "$bin"
cp "$ITM_ENV" "$bin/itm-env"
chmod 755 "$tmp" "$bin" "$bin/itm-env"
# (a word list, not a function: `run` runs commands under timeout(1))
# (--reset-env drops DOCKER_HOST: the engine under test is passed on)
as_user="setpriv --reuid=itm-test --regid=itm-test --clear-groups --reset-env env ${DOCKER_HOST:+DOCKER_HOST=$DOCKER_HOST}"

run $as_user "$bin/itm-env" version
is "$rc" 4 "as an unprivileged user, version: exit 4"
like "$err" "$ITM_SOCK" "the message names the socket"
like "$err" '[Pp]ermission denied' "the message says permission denied"
is "$(printf '%s\n' "$err" | grep -v '^itm-env: hint:' | grep -c . || true)" 1 "one line of error"

run $as_user "$bin/itm-env" doctor
is "$rc" 4 "as an unprivileged user, doctor: exit 4"
like "$out" '[Pp]ermission denied' "doctor's engine check says permission denied"

run $as_user env DOCKER_HOST="unix://$ITM_SOCK" "$bin/itm-env" version --json
is "$rc" 4 "DOCKER_HOST set, as an unprivileged user: exit 4"

done_testing
