/* cmd-help.c - itm-env help [COMMAND] */
#include <config.h>

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
  const struct itm_cmd *cmd = cmd_find (argv[1], err);
  if (cmd == NULL)
    return -1;
  return cmd_print_help (cmd);
}

const struct itm_cmd cmd_help = {
  .name = "help",
  .usage = "[COMMAND]",
  .summary = "show the commands, or one command's options",
  .help = "",
  .fn = help_main,
};
