/* lazylib.c - libcurl, libarchive and libcrypto, opened on first use.
 *
 * Why: linking the three libraries makes the dynamic loader map and
 * relocate ~45 shared libraries (their TLS, compression, LDAP, IDN, ...
 * dependencies) at every start, about 10 ms, while `config`, `--version`
 * and `help` use none of them (and `ps`, `env` and `port` make their GETs
 * on a unix socket without libcurl: engine/uds.c).  So the executable does not link them
 * (see --disable-lazy-libs in m4/itm-lazylibs.m4) and this file defines,
 * under the libraries' own names, every function itm-env calls from them.
 * Each definition finds the real function once, with dlopen() of the
 * soname configure read off a real link and dlsym(), and then jumps
 * through the cached pointer.
 *
 * How, and why this way:
 *
 * - The real headers are included, so the compiler checks every
 *   definition here against the library's prototype, and the call
 *   through the pointer uses __typeof__ of that same prototype.  Callers
 *   stay unchanged; a function missing from the lists below is a link
 *   error, never a silent eager dependency.
 *
 * - The definitions are hidden: the executable does not export them, so
 *   they can never interpose on the libraries' own internal calls (nor on
 *   a test program that also links a library for itself).  dlsym() on the
 *   handle searches that library and its dependencies only, never the
 *   executable, so it finds the real function, not the shim.
 *   `nm -D itm-env` shows no curl_, archive_ or EVP_ symbol.
 *
 * - RTLD_NOW | RTLD_LOCAL: a library that is there but broken fails at
 *   the dlopen(), with the loader's reason, not at some later call; and
 *   its symbols stay out of the global scope.  The handles are never
 *   closed.
 *
 * - Thread safety: the engine's thread pool (engine/parallel.c) may make
 *   the first call from any thread.  Pointers are cached with __atomic
 *   acquire/release; two threads that race both dlopen() (reference
 *   counted, returns the same handle) and dlsym() the same address, so
 *   the race is harmless and needs no lock.
 *
 * - Variadic curl_easy_setopt() and curl_easy_getinfo() cannot forward
 *   their "..." as such (C has no way to pass a va_list on), so the
 *   shims read the one argument and pass it on.  Rather than reading any
 *   argument as one register-sized word (sound only where long, pointers
 *   and curl_off_t share a size and a calling convention, as on LP64
 *   SysV and AAPCS64, and wrong for CURLOPTTYPE_OFF_T on 32-bit targets),
 *   they read it with the type class libcurl itself uses, which its
 *   option and info numbers encode: setopt takes a long, an object
 *   pointer, a function pointer or a curl_off_t depending on the
 *   CURLOPTTYPE_* range of the option, and getinfo a pointer to a
 *   string, long, double, curl_off_t, socket or pointer depending on
 *   CURLINFO_TYPEMASK.  libcurl's own setopt reads the value with va_arg
 *   of that same class, so a caller correct for libcurl is correct for
 *   the shim, on any ABI.
 *
 * - A library or function that cannot be loaded is reported once, naming
 *   the library, its soname and its Debian package, and itm-env exits
 *   with ITM_EXIT_FAILURE: the callers are written against functions that
 *   cannot fail to exist, and exiting cleanly beats crashing.
 */
#include <config.h>

#include "util/lazylib.h"

#ifdef ITM_LAZY_LIBS

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* the shims define these two; no type-checking macros over them here */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/err.h"

/* Sonames from configure (ITM_SONAME); packages as Debian ships them. */
static struct lazylib curl_lib = { "libcurl", ITM_CURL_SONAME, "libcurl4", NULL };
static struct lazylib archive_lib = { "libarchive", ITM_ARCHIVE_SONAME, "libarchive13", NULL };
static struct lazylib crypto_lib = { "libcrypto", ITM_CRYPTO_SONAME, "libssl3", NULL };

