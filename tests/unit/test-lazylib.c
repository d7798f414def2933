/* test-lazylib.c - the lazily loaded libraries (util/lazylib.c): nothing is
 * opened before the first call; the shims reach the real functions, with
 * curl_easy_setopt()'s and curl_easy_getinfo()'s variadic value intact in
 * each type class; the shims are not exported and the libraries stay out
 * of the global scope; threads racing on the first call agree; a missing
 * library or function gives one clear message and exit status 1.
 * This program links only libitm.a, like itm-env. */
#include <config.h>

#include "tap.h"

#ifdef ITM_LAZY_LIBS

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/lazylib.h"

static bool
is_loaded (const char *soname)
{
  void *h = dlopen (soname, RTLD_LAZY | RTLD_NOLOAD);
  if (h)
    dlclose (h);
  return h != NULL;
}

/* Run lazylib_sym (LIB, SYM) in a child; its exit status and stderr. */
static int
sym_in_child (struct lazylib *lib, const char *sym, char *errbuf, size_t errlen)
{
  int fds[2], status = -1;
  size_t got = 0;
  ssize_t n;

  if (pipe (fds) < 0)
    return -1;
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      dup2 (fds[1], 2);
      close (fds[0]);
      close (fds[1]);
      lazylib_sym (lib, sym);
      _exit (99);               /* lazylib_sym returned: wrong */
    }
  close (fds[1]);
  while (got + 1 < errlen && (n = read (fds[0], errbuf + got, errlen - 1 - got)) > 0)
    got += (size_t) n;
  errbuf[got] = '\0';
  close (fds[0]);
  if (waitpid (pid, &status, 0) < 0)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static size_t
no_write (char *p, size_t size, size_t n, void *data)
{
  return size * n;
}

static struct lazylib race_lib = { "libarchive", ITM_ARCHIVE_SONAME, "libarchive13", NULL };

static void *
race (void *arg)
{
  return lazylib_sym (&race_lib, "archive_version_number");
}

