#!/bin/sh
# reaper.sh - crash safety that outlives a job container (verify/reaper.c).
# itm-env runs `run` inside a job container (from its own self image, with
# the engine's socket and a static busybox mounted); it starts a reaper
# container itm-env-reaper-NS on the engine.  `docker kill` of the job
# container during the command: the reaper removes the namespace within
# 30 s (the time is reported) and then goes itself.  A run that ends
# normally removes its reaper; ITM_ENV_REAPER=never starts none.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_fixtures busybox
need_cmd docker jq

run "$ITM_ENV" build --self
is "$rc" 0 "the self image"
img=$out
reaper=itm-env-reaper-$ITM_NS
at_exit "docker rm -f '$ITM_NS-job' '$ITM_NS-job2' '$ITM_NS-job3' '$reaper' >/dev/null 2>&1"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

cat >"$tmp/stack.yml" <<'EOF2'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
EOF2
# job NAME [ENV...] -- CMD...: a job container running itm-env run -- CMD
job () {
  _name=$1; shift
  _envs=
  while [ "$1" != -- ]; do _envs="$_envs -e $1"; shift; done
  shift
  # shellcheck disable=SC2086
  docker run -d --name "$_name" -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp:$tmp" -w "$tmp" \
    -v /bin/busybox:/bin/busybox:ro -e ITM_ENV_NAMESPACE="$ITM_NS" $_envs \
    "$img" -f "$tmp/stack.yml" -p "$ITM_NS" run -- "$@"
}
ns_count () {
  c=$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)
  n=$(engine_get "/networks?filters=$(ns_filter)" | jq length)
  echo $((c + n))
}
web_running () { [ "$(engine_get "/containers/json?filters=$(ns_filter)" | jq length)" = 1 ]; }
reaper_running () { [ "$(engine_get "/containers/$reaper/json" | jq -r .State.Running)" = true ]; }
reaper_gone () { ! engine_get "/containers/$reaper/json" >/dev/null 2>&1; }
ns_gone () { [ "$(ns_count)" = 0 ]; }

# ---- kill the job container during run ----
job "$ITM_NS-job" -- /bin/busybox sleep 600 >/dev/null
ok "the job's stack is up" wait_for 90 web_running
ok "a reaper container watches the job container" wait_for 30 reaper_running
is "$(engine_get "/containers/$reaper/json" | jq -r '.Config.Labels["io.itm-env.reaper"]')" "$ITM_NS" \
  "... labelled io.itm-env.reaper=NS (not part of the namespace)"
like "$(engine_get "/containers/$reaper/json" | jq -r '.Config.Cmd | join(" ")')" \
  "gc --reaper $ITM_NS --reaper-watch $(docker inspect -f '{{.Id}}' "$ITM_NS-job")" \
  "... of the job container"
t0=$(date +%s%N)
docker kill "$ITM_NS-job" >/dev/null
if wait_for 30 ns_gone; then
  t1=$(date +%s%N)
  pass "docker kill of the job container: the namespace is gone within 30 s"
  diag "namespace removed $(( (t1 - t0) / 1000000 )) ms after the kill"
else
  fail "docker kill of the job container: the namespace is gone within 30 s"
  docker logs "$reaper" 2>&1 | sed 's/^/# reaper: /' || true
fi
ok "... and the reaper is gone too" wait_for 30 reaper_gone
docker rm -f "$ITM_NS-job" >/dev/null 2>&1 || true

# ---- a run that ends: its reaper goes with it ----
job "$ITM_NS-job2" -- /bin/busybox true >/dev/null
code=$(timeout 120 docker wait "$ITM_NS-job2" || echo timeout)
is "$code" 0 "a job's run that ends normally exits 0"
like "$(docker logs "$ITM_NS-job2" 2>&1)" "reaper container $reaper watches container" "... it had a reaper"
ok "... which it removed" reaper_gone
is "$(ns_count)" 0 "... and the namespace is gone"

# ---- ITM_ENV_REAPER=never ----
job "$ITM_NS-job3" ITM_ENV_REAPER=never -- /bin/busybox true >/dev/null
code=$(timeout 120 docker wait "$ITM_NS-job3" || echo timeout)
is "$code" 0 "ITM_ENV_REAPER=never: the run passes"
unlike "$(docker logs "$ITM_NS-job3" 2>&1)" "reaper container" "... without a reaper"
done_testing
