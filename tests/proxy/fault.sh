#!/bin/sh
# fault.sh - itm-env fault: add, list [--json], remove and reset toxics on
# the namespace's fault proxy (a busybox client in the network sees them);
# partition and heal (network disconnect and reconnect through the Engine
# API, the aliases kept); bad input (an unknown toxic, a bad value, an
# option of another toxic, a service not behind the proxy, a namespace
# without a proxy) exits with its documented code and changes nothing.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-b' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    x-itm: {proxy: {ports: [8080]}}
  api:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo api > /www/index.html && exec httpd -f -p 8081 -h /www"]
    expose: ["8081"]
  client:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
YML
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 180
is "$rc" 0 "up"
get () { run "$ITM_ENV" exec -T client timeout "$2" wget -q -O - "$1"; }

run "$ITM_ENV" fault add web timeout --timeout 0
is "$rc:$out" "0:web: timeout_downstream added" "fault add web timeout --timeout 0"
get http://web:8080/ 2
ok "the client in the network times out (rc $rc)" test "$rc" -ne 0
run "$ITM_ENV" fault list
like "$out" '^web +0\.0\.0\.0:8080 +web\.itm-real:8080 +yes +timeout_downstream\(timeout downstream timeout=0\)$' \
  "fault list shows the proxy and its toxic"
run "$ITM_ENV" fault list --json
is "$(printf '%s' "$out" | jq -c '.web.toxics | map([.name, .type, .attributes.timeout])')" \
  '[["timeout_downstream","timeout",0]]' "fault list --json: Toxiproxy's shape"
run "$ITM_ENV" fault add web timeout --timeout 0
is "$rc" 1 "the same toxic again: exit 1"
like "$err" 'toxic already exists' "... in the proxy's words"
run "$ITM_ENV" fault remove web timeout_downstream
is "$rc" 0 "fault remove web timeout_downstream"
get http://web:8080/ 5
is "$rc:$out" 0:hello "the client gets through again"

run "$ITM_ENV" fault add web latency --latency 300ms --jitter 10ms --upstream --toxicity 0.5 --json
is "$(printf '%s' "$out" | jq -c '[.name, .stream, .toxicity, .attributes.latency, .attributes.jitter]')" \
  '["latency_upstream","upstream",0.5,300,10]' "fault add with units, stream and toxicity"
run "$ITM_ENV" fault reset
is "$rc" 0 "fault reset"
run "$ITM_ENV" fault list --json
is "$(printf '%s' "$out" | jq -c '.web.toxics')" '[]' "reset: no toxic left"

for bad in "web nope:2:unknown toxic 'nope'" \
           "web latency --latency soon:2:--latency: invalid duration" \
           "web latency --rate 5:2:--rate does not apply to toxic 'latency'" \
           "web latency --toxicity 2:2:--toxicity: expected a number from 0 to 1" \
           "client latency --latency 1s:10:service 'client' is not behind the fault proxy" \
           "web latency --port 9999:10:service 'web' has no proxy for port 9999"; do
  args=${bad%%:*}; rest=${bad#*:}; code=${rest%%:*}; msg=${rest#*:}
  # shellcheck disable=SC2086
  run "$ITM_ENV" fault add $args
  is "$rc" "$code" "fault add $args: exit $code"
  like "$err" "$msg" "... $msg"
done
run "$ITM_ENV" fault list --json
is "$(printf '%s' "$out" | jq -c '.web.toxics')" '[]' "bad input: nothing applied"

get http://api:8081/ 5
is "$rc:$out" 0:api "api reachable by name"
run "$ITM_ENV" fault partition api
is "$rc" 0 "fault partition api"
get http://api:8081/ 3
ok "partitioned: the client cannot reach api (rc $rc)" test "$rc" -ne 0
run "$ITM_ENV" exec -T client nslookup api
ok "partitioned: api's name does not resolve (rc $rc)" test "$rc" -ne 0
run "$ITM_ENV" fault heal
is "$rc" 0 "fault heal"
get http://api:8081/ 5
is "$rc:$out" 0:api "healed: api reachable by name again"
aliases=$(engine_get "/containers/$ITM_NS-api-1/json" | jq -c '[.NetworkSettings.Networks[].Aliases[]] | map(select(. == "api"))')
is "$aliases" '["api"]' "healed with its alias"

run "$ITM_ENV" fault partition web
is "$rc" 0 "fault partition web (behind the proxy)"
get http://web:8080/ 3
ok "partitioned: the client cannot reach web through its proxy either (rc $rc)" test "$rc" -ne 0
run "$ITM_ENV" fault list --json
is "$(printf '%s' "$out" | jq -c .web.enabled)" false "... its proxy refuses"
run "$ITM_ENV" fault heal web
is "$rc" 0 "fault heal web"
get http://web:8080/ 5
is "$rc:$out" 0:hello "healed: web answers through its proxy again"

cat >"$tmp/plain.yml" <<'YML'
services:
  solo:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
YML
run "$ITM_ENV" -p "$ITM_NS-b" -f "$tmp/plain.yml" up --timeout 120
is "$rc" 0 "up: a namespace without a proxy"
run "$ITM_ENV" -p "$ITM_NS-b" fault add solo latency --latency 1s
is "$rc" 10 "fault add there: exit 10"
like "$err" "namespace '$ITM_NS-b' has no fault proxy" "... saying so"
run "$ITM_ENV" -p "$ITM_NS-b" down
run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
