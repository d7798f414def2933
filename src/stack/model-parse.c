/* model-parse.c - the small value syntaxes of the Compose format: durations,
 * sizes, command strings, short port specs. */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "util/xalloc.h"

/* Go's time.ParseDuration, which Compose uses: "1m30s", "500ms", "1.5h",
 * "0"; units ns, us (µs), ms, s, m, h; no sign. */
int
stack_parse_duration (const char *s, int64_t *ns, const char **why)
{
  static const struct { const char *u; int64_t mul; } units[] = {
    { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
    { "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL },
    { "h", 3600000000000LL },
  };
  double total = 0;

  if (s == NULL || *s == '\0')
    return *why = "empty duration", -1;
  if (strcmp (s, "0") == 0)
    return *ns = 0, 0;
  if (*s == '-' || *s == '+')
    return *why = "a duration cannot have a sign", -1;
  while (*s)
    {
      const char *start = s;
      double v = 0, frac = 0, scale = 1;
      bool digits = false;
      while (isdigit ((unsigned char) *s))
        v = v * 10 + (*s++ - '0'), digits = true;
      if (*s == '.')
        {
          s++;
          while (isdigit ((unsigned char) *s))
            frac = frac * 10 + (*s++ - '0'), scale *= 10, digits = true;
        }
      if (!digits)
        return *why = (start == s && *s) ? "expected a number before the unit" : "expected a number", -1;
      size_t k;
      for (k = 0; k < sizeof units / sizeof units[0]; k++)
        {
          size_t l = strlen (units[k].u);
          /* "m" must not eat "ms" */
          if (strncmp (s, units[k].u, l) == 0
              && !(strcmp (units[k].u, "m") == 0 && s[1] == 's'))
            break;
        }
      if (k == sizeof units / sizeof units[0])
        return *why = *s ? "unknown unit (expected ns, us, ms, s, m or h)"
                         : "missing unit (expected ns, us, ms, s, m or h)", -1;
      total += (v + frac / scale) * (double) units[k].mul;
      s += strlen (units[k].u);
      if (total > 9.2e18)
        return *why = "duration too long", -1;
    }
  *ns = (int64_t) (total + 0.5);
  return 0;
}

/* Go's Duration.String(). */
void
stack_format_duration (int64_t d, char *buf, size_t size)
{
  char tmp[64];
  size_t w = sizeof tmp;
  uint64_t u = d < 0 ? (uint64_t) -d : (uint64_t) d;

  tmp[--w] = '\0';
  if (u < 1000000000ULL)
    {
      int prec;
      const char *unit;
      if (u == 0)
        {
          snprintf (buf, size, "0s");
          return;
        }
      else if (u < 1000)
        prec = 0, unit = "ns";
      else if (u < 1000000)
        prec = 3, unit = "\xc2\xb5s";
      else
        prec = 6, unit = "ms";
      w -= strlen (unit);
      memcpy (tmp + w, unit, strlen (unit));
      /* fraction */
      bool print = false;
      for (int i = 0; i < prec; i++)
        {
          int digit = u % 10;
          print = print || digit != 0;
          if (print)
            tmp[--w] = '0' + digit;
          u /= 10;
        }
      if (print)
        tmp[--w] = '.';
      do
        tmp[--w] = '0' + u % 10, u /= 10;
      while (u);
    }
  else
    {
      tmp[--w] = 's';
      bool print = false;
      for (int i = 0; i < 9; i++)
        {
          int digit = u % 10;
          print = print || digit != 0;
          if (print)
            tmp[--w] = '0' + digit;
          u /= 10;
        }
      if (print)
        tmp[--w] = '.';
      uint64_t secs = u % 60;
      u /= 60;
      do
        tmp[--w] = '0' + secs % 10, secs /= 10;
      while (secs);
      if (u > 0)
        {
          tmp[--w] = 'm';
          uint64_t mins = u % 60;
          u /= 60;
          do
            tmp[--w] = '0' + mins % 10, mins /= 10;
          while (mins);
          if (u > 0)
            {
              tmp[--w] = 'h';
              do
                tmp[--w] = '0' + u % 10, u /= 10;
              while (u);
            }
        }
    }
  if (d < 0)
    tmp[--w] = '-';
  snprintf (buf, size, "%s", tmp + w);
}

/* docker's units.RAMInBytes, which Compose uses: "512m", "1.5g", "1024",
 * "64MB", "2 GiB"; binary multiples; no unit: bytes. */
int
stack_parse_size (const char *s, uint64_t *bytes, const char **why)
{
  const char *p = s;
  double v = 0, frac = 0, scale = 1;
  bool digits = false;

  if (s == NULL || *s == '\0')
    return *why = "empty size", -1;
  while (isdigit ((unsigned char) *p))
    v = v * 10 + (*p++ - '0'), digits = true;
  if (*p == '.')
    {
      p++;
      bool fd = false;
      while (isdigit ((unsigned char) *p))
        frac = frac * 10 + (*p++ - '0'), scale *= 10, fd = true;
      if (!fd)
        return *why = "expected digits after '.'", -1;
    }
  if (!digits)
    return *why = "expected a number with an optional unit (b, k, m, g, t, p)", -1;
  if (*p == ' ')
    p++;
  double mul = 1;
  switch (tolower ((unsigned char) *p))
    {
    case 'k': mul = 1024.0; p++; break;
    case 'm': mul = 1024.0 * 1024; p++; break;
    case 'g': mul = 1024.0 * 1024 * 1024; p++; break;
    case 't': mul = 1024.0 * 1024 * 1024 * 1024; p++; break;
    case 'p': mul = 1024.0 * 1024 * 1024 * 1024 * 1024; p++; break;
    default: break;
    }
  if (mul > 1 && (*p == 'i' || *p == 'I'))
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p)
    return *why = "unknown unit (expected b, k, m, g, t or p)", -1;
  double r = (v + frac / scale) * mul;
  if (r > 1.8e19)
    return *why = "size too large", -1;
  *bytes = (uint64_t) r;
  return 0;
}

/* Compose's command-string splitting: words separated by blanks; '...'
 * literal; "..." with backslash escapes; a backslash outside quotes escapes
 * the next character.  No expansion.  Shell operators (; & | < >) outside
 * quotes are rejected (Compose would stop there silently). */
int
stack_split_command (const char *s, char ***argvp, size_t *argcp, const char **why)
{
  char **argv = NULL;
  size_t argc = 0, cap = 0;
  struct buf w = { 0 };
  bool inword = false;
  char q = 0;

  for (const char *p = s;; p++)
    {
      char c = *p;
      if (c == '\0')
        {
          if (q)
            {
              *why = q == '\'' ? "unterminated single quote" : "unterminated double quote";
              goto fail;
            }
          break;
        }
      if (q == '\'')
        {
          if (c == '\'')
            q = 0;
          else
            buf_addc (&w, c);
          continue;
        }
      if (c == '\\')
        {
          if (p[1] == '\0')
            {
              *why = "backslash at the end of the command";
              goto fail;
            }
          if (p[1] == '\n')
            {
              p++;
              continue;
            }
          buf_addc (&w, *++p);
          inword = true;
          continue;
        }
      if (q == '"')
        {
          if (c == '"')
            q = 0;
          else
            buf_addc (&w, c);
          continue;
        }
      if (c == '\'' || c == '"')
        {
          q = c;
          inword = true;
          continue;
        }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        {
          if (inword)
            {
              argv = xgrow (argv, &cap, argc + 2, sizeof *argv);
              argv[argc++] = w.data ? buf_steal (&w) : xstrdup ("");
              inword = false;
            }
          continue;
        }
      if (strchr (";&|<>", c))
        {
          *why = "shell operator outside quotes (use a list, or [\"sh\", \"-c\", \"...\"])";
          goto fail;
        }
      buf_addc (&w, c);
      inword = true;
    }
  if (inword)
    {
      argv = xgrow (argv, &cap, argc + 2, sizeof *argv);
      argv[argc++] = w.data ? buf_steal (&w) : xstrdup ("");
    }
  argv = xgrow (argv, &cap, argc + 1, sizeof *argv);
  argv[argc] = NULL;
  buf_free (&w);
  *argvp = argv;
  *argcp = argc;
  return 0;
fail:
  for (size_t i = 0; i < argc; i++)
    free (argv[i]);
  free (argv);
  buf_free (&w);
  return -1;
}

static int
parse_port_num (const char *s, size_t n, unsigned *v)
{
  if (n == 0 || n > 5)
    return -1;
  unsigned r = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char) s[i]))
        return -1;
      r = r * 10 + (s[i] - '0');
    }
  if (r > 65535)
    return -1;
  *v = r;
  return 0;
}

