/* replicas.c - scale: and deploy.replicas: how many containers a service
 * runs (itm-env-stack.5, REPLICAS). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/replicas.h"

static const struct node *
get (const struct node *map, const char *key)
{
  if (map == NULL || map->kind != NODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->npairs; i++)
    if (map->pairs[i].key->kind == NODE_SCALAR && strcmp (map->pairs[i].key->scalar, key) == 0)
      return map->pairs[i].value;
  return NULL;
}

/* One count: an integer 0..STACK_REPLICAS_MAX; -1 when not given (null). */
static const char *
count (const struct node *n, const char *what, int *out, char *buf, size_t bn)
{
  *out = -1;
  if (n == NULL || n->kind == NODE_NULL)
    return NULL;
  if (n->kind != NODE_SCALAR)
    {
      snprintf (buf, bn, "%s: expected a number of containers", what);
      return buf;
    }
  char *end = NULL;
  const char *s = n->scalar;
  long v = strtol (s, &end, 10);
  if (!*s || *end || *s == '-' || *s == '+' || *s == ' ' || v > STACK_REPLICAS_MAX)
    {
      snprintf (buf, bn, "%s: expected a number of containers from 1 to %d, got '%s'", what,
                STACK_REPLICAS_MAX, s);
      return buf;
    }
  if (v == 0)
    {
      snprintf (buf, bn, "%s: 0 containers is not supported (leave the service out with a "
                "profile instead)", what);
      return buf;
    }
  *out = (int) v;
  return NULL;
}

const char *
stack_parse_replicas (const struct node *svc, int *out, const struct node **at, char *buf,
                      size_t n)
{
  *out = 0;
  *at = svc;
  const struct node *sn = get (svc, "scale");
  const struct node *deploy = get (svc, "deploy");
  const struct node *rn = get (deploy, "replicas");
  int scale = -1, replicas = -1;
  const char *why = count (sn, "scale", &scale, buf, n);
  if (why)
    {
      *at = sn;
      return why;
    }
  if ((why = count (rn, "deploy.replicas", &replicas, buf, n)) != NULL)
    {
      *at = rn;
      return why;
    }
  if (scale > 0 && replicas > 0 && scale != replicas)
    {
      *at = sn;
      snprintf (buf, n, "scale (%d) and deploy.replicas (%d) differ", scale, replicas);
      return buf;
    }
  int v = scale > 0 ? scale : replicas > 0 ? replicas : 0;
  const struct node *cn = get (svc, "container_name");
  if (v > 1 && cn && cn->kind != NODE_NULL)
    {
      *at = sn ? sn : rn;
      snprintf (buf, n, "%d replicas with container_name: a container name is unique (leave "
                "container_name out)", v);
      return buf;
    }
  *out = v;
  return NULL;
}
