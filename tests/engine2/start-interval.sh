#!/bin/sh
# start-interval.sh - on API 1.44+ (Docker 26.1, the second engine of the
# test bed: .ci/run's second pass) up gives the engine
# HealthConfig.StartInterval (500 ms when the file has none) and a
# StartPeriod of one interval (when the file has none), so that `ps --json`
# right after up shows the engine's own health "healthy" for a service whose
# probe passed, with a 30 s declared interval; a file's own start_interval
# and start_period are passed as given.  On API 1.41 (20.10) neither is
# sent: the engine says "starting" while itm-env's gate said ready.  A
# service on two networks is attached to both (1.44+: at create).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
api=$(engine_get /version | jq -r .ApiVersion)
new=no
[ "$(printf '%s\n1.44\n' "$api" | sort -V | head -1)" = 1.44 ] && new=yes
diag "engine API $api (1.44 or later: $new)"
cd "$tmp"
cat >stack.yml <<EOF2
services:
  api:
    image: $bb
    command: ["sleep", "3600"]
    networks: [front, back]
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
  own:
    image: $bb
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
      start_interval: 2s
      start_period: 1m
networks:
  front: {}
  back: {}
EOF2
hc () { engine_get "/containers/$ITM_NS-$1-1/json" | jq -c "[.Config.Healthcheck.StartInterval, .Config.Healthcheck.StartPeriod]"; }

run "$ITM_ENV" -f stack.yml up --timeout 90
is "$rc" 0 "up"
run "$ITM_ENV" -p "$ITM_NS" ps --json
is "$rc" 0 "ps --json right after up"
if [ $new = yes ]; then
  is "$(printf '%s' "$out" | jq -r '.[] | select(.service == "api") | "\(.health) \(.ready.state)"')" \
    "healthy ready" "API $api: the engine's health is healthy right after up (30 s interval), as itm-env's gate said"
  is "$(hc api)" "[500000000,30000000000]" "... StartInterval 500 ms, StartPeriod one interval (the file gives none)"
  is "$(hc own)" "[2000000000,60000000000]" "a file's start_interval and start_period are passed as given"
else
  is "$(printf '%s' "$out" | jq -r '.[] | select(.service == "api") | "\(.health) \(.ready.state)"')" \
    "starting ready" "API $api: the engine says starting (its first probe 30 s away), itm-env's gate said ready"
  is "$(hc api)" "[null,null]" "... no StartInterval nor StartPeriod sent to API $api"
fi
nets=$(engine_get "/containers/$ITM_NS-api-1/json" | jq -r '.NetworkSettings.Networks | keys | join(" ")')
is "$nets" "${ITM_NS}_back ${ITM_NS}_front" "api is attached to both its networks"
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down"
done_testing
