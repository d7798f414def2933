#!/bin/sh
# run-libfuzzer.sh - build the fuzz targets with clang's libFuzzer (plus
# ASan and UBSan) and run each for a while on its corpus.
#   fuzz/run-libfuzzer.sh [SECONDS]      (default 120)
# New inputs go to a scratch directory; crashers are left as crash-* in the
# current directory: fix, then copy them into fuzz/corpus-*/.
set -eu
secs=${1:-120}
src=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$(mktemp -d /tmp/itm-fuzz.XXXXXX)}
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DITM_LIBFUZZER"
cflags="$cflags -I$src/src -I$out $(pkg-config --cflags yaml-0.1)"
printf '#define _GNU_SOURCE 1\n' > "$out/config.h"
lib="$src/src/stack/node.c $src/src/stack/yaml.c $src/src/stack/interp.c $src/src/stack/dotenv.c \
     $src/src/stack/files.c $src/src/util/xalloc.c"
for t in ${FUZZ_TARGETS:-yaml interp files}; do
  clang $cflags -o "$out/fuzz-$t" "$src/fuzz/fuzz-$t.c" $lib $(pkg-config --libs yaml-0.1)
  c=$t; [ "$t" = files ] && c=yaml
  mkdir -p "$out/corpus-$t"
  cp "$src/fuzz/corpus-$c"/* "$out/corpus-$t/"
  echo "fuzz-$t: $secs s"
  "$out/fuzz-$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 "$out/corpus-$t"
done
echo "new corpus entries: $out/corpus-*"
