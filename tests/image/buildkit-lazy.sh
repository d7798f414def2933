#!/bin/sh
# buildkit-lazy.sh - libprotobuf-c loads on first use (src/image/pblazy.c):
# --version and a classic build do not load it, a BuildKit build does.
# Watched with the dynamic loader's own log (LD_DEBUG=files), as
# tests/integration/lazy-libs.sh does.  Skipped when configured with
# --disable-lazy-libs.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
[ "${ITM_LAZY_LIBS:-yes}" != no ] || skip_all "configured with --disable-lazy-libs"
need_engine
need_fixtures busybox
unset ITM_ENV_BUILDER
at_exit "engine_req DELETE '/images/$ITM_NS-app?force=1' >/dev/null 2>&1"

loader () {
  rm -f "$tmp"/ld.*
  run env LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$@"
  libs=$(cat "$tmp"/ld.* 2>/dev/null | sed -n 's/.*[[:space:]]file=\([^ ]*\) .*/\1/p' \
           | sed 's|.*/||' | sort -u)
}
mkdir -p "$tmp/app"
printf 'FROM itm-fixture/busybox:latest\nRUN echo %s\n' "$ITM_NS" >"$tmp/app/Dockerfile"
printf 'services:\n  app:\n    build: ./app\n' >"$tmp/stack.yml"

loader "$ITM_ENV" --version
like "$libs" '^libc\.so' "the loader's log works (it names libc)"
unlike "$libs" '^libprotobuf-c' "--version does not load libprotobuf-c"
loader "$ITM_ENV" -f "$tmp/stack.yml" build --builder classic
is "$rc" 0 "a classic build"
unlike "$libs" '^libprotobuf-c' "does not load it"
loader "$ITM_ENV" -f "$tmp/stack.yml" build --builder buildkit --force
is "$rc" 0 "a BuildKit build"
like "$libs" '^libprotobuf-c\.so' "loads it"
like "$err" "#[0-9]+ [0-9.]+ $ITM_NS" "and decodes its progress"

done_testing
