#!/bin/sh
# dockerfile.sh - the repository's Dockerfile (itm-env as an image) builds
# with no registry, through itm-env's own `build`, from the test bed's
# Debian image (BASE=itm-fixture/debian-data:bookworm; apt-get reaches the
# same Debian mirror the fixtures are made from), and the image works as
# the README says: `version` reaches the engine through the mounted socket,
# `run` takes a stack up and down from the mounted working directory, and
# no compiler is in it.  The image is kept as itm-test/itm-env:dockerfile
# (rebuilt only when the sources change: the build digest).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd docker jq
need_fixtures busybox debian-data

img=itm-test/itm-env:dockerfile
cat >"$tmp/image.yml" <<EOF2
services:
  itm:
    image: $img
    build:
      context: $ITM_SRCDIR
      args:
        BASE: itm-fixture/debian-data:bookworm
EOF2
ITM_TEST_TIMEOUT=1500 run "$ITM_ENV" -f "$tmp/image.yml" -p "$ITM_NS" build -q
is "$rc" 0 "the Dockerfile builds offline from the local Debian base"
[ "$rc" = 0 ] || { done_testing; exit 1; }

run docker run --rm -v "$ITM_SOCK:/var/run/docker.sock" "$img" version
is "$rc" 0 "docker run IMAGE version"
like "$out" "engine api: *1\.[0-9]" "... talks to the engine through the mounted socket"

run docker run --rm --entrypoint sh "$img" -c 'command -v cc gcc make || echo none; ls /usr/local/share/man/man1/itm-env.1 /usr/local/share/man/man5/itm-env-stack.5'
is "$out" "none
/usr/local/share/man/man1/itm-env.1
/usr/local/share/man/man5/itm-env-stack.5" "no compiler; the man pages are there"

# the README's line: the socket, the working directory at the same path
mkdir -p "$tmp/app"
cat >"$tmp/app/compose.yaml" <<EOF2
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
EOF2
run docker run --rm -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp/app:$tmp/app" -w "$tmp/app" \
  -e ITM_ENV_NAMESPACE="$ITM_NS" -e ITM_ENV_REAPER=never "$img" \
  run -- sh -c 'echo ran >ran.txt'
is "$rc" 0 "docker run IMAGE run -- CMD"
is "$(cat "$tmp/app/ran.txt" 2>/dev/null)" ran "... the command ran in the mounted directory"
done_testing
