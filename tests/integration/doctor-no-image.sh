#!/bin/sh
# doctor-no-image.sh - a fresh engine has no image at all: doctor's round
# trip is skipped ("skipped: no local image"), not failed, and doctor exits 0
# when the other checks pass (scripts/quickstart.sh runs it under set -e).
# The engine is the fake one (tests/fake-engine), answering an empty
# /images/json, overlay2 in /info.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd jq

FAKE=$ITM_BUILDDIR/tests/fake-engine
[ -x "$FAKE" ] || skip_all "tests/fake-engine is not built"
mkdir -p "$tmp/rec"
cp "$ITM_SRCDIR/tests/recorded/http/version" "$tmp/rec/version"
hdr='HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\r\n'
printf "$hdr"'{"ID": "FAKE", "Driver": "overlay2", "ServerVersion": "20.10.24+dfsg1"}\n' >"$tmp/rec/info"
printf "$hdr"'[]\n' >"$tmp/rec/images_json"

fake () { # NAME: a fake engine on $tmp/NAME.sock, serving $tmp/rec
  "$FAKE" --socket "$tmp/$1.sock" --dir "$tmp/rec" --lifetime 60 --fork &
  at_exit "kill $! 2>/dev/null"
  wait_for 10 test -S "$tmp/$1.sock"
}
fake empty

run "$ITM_ENV" -H "unix://$tmp/empty.sock" doctor
is "$rc" 0 "doctor on an engine without images exits 0"
like "$out" '^ok +engine: ' "the engine check passes"
like "$out" '^ok +storage_driver: overlay2' "the storage check passes"
like "$out" '^skip +round_trip: skipped: no local image to create a container from [(]hint: build or load one' \
  "the round trip says: skipped, no local image, and what to do"
unlike "$out" 'FAIL' "no check failed"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 5 "five lines, one per check"

run "$ITM_ENV" -H "unix://$tmp/empty.sock" doctor --json
is "$rc" 0 "doctor --json on an engine without images exits 0"
is "$(printf '%s' "$out" | jq -r '.ok')" true "doctor --json: ok is true (a skip is not a failure)"
is "$(printf '%s' "$out" | jq -r '.checks[3] | "\(.name) \(.ok) \(.skipped)"')" "round_trip false true" \
  "doctor --json: round_trip has ok false, skipped true"
like "$(printf '%s' "$out" | jq -r '.checks[3].detail')" '^skipped: no local image' \
  "doctor --json: its detail says why"
is "$(printf '%s' "$out" | jq -r '[.checks[] | keys | sort | join(",")] | unique | join(";")')" \
  "detail,hint,name,ok,skipped" "doctor --json: every check has name, ok, skipped, detail, hint"

done_testing
