#!/bin/sh
# buildkit.sh - builds with BuildKit (POST /build?version=2) on the real
# engine: the default builder; its progress decoded into the build's lines
# (text and --json); the build-digest label set through the build's labels
# (no LABEL step in the history); the digest cache; a cache mount that a
# second build, after the context changed, finds filled by the first; a
# failing RUN shows its output and exit code (exit 6); a required secret
# mount the service does not give fails naming it (buildkit-secret.sh tests
# the secrets served); SIGINT stops a build
# (exit 130) and leaves neither the image nor the RUN's process.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
unset ITM_ENV_BUILDER

bb=itm-fixture/busybox:latest
at_exit "for i in $ITM_NS-app $ITM_NS-bad $ITM_NS-slow $ITM_NS-sec; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done"
img_get () { engine_get "/images/$1/json"; }
in_image () { docker run --rm "$1" sh -c "$2" 2>/dev/null; }

# the cache mount's id is this run's own: other runs' caches are not seen;
# and data.txt is this run's own, so that its RUN is no other run's (the
# RUN's cache key is its command and what it builds on, not its cache
# mount's id: an engine that ran this test before answers CACHED)
nonce=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/app"
echo "one $nonce" >"$tmp/app/data.txt"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
COPY data.txt /data.txt
RUN --mount=type=cache,id=$ITM_NS-$nonce,target=/cache \\
    (cat /cache/marker 2>/dev/null || echo empty) >/seen && \\
    echo "written by the build of \$(cat /data.txt)" >/cache/marker && echo cache-step-ran
CMD ["sleep", "3600"]
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  app:
    build:
      context: ./app
      labels:
        org.example.team: qa
EOF2

# ---- first build: BuildKit by default
run "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "a Dockerfile with RUN --mount=type=cache builds (the classic builder refuses it)"
like "$err" "app \| #[0-9]+ \[[^]]*[0-9]/[0-9]\] RUN --mount=type=cache" "BuildKit's steps are shown, numbered"
like "$err" "app \| #[0-9]+ [0-9.]+ cache-step-ran" "a step's output is shown under its number"
like "$err" "app \| #[0-9]+ DONE [0-9.]+s" "finished steps say so"
unlike "$err" "Step [0-9]+/" "not the classic builder's lines"
is "$(in_image "$ITM_NS-app" 'cat /seen')" empty "the cache directory starts empty"
digest=$(img_get "$ITM_NS-app" | jq -r '.Config.Labels["io.itm-env.build-digest"]')
like "$digest" '^[0-9a-f]{64}$' "the image carries io.itm-env.build-digest"
is "$(img_get "$ITM_NS-app" | jq -r '.Config.Labels["org.example.team"]')" qa "and the service's build labels"
hist=$(engine_get "/images/$ITM_NS-app/history" | jq -r '.[].CreatedBy')
unlike "$hist" "io.itm-env.build-digest" "the label is no LABEL step: the history does not name it"

# ---- the digest cache
run "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "a second build"
like "$err" "cached" "an unchanged context is not built again"
unlike "$err" "#1 " "no build request"

# ---- the context changes: the cached RUN runs again and finds its cache
echo "two $nonce" >"$tmp/app/data.txt"
run "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "a build after the context changed"
like "$err" "cache-step-ran" "the RUN with the cache mount ran again"
is "$(in_image "$ITM_NS-app" 'cat /seen')" "written by the build of one $nonce" \
  "it found the file the first build's RUN wrote into the cache directory"
is "$(in_image "$ITM_NS-app" 'ls /cache 2>/dev/null | wc -l')" 0 "the cache is not in the image"

# ---- --json: the steps as output events
echo "three $nonce" >"$tmp/app/data.txt"
run "$ITM_ENV" -f "$tmp/stack.yml" build --json
is "$rc" 0 "build --json"
ev=$(printf '%s\n' "$out" | jq -r 'select(.event == "output") | .detail' 2>/dev/null || true)
like "$ev" "^#[0-9]+ .*RUN --mount=type=cache" "--json: BuildKit's lines are output events"
like "$(printf '%s\n' "$out" | jq -r .event | tail -1)" built "and the build ends built"

# ---- a failing RUN
mkdir -p "$tmp/bad"
cat >"$tmp/bad/Dockerfile" <<EOF2
FROM $bb
RUN echo step-one-ok # $ITM_NS
RUN echo boom-stdout-line; echo boom-stderr-line >&2; exit 7
EOF2
printf 'services:\n  bad:\n    build: ./bad\n' >"$tmp/bad.yml"
run "$ITM_ENV" -f "$tmp/bad.yml" build
is "$rc" 6 "a failing RUN: exit 6"
like "$err" "service bad: building image $ITM_NS-bad failed at #[0-9]+ \[[0-9]/[0-9]\] RUN echo boom-stdout-line" \
  "names the service, image and step"
like "$err" "exit code: 7" "with the exit code"
like "$err" "boom-stdout-line" "the step's stdout is shown"
like "$err" "boom-stderr-line" "and its stderr"
run "$ITM_ENV" -f "$tmp/bad.yml" build --quiet
is "$rc" 6 "--quiet: exit 6 too"
like "$err" "output of #[0-9]+ .*RUN echo boom-stdout-line" "--quiet shows the failed step"
like "$err" "bad \| boom-stderr-line" "with its own output"
unlike "$err" "step-one-ok" "and not the other steps' output"
ok "no image" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://engine/images/$ITM_NS-bad/json >/dev/null"

# ---- a required secret mount the service does not give (a session serves
# the service's build.secrets: buildkit-secret.sh)
mkdir -p "$tmp/sec"
cat >"$tmp/sec/Dockerfile" <<EOF2
FROM $bb
RUN --mount=type=secret,id=token,required=true cat /run/secrets/token # $ITM_NS
EOF2
printf 'services:\n  sec:\n    build: ./sec\n' >"$tmp/sec.yml"
run "$ITM_ENV" -f "$tmp/sec.yml" build
is "$rc" 6 "RUN --mount=type=secret,required=true without the secret: exit 6"
like "$err" "secret token:? not found" "with BuildKit's reason"
like "$err" "hint: .*build.secrets" "and what to do"

# ---- SIGINT stops a build
mkdir -p "$tmp/slow"
marker="slow-step-$ITM_NS"
cat >"$tmp/slow/Dockerfile" <<EOF2
FROM $bb
RUN echo started; sleep 300; echo $marker
EOF2
printf 'services:\n  slow:\n    build: ./slow\n' >"$tmp/slow.yml"
"$ITM_ENV" -f "$tmp/slow.yml" build >"$tmp/s.out" 2>&1 &
b=$!
at_exit "kill $b 2>/dev/null || true"
wait_for 60 grep -q '#[0-9]* [0-9.]* started' "$tmp/s.out" || true
ok "the slow RUN is running" pgrep -f "$marker"
kill -INT "$b"
set +e; timeout 60 sh -c "while kill -0 $b 2>/dev/null; do sleep 0.2; done"; wait "$b"; rc=$?; set -e
is "$rc" 130 "SIGINT during the build: exit 130"
like "$(cat "$tmp/s.out")" "interrupted" "it says the build was interrupted"
# ("[s]low": the pattern does not match the sh -c running pgrep)
ok "the RUN's process is gone (the engine cancelled the build)" \
  wait_for 30 sh -c "! pgrep -f '[s]${marker#s}' >/dev/null"
ok "no image" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://engine/images/$ITM_NS-slow/json >/dev/null"

done_testing
