/* files.h - the stack loader's file layer (internal to src/stack/).
 *
 * Finds the stack files (Compose's default lookup or -f), reads .env and
 * --env-file, parses each file (yaml.c), interpolates values (interp.c),
 * applies extends and include, merges -f files by Compose's override rules
 * and resolves relative paths: the result is one document tree that the
 * model layer (model.c) turns into struct stack.
 */
#ifndef ITM_STACK_FILES_H
#define ITM_STACK_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "stack/node.h"

/* Interpolation variables: the process environment over the env files. */
struct stack_env;
const char *stack_env_get (const struct stack_env *env, const char *name); /* NULL: unset */
void stack_env_set (struct stack_env *env, const char *name, const char *value);
/* Iterate: returns false past the end. */
bool stack_env_next (const struct stack_env *env, size_t *iter, const char **name,
                     const char **value);

struct stack_load_opts {
  const char *const *files;    /* -f, in order; none: default lookup */
  size_t nfiles;
  const char *project_dir;     /* --project-directory; NULL: the first file's directory */
  const char *const *env_files; /* --env-file; none: <project_dir>/.env if present */
  size_t nenv_files;
  char **environ;              /* NULL: the process environment */
};

struct stack_loaded {
  struct node *root;           /* merged top-level map (NULL when nothing loaded) */
  const char *project_dir;     /* absolute */
  const char **files;          /* absolute paths of the files read, in order */
  size_t nfiles;
  struct stack_env *env;       /* owned by the arena's loader; freed by stack_loaded_free */
};

/* Load everything.  Errors and warnings go to d; returns -1 when d has an
 * error that leaves no usable tree (missing file, YAML syntax), else 0 (the
 * tree may still have errors recorded: the model layer adds its own and the
 * caller reports them all). */
int stack_files_load (const struct stack_load_opts *o, struct node_arena *a,
                      struct stack_loaded *out, struct diags *d);
void stack_loaded_free (struct stack_loaded *l);

/* Interpolate one string as Compose does ($VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
 * ${VAR:?msg}, ${VAR?msg}, ${VAR:+alt}, ${VAR+alt}, nesting, $$).  Returns
 * a new string, or NULL with *errmsg (malloc'd) describing the problem and
 * *errcol the 0-based offset in `in` where it is. */
char *stack_interpolate (const char *in, const struct stack_env *env, char **errmsg,
                         size_t *errcol);

#endif
