/* test-proxy.c - the fault proxy's toxics as data (parse, update, JSON,
 * px_shape) and its API's answers (px_api_handle, no network but the
 * proxies' own listeners on 127.0.0.1). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "proxy/priv.h"
#include "tap.h"
#include "util/json.h"

static int
parse (const char *text, struct px_toxic *t, char **msg)
{
  cleanup_json json_object *o = json_tokener_parse (text);
  *msg = NULL;
  return px_toxic_parse (o, t, msg);
}

static void
test_parse (void)
{
  struct px_toxic t;
  char *msg;
  tap_is_int (parse ("{\"type\":\"latency\",\"attributes\":{\"latency\":300,\"jitter\":50}}", &t, &msg),
              0, "latency parses");
  tap_is_str (t.name, "latency_downstream", "default name TYPE_STREAM");
  tap_ok (t.stream == PX_DOWNSTREAM && t.toxicity == 1.0, "defaults: downstream, toxicity 1");
  tap_ok (t.attr[0] == 300 && t.attr[1] == 50, "attributes in order");
  cleanup_json json_object *j = px_toxic_json (&t);
  tap_is_str (json_object_to_json_string_ext (j, JSON_C_TO_STRING_PLAIN),
              "{\"attributes\":{\"latency\":300,\"jitter\":50},\"name\":\"latency_downstream\","
              "\"type\":\"latency\",\"stream\":\"downstream\",\"toxicity\":1.0}",
              "rendered in Toxiproxy's shape");
  cleanup_json json_object *up = json_tokener_parse ("{\"attributes\":{\"jitter\":\"x\"},\"toxicity\":0.5}");
  tap_is_int (px_toxic_update (&t, up, &msg), 400, "update with a bad type: 400");
  tap_ok (t.attr[1] == 50 && t.toxicity == 1.0, "... and nothing changed");
  free (msg);
  cleanup_json json_object *up2 = json_tokener_parse ("{\"attributes\":{\"jitter\":7},\"toxicity\":0.5}");
  tap_is_int (px_toxic_update (&t, up2, &msg), 0, "update merges");
  tap_ok (t.attr[0] == 300 && t.attr[1] == 7 && t.toxicity == 0.5, "... latency kept, jitter and toxicity set");
  px_toxic_clear (&t);

  tap_is_int (parse ("{\"type\":\"slicer\",\"stream\":\"upstream\",\"name\":\"s\",\"attributes\":{\"average_size\":10.0}}", &t, &msg),
              0, "an integral number is an integer");
  tap_ok (t.stream == PX_UPSTREAM && t.attr[0] == 10 && strcmp (t.name, "s") == 0, "stream and name given");
  px_toxic_clear (&t);

  static const struct { const char *body, *msg; } bad[] = {
    { "{\"type\":\"nope\"}", "invalid toxic type" },
    { "{}", "invalid toxic type" },
    { "{\"type\":\"latency\",\"stream\":\"sideways\"}", "stream was invalid, can be either upstream or downstream" },
    { "{\"type\":\"latency\",\"attributes\":{\"latency\":\"300ms\"}}", "bad request body: json: cannot unmarshal string" },
    { "{\"type\":\"latency\",\"attributes\":{\"latency\":1.5}}", "bad request body: json: cannot unmarshal number" },
    { "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":-1}}", "bad request body: attribute rate" },
    { "{\"type\":\"latency\",\"toxicity\":\"x\"}", "bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity" },
    { "{\"type\":\"latency\",\"toxicity\":2}", "bad request body: toxicity must be between 0 and 1" },
    { "{\"type\":7}", "bad request body: json: cannot unmarshal int into Go struct field ToxicWrapper.type" },
    { "{\"type\":\"latency\",\"attributes\":[1]}", "bad request body: json: cannot unmarshal array" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      int rc = parse (bad[i].body, &t, &msg);
      tap_ok (rc == 400 && msg && strncmp (msg, bad[i].msg, strlen (bad[i].msg)) == 0,
              "400 for %s", bad[i].body);
      if (msg && strncmp (msg, bad[i].msg, strlen (bad[i].msg)) != 0)
        tap_diag ("got '%s'", msg);
      free (msg);
    }
  for (int ty = 0; ty < PX_NTYPES; ty++)
    tap_is_int (px_type_find (px_type_name ((enum px_type) ty)), ty, "type %s by name",
                px_type_name ((enum px_type) ty));
}

static struct px_toxic
mk (enum px_type type, int64_t a0, int64_t a1, int64_t a2)
{
  return (struct px_toxic) { .type = type, .toxicity = 1, .attr = { a0, a1, a2 } };
}

static void
test_shape (void)
{
  uint64_t rng = 42;
  struct px_shape_state st = { 0 };
  size_t n;
  const int64_t ms = 1000000, t0 = 1000 * ms;

  struct px_piece *p = px_shape (&st, NULL, 0, t0, 100, &n, &rng);
  tap_ok (n == 1 && p[0].off == 0 && p[0].len == 100 && p[0].at == t0, "no toxic: one piece, now");
  free (p);

  struct px_toxic lat = mk (PX_LATENCY, 300, 0, 0);
  const struct px_toxic *a[] = { &lat };
  st = (struct px_shape_state) { 0 };
  p = px_shape (&st, a, 1, t0, 100, &n, &rng);
  tap_ok (n == 1 && p[0].at == t0 + 300 * ms, "latency 300: leaves 300 ms later");
  free (p);

  lat.attr[1] = 50;
  int64_t lo = INT64_MAX, hi = 0;
  for (int i = 0; i < 2000; i++)
    {
      st = (struct px_shape_state) { 0 };
      p = px_shape (&st, a, 1, t0, 1, &n, &rng);
      lo = p[0].at < lo ? p[0].at : lo;
      hi = p[0].at > hi ? p[0].at : hi;
      free (p);
    }
  tap_ok (lo >= t0 + 250 * ms && hi < t0 + 350 * ms && hi - lo > 80 * ms,
          "jitter 50: within [250, 350) ms, spread (%lld..%lld ms)",
          (long long) ((lo - t0) / ms), (long long) ((hi - t0) / ms));

  /* order is kept: a later read never overtakes an earlier one */
  st = (struct px_shape_state) { 0 };
  lat.attr[1] = 0;
  p = px_shape (&st, a, 1, t0, 1, &n, &rng);
  free (p);
  lat.attr[0] = 10;
  p = px_shape (&st, a, 1, t0 + ms, 1, &n, &rng);
  tap_ok (p[0].at == t0 + 300 * ms, "a shorter latency later waits for the bytes before");
  free (p);

  struct px_toxic bw = mk (PX_BANDWIDTH, 100, 0, 0);  /* 100 KB/s */
  const struct px_toxic *b[] = { &bw };
  st = (struct px_shape_state) { 0 };
  p = px_shape (&st, b, 1, t0, 50000, &n, &rng);
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += p[i].len;
  tap_ok (n == 5 && total == 50000 && p[0].at == t0 && p[4].at == t0 + 400 * ms,
          "bandwidth 100 KB/s: 50 KB in 10 KB pieces 100 ms apart");
  free (p);
  p = px_shape (&st, b, 1, t0, 1000, &n, &rng);
  tap_ok (n == 1 && p[0].at == t0 + 500 * ms, "... and the next read waits for the link");
  free (p);

  struct px_toxic sl = mk (PX_SLICER, 10, 0, 1000);   /* 10 bytes, 1 ms apart */
  const struct px_toxic *c[] = { &sl };
  st = (struct px_shape_state) { 0 };
  p = px_shape (&st, c, 1, t0, 35, &n, &rng);
  tap_ok (n == 4 && p[3].len == 5 && p[3].off == 30 && p[3].at == t0 + 3 * ms,
          "slicer 10 bytes, 1000 us: 4 pieces 1 ms apart");
  free (p);
  sl.attr[1] = 5;
  st = (struct px_shape_state) { 0 };
  p = px_shape (&st, c, 1, t0, 10000, &n, &rng);
  bool sizes = true;
  total = 0;
  for (size_t i = 0; i < n; i++)
    {
      total += p[i].len;
      sizes &= (p[i].len >= 5 && p[i].len <= 15) || i == n - 1;
    }
  tap_ok (sizes && total == 10000, "slicer variation 5: pieces of 5..15 bytes, all bytes");
  free (p);

  /* latency then bandwidth compose */
  lat.attr[0] = 100;
  const struct px_toxic *d[] = { &lat, &bw };
  st = (struct px_shape_state) { 0 };
  p = px_shape (&st, d, 2, t0, 20000, &n, &rng);
  tap_ok (n == 2 && p[0].at == t0 + 100 * ms && p[1].at == t0 + 200 * ms,
          "latency + bandwidth: delayed, then paced");
  free (p);
}

