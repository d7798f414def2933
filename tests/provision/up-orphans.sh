#!/bin/sh
# up-orphans.sh - containers of services the stack no longer has (removed
# or renamed) are orphans: up warns and names them, as Compose does, and
# `up --remove-orphans` removes them; a service only a profile leaves out is
# no orphan; down accepts Compose's --remove-orphans and --volumes.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
svc () { printf '  %s:\n    image: itm-fixture/busybox:latest\n    command: ["sleep", "3600"]\n' "$1"; }
{ echo "services:"; svc a; svc b; svc c; echo '    profiles: [extra]'; } >"$tmp/v1.yml"
{ echo "services:"; svc a; svc c; echo '    profiles: [extra]'; } >"$tmp/v2.yml"
names () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq -r '[.[].Names[0] | ltrimstr("/")] | sort | join(" ")'; }

run "$ITM_ENV" -f "$tmp/v1.yml" --profile extra up
is "$rc" 0 "up with the profile: a, b, c"
is "$(names)" "$ITM_NS-a-1 $ITM_NS-b-1 $ITM_NS-c-1" "three containers"

run "$ITM_ENV" -f "$tmp/v2.yml" up
is "$rc" 0 "up of the stack without b succeeds"
like "$err" "warning: orphan container in namespace $ITM_NS: $ITM_NS-b-1 \\(its service is no longer in the stack\\); 'up --remove-orphans' removes it" \
  "b's container is named as an orphan"
unlike "$err" "orphan.*$ITM_NS-c-1" "c, left out by a profile only, is no orphan"
is "$(names)" "$ITM_NS-a-1 $ITM_NS-b-1 $ITM_NS-c-1" "without --remove-orphans nothing is removed"

run "$ITM_ENV" -f "$tmp/v2.yml" up --remove-orphans
is "$rc" 0 "up --remove-orphans succeeds"
like "$err" "removing orphan container $ITM_NS-b-1" "says what it removes"
is "$(names)" "$ITM_NS-a-1 $ITM_NS-c-1" "b is gone; c stays"

run "$ITM_ENV" -f "$tmp/v2.yml" up
unlike "$err" "orphan container" "no orphan left, no warning"

run "$ITM_ENV" down --remove-orphans --volumes
is "$rc" 0 "down accepts Compose's --remove-orphans and --volumes"
is "$(names)" "" "and removes everything (the profile-disabled c too)"
run "$ITM_ENV" down --volumes --keep-volumes
is "$rc" 2 "--volumes with --keep-volumes: usage error"
done_testing
