#!/bin/sh
# port and env: host:port of published ports; env in shell (eval'd),
# dotenv and json formats; x-itm.exports templates; names with '-'
# upper-cased; unknown namespace, service, port and container number.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq
export ITM_NS

rs_net
rs_ctr my-db 1 "$(rs_publish 5432 | jq '. * {Cmd: ["sleep", "600"], Env: ["POSTGRES_PASSWORD=pa'"'"'ss $x"]}')"
rs_ctr web 1 "$(jq -n '{Cmd: ["sleep", "600"], ExposedPorts: {"80/tcp": {}, "8080/tcp": {}, "9000/tcp": {}},
  HostConfig: {PortBindings: {"80/tcp": [{HostIp: "127.0.0.1", HostPort: ""}],
                              "8080/tcp": [{HostIp: "127.0.0.1", HostPort: ""}]}}}')"
rs_ctr quiet 1 '{"Cmd":["sleep","600"]}'
dbport=$(rs_inspect my-db-1 '.NetworkSettings.Ports["5432/tcp"][0].HostPort')
web80=$(rs_inspect web-1 '.NetworkSettings.Ports["80/tcp"][0].HostPort')
web8080=$(rs_inspect web-1 '.NetworkSettings.Ports["8080/tcp"][0].HostPort')

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  my-db:
    image: itm-fixture/busybox:latest
    x-itm:
      exports:
        DATABASE_URL: "postgres://u:$${POSTGRES_PASSWORD}@$${HOST}:$${PORT}/db"
        DB_ADDR: "$${MY_DB_HOST}:$${PORT_5432} in $${NAMESPACE} ($${SERVICE}) $$$$ $${NOPE:-dflt}"
  web:
    image: itm-fixture/busybox:latest
    x-itm:
      exports:
        WEB_URL: "http://$HOST:$${PORT_8080}/"
        WEIRD: ' a $$$$x `touch pwned2` "dq" ''sq'' back\slash  two  spaces = eq $$(touch pwned1) #hash '
  quiet:
    image: itm-fixture/busybox:latest
YAML

# ---- port
run "$ITM_ENV" port my-db 5432
is "$rc" 0 "port SERVICE PORT"
is "$out" "127.0.0.1:$dbport" "port prints host:port"
run "$ITM_ENV" port -p "$ITM_NS" my-db 5432/tcp
is "$out" "127.0.0.1:$dbport" "port PORT/tcp, -p"
run "$ITM_ENV" port --index 1 web 8080
is "$out" "127.0.0.1:$web8080" "port --index 1"
run "$ITM_ENV" port my-db 9999
is "$rc" 10 "unknown port: exit 10"
like "$err" "port 9999/tcp of service 'my-db'.*not published" "unknown port: message"
like "$err" "its published ports: 5432/tcp" "unknown port: hint lists the published ports"
run "$ITM_ENV" port web 9000
is "$rc" 10 "exposed but unpublished port: exit 10"
run "$ITM_ENV" port my-db 5432/udp
is "$rc" 10 "another protocol: exit 10"
run "$ITM_ENV" port nosuch 80
is "$rc" 10 "unknown service: exit 10"
like "$err" "no service 'nosuch' in namespace '$ITM_NS'" "unknown service: message"
like "$err" "its services: my-db, quiet, web" "unknown service: the services"
run "$ITM_ENV" port --index 2 web 80
is "$rc" 10 "unknown container number: exit 10"
run "$ITM_ENV" port -p "$ITM_NS-none" web 80
is "$rc" 10 "unknown namespace: exit 10"
like "$err" "namespace '$ITM_NS-none' has no containers" "unknown namespace: message"
run "$ITM_ENV" port web 80/xyz
is "$rc" 2 "bad protocol: usage error"
run "$ITM_ENV" port web
is "$rc" 2 "missing PORT: usage error"

