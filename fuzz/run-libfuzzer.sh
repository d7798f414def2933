#!/bin/sh
# run-libfuzzer.sh - build the fuzz targets with clang's libFuzzer (plus
# ASan and UBSan) and run each for a while on its corpus.
#   fuzz/run-libfuzzer.sh [SECONDS]      (default 120)
# FUZZ_TARGETS picks targets (default: all: yaml interp files dotenv
# interp-bounds jsonl mux events); FUZZ_OUT the scratch directory (default a
# new /tmp/itm-fuzz.XXXXXX); FUZZ_JOBS runs that many processes per target
# (-fork=N, default 1); FUZZ_ARGS adds libFuzzer options.  New inputs go to
# $FUZZ_OUT/corpus-NAME; a crasher is left as $FUZZ_OUT/NAME-crash-* (or
# -leak-, -timeout-: over $FUZZ_TIMEOUT s, default 30; -oom-: over 2 GB) and
# the script exits 1 after the other targets ran: fix, then copy it into
# fuzz/corpus-NAME/.  NAME-slow-unit-* (over 10 s) is only a note.  The libFuzzer log of each target is
# $FUZZ_OUT/fuzz-NAME.log (its last line has cov:, ft: and the executions).
set -eu
secs=${1:-120}
src=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$(mktemp -d /tmp/itm-fuzz.XXXXXX)}
mkdir -p "$out"
cc=${FUZZ_CC:-clang}
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DITM_LIBFUZZER"
cflags="$cflags -I$src/src -I$out $(pkg-config --cflags yaml-0.1 json-c)"
printf '#define _GNU_SOURCE 1\n' > "$out/config.h"
# what each target links: the stack loader's files, or the engine's stream
# parsers with their util deps (no conn.c: no libcurl, no lazylib)
util="$src/src/util/xalloc.c"
stack="$src/src/stack/node.c $src/src/stack/yaml.c $src/src/stack/interp.c \
       $src/src/stack/dotenv.c $src/src/stack/files.c $src/src/util/file.c $src/src/util/err.c $util"
engine="$src/src/engine/stream.c $src/src/util/err.c $src/src/util/json.c $util"
# events: up's event decoding (prov/ready.c, which formats durations with
# stack/model-parse.c)
events="$engine $src/src/prov/ready.c $src/src/stack/model-parse.c"
failed=
for t in ${FUZZ_TARGETS:-yaml interp files dotenv interp-bounds jsonl mux events}; do
  case $t in
    jsonl|mux) lib="$engine" libs=$(pkg-config --libs json-c) ;;
    events) lib="$events" libs=$(pkg-config --libs json-c) ;;
    *) lib="$stack" libs=$(pkg-config --libs yaml-0.1) ;;
  esac
  # shellcheck disable=SC2086
  $cc $cflags -o "$out/fuzz-$t" "$src/fuzz/fuzz-$t.c" $lib $libs
  c=$t; [ "$t" = files ] && c=yaml
  mkdir -p "$out/corpus-$t"
  cp "$src/fuzz/corpus-$c"/* "$out/corpus-$t/"
  echo "fuzz-$t: $secs s"
  # shellcheck disable=SC2086
  if "$out/fuzz-$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-30}" \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/$t-" \
       ${FUZZ_JOBS:+-fork=$FUZZ_JOBS -ignore_crashes=1} ${FUZZ_ARGS:-} \
       "$out/corpus-$t" > "$out/fuzz-$t.log" 2>&1; then
    :
  else
    case " $failed " in *" $t "*) ;; *) failed="$failed $t" ;; esac
  fi
  grep -E '^#[0-9]+.*(DONE|cov:)' "$out/fuzz-$t.log" | tail -1
  grep -E '^stat::number_of_executed_units' "$out/fuzz-$t.log" || true
  # crash-, leak-, timeout-, oom-: a failure (slow-unit-: only a note)
  for f in "$out/$t-crash-"* "$out/$t-leak-"* "$out/$t-timeout-"* "$out/$t-oom-"*; do
    [ -f "$f" ] || continue
    case " $failed " in *" $t "*) ;; *) failed="$failed $t" ;; esac
    echo "$f"
  done
  for f in "$out/$t-slow-unit-"*; do
    [ -f "$f" ] && echo "note: slow input (over 10 s): $f"
  done
done
echo "new corpus entries: $out/corpus-*"
if [ -n "$failed" ]; then
  echo "FAILED:$failed (logs: $out/fuzz-NAME.log)"
  exit 1
fi
