/* interp.c - Compose's variable interpolation, and the environment sets
 * it reads (see files.h).
 *
 * Syntax (as compose-go's template package):
 *   $$            a literal $
 *   $NAME         NAME = [_A-Za-z][_A-Za-z0-9]*
 *   ${NAME}
 *   ${NAME:-word} word if NAME is unset or empty    ${NAME-word}  if unset
 *   ${NAME:?msg}  error if NAME is unset or empty   ${NAME?msg}   if unset
 *   ${NAME:+word} word if NAME is set and non-empty ${NAME+word}  if set
 * word and msg are interpolated themselves (nesting), only when used.
 * A $ followed by anything else is kept as it is; "${" not followed by a
 * name and one of the forms above is an error.
 *
 * Bounds (hostile input): nesting at most INTERP_MAX_DEPTH levels; one
 * value grows by substitution to at most STACK_INTERP_MAX_VALUE bytes; a
 * budget shared by a whole load (STACK_INTERP_MAX_TOTAL) caps the bytes
 * substituted in all.  Each is checked before the bytes are copied, so a
 * value referenced a million times fails after the first few copies.
 */
#include <config.h>
#include "stack/files.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

extern char **environ;

/* ---- variable sets */

struct env_var {
  char *name, *value;
};
struct stack_env {
  struct env_var *v;
  size_t n, cap;
  size_t *tab;     /* open addressing: index+1 into v, 0 = empty */
  size_t tabsize;  /* a power of two, > 2n */
};

static size_t
env_hash (const char *s)
{
  size_t h = 5381;
  for (; *s; s++)
    h = h * 33 + (unsigned char) *s;
  return h;
}

static size_t *
env_slot (const struct stack_env *env, const char *name)
{
  if (env->tabsize == 0)
    return NULL;
  size_t mask = env->tabsize - 1;
  for (size_t i = env_hash (name) & mask;; i = (i + 1) & mask)
    {
      size_t *s = &env->tab[i];
      if (*s == 0 || strcmp (env->v[*s - 1].name, name) == 0)
        return s;
    }
}

struct stack_env *
stack_env_new (void)
{
  return xzalloc (sizeof (struct stack_env));
}

void
stack_env_free (struct stack_env *env)
{
  if (env == NULL)
    return;
  for (size_t i = 0; i < env->n; i++)
    {
      free (env->v[i].name);
      free (env->v[i].value);
    }
  free (env->v);
  free (env->tab);
  free (env);
}

const char *
stack_env_get (const struct stack_env *env, const char *name)
{
  if (env == NULL)
    return NULL;
  size_t *s = env_slot (env, name);
  return s && *s ? env->v[*s - 1].value : NULL;
}

void
stack_env_set (struct stack_env *env, const char *name, const char *value)
{
  size_t *s = env_slot (env, name);
  if (s && *s)
    {
      free (env->v[*s - 1].value);
      env->v[*s - 1].value = xstrdup (value);
      return;
    }
  if (2 * (env->n + 1) >= env->tabsize)
    {
      size_t size = env->tabsize ? env->tabsize * 2 : 64;
      free (env->tab);
      env->tab = xcalloc (size, sizeof *env->tab);
      env->tabsize = size;
      for (size_t i = 0; i < env->n; i++)
        *env_slot (env, env->v[i].name) = i + 1;
    }
  env->v = xgrow (env->v, &env->cap, env->n + 1, sizeof *env->v);
  env->v[env->n].name = xstrdup (name);
  env->v[env->n].value = xstrdup (value);
  env->n++;
  *env_slot (env, name) = env->n;
}

bool
stack_env_next (const struct stack_env *env, size_t *iter, const char **name, const char **value)
{
  if (env == NULL || *iter >= env->n)
    return false;
  *name = env->v[*iter].name;
  *value = env->v[*iter].value;
  (*iter)++;
  return true;
}

void
stack_env_import (struct stack_env *env, char *const *envp)
{
  if (envp == NULL)
    envp = environ;
  for (; envp && *envp; envp++)
    {
      const char *eq = strchr (*envp, '=');
      if (eq == NULL || eq == *envp)
        continue;
      cleanup_free char *name = xstrndup (*envp, (size_t) (eq - *envp));
      stack_env_set (env, name, eq + 1);
    }
}

/* ---- the interpolator */

struct interp {
  const char *in;
  const struct stack_env *env, *env2; /* env first, then env2 (may be NULL) */
  size_t *budget;                     /* bytes variables may still substitute */
  bool spent;                         /* failed on the budget */
  char *errmsg;
  size_t errcol;
  /* unset variables substituted by "" (for warnings) */
  void (*unset) (void *arg, const char *name);
  void *arg;
  int depth;
};

static bool
is_name_start (char c)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_name_char (char c)
{
  return is_name_start (c) || (c >= '0' && c <= '9');
}

