#!/bin/sh
# pull.sh - pulls from a local registry (Debian's docker-registry with
# htpasswd auth on a free 127.0.0.1 port, started here with its own config
# and storage, stopped by PID at the end; the fixture busybox pushed to it
# through the engine API): credentials from config.json auths and from a
# credential helper; tag and digest references; an image shared by two
# services pulled once; --json; a wrong password, a missing image and a
# stopped registry each give a clear error (exit 6) and leave nothing.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq htpasswd docker-registry base64
need_fixtures busybox

port=$(free_port) || bail "no free port"
reg=127.0.0.1:$port
repo=$reg/itm-$ITM_NS/busybox
user=itmuser pass=itm-s3cret
htpasswd -Bbn "$user" "$pass" >"$tmp/htpasswd" 2>/dev/null
mkdir -p "$tmp/storage"
cat >"$tmp/registry.yml" <<EOF2
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/storage
http:
  addr: $reg
auth:
  htpasswd:
    realm: itm-test
    path: $tmp/htpasswd
EOF2
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
regpid=$!
at_exit "kill $regpid 2>/dev/null; wait $regpid 2>/dev/null"
# the images this test pulled or tagged (never the itm-fixture/ ones)
at_exit "for t in 1 2; do engine_req DELETE \"/images/$repo:\$t?force=1\" >/dev/null 2>&1; done; engine_req DELETE \"/images/$repo?force=1\" >/dev/null 2>&1"
wait_for 20 curl -s -o /dev/null "http://$reg/v2/" || bail "the registry did not start: $(cat "$tmp/registry.log")"

xauth () { printf '{"username":"%s","password":"%s","serveraddress":"%s"}' "$1" "$2" "$reg" | base64 -w0 | tr '+/' '-_'; }
# setup: push the fixture busybox as $repo:1 and :2 through the engine API
for t in 1 2; do
  engine_req POST "/images/itm-fixture/busybox:latest/tag?repo=$repo&tag=$t" >/dev/null
  engine_req POST "/images/$repo/push?tag=$t" -H "X-Registry-Auth: $(xauth "$user" "$pass")" >"$tmp/push.$t"
  grep -q '"error"' "$tmp/push.$t" && bail "push failed: $(cat "$tmp/push.$t")"
done
digest=$(grep -o 'sha256:[0-9a-f]\{64\}' "$tmp/push.1" | head -1)
rmi () { engine_req DELETE "/images/$1?force=1" >/dev/null 2>&1 || true; }
have () { engine_get "/images/$1/json" >/dev/null 2>&1; }
rmi "$repo:1"; rmi "$repo:2"
ok "setup: the fixture is in the registry, not on the engine" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://engine/images/$repo:1/json >/dev/null"

cat >"$tmp/stack.yml" <<EOF2
services:
  a:
    image: $repo:1
    command: ["sleep", "3600"]
  b:
    image: $repo:1
    command: ["sleep", "3600"]
EOF2
export DOCKER_CONFIG="$tmp/docker"
mkdir -p "$DOCKER_CONFIG"

# ---- no credentials: refused
run "$ITM_ENV" -f "$tmp/stack.yml" pull
is "$rc" 6 "no credentials: exit 6"
like "$err" "registry $reg refused the credentials" "says the registry refused"
like "$err" "$repo:1" "names the image"

# ---- config.json auths
printf '{"auths":{"%s":{"auth":"%s"}}}' "http://$reg/v2/" "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
run "$ITM_ENV" -f "$tmp/stack.yml" pull --json
is "$rc" 0 "pull with auths credentials"
ok "the image is on the engine" have "$repo:1"
is "$(printf '%s\n' "$out" | jq -r 'select(.event == "pulling") | .image' | wc -l | tr -d ' ')" 1 "an image used by two services is pulled once"
is "$(printf '%s\n' "$out" | jq -r 'select(.event == "pulled") | .service | join(",")')" "a,b" "for both services (service: an array)"

# up with pull_policy always pulls again; missing does not
run "$ITM_ENV" -f "$tmp/stack.yml" up --pull always --timeout 60
is "$rc" 0 "up --pull always"
like "$err" "pulled" "it pulled"
run "$ITM_ENV" down
rmi "$repo:1"
run "$ITM_ENV" -f "$tmp/stack.yml" up --timeout 60
is "$rc" 0 "up pulls a missing image (policy missing)"
is "$(engine_get "/containers/$ITM_NS-a-1/json" | jq -r .State.Status)" running "a runs the pulled image"
run "$ITM_ENV" down
run "$ITM_ENV" -f "$tmp/stack.yml" up --pull never --timeout 60
is "$rc" 0 "--pull never with the image present"
run "$ITM_ENV" down

# ---- a credential helper
rmi "$repo:1"
mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker-credential-itmtest" <<EOF2
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
echo "\$server" >>"$tmp/helper.log"
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$user" "$pass"
EOF2
chmod +x "$tmp/bin/docker-credential-itmtest"
printf '{"credHelpers":{"%s":"itmtest"}}' "$reg" >"$DOCKER_CONFIG/config.json"
PATH=$tmp/bin:$PATH run "$ITM_ENV" -f "$tmp/stack.yml" pull a
is "$rc" 0 "pull with a credential helper"
is "$(cat "$tmp/helper.log" 2>/dev/null)" "$reg" "the helper was asked for the registry"
ok "the image is on the engine" have "$repo:1"

# ---- by digest
cat >"$tmp/digest.yml" <<EOF2
services:
  d:
    image: $repo@$digest
EOF2
PATH=$tmp/bin:$PATH run "$ITM_ENV" -f "$tmp/digest.yml" pull
is "$rc" 0 "pull by digest"
ok "the digest reference resolves on the engine" have "$repo@$digest"

# ---- wrong password
printf '{"auths":{"%s":{"username":"%s","password":"wrong"}}}' "$reg" "$user" >"$DOCKER_CONFIG/config.json"
rmi "$repo:2"
cat >"$tmp/two.yml" <<EOF2
services:
  t:
    image: $repo:2
    command: ["sleep", "3600"]
EOF2
run "$ITM_ENV" -f "$tmp/two.yml" up --timeout 60
is "$rc" 6 "a wrong password: exit 6"
like "$err" "service t: image $repo:2 is not on the engine, and pulling it failed: registry $reg refused the credentials" "names service, image and registry"
ok "nothing pulled" sh -c "! curl -sf --unix-socket '$ITM_SOCK' http://engine/images/$repo:2/json >/dev/null"

# ---- a missing image
printf '{"auths":{"%s":{"username":"%s","password":"%s"}}}' "$reg" "$user" "$pass" >"$DOCKER_CONFIG/config.json"
cat >"$tmp/missing.yml" <<EOF2
services:
  m:
    image: $reg/itm-$ITM_NS/nothere:1
EOF2
run "$ITM_ENV" -f "$tmp/missing.yml" up --timeout 60
is "$rc" 6 "a missing image: exit 6"
like "$err" "no such image in registry $reg" "says it is not in the registry"
like "$err" "nothere:1" "names it"

# ---- a stopped registry
kill "$regpid"; wait "$regpid" 2>/dev/null || true
run "$ITM_ENV" -f "$tmp/two.yml" pull
is "$rc" 6 "a stopped registry: exit 6"
like "$err" "registry $reg is unreachable" "says it is unreachable"
like "$err" "$repo:2" "names the image"

run "$ITM_ENV" -f "$tmp/stack.yml" up --pull bogus
is "$rc" 2 "--pull with an unknown policy: usage"

done_testing
