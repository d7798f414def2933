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

/* The graph in index form: deps[i] the indexes service i depends on (only
 * those present), users of w through a reverse index.  Then Kahn's
 * algorithm gives a topological order in O(V + E), without recursion (a
 * chain of many services must not exhaust the stack). */
struct graph {
  size_t n;
  size_t *dep_off, *deps;       /* deps of i: deps[dep_off[i] .. dep_off[i+1]) */
  size_t *use_off, *uses;       /* services depending on i, likewise */
  size_t *order;                /* topological order (dependencies first) */
  size_t norder;                /* < n when there is a cycle */
};

static void
graph_build (const struct stack *st, struct graph *g)
{
  size_t n = st->nservices, ne = 0;
  g->n = n;
  g->dep_off = xcalloc (n + 1, sizeof *g->dep_off);
  g->use_off = xcalloc (n + 2, sizeof *g->use_off);
  for (size_t i = 0; i < n; i++)
    ne += st->services[i].ndepends_on;
  g->deps = xcalloc (ne + 1, sizeof *g->deps);
  g->uses = xcalloc (ne + 1, sizeof *g->uses);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      g->dep_off[i] = k;
      for (size_t j = 0; j < st->services[i].ndepends_on; j++)
        {
          size_t w = index_of (st, st->services[i].depends_on[j].service);
          if (w < n)
            {
              g->deps[k++] = w;
              g->use_off[w + 2]++;
            }
        }
    }
  g->dep_off[n] = k;
  /* counting sort of the reverse edges */
  for (size_t i = 2; i < n + 2; i++)
    g->use_off[i] += g->use_off[i - 1];
  for (size_t i = 0; i < n; i++)
    for (size_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++)
      g->uses[g->use_off[g->deps[e] + 1]++] = i;
  /* now use_off[w] .. use_off[w+1] are w's users */
  size_t *indeg = xcalloc (n + 1, sizeof *indeg);
  g->order = xcalloc (n + 1, sizeof *g->order);
  g->norder = 0;
  for (size_t i = 0; i < n; i++)
    {
      indeg[i] = g->dep_off[i + 1] - g->dep_off[i];
      if (indeg[i] == 0)
        g->order[g->norder++] = i;
    }
  for (size_t h = 0; h < g->norder; h++)
    {
      size_t v = g->order[h];
      for (size_t e = g->use_off[v]; e < g->use_off[v + 1]; e++)
        if (--indeg[g->uses[e]] == 0)
          g->order[g->norder++] = g->uses[e];
    }
  free (indeg);
}

static void
graph_free (struct graph *g)
{
  free (g->dep_off);
  free (g->deps);
  free (g->use_off);
  free (g->uses);
  free (g->order);
}

void
stack_check_cycles (const struct stack *st, struct diags *d)
{
  struct graph g;
  graph_build (st, &g);
  if (g.norder < g.n)
    {
      size_t n = g.n;
      bool *sorted = xcalloc (n + 1, sizeof *sorted);
      size_t *walk = xcalloc (n + 1, sizeof *walk);   /* walk id that visited i, 0: none */
      size_t *path = xcalloc (n + 1, sizeof *path);
      size_t *pos = xcalloc (n + 1, sizeof *pos);
      for (size_t h = 0; h < g.norder; h++)
        sorted[g.order[h]] = true;
      size_t id = 0;
      for (size_t start = 0; start < n; start++)
        {
          if (sorted[start] || walk[start])
            continue;
          /* follow unsorted dependencies (each unsorted service has one)
           * until a service seen before */
          id++;
          size_t len = 0, v = start;
          bool found = false;
          for (;;)
            {
              if (walk[v])
                {
                  found = walk[v] == id;   /* else: a cycle reported already */
                  break;
                }
              walk[v] = id;
              pos[v] = len;
              path[len++] = v;
              size_t next = n;
              for (size_t e = g.dep_off[v]; e < g.dep_off[v + 1] && next == n; e++)
                if (!sorted[g.deps[e]])
                  next = g.deps[e];
              if (next == n)
                break;
              v = next;
            }
          if (!found)
            continue;
          /* a new cycle: path[pos[v]] .. path[len-1] -> v */
          struct buf b = { 0 };
          for (size_t k = pos[v]; k < len; k++)
            buf_addf (&b, "%s -> ", st->services[path[k]].name);
          buf_adds (&b, st->services[v].name);
          diag_addp (d, DIAG_ERROR, st->services[v].file, st->services[v].line, 1,
                     "dependency cycle: %s", b.data);
          buf_free (&b);
        }
      free (sorted);
      free (walk);
      free (path);
      free (pos);
    }
  graph_free (&g);
}

size_t
stack_waves (const struct stack *st, struct stack_wave **wavesp)
{
  struct graph g;
  size_t n = st->nservices, nwaves = 0;
  graph_build (st, &g);
  size_t *level = xcalloc (n + 1, sizeof *level);
  bool *placed = xcalloc (n + 1, sizeof *placed);
  /* level(s) = 1 + the highest level of its dependencies */
  for (size_t h = 0; h < g.norder; h++)
    {
      size_t v = g.order[h], lv = 0;
      for (size_t e = g.dep_off[v]; e < g.dep_off[v + 1]; e++)
        if (level[g.deps[e]] + 1 > lv)
          lv = level[g.deps[e]] + 1;
      level[v] = lv;
      placed[v] = true;
      if (lv + 1 > nwaves)
        nwaves = lv + 1;
    }
  if (g.norder < n)   /* a cycle (not after a successful load): a last wave */
    {
      for (size_t i = 0; i < n; i++)
        if (!placed[i])
          level[i] = nwaves;
      nwaves++;
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
  free (placed);
  graph_free (&g);
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
