#!/bin/sh
# fixtures.sh - the fixture images exist, are cached, and really work:
# busybox runs its applets; PostgreSQL takes psql with the password from the
# host through a port published on 127.0.0.1 (POSTGRES_USER/PASSWORD/DB,
# initdb.d scripts, a missing password refused); Redis answers PING.
# Containers are created with the engine API through curl (the test bed
# checks itself here, not itm-env), labelled with this test's namespace,
# and removed.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq psql pg_isready redis-cli
need_fixtures

tool=$ITM_BUILDDIR/tests/itm-fixture
for ref in itm-fixture/busybox:latest itm-fixture/debian-data:bookworm \
    itm-fixture/postgres:15 itm-fixture/redis:7; do
  run "$tool" label "$ref" io.itm-env.fixture-hash
  like "$out" '^[0-9a-f]{24}$' "$ref carries its fixture hash"
done
run "$tool" label itm-fixture/busybox:latest io.itm-env.no-such-label
is "$rc" 1 "itm-fixture label: a missing label exits 1"
run "$tool" label itm-fixture/no-such-image:latest io.itm-env.fixture-hash
is "$rc" 1 "itm-fixture label: a missing image exits 1"

run "$ITM_SRCDIR/tests/fixtures/build.sh"
is "$rc" 0 "build.sh again succeeds"
is "$(printf '%s\n' "$err" | grep -c 'is up to date')" 4 "build.sh again rebuilds nothing"
# one derived image alone: its base is checked first and keeps its own name
# (build.sh once tagged postgres as debian-data here)
dd=$("$tool" label itm-fixture/debian-data:bookworm io.itm-env.fixture-hash)
run "$ITM_SRCDIR/tests/fixtures/build.sh" postgres
is "$rc:$(printf '%s\n' "$err" | grep -c 'is up to date')" 0:2 "build.sh postgres alone: debian-data and postgres up to date"
is "$("$tool" label itm-fixture/debian-data:bookworm io.itm-env.fixture-hash)" "$dd" \
  "build.sh postgres alone leaves debian-data as it was"

# ---- containers, through the API ----
ctrs=
# create NAME JSON: create and start a container; its id in $cid
create () {
  cid=$(engine_req POST "/containers/create?name=$ITM_NS-$1" \
          -H 'Content-Type: application/json' -d "$2" | jq -r .Id)
  ctrs="$ctrs $cid"
  at_exit "engine_req DELETE '/containers/$cid?force=1&v=1' >/dev/null 2>&1 || true"
  engine_req POST "/containers/$cid/start" >/dev/null
}
host_port () { # CID PORT/tcp
  engine_get "/containers/$1/json" | jq -r --arg p "$2" '.NetworkSettings.Ports[$p][0].HostPort'
}
labels="\"Labels\": {\"io.itm-env.namespace\": \"$ITM_NS\"}"

# busybox: a shell and applets, users from /etc/passwd, a writable /tmp.
create bb "{\"Image\": \"itm-fixture/busybox:latest\", \"Tty\": true, $labels,
  \"Cmd\": [\"sh\", \"-c\", \"echo hi from \$(whoami); touch /tmp/x && ls /bin/httpd /bin/nc /bin/wget >/dev/null && echo applets\"]}"
st=$(engine_req POST "/containers/$cid/wait" | jq -r .StatusCode)
is "$st" 0 "busybox: sh -c ... exits 0"
logs=$(engine_get "/containers/$cid/logs?stdout=1&stderr=1" | tr -d '\r')
like "$logs" '^hi from root$' "busybox: whoami is root"
like "$logs" '^applets$' "busybox: httpd, nc and wget are there"

# PostgreSQL
mkdir -p "$tmp/initdb"
chmod 755 "$tmp" "$tmp/initdb"
echo 'CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (42);' >"$tmp/initdb/01-seed.sql"
create pg "{\"Image\": \"itm-fixture/postgres:15\", $labels,
  \"Env\": [\"POSTGRES_USER=app\", \"POSTGRES_PASSWORD=s3cret pw\", \"POSTGRES_DB=appdb\"],
  \"HostConfig\": {\"Binds\": [\"$tmp/initdb:/docker-entrypoint-initdb.d:ro\"],
    \"PortBindings\": {\"5432/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}]}}}"
pg=$cid
pgport=$(host_port "$pg" 5432/tcp)
like "$pgport" '^[0-9]+$' "postgres: 5432 published on 127.0.0.1 ($pgport)"
ok "postgres: ready within 60 s" wait_for 60 pg_isready -q -h 127.0.0.1 -p "$pgport"
run env PGPASSWORD='s3cret pw' PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$pgport" -U app -d appdb \
  -Atc 'SELECT current_user, current_database(), (SELECT x FROM seeded)'
