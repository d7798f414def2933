#!/bin/sh
# ci-steps.sh - the CI steps as a runner runs them.
#
# GitHub Action (action.yml, ci/github/): the main entrypoint with INPUT_*
# variables (hyphens kept, as the runner names them) and GITHUB_ENV,
# GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY pointing at temp files;
# a later step reads $GITHUB_ENV literally (as the runner does) and reaches
# the service; the job then fails, and the post entrypoint (STATE_* from
# GITHUB_STATE, as the runner gives them) takes the namespace down,
# verifies it, writes the report, the logs and the summary.  A main step
# whose up fails still gets a clean post step; a post step with no state
# does nothing.  action.yml names entrypoints the Dockerfile installs.
#
# GitLab template (ci/gitlab/itm-env.yml): parses, and its before_script,
# a script line and its after_script run as the docker executor runs them
# (before_script and script in one shell, after_script in another).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_fixtures busybox
need_cmd curl python3
python3 -c 'import yaml' 2>/dev/null || skip_all "needs python3-yaml (tests/install-deps.sh)"

gh=$ITM_SRCDIR/ci/github
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
# itm-env as the image has it: on PATH
mkdir -p "$tmp/bin"
ln -s "$ITM_ENV" "$tmp/bin/itm-env"

mkdir -p "$tmp/ws/app"
cat >"$tmp/ws/app/stack.yml" <<'EOF2'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/passwd"]
      interval: 1s
      retries: 30
EOF2
for f in env output state summary; do : >"$tmp/gh-$f"; done
# ghenv [NAME=VALUE...] SCRIPT: the step's environment, as the runner sets it
cat >"$tmp/bin/ghenv" <<EOF2
#!/bin/sh
exec env PATH="$tmp/bin:\$PATH" GITHUB_WORKSPACE="$tmp/ws" GITHUB_ENV="$tmp/gh-env" \\
  GITHUB_OUTPUT="$tmp/gh-output" GITHUB_STATE="$tmp/gh-state" \\
  GITHUB_STEP_SUMMARY="$tmp/gh-summary" GITHUB_RUN_ID=42 GITHUB_JOB=Integration_Tests \\
  "INPUT_FILE=stack.yml" "INPUT_WORKING-DIRECTORY=app" "INPUT_NAMESPACE=$ITM_NS" \\
  "INPUT_SERVICES=" "INPUT_UP-ARGS=--timeout 60s" \\
  "INPUT_REPORT=itm-env-report/down.txt" "INPUT_LOGS-DIR=itm-env-report/logs" "\$@"
EOF2
chmod +x "$tmp/bin/ghenv"

# ---- the main step ----
run "$tmp/bin/ghenv" "$gh/github-main.sh"
is "$rc" 0 "action main: up"
like "$(cat "$tmp/gh-env")" "^WEB_HOST=127\.0\.0\.1$" "GITHUB_ENV: WEB_HOST, literally"
like "$(cat "$tmp/gh-env")" "^WEB_PORT=[0-9]+$" "GITHUB_ENV: WEB_PORT"
like "$(cat "$tmp/gh-env")" "^ITM_ENV_NAMESPACE=$ITM_NS$" "GITHUB_ENV: ITM_ENV_NAMESPACE"
is "$(cat "$tmp/gh-output")" "namespace=$ITM_NS" "GITHUB_OUTPUT: namespace"
like "$(cat "$tmp/gh-state")" "^namespace=$ITM_NS$" "GITHUB_STATE: the namespace for the post step"

# ---- a later step: the runner adds GITHUB_ENV's NAME=value lines as they are ----
port=$(sed -n 's/^WEB_PORT=//p' "$tmp/gh-env")
host=$(sed -n 's/^WEB_HOST=//p' "$tmp/gh-env")
run curl -sf --max-time 10 "http://$host:$port/passwd"
like "$out" "^root:" "a later step reaches the service with the exported variables"
# ... and then the job fails (a test step exits 1): the post step runs anyway

# ---- the post step: STATE_<name> from GITHUB_STATE ----
state_env=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/STATE_\1=\2/p' "$tmp/gh-state")
# shellcheck disable=SC2086
run "$tmp/bin/ghenv" $state_env "$gh/github-post.sh"
is "$rc" 0 "action post after a failing job: down and verified"
n=$(engine_get "/containers/json?all=1&filters=$(ns_filter)" | jq length)
is "$n" 0 "... nothing of the namespace is left"
like "$(cat "$tmp/ws/itm-env-report/down.txt" 2>/dev/null)" "Result: +PASSED" "... the report is written in the workspace"
ok "... with the service's logs" test -f "$tmp/ws/itm-env-report/logs/web.log"
like "$(cat "$tmp/gh-summary")" "namespace \`$ITM_NS\` down, nothing left" "... and a job summary"

