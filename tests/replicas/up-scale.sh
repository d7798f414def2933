#!/bin/sh
# up-scale.sh - replicas: deploy.replicas (and scale:) and up --scale run N
# containers of a service, <ns>-<svc>-1..N, numbered by io.itm-env.number and
# Compose's container-number, each gated, all answering to the service's
# name; a dependent starts once every replica is ready; exec, logs and port
# take --index; env exports the first and lists all; an up with fewer
# removes the extra ones; down and verify handle them all.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo hello-from-$$HOSTNAME; exec httpd -f -p 8080"]
    ports: ["8080"]
    deploy:
      replicas: 3
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
    stop_grace_period: 1s
  client:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    depends_on:
      web: {condition: service_healthy}
    stop_grace_period: 1s
YML
names () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '[.[].Names[0] | ltrimstr("/")] | sort | join(" ")'; }
inspect () { engine_get "/containers/$1/json"; }
id_of () { inspect "$1" | jq -r .Id; }

run "$ITM_ENV" -f "$tmp/stack.yml" up --json --timeout 120
is "$rc" 0 "up with deploy.replicas: 3"
is "$(names)" "$ITM_NS-client-1 $ITM_NS-web-1 $ITM_NS-web-2 $ITM_NS-web-3" \
  "three web containers, <ns>-web-1..3; client keeps <ns>-client-1"
for i in 1 2 3; do
  is "$(inspect "$ITM_NS-web-$i" | jq -r '.Config.Labels["io.itm-env.number"] + " " + .Config.Labels["com.docker.compose.container-number"]')" "$i $i" \
    "web-$i: io.itm-env.number and Compose's container-number $i"
done
events=$(printf '%s\n' "$out" | jq -r 'select(.service != null and (.service | type) == "string") | .service + " " + .event')
for i in 1 2 3; do
  like "$events" "^web-$i ready" "web-$i is gated (its own ready event)"
done
last_web=$(printf '%s\n' "$events" | grep -n '^web-[123] ready' | tail -1 | cut -d: -f1)
client_start=$(printf '%s\n' "$events" | grep -n '^client started' | head -1 | cut -d: -f1)
ok "client starts only after every web replica is ready" test "${client_start:-0}" -gt "${last_web:-99999}"

run "$ITM_ENV" exec -T client nslookup web
addrs=$(printf '%s\n' "$out" | awk '/^Name:/ { getline; print $2 }' | sort -u | wc -l)
is "$addrs" 3 "the service's name resolves to its three replicas"

run "$ITM_ENV" exec -T --index 2 web hostname
is "$out" "$(inspect "$ITM_NS-web-2" | jq -r .Config.Hostname)" "exec --index 2 runs in web-2"
run "$ITM_ENV" port --index 3 web 8080
is "$out" "127.0.0.1:$(inspect "$ITM_NS-web-3" | jq -r '.NetworkSettings.Ports["8080/tcp"][0].HostPort')" \
  "port --index 3 gives web-3's binding"
run "$ITM_ENV" logs --no-color --index 2 web
is "$out" "web-2 | hello-from-$(inspect "$ITM_NS-web-2" | jq -r .Config.Hostname)" "logs --index 2: web-2's output only"
run "$ITM_ENV" logs --no-color web
is "$(printf '%s\n' "$out" | cut -d' ' -f1 | sort | tr '\n' ' ')" "web-1 web-2 web-3 " "logs without --index: every replica"
run "$ITM_ENV" logs --index 4 web
is "$rc" 10 "logs --index 4: no such replica (exit 10)"

run "$ITM_ENV" env --format json
p1=$(inspect "$ITM_NS-web-1" | jq -r '.NetworkSettings.Ports["8080/tcp"][0].HostPort')
is "$(printf '%s' "$out" | jq -r .WEB_PORT)" "$p1" "env: WEB_PORT is the first replica's"
is "$(printf '%s' "$out" | jq -r .WEB_REPLICAS)" 3 "env: WEB_REPLICAS"
is "$(printf '%s' "$out" | jq -r '.WEB_ADDRS | split(",") | length')" 3 "env: WEB_ADDRS lists the three"
like "$(printf '%s' "$out" | jq -r .WEB_ADDRS)" "^127\\.0\\.0\\.1:$p1,127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+\$" \
  "env: in number order, host:port"
