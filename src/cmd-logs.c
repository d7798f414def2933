/* cmd-logs.c - itm-env logs: the containers' output, demultiplexed, each
 * line prefixed by its service (padded as Compose pads), one thread per
 * container writing whole lines under one lock, so that lines from several
 * containers interleave but never mix; the namespace's generated secrets
 * masked, also when one is split across two frames. */
#include <config.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "data/data.h"
#include "engine/engine.h"
#include "state/state.h"
#include "util/strv.h"
#include "util/xalloc.h"

enum { OPT_TAIL = OPT_FIRST_COMMAND_OPT, OPT_NO_COLOR, OPT_NO_PREFIX, OPT_FOLLOW, OPT_SINCE,
       OPT_UNTIL, OPT_LOGS_INDEX };

#define LINE_MAX_BYTES (64 * 1024)  /* longer lines are cut in pieces */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int interrupted;

static void
on_sigint (int sig)
{
  itm_exit_signal_note (sig);
  interrupted = 1;
  engine_cancel_wake ();
}

struct follower {
  const struct engine *e;
  const struct state_container *c;
  char *prefix;              /* "db    | ", coloured or not */
  const char *query;         /* "stdout=1&stderr=1&..." */
  struct buf line[3];        /* partial lines of stdout and stderr */
  struct data_masker mask[3]; /* generated secrets masked, per stream */
  struct itm_err err;
  pthread_t tid;
  bool started;
};

static void
emit (struct follower *f, const char *data, size_t len)
{
  struct buf b = { 0 };
  buf_adds (&b, f->prefix);
  buf_add (&b, data, len);
  buf_addc (&b, '\n');
  pthread_mutex_lock (&out_lock);
  fwrite (b.data, 1, b.len, stdout);
  fflush (stdout);
  pthread_mutex_unlock (&out_lock);
  buf_free (&b);
}

/* Emit l's whole lines (and a piece of LINE_MAX_BYTES of a longer one). */
static void
split_lines (struct follower *f, struct buf *l)
{
  for (;;)
    {
      char *nl = l->len ? memchr (l->data, '\n', l->len) : NULL;
      if (nl == NULL)
        {
          if (l->len >= LINE_MAX_BYTES)
            {
              emit (f, l->data, l->len);
              buf_reset (l);
            }
          break;
        }
      size_t n = (size_t) (nl - l->data);
      emit (f, l->data, n > 0 && l->data[n - 1] == '\r' ? n - 1 : n);
      buf_consume (l, n + 1);
    }
}

/* A frame: masked (a secret split across frames too), then split in lines. */
static int
on_frame (int stream, const char *data, size_t len, void *ctx)
{
  struct follower *f = ctx;
  int s = stream == 2 ? 2 : 1;
  data_mask_feed (&f->mask[s], data, len, &f->line[s]);
  split_lines (f, &f->line[s]);
  return 0;
}

static void *
follow (void *arg)
{
  struct follower *f = arg;
  struct engine *e = engine_dup (f->e);
  cleanup_free char *path = xasprintf ("/containers/%s/logs?%s", f->c->id, f->query);
  struct engine_call call = {
    .method = "GET", .path = path, .on_frame = on_frame, .frames_raw = f->c->tty, .ctx = f,
    .timeout_ms = -1, .cancel = &interrupted,
  };
  if (engine_call (e, &call, NULL, &f->err) < 0 && f->err.http_status == 404)
    itm_err_clear (&f->err); /* removed meanwhile: its logs are gone */
  for (int s = 1; s <= 2; s++)
    {
      data_mask_flush (&f->mask[s], &f->line[s]);
      split_lines (f, &f->line[s]);
      if (f->line[s].len)
        emit (f, f->line[s].data, f->line[s].len);
      buf_free (&f->line[s]);
    }
  engine_close (e);
  return NULL;
}

/* Compose's palette for prefixes. */
static const char *const colors[] = { "36", "33", "32", "35", "34", "96", "93", "92", "95", "94" };

