#!/bin/sh
# big-inputs.sh - the long variant of the hostile-input checks (issue 19,
# "Make it hold"; itm-env-stack(5) LIMITS): big and hostile stack files,
# .env files and variables, each loaded by `itm-env config` under a memory
# limit (ulimit -v, ITM_DRILL_MEM KiB, default 2 GiB; none for an ASan
# build) and a timeout that
# only turns a hang into a failure (no timed assertions).  Each case either
# loads or is refused with its documented one-line error and exit 3, never
# killed by a signal or out of memory.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd awk timeout mkfifo
mem=${ITM_DRILL_MEM:-2097152}
# AddressSanitizer reserves terabytes of address space for its shadow at
# start and cannot run under ulimit -v: under --enable-asan the memory
# limit is left to ASan's own allocator (the timeout still holds)
if ldd "$ITM_ENV" 2>/dev/null | grep -q 'libasan'; then
  mem=unlimited
  diag "an AddressSanitizer build: no ulimit -v"
fi
cd "$tmp"
printf 'services:\n  a:\n    image: x\n' >s.yml

# load DESC ARGS...: itm-env ARGS config, bounded; sets $rc, $out, $err
load () {
  _d=$1; shift
  set +e
  (ulimit -v "$mem"; exec timeout -k 5 60 "$ITM_ENV" "$@" config) \
    >"$tmp/.out" 2>"$tmp/.err" </dev/null
  rc=$?
  set -e
  out=$(head -c 2000 "$tmp/.out") err=$(head -c 2000 "$tmp/.err")
  printf '+ %s: itm-env %s config\n[rc=%s]\n%s\n' "$_d" "$*" "$rc" "$err" >&2
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "$_d: itm-env config ended within 60 s"
}
# refused DESC ERE ARGS...: exit 3, one error naming the cause
refused () {
  _d=$1 _re=$2; shift 2
  load "$_d" "$@"
  is "$rc" 3 "$_d: refused (exit 3)"
  like "$err" "$_re" "$_d: the error says why"
}

# a .env of 20,000 lines (250 KB): loads (linear time)
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "V%d=value%d\n", i, i }' >.env
load ".env of 20,000 lines" -f s.yml
is "$rc" 0 ".env of 20,000 lines: loads"
# --env-file and env_file: alike
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "W%d=${V%d}\n", i, i }' >more.env
load "--env-file of 20,000 lines referring to .env" -f s.yml --env-file .env --env-file more.env
is "$rc" 0 "--env-file of 20,000 lines referring to .env: loads"
printf 'services:\n  a:\n    image: x\n    env_file: [more.env]\n' >envfile.yml
load "env_file: of 20,000 lines" -f envfile.yml
is "$rc" 0 "env_file: of 20,000 lines: loads"
like "$(printf '%s' "$out" | grep -c 'W[0-9]*' || true)" '^[1-9]' "env_file: of 20,000 lines: its variables are in the config"
rm -f .env

# a .env whose every line repeats the previous one ten times
awk 'BEGIN { print "A0=xxxxxxxxxx"; for (i = 1; i < 200; i++) {
  printf "A%d=", i; for (j = 0; j < 10; j++) printf "${A%d}", i - 1; print "" } }' >bomb.env
refused ".env whose lines grow tenfold" '(more|larger) than (16|4) MiB' -f s.yml --env-file bomb.env

# a 1 MiB variable referenced 2,000 times
awk 'BEGIN { s = "x"; while (length(s) < 1048576) s = s s; print "BIG=" s }' >big.env
awk 'BEGIN { print "services:\n  a:\n    image: x\n    environment:";
  for (i = 0; i < 2000; i++) printf "      E%d: ${BIG}\n", i }' >ref.yml
refused "1 MiB variable referenced 2,000 times" 'interpolation substitutes more than 16 MiB' \
  -f ref.yml --env-file big.env
# one value over 4 MiB
awk 'BEGIN { print "services:\n  a:\n    image: x\n    environment:";
  printf "      E: \""; for (i = 0; i < 5; i++) printf "${BIG}"; print "\"" }' >one.yml
refused "one value of 5 MiB" 'MiB' -f one.yml --env-file big.env

# a stack file over 16 MiB
{ cat s.yml; awk 'BEGIN { s = "# "; while (length(s) < 1000) s = s "x"; for (i = 0; i < 17000; i++) print s }'; } >huge.yml
refused "17 MB stack file" 'limited to 16 MiB' -f huge.yml

# a billion laughs
{ echo 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
  p=a; for l in b c d e f g h i; do
    printf 'x-%s: &%s [' $l $l; for j in 1 2 3 4 5 6 7 8 9; do printf '*%s,' $p; done; printf '*%s]\n' $p; p=$l
  done
  cat s.yml; } >laughs.yml
refused "billion laughs" 'alias|nodes' -f laughs.yml

# nesting 100,000 deep
{ cat s.yml; printf 'x-deep: '; awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "" }'; } >deep.yml
refused "nesting 100,000 deep" 'nest' -f deep.yml

# includes 40 deep: the error names a real file of the chain
i=0
while [ $i -lt 40 ]; do printf 'include: [inc%d.yml]\n' $((i + 1)) >"inc$i.yml"; i=$((i + 1)); done
cp s.yml inc40.yml
refused "includes 40 deep" 'inc[0-9]+\.yml' -f inc0.yml
unlike "$err" '[^[:print:][:space:]]' "includes 40 deep: the error is printable text"

# special files: refused without waiting
mkfifo fifo.env
refused "a FIFO as --env-file" 'regular file|FIFO|fifo' -f s.yml --env-file fifo.env
printf 'services:\n  a:\n    image: x\n    env_file: [fifo.env]\n' >fifo.yml
refused "a FIFO as env_file" 'regular file|FIFO|fifo' -f fifo.yml
refused "/dev/zero as --env-file" 'regular file|device' -f s.yml --env-file /dev/zero
done_testing
