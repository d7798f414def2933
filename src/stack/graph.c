/* graph.c - the depends_on graph: start waves and cycle reports. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "stack/model.h"
#include "util/xalloc.h"

static size_t
index_of (const struct stack *st, const char *name)
{
  /* services are sorted by name */
  size_t lo = 0, hi = st->nservices;
  while (lo < hi)
    {
      size_t mid = (lo + hi) / 2;
      int c = strcmp (st->services[mid].name, name);
      if (c == 0)
        return mid;
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return st->nservices;
}

/* Depth-first search; colour 0 white, 1 on the stack, 2 done. */
static bool
dfs (const struct stack *st, size_t v, int *colour, size_t *stack, size_t *depth, struct diags *d)
{
  colour[v] = 1;
  stack[(*depth)++] = v;
  const struct stack_service *s = &st->services[v];
  for (size_t j = 0; j < s->ndepends_on; j++)
    {
      size_t w = index_of (st, s->depends_on[j].service);
      if (w == st->nservices)
        continue;
      if (colour[w] == 1)
        {
          struct buf b = { 0 };
          size_t from = 0;
          while (stack[from] != w)
            from++;
          for (size_t k = from; k < *depth; k++)
            buf_addf (&b, "%s -> ", st->services[stack[k]].name);
          buf_adds (&b, st->services[w].name);
          diag_addp (d, DIAG_ERROR, st->services[w].file, st->services[w].line, 1,
                     "dependency cycle: %s", b.data);
          buf_free (&b);
          return true;
        }
      if (colour[w] == 0 && dfs (st, w, colour, stack, depth, d))
        return true;
    }
  colour[v] = 2;
  (*depth)--;
  return false;
}

void
stack_check_cycles (const struct stack *st, struct diags *d)
{
  int *colour = xcalloc (st->nservices + 1, sizeof *colour);
  size_t *stack = xcalloc (st->nservices + 1, sizeof *stack);
  for (size_t i = 0; i < st->nservices; i++)
    if (colour[i] == 0)
      {
        size_t depth = 0;
        if (dfs (st, i, colour, stack, &depth, d))
          {
            /* report each cycle once: mark the rest of this component done */
            for (size_t k = 0; k < st->nservices; k++)
              if (colour[k] == 1)
                colour[k] = 2;
          }
      }
  free (colour);
  free (stack);
}

size_t
stack_waves (const struct stack *st, struct stack_wave **wavesp)
{
  size_t n = st->nservices;
  size_t *level = xcalloc (n + 1, sizeof *level);
  bool *done = xcalloc (n + 1, sizeof *done);
  size_t ndone = 0, nwaves = 0;

  /* level(s) = 1 + max level of its dependencies (Kahn's algorithm by rounds;
   * the graph is acyclic after a successful load, but stay bounded anyway) */
  while (ndone < n)
    {
      bool progress = false;
      for (size_t i = 0; i < n; i++)
        {
          if (done[i])
            continue;
          const struct stack_service *s = &st->services[i];
          size_t lv = 0;
          bool ready = true;
          for (size_t j = 0; j < s->ndepends_on && ready; j++)
            {
              size_t w = index_of (st, s->depends_on[j].service);
              if (w == n)
                continue;
              if (!done[w])
                ready = false;
              else if (level[w] + 1 > lv)
                lv = level[w] + 1;
            }
          if (ready)
            {
              level[i] = lv;
              done[i] = true;
              ndone++;
              progress = true;
              if (lv + 1 > nwaves)
                nwaves = lv + 1;
            }
        }
      if (!progress)
        {
          /* a cycle: put the rest in a last wave */
          for (size_t i = 0; i < n; i++)
            if (!done[i])
              level[i] = nwaves, done[i] = true, ndone++;
          nwaves++;
        }
    }
  struct stack_wave *waves = xcalloc (nwaves + 1, sizeof *waves);
  for (size_t i = 0; i < n; i++)
    waves[level[i]].n++;
  for (size_t w = 0; w < nwaves; w++)
    {
      waves[w].services = xcalloc (waves[w].n + 1, sizeof *waves[w].services);
      waves[w].n = 0;
    }
  for (size_t i = 0; i < n; i++)  /* in name order */
    waves[level[i]].services[waves[level[i]].n++] = &st->services[i];
  free (level);
  free (done);
  *wavesp = waves;
  return nwaves;
}

void
stack_waves_free (struct stack_wave *waves, size_t nwaves)
{
  if (waves == NULL)
    return;
  for (size_t w = 0; w < nwaves; w++)
    free (waves[w].services);
  free (waves);
}
