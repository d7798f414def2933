/* conn.c */
#include <config.h>
#include "engine/engine.h"
/* temporary */
struct engine *engine_open (const struct engine_config *cfg, struct itm_err *err) { (void)cfg; itm_err_set(err, ITM_EXIT_CONNECT, "no engine client yet"); return NULL; }
int engine_negotiate (struct engine *e, struct itm_err *err) { (void)e; return itm_err_set(err, 1, "x"); }
void engine_close (struct engine *e) { (void)e; }