is "$(printf '%s' "$out" | jq -r '.CLIENT_REPLICAS // "none"')" none "a single container: no list variables"

# Compose (the observer) sees the replicas as its own
if compose=$("$ITM_SRCDIR/tests/fixtures/compose-v2.sh" 2>/dev/null); then
  mkdir -p "$tmp/elsewhere"
  out=$(cd "$tmp/elsewhere" && DOCKER_HOST=unix://$ITM_SOCK timeout 60 "$compose" -p "$ITM_NS" ps --format json web) || out=
  is "$(printf '%s\n' "$out" | jq -sr 'if length == 1 and (.[0] | type) == "array" then .[0] else . end | [.[] | .Service + "/" + .Name] | sort | join(" ")')" \
    "web/$ITM_NS-web-1 web/$ITM_NS-web-2 web/$ITM_NS-web-3" "docker compose ps web: the three replicas"
else
  skip "docker compose ps web: the three replicas" "Docker Compose v2 cannot be had"
fi

id1=$(id_of "$ITM_NS-web-1"); id2=$(id_of "$ITM_NS-web-2")
run "$ITM_ENV" -f "$tmp/stack.yml" up --scale web=2 --timeout 120
is "$rc" 0 "up --scale web=2"
like "$err" "scaling down: removing $ITM_NS-web-3" "says it removes web-3"
is "$(names)" "$ITM_NS-client-1 $ITM_NS-web-1 $ITM_NS-web-2" "web-3 is gone"
is "$(id_of "$ITM_NS-web-1") $(id_of "$ITM_NS-web-2")" "$id1 $id2" "web-1 and web-2 are kept as they were"

run "$ITM_ENV" -f "$tmp/stack.yml" up --scale web=1 --timeout 120
is "$rc" 0 "up --scale web=1"
is "$(names)" "$ITM_NS-client-1 $ITM_NS-web-1" "one web container, named as a single one always is"
run "$ITM_ENV" env --format json
is "$(printf '%s' "$out" | jq -r '.WEB_REPLICAS // "none"')" none "one replica: no list variables"

run "$ITM_ENV" -f "$tmp/stack.yml" up --scale nosuch=2
is "$rc" 2 "--scale of a service the stack has not: usage error"
run "$ITM_ENV" -f "$tmp/stack.yml" up --scale web=0
is "$rc" 2 "--scale web=0: usage error"

idc=$(id_of "$ITM_NS-client-1")
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 120
is "$rc" 0 "up again: back to the file's 3"
is "$(names)" "$ITM_NS-client-1 $ITM_NS-web-1 $ITM_NS-web-2 $ITM_NS-web-3" "three again"
is "$(id_of "$ITM_NS-client-1")" "$idc" "scaling up does not recreate the dependent"
like "$err" "web-3 ready" "the new replicas are gated"
run "$ITM_ENV" wait --timeout 60
is "$rc" 0 "wait without the stack file: from the labels"
like "$err" "web-3 ready" "gates each replica under its own name"
run "$ITM_ENV" wait -f "$tmp/stack.yml" --timeout 60 web
is "$rc" 0 "wait web with the stack file"
like "$err" "web-2 ready" "gates every replica of web"
run "$ITM_ENV" ps --json
is "$(printf '%s' "$out" | jq -r '[.[] | select(.service == "web") | "\(.number):\(.ready.state)"] | join(" ")')" \
  "1:ready 2:ready 3:ready" "ps: the three replicas, each with its own readiness record"
run "$ITM_ENV" down --logs-dir "$tmp/logs"
is "$rc" 0 "down removes every replica, verified"
is "$(cd "$tmp/logs" && ls | sort | tr '\n' ' ')" "client.log web-1.log web-2.log web-3.log " \
  "down --logs-dir: one file per replica"
is "$(names)" "" "nothing left"
done_testing