__attribute__ ((format (printf, 3, 4))) static int
interp_fail (struct interp *st, size_t at, const char *fmt, ...)
{
  if (st->errmsg == NULL)
    {
      va_list ap;
      va_start (ap, fmt);
      st->errmsg = xvasprintf (fmt, ap);
      va_end (ap);
      st->errcol = at;
    }
  return -1;
}

#define INTERP_MAX_DEPTH 64

static const char *
interp_get (const struct interp *st, const char *name)
{
  const char *v = stack_env_get (st->env, name);
  return v ? v : stack_env_get (st->env2, name);
}

/* Append n bytes of v produced for the reference at `at`: a variable's
 * value (subst, charged to the budget) or a used default word. */
static int
interp_add (struct interp *st, struct buf *out, const char *v, size_t n, size_t at, bool subst)
{
  if (n == 0)
    return 0;
  if (out->len + n > STACK_INTERP_MAX_VALUE)
    return interp_fail (st, at,
                        "interpolation makes the value larger than %u MiB (the limit for one "
                        "value)", STACK_INTERP_MAX_VALUE >> 20);
  if (subst && st->budget)
    {
      if (n > *st->budget)
        {
          *st->budget = 0;
          st->spent = true;
          return interp_fail (st, at,
                              "interpolation substitutes more than %u MiB in all (the limit for "
                              "one load)", STACK_INTERP_MAX_TOTAL >> 20);
        }
      *st->budget -= n;
    }
  buf_add (out, v, n);
  return 0;
}

/* Expand from *pos until the end of the string or, when nested, the '}'
 * that closes the enclosing ${...} (left at *pos).  out may be NULL to
 * check the syntax only (a branch that is not taken). */
static int
interp_run (struct interp *st, size_t *pos, struct buf *out, bool nested)
{
  const char *s = st->in;
  size_t i = *pos;
  if (++st->depth > INTERP_MAX_DEPTH)
    return interp_fail (st, i, "interpolation nested more than %d levels deep", INTERP_MAX_DEPTH);
  while (s[i])
    {
      if (nested && s[i] == '}')
        break;
      if (s[i] != '$')
        {
          size_t j = i;
          while (s[j] && s[j] != '$' && !(nested && s[j] == '}'))
            j++;
          /* literal text counts toward the value's bound too */
          if (out && interp_add (st, out, s + i, j - i, i, false) < 0)
            return -1;
          i = j;
          continue;
        }
      size_t start = i;
      char c = s[i + 1];
      if (c == '$')
        {
          if (out && interp_add (st, out, "$", 1, start, false) < 0)
            return -1;
          i += 2;
          continue;
        }
      if (is_name_start (c))
        {
          size_t j = i + 1;
          while (is_name_char (s[j]))
            j++;
          cleanup_free char *name = xstrndup (s + i + 1, j - i - 1);
          const char *v = interp_get (st, name);
          if (v == NULL && out && st->unset)
            st->unset (st->arg, name);
          if (out && v && interp_add (st, out, v, strlen (v), start, true) < 0)
            return -1;
          i = j;
          continue;
        }
      if (c != '{')
        {
          /* a lone $: kept */
          if (out && interp_add (st, out, "$", 1, start, false) < 0)
            return -1;
          i++;
          continue;
        }
      /* ${ */
      size_t j = i + 2;
      if (!is_name_start (s[j]))
        {
          if (s[j] == '\0')
            return interp_fail (st, start, "invalid interpolation: \"${\" at the end of the value");
          if (s[j] == '}')
            return interp_fail (st, start, "invalid interpolation: \"${}\" has no variable name");
          return interp_fail (st, start,
                              "invalid interpolation: \"${\" must be followed by a variable name, "
                              "not '%c'", s[j]);
        }
      while (is_name_char (s[j]))
        j++;
      cleanup_free char *name = xstrndup (s + i + 2, j - i - 2);
      const char *v = interp_get (st, name);
      if (s[j] == '}')
        {
          if (v == NULL && out && st->unset)
            st->unset (st->arg, name);
          if (out && v && interp_add (st, out, v, strlen (v), start, true) < 0)
            return -1;
          i = j + 1;
          continue;
        }
      bool colon = s[j] == ':';
      char op = s[j + colon];
      if (op != '-' && op != '?' && op != '+')
        {
          if (s[j] == '\0')
            return interp_fail (st, start, "invalid interpolation: \"${%s\" is not closed by '}'",
                                name);
          return interp_fail (st, j,
                              "invalid interpolation: unexpected '%c' in \"${%s...}\" (expected "
                              "'}', ':-', '-', ':?', '?', ':+' or '+')",
                              s[j + colon] ? s[j + colon] : s[j], name);
        }
      size_t wpos = j + colon + 1;
      bool set = v != NULL, nonempty = v && *v;
      bool cond = colon ? nonempty : set;
      /* which branch produces the value */
      bool use_word = op == '-' ? !cond : op == '+' ? cond : !cond;
      cleanup_buf struct buf word = { 0 };
      buf_adds (&word, "");
      if (interp_run (st, &wpos, out && use_word ? &word : NULL, true) < 0)
        return -1;
      if (s[wpos] != '}')
        return interp_fail (st, start, "invalid interpolation: \"${%s\" is not closed by '}'",
                            name);
      i = wpos + 1;
      if (out == NULL)
        continue;
      int r = 0;
      switch (op)
        {
        case '-':
          r = use_word ? interp_add (st, out, word.data, word.len, start, false)
                       : interp_add (st, out, v, strlen (v), start, true);
          break;
        case '+':
          if (use_word)
            r = interp_add (st, out, word.data, word.len, start, false);
          break;
        case '?':
          if (use_word)
            {
              if (word.len)
                return interp_fail (st, start, "required variable %s is missing a value: %s", name,
                                    word.data);
              return interp_fail (st, start, "required variable %s is missing a value", name);
            }
          r = interp_add (st, out, v, strlen (v), start, true);
          break;
        }
      if (r < 0)
        return -1;
    }
  *pos = i;
  st->depth--;
  return 0;
}

