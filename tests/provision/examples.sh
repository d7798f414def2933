#!/bin/sh
# examples.sh - compose/demo.yml and compose/examples/*.yml load and
# validate (config), and the demo's dependency order is what up follows.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
for f in "$ITM_SRCDIR"/compose/demo.yml "$ITM_SRCDIR"/compose/examples/*.yml; do
  run "$ITM_ENV" -f "$f" config --quiet
  is "$rc" 0 "$(basename "$f") is a valid stack"
done
run "$ITM_ENV" -f "$ITM_SRCDIR/compose/demo.yml" config --services
is "$(printf '%s\n' "$out" | tail -1)" api "demo: api starts last"
run "$ITM_ENV" -f "$ITM_SRCDIR/compose/examples/postgres-redis.yml" config --services
is "$(printf '%s\n' "$out" | tail -1)" api "example: api starts last"
done_testing
