/* ssh.h - private to src/engine/: DOCKER_HOST=ssh://[user@]host[:port]
 * (ssh.c).  Every connection libcurl opens is one `ssh ... docker system
 * dial-stdio` process, with the connection libcurl made to a private
 * socket as its stdin and stdout, so HTTP, streams and hijacked
 * connections go over its pipe unchanged; these processes are clients of
 * one ssh master connection (ControlMaster), ended with the last handle.
 *
 * Ownership: a struct engine_ssh belongs to one engine handle (one thread
 * at a time, as the handle); engine_ssh_free() ends its processes. */
#ifndef ITM_ENGINE_SSH_H
#define ITM_ENGINE_SSH_H

#include <curl/curl.h>
#include <stdbool.h>

#include "util/err.h"

struct engine_ssh;

/* Parse "ssh://[user@]host[:port]" (no path); NULL with err (ITM_EXIT_USAGE)
 * when malformed; from names where the address came from;
 * connect_timeout_ms becomes ssh's ConnectTimeout (rounded up to seconds). */
struct engine_ssh *engine_ssh_new (const char *url, const char *from, long connect_timeout_ms,
                                   struct itm_err *err);
/* The same destination for another handle, with no process of its own;
 * it shares s's ssh master connections (the last handle closed ends them). */
struct engine_ssh *engine_ssh_dup (const struct engine_ssh *s);
void engine_ssh_free (struct engine_ssh *s);

/* Point h (after curl_easy_reset) at the handle's private socket, where
 * each connection becomes an ssh process. */
void engine_ssh_setopt (struct engine_ssh *s, CURL *h);

/* After a failed transfer: when an ssh process of s failed (its exit
 * status 255, or its message), set err (ITM_EXIT_CONNECT) with ssh's own
 * words and a hint, and return true. */
bool engine_ssh_failed (struct engine_ssh *s, const char *endpoint, struct itm_err *err);

#endif