static char *
interp_string (struct interp *st)
{
  cleanup_buf struct buf out = { 0 };
  size_t pos = 0;
  buf_adds (&out, "");
  if (interp_run (st, &pos, &out, false) < 0)
    return NULL;
  return buf_steal (&out);
}

char *
stack_interpolate (const char *in, const struct stack_env *env, char **errmsg, size_t *errcol)
{
  return stack_interpolate_in (in, env, NULL, NULL, errmsg, errcol);
}

char *
stack_interpolate_in (const char *in, const struct stack_env *first, const struct stack_env *then,
                      size_t *budget, char **errmsg, size_t *errcol)
{
  struct interp st = { .in = in, .env = first, .env2 = then, .budget = budget };
  char *r = interp_string (&st);
  if (r == NULL)
    {
      if (errmsg)
        *errmsg = st.errmsg;
      else
        free (st.errmsg);
      if (errcol)
        *errcol = st.errcol;
      return NULL;
    }
  if (errmsg)
    *errmsg = NULL;
  return r;
}

/* ---- over a tree */

struct tree_interp {
  struct node_arena *a;
  const struct stack_env *env;
  struct diags *d;
  const struct node *at;
  struct stack_env *warned; /* names already warned about */
  size_t *budget;
  bool spent;               /* the budget ran out: the rest is left as it is */
};

static void
tree_unset (void *arg, const char *name)
{
  struct tree_interp *t = arg;
  if (stack_env_get (t->warned, name))
    return;
  stack_env_set (t->warned, name, "");
  diag_add (t->d, DIAG_WARNING, t->at,
            "variable \"%s\" is not set; substituting an empty string", name);
}

static void
tree_walk (struct tree_interp *t, struct node *n)
{
  if (n == NULL)
    return;
  switch (n->kind)
    {
    case NODE_NULL:
      return;
    case NODE_SCALAR:
      if (t->spent || strchr (n->scalar, '$') == NULL)
        return;
      {
        t->at = n;
        struct interp st = { .in = n->scalar, .env = t->env, .budget = t->budget,
                             .unset = tree_unset, .arg = t };
        cleanup_free char *r = interp_string (&st);
        if (r == NULL)
          {
            t->spent = st.spent;
            /* the column of the problem, when the scalar is on one line
             * as written (plain, or quoted: one more for the quote) */
            int col = n->col;
            if (strchr (n->scalar, '\n') == NULL && col > 0)
              col += (int) st.errcol + (n->plain ? 0 : 1);
            diag_addp (t->d, DIAG_ERROR, n->file, n->line, col, "%s%s", st.errmsg,
                       strncmp (st.errmsg, "invalid", 7) == 0 ? " (write $$ for a literal $)" : "");
            free (st.errmsg);
            return;
          }
        n->scalar = node_strdup (t->a, r);
      }
      return;
    case NODE_SEQ:
      for (size_t i = 0; i < n->nitems; i++)
        tree_walk (t, n->items[i]);
      return;
    case NODE_MAP:
      for (size_t i = 0; i < n->npairs; i++)
        tree_walk (t, n->pairs[i].value);
      return;
    }
}

void
stack_interpolate_tree (struct node_arena *a, struct node *root, const struct stack_env *env,
                        struct diags *d)
{
  size_t budget = STACK_INTERP_MAX_TOTAL;
  stack_interpolate_tree_in (a, root, env, &budget, d);
}

void
stack_interpolate_tree_in (struct node_arena *a, struct node *root, const struct stack_env *env,
                           size_t *budget, struct diags *d)
{
  struct tree_interp t = { .a = a, .env = env, .d = d, .warned = stack_env_new (),
                           .budget = budget };
  tree_walk (&t, root);
  stack_env_free (t.warned);
}
