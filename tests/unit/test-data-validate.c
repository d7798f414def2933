/* test-data-validate.c - data_validate (src/data/validate.c), data-driven:
 * every tests/data/validate/NAME.yml is loaded as a stack and checked; its
 * NAME.expected holds the error message, or "ok" when it is valid.  Also
 * the stream masker (data_mask_feed): a secret split across feeds is
 * masked.  No engine needed. */
#include <config.h>

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "stack/stack.h"
#include "tap.h"
#include "util/file.h"
#include "util/xalloc.h"

static void
run_case (const char *yml)
{
  size_t l = strlen (yml);
  cleanup_free char *name = xstrndup (yml, l - 4);
  cleanup_free char *expfile = xasprintf ("%s.expected", name);
  const char *base = strrchr (name, '/') ? strrchr (name, '/') + 1 : name;
  struct itm_err err = { 0 };
  cleanup_free char *want = file_read (expfile, 0, NULL, 1, &err);
  if (want == NULL)
    {
      tap_ok (0, "%s: %s", base, err.msg);
      itm_err_clear (&err);
      return;
    }
  want[strcspn (want, "\n")] = '\0';

  const char *files[] = { yml };
  struct stack_opts o = { .files = files, .nfiles = 1 };
  char *noenv[] = { NULL };
  o.environ = noenv;
  struct stack *st = NULL;
  struct stack_diags diags = { 0 };
  if (stack_load (&o, &st, &diags, &err) < 0)
    {
      tap_ok (0, "%s: the stack loads", base);
      stack_diags_print (&diags, stdout);
      stack_diags_free (&diags);
      itm_err_clear (&err);
      return;
    }
  stack_diags_free (&diags);
  int rc = data_validate (st, &err);
  const char *got = rc == 0 ? "ok" : err.msg;
  tap_is_str (got, want, "%s", base);
  if (rc < 0)
    tap_is_int (err.code, ITM_EXIT_STACK, "%s: exit code %d", base, ITM_EXIT_STACK);
  itm_err_clear (&err);
  stack_free (st);
}

/* feed s in pieces cut at each offset of cuts (ncuts), then flush */
static char *
feed_in_pieces (const char *s, const size_t *cuts, size_t ncuts, size_t *held_after_first)
{
  struct data_masker m = { { 0 } };
  struct buf out = { 0 };
  size_t from = 0, len = strlen (s);
  for (size_t i = 0; i <= ncuts; i++)
    {
      size_t to = i < ncuts ? cuts[i] : len;
      data_mask_feed (&m, s + from, to - from, &out);
      if (i == 0 && held_after_first)
        *held_after_first = m.held.len;
      from = to;
    }
  data_mask_flush (&m, &out);
  buf_addc (&out, '\0');
  return buf_steal (&out);
}

static void
test_masker (void)
{
  data_mask_add ("Secret0123456789");
  data_mask_add ("OtherSecretXY");
  const char *text = "a Secret0123456789 b SecretNot c OtherSecretXY\nSecret0123456789";
  const char *want = "a ******** b SecretNot c ********\n********";
  for (size_t cut = 1; cut < strlen (text); cut++)
    {
      size_t cuts[] = { cut };
      cleanup_free char *got = feed_in_pieces (text, cuts, 1, NULL);
      if (strcmp (got, want) != 0)
        {
          tap_is_str (got, want, "two feeds cut at %zu", cut);
          return;
        }
    }
  tap_ok (1, "a secret split across two feeds, at every offset, is masked");
  size_t every[64];
  for (size_t i = 0; i < strlen (text) - 1; i++)
    every[i] = i + 1;
  cleanup_free char *one = feed_in_pieces (text, every, strlen (text) - 1, NULL);
  tap_is_str (one, want, "fed a byte at a time: masked");
  size_t held = 99, cuts[] = { 9 };
  cleanup_free char *tail = feed_in_pieces ("line\nSecr", cuts, 1, &held);
  tap_is_str (tail, "line\nSecr", "a prefix of a secret at the end comes out at the flush");
  tap_ok (held == 4, "... held until then (only what may begin a secret: %zu bytes)", held);
  size_t cuts2[] = { 6 };
  cleanup_free char *plain = feed_in_pieces ("ready\n", cuts2, 1, &held);
  tap_ok (held == 0, "output that cannot begin a secret is never held");
}

int
main (void)
{
  test_masker ();
  const char *src = getenv ("ITM_SRCDIR");
  cleanup_free char *pat = xasprintf ("%s/tests/data/validate/*.yml", src ? src : ".");
  glob_t g;
  if (glob (pat, 0, NULL, &g) != 0 || g.gl_pathc < 12)
    {
      tap_ok (0, "at least 12 cases in %s", pat);
      return tap_done ();
    }
  for (size_t i = 0; i < g.gl_pathc; i++)
    run_case (g.gl_pathv[i]);
  globfree (&g);
  return tap_done ();
}
