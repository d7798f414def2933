#!/bin/sh
# json-shapes.sh - every --json output against itm-env(1)'s JSON OUTPUT
# section: the required keys and their types, the optional ones' types,
# durations rounded to milliseconds, the image events' time and service
# array, down's counts object, the error object with the stack's
# diagnostics, and usage errors in JSON when --json was given.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox redis
at_exit "'$ITM_ENV' down -p '$ITM_NS' --rmi local >/dev/null 2>&1"

mkdir -p "$tmp/ctx"
printf 'SET greeting hello\n' >"$tmp/keys.redis"
printf 'FROM itm-fixture/busybox:latest\nRUN echo built >/built\n' >"$tmp/ctx/Dockerfile"
cat >"$tmp/stack.yml" <<'EOF'
services:
  cache:
    image: itm-fixture/redis:7
    ports: ["6379"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
    x-itm:
      data: redis
      seed:
        - redis: keys.redis
  api:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    ports: ["8080"]
  migrate:
    image: itm-fixture/busybox:latest
    command: ["true"]
  web:
    build: ctx
    command: ["sleep", "3600"]
EOF
S=$tmp/stack.yml

# jq helpers: the types the man page names
J='def t(k): .[k] | type;
def str(k): has(k) and t(k) == "string";
def num(k): has(k) and t(k) == "number";
def bool(k): has(k) and t(k) == "boolean";
def arr(k): has(k) and t(k) == "array";
def obj(k): has(k) and t(k) == "object";
def strnull(k): has(k) and (t(k) == "string" or t(k) == "null");
def numnull(k): has(k) and (t(k) == "number" or t(k) == "null");
def opt(k; ty): (has(k) | not) or t(k) == ty;
def only(ks): (keys - ks) == [];
def image_ev: str("time") and str("event") and arr("service")
  and (.service | length > 0 and all(type == "string")) and str("image") and num("elapsed")
  and opt("current"; "number") and opt("total"; "number") and opt("detail"; "string")
  and only(["time","event","service","image","elapsed","current","total","detail"]);
def note_ev: (.event == "note" or .event == "warning") and str("detail") and only(["event","detail"]);
def svc_ev: str("time") and str("event") and opt("service"; "string")
  and opt("elapsed"; "number") and opt("detail"; "string") and opt("counts"; "object")
  and only(["time","service","event","elapsed","detail","counts"]);
def res: str("kind") and str("id") and str("name");
def verified: str("namespace") and bool("clean") and obj("checked")
  and (.checked | bool("labelled") and bool("attached") and bool("snapshot") and bool("data")
       and strnull("images"))
  and all(.created[], .removed[], .left[], .suspects[]; res)
  and num("forced") and num("duration_ms") and opt("snapshot_time"; "string");
def event: if .event == "verified" then verified
  elif has("image") then image_ev
  elif .event == "note" or .event == "warning" then note_ev
  else svc_ev end;
def error_obj: keys == ["error"] and (.error | num("code") and str("message")
  and opt("http_status"; "number") and opt("engine_message"; "string") and opt("hint"; "string")
  and opt("diagnostics"; "array"));'

# jq_ok DESC FILTER JSON: FILTER (with the helpers) holds for JSON (not empty)
jq_ok () {
  if [ -n "$3" ] && printf '%s\n' "$3" | jq -e "$J $2" >/dev/null 2>"$tmp/jq.err"; then
    pass "$1"
  else
    fail "$1"; diag "filter: $2" "json: $(printf '%s' "$3" | head -c 2000)" "$(cat "$tmp/jq.err")"
  fi
}
# events DESC OUT: every line is JSON, every one an event of a documented
# shape, and no duration has more than 3 decimals
events () {
  jq_ok "$1: every stdout line is a JSON object" '[inputs] | length >= 0' "$2"
  bad=$(printf '%s\n' "$2" | jq -c "$J select(event | not)" 2>&1 | head -3)
  is "$bad" "" "$1: every line has a documented shape"
  unlike "$2" '"(elapsed|duration_s)":-?[0-9]+\.[0-9]{4,}' "$1: durations rounded to milliseconds"
}

# ---- build, up, wait, seed: event lines
run "$ITM_ENV" -f "$S" build --json web
is "$rc" 0 "build --json"
events "build --json" "$out"
jq_ok "build --json: image events carry time and a service array" \
  '[inputs] + [.] | map(select(has("image"))) | length > 0 and all(.service == ["web"] and str("time"))' \
  "$out"

run "$ITM_ENV" -f "$S" up --json
is "$rc" 0 "up --json"
events "up --json" "$out"
jq_ok "up --json: one image event names both services of an image, as an array" \
  '[inputs] + [.] | any(has("image") and .service == ["api","migrate"])' "$out"
jq_ok "up --json: a service event has time, service, event, elapsed" \
  '[inputs] + [.] | any(.event == "ready" and .service == "api" and num("elapsed") and str("time"))' \
  "$out"

run "$ITM_ENV" -f "$S" wait --json
is "$rc" 0 "wait --json"
events "wait --json" "$out"

run "$ITM_ENV" -f "$S" seed --json cache
is "$rc" 0 "seed --json"
events "seed --json" "$out"

# ---- pull: image events (the registry may be out of reach: then an error object last)
run "$ITM_ENV" -f "$S" pull --json api
if [ "$rc" = 0 ]; then
  events "pull --json" "$out"
else
  events "pull --json" "$(printf '%s\n' "$out" | sed '$d')"
  jq_ok "pull --json: a failure ends with the error object" error_obj "$(printf '%s\n' "$out" | tail -n 1)"
fi

# ---- listings
run "$ITM_ENV" -f "$S" ps --json
is "$rc" 0 "ps --json"
jq_ok "ps --json: an array of the documented objects" \
  'type == "array" and length == 4 and all(.[]; str("service") and num("number") and str("container")
   and str("id") and str("image") and str("state") and strnull("health") and numnull("exit_code")
   and strnull("started_at") and arr("networks") and str("config_hash")
   and all(.ports[]; num("container_port") and str("protocol") and str("host_ip") and num("host_port")))' \
  "$out"

