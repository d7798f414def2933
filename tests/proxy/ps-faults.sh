#!/bin/sh
# ps-faults.sh - the faults active on the fault proxy show in `ps` (a
# FAULTS column) and in `ps --json` (a "faults" array per container): a
# toxic added shows on its service's line, a partition as partitioned (and
# a proxied service's proxy as disabled), and they disappear when removed and healed; a stack
# without a proxy has no FAULTS column.  The reports of `up` and `run` list
# the x-itm.faults schedules and the toxics active at up's end and at run's
# teardown (text, JSON, markdown, JUnit).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq docker
need_fixtures busybox

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-r' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS-g' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    x-itm: {proxy: true}
  client:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
YML
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 180
is "$rc" 0 "up"

run "$ITM_ENV" ps
is "$rc" 0 "ps"
like "$(printf '%s\n' "$out" | head -n 1)" ' FAULTS$' "ps: a FAULTS column with a proxy"
like "$out" '^web .* -$' "ps: no fault on web yet"
run "$ITM_ENV" ps --json
is "$(printf '%s' "$out" | jq -c 'map(.faults)')" '[[],[],[]]' "ps --json: empty faults arrays"

run "$ITM_ENV" fault add web latency --latency 300ms --jitter 10ms
is "$rc" 0 "fault add web latency"
run "$ITM_ENV" ps
like "$out" '^web .* web: latency_downstream\(latency downstream (jitter=10 latency=300|latency=300 jitter=10)\)$' \
  "ps: the toxic on web's line"
like "$out" '^client .* -$' "ps: none on client's"
run "$ITM_ENV" ps --json web
is "$(printf '%s' "$out" | jq -c '.[0].faults | map([.proxy, .name, .type, .stream, .attributes.latency])')" \
  '[["web","latency_downstream","latency","downstream",300]]' "ps --json: the toxic, Toxiproxy's shape plus its proxy"

run "$ITM_ENV" fault partition web
is "$rc" 0 "fault partition web"
run "$ITM_ENV" ps --json web
is "$(printf '%s' "$out" | jq -c '.[0].faults | map(.type)')" '["partitioned","disabled","latency"]' \
  "ps --json: the partitioned service: off its network, its proxy disabled"
run "$ITM_ENV" fault partition client
is "$rc" 0 "fault partition client (not behind the proxy)"
run "$ITM_ENV" ps
like "$out" '^client .* partitioned$' "ps: client partitioned"
run "$ITM_ENV" fault heal
is "$rc" 0 "fault heal"
run "$ITM_ENV" fault remove web
is "$rc" 0 "fault remove web"
run "$ITM_ENV" ps
like "$out" '^web .* -$' "ps: removed and healed, no fault left"
run "$ITM_ENV" ps --json web
is "$(printf '%s' "$out" | jq -c '.[0].faults')" '[]' "ps --json: faults empty again"

run "$ITM_ENV" down
is "$rc" 0 "down"

# the report: run's command adds a toxic (left at teardown), the stack
# schedules one; up's report lists the schedule
cat >"$tmp/sched.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    x-itm:
      proxy: true
      faults:
        - {at: 600s, toxic: latency, attributes: {latency: 50}}
YML
run "$ITM_ENV" -f "$tmp/sched.yml" run --report "$tmp/run.json" -p "$ITM_NS-r" -- \
  "$ITM_ENV" fault add web timeout --timeout 0
is "$rc" 0 "run adding a toxic"
is "$(jq -c '.faults | map([.service, .when, .fault])' "$tmp/run.json")" \
  '[["web","scheduled","web: latency_downstream(latency downstream latency=50) at 600s"],["web","active","web: timeout_downstream(timeout downstream timeout=0)"]]' \
  "run's JSON report: the schedule and the toxic active at teardown"
# a proxy that no longer answers at teardown: the report has the schedule
# only (and run does not crash)
run "$ITM_ENV" -f "$tmp/sched.yml" run --report "$tmp/gone.json" -p "$ITM_NS-g" -- \
  docker stop -t 1 "$ITM_NS-g-itm-proxy-1"
is "$rc" 0 "run whose command stops the proxy"
is "$(jq -c '.faults | map(.when)' "$tmp/gone.json")" '["scheduled"]' \
  "... its report: the schedule, no active fault"
run "$ITM_ENV" -f "$tmp/sched.yml" up --report "$tmp/up.txt" --timeout 180
is "$rc" 0 "up with a report"
is "$(grep -A1 '^Faults' "$tmp/up.txt" | sed 's/  */ /g')" 'Faults (1)
 web scheduled web: latency_downstream(latency downstream latency=50) at 600s' \
  "up's text report: the Faults section"
run "$ITM_ENV" -f "$tmp/sched.yml" up --report "$tmp/up.md" --timeout 180
is "$(grep -A4 '^## Faults' "$tmp/up.md")" '## Faults (1)

| Service | When | Fault |
| --- | --- | --- |
| web | scheduled | web: latency_downstream(latency downstream latency=50) at 600s |' \
  "markdown: a Faults table"
run "$ITM_ENV" -f "$tmp/sched.yml" up --report "$tmp/up.xml" --timeout 180
like "$(cat "$tmp/up.xml")" '<property name="itm-env.fault.scheduled" value="web: latency_downstream' \
  "junit: the faults as properties"
run "$ITM_ENV" down
is "$rc" 0 "down"

# a stack without a proxy: the table as before
cat >"$tmp/plain.yml" <<'YML'
services:
  one:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
YML
run "$ITM_ENV" -f "$tmp/plain.yml" up --timeout 120
is "$rc" 0 "up (no proxy)"
run "$ITM_ENV" ps
like "$(printf '%s\n' "$out" | head -n 1)" ' EXIT$' "ps without a proxy: no FAULTS column"
run "$ITM_ENV" ps --json
is "$(printf '%s' "$out" | jq -c '.[0].faults')" '[]' "ps --json without a proxy: faults []"
run "$ITM_ENV" down
is "$rc" 0 "down (no proxy)"
done_testing
