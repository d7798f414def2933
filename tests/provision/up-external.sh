#!/bin/sh
# up-external.sh - external networks and volumes are checked before anything
# is built, pulled or created: a missing one fails like Compose ("external
# volume X not found", "network X declared as external, but could not be
# found") with exit 3, and nothing is left (the engine would have made the
# volume on mount, and the network was found missing only after the
# containers existed, with exit 10).  Present ones are used and kept by down.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
bb=itm-fixture/busybox:latest
vol=$ITM_NS-extvol
net=$ITM_NS-extnet
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1; engine_req DELETE '/volumes/$vol' >/dev/null 2>&1; engine_req DELETE '/networks/$net' >/dev/null 2>&1"
cd "$tmp"
cat >vol.yml <<EOF2
services:
  app:
    image: $bb
    command: ["sleep", "3600"]
    volumes: [ext:/data]
volumes:
  ext:
    external: true
    name: $vol
EOF2
cat >net.yml <<EOF2
services:
  app:
    image: $bb
    command: ["sleep", "3600"]
    networks: [ext]
networks:
  ext:
    external: true
    name: $net
EOF2
containers () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length; }

run "$ITM_ENV" -p "$ITM_NS" -f vol.yml up --timeout 60
is "$rc" 3 "a missing external volume: exit 3"
like "$err" "external volume $vol not found" "the error names the volume, as Compose does"
absent () { ! engine_get "$1" >/dev/null 2>&1; }
ok "the volume was not created (by a mount)" absent "/volumes/$vol"
is "$(containers)" 0 "no container was created"

run "$ITM_ENV" -p "$ITM_NS" -f net.yml up --timeout 60
is "$rc" 3 "a missing external network: exit 3 (not 10)"
like "$err" "network $net declared as external, but could not be found" "the error names the network"
is "$(containers)" 0 "no container was created"
is "$(engine_get "/networks?filters=$(ns_filter)" | jq length)" 0 "no network was created"

# both present: used, and kept by down
engine_req POST /volumes/create -H 'Content-Type: application/json' -d "{\"Name\":\"$vol\"}" >/dev/null
engine_req POST /networks/create -H 'Content-Type: application/json' -d "{\"Name\":\"$net\"}" >/dev/null
run "$ITM_ENV" -p "$ITM_NS" -f vol.yml up --timeout 60
is "$rc" 0 "an existing external volume: up works"
run "$ITM_ENV" -p "$ITM_NS" -f net.yml up --timeout 60
is "$rc" 0 "an existing external network: up works"
run "$ITM_ENV" down -p "$ITM_NS"
is "$rc" 0 "down"
ok "down keeps the external volume" engine_get "/volumes/$vol"
ok "down keeps the external network" engine_get "/networks/$net"
done_testing
