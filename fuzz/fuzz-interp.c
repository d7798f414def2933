/* fuzz-interp.c - fuzz the interpolator and the .env parser on the same
 * input.  With libFuzzer: clang -fsanitize=fuzzer -DITM_LIBFUZZER ...;
 * else a replay of fuzz/corpus-interp/ (see fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "fuzz-common.h"
#include "stack/files.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  char *s = malloc (size + 1);
  if (s == NULL)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  struct stack_env *env = stack_env_new ();
  stack_env_set (env, "A", "1");
  stack_env_set (env, "E", "");
  stack_env_set (env, "NEST", "${A}");
  char *err = NULL;
  size_t col = 0;
  char *r = stack_interpolate (s, env, &err, &col);
  if ((r == NULL) == (err == NULL))
    abort (); /* exactly one of a result and an error */
  if (err && col > strlen (s))
    abort (); /* the error's place is inside the input */
  free (r);
  free (err);

  struct stack_env *out = stack_env_new ();
  struct diags d = { 0 };
  int rc = stack_dotenv_parse (out, "fuzz.env", (const char *) data, size, env, &d);
  if (rc < 0 && d.nerrors == 0)
    abort ();
  diags_free (&d);
  stack_env_free (out);
  stack_env_free (env);
  free (s);
  return 0;
}

FUZZ_MAIN ("corpus-interp")
