/* fuzz-yaml.c - fuzz the YAML layer (parse, then interpolate the tree;
 * where the fast path takes the input, libyaml must give the same tree).
 * With libFuzzer: clang -fsanitize=fuzzer -DITM_LIBFUZZER ...; else a
 * replay of fuzz/corpus-yaml/ (see fuzz-common.h). */
#include <config.h>

#include "fuzz-common.h"
#include "stack/files.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct node_arena *a = node_arena_new ();
  struct diags d = { 0 };
  struct node *root = stack_yaml_parse (a, "fuzz.yaml", (const char *) data, size, &d);
  if (root == NULL && d.nerrors == 0)
    abort (); /* a failure always says why */
  struct diags d2 = { 0 };
  struct node *fast = stack_yaml_parse_mode (a, "fuzz.yaml", (const char *) data, size, &d2,
                                             STACK_YAML_FAST);
  struct node *slow = stack_yaml_parse_mode (a, "fuzz.yaml", (const char *) data, size, &d2,
                                             STACK_YAML_LIBYAML);
  if (fast && !node_identical (fast, slow))
    abort (); /* the fast path took it, and read it differently */
  diags_free (&d2);
  if (root)
    {
      struct stack_env *env = stack_env_new ();
      stack_env_set (env, "A", "1");
      stack_env_set (env, "E", "");
      stack_interpolate_tree (a, root, env, &d);
      stack_env_free (env);
    }
  for (size_t i = 0; i < d.n; i++)
    if (d.v[i].msg == NULL || d.v[i].line < 0 || d.v[i].col < 0)
      abort ();
  diags_free (&d);
  node_arena_free (a);
  return 0;
}

FUZZ_MAIN ("corpus-yaml")
