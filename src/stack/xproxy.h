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

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

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

/* x-itm.faults of a proxied service: toxics on a schedule counted from the
 * moment every service is ready (up), for reproducible drills:
 *
 *   faults:
 *     - {at: 5s, for: 10s, toxic: latency, attributes: {latency: 2000},
 *        stream: downstream, toxicity: 1, port: 5432}
 *
 * at: when it is added; for: when it is removed again (optional: stays);
 * the rest as Toxiproxy's toxic (attributes checked by the proxy's own
 * rules, src/proxy/); port: only the proxy of that port. */
struct stack_fault {
  int64_t at_ns, for_ns;        /* for_ns 0: not removed */
  unsigned port;                /* 0: every proxied port */
  json_object *toxic;           /* the API body {type, name, stream, toxicity, attributes};
                                 * a new reference */
};
/* The faults of svc (checked already): a new array (*n of them), each
 * toxic named "<type>_<stream>" unless the entry named it. */
struct stack_fault *stack_xproxy_faults (const struct stack_service *svc, size_t *n);
void stack_xproxy_faults_free (struct stack_fault *f, size_t n);

#endif
