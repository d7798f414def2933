/* cmd-config.c - placeholder */
#include <config.h>
#include "cmd.h"
static int config_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{ (void) ctx; (void) argc; (void) argv; return itm_err_set (err, ITM_EXIT_FAILURE, "not yet"); }
const struct itm_cmd cmd_config = { .name = "config", .usage = "", .summary = "config", .help = "", .fn = config_main };