run "$ITM_ENV" -f "$S" port api 8080
like "$out" '^127\.0\.0\.1:[0-9]+$' "port: HOST:PORT as text"

for a in "--format json" --json; do
  # shellcheck disable=SC2086
  run "$ITM_ENV" -f "$S" env $a
  jq_ok "env $a: one object of strings" \
    'type == "object" and all(.[]; type == "string") and str("API_HOST") and str("API_PORT")' "$out"
done

run "$ITM_ENV" -f "$S" ns create w1 --json
is "$rc" 0 "ns create --json"
jq_ok "ns create --json: one object of strings" \
  'type == "object" and all(.[]; type == "string") and .ITM_DATA_NS == "w1" and str("CACHE_HOST")' \
  "$out"
run "$ITM_ENV" -f "$S" ns list --json
jq_ok "ns list --json: an array of {name, created, services[]}" \
  'type == "array" and length == 1 and all(.[]; str("name") and str("created")
   and all(.services[]; str("service") and str("kind") and num("index")))' "$out"
"$ITM_ENV" -f "$S" ns drop w1 >/dev/null 2>&1

run "$ITM_ENV" -f "$S" verify --json
jq_ok "verify --json: the documented object" \
  'verified and all(.left[], .suspects[]; str("reason") and bool("removed"))' "$out"

run "$ITM_ENV" version --json
jq_ok "version --json: client, engine, negotiated_api_version" \
  '(.client | str("version") and str("api_min") and str("api_max") and str("os") and str("arch"))
   and (.engine | str("endpoint") and strnull("version") and strnull("api_version")
        and has("min_api_version") and has("os") and has("arch") and has("kernel_version"))
   and strnull("negotiated_api_version")' "$out"

run "$ITM_ENV" doctor --json
jq_ok "doctor --json: {ok, checks[]}" \
  'bool("ok") and arr("checks") and all(.checks[]; str("name") and bool("ok") and bool("skipped")
   and strnull("detail") and strnull("hint"))' "$out"

run "$ITM_ENV" -f "$S" config --format json
jq_ok "config --format json: the normalized stack (itm-env-stack(5))" \
  'obj("services") and (.services | has("api") and has("cache"))' "$out"

run "$ITM_ENV" gc --json --dry-run -p "$ITM_NS"
jq_ok "gc --json: {dry_run, removed[], kept[]}" \
  'bool("dry_run") and .dry_run and arr("removed") and arr("kept")
   and all(.removed[]; str("namespace") and str("reason") and num("containers") and num("networks")
           and num("volumes") and bool("removed"))
   and all(.kept[]; str("namespace") and str("reason"))' "$out"

# ---- down: the counts as an object, then the verified line
run "$ITM_ENV" -f "$S" down --json --rmi local
is "$rc" 0 "down --json"
events "down --json" "$out"
jq_ok "down --json: removed's counts are numbers in an object" \
  '[inputs] + [.] | any(.event == "removed" and (.counts | .containers == 4 and .networks == 1
   and .volumes == 0 and (.images | type) == "number") and str("detail"))' "$out"
jq_ok "down --json: the verified line" '[inputs] + [.] | any(.event == "verified" and verified)' "$out"

# ---- errors
run "$ITM_ENV" up --json -f "$tmp/missing.yml"
is "$rc" 3 "up --json -f missing.yml: exit 3"
jq_ok "the error object has every diagnostic" \
  'error_obj and .error.code == 3 and (.error.diagnostics | length >= 1
   and all(.[]; strnull("file") and numnull("line") and numnull("col")
          and (.severity | IN("error","warning","note")) and str("message"))
   and any(.[]; .file == "'"$tmp/missing.yml"'" and .severity == "error"))' \
  "$(printf '%s\n' "$out" | tail -n 1)"
printf 'services:\n  a:\n    image: 3\n    bogus_key: 1\n' >"$tmp/bad.yml"
run "$ITM_ENV" up --json -f "$tmp/bad.yml"
is "$rc" 3 "up --json on an invalid stack: exit 3"
jq_ok "each diagnostic with its file, line and column" \
  'error_obj and (.error.diagnostics | length >= 1
   and all(.[]; .file == "'"$tmp/bad.yml"'" and num("line") and num("col")))' \
  "$(printf '%s\n' "$out" | tail -n 1)"
for args in "ns list --json --bogus" "ns --bogus list --json" "ps --json --bogus"; do
  # shellcheck disable=SC2086
  run "$ITM_ENV" $args
  is "$rc" 2 "$args: usage error"
  jq_ok "$args: the JSON error object" 'error_obj and .error.code == 2' "$out"
done
run "$ITM_ENV" ns list --bogus
is "$out" "" "without --json a usage error prints no JSON"

done_testing