/* "80", "8000-8010": 0 and the range, -1 when malformed. */
static int
parse_port_range (const char *s, size_t n, unsigned *a, unsigned *b)
{
  const char *dash = memchr (s, '-', n);
  if (dash == NULL)
    {
      if (parse_port_num (s, n, a) < 0)
        return -1;
      *b = *a;
      return 0;
    }
  if (parse_port_num (s, dash - s, a) < 0
      || parse_port_num (dash + 1, n - (dash + 1 - s), b) < 0 || *b < *a)
    return -1;
  return 0;
}

int
stack_parse_port (const char *s, struct stack_port *p, const char **why)
{
  cleanup_free char *spec = xstrdup (s);
  char *proto = strrchr (spec, '/');
  const char *ip = NULL, *host = NULL, *cont;
  char *colon;

  memset (p, 0, sizeof *p);
  if (proto)
    {
      *proto++ = '\0';
      if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
        return *why = "unknown protocol (expected tcp, udp or sctp)", -1;
    }
  /* split from the right: [ip:[host]:]container; an IPv6 address is in [] */
  colon = strrchr (spec, ':');
  if (colon == NULL)
    cont = spec;
  else
    {
      *colon = '\0';
      cont = colon + 1;
      char *c2 = strrchr (spec, ':');
      if (spec[0] == '[')
        {
          char *close = strchr (spec, ']');
          if (close == NULL)
            return *why = "unterminated '[' in the host address", -1;
          c2 = close[1] == ':' ? close + 1 : NULL;
          if (c2 == NULL && close[1] != '\0')
            return *why = "expected ':' after ']'", -1;
          if (c2 == NULL)
            return *why = "a host address needs a host port or '::'", -1;
        }
      if (c2)
        {
          *c2 = '\0';
          ip = spec;
          host = c2 + 1;
        }
      else
        host = spec;
    }
  if (parse_port_range (cont, strlen (cont), &p->target_start, &p->target_end) < 0
      || p->target_start == 0)
    return *why = "the container port must be a number from 1 to 65535 or a range", -1;
  if (host && *host)
    {
      if (parse_port_range (host, strlen (host), &p->published_start, &p->published_end) < 0)
        return *why = "the host port must be a number from 0 to 65535 or a range", -1;
      if (p->target_end != p->target_start
          && p->published_end - p->published_start != p->target_end - p->target_start)
        return *why = "the host and container port ranges differ in size", -1;
    }
  /* ":80": no address, no host port: an ephemeral one, as Compose */
  if (ip)
    {
      char addr[64];
      size_t l = strlen (ip);
      unsigned char bin[16];
      if (ip[0] == '[' && l > 2 && ip[l - 1] == ']')
        {
          snprintf (addr, sizeof addr, "%.*s", (int) (l - 2), ip + 1);
          if (inet_pton (AF_INET6, addr, bin) != 1)
            return *why = "invalid IPv6 host address", -1;
        }
      else
        {
          snprintf (addr, sizeof addr, "%s", ip);
          if (l >= sizeof addr || inet_pton (AF_INET, addr, bin) != 1)
            return *why = "invalid host address (IPv6 addresses go in [])", -1;
        }
      p->host_ip = xstrdup (addr);
    }
  p->protocol = xstrdup (proto ? proto : "tcp");
  p->mode = xstrdup ("ingress");
  return 0;
}
