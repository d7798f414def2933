/* test-bounds.c - hostile stack inputs get a clear error in bounded time
 * and memory (issue 19, items 1-4): includes nested too deep, interpolation
 * that would grow without end, a .env of 20,000 lines, and FIFOs and
 * devices where a file is expected.
 *
 * Everything is written to a temporary directory.  A FIFO that blocks
 * would hang the test: SIGALRM after 10 s fails it instead. */
#include <config.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "prov/prov.h"
#include "stack/files.h"
#include "stack/stack.h"
#include "tap.h"
#include "util/xalloc.h"

static char tmp[] = "/tmp/itm-test-bounds.XXXXXX";
static char env_home[] = "HOME=/home/tester", env_p[] = "P=proc";
static char *envv[] = { env_home, env_p, NULL };

static void
on_alarm (int sig)
{
  (void) sig;
  static const char msg[] = "not ok - still running after 10 s (waiting on a FIFO?)\nBail out!\n";
  if (write (STDOUT_FILENO, msg, sizeof msg - 1) < 0)
    _exit (2);
  _exit (1);
}

static char *
tp (const char *rel)
{
  return xasprintf ("%s/%s", tmp, rel);
}

static void
put (const char *rel, const char *data, size_t len)
{
  cleanup_free char *p = tp (rel);
  char *sl = strrchr (p, '/');
  *sl = '\0';
  mkdir (p, 0755);
  *sl = '/';
  FILE *f = fopen (p, "w");
  if (f == NULL || fwrite (data, 1, len, f) != len || fclose (f) != 0)
    {
      printf ("Bail out! cannot write %s\n", p);
      exit (1);
    }
}

static void
puts_ (const char *rel, const char *s)
{
  put (rel, s, strlen (s));
}

/* ---- the file layer (stack/files.h) */

struct load {
  struct node_arena *a;
  struct stack_loaded l;
  struct diags d;
  int ret;
};

static void
load (struct load *x, const char *file, const char *env_file)
{
  memset (x, 0, sizeof *x);
  x->a = node_arena_new ();
  cleanup_free char *f = tp (file);
  const char *files[] = { file[0] == '/' ? file : f };
  cleanup_free char *e = env_file ? tp (env_file) : NULL;
  const char *env_files[] = { env_file && env_file[0] == '/' ? env_file : e };
  struct stack_load_opts o = { .files = files, .nfiles = 1, .env_files = env_files,
                               .nenv_files = env_file != NULL, .environ = envv };
  x->ret = stack_files_load (&o, x->a, &x->l, &x->d);
}

static void
load_free (struct load *x)
{
  stack_loaded_free (&x->l);
  diags_free (&x->d);
  node_arena_free (x->a);
}

/* The one error containing want, at file (relative to tmp, or absolute),
 * line and col (0: not checked). */
static void
expect (const struct load *x, const char *want, const char *file, int line, int col,
        const char *what)
{
  const struct diag *g = NULL;
  for (size_t i = 0; i < x->d.n && g == NULL; i++)
    if (x->d.v[i].severity == DIAG_ERROR && strstr (x->d.v[i].msg, want))
      g = &x->d.v[i];
  if (!tap_ok (g != NULL, "%s: error '%s'", what, want))
    diags_print (&x->d, stdout);
  if (g == NULL)
    return;
  cleanup_free char *f = file[0] == '/' ? xstrdup (file) : tp (file);
  tap_is_str (g->file, f, "%s: names the file", what);
  if (line)
    tap_is_int (g->line, line, "%s: line", what);
  if (col)
    tap_is_int (g->col, col, "%s: column", what);
}

/* ---- 1: includes nested deeper than 32 */

