/* fuzz-events.c - fuzz the parsing of the engine's /events stream as `up`
 * does it: engine_events hands the body to the JSON-lines parser
 * (src/engine/stream.c) and each value to up's on_event, which decodes it
 * with ready_event_decode and applies it with ready_event_apply
 * (src/prov/ready.c, pure: the same functions here), on a table of
 * services with the container IDs of tests/recorded/events.jsonl; checks
 * what up relies on: an event changes only the service whose ID it names,
 * and only the fact its action names.  The body is fed in pieces of 1 to
 * 64 bytes (a pattern taken from the input), as a socket delivers it.
 * With libFuzzer: clang -fsanitize=fuzzer -DITM_LIBFUZZER ...; else a
 * replay of fuzz/corpus-events/ (see fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "engine/engine.h"
#include "fuzz-common.h"
#include "prov/ready.h"
#include "util/err.h"
#include "util/json.h"

struct svc {
  const char *id;
  struct ready_facts ev;
};

struct run {
  struct svc s[3];
  size_t n, events, matched;
};

static struct svc *
svc_by_id (struct run *r, const char *id)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->s[i].id && strcmp (r->s[i].id, id) == 0)
      return &r->s[i];
  return NULL;
}

/* up.c's on_event, without the locks */
static int
on_event (json_object *ev, void *ctx)
{
  struct run *r = ctx;
  r->events++;
  struct ready_event e;
  struct svc *s;
  if (ready_event_decode (ev, &e) && (s = svc_by_id (r, e.id)) != NULL)
    {
      struct ready_facts before = s->ev;
      r->matched++;
      ready_event_apply (&s->ev, &e);
      /* only the fact the action names changed */
      int changed = (s->ev.started != before.started) + (s->ev.died != before.died)
                    + (s->ev.oom != before.oom) + (s->ev.healthy != before.healthy)
                    + (s->ev.unhealthy != before.unhealthy);
      if (changed > 1 || (e.kind != EV_DIE && s->ev.exit_code != before.exit_code))
        abort ();
    }
  /* the accessors up and the verifier use on events and lists, on anything */
  (void) json_int (ev, "timeNano", 0);
  (void) json_int (ev, "time", 0);
  (void) json_str (ev, "Actor.Attributes.name");
  (void) json_str (ev, "Actor.Attributes.io.itm-env.namespace"); /* a dotted key: a path miss */
  (void) json_key_str (json_path (ev, "Actor.Attributes"), "io.itm-env.namespace");
  (void) json_label (ev, "io.itm-env.namespace");
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  struct run r = { .s = { { .id = "c0ffee0123456789" }, { .id = "7d2f0e4f0c1d7e2a9c8b" },
                          { .id = "" } },
                   .n = 3 };
  struct jsonl p;
  struct itm_err err = { 0 };
  jsonl_init (&p, on_event, &r);
  size_t off = 0, k = 0;
  int rc = 0;
  while (off < size && rc == 0)
    {
      size_t n = (size_t) (data[k++ % size] % 64) + 1;
      if (n > size - off)
        n = size - off;
      rc = jsonl_feed (&p, (const char *) data + off, n, &err);
      off += n;
    }
  if (rc == 0)
    rc = jsonl_finish (&p, &err);
  if (rc > 0)
    abort (); /* on_event never stops the stream */
  if ((rc < 0) != itm_err_isset (&err))
    abort ();
  if (r.events != p.values || r.matched > r.events)
    abort ();
  for (size_t i = 0; i < r.n; i++)
    if (!r.s[i].ev.died && r.s[i].ev.exit_code != 0)
      abort (); /* an exit code only comes with a die */
  itm_err_clear (&err);
  jsonl_free (&p);
  return 0;
}

FUZZ_MAIN ("corpus-events")
