#!/bin/sh
# http.sh - x-itm.checks' http contracts against a busybox httpd serving
# fixed JSON files: a passing shape, a wrong type, a missing field, a 500,
# a slow endpoint over max_latency, each result and its message in the
# issue's terms (pointer, expected, actual; a shape diff); --json;
# `check --repeat 200 --concurrency 4` figures consistent; exit 11.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
. "$ITM_SRCDIR/tests/check/api.sh"

api_stack "$tmp/api.yml" '        - name: user contract
          http: {path: /user.json, port: 8080}
          expect:
            status: 200
            headers: {Content-Type: "^application/json"}
            shape: {id: string, email: email, createdAt: date-time}
            body:
              /age: {type: integer, equals: 41}
              /tags/1: {matches: "^b$"}
            max_latency: 30s
        - name: wrong type
          http: {path: /wrong.json}
          expect: {shape: {id: string, email: email, createdAt: date-time}}
        - name: missing field
          http: /missing.json
          expect: {shape: {id: string, email: email, createdAt: date-time}}
        - name: server error
          http: /cgi-bin/fail
          expect: {status: [200, 204]}
        - name: slow
          http: /cgi-bin/slow
          expect: {max_latency: 200ms}
        - name: port open
          tcp: {port: 8080, timeout: 5s}'

run "$ITM_ENV" -f "$tmp/api.yml" up -q
is "$rc" 0 "up"

run "$ITM_ENV" -f "$tmp/api.yml" check
is "$rc" 11 "check: exit 11 when a check failed"
like "$err" '4 of 6 checks failed' "check: how many failed"
like "$out" '^ok +api: user contract \(http' "a passing shape, headers, body rules"
like "$out" '^ok +api: port open \(tcp' "tcp connects"
like "$out" '^FAILED api: wrong type' "a wrong type fails"
like "$out" '/id: expected string, got integer 42' "wrong type: pointer, expected, actual"
like "$out" '^  - /id: string$' "shape diff: the expected line"
like "$out" '^  \+ /id: integer 42$' "shape diff: the actual line"
like "$out" '/email: expected format email, got missing' "missing field: pointer, expected, missing"
like "$out" '^  \+ /email: missing$' "shape diff: missing"
like "$out" 'status: expected 200 or 204, got 500' "a 500 fails: expected set, actual"
like "$out" 'latency: expected at most 200ms, got [0-9.]+ s' "slow: over max_latency"

run "$ITM_ENV" -f "$tmp/api.yml" check --json
is "$rc" 11 "check --json: exit 11"
j=$out
is "$(printf '%s' "$j" | jq -r '.passed, .failed' | tr '\n' ' ')" "2 4 " "JSON: passed, failed"
is "$(printf '%s' "$j" | jq -r '[.checks[] | .name + "=" + (.ok|tostring)] | join(",")')" \
  "user contract=true,wrong type=false,missing field=false,server error=false,slow=false,port open=true" \
  "JSON: each result"
is "$(printf '%s' "$j" | jq -r '.checks[1].failures[0] | .what + "|" + .expected + "|" + .actual')" \
  "/id|string|integer 42" "JSON: the failure's pointer, expected, actual"
like "$(printf '%s' "$j" | jq -r '.checks[2].shape_diff')" '\+ /email: missing' "JSON: shape diff"
is "$(printf '%s' "$j" | jq -r '.checks[3].failures[0].actual')" 500 "JSON: status 500"
is "$(printf '%s' "$j" | jq -r '.checks[0].kind, .checks[5].kind' | tr '\n' ' ')" "http tcp " "JSON: kinds"

# only the named service; an unknown one
run "$ITM_ENV" -f "$tmp/api.yml" check nosuch
is "$rc" 10 "check of an unknown service: exit 10"

# ---- figures: 200 requests, 4 at once, on the passing contract
api_stack "$tmp/one.yml" '        - name: user contract
          http: {path: /user.json, port: 8080}
          expect: {status: 200, shape: {id: string, email: email}}'
run "$ITM_ENV" -f "$tmp/one.yml" check --repeat 200 --concurrency 4 --json
is "$rc" 0 "check --repeat 200 --concurrency 4 passes"
l=$(printf '%s' "$out" | jq -c '.checks[0].latency')
is "$(printf '%s' "$l" | jq -r '.count, .failed, .concurrency' | tr '\n' ' ')" "200 0 4 " \
  "figures: count, failed, concurrency"
ok "figures: 0 < min <= p50 <= p95 <= p99 <= max" \
  jq -e '.min_ms > 0 and .min_ms <= .p50_ms and .p50_ms <= .p95_ms and .p95_ms <= .p99_ms and .p99_ms <= .max_ms' <<EOF2
$l
EOF2
ok "figures: throughput = count / wall time" \
  jq -e '.throughput_rps > 0 and ((.throughput_rps * .wall_ms / 1000) - 200 | fabs) < 0.01' <<EOF2
$l
EOF2
run "$ITM_ENV" -f "$tmp/one.yml" check --repeat 20 --concurrency 2
is "$rc" 0 "check --repeat (text)"
like "$out" '20 requests \(2 at once, 0 failed\): min .* p50 .* p95 .* p99 .* max .* req/s' \
  "text: the figures line"
run "$ITM_ENV" -f "$tmp/one.yml" check --repeat 0
is "$rc" 2 "--repeat 0: a usage error"

# a generated secret in a check's output is masked (check's own lines, its JSON)
{ printf 'x-itm:\n  secrets:\n    TOKEN: {length: 24}\n'; cat "$tmp/one.yml"; printf '%s\n' \
  '        - name: secret shown' \
  '          exec: ["echo", "token=${ITM_SECRET_TOKEN}"]' \
  '          expect: {equals: nope}'; } >"$tmp/secret.yml"
run "$ITM_ENV" -f "$tmp/secret.yml" check
is "$rc" 11 "a check printing a generated secret fails"
like "$out" 'output: expected nope, got token=\*\*\*\*\*\*\*\*$' "the secret is masked"
token=$(cat "$ITM_ENV_STATE_DIR"/*/secrets 2>/dev/null | sed -n 's/^TOKEN=//p' | head -1)
run "$ITM_ENV" -f "$tmp/secret.yml" check --json
ok "the secret is in no JSON output" sh -c '[ -n "$1" ] && ! printf "%s" "$2" | grep -qF -- "$1"' - "$token" "$out"

run "$ITM_ENV" -f "$tmp/api.yml" down -q
is "$rc" 0 "down"
run "$ITM_ENV" -f "$tmp/api.yml" check
is "$rc" 10 "check on a namespace that is not up: exit 10"
done_testing
