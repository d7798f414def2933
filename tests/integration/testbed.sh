#!/bin/sh
# testbed.sh - the test bed checks itself: engine-up.sh is quick when the
# engine answers and clear when it cannot start one; lib.sh's leak check
# names and removes what a test left behind; a test that dies early fails.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd jq

t0=$(date +%s)
run "$ITM_SRCDIR/tests/engine-up.sh"
is "$rc" 0 "engine-up.sh: the engine answers"
ok "engine-up.sh: quick when it already answers" test $(( $(date +%s) - t0 )) -le 3
run "$ITM_SRCDIR/tests/engine-up.sh"
is "$rc" 0 "engine-up.sh: idempotent"

port=$(free_port)
run env DOCKER_HOST="tcp://127.0.0.1:$port" "$ITM_SRCDIR/tests/engine-up.sh"
is "$rc" 1 "engine-up.sh: a TCP engine that does not answer cannot be started: exit 1"
like "$err" "tcp://127\.0\.0\.1:$port" "engine-up.sh: names the address"

run "$ITM_SRCDIR/tests/fixtures/build.sh" no-such-image
is "$rc" 1 "build.sh: an unknown fixture name fails"
like "$err" "unknown fixture 'no-such-image'" "build.sh: says which"

# A child test that leaks a network: the leak check fails it and cleans up.
cat >"$tmp/leaky.sh" <<'EOT'
#!/bin/sh
. "$ITM_SRCDIR/tests/lib.sh"
engine_req POST /networks/create -H 'Content-Type: application/json' \
  -d "{\"Name\": \"${ITM_NS}_leak\", \"Labels\": {\"io.itm-env.namespace\": \"$ITM_NS\"}}" >/dev/null
pass "made a network"
echo "$ITM_NS" >"$1"
done_testing
EOT
chmod 755 "$tmp/leaky.sh"
run "$tmp/leaky.sh" "$tmp/leaky.ns"
child_ns=$(cat "$tmp/leaky.ns" 2>/dev/null || echo unknown)
is "$rc" 1 "leak check: a test that leaves a resource exits non-zero"
like "$out" "^not ok 2 - no leftover: networks ${child_ns}_leak" "leak check: a failing line names the leftover"
like "$out" '^1\.\.2$' "leak check: the leftover counts in the plan"
is "$(engine_get "/networks?filters=$(ns_filter "$child_ns")" | jq length)" 0 \
  "leak check: the leftover is removed"

# A child test that dies under set -e.
printf '%s\n' '#!/bin/sh' '. "$ITM_SRCDIR/tests/lib.sh"' 'pass one' 'false' 'pass two' \
  'done_testing' >"$tmp/dies.sh"
chmod 755 "$tmp/dies.sh"
run "$tmp/dies.sh"
is "$rc" 1 "a test that dies early exits non-zero"
like "$out" '^not ok 2 - the test script ran to its end' "a test that dies early gets a failing line"
unlike "$out" 'two' "nothing after the failure ran"

done_testing
