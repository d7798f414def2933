#!/bin/sh
# build.sh - services with build: on the real engine: .dockerignore, args
# (one from the environment), target, a Dockerfile outside the context; the
# digest cache (a second build makes no build request: no container event,
# same image), a changed file rebuilds, --build forces, --no-build forbids;
# a failing RUN step ends with the step, its output and exit 6, nothing left.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
# the classic builder ("Step N/M", its RUN containers); BuildKit, the
# default where the engine has it: buildkit.sh and buildkit-classic.sh
ITM_ENV_BUILDER=classic
export ITM_ENV_BUILDER

bb=itm-fixture/busybox:latest
img=$ITM_NS-web
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
# the images this test built (never the itm-fixture/ ones)
at_exit "for i in $img $ITM_NS-other $ITM_NS-bad $ITM_NS-outside; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done"

mkdir -p "$tmp/app/docs/sub" "$tmp/app/node_modules/x" "$tmp/elsewhere"
# a context unique to this run: no cache hit on an image of an earlier run
echo "$ITM_NS" >"$tmp/app/run-id"
# the images built here, untagged ones too, removed at exit
: >"$tmp/ids"
at_exit "while read -r i; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done <'$tmp/ids'"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb AS base
ARG GREETING
ARG FROM_ENV
RUN echo "greeting=\$GREETING from_env=\$FROM_ENV" >/built # $ITM_NS
FROM base AS final
RUN echo final >/stage # $ITM_NS
FROM base AS debug
COPY . /ctx
RUN echo debug >/stage # $ITM_NS
CMD ["sleep", "3600"]
EOF2
echo one >"$tmp/app/data.txt"
echo secret >"$tmp/app/secret.env"
echo keep >"$tmp/app/docs/keep.md"
echo drop >"$tmp/app/docs/drop.md"
echo mod >"$tmp/app/node_modules/x/m.js"
cat >"$tmp/app/.dockerignore" <<'EOF2'
# comments are ignored
*.env
**/node_modules
docs
!docs/keep.md
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  web:
    build:
      context: ./app
      target: debug
      args:
        GREETING: hello
        FROM_ENV:
      labels:
        org.example.team: qa
    command: ["sleep", "3600"]
EOF2

img_get () { engine_get "/images/$1/json"; }
track () { img_get "$1" 2>/dev/null | jq -r .Id >>"$tmp/ids" || true; }
in_image () { docker run --rm "$1" sh -c "$2" 2>/dev/null; }

# ---- first build
t0=$(date +%s)
FROM_ENV=fromenv run "$ITM_ENV" -f "$tmp/stack.yml" build --force
is "$rc" 0 "build succeeds"
t0e=$(( $(date +%s) + 1 ))
# A build request ends by tagging the image: count image events for this
# image only (other tests run beside this one on the same engine).  The
# same filter must see the first, real build, or the zero further down
# means nothing.  Asked at once: the engine keeps only its last 256 events,
# and the tests beside this one make many.
img_events () {
  f=$(printf '{"type":["image"],"image":["%s"]}' "$img" | jq -sRr @uri)
  engine_get "/events?since=$1&until=$2&filters=$f" | jq -r '.Action' 2>/dev/null | wc -l
}
ok "the image-event filter sees a real build" test "$(img_events "$t0" "$t0e")" -gt 0
like "$err" "Step [0-9]+/[0-9]+ : FROM" "the build output is streamed"
id1=$(img_get "$img" | jq -r .Id); track "$img"
like "$id1" '^sha256:' "the image is named <namespace>-<service>"
digest=$(img_get "$img" | jq -r '.Config.Labels["io.itm-env.build-digest"]')
like "$digest" '^[0-9a-f]{64}$' "it carries io.itm-env.build-digest"
is "$(img_get "$img" | jq -r '.Config.Labels["org.example.team"]')" qa "build labels are set"
is "$(in_image "$img" 'cat /built')" "greeting=hello from_env=fromenv" \
  "args are passed; an arg without a value comes from the environment"
is "$(in_image "$img" 'cat /stage')" debug "target picks the stage"
ctx=$(in_image "$img" 'cd /ctx && find . -type f | sort | tr "\n" " "')
is "$ctx" "./.dockerignore ./Dockerfile ./data.txt ./docs/keep.md ./run-id " \
  ".dockerignore applied (patterns, **, exception), Dockerfile and .dockerignore sent"

# ---- cache hit: no build request
sleep 1
t1=$(date +%s)
FROM_ENV=fromenv run "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "second build succeeds"
like "$err" "cached" "it says the image is cached"
unlike "$err" "Step 1" "no build output"
t2=$(date +%s)
is "$(img_events "$t1" "$t2")" 0 "no build request: no event for the image on the engine"
is "$(img_get "$img" | jq -r .Id)" "$id1" "same image"

