#!/bin/sh
# in-container.sh - x-itm.checks when itm-env runs in a CI job container
# (tests/fixtures/job-image.sh) joined to the namespace's networks: an http
# check reaches its service by name and container port (the port is
# published on the host's 127.0.0.1, which the job container's loopback is
# not), through `run --check` and `check --json` in the job container;
# with --connect never (the published address) the same check fails.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd docker jq
need_fixtures busybox debian-data
image=$("$ITM_SRCDIR/tests/fixtures/job-image.sh" "$ITM_ENV") || bail "the job image failed to build"
diag "job image $image"

job=$ITM_NS-job
at_exit "docker rm -f $job >/dev/null 2>&1 || true; '$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
mkdir -p "$tmp/job"
cat >"$tmp/job/stack.yml" <<'YML'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo '{\"ok\": true, \"name\": \"web\"}' > /www/health.json && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1::8080"]
    x-itm:
      checks:
        - name: health
          http: {path: /health.json, port: 8080}
          expect: {status: 200, body: {/name: {equals: web}}}
  api:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo '{\"name\": \"api\"}' > /www/v.json && exec httpd -f -p 9000 -h /www"]
    expose: ["9000"]
    x-itm:
      checks:
        - name: exposed only
          http: {path: /v.json}
          expect: {status: 200, body: {/name: {equals: api}}}
YML
chmod -R a+rX "$tmp/job"
run timeout 300 docker run --rm --name "$job" \
  -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp/job:/job:ro" -w /job \
  -e ITM_ENV_HOST_OVERRIDE= -e ITM_ENV_CONNECT= -e NO_COLOR=1 \
  "$image" itm-env -f /job/stack.yml run -p "$ITM_NS" --check -- itm-env check --json
is "$rc" 0 "run --check in the job container passes"
[ "$rc" = 0 ] || diag "$err"
like "$err" 'joined' "run joined the namespace's networks"
is "$(printf '%s' "$out" | jq -r '[.checks[] | .service + "=" + (.ok|tostring)] | sort | join(",")')" \
  "api=true,web=true" "check --json in the job container: the http checks pass, on a published port and on a port only exposed"
like "$err" "verified namespace $ITM_NS: .*nothing is left" "the verifier finds nothing left"

# the contrast: --connect never takes the host's published address, which
# the job container's loopback does not answer: the same check fails
run timeout 300 docker run --rm --name "$job" \
  -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp/job:/job:ro" -w /job \
  -e ITM_ENV_HOST_OVERRIDE= -e ITM_ENV_CONNECT= -e NO_COLOR=1 \
  "$image" itm-env --connect never -f /job/stack.yml run -p "$ITM_NS" --check -- true
is "$rc" 11 "--connect never: the check fails (exit 11): it was the name that reached web"
like "$out$err" 'FAILED web: health' "... the check named"

# on the host (not joined), a port that is only exposed cannot be reached:
# the check says so (exit 11), it is not a stack error
at_exit "'$ITM_ENV' down -p '$ITM_NS-h' >/dev/null 2>&1"
run "$ITM_ENV" -f "$tmp/job/stack.yml" -p "$ITM_NS-h" up -q
is "$rc" 0 "up on the host with an exposed-only check: loads and starts"
run "$ITM_ENV" -p "$ITM_NS-h" check api
is "$rc" 11 "check api on the host: exit 11"
like "$out$err" "not published" "... the port is not published"
like "$out$err" "--connect" "... and how to reach it"
run "$ITM_ENV" -p "$ITM_NS-h" down -q
is "$rc" 0 "down"
done_testing
