#!/bin/sh
# ps: text and --json on a namespace with a running (published port), an
# exited (code 3) and a healthy container; service filter; unknown service
# and namespace; -p from a directory without a stack file.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq
export ITM_NS

rs_net
rs_ctr web 1 "$(rs_publish 80 | jq '. * {Cmd: ["httpd", "-f", "-p", "80"]}')"
rs_ctr job 1 '{"Cmd":["sh","-c","exit 3"]}'
rs_ctr db 1 '{"Cmd":["sleep","600"],"Healthcheck":{"Test":["CMD","true"],"Interval":100000000,"Timeout":1000000000,"Retries":3}}'
ok "job exits" wait_for 20 rs_status job-1 exited
ok "db becomes healthy" wait_for 30 rs_healthy db-1

cd "$tmp"
unset ITM_ENV_NAMESPACE
run "$ITM_ENV" ps -p "$ITM_NS"
is "$rc" 0 "ps -p NS from a directory without a stack file"
is "$(lines "$out")" 4 "a header and three rows"
is "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "db job web " "sorted by service"
like "$(printf '%s\n' "$out" | head -1)" '^SERVICE +CONTAINER +STATE +HEALTH +READY +PORTS +EXIT$' "header"
like "$(printf '%s\n' "$out" | grep '^db ')" "^db +$ITM_NS-db-1 +running +healthy +- +- +-$" "db row: running, healthy, no readiness record"
like "$(printf '%s\n' "$out" | grep '^job ')" "^job +$ITM_NS-job-1 +exited +- +- +- +3$" "job row: exited 3"
like "$(printf '%s\n' "$out" | grep '^web ')" "^web +$ITM_NS-web-1 +running +- +- +127\\.0\\.0\\.1:[0-9]+->80/tcp +-$" "web row: published port"

run "$ITM_ENV" ps -p "$ITM_NS" --json
is "$rc" 0 "ps --json"
jq_ok "--json is an array of three" 'type == "array" and length == 3'
jq_ok "--json keys" 'all(.[]; keys == ["config_hash","container","exit_code","faults","health","id","image","networks","number","ports","ready","service","started_at","state"])'
jq_ok "--json job: exited, exit_code 3" '.[] | select(.service == "job") | .state == "exited" and .exit_code == 3 and .health == null'
jq_ok "--json db: healthy, exit_code null" '.[] | select(.service == "db") | .health == "healthy" and .exit_code == null and .number == 1 and .ready == null'
jq_ok "--json web: port 80 on 127.0.0.1" '.[] | select(.service == "web") | .ports[0] | .container_port == 80 and .protocol == "tcp" and .host_ip == "127.0.0.1" and (.host_port | type == "number")'
jq_ok "--json networks and started_at" '.[] | select(.service == "web") | .networks == [$ENV.ITM_NS + "_default"] and (.started_at | test("^[0-9]{4}-"))'

run "$ITM_ENV" ps -p "$ITM_NS" web --json
jq_ok "ps SERVICE: only that service" 'map(.service) == ["web"]'

run "$ITM_ENV" ps -p "$ITM_NS" nosuch
is "$rc" 10 "unknown service: exit 10"
like "$err" "no service 'nosuch' in namespace '$ITM_NS'" "names the service and namespace"
like "$err" "its services: db, job, web" "lists the services"

run "$ITM_ENV" ps -p "$ITM_NS-none"
is "$rc" 0 "empty namespace: exit 0"
like "$err" "has no containers" "empty namespace: a note on stderr"
run "$ITM_ENV" ps -p "$ITM_NS-none" --json
is "$out" "[]" "empty namespace: --json []"

run env ITM_ENV_NAMESPACE="$ITM_NS" "$ITM_ENV" ps
is "$rc" 0 "ps with ITM_ENV_NAMESPACE"
run "$ITM_ENV" ps
is "$rc" 3 "no namespace and no stack file: the stack error"
like "$err" "-p NS" "hint: -p"

rs_cleanup
done_testing