# an arg that changes means a rebuild
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" build -q
is "$rc" 0 "build with another arg value"
id2=$(img_get "$img" | jq -r .Id); track "$img"
ok "a changed arg rebuilds" test "$id2" != "$id1"
is "$(in_image "$img" 'cat /built')" "greeting=hello from_env=changed" "with the new value"

# an ignored file changes nothing, a sent one rebuilds
echo more >"$tmp/app/other.env"
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" build
like "$err" "cached" "a change in an ignored file: still cached"
echo two >"$tmp/app/data.txt"
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" build
unlike "$err" "cached" "a changed file rebuilds"
id3=$(img_get "$img" | jq -r .Id); track "$img"
ok "a new image" test "$id3" != "$id2"
is "$(in_image "$img" 'cat /ctx/data.txt')" two "with the new content"

# --build forces; up uses the cache; --no-build with the image present
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" up --build --timeout 60
is "$rc" 0 "up --build succeeds"
like "$err" "built" "--build built although nothing changed"
is "$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r .Config.Image)" "$img" "the container runs the built image"
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 60
is "$rc" 0 "a second up"
like "$err" "cached" "a second up does not build"
cid1=$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r .Id)
echo three >"$tmp/app/data.txt"
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 60
is "$rc" 0 "up after a change in the context"
unlike "$err" "cached" "it rebuilds"
cid2=$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r .Id); track "$img"
ok "the container is recreated on the new image" test "$cid2" != "$cid1"
is "$(engine_get "/containers/$ITM_NS-web-1/json" | jq -r .Image)" "$(img_get "$img" | jq -r .Id)" "it runs the new image"
run "$ITM_ENV" down
is "$rc" 0 "down"

# --no-build: a missing image is an error
cat >"$tmp/other.yml" <<EOF2
services:
  other:
    build: ./app
EOF2
run "$ITM_ENV" -f "$tmp/other.yml" up --no-build
is "$rc" 6 "--no-build with a missing image: exit 6"
like "$err" "image $ITM_NS-other does not exist and --no-build forbids" "says so"
run "$ITM_ENV" -f "$tmp/stack.yml" up --build --no-build
is "$rc" 2 "--build and --no-build together: usage"

# ---- a Dockerfile outside the context
cat >"$tmp/elsewhere/Build.dockerfile" <<EOF2
FROM $bb
COPY data.txt /data.txt
CMD ["sleep", "3600"]
EOF2
cat >"$tmp/outside.yml" <<EOF2
services:
  outside:
    build:
      context: ./app
      dockerfile: ../elsewhere/Build.dockerfile
EOF2
run "$ITM_ENV" -f "$tmp/outside.yml" build
is "$rc" 0 "a Dockerfile outside the context builds"
is "$(in_image "$ITM_NS-outside" 'cat /data.txt')" three "with the context's files"

# ---- a failing RUN step
mkdir -p "$tmp/bad"
cat >"$tmp/bad/Dockerfile" <<EOF2
FROM $bb
RUN echo step-one-ok # $ITM_NS
RUN echo boom-output-line && exit 3
EOF2
cat >"$tmp/bad.yml" <<EOF2
services:
  ok:
    image: $bb
    command: ["sleep", "3600"]
  bad:
    build: ./bad
EOF2
run "$ITM_ENV" -f "$tmp/bad.yml" up --timeout 60
is "$rc" 6 "a failing RUN step: exit 6"
like "$err" "service bad: building image $ITM_NS-bad failed at Step 3/[0-9]+ : RUN echo boom-output-line" "names the service, image and step"
like "$err" "returned a non-zero code: 3" "with the engine's message"
like "$err" "boom-output-line" "the step's output is shown"
cid=$(printf '%s\n' "$err" | sed -n 's/.*Running in \([0-9a-f]*\).*/\1/p' | tail -1)
like "$cid" '^[0-9a-f]+$' "the failing step ran in a container"
ok "that container is gone (forcerm)" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://engine/containers/$cid/json >/dev/null"
run "$ITM_ENV" -f "$tmp/bad.yml" build --quiet bad
is "$rc" 6 "build --quiet: exit 6 too"
like "$err" "boom-output-line" "--quiet still shows the failing step's output"

# --json
FROM_ENV=changed run "$ITM_ENV" -f "$tmp/stack.yml" build --json
is "$rc" 0 "build --json"
is "$(printf '%s\n' "$out" | jq -r 'select(.event == "cached") | .service | join(",")')" web "a cached event line (service: an array)"

done_testing
