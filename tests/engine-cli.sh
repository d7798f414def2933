#!/bin/sh
# engine-cli.sh - `itm-env version` and `itm-env doctor` against the fake
# engine: exit codes and one-line messages for each way an engine can fail.
set -eu
: "${ITM_ENV:?}" "${ITM_BUILDDIR:?}" "${ITM_SRCDIR:?}"
FAKE=$ITM_BUILDDIR/tests/fake-engine
REC=$ITM_SRCDIR/tests/recorded/http
T=$(mktemp -d /tmp/itm-engine-cli.XXXXXX)
PIDS=""
cleanup () {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
unset DOCKER_HOST DOCKER_TLS_VERIFY ITM_ENV_REQUEST_TIMEOUT ITM_ENV_CONNECT_TIMEOUT || true

n=0 failed=0
ok () { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
diag () { sed 's/^/# /' "$@"; }

# fake NAME ARGS...: start a fake engine on $T/NAME.sock
fake () {
  name=$1; shift
  "$FAKE" --socket "$T/$name.sock" --dir "$REC" --lifetime 20 "$@" &
  PIDS="$PIDS $!"
  i=0; while [ ! -S "$T/$name.sock" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}

# run NAME ARGS...: itm-env ARGS, status in $rc, output in $T/out, $T/err
run () {
  set +e
  "$ITM_ENV" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
}
# the error line: exactly one line that is not a hint
one_line () {
  [ "$(grep -c -v '^itm-env: hint:' "$T/err")" -eq 1 ] && grep -q "$1" "$T/err"
}

fake a143 --api 1.43
run -H "unix://$T/a143.sock" version
ok $([ $rc -eq 0 ] && grep -q '^negotiated api: *1.43$' "$T/out" && grep -q '^engine api: *1.43$' "$T/out"; echo $?) "engine 1.43 -> 1.43"
fake a150 --api 1.50
run version -H "unix://$T/a150.sock" --json
ok $([ $rc -eq 0 ] && [ "$(jq -r .negotiated_api_version "$T/out")" = 1.45 ] \
     && [ "$(jq -r .engine.api_version "$T/out")" = 1.50 ] \
     && [ "$(jq -r .engine.version "$T/out")" = 20.10.24+dfsg1 ] \
     && [ "$(jq -r .client.api_max "$T/out")" = 1.45 ]; echo $?) "engine 1.50 -> 1.45 (-H after the command, --json)"
fake a140 --api 1.40
run -H "unix://$T/a140.sock" version
ok $([ $rc -eq 5 ] && one_line 'speaks API 1.40; itm-env needs API 1.41' && grep -q '^client version:' "$T/out"; echo $?) "engine 1.40 refused: exit 5, client part printed"
diag "$T/err"

# Engine 29 answers /_ping with API 1.52 and refuses clients below its
# MinAPIVersion 1.44: itm-env speaks 1.45 to it.  An engine whose minimum is
# above 1.45 is refused with both ranges named, exit 5.
mkdir -p "$T/e29" "$T/e99"
sed -e 's/"ApiVersion": "1.41"/"ApiVersion": "1.52"/g' -e 's/"MinAPIVersion": "1.12"/"MinAPIVersion": "1.44"/g' \
  -e 's/20.10.24+dfsg1/29.1.3/g' "$REC/version" >"$T/e29/version"
sed -e 's/"ApiVersion": "1.41"/"ApiVersion": "1.60"/g' -e 's/"MinAPIVersion": "1.12"/"MinAPIVersion": "1.47"/g' \
  "$REC/version" >"$T/e99/version"
"$FAKE" --socket "$T/e29.sock" --dir "$T/e29" --api 1.52 --lifetime 20 & PIDS="$PIDS $!"
"$FAKE" --socket "$T/e99.sock" --dir "$T/e99" --api 1.60 --lifetime 20 & PIDS="$PIDS $!"
i=0; while { [ ! -S "$T/e29.sock" ] || [ ! -S "$T/e99.sock" ]; } && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run -H "unix://$T/e29.sock" version
ok $([ $rc -eq 0 ] && grep -q '^negotiated api: *1.45$' "$T/out" && grep -q '^engine api: *1.52$' "$T/out"; echo $?) "Engine 29 (API 1.52, minimum 1.44) -> 1.45"
diag "$T/err"
run -H "unix://$T/e99.sock" version
ok $([ $rc -eq 5 ] && one_line "speaks API 1.47 to 1.60; itm-env speaks API 1.41 to 1.45" \
     && grep -q 'hint: use an itm-env that speaks API 1.47' "$T/err"; echo $?) "an engine whose minimum is above 1.45: exit 5 naming both ranges"
diag "$T/err"

fake garbage --mode garbage
run -H "unix://$T/garbage.sock" version
ok $([ $rc -eq 5 ] && one_line "answered something that is not HTTP"; echo $?) "garbage: exit 5, one line"
diag "$T/err"
fake close --mode close --fault version
run -H "unix://$T/close.sock" version
ok $([ $rc -eq 5 ] && one_line "closed the connection mid-response"; echo $?) "closed mid-response: exit 5, one line"
diag "$T/err"
fake chunked --mode chunked --slice 2 --fault version
run -H "unix://$T/chunked.sock" version
ok $([ $rc -eq 0 ] && grep -q '^engine version: *20.10.24+dfsg1$' "$T/out"; echo $?) "chunked /version in 2-byte chunks"
fake hang --mode hang
start=$(date +%s)
ITM_ENV_REQUEST_TIMEOUT=1 run -H "unix://$T/hang.sock" version
end=$(date +%s)
ok $([ $rc -eq 4 ] && one_line "did not answer GET /_ping within 1 s" && [ $((end - start)) -le 3 ]; echo $?) "hang: exit 4 within ITM_ENV_REQUEST_TIMEOUT=1"
diag "$T/err"
run -H "unix://$T/missing.sock" version
ok $([ $rc -eq 4 ] && one_line "unix://$T/missing.sock: no such socket" && grep -q 'hint: is the engine running' "$T/err"; echo $?) "missing socket: exit 4 naming the path"
diag "$T/err"
fake dead
kill -9 $! ; wait $! 2>/dev/null || true
run -H "unix://$T/dead.sock" version
ok $([ $rc -eq 4 ] && one_line "dead.sock: connection refused (nothing is listening)"; echo $?) "a socket with nothing listening: exit 4"
diag "$T/err"
DOCKER_HOST=npipe:////./pipe/docker_engine run version
ok $([ $rc -eq 2 ] && one_line "unsupported engine address scheme 'npipe://' in 'npipe:////./pipe/docker_engine' (from DOCKER_HOST)"; echo $?) "DOCKER_HOST=npipe://: exit 2 naming it"
DOCKER_HOST=ssh://me@host/path run version
ok $([ $rc -eq 2 ] && one_line "malformed engine address 'ssh://me@host/path' (from DOCKER_HOST)"; echo $?) "DOCKER_HOST=ssh:// with a path: exit 2"
run -H tcp://127.0.0.1:notaport version
ok $([ $rc -eq 2 ] && one_line "malformed engine address 'tcp://127.0.0.1:notaport' (from -H)"; echo $?) "malformed -H: exit 2"
run version --bogus
ok $([ $rc -eq 2 ] && one_line "version: unknown option '--bogus'"; echo $?) "unknown option: exit 2"

# doctor against the fake: vfs is a failing check, exit 1; no image skips
# the round trip (tests/integration/doctor-no-image.sh: alone, exit 0)
fake doc --fork
run -H "unix://$T/doc.sock" doctor
ok $([ $rc -eq 1 ] && grep -q '^ok    engine: unix://.*doc.sock, engine 20.10.24+dfsg1$' "$T/out" \
     && grep -q '^ok    api_version: ' "$T/out" \
     && grep -q '^FAIL  storage_driver: vfs.*(hint: configure overlay2' "$T/out" \
     && grep -q '^skip  round_trip: skipped: no local image.*(hint: ' "$T/out" \
     && grep -q '^ok    container: ' "$T/out" && [ "$(wc -l <"$T/out")" -eq 5 ]; echo $?) "doctor: vfs fails and no image skips, exit 1"
diag "$T/out"
run -H "unix://$T/doc.sock" doctor --json
ok $([ $rc -eq 1 ] && [ "$(jq -r '.ok, (.checks | length), (.checks[] | "\(.name) \(.ok)")' "$T/out" | tr '\n' ' ')" = "false 5 engine true api_version true storage_driver false round_trip false container true " ] \
     && [ "$(jq -r '.checks[2].hint' "$T/out")" != null ]; echo $?) "doctor --json: the same checks"
run -H "unix://$T/missing.sock" doctor
ok $([ $rc -eq 4 ] && grep -q '^FAIL  engine: cannot reach the engine at unix://.*missing.sock: no such socket' "$T/out" \
     && [ "$(grep -c '^skip ' "$T/out")" -eq 3 ] && [ ! -s "$T/err" ]; echo $?) "doctor, no engine: first check fails, the rest skipped, exit 4"
run -H "unix://$T/missing.sock" doctor --json
ok $([ $rc -eq 4 ] && [ "$(jq -r '[.ok, .checks[0].ok, .checks[1].skipped] | map(tostring) | join(" ")' "$T/out")" = "false false true" ]; echo $?) "doctor --json, no engine"
fake doc140 --api 1.40
run -H "unix://$T/doc140.sock" doctor
ok $([ $rc -eq 1 ] && grep -q '^ok    engine:' "$T/out" && grep -q '^FAIL  api_version: .*speaks API 1.40' "$T/out"; echo $?) "doctor, API 1.40: api_version fails, exit 1"

echo "1..$n"
