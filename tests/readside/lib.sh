# tests/readside/lib.sh - setup for the read-side command tests (ps, logs,
# exec, port, env), sourced after tests/lib.sh.  These make the containers
# `up` would make straight through the engine API, so that the read side is
# tested apart from the provisioner (with-up.sh uses up itself): named <ns>-<service>-<n>, labelled io.itm-env.namespace/service/
# number, on a user-defined <ns>_default network (the default bridge does
# not work on the test machines), ports published on 127.0.0.1.
# shellcheck shell=sh

# rs_net: the namespace's default network.
rs_net () {
  engine_req POST /networks/create -H 'Content-Type: application/json' -d \
    "{\"Name\":\"${ITM_NS}_default\",\"Labels\":{\"io.itm-env.namespace\":\"$ITM_NS\",\"io.itm-env.network\":\"default\"}}" \
    >/dev/null
  at_exit rs_cleanup
}

# rs_ctr SERVICE N EXTRA-JSON [nostart]: create (and start) a busybox
# container; EXTRA-JSON is merged into the create body (jq's `*`).
rs_ctr () {
  _body=$(jq -n --arg ns "$ITM_NS" --arg svc "$1" --arg n "$2" --argjson extra "$3" '
    {Image: "itm-fixture/busybox:latest",
     Labels: {"io.itm-env.namespace": $ns, "io.itm-env.service": $svc, "io.itm-env.number": $n},
     HostConfig: {NetworkMode: ($ns + "_default")}} * $extra')
  engine_req POST "/containers/create?name=$ITM_NS-$1-$2" \
    -H 'Content-Type: application/json' -d "$_body" >/dev/null
  [ "${4:-}" = nostart ] || engine_req POST "/containers/$ITM_NS-$1-$2/start" >/dev/null
}

# rs_publish PORT: EXTRA-JSON publishing PORT/tcp on 127.0.0.1, ephemeral.
rs_publish () {
  printf '{"ExposedPorts":{"%s/tcp":{}},"HostConfig":{"PortBindings":{"%s/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]}}}' "$1" "$1"
}

# rs_inspect NAME JQ: a field of the container's inspect.
rs_inspect () { engine_get "/containers/$ITM_NS-$1/json" | jq -r "$2"; }

# rs_cleanup: remove what the rs_* functions made (before the leak check).
rs_cleanup () {
  engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '.[].Id' | while read -r _id; do
    engine_req DELETE "/containers/$_id?force=1&v=1" >/dev/null || true
  done
  engine_get "/networks?filters=$(ns_filter)" | jq -r '.[].Id' | while read -r _id; do
    engine_req DELETE "/networks/$_id" >/dev/null || true
  done
}

# jq_ok DESC FILTER: $out passes `jq -e FILTER`.
jq_ok () {
  if printf '%s' "$out" | jq -e "$2" >/dev/null 2>&1; then pass "$1"; else
    fail "$1"; diag "jq -e '$2'" "on: $out"
  fi
}
# rs_status NAME STATUS: the container's State.Status is STATUS.
rs_status () { [ "$(rs_inspect "$1" .State.Status)" = "$2" ]; }
rs_healthy () { [ "$(rs_inspect "$1" .State.Health.Status)" = healthy ]; }