static bool
selected (const char *service, char **services, size_t n)
{
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (strcmp (services[i], service) == 0)
      return true;
  return false;
}

struct logs_opts {
  bool follow, timestamps, color, prefix;
  const char *tail;
  int index;                    /* --index: that replica only; 0: all */
  long long since, until;    /* unix seconds, 0: none */
};

static int
logs_parse (struct itm_ctx *ctx, int argc, char **argv, struct logs_opts *o,
            struct itm_err *err)
{
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_logs, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case OPT_FOLLOW:
        o->follow = true;
        break;
      case 't':
        o->timestamps = true;
        break;
      case OPT_TAIL:
        {
          char *end;
          long v = strtol (arg, &end, 10);
          if (strcmp (arg, "all") != 0 && (*arg == '\0' || *end || v < 0))
            return itm_err_set (err, ITM_EXIT_USAGE,
                                "logs: --tail wants a number of lines or 'all', not '%s'", arg);
          o->tail = arg;
        }
        break;
      case OPT_NO_COLOR:
        o->color = false;
        break;
      case OPT_NO_PREFIX:
        o->prefix = false;
        break;
      case OPT_LOGS_INDEX:
        if (ctx_parse_index (arg, &o->index, err) < 0)
          return -1;
        break;
      case OPT_SINCE:
        if (cmd_parse_time ("logs", "--since", arg, &o->since, err) < 0)
          return -1;
        break;
      case OPT_UNTIL:
        if (cmd_parse_time ("logs", "--until", arg, &o->until, err) < 0)
          return -1;
        break;
      }
  return opt < 0 ? -1 : 0;
}

/* One follower per selected container (n of them, a new array), each with
 * its prefix: the service, or service-N when it has several containers,
 * padded to the longest, in the service's colour. */
static struct follower *
make_followers (const struct state *st, char **services, size_t nservices,
                const struct logs_opts *o, size_t *nout)
{
  size_t n = 0, width = 0;
  struct follower *fs = xcalloc (st->ncontainers, sizeof *fs);
  cleanup_strv char **labels = xcalloc (st->ncontainers + 1, sizeof *labels);
  const char **names = NULL;
  size_t nnames = state_services (st, &names);
  const char **color_of = xcalloc (st->ncontainers, sizeof *color_of);
  for (size_t i = 0; i < st->ncontainers; i++)
    {
      const struct state_container *c = &st->containers[i];
      if (!selected (c->service, services, nservices) || (o->index && c->number != o->index))
        continue;
      size_t count;
      state_service (st, c->service, &count);
      labels[n] = count > 1 ? xasprintf ("%s-%d", c->service, c->number) : xstrdup (c->service);
      if (strlen (labels[n]) > width)
        width = strlen (labels[n]);
      size_t k = 0;
      while (k < nnames && strcmp (names[k], c->service) != 0)
        k++;
      fs[n].c = c;
      color_of[n] = colors[k % (sizeof colors / sizeof colors[0])];
      n++;
    }
  free (names);
  for (size_t i = 0; i < n; i++)
    {
      if (!o->prefix)
        fs[i].prefix = xstrdup ("");
      else if (o->color)
        fs[i].prefix = xasprintf ("\033[%sm%-*s |\033[0m ", color_of[i], (int) width, labels[i]);
      else
        fs[i].prefix = xasprintf ("%-*s | ", (int) width, labels[i]);
    }
  free (color_of);
  *nout = n;
  return fs;
}

/* Run the followers in threads until they end (or SIGINT/SIGTERM); the
 * first error of one (unless interrupted) into err. */
static int
run_followers (struct engine *e, struct follower *fs, size_t n, const char *query,
               struct itm_err *err)
{
  struct sigaction sa = { .sa_handler = on_sigint }, old_int, old_term;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  interrupted = 0;
  fflush (stdout);

