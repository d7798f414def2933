#!/bin/sh
# man-examples.sh - the EXAMPLES of itm-env(1) run as tests, as jq runs its
# manual.  Every block the page's source marks with `.\" example: NAME`
# (the .EX ... .EE block that follows) is extracted and un-escaped, checked
# to be what the page renders (so a reader pastes what is tested), and run
# as it is in a temporary directory holding a copy of compose/, with the
# binary under test on PATH as `itm-env`, against the real engine.  The
# recipes are not rewritten: the test's namespace comes in through
# ITM_ENV_NAMESPACE (lib.sh exports it); `run` makes its own namespace,
# which the test reads from the JUnit report and checks is gone.  The
# GitHub Actions YAML cannot run here: it must parse, and its run: steps
# must be the shell recipe.  Also: no @PLACEHOLDER@ is left, the prefix
# example of DESCRIPTION holds, and `man -l` renders without warnings.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd jq curl psql redis-cli python3 groff
need_fixtures busybox postgres redis

man1=$ITM_SRCDIR/man/itm-env.1
man5=$ITM_SRCDIR/man/itm-env-stack.5

# ---- the page itself ----
is "$(grep -c '@[A-Z][A-Z]*@' "$man1" || true)" 0 "no @PLACEHOLDER@ is left in itm-env.1"
# DESCRIPTION: `.RB ( "itm-env PREFIX"` / is / `.BR "itm-env version" );`
pfx=$(sed -n '/abbreviated to any unique prefix/{n;s/^\.RB ( "itm-env \([a-z]*\)"$/\1/p;}' "$man1")
run "$ITM_ENV" "${pfx:-none}" -h
like "$rc:$out" '^0:usage: itm-env version' "'itm-env ${pfx:-?}' is version, as DESCRIPTION says"
run "$ITM_ENV" ver
is "$rc" 2 "'itm-env ver' is a usage error, as DESCRIPTION says"
like "$err" 'ambiguous.*verify, version' "... naming verify and version"
if command -v man >/dev/null 2>&1; then
  for m in "$man1" "$man5"; do
    run env MANWIDTH=80 man -l "$m"
    is "$rc:$err" "0:" "man -l renders $(basename "$m") without warnings"
  done
else
  skip "man -l renders the pages" "man-db not installed"
fi

# ---- extract the recipes ----
ex=$tmp/ex
mkdir -p "$ex"
awk -v dir="$ex" '
  /^\.\\" example: / { name = $3; next }
  name != "" && /^\.EX$/ { out = dir "/" name ".roff"; printf "" >out; name = ""; inblk = 1; next }
  name != "" { print "example " name ": no .EX right after the marker" >"/dev/stderr"; exit 1 }
  inblk && /^\.EE$/ { inblk = 0; close(out); next }
  inblk { print >out }
' "$man1"
is "$(cd "$ex" && ls | tr '\n' ' ')" "ci-github.roff ci-shell.roff developer.roff script.roff workers.roff " \
  "the page marks five recipes"