int
main (void)
{
  char errbuf[1024];

  /* nothing before the first call */
  tap_ok (!is_loaded (ITM_CURL_SONAME), "%s is not loaded at start", ITM_CURL_SONAME);
  tap_ok (!is_loaded (ITM_ARCHIVE_SONAME), "%s is not loaded at start", ITM_ARCHIVE_SONAME);
  tap_ok (!is_loaded (ITM_CRYPTO_SONAME), "%s is not loaded at start", ITM_CRYPTO_SONAME);

  /* libcrypto: sha256 and base64 through the shims */
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
  tap_is_int (EVP_Digest ("abc", 3, md, &mdlen, EVP_sha256 (), NULL), 1, "EVP_Digest succeeds");
  for (unsigned i = 0; i < mdlen && i < EVP_MAX_MD_SIZE; i++)
    sprintf (hex + 2 * i, "%02x", md[i]);
  tap_is_str (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "sha256 (\"abc\") is right");
  tap_ok (is_loaded (ITM_CRYPTO_SONAME), "%s is loaded after the first call", ITM_CRYPTO_SONAME);
  tap_ok (!is_loaded (ITM_CURL_SONAME), "%s still is not", ITM_CURL_SONAME);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  EVP_DigestUpdate (ctx, "a", 1);
  EVP_DigestUpdate (ctx, "bc", 2);
  unsigned char md2[EVP_MAX_MD_SIZE];
  unsigned int md2len = 0;
  EVP_DigestFinal_ex (ctx, md2, &md2len);
  EVP_MD_CTX_free (ctx);
  tap_ok (md2len == mdlen && memcmp (md, md2, mdlen) == 0, "the streaming digest agrees");
  unsigned char b64[16] = "";
  EVP_EncodeBlock (b64, (const unsigned char *) "hello", 5);
  tap_is_str ((char *) b64, "aGVsbG8=", "EVP_EncodeBlock");

  /* libarchive */
  struct archive_entry *ent = archive_entry_new ();
  tap_ok (ent != NULL, "archive_entry_new");
  archive_entry_set_size (ent, (la_int64_t) 1 << 40);
  archive_entry_free (ent);
  tap_ok (is_loaded (ITM_ARCHIVE_SONAME), "%s is loaded after the first call", ITM_ARCHIVE_SONAME);

  /* libcurl, the variadic pair: each type class in and out */
  tap_is_str (curl_easy_strerror (CURLE_OK), "No error", "curl_easy_strerror");
  CURL *h = curl_easy_init ();
  tap_ok (h != NULL, "curl_easy_init");
  tap_is_int (curl_easy_setopt (h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1), CURLE_OK,
              "setopt long: a valid value is taken");
  tap_is_int (curl_easy_setopt (h, CURLOPT_HTTP_VERSION, -1L), CURLE_BAD_FUNCTION_ARGUMENT,
              "setopt long: -1 arrives as -1");
  tap_is_int (curl_easy_setopt (h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) 1 << 40), CURLE_OK,
              "setopt curl_off_t: a valid value is taken");
  tap_is_int (curl_easy_setopt (h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) -1),
              CURLE_BAD_FUNCTION_ARGUMENT, "setopt curl_off_t: -1 arrives as -1");
  tap_is_int (curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, no_write), CURLE_OK,
              "setopt function pointer");
  static char marker[] = "itm-private";
  tap_is_int (curl_easy_setopt (h, CURLOPT_PRIVATE, marker), CURLE_OK, "setopt object pointer");
  tap_is_int (curl_easy_setopt (h, CURLOPT_URL, "http://localhost/"), CURLE_OK,
              "setopt string");
  char *priv = NULL;
  tap_is_int (curl_easy_getinfo (h, CURLINFO_PRIVATE, &priv), CURLE_OK, "getinfo string class");
  tap_ok (priv == marker, "getinfo gives back the pointer setopt took");
  long code = -1;
  tap_is_int (curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK, "getinfo long");
  tap_is_int (code, 0, "no response yet: code 0");
  curl_off_t up = -1;
  tap_is_int (curl_easy_getinfo (h, CURLINFO_SIZE_UPLOAD_T, &up), CURLE_OK, "getinfo curl_off_t");
  tap_is_int (up, 0, "nothing uploaded yet");
  double t = -1;
  tap_is_int (curl_easy_getinfo (h, CURLINFO_TOTAL_TIME, &t), CURLE_OK, "getinfo double");
  tap_ok (t == 0.0, "no transfer yet: time 0");
  curl_easy_cleanup (h);

  /* not exported, not global */
  tap_ok (dlsym (RTLD_DEFAULT, "curl_easy_init") == NULL,
          "curl_easy_init is in no global scope (shim hidden, libcurl RTLD_LOCAL)");
  tap_ok (dlsym (RTLD_DEFAULT, "archive_write_new") == NULL, "archive_write_new neither");
  tap_ok (dlsym (RTLD_DEFAULT, "EVP_Digest") == NULL, "EVP_Digest neither");

  /* racing first calls agree */
  pthread_t th[8];
  void *got[8];
  for (int i = 0; i < 8; i++)
    pthread_create (&th[i], NULL, race, NULL);
  bool same = true;
  for (int i = 0; i < 8; i++)
    {
      pthread_join (th[i], &got[i]);
      same = same && got[i] != NULL && got[i] == got[0];
    }
  tap_ok (same, "8 threads racing on a first lazylib_sym () get the same address");

  /* failures: one message, exit status 1 */
  struct lazylib missing = { "libnothere", "libitm-test-nothere.so.7", "libnothere7", NULL };
  int rc = sym_in_child (&missing, "nothere_init", errbuf, sizeof errbuf);
  tap_is_int (rc, ITM_EXIT_FAILURE, "a missing library: exit status 1");
  tap_ok (strstr (errbuf, "itm-env: cannot load libnothere (libitm-test-nothere.so.7): ") != NULL,
          "it names the library and its soname");
  tap_ok (strstr (errbuf, "install the Debian package libnothere7") != NULL,
          "and the Debian package");
  tap_diag ("%s", errbuf);

  struct lazylib curl = { "libcurl", ITM_CURL_SONAME, "libcurl4", NULL };
  rc = sym_in_child (&curl, "curl_itm_no_such_function", errbuf, sizeof errbuf);
  tap_is_int (rc, ITM_EXIT_FAILURE, "a missing function: exit status 1");
  tap_ok (strstr (errbuf, "libcurl (" ITM_CURL_SONAME ") has no curl_itm_no_such_function")
          != NULL, "it names the library, soname and function");
  tap_ok (strstr (errbuf, "Debian package libcurl4") != NULL, "and the Debian package");
  tap_diag ("%s", errbuf);

  return tap_done ();
}

#else

int
main (void)
{
  printf ("1..0 # SKIP configured with --disable-lazy-libs\n");
  return 0;
}

#endif
