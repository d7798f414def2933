/* cmd-version.c - placeholder */
#include <config.h>
#include "cmd.h"
static int version_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{ (void) ctx; (void) argc; (void) argv; return itm_err_set (err, ITM_EXIT_FAILURE, "not yet"); }
const struct itm_cmd cmd_version = { .name = "version", .usage = "", .summary = "version", .help = "", .fn = version_main };
