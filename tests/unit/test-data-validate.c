/* test-data-validate.c - data_validate (src/data/validate.c), data-driven:
 * every tests/data/validate/NAME.yml is loaded as a stack and checked; its
 * NAME.expected holds the error message, or "ok" when it is valid.  No
 * engine needed. */
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

int
main (void)
{
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
