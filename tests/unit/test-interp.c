/* test-interp.c - interpolation and .env cases from tests/stack/interp.cases */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "stack/files.h"
#include "tap.h"
#include "util/xalloc.h"

struct kv {
  char *name, *value;
};

struct tcase {
  int line;          /* where the case starts in the cases file */
  bool dotenv;
  char *input;       /* interp text or .env content */
  struct kv *env;
  size_t nenv;
  struct kv *expect;
  size_t nexpect;
  char **absent;
  size_t nabsent;
  char *out;
  char *err;
  long col, errline;
  bool crlf;
};

static void
case_free (struct tcase *c)
{
  free (c->input);
  for (size_t i = 0; i < c->nenv; i++)
    free (c->env[i].name), free (c->env[i].value);
  for (size_t i = 0; i < c->nexpect; i++)
    free (c->expect[i].name), free (c->expect[i].value);
  for (size_t i = 0; i < c->nabsent; i++)
    free (c->absent[i]);
  free (c->env), free (c->expect), free (c->absent), free (c->out), free (c->err);
  memset (c, 0, sizeof *c);
  c->col = c->errline = -1;
}

static struct kv
split_kv (const char *s)
{
  const char *eq = strchr (s, '=');
  struct kv r;
  r.name = eq ? xstrndup (s, (size_t) (eq - s)) : xstrdup (s);
  r.value = xstrdup (eq ? eq + 1 : "");
  return r;
}

static void
run_interp (struct tcase *c)
{
  struct stack_env *env = stack_env_new ();
  for (size_t i = 0; i < c->nenv; i++)
    stack_env_set (env, c->env[i].name, c->env[i].value);
  char *err = NULL;
  size_t col = 0;
  char *r = stack_interpolate (c->input, env, &err, &col);
  if (c->err)
    {
      tap_ok (r == NULL && err && strstr (err, c->err), "line %d: interp '%s' fails with '%s'",
              c->line, c->input, c->err);
      if (err && !strstr (err, c->err))
        tap_diag ("got error '%s'", err);
      if (r)
        tap_diag ("got result '%s'", r);
      if (c->col >= 0)
        tap_is_int ((long) col, c->col, "line %d: error offset", c->line);
    }
  else
    {
      if (err)
        tap_diag ("unexpected error: %s", err);
      tap_is_str (r, c->out, "line %d: interp '%s'", c->line, c->input);
    }
  free (r);
  free (err);
  stack_env_free (env);
}

static void
run_dotenv (struct tcase *c)
{
  struct stack_env *proc = stack_env_new ();
  for (size_t i = 0; i < c->nenv; i++)
    stack_env_set (proc, c->env[i].name, c->env[i].value);
  cleanup_buf struct buf data = { 0 };
  buf_adds (&data, "");
  for (const char *s = c->input; *s; s++)
    {
      if (*s == '\n' && c->crlf)
        buf_addc (&data, '\r');
      buf_addc (&data, *s);
    }
  struct stack_env *out = stack_env_new ();
  struct diags d = { 0 };
  int r = stack_dotenv_parse (out, "test.env", data.data, data.len, proc, &d);
  if (c->err)
    {
      bool found = false;
      long line = -1;
      for (size_t i = 0; i < d.n; i++)
        if (strstr (d.v[i].msg, c->err))
          found = true, line = d.v[i].line;
      tap_ok (r < 0 && found, "line %d: dotenv fails with '%s'", c->line, c->err);
      if (!found)
        diags_print (&d, stdout);
      if (c->errline >= 0)
        tap_is_int (line, c->errline, "line %d: error line", c->line);
    }
  else
    {
      tap_ok (r == 0 && d.nerrors == 0, "line %d: dotenv parses", c->line);
      if (d.n)
        diags_print (&d, stdout);
    }
  for (size_t i = 0; i < c->nexpect; i++)
    tap_is_str (stack_env_get (out, c->expect[i].name), c->expect[i].value, "line %d: %s",
                c->line, c->expect[i].name);
  for (size_t i = 0; i < c->nabsent; i++)
    tap_ok (stack_env_get (out, c->absent[i]) == NULL, "line %d: %s not set", c->line,
            c->absent[i]);
  diags_free (&d);
  stack_env_free (out);
  stack_env_free (proc);
}

static void
run_case (struct tcase *c)
{
  if (c->input == NULL)
    return;
  if (c->dotenv)
    run_dotenv (c);
  else
    run_interp (c);
  case_free (c);
}

int
main (void)
{
  const char *srcdir = getenv ("ITM_SRCDIR");
  cleanup_free char *path = xasprintf ("%s/tests/stack/interp.cases", srcdir ? srcdir : ".");
  FILE *f = fopen (path, "r");
  if (f == NULL)
    {
      printf ("Bail out! cannot open %s\n", path);
      return 1;
    }
  struct tcase c = { 0 };
  c.col = c.errline = -1;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int lineno = 0;
  enum { NONE, CONTENT, EXPECT } cont = NONE;
  int ncases = 0;
  while ((n = getline (&line, &cap, f)) > 0)
    {
      lineno++;
      if (line[n - 1] == '\n')
        line[--n] = '\0';
      if (line[0] != '%')
        {
          if (cont == CONTENT)
            {
              cleanup_free char *old = c.input;
              c.input = xasprintf ("%s%s\n", old, line);
              continue;
            }
          if (cont == EXPECT && line[0] && line[0] != '#')
            {
              struct kv *e = &c.expect[c.nexpect - 1];
              cleanup_free char *old = e->value;
              e->value = xasprintf ("%s\n%s", old, line);
              continue;
            }
          cont = NONE;
          continue;
        }
      cont = NONE;
      char *arg = strchr (line, ' ');
      size_t dlen = arg ? (size_t) (arg - line) : strlen (line);
      arg = arg ? arg + 1 : line + n;
#define IS(d) (dlen == sizeof d - 1 && memcmp (line, d, dlen) == 0)
      if (IS ("%interp") || IS ("%dotenv"))
        {
          run_case (&c);
          ncases++;
          c.line = lineno;
          c.dotenv = IS ("%dotenv");
          c.input = xstrdup (c.dotenv ? "" : arg);
          if (c.dotenv)
            cont = CONTENT;
        }
      else if (IS ("%env"))
        {
          c.env = xrealloc (c.env, (c.nenv + 1) * sizeof *c.env);
          c.env[c.nenv++] = split_kv (arg);
        }
      else if (IS ("%expect"))
        {
          c.expect = xrealloc (c.expect, (c.nexpect + 1) * sizeof *c.expect);
          c.expect[c.nexpect++] = split_kv (arg);
          cont = EXPECT;
        }
      else if (IS ("%absent"))
        {
          c.absent = xrealloc (c.absent, (c.nabsent + 1) * sizeof *c.absent);
          c.absent[c.nabsent++] = xstrdup (arg);
        }
      else if (IS ("%out"))
        c.out = xstrdup (arg);
      else if (IS ("%err"))
        c.err = xstrdup (arg);
      else if (IS ("%col"))
        c.col = atol (arg);
      else if (IS ("%line"))
        c.errline = atol (arg);
      else if (IS ("%crlf"))
        c.crlf = true;
      else if (IS ("%unset"))
        ;
      else
        tap_ok (0, "line %d: unknown directive %s", lineno, line);
    }
  run_case (&c);
  free (line);
  fclose (f);
  tap_ok (ncases >= 60, "%d cases read", ncases);
  return tap_done ();
}