static void
test_include_depth (void)
{
  /* f0 includes f1 ... includes f34: f32 is the 33rd level */
  for (int i = 0; i <= 34; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "inc/f%d.yaml", i);
      cleanup_free char *y
        = i < 34 ? xasprintf ("include:\n  - f%d.yaml\nservices:\n  s%d:\n    image: alpine\n",
                              i + 1, i)
                 : xasprintf ("services:\n  s%d:\n    image: alpine\n", i);
      puts_ (name, y);
    }
  /* through stack_load: the model layer copies the diagnostics (the
   * freed file name was read there) */
  cleanup_free char *f0 = tp ("inc/f0.yaml");
  cleanup_free char *f32 = tp ("inc/f32.yaml");
  const char *files[] = { f0 };
  struct stack_opts o = { .files = files, .nfiles = 1, .environ = envv };
  struct stack *st = NULL;
  struct stack_diags d = { 0 };
  struct itm_err err = { 0 };
  int r = stack_load (&o, &st, &d, &err);
  tap_ok (r < 0 && err.code == ITM_EXIT_STACK, "include depth: invalid (exit 3)");
  const struct stack_diag *g = NULL;
  for (size_t i = 0; i < d.n; i++)
    if (d.v[i].severity == STACK_ERROR && strstr (d.v[i].msg, "nested more than 32 deep"))
      g = &d.v[i];
  tap_ok (g != NULL, "include depth: 'includes nested more than 32 deep'");
  tap_is_str (g ? g->file : NULL, f32, "include depth: names the 33rd file");
  stack_diags_free (&d);
  itm_err_clear (&err);
  stack_free (st);
}

/* ---- 2: interpolation bounded */

static void
test_interp_total (void)
{
  /* a 1 MiB variable referenced 2,000 times: 16 references fill the
   * budget, the 17th (line 21) fails, and the walk stops there */
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "BIG=");
  for (size_t i = 0; i < (1u << 20); i++)
    buf_addc (&b, 'x');
  buf_addc (&b, '\n');
  put ("total/.env", b.data, b.len);
  buf_free (&b);
  buf_adds (&b, "services:\n  s:\n    image: alpine\n    command:\n");
  for (int i = 0; i < 2000; i++)
    buf_adds (&b, "      - ${BIG}\n");
  put ("total/compose.yaml", b.data, b.len);
  struct load x;
  load (&x, "total/compose.yaml", NULL);
  expect (&x, "interpolation substitutes more than 16 MiB in all (the limit for one load)",
          "total/compose.yaml", 21, 9, "1 MiB x 2,000");
  tap_is_int ((long long) x.d.nerrors, 1, "1 MiB x 2,000: one error, then the walk stops");
  load_free (&x);
}

static void
test_interp_value (void)
{
  /* each line ten times the one before: the 7th line would be 10 MiB */
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "V0=abcdefghij\n");
  for (int i = 1; i < 12; i++)
    {
      buf_addf (&b, "V%d=", i);
      for (int k = 0; k < 10; k++)
        buf_addf (&b, "${V%d}", i - 1);
      buf_addc (&b, '\n');
    }
  put ("value/.env", b.data, b.len);
  puts_ ("value/compose.yaml", "services:\n  s:\n    image: alpine\n"
                               "    environment:\n      X: ${V5}\n");
  struct load x;
  load (&x, "value/compose.yaml", NULL);
  expect (&x, "the value of V6: interpolation makes the value larger than 4 MiB (the limit for "
              "one value)", "value/.env", 7, 1, ".env x10 per line");
  tap_is_str (stack_env_get (x.l.env, "V5") ? "set" : NULL, "set", ".env x10: V5 (1 MB) kept");
  tap_ok (stack_env_get (x.l.env, "V6") == NULL, ".env x10: V6 not set");
  load_free (&x);

  /* in the stack file: 5 x 1 MiB in one value */
  buf_free (&b);
  buf_adds (&b, "B=");
  for (size_t i = 0; i < (1u << 20); i++)
    buf_addc (&b, 'y');
  buf_addc (&b, '\n');
  put ("value2/.env", b.data, b.len);
  puts_ ("value2/compose.yaml", "services:\n  s:\n    image: alpine\n"
                                "    command: [\"${B}${B}${B}${B}${B}\"]\n");
  load (&x, "value2/compose.yaml", NULL);
  expect (&x, "larger than 4 MiB (the limit for one value)", "value2/compose.yaml", 4, 32,
          "5 x 1 MiB in one value");
  load_free (&x);
}

/* ---- 3: a .env of 20,000 lines (linear: this was 115 s) */

