/* fuzz-dotenv.c - fuzz the .env parser (stack_dotenv_parse_in) with the
 * interpolation budget.  The input is the file's text; it is parsed twice,
 * with a load's whole budget and with a small one, and the bounds are
 * checked: no value above STACK_INTERP_MAX_VALUE, the budget only goes
 * down, the values hold no more bytes than the file, the environment they
 * took and what was charged to the budget; a run the small budget did not
 * stop gives the same variables as the full one.  With libFuzzer:
 * clang -fsanitize=fuzzer -DITM_LIBFUZZER ...; else a replay of
 * fuzz/corpus-dotenv/ (see fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "fuzz-common.h"
#include "stack/files.h"

#define BIG_LEN (256u << 10)

static struct stack_env *
lookup_env (size_t *sum)
{
  static struct stack_env *env;
  static size_t total;
  if (env == NULL)
    {
      env = stack_env_new ();
      stack_env_set (env, "A", "1");
      stack_env_set (env, "E", "");
      stack_env_set (env, "NEST", "${A}");
      char *big = malloc (BIG_LEN + 1);
      if (big == NULL)
        abort ();
      memset (big, 'x', BIG_LEN);
      big[BIG_LEN] = '\0';
      stack_env_set (env, "BIG", big);
      free (big);
      size_t it = 0;
      const char *n, *v;
      while (stack_env_next (env, &it, &n, &v))
        total += strlen (v);
    }
  *sum = total;
  return env;
}

/* Parse with a budget of b0; check the bounds; the variables' total size
 * in *sum. */
static int
parse (const uint8_t *data, size_t size, size_t b0, struct stack_env **outp, size_t *left)
{
  size_t lsum;
  struct stack_env *lookup = lookup_env (&lsum);
  struct stack_env *out = stack_env_new ();
  struct diags d = { 0 };
  size_t budget = b0;
  int rc = stack_dotenv_parse_in (out, "fuzz.env", (const char *) data, size, lookup, &budget, &d);
  if (rc < 0 && d.nerrors == 0)
    abort (); /* a failure always says why */
  if (rc == 0 && d.nerrors != 0)
    abort ();
  if (budget > b0)
    abort (); /* the budget only goes down */
  size_t it = 0, sum = 0;
  const char *n, *v;
  while (stack_env_next (out, &it, &n, &v))
    {
      size_t l = strlen (v);
      if (l > STACK_INTERP_MAX_VALUE)
        abort (); /* one value is bounded */
      if (*n == '\0')
        abort ();
      sum += l;
    }
  /* every byte of a value comes from the file, from the environment (a
   * KEY alone) or from a substitution charged to the budget */
  if (sum > size + lsum + (b0 - budget))
    abort ();
  diags_free (&d);
  *outp = out;
  *left = budget;
  return rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  struct stack_env *full, *small;
  size_t left_full, left_small;
  int rc_full = parse (data, size, STACK_INTERP_MAX_TOTAL, &full, &left_full);
  int rc_small = parse (data, size, 64, &small, &left_small);
  if (rc_small == 0)
    {
      /* the small budget did not stop it: the same variables */
      if (rc_full != 0)
        abort ();
      if (STACK_INTERP_MAX_TOTAL - left_full != 64 - left_small)
        abort ();
      size_t i1 = 0, i2 = 0;
      const char *n1, *v1, *n2, *v2;
      for (;;)
        {
          bool m1 = stack_env_next (full, &i1, &n1, &v1);
          bool m2 = stack_env_next (small, &i2, &n2, &v2);
          if (m1 != m2)
            abort ();
          if (!m1)
            break;
          if (strcmp (n1, n2) != 0 || strcmp (v1, v2) != 0)
            abort ();
        }
    }
  stack_env_free (full);
  stack_env_free (small);
  return 0;
}

FUZZ_MAIN ("corpus-dotenv")
