# lib.sh - shared setup for the shell integration tests (TAP), sourced by
# every tests/integration/*.sh:
#
#   . "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
#                              # (this finds or starts the engine, or skips
#                              # the test: ITM_TEST_NEEDS_ENGINE=0 opts out)
#   need_fixtures              # (optional) build/reuse the fixture images
#   run "$ITM_ENV" doctor      # sets $rc, $out (stdout), $err (stderr)
#   is "$rc" 0 "doctor passes"
#   done_testing
#
# What it sets up: `set -eu`; $ITM_ENV (the binary under test), $ITM_SRCDIR,
# $ITM_BUILDDIR; $tmp, a private directory removed at exit; $ITM_NS, a
# namespace unique to this test process (itmt-<test>-<pid>), exported as
# ITM_ENV_NAMESPACE.  At exit, any container, network or volume labelled
# io.itm-env.namespace=$ITM_NS is a leak: it gives a failing TAP line naming
# it, and is removed; so is the namespace's state directory under
# $ITM_ENV_STATE_DIR ($tmp/state unless set; ITM_TEST_KEEPS_STATE=1 for a
# test that leaves it on purpose).  Image names $ITM_NS-... still there at
# exit are untagged (a diagnostic line says so).  The exit status is
# non-zero when a test failed.
# shellcheck shell=sh

set -eu

ITM_SRCDIR=${ITM_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ITM_BUILDDIR=${ITM_BUILDDIR:-$(pwd)}
ITM_ENV=${ITM_ENV:-$ITM_BUILDDIR/itm-env}
export ITM_SRCDIR ITM_BUILDDIR ITM_ENV
PATH=$PATH:/usr/sbin:/sbin

test_name=$(basename "$0" .sh)
ITM_NS=itmt-$(printf %s "$test_name" | tr -c 'a-zA-Z0-9_.\n-' - | cut -c1-30)-$$
ITM_ENV_NAMESPACE=$ITM_NS
export ITM_ENV_NAMESPACE
# GitHub annotations (::error lines on stdout) are for CI logs, not for tests
# that parse what itm-env prints; a test that wants them sets it itself.
unset GITHUB_ACTIONS

_tap_n=0
_tap_failed=0
_tap_planned=
_tap_done=
_cleanups=
# The observers' socket: the engine under test when it is a unix socket.
case "${DOCKER_HOST:-}" in
  unix://*) ITM_SOCK=${DOCKER_HOST#unix://} ;;
  *) ITM_SOCK=/var/run/docker.sock ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/itmt-$test_name.XXXXXX")
# itm-env's state (snapshots, secrets, watchdog marks) stays in the test's
# own directory, never in the user's ~/.local/state; at the end the
# namespace's state directory must be gone, as a clean down leaves it.
ITM_ENV_STATE_DIR=${ITM_ENV_STATE_DIR:-$tmp/state}
export ITM_ENV_STATE_DIR

