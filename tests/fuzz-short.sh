#!/bin/sh
# fuzz-short.sh - every fuzz target under libFuzzer (with ASan and UBSan)
# for $ITM_FUZZ_SECONDS (default 20) each, through fuzz/run-libfuzzer.sh:
# one TAP line per target.  Skipped when clang cannot build a libFuzzer
# program (Debian 12: clang-14 and libclang-rt-14-dev, in
# tests/install-deps.sh).  ITM_FUZZ_SECONDS=0 skips it too; ITM_FUZZ_CC
# names the compilers to try (default: clang clang-14).
set -u
src=${ITM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
secs=${ITM_FUZZ_SECONDS:-20}
targets="yaml interp files dotenv interp-bounds jsonl mux events"
n=$(echo $targets | wc -w)
cc=
for c in ${ITM_FUZZ_CC:-clang clang-14}; do
  command -v "$c" > /dev/null 2>&1 && { cc=$c; break; }
done
skip () {
  echo "1..$n"
  i=0
  for t in $targets; do
    i=$((i + 1))
    echo "ok $i - fuzz-$t # SKIP $1"
  done
  exit 0
}
[ "$secs" = 0 ] && skip "ITM_FUZZ_SECONDS=0"
[ -n "$cc" ] || skip "no clang (install clang-14 and libclang-rt-14-dev)"
tmp=$(mktemp -d /tmp/itm-fuzz-short.XXXXXX)
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }\n' \
  > "$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" > "$tmp/probe.log" 2>&1; then
  rm -rf "$tmp"
  skip "$cc cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
fi
echo "1..$n"
i=0
bad=0
for t in $targets; do
  i=$((i + 1))
  if FUZZ_CC=$cc FUZZ_OUT="$tmp/$t" FUZZ_TARGETS=$t timeout $((secs * 3 + 300)) \
       sh "$src/fuzz/run-libfuzzer.sh" "$secs" > "$tmp/$t.out" 2>&1; then
    echo "ok $i - fuzz-$t: $secs s: $(grep -E '^#[0-9]+' "$tmp/$t.out" | tail -1)"
  else
    echo "not ok $i - fuzz-$t: $secs s"
    sed 's/^/# /' "$tmp/$t.out"
    [ -f "$tmp/$t/fuzz-$t.log" ] && tail -n 60 "$tmp/$t/fuzz-$t.log" | sed 's/^/# /'
    for f in "$tmp/$t/$t-crash-"* "$tmp/$t/$t-leak-"* "$tmp/$t/$t-timeout-"* "$tmp/$t/$t-oom-"*; do
      [ -f "$f" ] && echo "# input $(basename "$f"): $(od -An -c "$f" | head -c 600 | tr '\n' ' ')"
    done
    bad=1
  fi
done
# keep the scratch directory (crashers, logs) only after a failure
[ "$bad" = 0 ] && rm -rf "$tmp" || echo "# kept: $tmp"
exit 0