static _Noreturn void
lazylib_fail (const struct lazylib *lib, const char *sym, const char *why)
{
  static int failing;

  /* One report: a second thread failing at the same time waits for the
     first one's exit(). */
  if (__atomic_exchange_n (&failing, 1, __ATOMIC_ACQ_REL))
    for (;;)
      pause ();
  fflush (stdout);
  if (sym == NULL)
    {
      fprintf (stderr, "itm-env: cannot load %s (%s): %s\n", lib->name, lib->soname,
               why ? why : "dlopen failed");
      fprintf (stderr, "itm-env: hint: this command needs %s: install the Debian package %s"
               " (apt-get install %s)\n", lib->name, lib->package, lib->package);
    }
  else
    {
      fprintf (stderr, "itm-env: %s (%s) has no %s: %s\n", lib->name, lib->soname, sym,
               why ? why : "dlsym failed");
      fprintf (stderr, "itm-env: hint: itm-env was built against a newer %s: upgrade the"
               " Debian package %s\n", lib->name, lib->package);
    }
  exit (ITM_EXIT_FAILURE);
}

void *
lazylib_sym (struct lazylib *lib, const char *sym)
{
  void *h = __atomic_load_n (&lib->handle, __ATOMIC_ACQUIRE);
  void *p;

  if (h == NULL)
    {
      h = dlopen (lib->soname, RTLD_NOW | RTLD_LOCAL);
      if (h == NULL)
        lazylib_fail (lib, NULL, dlerror ());
      __atomic_store_n (&lib->handle, h, __ATOMIC_RELEASE);
    }
  dlerror ();
  p = dlsym (h, sym);
  if (p == NULL)
    lazylib_fail (lib, sym, dlerror ());
  return p;
}

void
lazylib_load_all (void)
{
  lazylib_sym (&curl_lib, "curl_version");
  lazylib_sym (&archive_lib, "archive_version_number");
  lazylib_sym (&crypto_lib, "EVP_sha256");
}

#define LAZY_HIDDEN __attribute__ ((visibility ("hidden")))

/* LAZY (LIB, RET, NAME, (PARAMS), (ARGS)): RET NAME (PARAMS), forwarding
   ARGS to NAME in LIB.  LAZY_VOID: the same for a function returning
   void. */