is "$out" 'app|appdb|42' "postgres: psql from the host with the password; initdb.d ran"
run env PGPASSWORD=wrong PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$pgport" -U app -d appdb -Atc 'SELECT 1'
like "$err" 'password authentication failed' "postgres: a wrong password is refused"
run env PGPASSWORD='s3cret pw' psql -h 127.0.0.1 -p "$pgport" -U app -d appdb -Atc 'SHOW server_encoding'
is "$out" UTF8 "postgres: UTF8 encoding"
uids=$(engine_get "/containers/$pg/top?ps_args=-o%20pid,uid" | jq -r '[.Processes[] | .[1]] | unique | join(",")')
like "$uids" '^[1-9][0-9]*$' "postgres: every process runs as one non-root user ($uids)"

# No password: refused, as the official image does.
create pgnopw "{\"Image\": \"itm-fixture/postgres:15\", $labels}"
st=$(engine_req POST "/containers/$cid/wait" | jq -r .StatusCode)
is "$st" 1 "postgres without POSTGRES_PASSWORD exits 1"
logs=$(engine_get "/containers/$cid/logs?stderr=1" | tr -d '\000-\010')
like "$logs" 'superuser password is not specified' "postgres without a password says why"

# Redis, with an argument.
create redis "{\"Image\": \"itm-fixture/redis:7\", $labels, \"Cmd\": [\"--maxmemory\", \"10mb\"],
  \"HostConfig\": {\"PortBindings\": {\"6379/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}]}}}"
rport=$(host_port "$cid" 6379/tcp)
ok "redis: answers PING within 30 s" wait_for 30 sh -c "redis-cli -h 127.0.0.1 -p $rport PING | grep -qx PONG"
run redis-cli -h 127.0.0.1 -p "$rport" CONFIG GET maxmemory
is "$(printf '%s\n' "$out" | tail -1)" 10485760 "redis: arguments reach redis-server"
uids=$(engine_get "/containers/$cid/top?ps_args=-o%20pid,uid" | jq -r '[.Processes[] | .[1]] | unique | join(",")')
like "$uids" '^[1-9][0-9]*$' "redis: runs as a non-root user ($uids)"

# Anything else is exec'd; psql, pg_isready and redis-cli are in the image.
create other "{\"Image\": \"itm-fixture/debian-data:bookworm\", \"Tty\": true, $labels,
  \"Cmd\": [\"sh\", \"-c\", \"for c in psql pg_isready redis-cli; do command -v \$c; done | wc -l\"]}"
engine_req POST "/containers/$cid/wait" >/dev/null
is "$(engine_get "/containers/$cid/logs?stdout=1" | tr -d '\r')" 3 "debian-data: other commands run as given; clients are there"

# itm-fixture build: the context is tarred as it is sent (files, a symlink,
# a file bigger than a pipe's buffer), and a failing build gives exit 5
# with the engine's message.
ctx=$tmp/ctx
mkdir -p "$ctx/data/sub"
echo hello >"$ctx/data/sub/file"
ln -s sub/file "$ctx/data/link"
head -c 3000000 /dev/urandom >"$ctx/data/big"
printf '%s\n' 'FROM itm-fixture/busybox:latest' 'COPY data /data' >"$ctx/Dockerfile"
img=$ITM_NS-ctx:1
run "$tool" build "$img" "$ctx" --label "io.itm-env.namespace=$ITM_NS"
is "$rc" 0 "itm-fixture build: a context with a symlink and a 3 MB file"
create ctx "{\"Image\": \"$img\", \"Tty\": true, $labels,
  \"Cmd\": [\"sh\", \"-c\", \"cat /data/link; readlink /data/link; md5sum /data/big\"]}"
engine_req POST "/containers/$cid/wait" >/dev/null
got=$(engine_get "/containers/$cid/logs?stdout=1" | tr -d '\r')
want=$(printf 'hello\nsub/file\n%s  /data/big' "$(md5sum <"$ctx/data/big" | cut -d' ' -f1)")
is "$got" "$want" "itm-fixture build: the files arrive whole, the symlink as a symlink"
printf '%s\n' 'FROM itm-fixture/busybox:latest' 'RUN echo step-one && false' >"$ctx/Dockerfile"
run "$tool" build "$ITM_NS-fail:1" "$ctx"
is "$rc" 5 "itm-fixture build: a failing step exits 5"
like "$err" "returned a non-zero code: 1" "itm-fixture build: with the engine's message"
like "$out" "step-one" "itm-fixture build: progress is printed as it arrives"

for c in $ctrs; do
  engine_req DELETE "/containers/$c?force=1&v=1" >/dev/null || true
done
engine_req DELETE "/images/$img?force=1" >/dev/null || true
done_testing
