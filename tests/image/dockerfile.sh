#!/bin/sh
# dockerfile.sh - the repository's Dockerfile (itm-env as an image) builds
# with no registry, through itm-env's own `build`, from the test bed's
# Debian image (BASE=itm-fixture/debian-data:bookworm; apt-get reaches the
# same Debian mirror the fixtures are made from), and the image works as
# the README says: `version` reaches the engine through the mounted socket,
# `run` takes a stack up and down from the mounted working directory, no
# compiler is in it, and the GitHub Action's entrypoints work in it as a
# runner runs a Docker action.  The image is kept as itm-test/itm-env:dockerfile
# (rebuilt only when the sources change: the build digest).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd docker jq curl
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
if [ "$rc" != 0 ] && printf '%s\n' "$out$err" \
     | grep -Eq 'Failed to fetch|Temporary failure resolving|Could not resolve|Unable to locate package'; then
  skip_all "no Debian mirror answers from a container (the Dockerfile's apt-get)"
fi
is "$rc" 0 "the Dockerfile builds offline from the local Debian base"
[ "$rc" = 0 ] || { done_testing; exit 1; }

run docker run --rm -v "$ITM_SOCK:/var/run/docker.sock" "$img" version
is "$rc" 0 "docker run IMAGE version"
like "$out" "engine api: *1\.[0-9]" "... talks to the engine through the mounted socket"

run docker run --rm --entrypoint sh "$img" -c 'command -v cc gcc make || echo none; ls /usr/local/share/man/man1/itm-env.1 /usr/local/share/man/man5/itm-env-stack.5 /usr/local/share/itm-env/ci/github-main.sh /usr/local/share/itm-env/ci/github-post.sh'
is "$out" "none
/usr/local/share/itm-env/ci/github-main.sh
/usr/local/share/itm-env/ci/github-post.sh
/usr/local/share/man/man1/itm-env.1
/usr/local/share/man/man5/itm-env-stack.5" "no compiler; the man pages and the action's entrypoints are there"

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

# the GitHub Action as the runner runs a Docker action: each step a
# container of the image with the workspace and the file-command files
# mounted, INPUT_* and STATE_* in its environment; the main step's
# container is gone before the post step's starts
mkdir -p "$tmp/fc"
for f in env output state summary; do : >"$tmp/fc/$f"; done
cat >"$tmp/app/compose.yaml" <<EOF2
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["127.0.0.1::8080"]
EOF2
# step ENTRYPOINT [DOCKER-RUN-OPTIONS...]
cat >"$tmp/step" <<EOF2
#!/bin/sh
ep=\$1; shift
exec docker run --rm -v "$ITM_SOCK:/var/run/docker.sock" -v "$tmp/app:/github/workspace" \\
  -v "$tmp/fc:/github/file_commands" -e GITHUB_WORKSPACE=/github/workspace \\
  -e GITHUB_ENV=/github/file_commands/env -e GITHUB_OUTPUT=/github/file_commands/output \\
  -e GITHUB_STATE=/github/file_commands/state -e GITHUB_STEP_SUMMARY=/github/file_commands/summary \\
  -e INPUT_FILE=compose.yaml -e INPUT_WORKING-DIRECTORY=. -e INPUT_NAMESPACE="$ITM_NS" \\
  -e INPUT_SERVICES= -e INPUT_UP-ARGS= -e INPUT_REPORT=itm-env-report/down.txt \\
  -e INPUT_LOGS-DIR=itm-env-report/logs "\$@" --entrypoint "/usr/local/share/itm-env/ci/\$ep" "$img"
EOF2
chmod +x "$tmp/step"
run "$tmp/step" github-main.sh
is "$rc" 0 "action main step in the image"
port=$(sed -n 's/^WEB_PORT=//p' "$tmp/fc/env")
run curl -sf --max-time 10 "http://127.0.0.1:$port/passwd"
like "$out" "^root:" "... a later step on the runner reaches the service through GITHUB_ENV"
ns=$(sed -n 's/^namespace=//p' "$tmp/fc/state")
run "$tmp/step" github-post.sh -e STATE_namespace="$ns" -e STATE_dir=/github/workspace
is "$rc" 0 "action post step in the image: down and verified"
is "$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)" 0 "... nothing of the namespace is left"
like "$(cat "$tmp/app/itm-env-report/down.txt" 2>/dev/null)" "Result: +PASSED" "... the report is in the workspace"
done_testing
