/* cmd-exec.c - itm-env exec SERVICE [--] CMD...: run a command in a
 * service's container, with its exit code.
 *
 * Without stdin the output is streamed through engine_call (multiplexed
 * frames, raw with a TTY).  With stdin (a TTY session, or stdin piped in)
 * POST /exec/{id}/start is hijacked: the engine answers 101 and the
 * connection becomes a raw bidirectional stream.  libcurl cannot hand that
 * over, so this file speaks that one request itself on a raw connection
 * of its own (engine_raw_open: unix://, tcp:// and tcp:// with TLS alike);
 * at the end of stdin the connection is half-closed (with TLS, by a
 * close_notify alert) and the command's output is read to its end. */
#include <config.h>

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "engine/engine.h"
#include "state/state.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "out/out.h"

enum { OPT_INDEX = OPT_FIRST_COMMAND_OPT, OPT_PRIVILEGED };

static int
write_all (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      data += w;
      len -= (size_t) w;
    }
  return 0;
}

static int
on_frame (int stream, const char *data, size_t len, void *ctx)
{
  (void) ctx;
  /* A closed stdout (exec ... | head) is not an error of the command. */
  write_all (stream == 2 ? STDERR_FILENO : STDOUT_FILENO, data, len);
  return 0;
}

/* ---- the hijacked connection ---- */


static volatile sig_atomic_t winch;

static void
on_winch (int sig)
{
  (void) sig;
  winch = 1;
}

static void
resize (struct engine *e, const char *exec_id)
{
  struct winsize ws;
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
    return;
  cleanup_free char *path = xasprintf ("/exec/%s/resize?h=%u&w=%u", exec_id, ws.ws_row,
                                       ws.ws_col);
  struct itm_err err = { 0 };
  engine_post (e, path, NULL, NULL, &err);
  itm_err_clear (&err);
}

/* POST /exec/{id}/start on our own connection, then copy stdin to the
 * connection and the connection (demultiplexed unless tty) to stdout and
 * stderr until the engine closes it. */
