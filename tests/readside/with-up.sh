#!/bin/sh
# The read-side commands on a namespace made by `itm-env up`: ps, port,
# exec, logs, and env with x-itm.exports read from the stack file that the
# containers' labels name, from a directory without a stack file.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  my-web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "echo web starting; exec httpd -f -p 80"]
    environment:
      SECRET: "it's"
    ports:
      - "80"
    x-itm:
      exports:
        WEB_URL: "http://$${HOST}:$${PORT}/?s=$${SECRET}"
  worker:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
YAML
run "$ITM_ENV" up
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"
port=$(rs_inspect my-web-1 '.NetworkSettings.Ports["80/tcp"][0].HostPort')

elsewhere=$(mktemp -d "${TMPDIR:-/tmp}/itmt-elsewhere.XXXXXX")
at_exit "rm -rf '$elsewhere'"
cd "$elsewhere"
unset ITM_ENV_NAMESPACE

run "$ITM_ENV" ps -p "$ITM_NS" --json
jq_ok "ps --json: two running containers with a config hash" \
  'map(.service) == ["my-web", "worker"] and all(.[]; .state == "running" and (.config_hash | length == 64))'
run "$ITM_ENV" port -p "$ITM_NS" my-web 80
is "$out" "127.0.0.1:$port" "port"
run "$ITM_ENV" env -p "$ITM_NS"
( eval "$out"
  is "$MY_WEB_PORT" "$port" "env: MY_WEB_PORT"
  is "$WEB_URL" "http://127.0.0.1:$port/?s=it's" "env: exports from the stack file the labels name"
) >"$tmp/eval.tap"
cat "$tmp/eval.tap"
_tap_n=$((_tap_n + $(grep -c '^ok\|^not ok' "$tmp/eval.tap")))
_tap_failed=$((_tap_failed + $(grep -c '^not ok' "$tmp/eval.tap" || true)))
ok "the published port answers" curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"
run "$ITM_ENV" exec -p "$ITM_NS" my-web sh -c 'echo "$SECRET"; exit 7'
is "$rc.$out" "7.it's" "exec: the service's environment, the exit code"
run "$ITM_ENV" logs -p "$ITM_NS" my-web
is "$out" "my-web | web starting" "logs"

cd "$tmp"
run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down"
done_testing
