#!/bin/sh
# engine-api-cache.sh - the cache of negotiated API versions (ps, env and
# port skip /_ping) against the fake engine, which logs the calls it gets
# and, with --strict-api, refuses versions it does not speak as a real
# engine does: a fresh cache, a warm one, a cached version the engine
# refuses (too new, too old: renegotiated, the call made again), an engine
# restarted with another version, two engines (DOCKER_HOST) not mixing,
# ITM_ENV_NO_API_CACHE, an entry others may write; and ps without libcurl.
set -eu
: "${ITM_ENV:?}" "${ITM_BUILDDIR:?}"
FAKE=$ITM_BUILDDIR/tests/fake-engine
T=$(mktemp -d /tmp/itm-api-cache.XXXXXX)
PIDS=""
cleanup () {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY ITM_ENV_NO_API_CACHE || true
export ITM_ENV_STATE_DIR=$T/state ITM_ENV_CACHE_DIR=$T/cache ITM_ENV_NO_REAP=1
export DOCKER_CONFIG=$T/docker-config

n=0 failed=0
ok () { n=$((n + 1)); if [ "${1:-1}" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
diag () { sed 's/^/# /' "$@"; }

# an empty namespace: the lists the read side makes
mkdir -p "$T/rec"
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]\n' >"$T/rec/containers_json"
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]\n' >"$T/rec/networks"
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"Volumes":[]}\n' >"$T/rec/volumes"

