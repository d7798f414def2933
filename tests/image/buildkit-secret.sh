#!/bin/sh
# buildkit-secret.sh - build.secrets served to RUN --mount=type=secret by
# itm-env's BuildKit session (POST /session, gRPC over HTTP/2), on the real
# engine: a file: secret (short form) and an environment: secret (long
# form: its target is the id the Dockerfile names) reach their RUN steps,
# whose checksums of them land in the image; the values themselves land in
# neither the image (its saved layers, history, config) nor itm-env's
# output; the mount's own target, uid and mode apply; a secret the
# Dockerfile does not require and the service does not give is absent; one
# it requires fails the build (exit 6) naming the secret, with a hint; an
# undefined build secret is a stack error (exit 3); an unchanged build is
# cached; the classic builder warns that it cannot serve them.  The builds run with network: none (a RUN needs no network here).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq sha256sum docker
need_fixtures busybox
unset ITM_ENV_BUILDER

bb=itm-fixture/busybox:latest
at_exit "for i in $ITM_NS-app $ITM_NS-req; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done"
in_image () { docker run --rm --network none "$1" sh -c "$2" 2>/dev/null; }

nonce=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
file_value="itm-file-secret-$nonce"
env_value="itm-env-secret-$nonce"
printf '%s\n' "$file_value" >"$tmp/npmrc.txt"
file_sum=$(sha256sum <"$tmp/npmrc.txt" | cut -c1-64)
env_sum=$(printf '%s' "$env_value" | sha256sum | cut -c1-64)
export ITM_TEST_BUILD_TOKEN="$env_value"

mkdir -p "$tmp/app"
cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
RUN --mount=type=secret,id=npmrc sha256sum /run/secrets/npmrc | cut -c1-64 >/npmrc.sum # $ITM_NS $nonce
RUN --mount=type=secret,id=tok,target=/tok,uid=123,mode=0400 \\
    sha256sum /tok | cut -c1-64 >/tok.sum && stat -c '%u %a' /tok >/tok.stat
RUN --mount=type=secret,id=unset-one (cat /run/secrets/unset-one 2>/dev/null || echo absent) >/unset.txt
CMD ["sleep", "3600"]
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  app:
    build:
      context: ./app
      network: none
      secrets:
        - npmrc
        - source: token
          target: tok
secrets:
  npmrc:
    file: ./npmrc.txt
  token:
    environment: ITM_TEST_BUILD_TOKEN
EOF2

# ---- the model
run "$ITM_ENV" -f "$tmp/stack.yml" config --format json
is "$rc" 0 "config: build.secrets is accepted"
is "$(printf '%s' "$out" | jq -c .services.app.build.secrets)" \
  '[{"source":"npmrc"},{"source":"token","target":"tok"}]' "config shows build.secrets as given"
unlike "$err" "secrets.*ignored" "and does not warn that it is ignored"
unlike "$out$err" "$env_value" "config does not print the variable's value"

# ---- the build
run "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "a Dockerfile with RUN --mount=type=secret builds with BuildKit"
like "$err" "RUN --mount=type=secret,id=npmrc" "the secret step ran"
is "$(in_image "$ITM_NS-app" 'cat /npmrc.sum')" "$file_sum" \
  "the file: secret reached its RUN (checksum, short form: id = source)"
is "$(in_image "$ITM_NS-app" 'cat /tok.sum')" "$env_sum" \
  "the environment: secret reached its RUN (long form: id = target)"
is "$(in_image "$ITM_NS-app" 'cat /tok.stat')" "123 400" "the mount's target, uid and mode apply"
is "$(in_image "$ITM_NS-app" 'cat /unset.txt')" "absent" \
  "a secret the service does not give and the RUN does not require is absent"
is "$(in_image "$ITM_NS-app" 'ls /run/secrets 2>/dev/null | wc -l; test -e /tok && echo tok')" 0 \
  "no secret file is left in the image"

# ---- the values are nowhere
docker save "$ITM_NS-app" >"$tmp/app.tar" 2>/dev/null || true
ok "the image saves (docker save)" test -s "$tmp/app.tar"
ok "the saved image (every layer) holds the checksum" grep -a -q "$file_sum" "$tmp/app.tar"
ok "the saved image (every layer) holds neither value" \
  sh -c "! grep -a -q -e '$file_value' -e '$env_value' '$tmp/app.tar'"
hist=$(engine_get "/images/$ITM_NS-app/history")
like "$hist" "sha256sum /run/secrets/npmrc" "the history has the secret steps"
unlike "$hist" "$file_value|$env_value" "the history holds neither value"
unlike "$(engine_get "/images/$ITM_NS-app/json")" "$file_value|$env_value" \
  "the image's config holds neither value"
unlike "$out$err" "$file_value|$env_value" "itm-env's output holds neither value"

# ---- the digest cache: an unchanged build is not made again
run "$ITM_ENV" -f "$tmp/stack.yml" build --json
is "$rc" 0 "a second build"
like "$out" '"cached"' "is cached"
unlike "$out$err" "$file_value|$env_value" "--json output holds neither value"

# ---- the classic builder cannot serve them: a warning (and it refuses the
# Dockerfile's --mount)
run "$ITM_ENV" -f "$tmp/stack.yml" build --force --builder classic
is "$rc" 6 "--builder classic: the secret mount is refused (exit 6)"
like "$err" "warning: service app: build.secrets need BuildKit" "with a warning about build.secrets"

# ---- a required secret the service does not give
mkdir -p "$tmp/req"
cat >"$tmp/req/Dockerfile" <<EOF2
FROM $bb
RUN --mount=type=secret,id=missing-one,required=true cat /run/secrets/missing-one # $ITM_NS
EOF2
cat >"$tmp/req.yml" <<EOF2
services:
  req:
    build:
      context: ./req
      network: none
      secrets: [npmrc]
secrets:
  npmrc:
    file: ./npmrc.txt
EOF2
run "$ITM_ENV" -f "$tmp/req.yml" build
is "$rc" 6 "a required secret nobody gives: exit 6"
like "$err" "service req: building image $ITM_NS-req failed at .*secret missing-one:? not found" \
  "names the service and the secret"
like "$err" "hint: .*build.secrets" "with a hint to build.secrets"
unlike "$err" "no active session" "the session was there"

# ---- a build secret that is not a declared secret
cat >"$tmp/undef.yml" <<EOF2
services:
  req:
    build:
      context: ./req
      secrets: [nope]
EOF2
run "$ITM_ENV" -f "$tmp/undef.yml" build
is "$rc" 3 "an undefined build secret: exit 3"
like "$err" "build.secrets: uses undefined secret 'nope'" "says which"

done_testing
