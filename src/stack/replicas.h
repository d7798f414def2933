/* replicas.h - a service's scale: and deploy.replicas (internal to
 * src/stack/: model.c's parse_service calls it). */
#ifndef ITM_STACK_REPLICAS_H
#define ITM_STACK_REPLICAS_H

#include "stack/node.h"

/* Replicas are 1..STACK_REPLICAS_MAX: room for -<n> in the container name. */
#define STACK_REPLICAS_MAX 99

/* The service map svc's `scale` and `deploy.replicas` (both given: they
 * must agree, as Compose requires); a service with container_name has one.
 * *out: the count, 0 when neither is given (one container).  NULL, or a
 * message (static, or in buf of size n) about the node *at. */
const char *stack_parse_replicas (const struct node *svc, int *out, const struct node **at,
                                  char *buf, size_t n);

#endif