static void
test_dotenv_long (void)
{
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "P=file\nQ=${P}\nK0=v0\n");
  for (int i = 1; i < 20000; i++)
    buf_addf (&b, "K%d=v%d_${K%d}\n", i, i, i - 1 > 5 ? 5 : i - 1);
  buf_adds (&b, "K5=again_${K5}\n");
  put ("long/.env", b.data, b.len);
  puts_ ("long/compose.yaml", "services:\n  s:\n    image: app:${K19999}\n");
  struct load x;
  load (&x, "long/compose.yaml", NULL);
  tap_ok (x.ret == 0 && x.d.nerrors == 0, "20,000 lines: loads");
  if (x.d.n)
    diags_print (&x.d, stdout);
  const struct stack_env *e = x.l.env;
  tap_is_str (stack_env_get (e, "P"), "proc", "20,000 lines: the process environment wins");
  tap_is_str (stack_env_get (e, "Q"), "proc",
              "20,000 lines: ... also inside the file's interpolation");
  tap_is_str (stack_env_get (e, "K1"), "v1_v0", "20,000 lines: a line sees the one before");
  tap_is_str (stack_env_get (e, "K5"), "again_v5_v4_v3_v2_v1_v0",
              "20,000 lines: redefined, seeing its old value");
  tap_is_str (stack_env_get (e, "K6"), "v6_v5_v4_v3_v2_v1_v0",
              "20,000 lines: K6 saw K5's value of then");
  tap_is_str (stack_env_get (e, "K19999"), "v19999_v5_v4_v3_v2_v1_v0", "20,000 lines: the last");
  const struct node *svc = x.l.root ? node_map_get (node_map_get (x.l.root, "services"), "s")
                                    : NULL;
  const struct node *img = svc ? node_map_get (svc, "image") : NULL;
  tap_is_str (img ? img->scalar : NULL, "app:v19999_v5_v4_v3_v2_v1_v0",
              "20,000 lines: interpolated in the stack file");
  size_t it = 0, n = 0;
  const char *k, *v;
  while (stack_env_next (e, &it, &k, &v))
    n++;
  tap_ok (n >= 20002, "20,000 lines: every variable (%zu)", n);
  load_free (&x);
}

/* ---- 4: FIFOs and devices */

/* sp/: a stack file and a FIFO nobody writes to */
static void
setup_special (void)
{
  cleanup_free char *fifo = tp ("sp/fifo");
  puts_ ("sp/compose.yaml", "services:\n  s:\n    image: alpine\n");
  if (mkfifo (fifo, 0600) < 0)
    {
      printf ("Bail out! mkfifo %s\n", fifo);
      exit (1);
    }
}

static void
test_special_stack (void)
{
  struct load x;
  load (&x, "sp/fifo", NULL);
  expect (&x, "a FIFO that nobody writes to", "sp/fifo", 0, 0, "-f FIFO");
  tap_ok (x.ret < 0, "-f FIFO: no tree");
  load_free (&x);

  load (&x, "/dev/zero", NULL);
  expect (&x, "not a regular file", "/dev/zero", 0, 0, "-f /dev/zero");
  load_free (&x);

  load (&x, "sp/compose.yaml", "sp/fifo");
  expect (&x, "--env-file: cannot open the env file: not a regular file", "sp/fifo", 0, 0,
          "--env-file FIFO");
  load_free (&x);

  load (&x, "sp/compose.yaml", "/dev/zero");
  expect (&x, "--env-file: cannot open the env file: not a regular file", "/dev/zero", 0, 0,
          "--env-file /dev/zero");
  load_free (&x);

  puts_ ("sp/inc.yaml", "include:\n  - path: compose.yaml\n    env_file: fifo\n");
  load (&x, "sp/inc.yaml", NULL);
  expect (&x, "include.env_file: cannot open the env file: not a regular file", "sp/fifo", 0, 0,
          "include env_file: FIFO");
  load_free (&x);

  /* a pipe with its contents written (-f <(command)) is still read */
  int p[2];
  if (pipe (p) == 0)
    {
      static const char y[] = "services:\n  piped:\n    image: alpine\n";
      if (write (p[1], y, sizeof y - 1) != (ssize_t) sizeof y - 1)
        tap_diag ("short write");
      close (p[1]);
      char path[64];
      snprintf (path, sizeof path, "/dev/fd/%d", p[0]);
      load (&x, path, NULL);
      tap_ok (x.ret == 0 && x.l.root
                && node_map_get (node_map_get (x.l.root, "services"), "piped"),
              "-f a pipe: read");
      load_free (&x);
      close (p[0]);
    }
}