static json_object *
call (struct px_server *s, const char *method, const char *path, const char *body, int want,
      const char *what)
{
  int status;
  char *resp = NULL;
  px_api_handle (s, method, path, body ? body : "", body ? strlen (body) : 0, &status, &resp);
  if (!tap_is_int (status, want, "%s %s: %d (%s)", method, path, want, what))
    tap_diag ("body: %s", resp ? resp : "(none)");
  json_object *o = resp ? json_tokener_parse (resp) : NULL;
  free (resp);
  return o;
}

static void
test_api (void)
{
  struct px_server *s = px_server_new (1);
  json_object *o;

  o = call (s, "GET", "/proxies", NULL, 200, "empty");
  tap_is_str (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN), "{}", "no proxies: {}");
  json_object_put (o);
  o = call (s, "POST", "/proxies", "{\"name\":\"db\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:5432\"}",
            201, "created");
  tap_ok (json_key_str (o, "listen") && strncmp (json_key_str (o, "listen"), "127.0.0.1:", 10) == 0
          && strcmp (json_key_str (o, "listen"), "127.0.0.1:0") != 0, "listen is the bound address");
  tap_ok (json_object_get_boolean (json_key (o, "enabled")), "enabled by default");
  json_object_put (o);
  o = call (s, "POST", "/proxies", "{\"name\":\"db\",\"upstream\":\"x:1\"}", 409, "exists");
  tap_is_str (json_key_str (o, "error"), "proxy already exists", "409's words");
  tap_is_int (json_int (o, "status", 0), 409, "status in the body");
  json_object_put (o);
  json_object_put (call (s, "POST", "/proxies", "{\"name\":\"x\"}", 400, "no upstream"));
  json_object_put (call (s, "POST", "/proxies", "{\"upstream\":\"x:1\"}", 400, "no name"));
  json_object_put (call (s, "POST", "/proxies", "{nope", 400, "not JSON"));
  json_object_put (call (s, "GET", "/proxies/none", NULL, 404, "unknown proxy"));
  json_object_put (call (s, "GET", "/proxies/db/toxics", NULL, 200, "no toxics"));
  o = call (s, "POST", "/proxies/db/toxics", "{\"type\":\"timeout\",\"attributes\":{\"timeout\":0}}",
            200, "toxic created (Toxiproxy answers 200)");
  tap_is_str (json_key_str (o, "name"), "timeout_downstream", "its name");
  json_object_put (o);
  json_object_put (call (s, "POST", "/proxies/db/toxics", "{\"type\":\"timeout\"}", 409, "same name"));
  json_object_put (call (s, "POST", "/proxies/db/toxics", "{\"type\":\"wat\"}", 400, "unknown type"));
  json_object_put (call (s, "GET", "/proxies/db/toxics/timeout_downstream", NULL, 200, "shown"));
  json_object_put (call (s, "PATCH", "/proxies/db/toxics/timeout_downstream",
                         "{\"attributes\":{\"timeout\":5}}", 200, "updated"));
  json_object_put (call (s, "GET", "/proxies/db/toxics/nope", NULL, 404, "unknown toxic"));
  o = call (s, "POST", "/proxies/db", "{\"enabled\":false}", 200, "disabled");
  tap_ok (!json_object_get_boolean (json_key (o, "enabled")), "enabled false");
  tap_is_int (json_object_array_length (json_key (o, "toxics")), 1, "its toxics listed with it");
  json_object_put (o);
  tap_ok (px_proxy_find (s, "db")->lfd < 0, "a disabled proxy does not listen");
  json_object_put (call (s, "POST", "/reset", NULL, 204, "reset"));
  tap_ok (px_proxy_find (s, "db")->lfd >= 0 && px_proxy_find (s, "db")->ntoxics == 0,
          "reset: enabled again, no toxics");

  /* populate: all or nothing */
  o = call (s, "POST", "/populate", "[{\"name\":\"a\",\"upstream\":\"x:1\",\"listen\":\"127.0.0.1:0\"},{\"name\":\"b\"}]",
            400, "an invalid entry");
  tap_ok (px_proxy_find (s, "a") == NULL, "... nothing created");
  tap_ok (json_object_is_type (json_key (o, "proxies"), json_type_array), "... proxies in the answer");
  json_object_put (o);
  o = call (s, "POST", "/populate", "[{\"name\":\"a\",\"upstream\":\"x:1\",\"listen\":\"127.0.0.1:0\"},{\"name\":\"db\",\"upstream\":\"127.0.0.1:5432\"}]",
            201, "populated");
  tap_is_int (json_object_array_length (json_key (o, "proxies")), 2, "both in the answer");
  json_object_put (o);
  json_object_put (call (s, "DELETE", "/proxies/a", NULL, 204, "deleted"));
  json_object_put (call (s, "DELETE", "/proxies/a", NULL, 404, "deleted twice"));
  o = call (s, "GET", "/version", NULL, 200, "version");
  tap_ok (json_key_str (o, "version") != NULL, "a version");
  json_object_put (o);
  json_object_put (call (s, "PUT", "/proxies/db", "{}", 405, "method"));
  px_server_free (s);
}

int
main (void)
{
  test_parse ();
  test_shape ();
  test_api ();
  return tap_done ();
}
