#!/bin/sh
# tls.sh - the real engine over TLS: socat terminates TLS (with client
# certificates required) in front of the engine's unix socket, on a free
# port on 127.0.0.1; certificates are made here with openssl.
#   - DOCKER_HOST=tcp://... DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=...: doctor passes
#   - a CA that did not sign the engine's certificate: exit 4, one line about TLS verification
#   - a client certificate the engine does not trust: exit 4
#   - DOCKER_CERT_PATH without the files: exit 4, naming the file
#   - exec with stdin piped in: the input reaches the command, its end is
#     the command's EOF, the output after it and the exit code come back
# (socat -t 30: after one direction ends, socat carries the other on for
# 30 s, not its default 0.5 s, as the engine's own TLS listener does)
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd openssl socat jq
need_fixtures busybox
ITM_TEST_TIMEOUT=60

one_line () {
  is "$(printf '%s\n' "$err" | grep -v '^itm-env: hint:' | grep -c . || true)" 1 "$1: one line of error"
}

# ---- certificates ----
pki=$tmp/pki
mkdir -p "$pki"
cd "$pki"
mkcert () { # NAME CA-NAME SUBJECT EXT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1-key.pem" -subj "$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial \
    -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mkca () { # NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1-key.pem" -subj "/CN=itm-env test $1" -days 2 -out "$1.pem" 2>/dev/null
}
mkca ca
mkca otherca
mkcert server ca /CN=127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
mkcert client ca /CN=itm-test-client "extendedKeyUsage=clientAuth"
mkcert rogue otherca /CN=itm-test-rogue "extendedKeyUsage=clientAuth"
for f in ca.pem server.pem client.pem rogue.pem; do
  [ -s "$f" ] || bail "openssl did not make $f"
done
certdir () { # DIR CA CLIENT
  mkdir -p "$1"
  cp "$2.pem" "$1/ca.pem"
  cp "$3.pem" "$1/cert.pem"
  cp "$3-key.pem" "$1/key.pem"
}
certdir good ca client
certdir badca otherca client
certdir rogue ca rogue
cd - >/dev/null

# ---- the TLS front ----
tls_front "$pki"
pass "the TLS front answers curl with the client certificate"

# (a word list, not a function: `run` runs commands under timeout(1))
tlsenv="env DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH"

run $tlsenv=$pki/good "$ITM_ENV" doctor
is "$rc" 0 "doctor passes over TLS"
like "$out" "tcp://127\.0\.0\.1:$port" "doctor names the TLS endpoint"
is "$(printf '%s\n' "$out" | grep -cv '^ok ' || true)" 0 "every doctor line over TLS says ok"

run $tlsenv=$pki/good "$ITM_ENV" version --json
is "$rc" 0 "version --json over TLS"
is "$(printf '%s' "$out" | jq -r .engine.api_version 2>/dev/null || true)" \
  "$(engine_get /version | jq -r .ApiVersion)" "version --json over TLS: the engine's API version"

run $tlsenv=$pki/badca "$ITM_ENV" version
is "$rc" 4 "a CA that did not sign the engine's certificate: exit 4"
like "$err" 'TLS verification' "a CA that did not sign the engine's certificate: says TLS verification failed"
one_line "a CA that did not sign the engine's certificate"

run $tlsenv=$pki/badca "$ITM_ENV" doctor
is "$rc" 4 "doctor with the wrong CA: exit 4"

run $tlsenv=$pki/rogue "$ITM_ENV" version
is "$rc" 4 "a client certificate the engine does not trust: exit 4"
like "$err" '(TLS|certificate)' "a client certificate the engine does not trust: says so"
one_line "a client certificate the engine does not trust"

run $tlsenv=$tmp/no-such-dir "$ITM_ENV" version
is "$rc" 4 "DOCKER_CERT_PATH without certificates: exit 4"
like "$err" "$tmp/no-such-dir/(ca|cert|key)\.pem" "DOCKER_CERT_PATH without certificates: names the file"

# The engine's name must match its certificate: localhost is not 127.0.0.1.
run env DOCKER_HOST="tcp://localhost:$port" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$pki/good" "$ITM_ENV" version
is "$rc" 4 "a host name the certificate does not cover: exit 4"
like "$err" 'TLS' "a host name the certificate does not cover: a TLS message"

# exec over TLS with stdin: the hijacked stream over TLS
. "$ITM_SRCDIR/tests/readside/lib.sh"
rs_net
rs_ctr box 1 '{"Cmd":["sleep","600"]}'
printf 'line1\nline2\n' >"$tmp/in"
set +e
timeout 60 $tlsenv=$pki/good "$ITM_ENV" exec box sh -c 'wc -l; sleep 1; echo after-eof; exit 6' \
  <"$tmp/in" >"$tmp/o" 2>"$tmp/e"
rc=$?
set -e
is "$rc" 6 "exec over TLS with stdin: the command's exit code"
is "$(tr -d ' ' <"$tmp/o" | tr '\n' ' ')" "2 after-eof " "exec over TLS: stdin reached the command, output after its EOF came back"
is "$(cat "$tmp/e")" "" "exec over TLS: no warning"
head -c 1000000 /dev/zero >"$tmp/big"
set +e
timeout 60 $tlsenv=$pki/good "$ITM_ENV" exec box wc -c <"$tmp/big" >"$tmp/o" 2>"$tmp/e"
rc=$?
set -e
is "$rc.$(tr -d ' ' <"$tmp/o")" "0.1000000" "exec over TLS: 1 MB of stdin arrives whole"
set +e
timeout 60 $tlsenv=$pki/good "$ITM_ENV" exec box cat <&- >"$tmp/o" 2>"$tmp/e"
rc=$?
set -e
is "$rc.$(cat "$tmp/o")" "0." "exec over TLS with stdin closed: EOF at once"
rs_cleanup

kill "$socat_pid" 2>/dev/null || true
done_testing
