/* cmdutil.c - what the up, down and wait commands share: durations on the
 * command line, the output mode. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "prov/prov.h"
#include "stack/stack.h"

int
prov_parse_secs (const char *cmd, const char *opt, const char *s, int64_t *ns, struct itm_err *err)
{
  char *end;
  double d = strtod (s, &end);
  if (end != s && *end == '\0' && d >= 0)
    {
      *ns = (int64_t) (d * 1e9);
      return 0;
    }
  const char *why = NULL;
  if (stack_parse_duration (s, ns, &why) < 0 || *ns < 0)
    return itm_err_set (err, ITM_EXIT_USAGE, "%s: %s: invalid duration '%s'%s%s", cmd, opt, s,
                        why ? ": " : "", why ? why : "");
  return 0;
}

void
prov_out_auto (bool quiet, bool json)
{
  enum prov_out_mode m = quiet ? PROV_OUT_QUIET
                         : isatty (STDERR_FILENO) ? PROV_OUT_TTY : PROV_OUT_PLAIN;
  prov_out_init (m, json);
}