static void
test_special_model (void)
{
  /* env_file: in a service (the model layer) */
  puts_ ("sp/svc.yaml", "services:\n  s:\n    image: alpine\n    env_file: fifo\n");
  cleanup_free char *f = tp ("sp/svc.yaml");
  cleanup_free char *fifo = tp ("sp/fifo");
  const char *files[] = { f };
  struct stack_opts o = { .files = files, .nfiles = 1, .environ = envv };
  struct stack *st = NULL;
  struct stack_diags d = { 0 };
  struct itm_err err = { 0 };
  int r = stack_load (&o, &st, &d, &err);
  bool found = false;
  for (size_t i = 0; i < d.n; i++)
    found |= d.v[i].severity == STACK_ERROR && d.v[i].file && strcmp (d.v[i].file, fifo) == 0
             && strstr (d.v[i].msg, "cannot open the env file: not a regular file");
  tap_ok (r < 0 && err.code == ITM_EXIT_STACK && found, "env_file: FIFO refused (exit 3)");
  if (!found)
    stack_diags_print (&d, stdout);
  stack_diags_free (&d);
  itm_err_clear (&err);
  stack_free (st);
  st = NULL;

  /* a secret's and a config's file: (read when the container is made) */
  static const char *const cases[][2] = {
    { "secrets", "fifo" }, { "secrets", "/dev/zero" },
    { "configs", "fifo" }, { "configs", "/dev/zero" },
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    {
      const char *kind = cases[c][0], *path = cases[c][1];
      cleanup_free char *y = xasprintf ("services:\n  s:\n    image: alpine\n    %s: [x]\n"
                                        "%s:\n  x:\n    file: %s\n", kind, kind, path);
      puts_ ("sp/secret.yaml", y);
      cleanup_free char *sf = tp ("sp/secret.yaml");
      const char *sfiles[] = { sf };
      struct stack_opts so = { .files = sfiles, .nfiles = 1, .environ = envv };
      memset (&d, 0, sizeof d);
      r = stack_load (&so, &st, &d, &err);
      if (!tap_ok (r == 0, "%s file: %s: the stack loads", kind, path))
        {
          stack_diags_print (&d, stdout);
          stack_diags_free (&d);
          itm_err_clear (&err);
          continue;
        }
      char *tar = NULL;
      size_t len = 0;
      r = prov_files_tar (st, stack_service (st, "s"), &tar, &len, &err);
      cleanup_free char *want
        = xasprintf ("%s 'x': file: %s%s: not a regular file", kind[0] == 's' ? "secret" : "config",
                     path[0] == '/' ? "" : tmp, path[0] == '/' ? path : "/sp/fifo");
      tap_ok (r < 0 && err.code == ITM_EXIT_STACK && err.msg && strcmp (err.msg, want) == 0,
              "%s file: %s: refused (exit 3)", kind, path);
      if (err.msg && strcmp (err.msg, want) != 0)
        tap_diag ("got '%s', want '%s'", err.msg, want);
      free (tar);
      stack_diags_free (&d);
      itm_err_clear (&err);
      stack_free (st);
      st = NULL;
    }
}

static void
test_special_dockerfile (void)
{
  cleanup_free char *ctx = tp ("sp");
  static const char *const dfs[] = { "fifo", "/dev/zero" };
  for (size_t i = 0; i < 2; i++)
    {
      struct itm_err err = { 0 };
      struct image_context *c = image_context_open (ctx, dfs[i], &err);
      tap_ok (c == NULL && err.code == ITM_EXIT_IMAGE && err.msg
                && strstr (err.msg, "not a regular file"),
              "dockerfile: %s: refused (exit 6)", dfs[i]);
      if (err.msg)
        tap_diag ("%s", err.msg);
      image_context_free (c);
      itm_err_clear (&err);
    }
}

int
main (int argc, char **argv)
{
  /* one part alone: test-bounds include|total|value|long|stack|model|dockerfile */
  const char *only = argc > 1 ? argv[1] : NULL;
#define PART(name, fn) if (only == NULL || strcmp (only, name) == 0) fn ()
  signal (SIGALRM, on_alarm);
  alarm (10);
  if (mkdtemp (tmp) == NULL)
    {
      printf ("Bail out! mkdtemp\n");
      return 1;
    }
  setup_special ();
  PART ("include", test_include_depth);
  PART ("total", test_interp_total);
  PART ("value", test_interp_value);
  PART ("long", test_dotenv_long);
  PART ("stack", test_special_stack);
  PART ("model", test_special_model);
  PART ("dockerfile", test_special_dockerfile);
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    tap_diag ("could not remove %s", tmp);
  return tap_done ();
}
