#!/bin/sh
# lines.sh - what the image step prints: in a pipe, build output and image
# lines carry the time of day as up's lines do; an image already on the
# engine is "present" (its --json event keeps the name "exists"); with -q
# (up -q, run -q) a present image prints nothing, a built one its end line.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox

bb=itm-fixture/busybox:latest
img=$ITM_NS-web
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
at_exit "engine_req DELETE \"/images/$img?force=1\" >/dev/null 2>&1"
ts='[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}'

mkdir -p "$tmp/app"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
RUN echo "build-output-line $ITM_NS"
CMD ["sleep", "3600"]
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    build:
      context: ./app
    command: ["sleep", "3600"]
  db:
    image: $bb
    command: ["sleep", "3600"]
EOF2
cd "$tmp"

# ---- a pipe: plain lines, stamped
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up builds web"
like "$err" "^$ts web \\| .*build-output-line" "a build output line is stamped like up's lines"
like "$err" "^$ts web: build $img: built in " "the build's end line is stamped"
like "$err" "^$ts db: image $bb: present$" "a present image: 'present', stamped"
unlike "$err" "exists" "no 'exists' in the text"
unlike "$err" "^[^0-9].*(\\| |: (build|pull|image) )" "no image line without a stamp"
run "$ITM_ENV" -f stack.yml down
is "$rc" 0 "down"

# ---- --json: the event name stays "exists"
run "$ITM_ENV" -f stack.yml up --json --timeout 60
is "$rc" 0 "up --json"
is "$(printf '%s\n' "$out" | jq -r 'select(.event == "exists") | .image' 2>/dev/null)" "$bb" \
  "--json: a present image's event is still 'exists'"
run "$ITM_ENV" -f stack.yml down
is "$rc" 0 "down"

# ---- -q: present images print nothing, a build its end line
run "$ITM_ENV" -f stack.yml up -q --build --timeout 60
is "$rc" 0 "up -q --build"
like "$err" "^$ts web: build $img: built in " "up -q: the built image's end line"
unlike "$err" "$bb|present|exists" "up -q: nothing for the present image"
is "$(lines "$err")" 1 "up -q: that one line and nothing else"
run "$ITM_ENV" -f stack.yml down
is "$rc" 0 "down"

run "$ITM_ENV" -f stack.yml -p "$ITM_NS" run -q -- true
is "$rc" 0 "run -q"
unlike "$err" "$bb|present|exists|pull" "run -q: no line for a present image"
unlike "$err" "web: build" "run -q: none for a cached build either"
done_testing
