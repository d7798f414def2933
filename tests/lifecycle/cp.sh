#!/bin/sh
# cp both ways through the archive API: into an existing directory under
# the source's name, else as the destination's name; files and trees;
# over an existing file; to standard output as a tar; --index; the exit
# codes of what does not exist.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "$ITM_SRCDIR/tests/readside/lib.sh"
need_fixtures
need_cmd jq tar

cd "$tmp"
cat >compose.yaml <<'YAML'
services:
  app:
    image: itm-fixture/busybox:latest
    command: ["sleep", "600"]
YAML
run "$ITM_ENV" up -q
is "$rc" 0 "up"
at_exit "cd '$tmp' && '$ITM_ENV' -p '$ITM_NS' down >/dev/null 2>&1"

echo hello >h.txt
mkdir -p tree/sub && echo deep >tree/sub/f && ln -s sub/f tree/link
run "$ITM_ENV" cp h.txt app:/tmp/
is "$rc" 0 "cp FILE SERVICE:DIR/"
run "$ITM_ENV" exec app cat /tmp/h.txt
is "$out" hello "into the directory under its own name"
run "$ITM_ENV" cp h.txt app:/tmp/other.txt
run "$ITM_ENV" exec app cat /tmp/other.txt
is "$out" hello "cp FILE SERVICE:NEWNAME: as that name"
echo again >h.txt
run "$ITM_ENV" cp h.txt app:/tmp/other.txt
is "$rc" 0 "cp over an existing file"
run "$ITM_ENV" exec app cat /tmp/other.txt
is "$out" again "replaced"
run "$ITM_ENV" cp tree app:/tmp/t2
is "$rc" 0 "cp DIR SERVICE:NEWDIR"
run "$ITM_ENV" exec app sh -c 'cat /tmp/t2/sub/f; readlink /tmp/t2/link; stat -c %u /tmp/t2/sub/f'
is "$out" "deep
sub/f
0" "a tree, its symlink kept, owned by root"

mkdir out
run "$ITM_ENV" cp app:/tmp/t2 out/
is "$rc" 0 "cp SERVICE:DIR HOSTDIR/"
is "$(cat out/t2/sub/f):$(readlink out/t2/link)" "deep:sub/f" "into the directory under its own name"
run "$ITM_ENV" cp app:/tmp/t2 out/renamed
is "$(cat out/renamed/sub/f)" deep "cp SERVICE:DIR NEWNAME: as that name"
run "$ITM_ENV" cp app:/etc/hostname out/hn
is "$rc.$(cat out/hn)" "0.$(rs_inspect app-1 .Config.Hostname)" "cp SERVICE:FILE NEWNAME"
set +e; timeout 60 "$ITM_ENV" cp app:/tmp/h.txt - >out.tar; rc=$?; set -e
is "$rc" 0 "cp SERVICE:FILE -"
is "$(tar -xOf out.tar h.txt)" hello "- is a tar on standard output"

run "$ITM_ENV" cp --index 1 app:/tmp/h.txt out/i1
is "$rc.$(cat out/i1)" "0.hello" "--index 1"
run "$ITM_ENV" cp --index 2 app:/tmp/h.txt out/i2
is "$rc" 10 "--index 2 of one container: 10"
run "$ITM_ENV" cp app:/nonexistent out/
is "$rc" 10 "a container path that does not exist: 10"
run "$ITM_ENV" cp nonexistent app:/tmp/
is "$rc" 10 "a host path that does not exist: 10"
run "$ITM_ENV" cp app:/tmp/h.txt nodir/x
is "$rc" 10 "a host directory that does not exist: 10"
run "$ITM_ENV" cp nosuch:/x out/
is "$rc" 10 "an unknown service: 10"
run "$ITM_ENV" cp h.txt out/
is "$rc" 2 "two host paths: usage"
run "$ITM_ENV" cp app:/a app:/b
is "$rc" 2 "two container paths: usage"

run "$ITM_ENV" down
is "$rc" 0 "down"
done_testing
