#!/bin/sh
# mask.sh - generated secrets never in clear in what itm-env shows of a
# container: `logs`, `logs -f` (a secret split across two log frames too),
# the --logs-dir files of up and down; and a data check's query (naming
# a secret) is never on a command line: neither in the exec's arguments
# (the engine's exec inspect) nor in the host's process table.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox postgres

S="$ITM_SRCDIR/tests/data/mask.yml"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

run "$ITM_ENV" -f "$S" up --timeout 150 --logs-dir "$tmp/up-logs"
is "$rc" 0 "up"
tok=$(sed -n 's/^TOKEN=//p' "$ITM_ENV_STATE_DIR/$ITM_NS/secrets")
like "$tok" '^[A-Za-z0-9]{32}$' "the secret is generated"
is "$(engine_get "/containers/$ITM_NS-talker-1/json" | jq -r --arg t "TOKEN=$tok" '.Config.Env | index($t) != null')" \
  true "... and the container has it"

# the long line has been logged (it arrives split: the engine cuts at 16 KiB)
i=0
until "$ITM_ENV" logs -p "$ITM_NS" talker 2>/dev/null | grep -q 'tick'; do
  i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.2
done

run "$ITM_ENV" logs -p "$ITM_NS" --no-color talker
is "$rc" 0 "logs"
unlike "$out" "$tok" "logs: the secret is not shown"
like "$out" 'token is \*{8}$' "logs: it is masked on stdout's lines"
like "$out" 'stderr token \*{8}$' "... and stderr's"
like "$out" 'x{100}\*{8} end' "... and at the end of a line split across two frames"
like "$out" 'tick \*{8}' "... every time"

run timeout 5 "$ITM_ENV" logs -f -p "$ITM_NS" --no-color --no-log-prefix talker
ok "logs -f ran until stopped" test "$rc" = 124 -o "$rc" = 130
unlike "$out" "$tok" "logs -f: the secret is not shown"
like "$out" 'x{100}\*{8} end' "logs -f: masked across frames"
like "$out" 'tick \*{8}' "logs -f: masked in new output"

f="$tmp/up-logs/talker.log"
ok "up --logs-dir wrote the talker's logs" test -s "$f"
ok "up --logs-dir: the secret is not in the file" sh -c "! grep -q '$tok' '$f'"
ok "up --logs-dir: it is masked" grep -q 'token is \*\*\*\*\*\*\*\*' "$f"

# the data check: its query (naming the secret) is not on any command line
CHECK_SLEEP=6 "$ITM_ENV" -f "$S" verify --data >"$tmp/verify.out" 2>&1 &
vpid=$!
args=; host=
i=0
while [ $i -lt 100 ] && [ -z "$args" ]; do
  for id in $(engine_get "/containers/$ITM_NS-db-1/json" | jq -r '.ExecIDs // [] | .[]'); do
    engine_get "/exec/$id/json" | jq -e '.Running' >/dev/null 2>&1 || continue
    a=$(engine_get "/exec/$id/json" | jq -c '.ProcessConfig')
    case $a in *psql*) args=$a; host=$(ps -eo args) ;; esac
  done
  i=$((i + 1)); [ -n "$args" ] || sleep 0.1
done
vrc=0; wait "$vpid" || vrc=$?
is "$vrc" 0 "verify --data passes (the query ran)"
ok "the check's exec was seen running" test -n "$args"
unlike "$args" "$tok" "the query is not in the exec's arguments"
unlike "$host" "$tok" "nor in the host's process table"
unlike "$(cat "$tmp/verify.out")" "$tok" "verify prints it masked"

run "$ITM_ENV" down --logs-dir "$tmp/down-logs"
is "$rc" 0 "down"
f="$tmp/down-logs/talker.log"
ok "down --logs-dir wrote the talker's logs" test -s "$f"
ok "down --logs-dir: the secret is not in the file" sh -c "! grep -q '$tok' '$f'"
ok "down --logs-dir: masked across frames" grep -Eq 'x{100}\*{8} end' "$f"
done_testing