# ---- a main step whose up fails; its post step ----
for f in env output state summary; do : >"$tmp/gh-$f"; done
printf 'services:\n  web:\n    image: itm-fixture/busybox:latest\n    command: ["false"]\n    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}\n' \
  >"$tmp/ws/app/stack.yml"
run "$tmp/bin/ghenv" "$gh/github-main.sh"
ok "action main: a failing up fails the step" test "$rc" != 0
state_env=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/STATE_\1=\2/p' "$tmp/gh-state")
# shellcheck disable=SC2086
run "$tmp/bin/ghenv" $state_env "$gh/github-post.sh"
is "$rc" 0 "... its post step: nothing left to remove"
run "$tmp/bin/ghenv" "$gh/github-post.sh"
is "$rc" 0 "a post step with no state does nothing"
like "$err" "nothing to take down" "... and says so"

# ---- action.yml: a docker action whose entrypoints the image has ----
cat >"$tmp/action.py" <<'EOF2'
import sys, yaml, re
src = sys.argv[1]
a = yaml.safe_load(open(src + "/action.yml"))
r = a["runs"]
assert r["using"] == "docker" and r["image"] == "Dockerfile", r
df = open(src + "/Dockerfile").read()
for k in ("entrypoint", "post-entrypoint"):
    name = r[k].rsplit("/", 1)[1]
    assert re.search(r"COPY [^\n]*ci/github/%s[^\n]* %s/\n" % (name, r[k].rsplit("/", 1)[0]), df), k
for i in ("file", "working-directory", "namespace", "services", "up-args", "report", "logs-dir"):
    assert i in a["inputs"], i
print("ok")
EOF2
run python3 "$tmp/action.py" "$ITM_SRCDIR"
is "$out" ok "action.yml: a docker action; the Dockerfile installs both entrypoints; the inputs the scripts read"

# ---- GitLab: the template parses; its lines run as the docker executor runs them ----
cat >"$tmp/ws/app/compose.yaml" <<'EOF2'
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["127.0.0.1::8080"]
EOF2
cat >"$tmp/gitlab.py" <<'EOF2'
import sys, yaml
t = yaml.safe_load(open(sys.argv[1]))[".itm-env"]
d = sys.argv[2]
open(d + "/gl-before.sh", "w").write("\n".join(t["before_script"]) + "\n")
open(d + "/gl-after.sh", "w").write("\n".join(t["after_script"]) + "\n")
with open(d + "/gl-vars", "w") as f:
    for k, v in t["variables"].items():
        f.write("%s=%s\n" % (k, v))
assert t["artifacts"]["when"] == "always"
assert t["artifacts"]["reports"]["junit"].startswith("$ITM_ENV_REPORT_DIR/")
print("ok")
EOF2
run python3 "$tmp/gitlab.py" "$ITM_SRCDIR/ci/gitlab/itm-env.yml" "$tmp"
is "$out" ok "the GitLab template parses (.itm-env: before_script, after_script, artifacts)"
# GitLab expands $CI_... in variables; the namespace is this test's
glvars="ITM_ENV_FILE=compose.yaml ITM_ENV_NAMESPACE=$ITM_NS ITM_ENV_REPORT_DIR=itm-env-report"
grep -q '^ITM_ENV_NAMESPACE=itm-gl-\$CI_PIPELINE_ID-\$CI_JOB_ID$' "$tmp/gl-vars" \
  && pass "the template's namespace is per job" || fail "the template's namespace is per job"
# before_script + script: one shell
# shellcheck disable=SC2086
run env PATH="$tmp/bin:$PATH" $glvars sh -ec "cd '$tmp/ws/app'; . '$tmp/gl-before.sh'; curl -sf --max-time 10 \"http://\$WEB_HOST:\$WEB_PORT/passwd\" | head -1; exit 1"
ok "gitlab: before_script brings it up and the job's script reaches the service, then fails" test "$rc" = 1
like "$out" "^root:" "... through the evaled variables"
# after_script: its own shell
# shellcheck disable=SC2086
run env PATH="$tmp/bin:$PATH" $glvars sh -ec "cd '$tmp/ws/app'; . '$tmp/gl-after.sh'"
is "$rc" 0 "gitlab: after_script takes it down and verifies"
ok "... the JUnit report is written" xmllint --noout "$tmp/ws/app/itm-env-report/down.xml"
done_testing
