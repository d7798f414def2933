#!/bin/sh
# compose-interop.sh - itm-env's containers, networks and volumes carry
# Compose's labels too, so Docker Compose v2 sees a namespace as a project:
# `docker compose -p NS ps`, `logs`, `port` and `exec` work on it (Compose
# is only the observer here; itm-env's own labels stay the source of truth:
# down and verify are unchanged).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
compose=$("$ITM_SRCDIR/tests/fixtures/compose-v2.sh" 2>"$tmp/compose.err") \
  || skip_all "Docker Compose v2 cannot be had: $(cat "$tmp/compose.err")"
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  db:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo db-says-hello; exec sleep 3600"]
    volumes: ["data:/data"]
    stop_grace_period: 1s
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo web-says-hello; exec httpd -f -p 8080"]
    ports: ["8080"]
    depends_on: [db]
    stop_grace_period: 1s
volumes:
  data:
YML
# Compose from a directory without a compose file: it knows the project
# from -p alone, as a user's terminal or IDE would
mkdir "$tmp/elsewhere"
cat >"$tmp/dc" <<SH
#!/bin/sh
cd "$tmp/elsewhere" && DOCKER_HOST=unix://$ITM_SOCK exec "$compose" -p "$ITM_NS" "\$@"
SH
chmod +x "$tmp/dc"
dc=$tmp/dc

run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 60
is "$rc" 0 "up"

run "$dc" ps --format json
is "$rc" 0 "docker compose -p NS ps --format json"
ps=$(printf '%s\n' "$out" | jq -sc 'if length == 1 and (.[0] | type) == "array" then .[0] else . end')
is "$(printf '%s' "$ps" | jq -r '[.[] | .Service] | sort | join(" ")')" "db web" \
  "Compose lists both services by their names"
is "$(printf '%s' "$ps" | jq -r '[.[] | .Name] | sort | join(" ")')" "$ITM_NS-db-1 $ITM_NS-web-1" \
  "with itm-env's container names"
is "$(printf '%s' "$ps" | jq -r '[.[] | .State] | unique | join(" ")')" "running" \
  "both running"
is "$(printf '%s' "$ps" | jq -r '.[] | select(.Service == "web") | .Project')" "$ITM_NS" \
  "the project is the namespace"

run "$dc" logs --no-color web
is "$rc" 0 "docker compose logs web"
like "$out" "web-says-hello" "shows web's output"
unlike "$out" "db-says-hello" "and only web's"

run "$ITM_ENV" port web 8080
mine=$out
run "$dc" port web 8080
is "$rc" 0 "docker compose port web 8080"
is "$out" "$mine" "the same host address as itm-env port"

run "$dc" exec -T db cat /proc/1/cmdline
is "$rc" 0 "docker compose exec -T db"
like "$out" "sleep" "runs in db's container"

run "$dc" ps --services
is "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" "db web " "ps --services"

n=$(engine_get "/networks?filters=$(ns_filter)" | jq -r --arg p "$ITM_NS" \
  '[.[] | select(.Labels["com.docker.compose.project"] == $p and .Labels["com.docker.compose.network"] == "default")] | length')
is "$n" 1 "the network carries Compose's project and network labels"
v=$(engine_get "/volumes?filters=$(ns_filter)" | jq -r --arg p "$ITM_NS" \
  '[.Volumes[] | select(.Labels["com.docker.compose.project"] == $p and .Labels["com.docker.compose.volume"] == "data")] | length')
is "$v" 1 "the volume carries Compose's project and volume labels"
dep=$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r '.Config.Labels["com.docker.compose.depends_on"]')
is "$dep" "db:service_started:false" "depends_on as Compose writes it"

# the verifier still owns teardown: our labels are what it reads
run "$ITM_ENV" verify
is "$rc" 9 "verify while up: leftovers (the new labels hide nothing)"
run "$ITM_ENV" down
is "$rc" 0 "down: clean, verified"
run "$ITM_ENV" verify
is "$rc" 0 "verify after down: nothing left"
run "$dc" ps -a --format json
is "$(printf '%s' "$out" | jq -s 'if length == 1 and (.[0] | type) == "array" then .[0] else . end | length')" 0 \
  "Compose sees nothing left either"
done_testing