static int
start_hijacked (struct engine *e, const char *exec_id, bool tty, struct itm_err *err)
{
  struct engine_raw *r = engine_raw_open (e, err);
  if (r == NULL)
    return -1;
  const char *body = tty ? "{\"Detach\":false,\"Tty\":true}" : "{\"Detach\":false,\"Tty\":false}";
  const char *api = engine_api_version (e);
  cleanup_free char *req = xasprintf ("POST %s%s/exec/%s/start HTTP/1.1\r\n"
                                      "Host: docker\r\n"
                                      "User-Agent: itm-env/" PACKAGE_VERSION "\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Upgrade: tcp\r\n"
                                      "Content-Length: %zu\r\n\r\n%s",
                                      api ? "/v" : "", api ? api : "", exec_id, strlen (body),
                                      body);
  if (engine_raw_send (r, req, strlen (req), err) < 0)
    {
      engine_raw_close (r);
      return itm_err_prefix (err, "starting the exec");
    }

  /* The answer's head. */
  struct buf in = { 0 };
  char chunk[16384];
  char *eoh = NULL;
  while ((eoh = in.data ? strstr (in.data, "\r\n\r\n") : NULL) == NULL)
    {
      ssize_t n = engine_raw_read (r, chunk, sizeof chunk, -1);
      if (n <= 0)
        {
          buf_free (&in);
          engine_raw_close (r);
          return itm_err_set (err, ITM_EXIT_ENGINE, "the engine closed the exec connection");
        }
      buf_add (&in, chunk, (size_t) n);
    }
  int status = 0;
  sscanf (in.data, "HTTP/%*s %d", &status);
  size_t head = (size_t) (eoh + 4 - in.data);
  if (status >= 400 || status < 100)
    {
      /* Read what is left of a short error body. */
      for (int i = 0; i < 50; i++)
        {
          ssize_t n = engine_raw_read (r, chunk, sizeof chunk, 100);
          if (n <= 0)
            break;
          buf_add (&in, chunk, (size_t) n);
        }
      json_object *msg = json_tokener_parse (in.data + head);
      json_object *m = NULL;
      const char *text = msg && json_object_object_get_ex (msg, "message", &m)
                           ? json_object_get_string (m) : NULL;
      itm_err_set (err, status == 404 ? ITM_EXIT_NOT_FOUND : ITM_EXIT_ENGINE,
                   "starting the exec: HTTP %d%s%s", status, text ? ": " : "", text ? text : "");
      err->http_status = status;
      if (text)
        err->engine_msg = xstrdup (text);
      json_object_put (msg);
      buf_free (&in);
      engine_raw_close (r);
      return -1;
    }

  struct mux mux;
  mux_init (&mux, tty, on_frame, NULL);
  int ret = 0;
  if (in.len > head && mux_feed (&mux, in.data + head, in.len - head, err) < 0)
    ret = -1;
  buf_free (&in);

  struct termios saved;
  bool raw = false;
  struct sigaction sa = { .sa_handler = on_winch }, old_winch;
  if (tty && isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      struct termios t = saved;
      cfmakeraw (&t);
      raw = tcsetattr (STDIN_FILENO, TCSANOW, &t) == 0;
      sigaction (SIGWINCH, &sa, &old_winch);
      resize (e, exec_id);
    }

  bool stdin_open = true, ended = false;
  while (ret == 0 && !ended)
    {
      struct pollfd p[2] = { { .fd = engine_raw_fd (r), .events = POLLIN },
                             { .fd = STDIN_FILENO, .events = POLLIN } };
      int n = poll (p, stdin_open ? 2 : 1, -1);
      if (n < 0 && errno == EINTR)
        {
          if (winch)
            {
              winch = 0;
              resize (e, exec_id);
            }
          continue;
        }
      if (n < 0)
        {
          ret = itm_err_errno (err, ITM_EXIT_FAILURE, "poll");
          break;
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        /* all there is, TLS's buffered records too */
        for (;;)
          {
            ssize_t got = engine_raw_recv (r, chunk, sizeof chunk);
            if (got == -2)
              break;
            if (got == 0)
              {
                ended = true; /* the command ended */
                break;
              }
            if (mux_feed (&mux, chunk, (size_t) got, err) < 0)
              {
                ret = -1;
                break;
              }
          }
      if (ret == 0 && !ended && stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          ssize_t got = read (STDIN_FILENO, chunk, sizeof chunk);
          if (got < 0 && errno == EINTR)
            continue;
          cleanup_err struct itm_err werr = { 0 };
          if (got <= 0 || engine_raw_send (r, chunk, (size_t) got, &werr) < 0)
            {
              /* End of input: the command's stdin closes, its output goes on. */
              stdin_open = false;
              engine_raw_shutdown_write (r);
            }
        }
    }
  if (raw)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &saved);
      sigaction (SIGWINCH, &old_winch, NULL);
    }
  engine_raw_close (r);
  return ret;
}

/* ---- the command ---- */