# fake NAME ARGS...: (re)start a fake engine on $T/NAME.sock, logging to $T/NAME.log
fake () {
  name=$1; shift
  rm -f "$T/$name.sock"
  timeout 60 "$FAKE" --socket "$T/$name.sock" --dir "$T/rec" --lifetime 50 --requests 1000 \
    --strict-api --log "$T/$name.log" "$@" &
  eval "pid_$name=$!"
  PIDS="$PIDS $!"
  i=0; while [ ! -S "$T/$name.sock" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}
stop () { eval "kill \$pid_$1; wait \$pid_$1 2>/dev/null || true"; }
# ps NAME: itm-env ps on that engine (DOCKER_HOST), the log of this run alone
ps_on () {
  : >"$T/$1.log"
  set +e
  DOCKER_HOST="unix://$T/$1.sock" timeout 20 "$ITM_ENV" ps -p apicache >"$T/out" 2>"$T/err"
  rc=$?
  set -e
}
pings () { grep -c '^GET /_ping' "$T/$1.log" || true; }
used () { grep -q "^GET /v$2/containers/json" "$T/$1.log"; }
entries () { find "$T/cache" -name 'engine-api-*' -type f 2>/dev/null | wc -l; }

fake a --api 1.43
ps_on a
ok "$([ $rc -eq 0 ] && [ "$(pings a)" -eq 1 ] && used a 1.43 && [ "$(entries)" -eq 1 ]; echo $?)" \
  "fresh cache: /_ping, API 1.43, one entry written"
diag "$T/err" "$T/a.log"
ps_on a
ok "$([ $rc -eq 0 ] && [ "$(pings a)" -eq 0 ] && used a 1.43; echo $?)" "warm cache: no /_ping, API 1.43"
diag "$T/err" "$T/a.log"
ok "$(! grep -q '^GET /v1.43/networks\|^GET /v1.43/volumes' "$T/a.log"; echo $?)" \
  "ps lists no networks and no volumes"
: >"$T/a.log"
set +e
DOCKER_HOST="unix://$T/a.sock" timeout 20 "$ITM_ENV" env -p apicache >/dev/null 2>"$T/err"
DOCKER_HOST="unix://$T/a.sock" timeout 20 "$ITM_ENV" port -p apicache web 80 >/dev/null 2>>"$T/err"
set -e
ok "$([ "$(pings a)" -eq 0 ] && [ "$(grep -c '^GET /v1.43/containers/json' "$T/a.log")" -eq 2 ]; echo $?)" \
  "env and port: no /_ping either"
diag "$T/a.log"

# ps makes its plain GETs on the socket itself: libcurl is not loaded
: >"$T/a.log"
set +e
LD_DEBUG=files DOCKER_HOST="unix://$T/a.sock" timeout 20 "$ITM_ENV" ps -p apicache >/dev/null 2>"$T/ld"
rc=$?
set -e
ok "$([ $rc -eq 0 ] && grep -q 'file=libc.so' "$T/ld" && ! grep -q 'file=libcurl' "$T/ld" \
     && used a 1.43; echo $?)" "ps loads no libcurl (its GETs go on the socket without it)"
grep 'file=libcurl' "$T/ld" | head -3 | diag

# the engine refuses the cached version (same socket: the identity holds)
entry=$(find "$T/cache" -name 'engine-api-*' -type f 2>/dev/null || true)
[ -n "$entry" ] || { echo "Bail out! no cache entry was written"; exit 1; }
sed -i 's/\t1\.43\t1\.43$/\t1.45\t1.45/' "$entry"
ps_on a
ok "$([ $rc -eq 0 ] && used a 1.45 && [ "$(pings a)" -eq 1 ] && used a 1.43 \
     && grep -q '	1\.43	1\.43$' "$entry"; echo $?)" \
  "cached 1.45 refused as too new: renegotiated to 1.43, the call made again, entry rewritten"
diag "$T/err" "$T/a.log" "$entry"
ps_on a
ok "$([ $rc -eq 0 ] && [ "$(pings a)" -eq 0 ] && used a 1.43; echo $?)" "then warm again"

fake old --api 1.45 --min-api 1.44
ps_on old
old_entry=$(grep -l "$T/old.sock" "$T"/cache/engine-api-* | head -1)
sed -i 's/\t1\.45\t1\.45$/\t1.41\t1.41/' "$old_entry"
ps_on old
ok "$([ $rc -eq 0 ] && used old 1.41 && [ "$(pings old)" -eq 1 ] && used old 1.45; echo $?)" \
  "cached 1.41 refused as too old (minimum 1.44): renegotiated to 1.45"
diag "$T/err" "$T/old.log"

# an engine restarted (a new socket) with another version
stop a
fake a --api 1.41
ps_on a
ok "$([ $rc -eq 0 ] && [ "$(pings a)" -eq 1 ] && used a 1.41 && ! used a 1.43; echo $?)" \
  "engine restarted as API 1.41: the entry is not used, /_ping, API 1.41"
diag "$T/err" "$T/a.log"

# two engines: each its own entry
fake b --api 1.44
ps_on b
ps_on a; a_rc=$rc; a_ok=$([ "$(pings a)" -eq 0 ] && used a 1.41; echo $?)
ps_on b
ok "$([ $a_rc -eq 0 ] && [ "$a_ok" -eq 0 ] && [ $rc -eq 0 ] && [ "$(pings b)" -eq 0 ] && used b 1.44 \
     && [ "$(entries)" -eq 3 ]; echo $?)" "two engines (DOCKER_HOST): 1.41 and 1.44, warm, not mixed"
diag "$T/b.log"

# off
: >"$T/b.log"
ITM_ENV_NO_API_CACHE=1 DOCKER_HOST="unix://$T/b.sock" timeout 20 "$ITM_ENV" ps -p apicache >/dev/null 2>&1
ok "$([ "$(pings b)" -eq 1 ]; echo $?)" "ITM_ENV_NO_API_CACHE=1: /_ping"

# an entry others may write is not trusted
b_entry=$(grep -l "$T/b.sock" "$T"/cache/engine-api-* | head -1)
chmod 0666 "$b_entry"
ps_on b
ok "$([ $rc -eq 0 ] && [ "$(pings b)" -eq 1 ]; echo $?)" "a group/world-writable entry is ignored"
diag "$T/err"

# other commands negotiate afresh (version reports the engine's answer)
: >"$T/b.log"
DOCKER_HOST="unix://$T/b.sock" timeout 20 "$ITM_ENV" version >/dev/null 2>&1 || true
ok "$([ "$(pings b)" -eq 1 ]; echo $?)" "version negotiates afresh"

echo "1..$n"
[ "$failed" -eq 0 ]
