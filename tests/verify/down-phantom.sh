#!/bin/sh
# down-phantom.sh - moby#42119 from a recorded engine (the fake engine): a
# network the engine will not remove ("has active endpoints") although its
# inspect lists no container: down retries, then names the engine bug and
# what clears it, and fails (the network is left).
set -eu
: "${ITM_ENV:?}" "${ITM_BUILDDIR:?}" "${ITM_SRCDIR:?}"
T=$(mktemp -d /tmp/itm-down-phantom.XXXXXX)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
unset DOCKER_HOST DOCKER_TLS_VERIFY || true
"$ITM_BUILDDIR/tests/fake-engine" --socket "$T/e.sock" --dir "$ITM_SRCDIR/tests/recorded/moby42119" \
  --lifetime 60 --requests 200 --fork &
pid=$!
i=0; while [ ! -S "$T/e.sock" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
echo "1..3"
set +e
timeout 50 "$ITM_ENV" -H "unix://$T/e.sock" down -p ph >"$T/out" 2>"$T/err"
rc=$?
set -e
sed 's/^/# /' "$T/err"
[ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "ok 1 - down fails (rc $rc)" || echo "not ok 1 - down fails (rc $rc)"
grep -q 'network ph_default still has active endpoints after 8 tries with no container attached' "$T/err" \
  && echo "ok 2 - the message says nothing is attached" || echo "not ok 2 - the message says nothing is attached"
grep -q 'engine bug moby#42119: restart the daemon to clear it' "$T/err" \
  && echo "ok 3 - the message names moby#42119 and the remedy" \
  || echo "not ok 3 - the message names moby#42119 and the remedy"
