#!/bin/sh
# ns-anywhere.sh - the commands given only the namespace (-p NS, or
# $ITM_ENV_NAMESPACE) work from any directory: ns create|list|drop, seed and
# verify --data use the stack file the namespace's labels name, as env does.
# When that file is gone: exit 3, naming it.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd psql
need_fixtures busybox postgres redis

mkdir -p "$tmp/p"
cp -R "$ITM_SRCDIR/tests/data/." "$tmp/p/"
chmod -R u+w "$tmp/p"
sh "$tmp/p/seed/gen-rows.sh" 10000 >"$tmp/p/seed/rows.sql"
S="$tmp/p/stack.yml"
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"

run "$ITM_ENV" -f "$S" -p "$ITM_NS" up -q --timeout 150
is "$rc" 0 "up the data stack"

# elsewhere: a directory with no stack file in it or above
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere"
d=$PWD
while :; do
  for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do
    [ ! -e "$d/$f" ] || bail "$d/$f is above the test's directory"
  done
  [ "$d" != / ] || break
  d=$(dirname "$d")
done

run "$ITM_ENV" ns create -p "$ITM_NS" w3 --format dotenv
is "$rc" 0 "ns create -p NS w3 from another directory"
url=$(printf '%s\n' "$out" | sed -n 's/^DB_URL=//p')
like "$url" '^postgresql://' "ns create prints DB_URL"
if [ -n "$url" ]; then
  is "$(psql "$url" -Atc 'select count(*) from items' 2>&1)" 10000 "the data namespace has the seeded rows"
else
  skip "the data namespace has the seeded rows" "no DB_URL"
fi

run "$ITM_ENV" ns list -p "$ITM_NS"
is "$rc" 0 "ns list -p NS from another directory"
like "$out" '^w3	' "ns list shows w3"

run "$ITM_ENV" seed -p "$ITM_NS" -q cache
is "$rc" 0 "seed -p NS cache from another directory"

run "$ITM_ENV" verify --data -p "$ITM_NS"
is "$rc" 0 "verify --data -p NS from another directory"
is "$(printf '%s\n' "$out" | grep -c '^ok ')" 3 "verify --data ran the three checks of the labels' stack"

run "$ITM_ENV" ns drop -p "$ITM_NS" w3
is "$rc" 0 "ns drop -p NS w3 from another directory"

# $ITM_ENV_NAMESPACE (lib.sh exports it) stands for -p
run env ITM_ENV_NAMESPACE="$ITM_NS" "$ITM_ENV" ns create w4
is "$rc" 0 "ns create w4 with \$ITM_ENV_NAMESPACE from another directory"
run env ITM_ENV_NAMESPACE="$ITM_NS" "$ITM_ENV" ns drop w4
is "$rc" 0 "ns drop w4 with \$ITM_ENV_NAMESPACE"
run "$ITM_ENV" ns list -p "$ITM_NS"
is "$rc:$out" "0:" "no data namespace left"

# a namespace that is not up: the one message, and what is missing
run "$ITM_ENV" seed -p "$ITM_NS-none"
is "$rc" 3 "seed -p NS of a namespace with no containers: exit 3"
like "$err" 'no stack file found in' "... says no stack file was found"
like "$err" "hint: namespace '$ITM_NS-none' has no containers" "... and that the namespace has none to name one"

# the stack file the labels name is gone: exit 3 naming it
mv "$S" "$tmp/p/moved.yml"
run "$ITM_ENV" verify --data -p "$ITM_NS"
is "$rc" 3 "verify --data -p NS when the labels' stack file is gone: exit 3"
like "$err" "$S.*from its labels" "... naming the file the labels name"
mv "$tmp/p/moved.yml" "$S"

cd /
run "$ITM_ENV" down -p "$ITM_NS" -q
is "$rc" 0 "down"
done_testing
