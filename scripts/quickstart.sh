#!/bin/sh
# quickstart.sh - the README's first command: on a fresh Debian 12 machine,
# as root, install what is needed, build itm-env and install it (binary and
# man pages, `make install`: /usr/local unless configured otherwise), start
# an engine if none answers, build the offline fixture images, check the
# engine (doctor), and run the bundled demo stack (compose/demo.yml): up, ps,
# env, down, with the installed `itm-env`, as the README's "Using it" does.
set -eu
cd "$(dirname "$0")/.."
say () { printf '\n=== %s\n' "$*"; }

say "installing dependencies (Debian packages)"
tests/install-deps.sh
say "building"
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j2
say "installing itm-env and its man pages (make install)"
make install
# man-db finds new pages without it; refresh its index when it is there
if command -v mandb >/dev/null 2>&1; then mandb -q >/dev/null 2>&1 || true; fi
hash -r 2>/dev/null || true
command -v itm-env >/dev/null || { echo "quickstart: itm-env is not on PATH after make install ($(sed -n 's/^prefix = //p' Makefile)/bin)" >&2; exit 1; }
say "engine"
tests/engine-up.sh
# the fixtures before doctor: its round trip creates a container from a
# local image (doctor never pulls)
say "fixture images (local, cached)"
ITM_BUILDDIR=$PWD tests/fixtures/build.sh
say "itm-env doctor"
itm-env doctor
say "itm-env up (compose/demo.yml)"
itm () { itm-env -f compose/demo.yml "$@"; }
itm up
say "itm-env ps"
itm ps
say "itm-env env"
itm env
say "itm-env down"
itm down
