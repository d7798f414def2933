#!/bin/sh
# github-post.sh - the GitHub Action's post step (action.yml): runs after
# the job's last step, when the job failed or was cancelled too.  `itm-env
# down` on the namespace the main step saved (STATE_namespace): everything
# removed, then verified (exit 9 when anything is left), the report and the
# services' logs written under the workspace, a summary in
# $GITHUB_STEP_SUMMARY.  Nothing saved (the main step never got that far):
# nothing to do.
set -u
itm=${ITM_ENV:-itm-env}
say () { printf 'itm-env action: %s\n' "$*" >&2; }
# input NAME: the input's value (INPUT_LOGS-DIR: see github-main.sh)
input () { sed -z -n "s/^INPUT_$1=//p" "/proc/$$/environ" | tr -d '\000'; }

ns=${STATE_namespace:-}
if [ -z "$ns" ]; then
  say "post: no namespace saved by the main step: nothing to take down"
  exit 0
fi
cd "${GITHUB_WORKSPACE:-.}" || exit 1
report=$(input REPORT)
report=${report:-itm-env-report/down.txt}
if grep -qz '^INPUT_LOGS-DIR=' "/proc/$$/environ"; then logs=$(input LOGS-DIR); else logs=itm-env-report/logs; fi
mkdir -p "$(dirname "$report")"
set -- --report "$report"
if [ -n "$logs" ]; then
  mkdir -p "$logs"
  set -- "$@" --logs-dir "$logs"
fi
say "post: down and verify: namespace $ns"
"$itm" -p "$ns" down "$@"
rc=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    if [ "$rc" = 0 ]; then
      echo "### itm-env: namespace \`$ns\` down, nothing left"
    else
      echo "### itm-env: namespace \`$ns\`: down failed (exit $rc)"
    fi
    echo
    echo "Report: \`$report\`${logs:+; service logs: \`$logs/\`}"
    case $report in
      *.txt)
        echo
        echo '```'
        head -c 60000 "$report" 2>/dev/null
        echo '```' ;;
    esac
  } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
