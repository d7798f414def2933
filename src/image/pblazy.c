/* pblazy.c - libprotobuf-c loaded on first use, as util/lazylib.c loads
 * libcurl, libarchive and libcrypto (see there for the why and the how):
 * only a build with BuildKit decodes protobuf, so no other command maps
 * the library.  The functions the generated code (buildkit.pb-c.c) calls
 * are defined here under their own names, hidden, each resolving the real
 * one once through lazylib_sym().
 *
 * protobuf_c_empty_string, the one data symbol the generated code uses (the
 * initial value of string fields and their descriptors' default), is this
 * file's own empty string: the library compares a string with its field
 * descriptor's default before freeing it, never with its own copy (Windows
 * builds of protobuf-c give each translation unit a copy the same way).
 * With --disable-lazy-libs this file is empty and the library is linked. */
#include <config.h>

#ifdef ITM_LAZY_LIBS

#include <protobuf-c/protobuf-c.h>

#include "util/lazylib.h"

#define PB_HIDDEN __attribute__ ((visibility ("hidden")))

static struct lazylib pb_lib = { "libprotobuf-c", ITM_PROTOBUF_C_SONAME, "libprotobuf-c1", NULL };

PB_HIDDEN const char protobuf_c_empty_string[] = "";

#define PB_LAZY(ret, name, params, args)                                 \
  PB_HIDDEN ret                                                         \
  name params                                                           \
  {                                                                     \
    static void *fn;                                                    \
    return ((__typeof__ (&name)) lazylib_resolve (&pb_lib, #name, &fn)) args;            \
  }

PB_LAZY (size_t, protobuf_c_message_get_packed_size, (const ProtobufCMessage *m), (m))
PB_LAZY (size_t, protobuf_c_message_pack, (const ProtobufCMessage *m, uint8_t *out), (m, out))
PB_LAZY (size_t, protobuf_c_message_pack_to_buffer, (const ProtobufCMessage *m,
                                                     ProtobufCBuffer *b), (m, b))
PB_LAZY (ProtobufCMessage *, protobuf_c_message_unpack,
         (const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a, size_t len,
          const uint8_t *data), (d, a, len, data))

PB_HIDDEN void
protobuf_c_message_free_unpacked (ProtobufCMessage *m, ProtobufCAllocator *a)
{
  static void *fn;
  ((__typeof__ (&protobuf_c_message_free_unpacked))
     lazylib_resolve (&pb_lib, "protobuf_c_message_free_unpacked", &fn)) (m, a);
}

#endif
