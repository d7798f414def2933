#!/bin/sh
# lazy-libs.sh - libcurl, libarchive and libcrypto load on first use
# (src/util/lazylib.c): --version, help and config (a secret already
# generated) load none of them; generating a secret and config --hash only
# libcrypto; a command that talks to the engine loads libcurl, an image
# build libarchive.  Watched with the
# dynamic loader's own log (LD_DEBUG=files).  Skipped when configured with
# --disable-lazy-libs (ITM_LAZY_LIBS=no, from tests/tests.am).
ITM_TEST_NEEDS_ENGINE=0
# config keeps the generated secret for the namespace's later commands, in
# $tmp/state, which goes with $tmp
ITM_TEST_KEEPS_STATE=1
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
[ "${ITM_LAZY_LIBS:-yes}" != no ] || skip_all "configured with --disable-lazy-libs"

heavy='^lib(curl|archive|crypto|ssl)[.-]'

# loader CMD...: run CMD (see run) with the loader logging the files it
# opens; $libs: the names of every shared library it loaded, one a line.
loader () {
  rm -f "$tmp"/ld.*
  run env LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$@"
  libs=$(cat "$tmp"/ld.* 2>/dev/null | sed -n 's/.*[[:space:]]file=\([^ ]*\) .*/\1/p' \
           | sed 's|.*/||' | sort -u)
  diag "loaded:" $libs
}

cat >"$tmp/stack.yml" <<'EOF'
x-itm:
  secrets:
    PW: {length: 16}
services:
  web:
    image: busybox
    environment:
      PW: ${ITM_SECRET_PW}
EOF

loader "$ITM_ENV" --version
is "$rc" 0 "--version exits 0"
like "$libs" '^libc\.so' "the loader's log works (it names libc)"
unlike "$libs" "$heavy" "--version loads none of libcurl, libarchive, libcrypto, libssl"

loader "$ITM_ENV" help
is "$rc" 0 "help exits 0"
unlike "$libs" "$heavy" "help loads none of them"

loader "$ITM_ENV" -f "$tmp/stack.yml" config
is "$rc" 0 "config exits 0"
like "$out" 'PW: \*+' "config shows the generated secret, masked"
ok "config keeps no secret for a namespace that may never be up" \
  sh -c '! find "$1" -name secrets 2>/dev/null | grep -q .' - "$ITM_ENV_STATE_DIR"
like "$libs" '^libcrypto[.-]' "generating it (in memory) loads libcrypto (OpenSSL's RAND_bytes)"
unlike "$libs" '^lib(curl|archive)[.-]' "but neither libcurl nor libarchive"

# a secret the namespace keeps (as up leaves it): 16 characters, 0600 in a
# 0700 directory of ours
mkdir -p "$ITM_ENV_STATE_DIR" && chmod 700 "$ITM_ENV_STATE_DIR"
mkdir -m 700 "$ITM_ENV_STATE_DIR/$ITM_NS"
(umask 077; printf 'PW=abcdefghijklmnop\n' >"$ITM_ENV_STATE_DIR/$ITM_NS/secrets")
at_exit "rm -rf '$ITM_ENV_STATE_DIR/$ITM_NS'"
loader "$ITM_ENV" -f "$tmp/stack.yml" config
is "$rc" 0 "config again exits 0"
like "$libs" '^libyaml' "config loads libyaml"
unlike "$libs" "$heavy" "config with the secret already kept loads none of libcurl, libarchive, libcrypto, libssl"

loader "$ITM_ENV" -f "$tmp/stack.yml" config --hash web
is "$rc" 0 "config --hash exits 0"
like "$out" '^web [0-9a-f]{64}$' "config --hash prints a sha256"
like "$libs" '^libcrypto[.-]' "config --hash loads libcrypto"
unlike "$libs" '^lib(curl|archive)[.-]' "but neither libcurl nor libarchive"

if "$ITM_SRCDIR/tests/engine-up.sh" >&2; then
  loader "$ITM_ENV" version
  is "$rc" 0 "version (asks the engine) exits 0"
  like "$out" '^engine version: ' "version got the engine's answer"
  like "$libs" '^libcurl[.-]' "version loads libcurl"
  unlike "$libs" '^libarchive[.-]' "but not libarchive"

  # a one-layer image FROM scratch: no base image to pull
  mkdir "$tmp/app"
  printf 'FROM scratch\nCOPY run-id /run-id\n' >"$tmp/app/Dockerfile"
  echo "$ITM_NS" >"$tmp/app/run-id"
  printf 'services:\n  web:\n    build: ./app\n' >"$tmp/build.yml"
  at_exit "engine_req DELETE '/images/$ITM_NS-web?force=1' >/dev/null 2>&1"
  loader "$ITM_ENV" -f "$tmp/build.yml" build --quiet
  is "$rc" 0 "build exits 0"
  like "$libs" '^libarchive[.-]' "an image build loads libarchive"
  like "$libs" '^libcurl[.-]' "and libcurl"
else
  for t in "version exits 0" "version got the engine's answer" "version loads libcurl" \
           "but not libarchive" "build exits 0" "an image build loads libarchive" "and libcurl"; do
    skip "$t" "no engine answers at $ITM_SOCK"
  done
fi

done_testing
