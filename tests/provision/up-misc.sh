#!/bin/sh
# up-misc.sh - prompt readiness (a healthcheck interval of 1h still gets
# ready: itm-env runs the probe itself); wait on a namespace already up;
# labels, secrets, named volumes, network aliases; two namespaces of one
# stack side by side; down --keep-volumes keeps volumes, down removes them.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
ns2=$ITM_NS-b
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1; '$ITM_ENV' down -p '$ns2' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
echo "s3cr3t" >"$tmp/token.txt"
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sh", "-c", "sleep 1; touch /tmp/up; exec httpd -f -p 8080 -h /www"]
    volumes:
      - data:/www
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/up"]
      interval: 1h
    networks:
      default:
        aliases: [www]
    labels:
      com.example.team: qa
  client:
    image: $bb
    command: ["sleep", "3600"]
    secrets:
      - token
    depends_on:
      web: {condition: service_healthy}
volumes:
  data:
secrets:
  token:
    file: ./token.txt
EOF2
cd "$tmp"
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "a healthcheck with interval 1h gets ready (the probe runs at once, not after 1h)"
like "$err" 'web ready' "web reported ready"
inspect () { engine_get "/containers/$1/json"; }
# (API 1.44+: up gives the engine StartInterval and waits for its own
# healthy, tests/engine2/start-interval.sh)
if engine_api_at_least 1.44; then
  is "$(inspect "$ITM_NS-web-1" | jq -r .State.Health.Status)" healthy \
    "API 1.44+: the engine's own healthcheck ran at its start interval, not after 1h"
else
  is "$(inspect "$ITM_NS-web-1" | jq -r .State.Health.Status)" starting \
    "the engine's own healthcheck has not run yet"
fi
lbl () { inspect "$ITM_NS-web-1" | jq -r --arg l "$1" '.Config.Labels[$l]'; }
is "$(lbl io.itm-env.namespace)" "$ITM_NS" "label: namespace"
is "$(lbl io.itm-env.service)" web "label: service"
is "$(lbl io.itm-env.number)" 1 "label: number"
like "$(lbl io.itm-env.config-hash)" '^[0-9a-f]{64}$' "label: config hash"
is "$(lbl io.itm-env.project-dir)" "$(pwd -P)" "label: project dir"
like "$(lbl io.itm-env.stack-files)" 'stack.yml$' "label: stack files"
is "$(lbl io.itm-env.creator-pid | grep -c '^[0-9][0-9]*$')" 1 "label: creator pid"
like "$(lbl io.itm-env.expires)" '^[0-9-]+T[0-9:]+Z$' "label: expires"
is "$(lbl com.example.team)" qa "the file's own labels"
is "$(inspect "$ITM_NS-web-1" | jq -r '.HostConfig.Mounts[0].Source')" "${ITM_NS}_data" \
  "named volume mounted as <ns>_<key>"
is "$(engine_get "/volumes/${ITM_NS}_data" | jq -r '.Labels["io.itm-env.namespace"]')" "$ITM_NS" \
  "the volume is labelled"
exec_in () { # CONTAINER CMD...: run through the engine, print stdout
  _c=$1; shift
  _cmd=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  _id=$(engine_req POST "/containers/$_c/exec" -H 'Content-Type: application/json' \
          -d "{\"AttachStdout\":true,\"Cmd\":$_cmd}" | jq -r .Id)
  engine_req POST "/exec/$_id/start" -H 'Content-Type: application/json' -d '{"Detach":false}' \
    | tr -d '\000-\010\021-\037'
}
is "$(exec_in "$ITM_NS-client-1" cat /run/secrets/token)" s3cr3t "the secret is a file in the container"
exec_in "$ITM_NS-web-1" sh -c 'echo hello-www > /www/index.html' >/dev/null
like "$(exec_in "$ITM_NS-client-1" wget -q -O - http://www:8080/)" hello-www \
  "the network alias resolves (and the service reaches it)"
like "$(exec_in "$ITM_NS-client-1" wget -q -O - http://web:8080/)" hello-www \
  "the service name resolves"

run "$ITM_ENV" -f stack.yml wait
is "$rc" 0 "wait on a namespace already up"
run "$ITM_ENV" -f stack.yml wait web --json
is "$rc" 0 "wait SERVICE"
like "$out" '"service":"web","event":"ready"' "wait --json: a ready event"
run "$ITM_ENV" -f stack.yml wait nosuch
is "$rc" 10 "wait on an unknown service: not found"
cd /
run "$ITM_ENV" -p "$ITM_NS" wait --json
is "$rc" 0 "wait -p NS without a stack file: gates from labels"
like "$out" '"service":"client","event":"ready"' "every container of the namespace gated"
run "$ITM_ENV" -p "$ITM_NS-none" wait
is "$rc" 10 "wait on an empty namespace: not found"
cd "$tmp"

run "$ITM_ENV" -f stack.yml -p "$ns2" up --quiet
is "$rc" 0 "the same stack in a second namespace, side by side"
is "$err" "" "--quiet prints nothing"
is "$(inspect "$ns2-web-1" | jq -r .State.Status)" running "second namespace running"
is "$(inspect "$ITM_NS-web-1" | jq -r .State.Status)" running "first namespace untouched"
run "$ITM_ENV" down -p "$ns2"
is "$rc" 0 "down of the second namespace"
is "$(inspect "$ITM_NS-web-1" | jq -r .State.Status)" running "first namespace still untouched"

run "$ITM_ENV" -f stack.yml down --keep-volumes --timeout 1
is "$rc" 0 "down --keep-volumes"
like "$err" 'volumes kept' "says volumes were kept"
is "$(engine_get "/volumes/${ITM_NS}_data" | jq -r .Name)" "${ITM_NS}_data" "the named volume is kept"
run "$ITM_ENV" -f stack.yml down
is "$rc" 0 "down"
like "$err" '0 containers, 0 networks, 1 volume$' "removes the kept volume"
done_testing