  for (size_t i = 0; i < n; i++)
    {
      fs[i].e = e;
      fs[i].query = query;
      fs[i].started = pthread_create (&fs[i].tid, NULL, follow, &fs[i]) == 0;
      if (!fs[i].started)
        follow (&fs[i]);
    }
  int ret = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (fs[i].started)
        pthread_join (fs[i].tid, NULL);
      if (itm_err_isset (&fs[i].err) && ret == 0 && !interrupted)
        {
          itm_err_move (err, &fs[i].err);
          itm_err_prefix (err, "logs of %s", fs[i].c->name);
          ret = -1;
        }
      itm_err_clear (&fs[i].err);
    }
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  if (ret == 0 && interrupted)
    return itm_exit_interrupted ();
  return ret;
}

static int
logs_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  struct logs_opts o = { .color = ctx_want_color (STDOUT_FILENO), .prefix = true,
                         .tail = "all" };
  if (logs_parse (ctx, argc, argv, &o, err) < 0)
    return -1;
  char **services = argv + optind;
  size_t nservices = (size_t) (argc - optind);

  cleanup_free char *ns = NULL;
  cleanup_state struct state *st = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0
      || ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  for (size_t i = 0; i < nservices; i++)
    {
      size_t n;
      if (state_service (st, services[i], &n) == NULL)
        return state_no_service (st, services[i], err);
      if (o.index && ctx_pick_container (st, services[i], o.index, err) == NULL)
        return -1;
    }

  /* generated secrets (x-itm.secrets) are masked, as everywhere */
  if (data_secrets_load (ns, err) < 0)
    return -1;
  size_t n = 0;
  struct follower *fs = make_followers (st, services, nservices, &o, &n);
  cleanup_free char *query = xasprintf ("stdout=1&stderr=1&follow=%d&timestamps=%d&tail=%s"
                                        "&since=%lld&until=%lld", o.follow, o.timestamps,
                                        o.tail, o.since, o.until);
  int ret = run_followers (ctx->engine, fs, n, query, err);
  for (size_t i = 0; i < n; i++)
    free (fs[i].prefix);
  free (fs);
  return ret;
}

/* The shared options, but -f is --follow here (as in Compose): the stack
 * file is --file, or -f before the command name. */
static const struct itm_opt logs_opts[] = {
  { .group = cmd_stack_opts, .hidden = true },
  { OPT_NAMESPACE, 'p', "namespace", OPT_ARG_REQUIRED, "NS",
    "namespace (default: $ITM_ENV_NAMESPACE, name:, directory)" },
  { OPT_FILE, 0, "file", OPT_ARG_REQUIRED, "FILE",
    "stack file (to find the namespace; -f is --follow here)" },
  { OPT_FOLLOW, 'f', "follow", OPT_ARG_NONE, NULL,
    "go on until every container stops (or SIGINT)" },
  { OPT_TAIL, 'n', "tail", OPT_ARG_REQUIRED, "N",
    "only the last N lines of each container ('all')" },
  { 't', 't', "timestamps", OPT_ARG_NONE, NULL, "the engine's timestamp before each line" },
  { OPT_NO_COLOR, 0, "no-color", OPT_ARG_NONE, NULL,
    "no colour (colour only on a terminal anyway)" },
  { OPT_NO_PREFIX, 0, "no-log-prefix", OPT_ARG_NONE, NULL, "no 'service | ' prefix" },
  { OPT_LOGS_INDEX, 0, "index", OPT_ARG_REQUIRED, "N",
    "only replica N of each service (default: all of them)" },
  { OPT_SINCE, 0, "since", OPT_ARG_REQUIRED, "TIME",
    "only lines from TIME on (unix seconds, RFC 3339, or a duration before now)" },
  { OPT_UNTIL, 0, "until", OPT_ARG_REQUIRED, "TIME", "only lines before TIME (same forms)" },
  { 0 },
};

const struct itm_cmd cmd_logs = {
  .name = "logs",
  .args = "[SERVICE...]",
  .summary = "print the output of the namespace's containers",
  .opts = logs_opts,
  .fn = logs_main,
};
