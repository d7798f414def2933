/* cmd-help.c - itm-env help [COMMAND]
 *
 * `itm-env help --options` (not in --help, for tests/integration/manpage.sh)
 * prints every command's options from their tables, one line each:
 * command, short, long, argument, and "hidden" for those --help does not
 * show (cmd_print_options). */
#include <config.h>

#include <string.h>

#include "cmd.h"

static int
help_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  (void) ctx;
  if (argc < 2)
    {
      cmd_print_list ();
      return 0;
    }
  if (strcmp (argv[1], "--options") == 0)
    {
      cmd_print_options ();
      return 0;
    }
  const struct itm_cmd *cmd = cmd_find (argv[1], err);
  if (cmd == NULL)
    return -1;
  return cmd_print_help (cmd);
}

const struct itm_cmd cmd_help = {
  .name = "help",
  .args = "[COMMAND]",
  .summary = "show the commands, or one command's options",
  .fn = help_main,
};