static int
exec_exit_code (struct engine *e, const char *exec_id, struct itm_err *err)
{
  cleanup_free char *path = xasprintf ("/exec/%s/json", exec_id);
  for (int i = 0; i < 500; i++)
    {
      json_object *o = NULL, *running = NULL, *code = NULL;
      if (engine_get (e, path, &o, err) < 0)
        return -1;
      json_object_object_get_ex (o, "Running", &running);
      json_object_object_get_ex (o, "ExitCode", &code);
      bool still = running && json_object_get_boolean (running);
      int rc = code ? json_object_get_int (code) : -1;
      json_object_put (o);
      if (!still && code)
        return rc;
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return itm_err_set (err, ITM_EXIT_ENGINE, "the exec still runs after its output ended");
}

struct exec_opts {
  bool no_tty, privileged;
  const char *user, *workdir;
  int index;
  json_object *env;          /* "NAME=value" strings */
  const char *service;
  char **cmdv;               /* the command, up to argv's end */
  int cmdc;
};

/* -e NAME=VALUE, or -e NAME: the value from our environment (as docker
 * exec; nothing when unset). */
static void
add_env (json_object *env, const char *arg)
{
  if (strchr (arg, '=') != NULL)
    {
      json_object_array_add (env, json_object_new_string (arg));
      return;
    }
  const char *v = getenv (arg);
  if (v == NULL)
    return;
  cleanup_free char *kv = xasprintf ("%s=%s", arg, v);
  json_object_array_add (env, json_object_new_string (kv));
}

/* The options, SERVICE, [--] and the command into o (o->env must be an
 * array). */
static int
exec_parse (struct itm_ctx *ctx, int argc, char **argv, struct exec_opts *o,
            struct itm_err *err)
{
  const char *arg;
  int opt;
  while ((opt = cmd_getopt (&cmd_exec, ctx, argc, argv, &arg, err)) > 0)
    switch (opt)
      {
      case 'T':
        o->no_tty = true;
        break;
      case 'u':
        o->user = arg;
        break;
      case 'w':
        o->workdir = arg;
        break;
      case 'e':
        add_env (o->env, arg);
        break;
      case OPT_INDEX:
        if (ctx_parse_index (arg, &o->index, err) < 0)
          return -1;
        break;
      case OPT_PRIVILEGED:
        o->privileged = true;
        break;
      }
  if (opt < 0)
    return -1;
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  if (optind >= argc)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "exec: expected SERVICE COMMAND...");
      return itm_err_hint (err, "'itm-env help exec'");
    }
  o->service = argv[optind++];
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  if (optind >= argc)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "exec: no command to run in '%s'", o->service);
      return itm_err_hint (err, "itm-env exec %s -- sh", o->service);
    }
  o->cmdv = argv + optind;
  o->cmdc = argc - optind;
  return 0;
}

/* The body of POST /containers/{id}/exec (a new object; takes a reference
 * on o->env when it is used). */
static json_object *
exec_body (const struct exec_opts *o, bool tty, bool attach_stdin)
{
  json_object *body = json_object_new_object ();
  json_object *cmd = json_object_new_array ();
  for (int i = 0; i < o->cmdc; i++)
    json_object_array_add (cmd, json_object_new_string (o->cmdv[i]));
  json_object_object_add (body, "Cmd", cmd);
  json_object_object_add (body, "AttachStdin", json_object_new_boolean (attach_stdin));
  json_object_object_add (body, "AttachStdout", json_object_new_boolean (1));
  json_object_object_add (body, "AttachStderr", json_object_new_boolean (1));
  json_object_object_add (body, "Tty", json_object_new_boolean (tty));
  if (json_object_array_length (o->env))
    json_object_object_add (body, "Env", json_object_get (o->env));
  if (o->user)
    json_object_object_add (body, "User", json_object_new_string (o->user));
  if (o->workdir)
    json_object_object_add (body, "WorkingDir", json_object_new_string (o->workdir));
  if (o->privileged)
    json_object_object_add (body, "Privileged", json_object_new_boolean (1));
  if (tty)
    {
      const char *term = getenv ("TERM");
      cleanup_free char *t = xasprintf ("TERM=%s", term && *term ? term : "xterm");
      if (!json_object_object_get_ex (body, "Env", NULL))
        json_object_object_add (body, "Env", json_object_get (o->env));
      json_object_array_add (o->env, json_object_new_string (t));
    }
  return body;
}

/* POST /containers/{id}/exec: the exec's id (a new string), or NULL with
 * err set. */
static char *
exec_create (struct engine *e, const struct state_container *c, json_object *body,
             struct itm_err *err)
{
  cleanup_free char *path = xasprintf ("/containers/%s/exec", c->id);
  cleanup_json json_object *created = NULL;
  json_object *idv = NULL;
  if (engine_post (e, path, body, &created, err) < 0)
    {
      itm_err_prefix (err, "exec in %s", c->name);
      return NULL;
    }
  if (!json_object_object_get_ex (created, "Id", &idv))
    {
      itm_err_set (err, ITM_EXIT_ENGINE, "exec in %s: the engine gave no exec id", c->name);
      return NULL;
    }
  return xstrdup (json_object_get_string (idv));
}

