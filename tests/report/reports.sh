#!/bin/sh
# reports.sh - --report in text, JSON and JUnit XML for a successful up and
# down and for a failed up (a healthcheck that never passes); the JUnit
# reports valid against tests/report/junit.xsd; --logs-dir files; the
# GitHub Actions annotation of a failure; run's reports (its command as a
# testcase, the teardown verification).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq xmllint
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
xsd=$ITM_SRCDIR/tests/report/junit.xsd
bb=itm-fixture/busybox:latest
valid () { xmllint --noout --schema "$xsd" "$1" >&2 2>&1; }

cat >"$tmp/good.yml" <<EOF2
services:
  db:
    image: $bb
    command: ["sh", "-c", "echo db-says-hello; echo db-err >&2; exec sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "test -d /"]
      interval: 1h
  app:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
EOF2

# ---- a successful up: JSON (format from the extension), logs in a directory
unset GITHUB_ACTIONS || true
run env GITHUB_ACTIONS=true "$ITM_ENV" -f "$tmp/good.yml" up --report "$tmp/up.json" \
  --logs-dir "$tmp/logs"
is "$rc" 0 "up with --report succeeds"
unlike "$out" '::error' "no annotation when nothing failed"
j=$tmp/up.json
is "$(jq -r .command "$j")" up "JSON: command"
is "$(jq -r .namespace "$j")" "$ITM_NS" "JSON: namespace"
is "$(jq -r '.exit_code, .passed' "$j" | tr '\n' ' ')" "0 true " "JSON: exit_code, passed"
like "$(jq -r .engine.endpoint "$j")" '^(unix|tcp)://' "JSON: engine endpoint"
like "$(jq -r .engine.api_version "$j")" '^1\.[0-9]+$' "JSON: engine API version"
like "$(jq -r .engine.version "$j")" '^[0-9]' "JSON: engine version"
is "$(jq -r '.stack_files[0]' "$j")" "$tmp/good.yml" "JSON: stack file"
is "$(jq -r '[.services[] | .name + "=" + .state] | sort | join(",")' "$j")" "app=ready,db=ready" \
  "JSON: both services ready"
is "$(jq -r '.services[] | select(.name == "db") | .gate' "$j")" healthcheck "JSON: db's gate"
ok "JSON: db's time to ready is a number > 0" \
  jq -e '.services[] | select(.name == "db") | .time_to_ready_s > 0' "$j"
ok "JSON: db's probe response time is a number >= 0" \
  jq -e '.services[] | select(.name == "db") | .probe_response_s >= 0' "$j"
is "$(jq -r '.teardown.created | map(.kind) | sort | join(",")' "$j")" \
  "container,container,network" "JSON: what up created"
ok "--logs-dir: db.log written" test -f "$tmp/logs/db.log"
like "$(cat "$tmp/logs/db.log")" 'db-says-hello' "--logs-dir: stdout in the file"
like "$(cat "$tmp/logs/db.log")" 'db-err' "--logs-dir: stderr in the file"
ok "--logs-dir: app.log written" test -f "$tmp/logs/app.log"
is "$(jq -r '.services[] | select(.name == "db") | .logs_file' "$j")" "$tmp/logs/db.log" \
  "JSON: logs_file"

# ---- down: JUnit (explicit format, odd extension) and text
run "$ITM_ENV" down --report "$tmp/down.report" --report-format junit
is "$rc" 0 "down with --report succeeds"
ok "down's JUnit report is valid against the schema" valid "$tmp/down.report"
x=$(cat "$tmp/down.report")
like "$x" '<testcase name="teardown verification" classname="itm-env\.'"$ITM_NS"'\.teardown"' \
  "JUnit: a teardown testcase"
unlike "$x" '<failure' "JUnit: no failure"
like "$x" "removed container $ITM_NS-db-1" "JUnit: removed containers named"
run "$ITM_ENV" -f "$tmp/good.yml" up -q
run "$ITM_ENV" down --report "$tmp/down.txt" --logs-dir "$tmp/downlogs"
is "$rc" 0 "down with a text report succeeds"
t=$(cat "$tmp/down.txt")
like "$t" '^itm-env down report' "text: title"
like "$t" "Namespace:  $ITM_NS" "text: namespace"
like "$t" 'created:  2 containers, 1 network, 0 volumes' "text: created"
like "$t" 'removed:  2 containers, 1 network, 0 volumes' "text: removed"
like "$t" 'left:     0 containers, 0 networks, 0 volumes' "text: nothing left"
like "$t" 'Result:     PASSED \(exit 0\)' "text: result"
like "$(cat "$tmp/downlogs/db.log" 2>/dev/null)" 'db-says-hello' "down --logs-dir: logs kept before removal"

# ---- a failed up: all three formats, the annotation
cat >"$tmp/never.yml" <<EOF2
services:
  web:
    image: $bb
    command: ["sh", "-c", "echo web-log-line; echo 'a <tag> & \"quote\"'; exec sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo probe-says-no; exit 1"]
      interval: 1h
    x-itm:
      timeout: 2s
  after:
    image: $bb
    command: ["sleep", "3600"]
    depends_on:
      web: {condition: service_healthy}
EOF2
run env GITHUB_ACTIONS=true "$ITM_ENV" -f "$tmp/never.yml" up --report "$tmp/fail.xml" \
  --logs-dir "$tmp/faillogs"
is "$rc" 7 "a healthcheck that never passes: readiness exit code"
like "$out" '^::error title=itm-env%3A web failed::web: not healthy within its timeout' \
  "GITHUB_ACTIONS=true: an ::error annotation on stdout"
like "$out" '%0Alast log lines:%0A.*web-log-line' "the annotation carries the log lines, LF escaped"
is "$(printf '%s\n' "$out" | grep -c '^::error')" 1 "one annotation"
ok "the failed up's JUnit report is valid against the schema" valid "$tmp/fail.xml"
x=$(cat "$tmp/fail.xml")
like "$x" '<failure message="web: not healthy within its timeout' "JUnit: the failure's message"
like "$x" 'web-log-line' "JUnit: the last log lines in the failure"
like "$x" 'a &lt;tag&gt; &amp; "quote"' "JUnit: log lines escaped"
like "$x" 'exit 1: probe-says-no' "JUnit: the probe outputs"
like "$x" '<skipped message="not started: a dependency failed"/>' "JUnit: the dependent skipped"
like "$x" 'name="teardown verification"' "JUnit: rollback as the teardown testcase"
like "$(cat "$tmp/faillogs/web.log" 2>/dev/null)" 'web-log-line' "--logs-dir: the failed service's logs"
# times: the failed gate and the rollback are timed; the suites add up
xp () { xmllint --xpath "$1" "$tmp/fail.xml"; }
ok "JUnit: the failed gate has its time (not 0.000)" \
  test "$(xp 'string(//testcase[@name="web is ready"]/@time)')" != 0.000
ok "JUnit: the teardown has its time (not 0.000)" \
  test "$(xp 'string(//testcase[@name="teardown verification"]/@time)')" != 0.000
ok "JUnit: the suites' times add up to no more than the total" \
  awk -v s="$(xp 'sum(//testsuite/@time)')" -v t="$(xp 'string(/testsuites/@time)')" \
  'BEGIN { exit !(s <= t + 0.0005) }'
ok "JUnit: the readiness suite's time is not larger than the total" \
  awk -v s="$(xp 'string(//testsuite[contains(@name,".readiness")]/@time)')" \
  -v t="$(xp 'string(/testsuites/@time)')" 'BEGIN { exit !(s <= t) }'

# with --json, stdout is JSON lines only: the annotation goes to stderr
run env GITHUB_ACTIONS=true "$ITM_ENV" -f "$tmp/never.yml" up --json
is "$rc" 7 "--json on a failing gate: readiness exit code"
unlike "$out" '::error' "--json: no annotation on stdout"
ok "--json: every stdout line is JSON" sh -c 'printf "%s\n" "$1" | jq -e . >/dev/null' - "$out"
like "$err" '::error title=itm-env%3A web failed::' "--json: the annotation on stderr"

run "$ITM_ENV" -f "$tmp/never.yml" up --report "$tmp/fail.json"
is "$rc" 7 "failed up, JSON report"
unlike "$out" '::error' "no annotation without GITHUB_ACTIONS"
j=$tmp/fail.json
is "$(jq -r '.exit_code, .passed' "$j" | tr '\n' ' ')" "7 false " "JSON: exit code 7"
like "$(jq -r .message "$j")" 'not healthy within its timeout' "JSON: message"
is "$(jq -r '.services[] | select(.name == "web") | .state' "$j")" failed "JSON: web failed"
is "$(jq -r '.services[] | select(.name == "web") | .time_to_ready_s' "$j")" null \
  "JSON: web has no time to ready"
like "$(jq -r '.services[] | select(.name == "web") | .failure.last_logs' "$j")" 'web-log-line' \
  "JSON: failure.last_logs"
like "$(jq -r '.services[] | select(.name == "web") | .failure.probe_output' "$j")" \
  'exit 1: probe-says-no' "JSON: failure.probe_output"
is "$(jq -r '.services[] | select(.name == "after") | .state' "$j")" skipped "JSON: after skipped"
is "$(jq -r '.teardown.left | length' "$j")" 0 "JSON: rollback left nothing"
is "$(jq -r '.teardown.removed | map(.kind) | sort | join(",")' "$j")" \
  "container,container,network" "JSON: rollback removed what up created"

run "$ITM_ENV" -f "$tmp/never.yml" up --report "$tmp/fail.txt"
is "$rc" 7 "failed up, text report"
t=$(cat "$tmp/fail.txt")
like "$t" 'Result:     FAILED \(exit 7\)' "text: FAILED"
like "$t" 'web +failed +healthcheck' "text: the service line"
like "$t" '      \| web-log-line' "text: the last log lines"
like "$t" 'Summary: 2 services \(0 ready, 1 failed, 1 skipped\)' "text: summary"

# ---- run: the command, the teardown verification
run "$ITM_ENV" -f "$tmp/good.yml" -p "$ITM_NS" run --report "$tmp/run.xml" --logs-dir "$tmp/runlogs" \
  -- sh -c 'exit 3'
is "$rc" 3 "run: the command's exit status"
ok "run's JUnit report is valid against the schema" valid "$tmp/run.xml"
x=$(cat "$tmp/run.xml")
like "$x" '<testcase name="sh -c exit 3" classname="itm-env\.'"$ITM_NS"'\.run"' \
  "JUnit: the command as a testcase"
like "$x" '<failure message="exit status 3" type="command">' "JUnit: its failure"
is "$(grep -c '<failure' "$tmp/run.xml")" 1 "JUnit: the only failure"
like "$x" 'name="teardown verification"' "JUnit: the teardown verification"
like "$x" 'checked resources labelled with namespace' "JUnit: what the verifier checked"
like "$(cat "$tmp/runlogs/db.log" 2>/dev/null)" 'db-says-hello' "run --logs-dir: db.log"
ok "JUnit: the teardown has its time (not 0.000)" test "$(xmllint --xpath \
  'string(//testcase[@name="teardown verification"]/@time)' "$tmp/run.xml")" != 0.000
# the failing command's output: its tail in <system-out> and <failure>,
# passed through all the same
run "$ITM_ENV" -f "$tmp/good.yml" -p "$ITM_NS" run -q --report "$tmp/runout.xml" -- \
  sh -c 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "out-line $i"; done; echo err-tail >&2; exit 4'
is "$rc" 4 "run: a failing command with output"
is "$(printf '%s\n' "$out" | grep -c '^out-line ')" 100 "run: the command's stdout passed through"
like "$err" 'err-tail' "run: its stderr passed through"
ok "its JUnit report is valid" valid "$tmp/runout.xml"
xo=$(xmllint --xpath 'string(//testcase[@classname="itm-env.'"$ITM_NS"'.run"]/system-out)' \
  "$tmp/runout.xml")
xf=$(xmllint --xpath 'string(//testcase[@classname="itm-env.'"$ITM_NS"'.run"]/failure)' \
  "$tmp/runout.xml")
like "$xo" '^out-line 100$' "JUnit: the output's tail in <system-out>"
like "$xo" '^err-tail$' "JUnit: stderr's too"
unlike "$xo" '^out-line 1$' "JUnit: only the tail"
like "$xf" 'exited with status 4' "JUnit: <failure> says the status"
like "$xf" '^out-line 100$' "JUnit: and carries the output's tail"
run "$ITM_ENV" -f "$tmp/good.yml" -p "$ITM_NS" run --report "$tmp/run.json" -- true
is "$rc" 0 "run: a passing command"
j=$tmp/run.json
is "$(jq -r '.command, .exit_code, .run.argv[0], .run.exit_code' "$j" | tr '\n' ' ')" \
  "run 0 true 0 " "JSON: command, exit_code, run.argv, run.exit_code"
ok "JSON: run.duration_s" jq -e '.run.duration_s >= 0' "$j"
is "$(jq -r '[.services[] | .state] | join(",")' "$j")" "ready,ready" "JSON: services ready"
is "$(jq -r '.teardown.verified, .teardown.clean' "$j" | tr '\n' ' ')" "true true " \
  "JSON: teardown verified clean"
is "$(jq -r '.teardown.removed | map(.kind) | sort | join(",")' "$j")" \
  "container,container,network" "JSON: what run removed"
is "$(jq -r '.teardown.left | length' "$j")" 0 "JSON: nothing left"

# ---- option errors
run "$ITM_ENV" -f "$tmp/good.yml" up --report "$tmp/x" --report-format html
is "$rc" 2 "--report-format html: usage error"
like "$err" "not one of text, json, junit" "names the formats"
run "$ITM_ENV" -f "$tmp/good.yml" up --report "$tmp/no/such/dir/r.json"
is "$rc" 1 "an unwritable report path fails the command"
like "$err" "writing the report" "says so"
"$ITM_ENV" down >/dev/null 2>&1 || true
done_testing
