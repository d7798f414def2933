#!/bin/sh
# in-container.sh - itm-env in a CI job container (issue 12, items 1-3):
# the Debian fixture with the itm-env binary under test and its libraries
# (tests/fixtures/job-image.sh), the engine's socket mounted and the
# repository mounted at another path (/__w/app/app, as GitHub Actions
# does).  `run` joins the namespace's networks and exports the services'
# names and container ports: psql and redis-cli reach them with only those
# variables; bind sources are translated to the host's paths (the seed
# directory arrives with its files, nothing is made on the host outside
# the mounts); down leaves the networks first and the verifier does not
# take the job container for a stray.  Bad input: a bind source outside
# every mount (exit 3, nothing created), --connect never (the host's
# address, a note).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd docker jq
need_fixtures busybox debian-data postgres redis
image=$("$ITM_SRCDIR/tests/fixtures/job-image.sh" "$ITM_ENV") || bail "the job image failed to build"
diag "job image $image"

job=$ITM_NS-job
at_exit "docker rm -f $job >/dev/null 2>&1 || true"
# job NAME CMD...: run CMD in a fresh job container (removed after); sets
# rc, out, err like run
job () {
  _n=$1; shift
  run timeout 300 docker run --rm --name "$job-$_n" \
    -v "$ITM_SOCK:/var/run/docker.sock" -v "$ITM_SRCDIR:/__w/app/app" \
    -w /__w/app/app/tests/fixtures/ci-job -e ITM_ENV_NAMESPACE="$ITM_NS" \
    -e ITM_ENV_HOST_OVERRIDE= -e ITM_ENV_CONNECT= -e NO_COLOR=1 \
    "$image" "$@"
}
[ ! -e /__w ] || bail "/__w exists on the host: the host-path check below would mean nothing"

# ---- 1. doctor says where it runs ----
job doctor itm-env doctor --json
is "$rc" 0 "doctor in the job container passes"
is "$(printf '%s' "$out" | jq -r '.container | "\(.in_container) \(.on_engine) \(.id | length)"')" \
  "true true 64" "doctor --json: in a container on this engine, its id found"
like "$(printf '%s' "$out" | jq -r '.checks[] | select(.name == "container") | .detail')" \
  '^in container .* on this engine: up joins' "doctor: the container check says so"

# ---- 2. and 3. run reaches the services by name, binds arrive ----
job run itm-env run -p "$ITM_NS" -- sh -c '
  set -e
  psql "postgresql://app:app@$DB_HOST:$DB_PORT/app" -tAc "select x from seeded"
  redis-cli -h "$CACHE_HOST" -p "$CACHE_PORT" ping
  echo "vars $DB_HOST:$DB_PORT $CACHE_HOST:$CACHE_PORT $DB_URL"
  itm-env env --format dotenv | grep -x DB_HOST=db
  itm-env exec cache ls /seed'
is "$rc" 0 "run in the job container passes"
[ "$rc" = 0 ] || diag "$err"
like "$out" '^from-the-seed-dir$' "psql reached db with DB_HOST and DB_PORT; the bind-mounted seed directory arrived"
like "$out" '^PONG$' "redis-cli reached cache with CACHE_HOST and CACHE_PORT"
like "$out" '^vars db:5432 cache:6379 postgresql://app:app@db:5432/app$' \
  "the variables name the services and their container ports (x-itm.exports too)"
like "$out" '^DB_HOST=db$' "env in the job container prints the service names"
like "$out" '^01-seeded\.sql$' "a long-syntax bind arrives with its files"
like "$err" 'joined' "run says it joined the namespace's networks"
like "$err" "verified namespace $ITM_NS: .*nothing is left" "the verifier finds nothing left (the job container is no stray)"
unlike "$err" 'disconnected container|stray|leak' "down left the networks first: no stray, nothing forced"
ok "nothing made on the host at the job container's path (/__w)" test ! -e /__w

# ---- bad input: a bind source outside every mount ----
job outside sh -c 'mkdir -p /tmp/itm-outside && echo x >/tmp/itm-outside/f &&
  OUTSIDE=/tmp/itm-outside itm-env -f outside.yml up'
is "$rc" 3 "a bind source outside every mount: exit 3"
like "$err" 'bind mount source /tmp/itm-outside is outside every mount' "... the message names the path"
like "$err" 'mount /tmp/itm-outside' "... and the fix"
ok "... nothing made on the host" test ! -e /tmp/itm-outside
is "$(engine_get "/networks?filters=$(ns_filter)" | jq length)" 0 "... no network created"

# ---- bad input: --connect never in a container ----
job never itm-env --connect never run -p "$ITM_NS" -- sh -c 'echo "vars $DB_HOST:$DB_PORT"'
is "$rc" 0 "--connect never: run passes (its command only prints)"
like "$out" '^vars 127\.0\.0\.1:[0-9]+$' "--connect never: the host's published address"
unlike "$out" 'vars db:' "... not the service name"
like "$err" 'is never: the variables name the published ports' "... with a note saying why"
unlike "$err" 'joined' "... and no network joined"

# the override: no join, its address
job override sh -c 'ITM_ENV_HOST_OVERRIDE=host.docker.internal itm-env run -p $ITM_ENV_NAMESPACE -- sh -c "echo vars \$DB_HOST:\$DB_PORT"'
is "$rc" 0 "ITM_ENV_HOST_OVERRIDE: run passes"
like "$out" '^vars host\.docker\.internal:[0-9]+$' "ITM_ENV_HOST_OVERRIDE: its address, the published port"
unlike "$out" 'vars host\.docker\.internal:5432$' "... the published port, not the container's"

# --connect always where itm-env is not in a container on its engine (the
# test bed's host): an error before anything is created
run "$ITM_ENV" --connect always -f "$ITM_SRCDIR/tests/fixtures/ci-job/compose.yaml" up
is "$rc" 2 "--connect always outside a container on the engine: exit 2"
like "$err" '^itm-env: --connect always: ' "... saying why"
is "$(engine_get "/networks?filters=$(ns_filter)" | jq length)" 0 "... no network created"

done_testing
