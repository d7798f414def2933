#!/bin/sh
# ls, top, images and events on a namespace made by up: every namespace
# with its status, owner and expiry; the processes of running containers;
# the images the containers use; the engine's events filtered to the
# namespace (--json, --since/--until, until SIGINT).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq
export ITM_NS

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
  job:
    image: itm-fixture/busybox:latest
    command: ["true"]
YAML
run "$ITM_ENV" up -q
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"

ok "job exits" wait_for 30 rs_status job-1 exited

# ---- ls
run "$ITM_ENV" ls --json
is "$rc" 0 "ls --json"
jq_ok "ls: the namespace, its status, owner and expiry" \
  '.[] | select(.namespace == $ENV.ITM_NS) | .status == "exited(1), running(1)" and .containers == 2 and .networks == 1 and .owner_host != null and (.expires | test("^[0-9]{4}-")) and .gc == "keep" and (.stack_files | endswith("/compose.yaml"))'
run "$ITM_ENV" ls
like "$out" "^NAMESPACE +STATUS +OWNER +EXPIRES +STACK FILES" "ls: header"
like "$out" "$ITM_NS +exited\\(1\\), running\\(1\\) +[^ ]+/[0-9]+ +[0-9]{4}-" "ls: a row for the namespace"
run "$ITM_ENV" ls -q -p "$ITM_NS"
is "$out" "$ITM_NS" "ls -q -p NS: that name only"
run "$ITM_ENV" ls -q -p "$ITM_NS-none"
is "$rc.$out" "0." "ls -p of an absent namespace: empty"

# ---- top
run "$ITM_ENV" top
is "$rc" 0 "top"
like "$out" "^$ITM_NS-app-1" "top: the running container's name"
like "$out" "sleep 600" "top: its process"
unlike "$out" "job" "top: not the exited one"
run "$ITM_ENV" top --json app
jq_ok "top --json" 'length == 1 and .[0].service == "app" and (.[0].titles | index("PID")) != null and any(.[0].processes[]; .[-1] == "sleep 600")'
run "$ITM_ENV" top nosuch
is "$rc" 10 "top: unknown service: 10"

# ---- images
run "$ITM_ENV" images --json
is "$rc" 0 "images --json"
jq_ok "images: each container's image" 'map(.service) == ["app", "job"] and all(.[]; .repository == "itm-fixture/busybox" and .tag == "latest" and (.id | startswith("sha256:")) and .size > 0)'
run "$ITM_ENV" images
like "$out" "^CONTAINER +REPOSITORY +TAG +IMAGE ID +SIZE" "images: header"
like "$out" "$ITM_NS-app-1 +itm-fixture/busybox +latest +[0-9a-f]{12} +[0-9.]+[kMG]?B" "images: a row"
run "$ITM_ENV" images -q
is "$(lines "$out")" 1 "images -q: the one image id once"

# ---- events
# --since is whole seconds: t0 starts after the second in which up's
# one-shot job died, which would otherwise count as "since t0"
sleep 1
t0=$(date +%s)
"$ITM_ENV" events --json --since "$t0" >"$tmp/events.out" 2>"$tmp/events.err" &
evpid=$!
at_exit "kill $evpid 2>/dev/null"
# (--since: what happens before the stream is open is not missed)
has_ev () { grep -q "\"action\":\"$1\"" "$tmp/events.out"; }
run "$ITM_ENV" restart -q -t 0 app
is "$rc" 0 "restart app"
ok "events: the restart arrives" wait_for 30 has_ev restart
kill -INT "$evpid"
set +e; wait "$evpid"; evrc=$?; set -e
is "$evrc" 130 "events: SIGINT ends it, exit 130"
out=$(jq -s . "$tmp/events.out")
jq_ok "events --json: objects of the namespace" 'length > 0 and all(.[]; .type == "container" and .attributes["io.itm-env.namespace"] == $ENV.ITM_NS) and any(.[]; .service == "app" and .action == "restart")'
run "$ITM_ENV" events --since "$t0" --until "$(($(date +%s) + 1))" job
is "$rc" 0 "events --since/--until: ends by itself"
is "$out" "" "events SERVICE: only that service's (none for job)"
run "$ITM_ENV" events --since "$t0" --until "$(($(date +%s) + 1))"
like "$out" "container restart [0-9a-f]{64} \\(name=$ITM_NS-app-1, service=app\\)" "events: text lines"
run "$ITM_ENV" events --since bogus
is "$rc" 2 "events --since bogus: usage"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