# ---- env, shell
run "$ITM_ENV" env
is "$rc" 0 "env"
( eval "$out"
  is "$MY_DB_HOST" 127.0.0.1 "MY_DB_HOST ('-' to '_', upper-cased)"
  is "$MY_DB_PORT" "$dbport" "MY_DB_PORT"
  is "$MY_DB_PORT_5432" "$dbport" "MY_DB_PORT_5432"
  is "$WEB_HOST" 127.0.0.1 "WEB_HOST"
  is "$WEB_PORT" "$web80" "WEB_PORT: the first published port"
  is "$WEB_PORT_80" "$web80" "WEB_PORT_80"
  is "$WEB_PORT_8080" "$web8080" "WEB_PORT_8080"
  is "${WEB_PORT_9000:-unset}" unset "an unpublished port has no variable"
  is "${QUIET_HOST:-unset}" unset "a service without published ports has no variables"
  is "$DATABASE_URL" "postgres://u:pa'ss \$x@127.0.0.1:$dbport/db" "export: container environment, HOST, PORT (quotes and \$ survive eval)"
  is "$DB_ADDR" "127.0.0.1:$dbport in $ITM_NS (my-db) \$ dflt" "export: other variables, NAMESPACE, SERVICE, \$\$, default"
  is "$WEB_URL" "http://:$web8080/" "export: a single \$ is the loader's interpolation"
) >"$tmp/eval.tap"
cat "$tmp/eval.tap"
_tap_n=$((_tap_n + $(grep -c '^ok\|^not ok' "$tmp/eval.tap")))
_tap_failed=$((_tap_failed + $(grep -c '^not ok' "$tmp/eval.tap" || true)))
like "$(printf '%s\n' "$out" | head -1)" "^export MY_DB_HOST='127.0.0.1'$" "shell lines: export NAME='value'"

run "$ITM_ENV" env web
( eval "$out"
  is "${MY_DB_PORT:-unset}${DATABASE_URL:-unset}" unsetunset "env SERVICE: only that service"
  is "$WEB_PORT_8080" "$web8080" "env SERVICE: its variables"
) >"$tmp/eval.tap"
cat "$tmp/eval.tap"
_tap_n=$((_tap_n + $(grep -c '^ok\|^not ok' "$tmp/eval.tap")))
_tap_failed=$((_tap_failed + $(grep -c '^not ok' "$tmp/eval.tap" || true)))

# ---- dotenv (read literally: docker run --env-file, $GITHUB_ENV), shell
# sourced: the values round-trip, nothing in them runs
weird=' a $x `touch pwned2` "dq" '"'sq'"' back\slash  two  spaces = eq $(touch pwned1) #hash '
run "$ITM_ENV" env --format dotenv
is "$rc" 0 "env --format dotenv"
ok "dotenv: plain value unquoted" grep -qx "MY_DB_PORT=$dbport" "$tmp/.out"
ok "dotenv: a value with a quote, unquoted, \$ as it is" \
  grep -qxF "DATABASE_URL=postgres://u:pa'ss \$x@127.0.0.1:$dbport/db" "$tmp/.out"
ok "dotenv: a value with spaces, unquoted" \
  grep -qxF "DB_ADDR=127.0.0.1:$dbport in $ITM_NS (my-db) \$ dflt" "$tmp/.out"
cp "$tmp/.out" "$tmp/vars.env"
# docker's env-file rules: the name up to the first '=', the rest of the line as it is
literal=$(while IFS= read -r line; do
  case $line in WEIRD=*) printf '%s' "${line#*=}" ;; esac
done <"$tmp/vars.env")
is "$literal" "$weird" "dotenv: \$, backquotes, quotes, backslash, spaces, = and # read back literally"
if command -v docker >/dev/null 2>&1; then
  run docker run --rm --env-file "$tmp/vars.env" itm-fixture/busybox:latest \
    sh -c 'printf "%s\n" "$WEIRD" "$DATABASE_URL"'
  is "$out" "$weird
