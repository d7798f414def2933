/* gc.c - gc's keep-or-remove decision (verify.h), a pure function of what
 * the command found: the namespaces' labels, their released markers and
 * their owners' processes, and the time. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ns/ns.h"
#include "util/xalloc.h"
#include "verify/verify.h"

/* Why g's owner is gone (a new string), or NULL when it is not known to be:
 * created on another host, no pid, or its process still runs and started
 * before the namespace was created (2 s of slack). */
static char *
owner_gone (const struct gc_ns *g, const char *host)
{
  if (g->host == NULL || strcmp (g->host, host) != 0 || g->pid <= 0)
    return NULL;
  if (!g->owner_alive)
    return xasprintf ("owner process %ld on %s is gone", g->pid, host);
  if (g->owner_started && g->created && g->owner_started > g->created + 2)
    return xasprintf ("owner process %ld on %s is gone (the pid now belongs to a process "
                      "started after the namespace was created)", g->pid, host);
  return NULL;
}

/* Why g should go (a new string), or NULL. */
static char *
remove_why (const struct gc_ns *g, const char *host, time_t now)
{
  if (g->expires && g->expires <= now)
    {
      char t[32];
      ns_format_time (g->expires, t);
      return xasprintf ("expired at %s", t);
    }
  return g->released ? NULL : owner_gone (g, host);
}

static struct gc_verdict
decide (const struct gc_ns *g, const char *host, time_t now, int64_t older_than_ns)
{
  char *why = remove_why (g, host, now);
  if (why && older_than_ns > 0 && g->created
      && (int64_t) (now - g->created) * 1000000000LL < older_than_ns)
    {
      free (why);
      return (struct gc_verdict){ false, xstrdup ("younger than --older-than") };
    }
  if (why)
    return (struct gc_verdict){ true, why };
  if (g->host && strcmp (g->host, host) != 0)
    return (struct gc_verdict){ false, xstrdup ("not expired (created on another host)") };
  return (struct gc_verdict){ false, xstrdup ("not expired, owner alive or released") };
}

void
gc_plan (const struct gc_ns *v, size_t n, const char *host, time_t now, int64_t older_than_ns,
         struct gc_verdict *out)
{
  for (size_t i = 0; i < n; i++)
    out[i] = decide (&v[i], host, now, older_than_ns);
}

void
gc_verdicts_free (struct gc_verdict *out, size_t n)
{
  for (size_t i = 0; i < n && out; i++)
    free (out[i].why);
  free (out);
}
