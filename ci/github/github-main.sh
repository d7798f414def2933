#!/bin/sh
# github-main.sh - the GitHub Action's main step (action.yml): `itm-env up`
# on the stack, then its variables to $GITHUB_ENV (dotenv lines: NAME=value,
# read literally), ITM_ENV_NAMESPACE with them, the namespace to
# $GITHUB_OUTPUT, and what the post step needs to $GITHUB_STATE.  Inputs
# come as INPUT_* variables, as the runner passes them.  Exit status: up's.
set -eu
itm=${ITM_ENV:-itm-env}
say () { printf 'itm-env action: %s\n' "$*" >&2; }
# input NAME: the input's value.  The runner names the variable INPUT_ and
# the input's name in capitals, hyphens kept (INPUT_UP-ARGS), which no
# shell can expand nor pass on to a command: read from the environment the
# shell was started with.
input () { sed -z -n "s/^INPUT_$1=//p" "/proc/$$/environ" | tr -d '\000'; }

ns=$(input NAMESPACE)
if [ -z "$ns" ]; then
  ns=itm-gh-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}-${GITHUB_JOB:-job}
fi
# a valid namespace: lowercase letters, digits, '-' and '_'; at most 40
ns=$(printf '%s' "$ns" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_-' '-' | cut -c1-40)

cd "${GITHUB_WORKSPACE:-.}"
wdin=$(input WORKING-DIRECTORY)
cd "${wdin:-.}"
wd=$(pwd)
files=
nl='
'
oldifs=$IFS
IFS=$nl
fin=$(input FILE)
for f in ${fin:-compose.yaml}; do
  [ -n "$f" ] || continue
  files="$files$nl-f$nl$f"
done
IFS=$oldifs

# for the post step (STATE_namespace, STATE_dir)
if [ -n "${GITHUB_STATE:-}" ]; then
  { echo "namespace=$ns"; echo "dir=$wd"; } >>"$GITHUB_STATE"
fi
[ -z "${GITHUB_OUTPUT:-}" ] || echo "namespace=$ns" >>"$GITHUB_OUTPUT"

# the steps after this one run on the runner, not in this container: they
# reach the services on the published ports (127.0.0.1), so no joining
export ITM_ENV_CONNECT=${ITM_ENV_CONNECT:-never}

upargs=$(input UP-ARGS)
services=$(input SERVICES)
IFS=$nl
# shellcheck disable=SC2086
set -- $files
IFS=$oldifs
say "up: namespace $ns"
# shellcheck disable=SC2086
"$itm" -p "$ns" "$@" up $upargs $services

# the variables, for every later step
envf=$(mktemp)
# shellcheck disable=SC2086
"$itm" -p "$ns" "$@" env --format dotenv $services >"$envf"
if [ -n "${GITHUB_ENV:-}" ]; then
  cat "$envf" >>"$GITHUB_ENV"
  echo "ITM_ENV_NAMESPACE=$ns" >>"$GITHUB_ENV"
fi
say "exported: $(cut -d= -f1 "$envf" | tr '\n' ' ')ITM_ENV_NAMESPACE"
rm -f "$envf"
