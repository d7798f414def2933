#!/bin/sh
# version-doctor.sh - `itm-env version` and `itm-env doctor` (text and
# --json) pass on the real engine over the unix socket, and doctor's round
# trip leaves nothing behind.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox

run "$ITM_ENV" version
is "$rc" 0 "version exits 0"
like "$out" '^engine version: +[0-9]' "version names the engine version"
like "$out" '^negotiated api: +1\.(4[1-9]|[5-9][0-9])$' "version shows a negotiated API >= 1.41"

run "$ITM_ENV" version --json
is "$rc" 0 "version --json exits 0"
ok "version --json is one JSON object" sh -c 'printf "%s" "$1" | jq -e "type == \"object\""' - "$out"
api=$(printf '%s' "$out" | jq -r '.negotiated_api_version // empty' 2>/dev/null || true)
like "$api" '^1\.(4[1-9]|[5-9][0-9])$' "version --json: negotiated_api_version >= 1.41"
eng=$(engine_get /version | jq -r .ApiVersion)
srv=$(printf '%s' "$out" | jq -r '.engine.api_version // empty' 2>/dev/null || true)
is "$srv" "$eng" "version --json: engine.api_version is the engine's own"

run "$ITM_ENV" doctor
is "$rc" 0 "doctor passes over the unix socket"
is "$(printf '%s\n' "$out" | grep -cv '^ok ' || true)" 0 "every doctor line says ok"
like "$out" 'round_trip' "doctor runs the round trip"
name=$(printf '%s\n' "$out" | sed -n 's/.*\(doctor-[0-9]*-[0-9a-f]*\).*/\1/p' | head -1)
if [ -n "$name" ]; then
  is "$(engine_get "/containers/json?all=1" | jq --arg n "/$name" '[.[] | select(.Names[] == $n)] | length')" 0 \
    "doctor removed its container $name"
  is "$(engine_get /networks | jq --arg n "$name" '[.[] | select(.Name == $n)] | length')" 0 \
    "doctor removed its network $name"
else
  skip "doctor removed its container" "no resource name in the output"
  skip "doctor removed its network" "no resource name in the output"
fi

run "$ITM_ENV" doctor --json
is "$rc" 0 "doctor --json exits 0"
is "$(printf '%s' "$out" | jq -r '.ok' 2>/dev/null || echo invalid)" true "doctor --json: ok is true"
is "$(printf '%s' "$out" | jq '[.checks[] | select(.ok != true and .skipped != true)] | length' 2>/dev/null || echo invalid)" 0 \
  "doctor --json: no check failed"
is "$(printf '%s' "$out" | jq -r '[.checks[].name] | join(",")' 2>/dev/null || echo invalid)" \
  engine,api_version,storage_driver,round_trip,container "doctor --json: the five checks, in order"
is "$(printf '%s' "$out" | jq -r '.container.on_engine' 2>/dev/null || echo invalid)" \
  false "doctor --json: container: the test bed is not a container on its engine"

# The global option spelled after the command works too.
run "$ITM_ENV" doctor -H "unix://$ITM_SOCK"
is "$rc" 0 "doctor -H unix://$ITM_SOCK passes"

done_testing