postgres://u:pa'ss \$x@127.0.0.1:$dbport/db" "docker run --env-file reads the same values"
else
  skip "no docker CLI: docker run --env-file not tried"
fi
run "$ITM_ENV" env
printf '%s\n' "$out" >"$tmp/vars.sh"
( cd "$tmp" && set -a && . ./vars.sh && printf '%s' "$WEIRD" ) >"$tmp/sourced"
is "$(cat "$tmp/sourced")" "$weird" "shell: '. file' gives the value back"
ok "shell: '. file' ran no \$(...) command" test ! -e "$tmp/pwned1"
ok "shell: '. file' ran no backquoted command" test ! -e "$tmp/pwned2"
( cd "$tmp" && eval "$(cat vars.sh)" ) >/dev/null 2>&1
ok "shell: eval ran nothing either" test ! -e "$tmp/pwned1" -a ! -e "$tmp/pwned2"

run "$ITM_ENV" env --format json
is "$rc" 0 "env --format json"
jq_ok "json: an object with the values" \
  ".MY_DB_PORT == \"$dbport\" and .WEB_PORT_80 == \"$web80\" and .MY_DB_HOST == \"127.0.0.1\" and (.DATABASE_URL | endswith(\"@127.0.0.1:$dbport/db\"))"
jq_ok "json: the keys in order" \
  'keys_unsorted == ["MY_DB_HOST","MY_DB_PORT","MY_DB_PORT_5432","WEB_HOST","WEB_PORT","WEB_PORT_80","WEB_PORT_8080","DATABASE_URL","DB_ADDR","WEB_URL","WEIRD"]'

# ---- without a stack file: variables only
elsewhere=$(mktemp -d "${TMPDIR:-/tmp}/itmt-elsewhere.XXXXXX")
at_exit "rm -rf '$elsewhere'"
cd "$elsewhere"
run env -u ITM_ENV_NAMESPACE "$ITM_ENV" env -p "$ITM_NS" --format json
is "$rc" 0 "env -p NS from a directory without a stack file"
jq_ok "without a stack file: no exports" 'has("DATABASE_URL") | not'
jq_ok "without a stack file: the variables" ".MY_DB_PORT == \"$dbport\""
cd "$tmp"

# ---- errors
cat >bad.yaml <<'YAML'
services:
  web:
    image: itm-fixture/busybox:latest
    x-itm:
      exports:
        X: "$${UNDEFINED_THING}"
YAML
run "$ITM_ENV" env -f bad.yaml
is "$rc" 3 "an undefined template variable: exit 3"
like "$err" "x-itm.exports.X: variable 'UNDEFINED_THING' is not defined" "undefined variable: message"
run "$ITM_ENV" env nosuch
is "$rc" 10 "env unknown service: exit 10"
run "$ITM_ENV" env -p "$ITM_NS-none"
is "$rc" 10 "env unknown namespace: exit 10"
run "$ITM_ENV" env --format yaml
is "$rc" 2 "env unknown format: usage error"
cat >nl.yaml <<'YAML'
services:
  web:
    image: itm-fixture/busybox:latest
    x-itm:
      exports:
        FINE: fine
        TWO_LINES: "line1\nline2"
YAML
run "$ITM_ENV" env -f nl.yaml --format dotenv
is "$rc" 1 "dotenv: a value with a line break is refused (exit 1)"
like "$err" "dotenv cannot carry the value of TWO_LINES: it holds a line break" "... naming the variable"
is "$out" "" "... printing nothing"
run "$ITM_ENV" env -f nl.yaml
is "$rc" 0 "the shell format carries it"
( eval "$out"; is "$TWO_LINES" "line1
line2" "shell: the line break survives eval" ) >"$tmp/eval.tap"
cat "$tmp/eval.tap"
_tap_n=$((_tap_n + $(grep -c '^ok\|^not ok' "$tmp/eval.tap")))
_tap_failed=$((_tap_failed + $(grep -c '^not ok' "$tmp/eval.tap" || true)))

rs_cleanup
done_testing
