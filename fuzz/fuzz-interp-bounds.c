/* fuzz-interp-bounds.c - fuzz the bounded interpolator
 * (stack_interpolate_in) and check its bounds hold: a result never exceeds
 * STACK_INTERP_MAX_VALUE, the budget only goes down and pays for every
 * byte a variable adds, and when the budget runs out the call fails
 * instead (and leaves 0).
 *
 * Input: byte 0 picks the budget: 0 none (the value bound alone), 1 the
 * little-endian bytes 1-2 times 64 (0 to 4 MiB), 2 a whole load's
 * (STACK_INTERP_MAX_TOTAL); the rest (after bytes 1-2 for 1) is the string.
 * Variables: A=1, E="", NEST="${A}", BIG = 1 MiB of x (so five $BIG pass
 * the value bound), and in the second set A=shadowed (never seen: the first
 * set wins) and T=then.  With libFuzzer: clang -fsanitize=fuzzer
 * -DITM_LIBFUZZER ...; else a replay of fuzz/corpus-interp-bounds/ (see
 * fuzz-common.h). */
#include <config.h>

#include <string.h>

#include "fuzz-common.h"
#include "stack/files.h"

#define BIG_LEN (1u << 20)

static struct stack_env *first, *then;

static void
envs (void)
{
  if (first)
    return;
  first = stack_env_new ();
  stack_env_set (first, "A", "1");
  stack_env_set (first, "E", "");
  stack_env_set (first, "NEST", "${A}");
  char *big = malloc (BIG_LEN + 1);
  if (big == NULL)
    abort ();
  memset (big, 'x', BIG_LEN);
  big[BIG_LEN] = '\0';
  stack_env_set (first, "BIG", big);
  free (big);
  then = stack_env_new ();
  stack_env_set (then, "A", "shadowed");
  stack_env_set (then, "T", "then");
}

/* One call with budget b0 (none when !with_budget); checks the bounds. */
static char *
run (const char *s, bool with_budget, size_t b0)
{
  size_t budget = b0;
  char *err = NULL;
  size_t col = 0;
  char *r = stack_interpolate_in (s, first, then, with_budget ? &budget : NULL, &err, &col);
  if ((r == NULL) == (err == NULL))
    abort (); /* exactly one of a result and an error */
  if (err && col > strlen (s))
    abort (); /* the error's place is inside the input */
  if (r && strlen (r) > STACK_INTERP_MAX_VALUE)
    abort (); /* the bound on one value */
  if (r && strstr (r, "shadowed"))
    abort (); /* the first set wins (inputs that spell it are skipped) */
  if (with_budget)
    {
      if (budget > b0)
        abort (); /* the budget only goes down */
      /* literal text and default words come from s; the rest was paid */
      if (r && strlen (r) > strlen (s) + (b0 - budget))
        abort ();
      /* a spent budget is left at 0 (the message of interp_add) */
      if (err && strstr (err, "MiB in all") && budget != 0)
        abort ();
    }
  free (err);
  return r;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0 || size > 1 << 20)
    return 0;
  envs ();
  int mode = data[0] % 3;
  size_t skip = 1, b0 = STACK_INTERP_MAX_TOTAL;
  if (mode == 1)
    {
      if (size < 3)
        return 0;
      b0 = ((size_t) data[1] | (size_t) data[2] << 8) * 64;
      skip = 3;
    }
  char *s = malloc (size - skip + 1);
  if (s == NULL)
    abort ();
  memcpy (s, data + skip, size - skip);
  s[size - skip] = '\0';
  if (memmem (s, strlen (s), "shadowed", 8) != NULL
      || memmem (s, strlen (s), "MiB in all", 10) != NULL)
    {
      /* the input itself spells it (a ${VAR?message} error is the input's
       * own text): the checks above cannot tell */
      free (s);
      return 0;
    }

  char *r = run (s, mode != 0, b0);
  if (mode != 1)
    {
      /* A result is at most STACK_INTERP_MAX_VALUE, so a whole load's budget
       * never stops a call the value bound lets through, and the other way
       * round: with and without a budget agree. */
      char *r2 = run (s, mode == 0, STACK_INTERP_MAX_TOTAL);
      if ((r == NULL) != (r2 == NULL) || (r && strcmp (r, r2) != 0))
        abort ();
      free (r2);
    }
  free (r);
  free (s);
  return 0;
}

FUZZ_MAIN ("corpus-interp-bounds")
