#!/bin/sh
# run-check.sh - `run --check`: a failing check skips the command and
# fails the run with exit 11, nothing left; the report says why in every
# format: JSON (the documented fields), JUnit (valid against
# tests/report/junit.xsd; one testcase per check and gate), markdown (its
# tables' rows), text; $GITHUB_STEP_SUMMARY gets the markdown in GitHub
# Actions.  Then a passing `run --check`: the command runs.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq xmllint
need_fixtures busybox
xsd=$ITM_SRCDIR/tests/report/junit.xsd
. "$ITM_SRCDIR/tests/check/api.sh"

api_stack "$tmp/fail.yml" '        - name: user contract
          http: {path: /user.json, port: 8080}
          expect: {shape: {id: string, email: email}}
        - name: wrong type
          http: {path: /wrong.json, port: 8080}
          expect: {shape: {id: string, email: email}}'
api_stack "$tmp/pass.yml" '        - name: user contract
          http: {path: /user.json, port: 8080}
          expect: {shape: {id: string, email: email}}'

for fmt in json junit markdown text; do
  rm -f "$tmp/ran"
  run env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$tmp/summary-$fmt.md" \
    "$ITM_ENV" -p "$ITM_NS" -f "$tmp/fail.yml" run -q --check --report "$tmp/report.$fmt" \
    --report-format "$fmt" -- touch "$tmp/ran"
  is "$rc" 11 "run --check with a failing check: exit 11 ($fmt)"
  ok "the command was not run ($fmt)" test ! -e "$tmp/ran"
  like "$err" 'FAILED api: wrong type' "the failed check is printed ($fmt)"
  like "$(cat "$tmp/summary-$fmt.md")" '^\| api \| wrong type \| http \| \*\*FAILED\*\* \|' \
    "GITHUB_STEP_SUMMARY has the markdown ($fmt)"
done

j=$tmp/report.json
ok "JSON parses" jq -e . "$j"
is "$(jq -r '.command, .exit_code, .passed' "$j" | tr '\n' ' ')" "run 11 false " \
  "JSON: command, exit_code, passed"
like "$(jq -r .message "$j")" '1 of 2 checks failed' "JSON: message"
is "$(jq -r '[.checks[] | .name + "=" + (.ok|tostring) + "=" + .kind] | join(",")' "$j")" \
  "user contract=true=http,wrong type=false=http" "JSON: checks, ok, kind"
is "$(jq -r '.checks[1].expected, .checks[1].actual' "$j" | tr '\n' ' ')" \
  "/id: string /id: integer 42 " "JSON: expected, actual"
like "$(jq -r '.checks[1].detail' "$j")" '\+ /id: integer 42' "JSON: detail with the shape diff"
is "$(jq -r '.run.argv[0], .run.exit_code' "$j" | tr '\n' ' ')" "touch null " \
  "JSON: the command, not run (exit_code null)"
is "$(jq -r '.teardown.verified, (.teardown.left | length)' "$j" | tr '\n' ' ')" "true 0 " \
  "JSON: teardown verified, nothing left"

x=$tmp/report.junit
ok "JUnit valid against the schema" sh -c 'xmllint --noout --schema "$1" "$2" >&2 2>&1' - "$xsd" "$x"
xp () { xmllint --xpath "$1" "$x"; }
is "$(xp 'count(//testsuite[contains(@name,".check")]/testcase)')" 2 "JUnit: one testcase per check"
is "$(xp 'count(//testsuite[contains(@name,".readiness")]/testcase)')" 1 "JUnit: one per gate"
is "$(xp 'string(//testcase[@name="api: wrong type"]/failure/@message)')" \
  "http check failed: wrong type" "JUnit: the check's failure"
like "$(xp 'string(//testcase[@name="api: wrong type"]/failure)')" '/id: expected string, got integer 42' \
  "JUnit: expected and actual"

m=$tmp/report.markdown
like "$(cat "$m")" '^# itm-env run: FAILED$' "markdown: the verdict"
for h in Environment 'Services \(1\)' 'Checks \(2, 1 failed\)' Command Teardown; do
  like "$(cat "$m")" "^## $h\$" "markdown: section $h"
done
# every table row has the header's number of cells
ok "markdown: every table row as wide as its header" awk '
  /^\|/ { line = $0; gsub(/\\\|/, "", line); n = gsub(/\|/, "|", line)
          if (!intable) { want = n; intable = 1 } else if (n != want) { print "bad row: " $0; bad = 1 } ; next }
  { intable = 0 }
  END { exit bad }' "$m"
like "$(cat "$m")" "^\\| Namespace \\| \`$ITM_NS\` \\|\$" "markdown: the namespace row"
like "$(cat "$m")" '^\| api \| ready \| running \| [0-9.]+ s \|' "markdown: the service row, ready time"
like "$(cat "$m")" '^\| api \| user contract \| http \| passed \| [0-9.]+ s \| - \| - \|$' \
  "markdown: a passing check row"
like "$(cat "$m")" '^\| api \| wrong type \| http \| \*\*FAILED\*\* \| [0-9.]+ s \| /id: string \| /id: integer 42 \|$' \
  "markdown: a failed check row, expected and actual"
like "$(cat "$m")" '^\| `touch .*/ran` \| not run \| - \|$' "markdown: the command not run"
like "$(cat "$m")" '^\| container \| 1 \| 1 \| 0 \|$' "markdown: teardown row"
like "$(cat "$m")" '^Verified: clean' "markdown: verified clean"

t=$tmp/report.text
like "$(cat "$t")" 'FAILED +[0-9.]+ s +http +wrong type' "text: the failed check, with its kind"
like "$(cat "$t")" '\+ /id: integer 42' "text: the shape diff"

# a passing run --check: the command runs; figures in a markdown report
run "$ITM_ENV" -p "$ITM_NS" -f "$tmp/pass.yml" run -q --check --report "$tmp/ok.md" -- touch "$tmp/ran"
is "$rc" 0 "run --check with passing checks: exit 0"
ok "the command ran" test -e "$tmp/ran"
like "$(cat "$tmp/ok.md")" '^\| `touch .*/ran` \| 0 \|' "markdown: the command's exit status"
done_testing