/* POST /exec/{id}/start without stdin: the output streamed. */
static int
start_streamed (struct engine *e, const char *exec_id, bool tty, struct itm_err *err)
{
  cleanup_free char *spath = xasprintf ("/exec/%s/start", exec_id);
  cleanup_json json_object *sbody = json_object_new_object ();
  json_object_object_add (sbody, "Detach", json_object_new_boolean (0));
  json_object_object_add (sbody, "Tty", json_object_new_boolean (tty));
  struct engine_call call = {
    .method = "POST", .path = spath, .body = sbody,
    .on_frame = on_frame, .frames_raw = tty, .timeout_ms = -1,
  };
  return engine_call (e, &call, NULL, err) < 0 ? -1 : 0;
}

/* The container to run in: the service's (--index), running. */
static struct state_container *
exec_container (struct itm_ctx *ctx, const struct exec_opts *o, struct state **st,
                struct itm_err *err)
{
  cleanup_free char *ns = NULL;
  struct state_container *c;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0
      || ctx_state (ctx, ns, true, st, err) < 0
      || (c = ctx_pick_container (*st, o->service, o->index, err)) == NULL)
    return NULL;
  if (strcmp (c->state, "running") != 0)
    {
      itm_err_set (err, ITM_EXIT_FAILURE, "exec: container %s of service '%s' is %s, not running",
                   c->name, o->service, c->state);
      itm_err_hint (err, "'itm-env logs %s' says why", o->service);
      return NULL;
    }
  return c;
}

static int
exec_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  cleanup_json json_object *env = json_object_new_array ();
  struct exec_opts o = { .env = env };
  if (exec_parse (ctx, argc, argv, &o, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  struct state_container *c = exec_container (ctx, &o, &st, err);
  if (c == NULL)
    return -1;

  struct engine *e = ctx->engine;
  bool tty = !o.no_tty && isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
  bool attach_stdin = tty || !isatty (STDIN_FILENO);
  cleanup_json json_object *body = exec_body (&o, tty, attach_stdin);
  cleanup_free char *exec_id = exec_create (e, c, body, err);
  if (exec_id == NULL)
    return -1;
  fflush (stdout);
  int r = attach_stdin ? start_hijacked (e, exec_id, tty, err)
                       : start_streamed (e, exec_id, tty, err);
  if (r < 0)
    return itm_err_prefix (err, "exec in %s", c->name);
  return exec_exit_code (e, exec_id, err);
}

static const struct itm_opt exec_opts[] = {
  { .group = cmd_stack_opts },
  { 'T', 'T', "no-tty", OPT_ARG_NONE, NULL, "no TTY even when stdin and stdout are terminals" },
  { 'u', 'u', "user", OPT_ARG_REQUIRED, "USER", "run as USER (name or uid[:gid])" },
  { 'w', 'w', "workdir", OPT_ARG_REQUIRED, "DIR", "run in DIR" },
  { 'e', 'e', "env", OPT_ARG_REQUIRED, "NAME[=VALUE]",
    "set a variable (repeatable; NAME alone: ours)", .repeat = true },
  { OPT_INDEX, 0, "index", OPT_ARG_REQUIRED, "N",
    "the service's container number N (default: the first running)" },
  { OPT_PRIVILEGED, 0, "privileged", OPT_ARG_NONE, NULL, "extended privileges for the command" },
  { 0 },
};

const struct itm_cmd cmd_exec = {
  .name = "exec",
  .args = "SERVICE [--] COMMAND [ARG...]",
  .summary = "run a command in a service's container; its exit code is ours",
  .opts = exec_opts,
  .fn = exec_main,
  .passthrough = true,
};
