#!/bin/sh
# buildkit-classic.sh - the builder chosen: --builder classic and
# ITM_ENV_BUILDER=classic use the classic builder ("Step N/M" lines), which
# refuses RUN --mount; --builder buildkit wins over the variable; a bad
# value is a usage error (exit 2) from either; the build digest does not
# depend on the builder (an image built by one is cached for the other).
# Heredocs in a Dockerfile build with BuildKit when the engine's built-in
# Dockerfile frontend has them (Docker 23 on; BuildKit's heredocs need
# dockerfile 1.4, and a "# syntax=" line would need a registry).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
unset ITM_ENV_BUILDER

bb=itm-fixture/busybox:latest
at_exit "for i in $ITM_NS-app $ITM_NS-mnt $ITM_NS-doc; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done"
in_image () { docker run --rm "$1" sh -c "$2" 2>/dev/null; }

mkdir -p "$tmp/app" "$tmp/mnt" "$tmp/doc"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
RUN echo built-$ITM_NS >/built
EOF2
printf 'services:\n  app:\n    build: ./app\n' >"$tmp/app.yml"

run "$ITM_ENV" -f "$tmp/app.yml" build --builder bogus
is "$rc" 2 "--builder bogus: usage error"
like "$err" "expected auto, classic or buildkit, got 'bogus'" "says what is expected"
ITM_ENV_BUILDER=nope run "$ITM_ENV" -f "$tmp/app.yml" build
is "$rc" 2 "ITM_ENV_BUILDER=nope: usage error"
like "$err" "ITM_ENV_BUILDER: expected auto, classic or buildkit" "names the variable"

run "$ITM_ENV" -f "$tmp/app.yml" build --builder classic
is "$rc" 0 "--builder classic builds"
like "$err" "Step 2/[0-9]+ : RUN echo built" "with the classic builder's steps"
unlike "$err" "#[0-9]+ DONE" "and not BuildKit's"
is "$(in_image "$ITM_NS-app" 'cat /built')" "built-$ITM_NS" "the image is the Dockerfile's"
run "$ITM_ENV" -f "$tmp/app.yml" build --builder buildkit
is "$rc" 0 "then --builder buildkit"
like "$err" "cached" "the digest does not depend on the builder: cached"
run "$ITM_ENV" -f "$tmp/app.yml" build --builder buildkit --force
is "$rc" 0 "--builder buildkit --force builds"
like "$err" "#[0-9]+ \[[0-9]/[0-9]\] RUN echo built" "with BuildKit's steps"

# RUN --mount needs BuildKit: the classic builder refuses it
cat >"$tmp/mnt/Dockerfile" <<EOF2
FROM $bb
RUN --mount=type=cache,target=/c echo mounted-$ITM_NS
EOF2
printf 'services:\n  mnt:\n    build: ./mnt\n' >"$tmp/mnt.yml"
ITM_ENV_BUILDER=classic run "$ITM_ENV" -f "$tmp/mnt.yml" build
is "$rc" 6 "ITM_ENV_BUILDER=classic: RUN --mount fails (the classic builder)"
like "$err" "requires BuildKit" "with the engine's reason"
ITM_ENV_BUILDER=classic run "$ITM_ENV" -f "$tmp/mnt.yml" build --builder buildkit
is "$rc" 0 "--builder buildkit wins over ITM_ENV_BUILDER"
like "$err" "mounted-$ITM_NS" "the RUN ran with its mount"
ITM_ENV_BUILDER=auto run "$ITM_ENV" -f "$tmp/mnt.yml" up --builder classic --build --timeout 60
is "$rc" 6 "up --builder classic: the classic builder too"
"$ITM_ENV" -f "$tmp/mnt.yml" down >/dev/null 2>&1 || true

# ---- heredocs
cat >"$tmp/doc/Dockerfile" <<EOF2
FROM $bb
RUN <<EOT
echo first-heredoc-line >/doc
echo second-heredoc-line >>/doc
EOT
COPY <<EOT /copied
copied-$ITM_NS
EOT
EOF2
printf 'services:\n  doc:\n    build: ./doc\n' >"$tmp/doc.yml"
major=$(engine_get /version | jq -r '.Version' | sed 's/[^0-9].*//')
if [ "${major:-0}" -ge 23 ]; then
  run "$ITM_ENV" -f "$tmp/doc.yml" build
  is "$rc" 0 "a Dockerfile with heredocs builds (engine $major)"
  is "$(in_image "$ITM_NS-doc" 'cat /doc')" "first-heredoc-line
second-heredoc-line" "RUN <<EOT ran the script"
  is "$(in_image "$ITM_NS-doc" 'cat /copied')" "copied-$ITM_NS" "COPY <<EOT wrote the file"
else
  # Engine 20.10's built-in frontend (dockerfile 1.2) reads "echo" as an
  # instruction: the failure is the frontend's, reported as such
  run "$ITM_ENV" -f "$tmp/doc.yml" build
  is "$rc" 6 "engine $major: heredocs are not in its built-in frontend: exit 6"
  like "$err" "dockerfile parse error .*unknown instruction" "with the frontend's message"
  skip "heredoc build" "engine $major's built-in Dockerfile frontend predates heredocs (Docker 23 on)"
fi

done_testing
