/* xproxy.h - x-itm.proxy of a service: the ports the fault proxy stands
 * in front of.
 *
 *   x-itm: {proxy: true}               every port the service exposes
 *                                      (ports: targets, expose:)
 *   x-itm: {proxy: {ports: [5432]}}    the ones named (each must be one)
 *   x-itm: {proxy: false}              none (an override file's way out)
 */
#ifndef ITM_STACK_XPROXY_H
#define ITM_STACK_XPROXY_H

#include <stddef.h>

#include "stack/node.h"
#include "stack/stack.h"

/* The name a proxied service's own container answers to on its networks
 * (the proxy takes the service's name): "<service>.itm-real". */
#define STACK_PROXY_REAL_SUFFIX ".itm-real"

/* Check svc's x-itm.proxy (svc_node: the service's map, for the
 * diagnostics' file and line). */
void stack_xproxy_check (struct diags *d, const struct node *svc_node,
                         const struct stack_service *svc);
/* The TCP ports proxied for svc, ascending, into ports[max]: how many
 * (0: not proxied). */
size_t stack_xproxy_ports (const struct stack_service *svc, unsigned *ports, size_t max);

#endif
