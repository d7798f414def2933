#!/bin/sh
# contexts.sh - docker contexts as the docker CLI reads them: a context
# store written here ($DOCKER_CONFIG/contexts/meta/<sha256>/meta.json and
# contexts/tls/<sha256>/docker/*.pem) naming the engine under test through
# a TLS front (socat, client certificate required, as tls.sh) and its unix
# socket; --context, DOCKER_CONTEXT and currentContext pick one; -H and
# DOCKER_HOST win over DOCKER_CONTEXT and currentContext, --context wins
# over DOCKER_HOST and -H with --context is a usage error (as in the CLI);
# doctor names the context; an unknown context: exit 2 naming the file.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd openssl socat jq
need_fixtures busybox
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_TLS || true
at_exit "'$ITM_ENV' -H 'unix://$ITM_SOCK' down -p '$ITM_NS' >/dev/null 2>&1"

pki=$tmp/pki
mkdir -p "$pki"
cd "$pki"
mkca () {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1-key.pem" -subj "/CN=itm-env test $1" -days 2 -out "$1.pem" 2>/dev/null
}
mkcert () { # NAME CA SUBJECT EXT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1-key.pem" -subj "$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial \
    -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mkca ca
mkcert server ca /CN=127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
mkcert client ca /CN=itm-test-client "extendedKeyUsage=clientAuth"
[ -s client.pem ] && [ -s server.pem ] || bail "openssl did not make the certificates"
cd - >/dev/null

tls_front "$pki"

# ---- the store, written as the docker CLI writes it ----
export DOCKER_CONFIG=$tmp/dockercfg
sha () { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
mkctx () { # NAME HOST [TLS-DIR]
  _id=$(sha "$1")
  mkdir -p "$DOCKER_CONFIG/contexts/meta/$_id"
  printf '{"Name":"%s","Metadata":{"Description":"itm-env test"},"Endpoints":{"docker":{"Host":"%s","SkipTLSVerify":false}}}\n' \
    "$1" "$2" >"$DOCKER_CONFIG/contexts/meta/$_id/meta.json"
  if [ -n "${3:-}" ]; then
    mkdir -p "$DOCKER_CONFIG/contexts/tls/$_id/docker"
    cp "$3/ca.pem" "$DOCKER_CONFIG/contexts/tls/$_id/docker/ca.pem"
    cp "$3/client.pem" "$DOCKER_CONFIG/contexts/tls/$_id/docker/cert.pem"
    cp "$3/client-key.pem" "$DOCKER_CONFIG/contexts/tls/$_id/docker/key.pem"
  fi
}
mkctx itm-tls "tcp://127.0.0.1:$port" "$pki"
mkctx itm-unix "unix://$ITM_SOCK"
mkctx itm-nowhere "unix://$tmp/no-such.sock"

unset DOCKER_HOST || true
run "$ITM_ENV" --context itm-tls doctor
is "$rc" 0 "--context itm-tls: doctor passes over TLS with the store's certificates"
like "$(printf '%s\n' "$out" | grep '^ok    engine:')" \
  "^ok    engine: tcp://127\\.0\\.0\\.1:$port \\(TLS\\), engine .* \\(docker context itm-tls, from --context\\)\$" \
  "doctor names the endpoint and the context"

if command -v docker >/dev/null 2>&1; then
  run docker --context itm-tls version --format '{{.Server.APIVersion}}'
  is "$rc" 0 "the docker CLI reads the same store (docker --context itm-tls version)"
fi

run env DOCKER_CONTEXT=itm-tls "$ITM_ENV" doctor --json
is "$rc" 0 "DOCKER_CONTEXT=itm-tls: doctor passes"
like "$(printf '%s' "$out" | jq -r '.checks[0].detail')" "docker context itm-tls, from DOCKER_CONTEXT" \
  "... from DOCKER_CONTEXT"

printf '{"auths":{},"currentContext":"itm-tls"}\n' >"$DOCKER_CONFIG/config.json"
cd "$tmp"
cat >stack.yml <<EOF2
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
EOF2
run "$ITM_ENV" -f stack.yml -p "$ITM_NS" up --timeout 60
is "$rc" 0 "currentContext itm-tls: up over TLS"
run "$ITM_ENV" -p "$ITM_NS" exec app echo via-context
is "$out" via-context "... exec over the context"
run "$ITM_ENV" doctor
like "$(printf '%s\n' "$out" | grep '^ok    engine:')" "docker context itm-tls, from currentContext in $DOCKER_CONFIG/config.json" \
  "doctor: the context came from config.json"

run env DOCKER_CONTEXT=itm-nowhere "$ITM_ENV" -p "$ITM_NS" ps
is "$rc" 4 "DOCKER_CONTEXT beats currentContext (itm-nowhere: exit 4)"
like "$err" "$tmp/no-such.sock" "... naming the context's socket"
run env DOCKER_CONTEXT=itm-nowhere DOCKER_HOST="unix://$ITM_SOCK" "$ITM_ENV" doctor
is "$rc" 0 "DOCKER_HOST wins over DOCKER_CONTEXT"
unlike "$out" "docker context" "... and doctor names no context"
run "$ITM_ENV" -H "unix://$ITM_SOCK" doctor
is "$rc" 0 "-H wins over currentContext"
run env DOCKER_HOST="unix://$tmp/no-such.sock" "$ITM_ENV" --context itm-unix doctor
is "$rc" 0 "--context wins over DOCKER_HOST (as in the CLI)"
run "$ITM_ENV" -H "unix://$ITM_SOCK" --context itm-unix doctor
is "$rc" 2 "-H with --context: usage error"
like "$err" "conflicting options: -H and --context" "... saying so"
run "$ITM_ENV" --context default doctor
is "$rc" 0 "--context default: the environment's engine"
run "$ITM_ENV" --context no-such-ctx ps
is "$rc" 2 "an unknown context: exit 2"
like "$err" "docker context 'no-such-ctx' \\(from --context\\) does not exist: no $DOCKER_CONFIG/contexts/meta/$(sha no-such-ctx)/meta.json" \
  "... naming the file looked for"

run "$ITM_ENV" -p "$ITM_NS" down
is "$rc" 0 "down over the context"

# up killed over the TLS context: its watchdog uses the same context (the
# TLS material is in the store, not the environment) and removes the lot
cat >slow.yml <<EOF2
services:
  db:
    image: itm-fixture/busybox:latest
    command: ["sh", "-c", "sleep 30"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/never"]
      interval: 1s
EOF2
ns2=$ITM_NS-k
at_exit "'$ITM_ENV' -H 'unix://$ITM_SOCK' down -p '$ns2' >/dev/null 2>&1"
count () {
  engine_get "/containers/json?all=1&filters=$(ns_filter "$ns2")" | jq length
}
"$ITM_ENV" -f slow.yml -p "$ns2" up --timeout 60 >"$tmp/slow.log" 2>&1 &
upid=$!
seen () { [ "$(count)" != 0 ]; }
wait_for 30 seen || diag "no container seen before the kill"
kill -KILL "$upid" 2>/dev/null || true
wait "$upid" 2>/dev/null || true
gone () { [ "$(count)" = 0 ]; }
ok "up killed over the TLS context: its watchdog removes the namespace (within 30 s)" wait_for 30 gone
done_testing