#define LAZY(lib, ret, name, params, args)                              \
  LAZY_HIDDEN ret                                                       \
  name params                                                           \
  {                                                                     \
    static void *fn;                                                    \
    return ((__typeof__ (&name)) lazylib_resolve (&lib, #name, &fn)) args;      \
  }
#define LAZY_VOID(lib, name, params, args)                              \
  LAZY_HIDDEN void                                                      \
  name params                                                           \
  {                                                                     \
    static void *fn;                                                    \
    ((__typeof__ (&name)) lazylib_resolve (&lib, #name, &fn)) args;             \
  }

/* ---- libcurl (engine/conn.c) ---- */

LAZY (curl_lib, CURLcode, curl_global_init, (long flags), (flags))
LAZY (curl_lib, CURL *, curl_easy_init, (void), ())
LAZY_VOID (curl_lib, curl_easy_cleanup, (CURL *h), (h))
LAZY_VOID (curl_lib, curl_easy_reset, (CURL *h), (h))
LAZY (curl_lib, const char *, curl_easy_strerror, (CURLcode c), (c))
LAZY (curl_lib, struct curl_slist *, curl_slist_append,
      (struct curl_slist *l, const char *s), (l, s))
LAZY_VOID (curl_lib, curl_slist_free_all, (struct curl_slist *l), (l))
LAZY (curl_lib, CURLM *, curl_multi_init, (void), ())
LAZY (curl_lib, CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h))
LAZY (curl_lib, CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h))
LAZY (curl_lib, CURLMcode, curl_multi_perform, (CURLM *m, int *running), (m, running))
LAZY (curl_lib, CURLMcode, curl_multi_poll,
      (CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds, int timeout_ms,
       int *numfds),
      (m, extra_fds, extra_nfds, timeout_ms, numfds))
LAZY (curl_lib, CURLMcode, curl_multi_cleanup, (CURLM *m), (m))
LAZY (curl_lib, CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left))
LAZY (curl_lib, const char *, curl_multi_strerror, (CURLMcode c), (c))
LAZY (curl_lib, CURLcode, curl_easy_perform, (CURL *h), (h))
LAZY (curl_lib, CURLcode, curl_easy_send, (CURL *h, const void *b, size_t n, size_t *sent),
      (h, b, n, sent))
LAZY (curl_lib, CURLcode, curl_easy_recv, (CURL *h, void *b, size_t n, size_t *got),
      (h, b, n, got))

typedef void (*lazy_fn) (void);

LAZY_HIDDEN CURLcode
curl_easy_setopt (CURL *h, CURLoption option, ...)
{
  static void *fn;
  __typeof__ (&curl_easy_setopt) real
    = (__typeof__ (&curl_easy_setopt)) lazylib_resolve (&curl_lib, "curl_easy_setopt", &fn);
  CURLcode rc;
  va_list ap;

  /* The value's type class, as libcurl reads it (see the top). */
  va_start (ap, option);
  if (option < CURLOPTTYPE_OBJECTPOINT)
    rc = real (h, option, va_arg (ap, long));
  else if (option < CURLOPTTYPE_FUNCTIONPOINT)
    rc = real (h, option, va_arg (ap, void *));
  else if (option < CURLOPTTYPE_OFF_T)
    rc = real (h, option, va_arg (ap, lazy_fn));
  else if (option < CURLOPTTYPE_OFF_T + 10000)
    rc = real (h, option, va_arg (ap, curl_off_t));
  else                          /* CURLOPTTYPE_BLOB: struct curl_blob * */
    rc = real (h, option, va_arg (ap, void *));
  va_end (ap);
  return rc;
}

LAZY_HIDDEN CURLcode
curl_easy_getinfo (CURL *h, CURLINFO info, ...)
{
  static void *fn;
  __typeof__ (&curl_easy_getinfo) real
    = (__typeof__ (&curl_easy_getinfo)) lazylib_resolve (&curl_lib, "curl_easy_getinfo", &fn);
  CURLcode rc;
  va_list ap;

  /* Always a pointer to where the answer goes; typed as libcurl does. */
  va_start (ap, info);
  switch (info & CURLINFO_TYPEMASK)
    {
    case CURLINFO_STRING:
      rc = real (h, info, va_arg (ap, char **));
      break;
    case CURLINFO_LONG:
      rc = real (h, info, va_arg (ap, long *));
      break;
    case CURLINFO_DOUBLE:
      rc = real (h, info, va_arg (ap, double *));
      break;
    case CURLINFO_SOCKET:
      rc = real (h, info, va_arg (ap, curl_socket_t *));
      break;
    case CURLINFO_OFF_T:
      rc = real (h, info, va_arg (ap, curl_off_t *));
      break;
    default:                    /* CURLINFO_SLIST, CURLINFO_PTR */
      rc = real (h, info, va_arg (ap, void *));
      break;
    }
  va_end (ap);
  return rc;
}

/* ---- libarchive (image/context.c, data/exec.c, prov/spec.c) ---- */

LAZY (archive_lib, struct archive *, archive_write_new, (void), ())
LAZY (archive_lib, int, archive_write_set_format_pax_restricted, (struct archive *a), (a))
LAZY (archive_lib, int, archive_write_set_bytes_per_block, (struct archive *a, int n), (a, n))
LAZY (archive_lib, int, archive_write_set_bytes_in_last_block, (struct archive *a, int n),
      (a, n))
LAZY (archive_lib, int, archive_write_open,
      (struct archive *a, void *data, archive_open_callback *open_cb,
       archive_write_callback *write_cb, archive_close_callback *close_cb),
      (a, data, open_cb, write_cb, close_cb))
LAZY (archive_lib, int, archive_write_open2,
      (struct archive *a, void *data, archive_open_callback *open_cb,
       archive_write_callback *write_cb, archive_close_callback *close_cb,
       archive_free_callback *free_cb),
      (a, data, open_cb, write_cb, close_cb, free_cb))
LAZY (archive_lib, int, archive_write_header, (struct archive *a, struct archive_entry *e),
      (a, e))
LAZY (archive_lib, la_ssize_t, archive_write_data, (struct archive *a, const void *buf, size_t n),
      (a, buf, n))
LAZY (archive_lib, int, archive_write_close, (struct archive *a), (a))
LAZY (archive_lib, int, archive_write_free, (struct archive *a), (a))
LAZY (archive_lib, const char *, archive_error_string, (struct archive *a), (a))
LAZY (archive_lib, struct archive_entry *, archive_entry_new, (void), ())
LAZY_VOID (archive_lib, archive_entry_free, (struct archive_entry *e), (e))
LAZY_VOID (archive_lib, archive_entry_copy_stat, (struct archive_entry *e, const struct stat *st),
           (e, st))
LAZY_VOID (archive_lib, archive_entry_set_pathname, (struct archive_entry *e, const char *s),
           (e, s))
LAZY_VOID (archive_lib, archive_entry_set_symlink, (struct archive_entry *e, const char *s),
           (e, s))
LAZY_VOID (archive_lib, archive_entry_set_uname, (struct archive_entry *e, const char *s),
           (e, s))
LAZY_VOID (archive_lib, archive_entry_set_gname, (struct archive_entry *e, const char *s),
           (e, s))
LAZY_VOID (archive_lib, archive_entry_set_uid, (struct archive_entry *e, la_int64_t v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_gid, (struct archive_entry *e, la_int64_t v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_ino, (struct archive_entry *e, la_int64_t v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_size, (struct archive_entry *e, la_int64_t v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_dev, (struct archive_entry *e, dev_t v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_nlink, (struct archive_entry *e, unsigned int v),
           (e, v))
LAZY_VOID (archive_lib, archive_entry_set_filetype, (struct archive_entry *e, unsigned int v),
           (e, v))
LAZY_VOID (archive_lib, archive_entry_set_mode, (struct archive_entry *e, __LA_MODE_T v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T v), (e, v))
LAZY_VOID (archive_lib, archive_entry_set_mtime, (struct archive_entry *e, time_t t, long ns),
           (e, t, ns))
/* reading a container's archive and extracting it (cmd-cp.c) */
LAZY (archive_lib, struct archive *, archive_read_new, (void), ())
LAZY (archive_lib, int, archive_read_support_format_tar, (struct archive *a), (a))
LAZY (archive_lib, int, archive_read_open_fd, (struct archive *a, int fd, size_t block),
      (a, fd, block))
LAZY (archive_lib, int, archive_read_next_header,
      (struct archive *a, struct archive_entry **e), (a, e))
LAZY (archive_lib, int, archive_read_data_block,
      (struct archive *a, const void **buf, size_t *size, la_int64_t *offset),
      (a, buf, size, offset))
LAZY (archive_lib, int, archive_read_free, (struct archive *a), (a))
LAZY (archive_lib, const char *, archive_entry_pathname, (struct archive_entry *e), (e))
LAZY (archive_lib, const char *, archive_entry_hardlink, (struct archive_entry *e), (e))
LAZY_VOID (archive_lib, archive_entry_set_hardlink, (struct archive_entry *e, const char *s),
           (e, s))
LAZY (archive_lib, struct archive *, archive_write_disk_new, (void), ())
LAZY (archive_lib, int, archive_write_disk_set_options, (struct archive *a, int flags), (a, flags))
LAZY (archive_lib, la_ssize_t, archive_write_data_block,
      (struct archive *a, const void *buf, size_t size, la_int64_t offset),
      (a, buf, size, offset))
LAZY (archive_lib, int, archive_write_finish_entry, (struct archive *a), (a))

/* ---- libcrypto (image/context.c, image/auth.c, stack/hash.c) ---- */

LAZY (crypto_lib, const EVP_MD *, EVP_sha256, (void), ())
LAZY (crypto_lib, int, EVP_Digest,
      (const void *data, size_t count, unsigned char *md, unsigned int *size,
       const EVP_MD *type, ENGINE *impl),
      (data, count, md, size, type, impl))
LAZY (crypto_lib, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZY_VOID (crypto_lib, EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx))
LAZY (crypto_lib, int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl),
      (ctx, type, impl))
LAZY (crypto_lib, int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t n), (ctx, d, n))
LAZY (crypto_lib, int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s),
      (ctx, md, s))
LAZY (crypto_lib, int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n),
      (t, f, n))
LAZY (crypto_lib, int, EVP_DecodeBlock, (unsigned char *t, const unsigned char *f, int n),
      (t, f, n))
/* generated secrets (data/secrets.c): only when a new one is made */
LAZY (crypto_lib, int, RAND_bytes, (unsigned char *buf, int num), (buf, num))

#else /* !ITM_LAZY_LIBS */

void
lazylib_load_all (void)
{
  /* linked normally: loaded at start */
}

#endif /* ITM_LAZY_LIBS */
