/* cmd-port.c - itm-env port SERVICE PORT[/PROTO]: where a container port is
 * published on the host. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn/conn.h"
#include "state/state.h"
#include "util/xalloc.h"

enum { OPT_INDEX = OPT_FIRST_COMMAND_OPT };

static int
parse_port (const char *s, unsigned *port, char proto[8], struct itm_err *err)
{
  char *end;
  unsigned long v = strtoul (s, &end, 10);
  if (end == s || v == 0 || v > 65535 || (*end && *end != '/'))
    return itm_err_set (err, ITM_EXIT_USAGE, "port: '%s' is not PORT[/PROTO] (e.g. 5432/tcp)", s);
  const char *p = *end ? end + 1 : "tcp";
  if (strcmp (p, "tcp") && strcmp (p, "udp") && strcmp (p, "sctp"))
    return itm_err_set (err, ITM_EXIT_USAGE, "port: unknown protocol '%s' (tcp, udp or sctp)", p);
  *port = (unsigned) v;
  snprintf (proto, 8, "%s", p);
  return 0;
}

static int
port_main (struct itm_ctx *ctx, int argc, char **argv, struct itm_err *err)
{
  const char *arg;
  int opt, index = 0;

  while ((opt = cmd_getopt (&cmd_port, ctx, argc, argv, &arg, err)) > 0)
    if (opt == OPT_INDEX && ctx_parse_index (arg, &index, err) < 0)
      return -1;
  if (opt < 0)
    return -1;
  if (argc - optind != 2)
    {
      itm_err_set (err, ITM_EXIT_USAGE, "port: expected SERVICE PORT[/PROTO]");
      return itm_err_hint (err, "'itm-env help port'");
    }
  const char *service = argv[optind];
  unsigned cport = 0;
  char proto[8] = "tcp";
  if (parse_port (argv[optind + 1], &cport, proto, err) < 0)
    return -1;

  ctx->read_side = true;
  cleanup_free char *ns = NULL;
  if (ctx_namespace (ctx, CTX_STACK_NONE, &ns, NULL, err) < 0)
    return -1;
  cleanup_state struct state *st = NULL;
  if (ctx_state (ctx, ns, true, &st, err) < 0)
    return -1;
  struct state_container *c = ctx_pick_container (st, service, index, err);
  if (c == NULL)
    return -1;
  struct state_port *p = state_port (c, cport, proto);
  if (p == NULL)
    {
      struct buf b = { 0 };
      for (size_t i = 0; i < c->nports; i++)
        if (c->ports[i].host_port
            && (i == 0 || c->ports[i].container_port != c->ports[i - 1].container_port
                || strcmp (c->ports[i].protocol, c->ports[i - 1].protocol) != 0))
          buf_addf (&b, "%s%u/%s", b.len ? ", " : "", c->ports[i].container_port,
                    c->ports[i].protocol);
      itm_err_set (err, ITM_EXIT_NOT_FOUND, "port %u/%s of service '%s' (%s) is not published",
                   cport, proto, service, c->name);
      if (strcmp (c->state, "running") != 0)
        itm_err_hint (err, "%s is %s: only a running container has published ports", c->name,
                      c->state);
      else if (b.len)
        itm_err_hint (err, "its published ports: %s", b.data);
      else
        itm_err_hint (err, "it publishes no port");
      buf_free (&b);
      return -1;
    }
  const char *host = conn_host (p->host_ip);
  if (strchr (host, ':'))
    printf ("[%s]:%u\n", host, p->host_port);
  else
    printf ("%s:%u\n", host, p->host_port);
  return 0;
}

static const struct itm_opt port_opts[] = {
  { .group = cmd_stack_opts },
  { OPT_INDEX, 0, "index", OPT_ARG_REQUIRED, "N",
    "the service's container number N (default: the first running)" },
  { 0 },
};

const struct itm_cmd cmd_port = {
  .name = "port",
  .args = "SERVICE PORT[/PROTO]",
  .summary = "print where a service's port is published (HOST:PORT)",
  .opts = port_opts,
  .fn = port_main,
};
