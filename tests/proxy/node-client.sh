#!/bin/sh
# node-client.sh - Toxiproxy's Node client from the npm registry
# (toxiproxy-node-client 4.1.0, installed once into the fixture cache
# /var/cache/itm-env-fixtures/npm, never globally) creates, lists, updates
# and removes proxies and toxics against `itm-env proxy`, and gets the
# answers Toxiproxy's API documentation promises (tests/proxy/client.js).
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd node npm flock
cache=${ITM_FIXTURE_CACHE:-/var/cache/itm-env-fixtures}/npm/toxiproxy-node-client
mkdir -p "$cache" 2>/dev/null || skip_all "cannot create $cache"
(
  flock 9
  if [ ! -f "$cache/node_modules/toxiproxy-node-client/package.json" ]; then
    echo '{"name":"itm-fixture-toxiproxy-client","private":true}' >"$cache/package.json"
    cd "$cache" && timeout 300 npm install --no-audit --no-fund --no-save toxiproxy-node-client@4.1.0 >&2
  fi
) 9>"$cache.lock" || skip_all "npm install toxiproxy-node-client failed (no registry?)"

"$ITM_ENV" proxy --listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.err" & px_pid=$!
at_exit "kill $px_pid 2>/dev/null || :"
wait_for 10 grep -q "API on" "$tmp/proxy.out" || bail "proxy did not start: $(cat "$tmp/proxy.err")"
api=http://$(sed -n 's/^itm-env proxy: API on //p' "$tmp/proxy.out")

run env NODE_PATH="$cache/node_modules" node "$ITM_SRCDIR/tests/proxy/client.js" "$api" 127.0.0.1:9
is "$rc" 0 "the client script ran"
printf '%s\n' "$out" | {
  while IFS= read -r line; do
    case $line in
      "ok "*) echo "PASS ${line#ok }" ;;
      *) echo "FAIL ${line#not ok }" ;;
    esac
  done
} >"$tmp/results"
while IFS= read -r line; do
  case $line in
    PASS*) pass "node client: ${line#PASS }" ;;
    *) fail "node client: ${line#FAIL }" ;;
  esac
done <"$tmp/results"
like "$(grep -c . "$tmp/results")" '^18$' "all 18 checks of client.js reported"
done_testing