# ---- TAP ----
plan () { _tap_planned=$1; echo "1..$1"; }
diag () { printf '%s\n' "$@" | sed 's/^/# /'; }
pass () { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail () { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip () { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# ok DESC CMD...: passes when CMD exits 0 (its output goes to stderr).
ok () {
  _d=$1; shift
  if "$@" >&2; then pass "$_d"; else fail "$_d"; diag "command failed: $*"; fi
}
# is GOT WANT DESC
is () {
  if [ "$1" = "$2" ]; then pass "$3"; else
    fail "$3"; diag "got:  '$1'" "want: '$2'"
    [ -z "${out:-}${err:-}" ] || diag "stdout: ${out:-}" "stderr: ${err:-}"
  fi
}
# like GOT ERE DESC: GOT matches the extended regular expression.
like () {
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass "$3"; else
    fail "$3"; diag "got:  '$1'" "want match: /$2/"
  fi
}
# unlike GOT ERE DESC
unlike () {
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then
    fail "$3"; diag "got:  '$1'" "should not match: /$2/"
  else pass "$3"; fi
}
# lines TEXT: how many lines.
lines () { printf '%s' "$1" | awk 'END { print NR }'; }
# skip_all REASON: the whole test is skipped (before any test line).
skip_all () { echo "1..0 # SKIP $*"; _tap_done=1; exit 0; }
# bail REASON: the test bed itself is broken.
bail () { echo "Bail out! $*"; _tap_done=1; exit 1; }
done_testing () {
  _lib_leak_check
  if [ -d "$ITM_ENV_STATE_DIR/$ITM_NS" ] && [ -z "${ITM_TEST_KEEPS_STATE:-}" ]; then
    fail "no leftover: state directory $ITM_ENV_STATE_DIR/$ITM_NS ($(ls -A "$ITM_ENV_STATE_DIR/$ITM_NS" | tr '\n' ' '))"
  fi
  [ -n "$_tap_planned" ] || echo "1..$_tap_n"
  _tap_done=1
}

# run CMD...: run without tripping `set -e`; sets $rc, $out, $err.  A
# command that runs longer than $ITM_TEST_TIMEOUT (120 s) is killed (rc 124).
run () {
  set +e
  timeout -k 5 "${ITM_TEST_TIMEOUT:-120}" "$@" >"$tmp/.out" 2>"$tmp/.err" </dev/null
  rc=$?
  set -e
  out=$(cat "$tmp/.out")
  err=$(cat "$tmp/.err")
  # keep the log readable
  printf '+ %s\n[rc=%s]\n%s%s' "$*" "$rc" "${out:+$out
}" "${err:+$err
}" >&2
}

# at_exit CMD: run CMD (a shell string) at exit, last registered first.
at_exit () { _cleanups="$1
$_cleanups"; }

# ---- the engine, observed with curl (never with itm-env itself) ----
# engine_req METHOD PATH [CURL-ARGS...]: the body on stdout; fails on >= 400.
engine_req () {
  _m=$1 _p=$2; shift 2
  _b=$(curl -sS --max-time 60 --unix-socket "$ITM_SOCK" -X "$_m" -w '\n%{http_code}' "$@" \
         "http://engine$_p") || return 1
  _code=${_b##*
}
  _b=${_b%
*}
  if [ "$_code" -ge 400 ] 2>/dev/null; then
    echo "engine_req: $_m $_p: HTTP $_code: $_b" >&2
    return 1
  fi
  [ -z "$_b" ] || printf '%s\n' "$_b"
}
engine_get () { engine_req GET "$1"; }
# engine_api_at_least X.Y: the engine under test speaks API X.Y or later
# (the second engine, Docker 26.1, speaks 1.45; the machine's 1.41).
engine_api_at_least () {
  _api=$(engine_get /version | sed -n 's/.*"ApiVersion":"\([0-9.]*\)".*/\1/p')
  [ -n "$_api" ] && [ "$(printf '%s\n%s\n' "$1" "$_api" | sort -V | head -1)" = "$1" ]
}
# the url-encoded filter {"label":["io.itm-env.namespace=NS"]}
ns_filter () {
  printf '%%7B%%22label%%22%%3A%%5B%%22io.itm-env.namespace%%3D%s%%22%%5D%%7D' "${1:-$ITM_NS}"
}
# $ITM_ENGINE_UP: the script that finds or starts the engine under test
# (.ci/run's second pass: tests/engine2-up.sh).
need_engine () {
  if ! "${ITM_ENGINE_UP:-$ITM_SRCDIR/tests/engine-up.sh}" >&2; then
    if [ "${CI:-}" = true ]; then bail "no engine answers at $ITM_SOCK"; fi
    skip_all "no engine answers at $ITM_SOCK (tests/engine-up.sh failed)"
  fi
}
need_fixtures () {
  need_engine
  "$ITM_SRCDIR/tests/fixtures/build.sh" "$@" >&2 || bail "fixture images failed to build"
}
need_root () { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
need_cmd () {
  for _c; do command -v "$_c" >/dev/null 2>&1 || skip_all "needs $_c (tests/install-deps.sh)"; done
}
# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port () {
  _tries=0
  while :; do
    _port=$(( ($$ * 7 + _tries * 131 + $(od -An -N2 -tu2 /dev/urandom)) % 20000 + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$_port") 2>/dev/null \
       && ! ss -Htln "sport = :$_port" 2>/dev/null | grep -q .; then
      echo "$_port"; return 0
    fi
    _tries=$((_tries + 1))
    [ $_tries -lt 50 ] || return 1
  done
}
# tls_front PKI: socat on a free port of 127.0.0.1 in front of $ITM_SOCK,
# TLS with a client certificate required (PKI/server.pem, server-key.pem,
# ca.pem), answering PKI/client.pem's _ping; sets $port and $socat_pid
# (killed at exit).  A port another test took meanwhile (socat exits) is
# tried again with another one; bails with socat's log when none answers.
tls_front () {
  _pki=$1 _try=0
  while :; do
    port=$(free_port) || bail "no free port"
    socat -t 30 "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$_pki/server.pem,key=$_pki/server-key.pem,cafile=$_pki/ca.pem,verify=1" \
      "UNIX-CONNECT:$ITM_SOCK" 2>"$tmp/socat.log" &
    socat_pid=$!
    at_exit "kill $socat_pid 2>/dev/null; wait $socat_pid 2>/dev/null"
    _i=0
    while kill -0 "$socat_pid" 2>/dev/null && [ $_i -lt 300 ]; do
      curl -sf --max-time 3 --cacert "$_pki/ca.pem" --cert "$_pki/client.pem" \
        --key "$_pki/client-key.pem" "https://127.0.0.1:$port/_ping" >/dev/null 2>&1 && return 0
      _i=$((_i + 1)); sleep 0.2
    done
    _try=$((_try + 1))
    if kill -0 "$socat_pid" 2>/dev/null || [ $_try -ge 5 ]; then
      diag "socat log:" "$(cat "$tmp/socat.log")"
      bail "the TLS front on 127.0.0.1:$port does not answer"
    fi
    diag "socat on port $port exited ($(cat "$tmp/socat.log")): another port"
  done
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for () {
  _limit=$(( $1 * 5 )); shift; _i=0
  while ! "$@" >/dev/null 2>&1; do
    _i=$((_i + 1)); [ $_i -lt $_limit ] || return 1; sleep 0.2
  done
}

# ---- at exit: leak check, cleanups, temp dir ----
_lib_leak_check () {
  [ -S "$ITM_SOCK" ] || return 0
  command -v jq >/dev/null 2>&1 || { diag "jq missing: leak check skipped"; return 0; }
  _f=$(ns_filter)
  for _kind in containers networks volumes; do
    case $_kind in
      containers) _q="/containers/json?all=1&filters=$_f"; _jq='.[] | .Id + " " + (.Names[0] | ltrimstr("/"))' ;;
      networks) _q="/networks?filters=$_f"; _jq='.[] | .Id + " " + .Name' ;;
      volumes) _q="/volumes?filters=$_f"; _jq='.Volumes // [] | .[] | .Name + " " + .Name' ;;
    esac
    engine_get "$_q" 2>/dev/null | jq -r "$_jq" 2>/dev/null | while read -r _id _name; do
      echo "$_kind $_id $_name"
    done
  done >"$tmp/.leaks" || true
  while read -r _kind _id _name; do
    fail "no leftover: $_kind $_name (namespace $ITM_NS)"
    case $_kind in
      containers) engine_req DELETE "/containers/$_id?force=1&v=1" >/dev/null 2>&1 || true ;;
      networks) engine_req DELETE "/networks/$_id" >/dev/null 2>&1 || true ;;
      volumes) engine_req DELETE "/volumes/$_id?force=1" >/dev/null 2>&1 || true ;;
    esac
  done <"$tmp/.leaks"
}
# Image names the test made ($ITM_NS-...) and did not remove: untagged by
# name (a shared image keeps its other names), with a diagnostic line.
_lib_image_sweep () {
  [ -S "$ITM_SOCK" ] && command -v jq >/dev/null 2>&1 || return 0
  engine_get "/images/json?filters=$(printf '{"reference":["%s-*"]}' "$ITM_NS" | jq -sRr @uri)" 2>/dev/null \
    | jq -r --arg p "$ITM_NS-" '.[].RepoTags // [] | .[] | select(startswith($p))' 2>/dev/null \
    | while read -r _ref; do
        diag "image $_ref was left by the test: removed"
        engine_req DELETE "/images/$_ref?force=1" >/dev/null 2>&1 || true
      done
  # untagged images whose build steps name $ITM_NS (the builder's cache of
  # a failed build or of an untargeted stage; tests mark their RUN lines)
  engine_get "/images/json?filters=$(printf '{"dangling":["true"]}' | jq -sRr @uri)" 2>/dev/null \
    | jq -r '.[].Id' 2>/dev/null | while read -r _id; do
        if engine_get "/images/$_id/history" 2>/dev/null \
             | jq -e --arg ns "$ITM_NS" 'any(.[]; .CreatedBy | contains($ns))' >/dev/null 2>&1; then
          engine_req DELETE "/images/$_id" >/dev/null 2>&1 || true
        fi
      done
}
_lib_exit () {
  _st=$?
  set +e
  # Registered cleanups first: they stop what the test started.
  printf '%s\n' "$_cleanups" | while IFS= read -r _c; do
    [ -z "$_c" ] || eval "$_c" >&2 2>&1
  done
  _cleanups=
  _lib_image_sweep
  if [ -z "$_tap_done" ]; then
    # The test died early (set -e, a signal): still check and account.
    _lib_leak_check
    fail "the test script ran to its end (exit status $_st)"
    echo "1..$_tap_n"
  fi
  rm -rf "$tmp"
  if [ "$_tap_failed" -gt 0 ]; then exit 1; fi
  exit "$_st"
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM HUP

# Every test gets an engine (started if need be), unless it opts out by
# setting ITM_TEST_NEEDS_ENGINE=0 before sourcing this file.
[ "${ITM_TEST_NEEDS_ENGINE:-1}" = 0 ] || need_engine
