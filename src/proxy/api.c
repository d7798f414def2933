/* api.c - Toxiproxy's HTTP API (HTTP/1.1, keep-alive, Content-Length
 * bodies): its routes, JSON shapes, status codes and error words
 * ({"error": "...", "status": N}). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/priv.h"
#include "util/json.h"

#define MAX_REQUEST (1024 * 1024)
/* the version GET /version reports: Toxiproxy's API level, then ours */
#define PX_API_VERSION "2.12.0"

void
px_client_close (struct px_client *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  buf_free (&c->in);
  buf_free (&c->out);
}

void
px_api_accept (struct px_server *s)
{
  for (int k = 0; k < 16; k++)
    {
      int fd = accept4 (s->afd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      struct px_client *c = xzalloc (sizeof *c);
      c->fd = fd;
      c->pi = -1;
      c->next = s->clients;
      s->clients = c;
    }
}

static char *
error_body (int status, const char *msg)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "error", json_object_new_string (msg));
  json_object_object_add (o, "status", json_object_new_int (status));
  char *r = xasprintf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
  json_object_put (o);
  return r;
}

static char *
take_json (json_object *o)
{
  char *r = xstrdup (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
  json_object_put (o);
  return r;
}

/* The body as JSON: NULL with *status 400 when it is not. */
static json_object *
parse_body (const char *body, size_t len, int *status, char **resp)
{
  json_tokener *tok = json_tokener_new ();
  json_object *o = json_tokener_parse_ex (tok, body, (int) len);
  enum json_tokener_error e = json_tokener_get_error (tok);
  json_tokener_free (tok);
  if (o == NULL || e != json_tokener_success)
    {
      json_object_put (o);
      *status = 400;
      *resp = error_body (400, len == 0 ? "bad request body: EOF"
                          : "bad request body: the body is not valid JSON");
      return NULL;
    }
  return o;
}

/* A proxy's fields from a body: name, listen, upstream strings, enabled a
 * boolean.  0, or 400 with *msg. */
static int
proxy_fields (json_object *o, const char **name, const char **listen, const char **upstream,
              bool *enabled, char **msg)
{
  static const char *const keys[] = { "name", "listen", "upstream" };
  const char **dst[] = { name, listen, upstream };
  if (!json_object_is_type (o, json_type_object))
    {
      *msg = xstrdup ("bad request body: json: cannot unmarshal into Go value of type"
                      " toxiproxy.Proxy (the body is not an object)");
      return 400;
    }
  for (int i = 0; i < 3; i++)
    {
      json_object *v = json_key (o, keys[i]);
      if (v && !json_object_is_type (v, json_type_string))
        {
          *msg = xasprintf ("bad request body: json: cannot unmarshal %s into Go struct field"
                            " Proxy.%s of type string",
                            json_type_to_name (json_object_get_type (v)), keys[i]);
          return 400;
        }
      if (v)
        *dst[i] = json_object_get_string (v);
    }
  json_object *v = json_key (o, "enabled");
  if (v && !json_object_is_type (v, json_type_boolean))
    {
      *msg = xasprintf ("bad request body: json: cannot unmarshal %s into Go struct field"
                        " Proxy.enabled of type bool",
                        json_type_to_name (json_object_get_type (v)));
      return 400;
    }
  if (v)
    *enabled = json_object_get_boolean (v);
  return 0;
}

static int
proxy_required (const char *name, const char *upstream, char **msg)
{
  if (name == NULL || *name == '\0')
    *msg = xstrdup ("missing required field: name");
  else if (upstream == NULL || *upstream == '\0')
    *msg = xstrdup ("missing required field: upstream");
  else
    return 0;
  return 400;
}

static void
populate (struct px_server *s, json_object *arr, int *status, char **resp)
{
  cleanup_free char *msg = NULL;
  int rc = 0;
  size_t n = 0;
  json_object *done = json_object_new_array ();
  if (!json_object_is_type (arr, json_type_array))
    {
      rc = 400;
      msg = xstrdup ("bad request body: json: cannot unmarshal object into Go value of type"
                     " []toxiproxy.Proxy");
    }
  else
    n = json_object_array_length (arr);
  /* every entry is checked before any is created: nothing half-applied */
  for (size_t i = 0; rc == 0 && i < n; i++)
    {
      const char *name = NULL, *listen = NULL, *upstream = NULL;
      bool enabled = true;
      rc = proxy_fields (json_object_array_get_idx (arr, i), &name, &listen, &upstream,
                         &enabled, &msg);
      if (rc == 0)
        rc = proxy_required (name, upstream, &msg);
    }
  for (size_t i = 0; rc == 0 && i < n; i++)
    {
      const char *name = NULL, *listen = NULL, *upstream = NULL;
      bool enabled = true;
      proxy_fields (json_object_array_get_idx (arr, i), &name, &listen, &upstream, &enabled,
                    &msg);
      struct px_proxy *p = px_proxy_find (s, name);
      /* Toxiproxy keeps a proxy whose listen and upstream are the same and
       * replaces the others */
      if (p && (strcmp (p->upstream, upstream) != 0
                || (listen && *listen && strcmp (p->listen, listen) != 0)))
        {
          px_proxy_remove (s, p);
          p = NULL;
        }
      if (p == NULL)
        rc = px_proxy_add (s, name, listen, upstream, enabled, &p, &msg);
      else
        rc = px_proxy_update (s, p, NULL, NULL, enabled, &msg);
      if (rc == 0)
        json_object_array_add (done, px_proxy_json (p));
    }
  json_object *o = json_object_new_object ();
  if (rc)
    {
      json_object_object_add (o, "error", json_object_new_string (msg));
      json_object_object_add (o, "status", json_object_new_int (rc));
    }
  json_object_object_add (o, "proxies", done);
  *status = rc ? rc : 201;
  *resp = take_json (o);
}

/* The path's segments after the first: /proxies/{p}/toxics/{t}. */
static size_t
split_path (char *path, char *seg[5])
{
  size_t n = 0;
  char *q = strchr (path, '?');
  if (q)
    *q = '\0';
  for (char *tok = strtok (path, "/"); tok && n < 5; tok = strtok (NULL, "/"))
    seg[n++] = tok;
  return strtok (NULL, "/") ? 5 : n;
}

void
px_api_handle (struct px_server *s, const char *method, const char *rpath, const char *body,
               size_t bodylen, int *status, char **resp)
{
  cleanup_free char *path = xstrdup (rpath), *msg = NULL;
  char *seg[5] = { 0 };
  size_t n = split_path (path, seg);
  bool get = strcmp (method, "GET") == 0, post = strcmp (method, "POST") == 0
    || strcmp (method, "PATCH") == 0, del = strcmp (method, "DELETE") == 0;
  cleanup_json json_object *in = NULL;
  int rc = 0;
  *status = 200;
  *resp = NULL;

  if (n == 1 && strcmp (seg[0], "version") == 0 && get)
    {
      *resp = xstrdup ("{\"version\": \"" PX_API_VERSION "\", \"server\": \"itm-env "
                       PACKAGE_VERSION "\"}\n");
      return;
    }
  if (n == 1 && strcmp (seg[0], "reset") == 0 && post)
    {
      for (struct px_proxy *p = s->proxies; p; p = p->next)
        {
          px_proxy_reset (p);
          if (!p->enabled)
            px_proxy_update (s, p, NULL, NULL, true, &msg);
          free (msg);
          msg = NULL;
        }
      *status = 204;
      return;
    }
  if (n == 1 && strcmp (seg[0], "populate") == 0 && post)
    {
      if ((in = parse_body (body, bodylen, status, resp)) == NULL)
        return;
      populate (s, in, status, resp);
      return;
    }
  if (n == 0 || strcmp (seg[0], "proxies") != 0 || n > 4)
    {
      *status = 404;
      *resp = xstrdup ("404 page not found\n");
      return;
    }
  if (n == 1 && get)
    {
      json_object *o = json_object_new_object ();
      for (struct px_proxy *p = s->proxies; p; p = p->next)
        json_object_object_add (o, p->name, px_proxy_json (p));
      *resp = take_json (o);
      return;
    }
  if (n == 1 && post)
    {
      if ((in = parse_body (body, bodylen, status, resp)) == NULL)
        return;
      const char *name = NULL, *listen = NULL, *upstream = NULL;
      bool enabled = true;
      struct px_proxy *p;
      rc = proxy_fields (in, &name, &listen, &upstream, &enabled, &msg);
      if (rc == 0)
        rc = proxy_required (name, upstream, &msg);
      if (rc == 0)
        rc = px_proxy_add (s, name, listen, upstream, enabled, &p, &msg);
      if (rc)
        goto error;
      *status = 201;
      *resp = take_json (px_proxy_json (p));
      return;
    }
  if (n == 1)
    goto method;

  struct px_proxy *p = px_proxy_find (s, seg[1]);
  if (!(get || post || del))
    goto method;
  if (p == NULL)
    {
      *status = 404;
      *resp = error_body (404, "proxy not found");
      return;
    }
  if (n == 2)
    {
      if (get)
        *resp = take_json (px_proxy_json (p));
      else if (del)
        {
          px_proxy_remove (s, p);
          *status = 204;
        }
      else
        {
          if ((in = parse_body (body, bodylen, status, resp)) == NULL)
            return;
          const char *name = NULL, *listen = NULL, *upstream = NULL;
          bool enabled = p->enabled;
          rc = proxy_fields (in, &name, &listen, &upstream, &enabled, &msg);
          if (rc == 0)
            rc = px_proxy_update (s, p, listen, upstream, enabled, &msg);
          if (rc)
            goto error;
          *resp = take_json (px_proxy_json (p));
        }
      return;
    }
  if (strcmp (seg[2], "toxics") != 0)
    {
      *status = 404;
      *resp = xstrdup ("404 page not found\n");
      return;
    }
  if (n == 3 && get)
    {
      json_object *o = json_object_new_array ();
      for (int d = PX_UPSTREAM; d <= PX_DOWNSTREAM; d++)
        for (size_t i = 0; i < p->ntoxics; i++)
          if (p->toxics[i].stream == (enum px_stream) d)
            json_object_array_add (o, px_toxic_json (&p->toxics[i]));
      *resp = take_json (o);
      return;
    }
  if (n == 3 && post)
    {
      if ((in = parse_body (body, bodylen, status, resp)) == NULL)
        return;
      struct px_toxic t;
      rc = px_toxic_parse (in, &t, &msg);
      if (rc == 0 && px_proxy_toxic (p, t.name))
        {
          px_toxic_clear (&t);
          rc = 409;
          msg = xstrdup ("toxic already exists");
        }
      if (rc)
        goto error;
      json_object *o = px_toxic_json (&t);
      px_proxy_toxic_add (p, &t);
      *resp = take_json (o);
      return;
    }
  if (n == 3)
    goto method;
  struct px_toxic *t = px_proxy_toxic (p, seg[3]);
  if (t == NULL)
    {
      *status = 404;
      *resp = error_body (404, "toxic not found");
      return;
    }
  if (get)
    *resp = take_json (px_toxic_json (t));
  else if (del)
    {
      px_proxy_toxic_remove (p, t);
      *status = 204;
    }
  else
    {
      if ((in = parse_body (body, bodylen, status, resp)) == NULL)
        return;
      rc = px_toxic_update (t, in, &msg);
      if (rc)
        goto error;
      *resp = take_json (px_toxic_json (t));
    }
  return;

 method:
  *status = 405;
  return;
 error:
  *status = rc;
  *resp = error_body (rc, msg);
}

/* ---- HTTP/1.1 ---- */
static const char *
reason (int status)
{
  switch (status)
    {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
    }
}

static void
respond (struct px_client *c, int status, const char *body, bool close_after)
{
  size_t len = body && status != 204 ? strlen (body) : 0;
  buf_addf (&c->out, "HTTP/1.1 %d %s\r\n", status, reason (status));
  if (status != 204)
    buf_addf (&c->out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
              body && body[0] != '{' && body[0] != '[' ? "text/plain; charset=utf-8"
              : "application/json", len);
  buf_addf (&c->out, "%s\r\n", close_after ? "Connection: close\r\n" : "");
  if (len)
    buf_add (&c->out, body, len);
  if (close_after)
    c->closing = true;
}

/* The value of header `name` in the header block (NUL-ended lines are not
 * needed: it stops at CR). */
static bool
header (const char *hdrs, const char *name, char *val, size_t vsize)
{
  size_t n = strlen (name);
  for (const char *l = strstr (hdrs, "\r\n"); l && l[2] != '\r'; l = strstr (l + 2, "\r\n"))
    if (strncasecmp (l + 2, name, n) == 0 && l[2 + n] == ':')
      {
        const char *v = l + 3 + n, *e;
        while (*v == ' ' || *v == '\t')
          v++;
        e = strstr (v, "\r\n");
        size_t len = (size_t) (e - v) < vsize - 1 ? (size_t) (e - v) : vsize - 1;
        memcpy (val, v, len);
        val[len] = '\0';
        return true;
      }
  return false;
}

/* One request out of c->in if it is all there: 1 handled, 0 wait for more. */
static int
one_request (struct px_server *s, struct px_client *c)
{
  char *end = c->in.data ? strstr (c->in.data, "\r\n\r\n") : NULL;
  if (end == NULL)
    {
      if (c->in.len > 65536)
        respond (c, 431, NULL, true);
      return 0;
    }
  size_t hlen = (size_t) (end - c->in.data) + 4;
  char method[16], path[2048], val[256];
  if (sscanf (c->in.data, "%15s %2047s HTTP/1.%*c", method, path) != 2)
    {
      respond (c, 400, "400 Bad Request", true);
      return 0;
    }
  size_t clen = 0;
  bool close_after = false;
  if (header (c->in.data, "Content-Length", val, sizeof val))
    clen = strtoull (val, NULL, 10);
  else if (header (c->in.data, "Transfer-Encoding", val, sizeof val))
    {
      respond (c, 411, "411 Length Required", true);
      return 0;
    }
  if (clen > MAX_REQUEST)
    {
      respond (c, 413, "413 Request Entity Too Large", true);
      return 0;
    }
  if (header (c->in.data, "Connection", val, sizeof val) && strcasecmp (val, "close") == 0)
    close_after = true;
  if (strstr (c->in.data, " HTTP/1.0\r\n")
      && !(header (c->in.data, "Connection", val, sizeof val) && strcasecmp (val, "keep-alive") == 0))
    close_after = true;
  if (c->in.len < hlen + clen)
    return 0;
  int status;
  cleanup_free char *resp = NULL;
  if (header (c->in.data, "User-Agent", val, sizeof val) && strncmp (val, "Mozilla/", 8) == 0)
    {
      /* Toxiproxy refuses browsers (a page must not drive the proxy) */
      status = 403;
      resp = xstrdup ("User agent not allowed\n");
    }
  else
    {
      /* the body is NUL-ended for the tokener by a copy */
      cleanup_free char *body = xstrndup (c->in.data + hlen, clen);
      px_api_handle (s, method, path, body, clen, &status, &resp);
    }
  respond (c, status, resp, close_after);
  buf_consume (&c->in, hlen + clen);
  return 1;
}

void
px_api_step (struct px_server *s, struct px_client *c, short revents)
{
  if (revents & (POLLIN | POLLHUP | POLLERR))
    for (;;)
      {
        char buf[16384];
        ssize_t n = recv (c->fd, buf, sizeof buf, 0);
        if (n > 0)
          {
            buf_add (&c->in, buf, (size_t) n);
            if (c->in.len > MAX_REQUEST + 65536)
              break;
            continue;
          }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
          c->closing = true;
        break;
      }
  while (!c->dead && c->in.len && one_request (s, c) == 1 && !(c->closing && c->in.len == 0))
    ;
  while (c->out.len)
    {
      ssize_t n = send (c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->dead = true;
          break;
        }
      buf_consume (&c->out, (size_t) n);
    }
  if (c->closing && c->out.len == 0)
    c->dead = true;
}
