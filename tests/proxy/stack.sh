#!/bin/sh
# stack.sh - x-itm.proxy in a stack: up starts one proxy container (from
# itm-env's own image) that takes the service's name on its networks; the
# host-side variables of env and TOXIPROXY_URL point at it; a busybox
# client in the network and curl on the host both see the faults; the
# service's readiness does not; down leaves nothing.  Bad x-itm.proxy
# input is a stack error (exit 3) before anything is created.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq curl
need_fixtures busybox

at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
cat >"$tmp/stack.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 60
    x-itm:
      proxy: true
  client:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    depends_on: {web: {condition: service_healthy}}
YML
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 180
is "$rc" 0 "up: a proxied service and a client"
c=$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '.[] | .Names[0]' | sort | tr '\n' ' ')
is "$c" "/$ITM_NS-client-1 /$ITM_NS-itm-proxy-1 /$ITM_NS-web-1 " "one proxy container in the namespace"

run "$ITM_ENV" env --format json
is "$rc" 0 "env"
url=$(printf '%s' "$out" | jq -r .TOXIPROXY_URL)
like "$url" '^http://127\.0\.0\.1:[0-9]+$' "TOXIPROXY_URL is the proxy's published API"
is "$(printf '%s' "$out" | jq -r .ITM_PROXY_URL)" "$url" "ITM_PROXY_URL too"
port=$(printf '%s' "$out" | jq -r .WEB_PORT)
real=$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r '.NetworkSettings.Ports["8080/tcp"][0].HostPort')
prox=$(engine_get "/containers/$ITM_NS-itm-proxy-1/json" | jq -r '.NetworkSettings.Ports["8080/tcp"][0].HostPort')
is "$port" "$prox" "WEB_PORT is the proxy's published port"
ok "... not the service's own ($real)" test "$port" != "$real"
body=$(curl -sS --max-time 10 "$url/proxies")
is "$(printf '%s' "$body" | jq -c '.web | [.upstream, .enabled]')" '["web.itm-real:8080",true]' \
  "the proxy 'web' forwards to the service's second name"
aliases=$(engine_get "/containers/$ITM_NS-web-1/json" | jq -c '[.NetworkSettings.Networks[].Aliases[]] | map(select(. == "web" or . == "web.itm-real"))')
is "$aliases" '["web.itm-real"]' "the service's own container answers to web.itm-real, not web"

run curl -sS --max-time 10 "http://127.0.0.1:$port/"
is "$out" hello "host: through the proxy"
run "$ITM_ENV" exec -T client timeout 5 wget -q -O - http://web:8080/
is "$rc:$out" 0:hello "in the network: 'web' reaches the service through the proxy"

curl -sS --max-time 10 -X POST "$url/proxies/web/toxics" -d '{"type":"timeout","attributes":{"timeout":0}}' >/dev/null
run "$ITM_ENV" exec -T client timeout 2 wget -q -O - http://web:8080/
ok "timeout: the client in the network times out (rc $rc)" test "$rc" -ne 0
run curl -sS --max-time 2 "http://127.0.0.1:$port/"
ok "timeout: the host times out too (rc $rc)" test "$rc" -ne 0
run "$ITM_ENV" -f "$tmp/stack.yml" wait --timeout 60
is "$rc" 0 "readiness probes the real service: wait passes under the toxic"
curl -sS --max-time 10 -X POST "$url/proxies/web" -d '{"enabled":false}' >/dev/null
run "$ITM_ENV" exec -T client timeout 2 wget -q -O - http://web:8080/
like "$rc:$err" '^[1-9].*(refused|error)' "enabled:false: the client is refused"
curl -sS --max-time 10 -X POST "$url/reset" >/dev/null
run "$ITM_ENV" exec -T client timeout 5 wget -q -O - http://web:8080/
is "$rc:$out" 0:hello "reset: the client gets through again"

run "$ITM_ENV" down
is "$rc" 0 "down removes the proxy with the rest"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "nothing left"

sed 's/      proxy: true/      proxy: {ports: [9999]}/' "$tmp/stack.yml" >"$tmp/bad.yml"
run "$ITM_ENV" -f "$tmp/bad.yml" up --timeout 60
is "$rc" 3 "a port the service does not expose: exit 3"
like "$err" "x-itm.proxy.ports: service 'web' does not expose port 9999 \(its ports: 8080\)" "... naming it"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "... nothing created"

# a proxy that dies once started (here: a service port that is the API's
# own, 8474, so its listen fails) fails up with the proxy's last words, and
# up undoes what it created
cat >"$tmp/clash.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "trap exit TERM; mkdir -p /www; httpd -f -p 8474 -h /www & wait"]
    expose: ["8474"]
    x-itm: {proxy: true}
YML
run "$ITM_ENV" -f "$tmp/clash.yml" up --timeout 60
is "$rc" 1 "the proxy dies at its start: up fails (exit 1)"
like "$err" "the fault proxy $ITM_NS-itm-proxy-1 exited \\(code [0-9]+\\): .*8474.*(in use|bind)" "... with the proxy's own words"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "... nothing left"
done_testing
