#!/bin/sh
# quickstart.sh - the README's first command: on a fresh Debian 12 machine,
# as root, install what is needed, build itm-env, start an engine if none
# answers, build the offline fixture images, and run the bundled demo stack
# (compose/demo.yml): up, ps, env, down.
set -eu
cd "$(dirname "$0")/.."
say () { printf '\n=== %s\n' "$*"; }

say "installing dependencies (Debian packages)"
tests/install-deps.sh
say "building"
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j2
say "engine"
tests/engine-up.sh
./itm-env doctor
say "fixture images (local, cached)"
ITM_BUILDDIR=$PWD tests/fixtures/build.sh
say "itm-env up (compose/demo.yml)"
itm () { ./itm-env -f compose/demo.yml "$@"; }
itm up
say "itm-env ps"
itm ps
say "itm-env env"
itm env
say "itm-env down"
itm down
