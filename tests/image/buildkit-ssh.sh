#!/bin/sh
# buildkit-ssh.sh - build.ssh: RUN --mount=type=ssh reaches an ssh agent of
# the test's own (ssh-agent, a key made here) through itm-env's BuildKit
# session (/moby.sshforward.v1.SSH/ForwardAgent, a stream both ways): a
# static helper built here asks the agent for its identities from inside
# the RUN and finds the test's key, for "default" ($SSH_AUTH_SOCK) and for
# a named id with a path; no key material lands in the image; an agent
# socket that is not there fails before the build (exit 6).
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq docker gcc ssh-agent ssh-add ssh-keygen
need_fixtures busybox
unset ITM_ENV_BUILDER

bb=itm-fixture/busybox:latest
at_exit "engine_req DELETE \"/images/$ITM_NS-app?force=1\" >/dev/null 2>&1"
in_image () { docker run --rm --network none "$1" sh -c "$2" 2>/dev/null; }

mkdir -p "$tmp/app"
# agentq: SSH_AGENTC_REQUEST_IDENTITIES (11) to $SSH_AUTH_SOCK; prints
# "keys N" and each key's comment from the answer (12)
cat >"$tmp/agentq.c" <<'EOF2'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static int
rd (int fd, unsigned char *b, size_t n)
{
  for (size_t o = 0; o < n;)
    {
      ssize_t r = read (fd, b + o, n - o);
      if (r <= 0)
        return -1;
      o += (size_t) r;
    }
  return 0;
}
static unsigned
u32 (const unsigned char *p)
{
  return (unsigned) p[0] << 24 | (unsigned) p[1] << 16 | (unsigned) p[2] << 8 | p[3];
}
int
main (void)
{
  const char *p = getenv ("SSH_AUTH_SOCK");
  if (p == NULL)
    return puts ("no SSH_AUTH_SOCK"), 1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  strncpy (sa.sun_path, p, sizeof sa.sun_path - 1);
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return perror ("connect"), 1;
  unsigned char q[] = { 0, 0, 0, 1, 11 }, h[4];
  if (write (fd, q, 5) != 5 || rd (fd, h, 4))
    return puts ("no answer"), 1;
  unsigned n = u32 (h);
  unsigned char *b = malloc (n);
  if (b == NULL || n < 5 || rd (fd, b, n) || b[0] != 12)
    return puts ("bad answer"), 1;
  unsigned k = u32 (b + 1);
  printf ("keys %u\n", k);
  for (size_t o = 5, i = 0; i < k && o + 4 <= n; i++)
    {
      o += 4 + u32 (b + o);
      unsigned cl = u32 (b + o);
      printf ("%.*s\n", (int) cl, b + o + 4);
      o += 4 + cl;
    }
  return 0;
}
EOF2
gcc -static -O1 -o "$tmp/app/agentq" "$tmp/agentq.c" 2>"$tmp/gcc.err" \
  || skip_all "cannot link a static helper (libc6-dev's libc.a): $(head -1 "$tmp/gcc.err")"

ssh-keygen -q -t ed25519 -N '' -C "itm-key-$ITM_NS" -f "$tmp/key"
agent="$tmp/agent.sock"
eval "$(ssh-agent -a "$agent" -s)" >/dev/null
at_exit "kill $SSH_AGENT_PID 2>/dev/null || true"
ssh-add "$tmp/key" 2>/dev/null
key_line=$(ssh-keygen -y -f "$tmp/key" | cut -d' ' -f2)

cat >"$tmp/app/Dockerfile" <<EOF2
FROM $bb
COPY agentq /agentq
RUN --mount=type=ssh /agentq >/default.txt # $ITM_NS
RUN --mount=type=ssh,id=work,required=true /agentq >/work.txt # $ITM_NS
CMD ["sleep", "3600"]
EOF2
cat >"$tmp/stack.yml" <<EOF2
services:
  app:
    build:
      context: ./app
      network: none
      ssh:
        - default
        - work=$agent
EOF2

run env SSH_AUTH_SOCK="$agent" "$ITM_ENV" -f "$tmp/stack.yml" build
is "$rc" 0 "a Dockerfile with RUN --mount=type=ssh builds"
is "$(in_image "$ITM_NS-app" 'cat /default.txt')" "keys 1
itm-key-$ITM_NS" "the default agent (SSH_AUTH_SOCK) answered from inside the RUN with the test's key"
is "$(in_image "$ITM_NS-app" 'cat /work.txt')" "keys 1
itm-key-$ITM_NS" "so did the agent named work (id=path)"
docker save "$ITM_NS-app" >"$tmp/app.tar" 2>/dev/null || true
ok "the image saves" test -s "$tmp/app.tar"
ok "the key is not in the image" sh -c "! grep -a -q -F '$key_line' '$tmp/app.tar'"
ok "nor is the agent's socket path" sh -c "! grep -a -q -F '$agent' '$tmp/app.tar'"

# ---- an agent that is not there: before any build request
sed "s|work=$agent|work=$tmp/nothere.sock|" "$tmp/stack.yml" >"$tmp/bad.yml"
run env SSH_AUTH_SOCK="$agent" "$ITM_ENV" -f "$tmp/bad.yml" build --force
is "$rc" 6 "an agent socket that is not there: exit 6"
like "$err" "build.ssh: work: $tmp/nothere.sock: No such file or directory" "names it"
unlike "$err" "#1 " "no build request was made"

# ---- default without SSH_AUTH_SOCK
run env -u SSH_AUTH_SOCK "$ITM_ENV" -f "$tmp/stack.yml" build --force
is "$rc" 6 "default without SSH_AUTH_SOCK: exit 6"
like "$err" "SSH_AUTH_SOCK is not set" "says so"

done_testing
