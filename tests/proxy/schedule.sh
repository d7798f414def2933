#!/bin/sh
# schedule.sh - x-itm.faults: a toxic added at readiness + 2 s and removed
# 3 s later by the namespace's proxy (observed with fault list, polled; no
# timing asserted); malformed entries are stack errors (exit 3) naming the
# entry, checked by the proxy's own toxic rules.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
stack () {
  cat >"$tmp/stack.yml" <<YML
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    x-itm:
$1
YML
}
stack '      faults:
        - {at: 1s, toxic: latency, attributes: {latency: 100}}'
run "$ITM_ENV" -f "$tmp/stack.yml" config -q
is "$rc" 3 "x-itm.faults without x-itm.proxy: exit 3"
like "$err" 'x-itm.faults: the service is not behind the fault proxy' "... saying so"
for bad in "{at: 1s, toxic: netem}|invalid toxic type" \
           "{at: 1s, toxic: latency, attributes: {latency: 1s}}|attributes.latency of type int64" \
           "{toxic: latency}|x-itm.faults\\[0\\].at: expected a duration" \
           "{at: 1s, toxic: latency, port: 9}|x-itm.faults\\[0\\].port: 9 is not a proxied port" \
           "{at: 1s, toxic: latency, when: now}|unknown key 'when'"; do
  stack "      proxy: true
      faults:
        - ${bad%%|*}"
  run "$ITM_ENV" -f "$tmp/stack.yml" config -q
  is "$rc" 3 "faults ${bad%%|*}: exit 3"
  like "$err" "${bad#*|}" "... ${bad#*|}"
done

stack '      proxy: true
      faults:
        - {at: 2s, for: 3s, toxic: timeout, attributes: {timeout: 0}}'
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 120
is "$rc" 0 "up with a scheduled fault"
toxics () { "$ITM_ENV" fault list --json | jq -c '[.web.toxics[].name]'; }
has_timeout () { [ "$(toxics)" = '["timeout_downstream"]' ]; }
no_toxic () { [ "$(toxics)" = '[]' ]; }
ok "the scheduled toxic is added after readiness" wait_for 60 has_timeout
ok "... and removed when its time is over" wait_for 60 no_toxic
run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
