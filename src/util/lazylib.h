/* lazylib.h - libcurl, libarchive and libcrypto, loaded on first use.
 *
 * Unless configured with --disable-lazy-libs, itm-env does not link these
 * three libraries: lazylib.c defines each function the program calls from
 * them under its own name and prototype, and the first call opens the
 * library with dlopen().  Modules keep including <curl/curl.h>,
 * <archive.h> and <openssl/evp.h> and calling the functions as usual; a
 * function not yet in lazylib.c's lists fails to link, so a new call
 * cannot silently bring the eager link back.
 *
 * When a library or one of its functions cannot be loaded, itm-env says
 * which (name, soname, Debian package) and exits with ITM_EXIT_FAILURE:
 * there is no error to return from inside a foreign function.
 */
#ifndef ITM_LAZYLIB_H
#define ITM_LAZYLIB_H

#include <stddef.h>

/* One library.  The handle is filled in on first use (atomically: the
 * engine's thread pool may get there first). */
struct lazylib
{
  const char *name;     /* what the user knows it as: "libcurl" */
  const char *soname;   /* what dlopen() opens: "libcurl.so.4" */
  const char *package;  /* the Debian package that ships it: "libcurl4" */
  void *handle;         /* dlopen()'s, NULL until opened */
};

/* The address of SYM in LIB, opening LIB first if need be.  Never returns
 * NULL: prints the reason and exits with ITM_EXIT_FAILURE instead.
 * Thread-safe.  Exposed for the tests, which give it a library that does
 * not exist. */
void *lazylib_sym (struct lazylib *lib, const char *sym);

/* lazylib_sym through a per-symbol cache: one atomic load once resolved
 * (what each lazily bound function's stub calls). */
static inline void *
lazylib_resolve (struct lazylib *lib, const char *sym, void **cache)
{
  void *p = __atomic_load_n (cache, __ATOMIC_ACQUIRE);
  if (__builtin_expect (p == NULL, 0))
    {
      p = lazylib_sym (lib, sym);
      __atomic_store_n (cache, p, __ATOMIC_RELEASE);
    }
  return p;
}

/* Load all three libraries now (with --disable-lazy-libs: nothing to do),
 * so that what the process has mapped is all it will ever need: the self
 * image (image/self.c) copies the loaded libraries.  Exits as lazylib_sym
 * does when one is missing. */
void lazylib_load_all (void);

#endif
