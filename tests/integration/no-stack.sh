#!/bin/sh
# no-stack.sh - no stack file in the directory (or above) and no -f: one
# message, saying what was looked for and that -f names one, exit 3; not
# "the stack is invalid".
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd jq

mkdir -p "$tmp/empty"
want="itm-env: no stack file found in $tmp/empty or its parent directories (looked for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml); use -f FILE"
d=$tmp
while :; do
  for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do
    [ ! -e "$d/$f" ] || skip_all "$d/$f is above the test's directory"
  done
  [ "$d" != / ] || break
  d=$(dirname "$d")
done

run sh -c "cd '$tmp/empty' && exec '$ITM_ENV' config"
is "$rc" 3 "config without a stack file: exit 3"
is "$err" "$want" "config without a stack file: one message naming what was looked for and -f"
is "$out" "" "config without a stack file: nothing on stdout"

run sh -c "cd '$tmp/empty' && exec '$ITM_ENV' config -q"
is "$rc:$err" "3:$want" "config -q: the same one message"

run sh -c "cd '$tmp/empty' && exec '$ITM_ENV' --project-directory '$tmp/empty' config"
is "$rc" 3 "--project-directory without a stack file: exit 3"
is "$err" "itm-env: no stack file found in $tmp/empty (looked for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml); use -f FILE" \
  "--project-directory: the one message names that directory alone"

# a namespace command without -p: the message, then the hint for -p
run sh -c "cd '$tmp/empty' && unset ITM_ENV_NAMESPACE && exec '$ITM_ENV' ps"
is "$rc" 3 "ps without a stack file or -p: exit 3"
is "$(printf '%s\n' "$err" | head -1)" "$want" "ps: the same message first"
like "$err" '^itm-env: hint: give the namespace with -p NS' "ps: a hint for -p"
unlike "$err" 'invalid' "ps: the stack is not called invalid"
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 2 "ps: two lines, the message and the hint"

# --json: the error object says it
run sh -c "cd '$tmp/empty' && unset ITM_ENV_NAMESPACE && exec '$ITM_ENV' up --json"
is "$rc" 3 "up --json without a stack file: exit 3"
like "$(printf '%s\n' "$out" | tail -1 | jq -r '.. | strings' 2>/dev/null | tr '\n' ' ')" \
  'no stack file found in .*use -f FILE' "up --json: the error object names what was missing"

# an invalid stack is still called invalid
printf 'services:\n  a: {image: x, ports: [bad]}\n' >"$tmp/empty/compose.yaml"
run sh -c "cd '$tmp/empty' && exec '$ITM_ENV' config"
is "$rc" 3 "an invalid stack: exit 3"
like "$err" 'the stack is invalid: 1 error' "an invalid stack is still called invalid"

done_testing
