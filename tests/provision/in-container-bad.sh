#!/bin/sh
# in-container-bad.sh - issue 12's bad input for itm-env in a CI job
# container, each with a clear message, a documented exit code and nothing
# left behind:
#  - the socket path is not the engine's: a directory (what a bind mount of
#    a socket path the host lacks makes), a regular file, a socket where
#    something else answers HTTP;
#  - itm-env runs in a container that is not on the engine DOCKER_HOST
#    names: no join, a note, the published ports; --connect always refuses.
#    The container is given by ITM_ENV_SELF_PROC (another /proc/self whose
#    mountinfo names a container id): the engine is asked about that id for
#    real and does not know it, which is what a job container on another
#    engine looks like to it.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd docker jq python3
need_fixtures busybox debian-data
image=$("$ITM_SRCDIR/tests/fixtures/job-image.sh" "$ITM_ENV") || bail "the job image failed to build"

job=$ITM_NS-job
at_exit "docker rm -f $job-dir $job-file $job-http >/dev/null 2>&1 || true"
stack=$ITM_SRCDIR/tests/fixtures/ci-job/compose.yaml
# job NAME MOUNT CMD...: run CMD in a fresh job container with MOUNT at the
# engine socket's path
job () {
  _n=$1 _m=$2; shift 2
  run timeout 120 docker run --rm --name "$job-$_n" -v "$_m:/var/run/docker.sock" \
    -v "$ITM_SRCDIR:/__w/app/app" -w /__w/app/app/tests/fixtures/ci-job \
    -e ITM_ENV_NAMESPACE="$ITM_NS" -e NO_COLOR=1 "$image" "$@"
}
nothing_left () {
  is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "$1: no container created"
  is "$(engine_get "/networks?filters=$(ns_filter)" | jq length)" 0 "$1: no network created"
}

# ---- a directory at the socket's path ----
job dir "$tmp/no-such.sock" itm-env up
is "$rc" 4 "a directory mounted at the socket path: exit 4 (the engine cannot be reached)"
like "$err" '^itm-env: cannot reach the engine at unix:///var/run/docker.sock: /var/run/docker.sock is a directory, not a socket$' \
  "... the message says it is a directory"
like "$err" 'hint: in a container, mount the engine.s socket as it is on the host' "... the hint says how to mount it"
nothing_left "directory"
rmdir "$tmp/no-such.sock" 2>/dev/null || true

# ---- a regular file ----
: >"$tmp/file.sock"
job file "$tmp/file.sock" itm-env up
is "$rc" 4 "a regular file at the socket path: exit 4"
like "$err" '/var/run/docker.sock is a regular file, not a socket$' "... the message says so"
nothing_left "regular file"

# ---- a socket where something else answers ----
python3 - "$tmp/http.sock" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8); os.chmod(sys.argv[1], 0o666)
while True:
    c, _ = s.accept()
    c.recv(65536)
    body = b"<html>hello</html>"
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()
PY
srv=$!
at_exit "kill $srv 2>/dev/null || true"
wait_for 10 test -S "$tmp/http.sock" || bail "the HTTP socket did not come up"
job http "$tmp/http.sock" itm-env up
is "$rc" 5 "a socket that answers HTTP but is no engine: exit 5 (the engine answered garbage)"
like "$err" 'answered GET /version with JSON that does not parse' "... the message says what it answered"
like "$err" 'hint: is unix:///var/run/docker.sock really a Docker engine.s socket\?' "... and asks whether it is an engine"
nothing_left "HTTP socket"
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true

# ---- in a container that is not on this engine ----
fake=$tmp/proc
mkdir -p "$fake"
cid=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' \
  "1234 1200 254:1 /var/lib/docker/containers/$cid/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw" \
  "1235 1200 254:1 /var/lib/docker/containers/$cid/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw" >"$fake/mountinfo"
echo "0::/" >"$fake/cgroup"
export ITM_ENV_SELF_PROC=$fake
run "$ITM_ENV" doctor --json
is "$(printf '%s' "$out" | jq -r '.container | "\(.in_container) \(.on_engine) \(.id)"')" \
  "true false $cid" "doctor --json: in a container, not on this engine, the id from mountinfo"
like "$(printf '%s' "$out" | jq -r '.checks[] | select(.name == "container") | .detail')" \
  "not on this engine" "doctor: the container check says so"

run "$ITM_ENV" -f "$stack" run -- sh -c 'echo "vars $DB_HOST:$DB_PORT"'
is "$rc" 0 "run from a container on another engine passes (its command only prints)"
like "$out" '^vars 127\.0\.0\.1:[0-9]+$' "... the variables name the published ports"
like "$err" "itm-env runs in container $(printf %.12s "$cid"), but not on this engine \\(unix://" \
  "... a note says it is not on this engine"
like "$err" 'not joining the namespace.s networks' "... and that it does not join"
unlike "$err" 'joined' "... and nothing was joined"

run "$ITM_ENV" --connect always -f "$stack" up
is "$rc" 2 "--connect always from a container on another engine: exit 2"
like "$err" "^itm-env: --connect always: itm-env runs in container $(printf %.12s "$cid"), but not on this engine" "... saying why"
nothing_left "--connect always"
unset ITM_ENV_SELF_PROC

# ---- the same for real: a job container on this engine whose mounted
# socket is the other engine of the test bed (tests/engine2-up.sh) ----
engine2=/run/itm-env-test/engine2/docker.sock
if [ "$ITM_SOCK" = "$engine2" ]; then other=/var/run/docker.sock; else other=$engine2; fi
if [ -S "$other" ] && curl -sf --max-time 5 --unix-socket "$other" http://d/_ping >/dev/null \
   && [ "$(curl -s --unix-socket "$other" "http://d/images/itm-fixture%2Fbusybox:latest/json" | jq -r .Id)" != null ]; then
  cat >"$tmp/other.yml" <<'EOF2'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
    ports: ["127.0.0.1::80"]
EOF2
  at_exit "curl -s --unix-socket $other -X DELETE 'http://d/containers/$ITM_NS-other-web-1?force=1' >/dev/null 2>&1; curl -s --unix-socket $other -X DELETE http://d/networks/$ITM_NS-other_default >/dev/null 2>&1; true"
  run timeout 180 docker run --rm --name "$job-other" -v "$other:/var/run/docker.sock" \
    -v "$tmp/other.yml:/job/compose.yaml:ro" -w /job -e NO_COLOR=1 "$image" \
    itm-env -p "$ITM_NS-other" run -- sh -c 'echo "vars $WEB_HOST:$WEB_PORT"'
  is "$rc" 0 "a job container on one engine, the other engine's socket mounted: run passes"
  like "$out" '^vars 127\.0\.0\.1:[0-9]+$' "... the variables name the published port"
  like "$err" 'itm-env runs in container [0-9a-f]{12}, but not on this engine \(unix:///var/run/docker.sock\)' \
    "... a note says it is not on the engine it talks to"
  unlike "$err" 'joined' "... nothing joined"
  like "$err" "verified namespace $ITM_NS-other: .*nothing is left" "... and nothing is left on that engine"
  is "$(curl -s --unix-socket "$other" -G --data-urlencode "filters={\"label\":[\"io.itm-env.namespace=$ITM_NS-other\"]}" 'http://d/containers/json?all=1' | jq length)" \
    0 "... no container of it on the other engine"
else
  skip "a job container with the other engine's socket" "the test bed's other engine ($other) is not up with its fixtures (.ci/run's second pass runs it)"
fi

done_testing