for f in "$ex"/*.roff; do
  n=$(basename "$f" .roff)
  # roff would turn a bare - ' ` or \ into something else on some systems
  bad=$(sed -e 's/\\-//g' -e 's/\\(aq//g' -e 's/\\(ga//g' -e 's/\\(dq//g' \
            -e 's/\\e//g' -e 's/\\&//g' -e 's/\\%//g' "$f" | grep -n "[-'\`\\\\]" || true)
  is "$bad" "" "recipe $n: every - ' \` and \\ is escaped for roff"
  sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(ga/`/g' -e 's/\\(dq/"/g' \
      -e 's/\\&//g' -e 's/\\%//g' -e 's/\\e/\\/g' "$f" >"$ex/$n"
done

# what the page renders holds each recipe, line for line
MANWIDTH=200 man -l "$man1" 2>/dev/null >"$tmp/man.txt" \
  || groff -man -Tutf8 -rLL=200n -P-cbou "$man1" >"$tmp/man.txt"
for n in developer script ci-github ci-shell workers; do
  ok "recipe $n reads in the rendered page as in the source" python3 - "$tmp/man.txt" "$ex/$n" <<'EOF'
import sys
page = [l.rstrip() for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")]
blk = open(sys.argv[2]).read().rstrip("\n").split("\n")
for i, l in enumerate(page):
    ind = " " * (len(l) - len(l.lstrip()))
    if page[i:i + len(blk)] == [(ind + b).rstrip() for b in blk]:
        sys.exit(0)
sys.exit("not in the rendered page:\n" + "\n".join(blk))
EOF
done

# ---- the test bed: a copy of compose/, itm-env on PATH ----
work=$tmp/work
mkdir -p "$work" "$tmp/bin" "$tmp/failbin"
cp -R "$ITM_SRCDIR/compose" "$work/"
chmod -R u+w "$work"
case $ITM_ENV in /*) bin=$ITM_ENV ;; *) bin=$PWD/$ITM_ENV ;; esac
ln -s "$bin" "$tmp/bin/itm-env"
PATH=$tmp/bin:$PATH
export PATH
# a loaded machine may take a minute for PostgreSQL's first start
ITM_TEST_TIMEOUT=${ITM_TEST_TIMEOUT:-600}
ITM_TEST_TIMEOUT=$(( ITM_TEST_TIMEOUT > 600 ? ITM_TEST_TIMEOUT : 600 ))
at_exit "cd /; '$bin' down -p '$ITM_NS' -q >/dev/null 2>&1"
cd "$work"

# what the engine still holds of a namespace: containers, networks, volumes
held () {
  f=$(ns_filter "$1")
  printf '%s %s %s' \
    "$(engine_get "/containers/json?all=1&filters=$f" | jq length)" \
    "$(engine_get "/networks?filters=$f" | jq length)" \
    "$(engine_get "/volumes?filters=$f" | jq '.Volumes // [] | length')"
}

# ---- (1) the developer's loop, pasted into sh -e ----
run sh -e "$ex/developer"
is "$rc" 0 "developer: the loop runs to its end"
like "$out" '^api +[^ ]+ +running ' "developer: ps shows the api running"
like "$out" '^itm-env demo api$' "developer: curl reaches the api through env's variables"
like "$out" '^migrate +\| migrating$' "developer: logs shows the migration's output"
like "$out" '^42$' "developer: exec runs psql in the db container"
like "$err" "verified namespace $ITM_NS: .*nothing is left" "developer: down verifies the namespace"
is "$(held "$ITM_NS")" "0 0 0" "developer: nothing of the namespace is left"

# ---- (2) the script that always cleans up ----
cp "$ex/script" integration-test.sh
run sh integration-test.sh
is "$rc" 0 "script: passes"
like "$out" '^integration tests passed$' "script: its test ran against the environment"
is "$(held "$ITM_NS")" "0 0 0" "script: the trap took it down"
# its test failing (a curl that fails, first on PATH): still torn down,
# the test's exit status kept
printf '#!/bin/sh\necho "curl: (7) failed to connect" >&2\nexit 7\n' >"$tmp/failbin/curl"
chmod +x "$tmp/failbin/curl"
run env PATH="$tmp/failbin:$PATH" sh integration-test.sh
is "$rc" 7 "script: a failing test's exit status is the script's"
unlike "$out" 'passed' "script: ... and it stops at the failure"
is "$(held "$ITM_NS")" "0 0 0" "script: the trap took it down after the failure too"
ok "script: no state directory left" test ! -e "$ITM_ENV_STATE_DIR/$ITM_NS"

# ---- (3) the CI job: the YAML checked, the shell equivalent run ----
ok "ci-github: parses as YAML and its run: steps are the shell recipe" python3 - "$ex/ci-github" "$ex/ci-shell" <<'EOF'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
assert isinstance(wf, dict) and (True in wf or "on" in wf), "no on:"
steps = [s for job in wf["jobs"].values() for s in job["steps"]]
assert any(s.get("uses", "").startswith("actions/checkout@") for s in steps), "no checkout"
runs = "".join(s["run"].rstrip("\n") + "\n" for s in steps if "run" in s)
shell = open(sys.argv[2]).read()
if runs != shell:
    sys.exit("run: steps:\n%s\nshell recipe:\n%s" % (runs, shell))
EOF
rm -rf reports
run sh -e "$ex/ci-shell"
is "$rc" 0 "ci-shell: the job passes"
like "$out" '^ok +round_trip' "ci-shell: doctor checks the engine"
like "$out" '^integration tests passed$' "ci-shell: run ran the test with env's variables"
if [ -f reports/itm-env.xml ]; then
  pass "ci-shell: the JUnit report is written"
  rns=$(sed -n 's/.*<property name="itm-env.namespace" value="\([^"]*\)".*/\1/p' reports/itm-env.xml | head -1)
  at_exit "cd /; '$bin' down -p '${rns:-none}' -q >/dev/null 2>&1"
  like "$rns" '^run-[0-9a-f]+$' "ci-shell: run made its own namespace (from the report)"
  if command -v xmllint >/dev/null 2>&1; then
    ok "ci-shell: the report is well-formed XML" xmllint --noout reports/itm-env.xml
  fi
  like "$(grep -o '<testsuites [^>]*>' reports/itm-env.xml)" 'failures="0" errors="0"' "ci-shell: the report has no failure"
  like "$(cat reports/itm-env.xml)" "classname=\"itm-env\\.$rns\\.run\"" "ci-shell: the command is a testcase"
  is "$(held "$rns")" "0 0 0" "ci-shell: nothing of run's namespace is left"
  ok "ci-shell: no state directory left" test ! -e "$ITM_ENV_STATE_DIR/$rns"
else
  fail "ci-shell: the JUnit report is written"
fi
for s in api cache db migrate; do
  ok "ci-shell: --logs-dir holds $s.log" test -f "reports/logs/$s.log"
done
like "$(cat reports/logs/db.log)" 'ready to accept connections' "ci-shell: db.log is the database's whole log"

# ---- (4) parallel workers, each with its own data namespace ----
run sh "$ex/workers"
is "$rc" 0 "workers: all four pass"
for i in 1 2 3 4; do
  like "$out" "^w$i: 4 rows, hi from w$i\$" "workers: w$i saw the three seeded rows and only its own"
done
is "$(held "$ITM_NS")" "0 0 0" "workers: the trap took it down"

cd /
done_testing
