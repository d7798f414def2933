#!/bin/sh
# gc.sh - gc removes a namespace whose expiry passed or whose owner process
# is gone (same host; a pid reused by a younger process counts as gone),
# keeps a live one, one handed over by up, one from another host, and never
# touches resources without our label.  Every gc here is limited to this
# test's namespaces (-p), or a --dry-run: other tests share the engine.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
bb=itm-fixture/busybox:latest
host=$(cat /proc/sys/kernel/hostname)
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sleep", "3600"]
EOF2
cd "$tmp"
labelled () {
  _n=0
  for _q in "/containers/json?all=1&filters=$(ns_filter "$1")" "/networks?filters=$(ns_filter "$1")"; do
    _n=$((_n + $(engine_get "$_q" | jq length)))
  done
  echo $((_n + $(engine_get "/volumes?filters=$(ns_filter "$1")" | jq '.Volumes // [] | length')))
}
rfc3339 () { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# mkvol NS CREATOR-HOST CREATOR-PID CREATED EXPIRES: a namespace made by hand
mkvol () {
  at_exit "engine_req DELETE '/volumes/$1_v?force=1' >/dev/null 2>&1"
  engine_req POST /volumes/create -H 'Content-Type: application/json' -d "{\"Name\":\"$1_v\",\"Labels\":{
    \"io.itm-env.namespace\":\"$1\",\"io.itm-env.creator-host\":\"$2\",\"io.itm-env.creator-pid\":\"$3\",
    \"io.itm-env.created\":\"$4\",\"io.itm-env.expires\":\"$5\"}}" >/dev/null
}
now=$(date +%s)
sh -c 'exit 0' & dead=$!; wait $dead || true
mkvol "$ITM_NS-dead" "$host" "$dead" "$(rfc3339 "$now")" "$(rfc3339 $((now + 86400)))"
mkvol "$ITM_NS-reused" "$host" "$$" "2001-01-01T00:00:00Z" "$(rfc3339 $((now + 86400)))"
mkvol "$ITM_NS-alive" "$host" "$$" "$(rfc3339 $((now + 5)))" "$(rfc3339 $((now + 86400)))"
mkvol "$ITM_NS-remote" "elsewhere.invalid" "$dead" "$(rfc3339 "$now")" "$(rfc3339 $((now + 86400)))"
at_exit "engine_req DELETE '/volumes/$ITM_NS-nolabel?force=1' >/dev/null 2>&1"
engine_req POST /volumes/create -H 'Content-Type: application/json' -d "{\"Name\":\"$ITM_NS-nolabel\"}" >/dev/null
for s in exp live; do at_exit "'$ITM_ENV' down -p '$ITM_NS-$s' >/dev/null 2>&1"; done

run "$ITM_ENV" -f stack.yml -p "$ITM_NS-exp" up --ttl 1s --timeout 60
is "$rc" 0 "up with --ttl 1s"
run "$ITM_ENV" -f stack.yml -p "$ITM_NS-live" up --timeout 60
is "$rc" 0 "up with the default ttl (its owner, up, exits: the namespace is handed over)"
sleep 2

run "$ITM_ENV" gc --dry-run --json
is "$rc" 0 "gc --dry-run over the whole engine"
names=$(printf '%s' "$out" | jq -r '.removed[].namespace')
like "$names" "^$ITM_NS-exp\$" "dry run: the expired namespace would go"
like "$names" "^$ITM_NS-dead\$" "dry run: the one whose owner is gone would go"
unlike "$names" "^$ITM_NS-(live|alive|remote)\$" "dry run: not the live ones"
unlike "$out" "$ITM_NS-nolabel" "dry run: a volume without our label is not even looked at"
is "$(labelled "$ITM_NS-exp")" 2 "dry run removes nothing"

run "$ITM_ENV" gc -p "$ITM_NS-exp" --json
is "$rc" 0 "gc -p (expired)"
is "$(printf '%s' "$out" | jq -r '.removed[0].reason')" "expired at $(printf '%s' "$out" | jq -r '.removed[0].reason' | cut -d' ' -f3)" "reason: expired at T"
is "$(printf '%s' "$out" | jq -r '.removed[0].removed')" true "JSON: removed"
is "$(labelled "$ITM_NS-exp")" 0 "the expired namespace is gone"

run "$ITM_ENV" gc -p "$ITM_NS-dead"
is "$rc" 0 "gc -p (owner gone)"
like "$out" "^removed $ITM_NS-dead .*owner process $dead on $host is gone" "reason: owner process gone"
is "$(labelled "$ITM_NS-dead")" 0 "removed"

run "$ITM_ENV" gc -p "$ITM_NS-reused"
like "$out" "^removed $ITM_NS-reused .*started after the namespace was created" \
  "a pid reused by a younger process: the owner is gone"
is "$(labelled "$ITM_NS-reused")" 0 "removed"

for s in live alive remote; do
  run "$ITM_ENV" gc -p "$ITM_NS-$s" --json
  is "$(printf '%s' "$out" | jq -r '.kept[0].namespace')" "$ITM_NS-$s" "gc keeps $s"
  is "$(labelled "$ITM_NS-$s")" "$( [ $s = live ] && echo 2 || echo 1)" "$s is untouched"
done

run "$ITM_ENV" gc --older-than 1h -p "$ITM_NS-remote"
is "$rc" 0 "--older-than"
ok "the unlabelled volume is still there" engine_get "/volumes/$ITM_NS-nolabel"
run "$ITM_ENV" down -p "$ITM_NS-live"
is "$rc" 0 "down the live one"
done_testing
