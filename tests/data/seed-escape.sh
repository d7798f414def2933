#!/bin/sh
# seed-escape.sh - a seed copy: copies the project's own files only: a path
# that resolves outside the project directory ('../', an absolute path, a
# symlink, a symlink inside a copied directory) is refused with exit 3 and
# nothing is left; files inside it (relative or absolute) are copied.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
p=$tmp/p
mkdir -p "$p/data/sub" "$p/leaky"
echo outside >"$tmp/outside.txt"
echo inside >"$p/data/a.txt"
echo deeper >"$p/data/sub/b.txt"
ln -s ../outside.txt "$p/link.txt"
ln -s ../../outside.txt "$p/leaky/evil.txt"
ln -s a.txt "$p/data/alias.txt"
stack () { # COPY-LIST
  cat >"$p/stack.yml" <<YML
services:
  box:
    image: itm-fixture/busybox:latest
    command: ["sleep", "3600"]
    x-itm:
      seed:
        - copy: $1
          to: /seed
YML
}
left () { engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length; }

stack '[../outside.txt]'
run "$ITM_ENV" -p "$ITM_NS" -f "$p/stack.yml" up --timeout 60
is "$rc" 3 "'../outside.txt': exit 3"
like "$err" "'../outside.txt' is outside the project directory" "the error names the path"
is "$(left)" 0 "refused before anything is created"

stack "[$tmp/outside.txt]"
run "$ITM_ENV" -p "$ITM_NS" -f "$p/stack.yml" up --timeout 60
is "$rc" 3 "an absolute path outside: exit 3"
like "$err" "outside.txt is outside the project directory" "the error names the path"
is "$(left)" 0 "nothing is left"

stack '[link.txt]'
run "$ITM_ENV" -p "$ITM_NS" -f "$p/stack.yml" up --timeout 60
is "$rc" 3 "a symlink to outside: exit 3"
like "$err" "link.txt is outside the project directory" "the error names the link"
is "$(left)" 0 "nothing is left"

stack '[leaky]'
run "$ITM_ENV" -p "$ITM_NS" -f "$p/stack.yml" up --timeout 60
is "$rc" 3 "a directory holding a symlink to outside: exit 3"
like "$err" "evil.txt \(under .*leaky\) is a link to outside the project directory" "the error names the link"
is "$(left)" 0 "nothing is left"

stack "[data, $p/data/a.txt]"
run "$ITM_ENV" -p "$ITM_NS" -f "$p/stack.yml" up --timeout 60
is "$rc" 0 "files inside the project (a directory with a link inside it, an absolute path) are copied"
run "$ITM_ENV" -p "$ITM_NS" exec box cat /seed/data/sub/b.txt /seed/a.txt /seed/data/alias.txt
is "$out" "deeper
inside
inside" "... with their content"
run "$ITM_ENV" down -p "$ITM_NS"
is "$rc" 0 "down"
done_testing
