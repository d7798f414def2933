#!/bin/sh
# agree.sh - right after `up` returns, the docker CLI (`docker ps`), Docker
# Compose v2 (`docker compose -p NS ps --format json`) and `itm-env ps
# --json` say the same about every service's health (issue 16).  On API
# 1.44+ (Docker 26.1: .ci/run's second pass) up passes
# HealthConfig.StartInterval, so the engine's own health is "healthy" when
# itm-env's gate said ready, with a 30 s declared interval: all three show
# healthy.  On API 1.41 (20.10) the engine's first probe is an interval
# away: all three show the engine's "starting", and itm-env's ps shows the
# readiness its gate saw (ready).  A service without a healthcheck has no
# health in any of them.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq docker
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
api=$(engine_get /version | jq -r .ApiVersion)
if engine_api_at_least 1.44; then want=healthy; else want=starting; fi
diag "engine API $api: the engine's health right after up: $want"
cd "$tmp"
cat >stack.yml <<EOF2
services:
  db:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_healthy
    healthcheck:
      test: ["CMD-SHELL", "test -e /proc/1"]
      interval: 30s
  plain:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    init: true
EOF2
run "$ITM_ENV" -f stack.yml up --timeout 90
is "$rc" 0 "up"

# docker ps: "Up 2 seconds (healthy)", "Up 1 second (health: starting)", "Up 3 seconds"
dps=$(docker -H "unix://$ITM_SOCK" ps -a --filter "label=io.itm-env.namespace=$ITM_NS" \
        --format '{{.Label "com.docker.compose.service"}}	{{.Status}}' | sort)
diag "docker ps:" "$dps"
dhealth () { printf '%s\n' "$dps" | awk -F'\t' -v s="$1" '$1 == s {
  if (match($2, /\((healthy|unhealthy)\)/)) print substr($2, RSTART + 1, RLENGTH - 2);
  else if ($2 ~ /health: starting/) print "starting"; else print "none" }'; }
is "$(dhealth db) $(dhealth web) $(dhealth plain)" "$want $want none" \
  "docker ps right after up: db and web $want, plain without health"

run "$ITM_ENV" -p "$ITM_NS" ps --json
is "$rc" 0 "itm-env ps --json"
ips=$out
ihealth () { printf '%s' "$ips" | jq -r --arg s "$1" '.[] | select(.service == $s) | (.health // "none")'; }
iready () { printf '%s' "$ips" | jq -r --arg s "$1" '.[] | select(.service == $s) | (.ready.state // "none")'; }
is "$(ihealth db) $(ihealth web) $(ihealth plain)" "$(dhealth db) $(dhealth web) $(dhealth plain)" \
  "itm-env ps --json: the same health as docker ps"
is "$(iready db) $(iready web) $(iready plain)" "ready ready ready" \
  "... and the readiness itm-env's gate saw: ready"

if compose=$("$ITM_SRCDIR/tests/fixtures/compose-v2.sh" 2>"$tmp/compose.err"); then
  mkdir "$tmp/elsewhere"
  run sh -c "cd '$tmp/elsewhere' && DOCKER_HOST='unix://$ITM_SOCK' '$compose' -p '$ITM_NS' ps -a --format json"
  is "$rc" 0 "docker compose -p NS ps --format json"
  cps=$(printf '%s\n' "$out" | jq -sc 'if length == 1 and (.[0] | type) == "array" then .[0] else . end')
  chealth () { printf '%s' "$cps" | jq -r --arg s "$1" '.[] | select(.Service == $s) | (if .Health == "" then "none" else .Health end)'; }
  is "$(chealth db) $(chealth web) $(chealth plain)" "$(dhealth db) $(dhealth web) $(dhealth plain)" \
    "Compose: the same health as docker ps and itm-env ($want $want none)"
  is "$(printf '%s' "$cps" | jq -r '[.[] | .State] | unique | join(" ")')" "running" "... all running"
else
  skip "Compose v2 agrees" "Docker Compose v2 cannot be had: $(cat "$tmp/compose.err")"
  skip "... all running" "no Compose v2"
fi
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down"
done_testing
