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
  const char *project_name;    /* -p: ${COMPOSE_PROJECT_NAME}; NULL: ITM_ENV_NAMESPACE,
                                  a file's name:, the project directory's name */
};

/* Compose's normalization of a project name (new string; may be ""). */
char *stack_project_name_normalize (const char *s);

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

/* Limits on interpolation (hostile input: bounded time and memory). */
#define STACK_INTERP_MAX_VALUE (4u << 20)    /* one value, after interpolation */
#define STACK_INTERP_MAX_TOTAL (16u << 20)   /* bytes substituted in one load */

/* The same, names looked up in `first`, then `then` (either may be NULL),
 * and *budget (when budget is not NULL) the bytes variables may still
 * substitute: lowered by what this call substitutes, an error when it
 * runs out.  Every call: at most STACK_INTERP_MAX_VALUE bytes. */
char *stack_interpolate_in (const char *in, const struct stack_env *first,
                            const struct stack_env *then, size_t *budget, char **errmsg,
                            size_t *errcol);

/* ---- additions (yaml.c, dotenv.c, interp.c, files.c) */

/* Limits on one stack file (hostile input: bounded time and memory). */
#define STACK_YAML_MAX_BYTES (16u << 20)      /* 16 MiB, checked before parsing */
#define STACK_YAML_MAX_DEPTH 200              /* nested maps/sequences */
#define STACK_YAML_MAX_ALIAS_NODES 1000000    /* nodes created by expanding aliases */

/* Parse one YAML document (data need not be NUL-terminated) into a tree
 * allocated from a; anchors, aliases and merge keys resolved.  file is
 * the name used in diagnostics (interned).  Returns the root (a NODE_NULL
 * node for an empty document), or NULL after adding errors to d. */
struct node *stack_yaml_parse (struct node_arena *a, const char *file, const char *data,
                               size_t len, struct diags *d);
/* The two ways stack_yaml_parse has (STACK_YAML_AUTO), for the tests: a
 * fast path for the usual subset of YAML, libyaml for everything else.
 * STACK_YAML_FAST is the fast path alone: NULL, with nothing in d, where
 * it gives up; STACK_YAML_LIBYAML is libyaml alone.  Where the fast path
 * does not give up, both give the same tree. */
enum stack_yaml_mode { STACK_YAML_AUTO, STACK_YAML_FAST, STACK_YAML_LIBYAML };
struct node *stack_yaml_parse_mode (struct node_arena *a, const char *file, const char *data,
                                    size_t len, struct diags *d, enum stack_yaml_mode mode);
/* Read path (size-checked) and parse it; a missing file is an error. */
struct node *stack_yaml_load (struct node_arena *a, const char *path, struct diags *d);

/* Variable sets: a name may be set once (later sets replace the value,
 * keeping its position); iteration is in first-set order. */
struct stack_env *stack_env_new (void);
void stack_env_free (struct stack_env *env);
/* Add every NAME=VALUE of envp (NULL: the process environment). */
void stack_env_import (struct stack_env *env, char *const *envp);

/* Parse a .env file's text into out, adding or replacing its variables
 * (several --env-file: later files win).  References ${X} look in `lookup`
 * first (the process environment, which wins anyway), then in out (the
 * variables of earlier lines and earlier files).  The diagnostics keep
 * `file`/`path`: it must live as long as d (node_intern it).
 * Errors name file and line; returns -1 when there was one. */
int stack_dotenv_parse (struct stack_env *out, const char *file, const char *data, size_t len,
                        const struct stack_env *lookup, struct diags *d);
int stack_dotenv_load (struct stack_env *out, const char *path, const struct stack_env *lookup,
                       struct diags *d);
/* The same with the load's interpolation budget (see stack_interpolate_in;
 * the two above have one of STACK_INTERP_MAX_TOTAL of their own) and, for
 * stack_dotenv_load_in, the key that named the file, for messages
 * ("--env-file", "env_file"; may be NULL).  The file must be a regular file (a FIFO
 * or a device is refused without blocking) of at most 16 MiB. */
int stack_dotenv_parse_in (struct stack_env *out, const char *file, const char *data, size_t len,
                           const struct stack_env *lookup, size_t *budget, struct diags *d);
int stack_dotenv_load_in (struct stack_env *out, const char *path, const char *what,
                          const struct stack_env *lookup, size_t *budget, struct diags *d);

/* Interpolate every scalar value (never a key) of the tree in place:
 * errors at the scalar's place; an unset variable without a default is a
 * warning (once per name) and becomes "". */
void stack_interpolate_tree (struct node_arena *a, struct node *root, const struct stack_env *env,
                             struct diags *d);
/* The same charged to a load's budget; once it runs out (one error), the
 * rest of the tree is left as it is. */
void stack_interpolate_tree_in (struct node_arena *a, struct node *root,
                                const struct stack_env *env, size_t *budget, struct diags *d);

#endif
