/* test-gc.c - gc's keep-or-remove decision (gc_plan, src/verify/gc.c)
 * from plain data, no engine: one row per case, the namespace as gc found
 * it, the time and --older-than in, the verdict and its reason out. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "verify/verify.h"

#define HOST "here"
#define NOW ((time_t) 1800000000)   /* 2027-01-15T08:00:00Z */
#define H 3600

struct gc_case {
  const char *name;
  struct gc_ns in;
  int64_t older_than_ns;
  bool remove;
  const char *why;
};

static const struct gc_case cases[] = {
  { "expired: removed, whoever owns it",
    { .ns = "a", .host = "elsewhere", .pid = 7, .created = NOW - 25 * H, .expires = NOW - H,
      .owner_alive = true },
    0, true, "expired at 2027-01-15T07:00:00Z" },
  { "expiry exactly now counts as passed",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW, .owner_alive = true },
    0, true, "expired at 2027-01-15T08:00:00Z" },
  { "expired but released: still removed",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - 25 * H, .expires = NOW - 1,
      .released = true, .owner_alive = true },
    0, true, "expired at 2027-01-15T07:59:59Z" },
  { "owner alive, not expired: kept",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW + H,
      .owner_alive = true, .owner_started = NOW - 2 * H },
    0, false, "not expired, owner alive or released" },
  { "owner gone on this host: removed",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW + H },
    0, true, "owner process 7 on here is gone" },
  { "owner gone but released by up: kept until expiry",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW + H,
      .released = true },
    0, false, "not expired, owner alive or released" },
  { "pid reused by a process started after the namespace: removed",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW + H,
      .owner_alive = true, .owner_started = NOW - H + 3 },
    0, true, "owner process 7 on here is gone (the pid now belongs to a process started "
             "after the namespace was created)" },
  { "owner started within 2 s of the namespace: the same process, kept",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - H, .expires = NOW + H,
      .owner_alive = true, .owner_started = NOW - H + 2 },
    0, false, "not expired, owner alive or released" },
  { "another host's namespace, owner unknowable: kept",
    { .ns = "a", .host = "elsewhere", .pid = 7, .created = NOW - H, .expires = NOW + H },
    0, false, "not expired (created on another host)" },
  { "no creator pid: kept",
    { .ns = "a", .host = HOST, .pid = 0, .created = NOW - H, .expires = NOW + H },
    0, false, "not expired, owner alive or released" },
  { "no labels at all: kept",
    { .ns = "a" },
    0, false, "not expired, owner alive or released" },
  { "--older-than: a young expired namespace is kept",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - 30 * 60, .expires = NOW - 1 },
    (int64_t) H * 1000000000LL, false, "younger than --older-than" },
  { "--older-than: an old enough one goes",
    { .ns = "a", .host = HOST, .pid = 7, .created = NOW - 2 * H, .expires = NOW + H },
    (int64_t) H * 1000000000LL, true, "owner process 7 on here is gone" },
  { "--older-than without a creation time: not held back",
    { .ns = "a", .host = HOST, .pid = 7, .expires = NOW - 1 },
    (int64_t) H * 1000000000LL, true, "expired at 2027-01-15T07:59:59Z" },
};

int
main (void)
{
  size_t n = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < n; i++)
    {
      struct gc_verdict *v = calloc (1, sizeof *v);
      gc_plan (&cases[i].in, 1, HOST, NOW, cases[i].older_than_ns, v);
      tap_ok (v->remove == cases[i].remove, "%s: %s", cases[i].name,
              cases[i].remove ? "removed" : "kept");
      tap_is_str (v->why, cases[i].why, "%s: the reason", cases[i].name);
      gc_verdicts_free (v, 1);
    }

  /* several at once: each decided on its own, in order */
  struct gc_ns all[3] = { cases[0].in, cases[3].in, cases[4].in };
  struct gc_verdict *v = calloc (3, sizeof *v);
  gc_plan (all, 3, HOST, NOW, 0, v);
  tap_ok (v[0].remove && !v[1].remove && v[2].remove, "three namespaces: removed, kept, removed");
  gc_verdicts_free (v, 3);
  return tap_done ();
}
