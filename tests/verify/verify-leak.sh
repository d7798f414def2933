#!/bin/sh
# verify-leak.sh - the teardown verifier: a container the test left on the
# namespace's network is named (exit 9), down disconnects it to remove the
# network and still names it, --force removes it; suspects (unlabelled
# resources that appeared since up) are a warning, resources with another
# owner's label are not suspects; --json.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
bb=itm-fixture/busybox:latest
stray=$ITM_NS-stray
rmc () { for _c; do engine_req DELETE "/containers/$_c?force=1" >/dev/null 2>&1 || true; done; }
at_exit "rmc '$stray' '$stray-2' '$ITM_NS-susp' '$ITM_NS-owned'; '$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sleep", "3600"]
volumes:
  data:
EOF2
cd "$tmp"
# start_on NAME NETWORK [LABELS-JSON]: a container of the test's own
start_on () {
  engine_req POST "/containers/create?name=$1" -H 'Content-Type: application/json' \
    -d "{\"Image\":\"$bb\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":${3:-{\}},\"HostConfig\":{\"NetworkMode\":\"$2\"}}" >/dev/null
  engine_req POST "/containers/$1/start" >/dev/null
}
exists () { engine_get "/containers/$1/json" >/dev/null 2>&1; }
gone () { ! engine_get "$1" >/dev/null 2>&1; }

run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up"
ok "up took a snapshot in the namespace's state dir" test -s "$tmp/state/$ITM_NS/snapshot.json"
like "$(jq -r '.containers | length' "$tmp/state/$ITM_NS/snapshot.json")" '^[0-9]+$' \
  "the snapshot lists the engine's containers"

run "$ITM_ENV" verify
is "$rc" 9 "verify on a namespace that is up: leftovers, exit 9"
like "$out" "leftover: container $ITM_NS-web-1 " "names the container"
like "$out" "leftover: network ${ITM_NS}_default " "names the network"
like "$out" "leftover: volume ${ITM_NS}_data: " "names the volume"

start_on "$stray" "${ITM_NS}_default"
start_on "$ITM_NS-susp" none
start_on "$ITM_NS-owned" none '{"com.docker.compose.project":"itmt-other"}'
run "$ITM_ENV" verify --json
is "$rc" 9 "verify --json: exit 9"
is "$(printf '%s' "$out" | jq -r '.clean')" false "JSON: clean is false"
is "$(printf '%s' "$out" | jq -r --arg n "$stray" '.left[] | select(.name == $n) | .reason')" \
  "attached to network ${ITM_NS}_default (not created by itm-env for $ITM_NS)" \
  "JSON: the unlabelled container on our network is a leftover, with why"
is "$(printf '%s' "$out" | jq -r --arg n "$ITM_NS-susp" '[.suspects[] | select(.name == $n)] | length')" 1 \
  "JSON: an unlabelled container that appeared since up is a suspect"
is "$(printf '%s' "$out" | jq -r --arg n "$ITM_NS-owned" '[.suspects[], .left[] | select(.name == $n)] | length')" 0 \
  "JSON: a container with another owner's label is not a suspect"
is "$(printf '%s' "$out" | jq -c '.checked')" '{"labelled":true,"attached":true,"snapshot":true,"data":'"$(printf '%s' "$out" | jq -c .checked.data)"',"images":null}' \
  "JSON: what was checked"
rmc "$ITM_NS-susp" "$ITM_NS-owned"

run "$ITM_ENV" down
is "$rc" 9 "down with a stray on the network: exit 9"
like "$err" "network ${ITM_NS}_default: disconnected container $stray" \
  "down says it disconnected the stray to remove the network"
like "$err" "leftover: container $stray .*when down began" "the verification names the stray"
unlike "$err" "leftover: (network|volume)" "the labelled resources are gone"
ok "the network is gone" gone "/networks/${ITM_NS}_default"
ok "the stray itself is untouched without --force" exists "$stray"

run "$ITM_ENV" verify
is "$rc" 9 "a later verify still names the stray (remembered in the state dir)"
like "$out" "leftover: container $stray " "named"
run "$ITM_ENV" down --force
is "$rc" 0 "down --force: clean"
like "$err" "removed \(--force\): container $stray " "says it removed the stray"
ok "the stray is gone" gone "/containers/$stray/json"

# --force straight away: the stray is disconnected and removed before down
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up again"
start_on "$stray-2" "${ITM_NS}_default"
run "$ITM_ENV" down --force --json
is "$rc" 0 "down --force with a stray on the network: exit 0"
line=$(printf '%s\n' "$out" | grep '"event":"verified"' || true)
is "$(printf '%s' "$line" | jq -r .clean)" true "JSON event: clean"
is "$(printf '%s' "$line" | jq -r .forced)" 1 "JSON event: one leftover removed by --force"
is "$(printf '%s' "$line" | jq -r '[.removed[] | .kind] | sort | join(",")')" "container,network,volume" \
  "JSON event: what down removed"
ok "the second stray is gone" gone "/containers/$stray-2/json"

run "$ITM_ENV" verify
is "$rc" 0 "verify on a namespace that is gone: exit 0"
is "$(lines "$out")" 1 "one line"
like "$out" "^verified namespace $ITM_NS: checked .*: nothing is left$" "saying what was checked"
done_testing
