/* h2lazy.c - libnghttp2 loaded on first use, as pblazy.c loads
 * libprotobuf-c (see there and util/lazylib.c for the why and the how):
 * only a BuildKit build opens a session (session.c) and speaks HTTP/2.
 * libcurl depends on libnghttp2 already, so by the time a build runs the
 * library is mapped and dlopen() only finds it.  The functions session.c
 * (and the unit test's client) call are defined here under their own
 * names, hidden, each resolving the real one once through lazylib_sym().
 * With --disable-lazy-libs this file is empty and the library is linked. */
#include <config.h>

#ifdef ITM_LAZY_LIBS

#include <nghttp2/nghttp2.h>

#include "util/lazylib.h"

#define H2_HIDDEN __attribute__ ((visibility ("hidden")))

static struct lazylib h2_lib = { "libnghttp2", ITM_NGHTTP2_SONAME, "libnghttp2-14", NULL };

#define H2_LAZY(ret, name, params, args)                                 \
  H2_HIDDEN ret                                                         \
  name params                                                           \
  {                                                                     \
    static void *fn;                                                    \
    return ((__typeof__ (&name)) lazylib_resolve (&h2_lib, #name, &fn)) args;            \
  }

#define H2_LAZY_VOID(name, params, args)                                 \
  H2_HIDDEN void                                                        \
  name params                                                           \
  {                                                                     \
    static void *fn;                                                    \
    ((__typeof__ (&name)) lazylib_resolve (&h2_lib, #name, &fn)) args;                   \
  }

H2_LAZY (int, nghttp2_session_callbacks_new, (nghttp2_session_callbacks **p), (p))
H2_LAZY_VOID (nghttp2_session_callbacks_del, (nghttp2_session_callbacks *c), (c))
H2_LAZY_VOID (nghttp2_session_callbacks_set_on_frame_recv_callback,
              (nghttp2_session_callbacks *c, nghttp2_on_frame_recv_callback f), (c, f))
H2_LAZY_VOID (nghttp2_session_callbacks_set_on_data_chunk_recv_callback,
              (nghttp2_session_callbacks *c, nghttp2_on_data_chunk_recv_callback f), (c, f))
H2_LAZY_VOID (nghttp2_session_callbacks_set_on_stream_close_callback,
              (nghttp2_session_callbacks *c, nghttp2_on_stream_close_callback f), (c, f))
H2_LAZY_VOID (nghttp2_session_callbacks_set_on_begin_headers_callback,
              (nghttp2_session_callbacks *c, nghttp2_on_begin_headers_callback f), (c, f))
H2_LAZY_VOID (nghttp2_session_callbacks_set_on_header_callback,
              (nghttp2_session_callbacks *c, nghttp2_on_header_callback f), (c, f))
H2_LAZY (int, nghttp2_session_server_new,
         (nghttp2_session **s, const nghttp2_session_callbacks *c, void *u), (s, c, u))
H2_LAZY (int, nghttp2_session_client_new,
         (nghttp2_session **s, const nghttp2_session_callbacks *c, void *u), (s, c, u))
H2_LAZY_VOID (nghttp2_session_del, (nghttp2_session *s), (s))
H2_LAZY (ssize_t, nghttp2_session_mem_send, (nghttp2_session *s, const uint8_t **d), (s, d))
H2_LAZY (ssize_t, nghttp2_session_mem_recv, (nghttp2_session *s, const uint8_t *in, size_t n),
         (s, in, n))
H2_LAZY (int, nghttp2_session_want_read, (nghttp2_session *s), (s))
H2_LAZY (int, nghttp2_session_want_write, (nghttp2_session *s), (s))
H2_LAZY (void *, nghttp2_session_get_stream_user_data, (nghttp2_session *s, int32_t id), (s, id))
H2_LAZY (int, nghttp2_session_set_stream_user_data, (nghttp2_session *s, int32_t id, void *u),
         (s, id, u))
H2_LAZY (int, nghttp2_submit_settings,
         (nghttp2_session *s, uint8_t f, const nghttp2_settings_entry *iv, size_t n),
         (s, f, iv, n))
H2_LAZY (int, nghttp2_submit_response,
         (nghttp2_session *s, int32_t id, const nghttp2_nv *nva, size_t n,
          const nghttp2_data_provider *d), (s, id, nva, n, d))
H2_LAZY (int32_t, nghttp2_submit_request,
         (nghttp2_session *s, const nghttp2_priority_spec *p, const nghttp2_nv *nva, size_t n,
          const nghttp2_data_provider *d, void *u), (s, p, nva, n, d, u))
H2_LAZY (int, nghttp2_submit_trailer,
         (nghttp2_session *s, int32_t id, const nghttp2_nv *nva, size_t n), (s, id, nva, n))
H2_LAZY (int, nghttp2_submit_rst_stream, (nghttp2_session *s, uint8_t f, int32_t id, uint32_t e),
         (s, f, id, e))
H2_LAZY (const char *, nghttp2_strerror, (int e), (e))
H2_LAZY (int, nghttp2_session_resume_data, (nghttp2_session *s, int32_t id), (s, id))

#endif
