/* ensure.c - every service's image made to exist: one job per distinct
 * image (built or pulled as the service's policy says), jobs in parallel. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "image/private.h"
#include "stack/stack.h"
#include "util/xalloc.h"

enum job_kind { JOB_BUILD, JOB_PULL, JOB_PULL_MISSING, JOB_NEVER };

struct job {
  enum job_kind kind;
  char *image;
  const struct stack_service *svc;   /* the first service using it */
  struct buf label;                  /* its services, joined by ", " */
};

struct ensure {
  const struct stack *st;
  const struct image_opts *o;
  struct job *j;
  size_t n;
  struct image_prog *p;
  enum image_builder builder;
};

char *
image_service_ref (const struct stack_service *svc, const char *ns)
{
  if (svc->image)
    return xstrdup (svc->image);
  return xasprintf ("%s-%s", ns, svc->name);
}

int
image_check_policy (const char *policy, struct itm_err *err)
{
  if (strcmp (policy, "always") && strcmp (policy, "missing") && strcmp (policy, "never")
      && strcmp (policy, "build") && strcmp (policy, "if_not_present"))
    {
      itm_err_set (err, ITM_EXIT_USAGE, "--pull: expected always, missing, never or build, got '%s'",
                   policy);
      return -1;
    }
  return 0;
}

static int
job_fn (struct engine *e, size_t i, void *vctx, struct itm_err *err)
{
  struct ensure *en = vctx;
  struct job *j = &en->j[i];
  struct image_prog *p = &en->p[i];
  switch (j->kind)
    {
    case JOB_BUILD:
      return image_build_one (e, en->st, j->svc, j->image, en->o->build, en->builder, p,
                              en->o->cancel, err);
    case JOB_PULL:
      if (image_pull_one (e, j->image, j->svc->platform, p, en->o->cancel, err) < 0)
        return itm_err_prefix (err, "service %s: pulling image %s", j->svc->name, j->image);
      return 0;
    case JOB_PULL_MISSING:
    case JOB_NEVER:
      {
        int r = image_inspect (e, j->image, NULL, err);
        if (r < 0)
          return -1;
        if (r > 0)
          {
            progress_event (p, "exists", NULL);
            return 0;
          }
        if (j->kind == JOB_NEVER)
          {
            itm_err_set (err, ITM_EXIT_IMAGE, "service %s: image %s is not on the engine and "
                         "the pull policy is never", j->svc->name, j->image);
            return itm_err_hint (err, "pull it first, or use --pull missing");
          }
        if (image_pull_one (e, j->image, j->svc->platform, p, en->o->cancel, err) < 0)
          return itm_err_prefix (err, "service %s: image %s is not on the engine, and pulling "
                                 "it failed", j->svc->name, j->image);
        return 0;
      }
    }
  return 0;
}

static bool
wanted (const struct image_opts *o, const char *name)
{
  if (o->nservices == 0)
    return true;
  for (size_t i = 0; i < o->nservices; i++)
    if (strcmp (o->services[i], name) == 0)
      return true;
  return false;
}

int
image_ensure (struct engine *e, const struct stack *st, const struct image_opts *o,
              struct itm_err *err)
{
  struct ensure en = { .st = st, .o = o };
  const char *bv = o->builder ? o->builder : getenv ("ITM_ENV_BUILDER");
  if (bv && *bv && image_builder_parse (bv, o->builder ? "--builder" : "ITM_ENV_BUILDER",
                                        &en.builder, err) < 0)
    return -1;
  en.j = xcalloc (st->nservices + 1, sizeof *en.j);
  int ret = 0;
  for (size_t i = 0; i < st->nservices && ret == 0; i++)
    {
      const struct stack_service *svc = &st->services[i];
      if (!wanted (o, svc->name))
        continue;
      const char *pol = o->pull ? o->pull : svc->pull_policy;
      bool build = svc->build.set;
      enum job_kind kind;
      if (build && !(pol && strcmp (pol, "always") == 0 && svc->image))
        kind = JOB_BUILD;
      else if (build && o->build_only)
        kind = JOB_BUILD;
      else if (pol && strcmp (pol, "build") == 0)
        {
          ret = itm_err_set (err, ITM_EXIT_IMAGE, "service %s: pull_policy build needs a build: "
                             "section", svc->name);
          break;
        }
      else if (o->pull_only || (pol && strcmp (pol, "always") == 0))
        kind = JOB_PULL;
      else if (pol && strcmp (pol, "never") == 0)
        kind = JOB_NEVER;
      else
        kind = JOB_PULL_MISSING;   /* missing, if_not_present, daily, weekly, every_ */
      if ((o->pull_only && kind == JOB_BUILD) || (o->build_only && kind != JOB_BUILD))
        continue;
      char *image = image_service_ref (svc, o->ns);
      size_t k;
      for (k = 0; k < en.n; k++)
        if (strcmp (en.j[k].image, image) == 0)
          break;
      if (k < en.n)
        {
          /* used by several services: one job */
          buf_addf (&en.j[k].label, ", %s", svc->name);
          if (kind == JOB_BUILD && en.j[k].kind != JOB_BUILD)
            {
              en.j[k].kind = JOB_BUILD;
              en.j[k].svc = svc;
            }
          free (image);
          continue;
        }
      en.j[en.n] = (struct job){ .kind = kind, .image = image, .svc = svc };
      buf_adds (&en.j[en.n].label, svc->name);
      en.n++;
    }
  if (ret == 0 && en.n)
    {
      en.p = xcalloc (en.n, sizeof *en.p);
      for (size_t i = 0; i < en.n; i++)
        en.p[i] = (struct image_prog){ .label = en.j[i].label.data, .image = en.j[i].image,
                                       .verb = en.j[i].kind == JOB_BUILD ? "build" : "pull" };
      progress_start (o->progress, en.p, en.n);
      struct itm_err *errs = xcalloc (en.n, sizeof *errs);
      ret = engine_parallel (e, en.n, 4, job_fn, &en, errs, err);
      for (size_t i = 0; i < en.n; i++)
        itm_err_clear (&errs[i]);
      free (errs);
      progress_finish ();
      free (en.p);
    }
  for (size_t i = 0; i < en.n; i++)
    {
      free (en.j[i].image);
      buf_free (&en.j[i].label);
    }
  free (en.j);
  return ret;
}
