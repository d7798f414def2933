#!/bin/sh
# startup-bench.sh ITM_ENV [OTHER_ITM_ENV] - fixed start-up of the read-side commands that
# scripts call in loops (`ps`, `env`, `port` on a namespace that is up)
# against curl making one engine call on the same socket: `/_ping`, and the
# namespace's container list (what `ps` needs at least).  Every round runs
# each command once, in turn (interleaved, so load on the machine hits all
# of them alike); the figures are medians (and p90) of the wall time from
# fork to exit, and each command's ratio to curl /_ping and to curl's list;
# "cpu ms" is the mean user+system time (what load on the machine inflates
# least; times() counts in clock ticks, so it is coarse per run).
# `itm-env --version` (no engine, no libcurl) is the process's own floor.
# OTHER_ITM_ENV (e.g. the previous build) adds its ps/env/port rows to the
# same rounds, for a before/after in one run.
# Figures, not a test (make bench-startup).
#   BENCH_N   rounds (default 50)
#   BENCH_STRACE=1  also count each command's engine calls (strace)
set -eu
itm=${1:?usage: startup-bench.sh path/to/itm-env [path/to/other/itm-env]}
other=${2:-}
# absolute: the rounds run elsewhere, and the teardown must find it too
abs () { printf '%s/%s' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"; }
itm=$(abs "$itm")
[ -z "$other" ] || other=$(abs "$other")
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_N:-50}
command -v curl >/dev/null || { echo "startup-bench: needs curl" >&2; exit 1; }
command -v perl >/dev/null || { echo "startup-bench: needs perl" >&2; exit 1; }
host=${DOCKER_HOST:-unix:///var/run/docker.sock}
case $host in
  unix://*) sock=${host#unix://} ;;
  *) echo "startup-bench: DOCKER_HOST must be a unix:// socket (curl is the baseline)" >&2; exit 1 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/itm-startup.XXXXXX")
ns=bench-start-$$
export ITM_ENV_STATE_DIR=$tmp/state
trap '"$itm" down -p "$ns" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT INT TERM
ITM_BUILDDIR=${ITM_BUILDDIR:-$(dirname "$itm")} sh "$here/../tests/fixtures/build.sh" busybox >&2

cat >"$tmp/compose.yml" <<EOF2
services:
  web:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    stop_signal: SIGKILL
    ports: ["127.0.0.1::8080"]
EOF2
"$itm" -f "$tmp/compose.yml" -p "$ns" up -q >/dev/null
api=$(curl -sf --unix-socket "$sock" http://d/version | sed -n 's/.*"ApiVersion":"\([^"]*\)".*/\1/p')
filter=$(printf '{"label":["io.itm-env.namespace=%s"]}' "$ns" | perl -pe 's/([^A-Za-z0-9_.~-])/sprintf("%%%02X",ord($1))/ge')
# run from a directory without a stack file: -p alone, as scripts do
cd "$tmp/state" 2>/dev/null || cd /

echo "startup-bench: $n rounds, engine API $api on $sock, namespace $ns (one busybox service)"
perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e '
  my ($n, @cmds) = @ARGV;
  my @names = ("curl /_ping", "curl container list", "itm-env --version", "itm-env ps",
               "itm-env env", "itm-env port", "other ps", "other env", "other port");
  my @argv = map { [split /\x1f/, $_] } @cmds;
  my (%t, %c);
  open my $null, ">", "/dev/null" or die;
  for my $r (0 .. $n) {
    for my $i (0 .. $#argv) {
      my (undef, undef, $cu0, $cs0) = times;
      my $t0 = clock_gettime(CLOCK_MONOTONIC);
      my $pid = fork // die "fork: $!";
      if ($pid == 0) {
        open STDOUT, ">&", $null; open STDERR, ">&", $null;
        exec @{$argv[$i]} or exit 127;
      }
      waitpid $pid, 0;
      my $dt = (clock_gettime(CLOCK_MONOTONIC) - $t0) * 1000;
      my (undef, undef, $cu1, $cs1) = times;
      die "startup-bench: \"@{$argv[$i]}\" failed (status $?)\n" if $?;
      if ($r > 0) {                      # round 0 warms the caches
        push @{$t{$i}}, $dt;
        push @{$c{$i}}, ($cu1 + $cs1 - $cu0 - $cs0) * 1000;
      }
    }
  }
  sub quant { my ($v, $p) = @_; my @s = sort { $a <=> $b } @$v; $s[int($p * $#s + 0.5)] }
  my @med = map { quant($t{$_}, 0.5) } 0 .. $#argv;
  my @cpu = map { my $s = 0; $s += $_ for @{$c{$_}}; $s / @{$c{$_}} } 0 .. $#argv;
  printf "%-22s %9s %9s %9s %9s %9s\n", "command", "median ms", "p90 ms", "x /_ping", "x list",
    "cpu ms";
  for my $i (0 .. $#argv) {
    printf "%-22s %9.2f %9.2f %9.2f %9.2f %9.2f\n", $names[$i], $med[$i], quant($t{$i}, 0.9),
      $med[$i] / $med[0], $med[$i] / $med[1], $cpu[$i];
  }
' "$n" \
  "curl$(printf '\037')-sf$(printf '\037')--unix-socket$(printf '\037')$sock$(printf '\037')http://d/_ping" \
  "curl$(printf '\037')-sf$(printf '\037')--unix-socket$(printf '\037')$sock$(printf '\037')http://d/v$api/containers/json?all=1&filters=$filter" \
  "$itm$(printf '\037')--version" \
  "$itm$(printf '\037')ps$(printf '\037')-p$(printf '\037')$ns" \
  "$itm$(printf '\037')env$(printf '\037')-p$(printf '\037')$ns" \
  "$itm$(printf '\037')port$(printf '\037')-p$(printf '\037')$ns$(printf '\037')web$(printf '\037')8080" \
  ${other:+"$other$(printf '\037')ps$(printf '\037')-p$(printf '\037')$ns"} \
  ${other:+"$other$(printf '\037')env$(printf '\037')-p$(printf '\037')$ns"} \
  ${other:+"$other$(printf '\037')port$(printf '\037')-p$(printf '\037')$ns$(printf '\037')web$(printf '\037')8080"}

if [ "${BENCH_STRACE:-}" = 1 ] && command -v strace >/dev/null; then
  for c in ps env "port web 8080"; do
    # shellcheck disable=SC2086
    calls=$(strace -f -e trace=sendto,write -s 256 "$itm" $c -p "$ns" 2>&1 >/dev/null \
      | grep -o '"\(GET\|POST\|HEAD\|DELETE\) [^ ?]*' | sed 's/"//; s|/containers/[0-9a-f]\{64\}/|/containers/ID/|' | tr '\n' ' ')
    echo "engine calls of $c: $calls"
  done
fi
