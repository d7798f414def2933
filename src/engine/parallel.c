/* parallel.c - engine_parallel(): a small pool of threads, each with its own
 * engine handle, taking jobs in index order from a shared counter. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/xalloc.h"

struct pool {
  const struct engine *e;
  size_t n, next;
  engine_job_fn fn;
  void *ctx;
  struct itm_err *errs;      /* n entries */
  int *rcs;                  /* n entries */
  pthread_mutex_t lock;
};

static void *
worker (void *arg)
{
  struct pool *p = arg;
  struct engine *e = engine_dup (p->e);

  for (;;)
    {
      pthread_mutex_lock (&p->lock);
      size_t i = p->next < p->n ? p->next++ : p->n;
      pthread_mutex_unlock (&p->lock);
      if (i >= p->n)
        break;
      p->rcs[i] = p->fn (e, i, p->ctx, &p->errs[i]);
      if (p->rcs[i] < 0 && !itm_err_isset (&p->errs[i]))
        itm_err_set (&p->errs[i], ITM_EXIT_FAILURE, "job %zu failed", i);
    }
  engine_close (e);
  return NULL;
}

static void
err_copy (struct itm_err *dst, const struct itm_err *src)
{
  itm_err_clear (dst);
  dst->code = src->code;
  dst->http_status = src->http_status;
  dst->msg = src->msg ? xstrdup (src->msg) : NULL;
  dst->engine_msg = src->engine_msg ? xstrdup (src->engine_msg) : NULL;
  dst->hint = src->hint ? xstrdup (src->hint) : NULL;
}

int
engine_parallel (struct engine *e, size_t n, unsigned workers, engine_job_fn fn, void *ctx,
                 struct itm_err *errs, struct itm_err *err)
{
  struct pool p = { .e = e, .n = n, .fn = fn, .ctx = ctx };
  size_t nthreads = workers ? workers : 4, started = 0;
  int ret = 0;

  if (n == 0)
    return 0;
  if (nthreads > n)
    nthreads = n;
  p.errs = xcalloc (n, sizeof *p.errs);
  p.rcs = xcalloc (n, sizeof *p.rcs);
  pthread_mutex_init (&p.lock, NULL);
  pthread_t *tids = xcalloc (nthreads, sizeof *tids);
  for (size_t t = 0; t < nthreads; t++)
    if (pthread_create (&tids[t], NULL, worker, &p) == 0)
      started++;
    else
      break;
  if (started == 0)
    worker (&p); /* no threads to be had: do the work here */
  for (size_t t = 0; t < started; t++)
    pthread_join (tids[t], NULL);
  pthread_mutex_destroy (&p.lock);

  for (size_t i = 0; i < n; i++)
    {
      if (p.rcs[i] < 0 && ret == 0)
        {
          err_copy (err, &p.errs[i]);
          ret = -1;
        }
      if (errs)
        itm_err_move (&errs[i], &p.errs[i]);
      else
        itm_err_clear (&p.errs[i]);
    }
  free (tids);
  free (p.errs);
  free (p.rcs);
  return ret;
}
