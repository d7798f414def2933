#!/bin/sh
# rmi.sh - down --rmi, with Compose's meaning, and the verifier's image
# check: "local" removes the images built under the namespace's own names
# (build: without image:) and keeps a built image named by image: and a
# pulled one; "all" removes every service's image (by name: a second tag
# of a shared image is only untagged, the image stays); containers carry
# io.itm-env.image-built; an image that a container which is not ours still
# uses is a leftover (exit 9) named with that container, and verify --rmi
# --force takes our name off it; images that only `build` made are found
# through the stack file; run --rmi; a bad --rmi value is a usage error.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
bb=itm-fixture/busybox:latest
web=$ITM_NS-web tagged=$ITM_NS-tagged:2 pulled=$ITM_NS-pulled:1 user=$ITM_NS-user
at_exit "engine_req DELETE '/containers/$user?force=1' >/dev/null 2>&1; '$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
at_exit "for i in $web $tagged $pulled; do engine_req DELETE \"/images/\$i?force=1\" >/dev/null 2>&1; done"

# two contexts unique to this run (no digest-cache hit across them)
mkdir -p "$tmp/web" "$tmp/tagged"
for d in web tagged; do
  printf 'FROM %s\nRUN echo %s-%s >/id\nCMD ["sleep", "3600"]\n' "$bb" "$ITM_NS" "$d" >"$tmp/$d/Dockerfile"
done
# a "pulled" image: a second name for the busybox fixture
engine_req POST "/images/$bb/tag?repo=$ITM_NS-pulled&tag=1" >/dev/null
cat >"$tmp/compose.yaml" <<EOF2
name: $ITM_NS
services:
  web:
    build: ./web
  tagged:
    build: ./tagged
    image: $tagged
  cache:
    image: $pulled
    command: ["sleep", "3600"]
EOF2
cd "$tmp"
exists () { engine_get "/images/$1/json" >/dev/null 2>&1; }
absent () { ! exists "$1"; }
label () {
  engine_get "/containers/$ITM_NS-$1-1/json" | jq -r '.Config.Labels["io.itm-env.image-built"] // "none"'
}

# ---- local ----
run "$ITM_ENV" up --timeout 60
is "$rc" 0 "up builds web and tagged"
is "$(label web)" local "web's container: io.itm-env.image-built=local"
is "$(label tagged)" tagged "tagged's container: io.itm-env.image-built=tagged"
is "$(label cache)" none "cache's container (a pulled image): no such label"
run "$ITM_ENV" down --rmi local --report "$tmp/down.txt" --report-format text
is "$rc" 0 "down --rmi local: exit 0"
like "$(cat "$tmp/down.txt")" "removed: .*, 1 image" "the report counts the image removed"
like "$(cat "$tmp/down.txt")" "left: .*, 0 images" "... and none left"
like "$err" "checked .*images \\(--rmi local\\): nothing is left" "the verification says it checked the images"
like "$err" "removed \\(.*\\): 3 containers, 1 network, 0 volumes, 1 image$" "one image removed"
ok "the locally built $web is gone" absent "$web"
ok "the image named by image: ($tagged) stays" exists "$tagged"
ok "the pulled image ($pulled) stays" exists "$pulled"

# ---- all ----
run "$ITM_ENV" up --timeout 60
is "$rc" 0 "up again"
run "$ITM_ENV" down --rmi all --json
is "$rc" 0 "down --rmi all --json: exit 0"
v=$(printf '%s\n' "$out" | grep '"event":"verified"')
is "$(printf '%s' "$v" | jq -r .checked.images)" all "JSON: checked.images is \"all\""
is "$(printf '%s' "$v" | jq -r '[.removed[] | select(.kind == "image") | .name] | sort | join(" ")')" \
  "$(printf '%s\n' "$web" "$pulled" "$tagged" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "JSON: the three images are listed as removed"
ok "all: $web is gone" absent "$web"
ok "all: $tagged is gone" absent "$tagged"
ok "all: $pulled is gone (untagged)" absent "$pulled"
ok "all: the image behind the second name ($bb) stays" exists "$bb"

# ---- an image still used by a container that is not ours ----
engine_req POST "/images/$bb/tag?repo=$ITM_NS-pulled&tag=1" >/dev/null
run "$ITM_ENV" up --timeout 60
is "$rc" 0 "up a third time"
engine_req POST "/containers/create?name=$user" -H 'Content-Type: application/json' \
  -d "{\"Image\":\"$web\",\"Cmd\":[\"sleep\",\"3600\"]}" >/dev/null
engine_req POST "/containers/$user/start" >/dev/null
run "$ITM_ENV" down --rmi local
is "$rc" 9 "down --rmi local with $web still in use: exit 9 (leak)"
like "$err" "leftover: image $web: image of the namespace \\(--rmi local\\) still exists; used by container $user" \
  "the leftover image is named with the container using it"
like "$err" "verification of namespace $ITM_NS FAILED: 1 leftover" "one leftover"
run "$ITM_ENV" verify --rmi local
is "$rc" 9 "verify --rmi local (the stack file names $web): still exit 9"
like "$out" "leftover: image $web:" "verify names the image"
run "$ITM_ENV" verify --rmi local --force --json
is "$rc" 0 "verify --rmi local --force: exit 0"
is "$(printf '%s' "$out" | jq -r '[.left[] | select(.kind == "image" and .removed)] | length')" 1 \
  "JSON: the image is marked removed (--force)"
ok "--force took our name off the image" absent "$web"
is "$(engine_get "/containers/$user/json" | jq -r .State.Running)" true \
  "the container that is not ours still runs"
engine_req DELETE "/containers/$user?force=1" >/dev/null
engine_req DELETE "/images/$tagged" >/dev/null

# ---- built, never up: found through the stack file ----
run "$ITM_ENV" build web
is "$rc" 0 "build web"
ok "$web exists" exists "$web"
run "$ITM_ENV" down --rmi local
is "$rc" 0 "down --rmi local with no container: exit 0"
ok "the stack file named $web: gone" absent "$web"

# ---- run ----
run "$ITM_ENV" run -p "$ITM_NS" --rmi local -- sh -c 'echo ran'
is "$rc" 0 "run --rmi local: exit 0"
ok "run --rmi local removed $web" absent "$web"
ok "run --rmi local kept $tagged" exists "$tagged"

# ---- usage ----
run "$ITM_ENV" down --rmi everything
is "$rc" 2 "down --rmi everything: usage error"
like "$err" "down: --rmi: expected local or all, got 'everything'" "and says what is expected"
run "$ITM_ENV" verify --rmi
is "$rc" 2 "verify --rmi without a value: usage error"
done_testing
