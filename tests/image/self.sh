#!/bin/sh
# self.sh - itm-env's own image (image/self.c): FROM scratch, from the
# running binary and the libraries it loads, built with no registry and no
# base image; tagged by the binary's digest and built once (a second call
# makes no build request); the image's itm-env reaches the engine through
# a mounted socket (created, started, waited on and read through the
# engine API, as the reaper container is).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq

want=itm-env-self:$(sha256sum <"$ITM_ENV" | cut -c1-12)
# from nothing (unless a container of it is running: then it stays)
engine_req DELETE "/images/$want" >/dev/null 2>&1 || true

run "$ITM_ENV" build --self
is "$rc" 0 "build --self"
is "$out" "$want" "... prints itm-env-self:<12 hex of the binary's sha256>"
id1=$(engine_get "/images/$want/json" | jq -r .Id)
ok "the image exists" test -n "$id1"
is "$(engine_get "/images/$want/json" | jq -r '.Config.Labels["io.itm-env.self"]')" 1 "... labelled io.itm-env.self"
like "$(engine_get "/images/$want/history" | jq -r '.[].CreatedBy')" "COPY dir:.* in / " \
  "... one COPY of the root file system"
is "$(engine_get "/images/$want/history" | jq -r '.[-1].Id')" "$(engine_get "/images/$want/history" | jq -r '.[] | select(.CreatedBy | test("COPY")) | .Id')" \
  "... FROM scratch: the COPY is the first layer"

# cached: no build request the second time (no container created by a builder);
# events are asked from the next whole second on, past the first build's tag
sleep 1
since=$(( $(date +%s) + 1 ))
sleep 1
run "$ITM_ENV" build --self
is "$rc" 0 "build --self again"
is "$(engine_get "/images/$want/json" | jq -r .Id)" "$id1" "... the same image"
until_=$(date +%s)
ev=$(curl -sS --max-time 10 --unix-socket "$ITM_SOCK" \
  "http://engine/events?since=$since&until=$((until_ + 1))&filters=$(printf '{"type":["image"],"event":["tag"]}' | jq -sRr @uri)" \
  | jq -r --arg w "$want" 'select(.Actor.Attributes.name == $w) | .Action' || true)
is "$ev" "" "... and no build (no tag event)"

# run it: the engine API, as the reaper does
body=$(jq -nc --arg img "$want" --arg sock "$ITM_SOCK" \
  '{Image: $img, Cmd: ["version"], HostConfig: {Binds: [($sock + ":/var/run/docker.sock")]},
    Labels: {"io.itm-env.namespace": env.ITM_NS}}')
cid=$(engine_req POST "/containers/create?name=$ITM_NS-self" -H 'Content-Type: application/json' -d "$body" | jq -r .Id)
at_exit "engine_req DELETE '/containers/$cid?force=1' >/dev/null 2>&1"
engine_req POST "/containers/$cid/start" >/dev/null
code=$(engine_req POST "/containers/$cid/wait" | jq -r .StatusCode)
is "$code" 0 "the image's itm-env version exits 0"
logs=$(curl -sS --max-time 10 --unix-socket "$ITM_SOCK" "http://engine/containers/$cid/logs?stdout=1&stderr=1" | tr -d '\000-\010')
like "$logs" "engine api: *1\.[0-9]" "... and talks to the engine through the mounted socket"
engine_req DELETE "/containers/$cid?force=1" >/dev/null

# a binary whose libraries the loader found through LD_LIBRARY_PATH (a CI
# job image's /opt/itm-env/lib): its image runs too (the image's loader
# is told where they are)
engine_req DELETE "/images/$want?force=1" >/dev/null 2>&1 || true
mkdir -p "$tmp/opt/lib"
json=$(ldd "$ITM_ENV" | awk '/libjson-c/ {print $3}')
cp "$json" "$tmp/opt/lib/"
LD_LIBRARY_PATH=$tmp/opt/lib run "$ITM_ENV" build --self
is "$rc" 0 "build --self with a library from LD_LIBRARY_PATH"
run docker run --rm -v "$ITM_SOCK:/var/run/docker.sock" "$want" version
is "$rc" 0 "... its image runs (the library at $tmp/opt/lib is found)"
[ "$rc" = 0 ] || diag "$err"
engine_req DELETE "/images/$want?force=1" >/dev/null 2>&1 || true

# the image holds what it needs and no shell
run docker run --rm --entrypoint /bin/sh "$want" -c true
ok "no shell in the image (FROM scratch)" test "$rc" != 0
done_testing
