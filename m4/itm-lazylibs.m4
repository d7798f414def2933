# itm-lazylibs.m4 - --disable-lazy-libs, and the sonames that
# src/util/lazylib.c opens with dlopen() when the libraries load lazily.

# ITM_SONAME(VAR, LIBS, PREFIX, SYMBOL, FALLBACK)
# ------------------------------------------------
# Link a program that calls SYMBOL with LIBS and take the DT_NEEDED entry
# that is PREFIX followed by . or -: the soname the linker itself records for that
# library, whatever -L, symlink or linker script led to it, so dlopen()
# at run time opens the same library a normal link would.  Without
# objdump, or when nothing matches (a static library), use FALLBACK and
# warn.  AC_DEFINE_UNQUOTED VAR to the soname.
AC_DEFUN([ITM_SONAME],
[AC_REQUIRE([AC_PROG_AWK])dnl
AC_CACHE_CHECK([for the soname of $3], [itm_cv_soname_$1],
  [itm_cv_soname_$1=
   AS_IF([test "x$OBJDUMP" != xno],
     [itm_save_LIBS=$LIBS
      LIBS="$2 $LIBS"
      AC_LINK_IFELSE([AC_LANG_CALL([], [$4])],
        [itm_cv_soname_$1=`$OBJDUMP -p conftest$EXEEXT 2>/dev/null \
           | $AWK '$[]1 == "NEEDED" && $[]2 ~ /^$3[[.-]]/ { print $[]2; exit }'`])
      LIBS=$itm_save_LIBS])
   AS_IF([test -z "$itm_cv_soname_$1"],
     [AC_MSG_WARN([cannot tell the soname of $3 (objdump missing, or a static library?): using $5; configure --disable-lazy-libs to link it normally])
      itm_cv_soname_$1=$5])])
AC_DEFINE_UNQUOTED([$1], ["$itm_cv_soname_$1"],
  [soname of $3, opened with dlopen() on first use])
])

# ITM_ENABLE_LAZY_LIBS
# --------------------
# --enable-lazy-libs (the default): libcurl, libarchive and libcrypto are
# not linked; the shims in src/util/lazylib.c dlopen() them on first use,
# so commands that need none of them (config, --version, help) start
# without loading their ~45 shared libraries.  Needs the CURL_LIBS,
# ARCHIVE_LIBS and OPENSSL_LIBS from PKG_CHECK_MODULES.  Sets DL_LIBS,
# ITM_LAZY_LIBS (config.h) and the LAZY_LIBS conditional.
AC_DEFUN([ITM_ENABLE_LAZY_LIBS],
[AC_ARG_ENABLE([lazy-libs],
  [AS_HELP_STRING([--disable-lazy-libs],
    [link libcurl, libarchive and libcrypto at start-up instead of loading
     them with dlopen() on first use (for static or unusual builds)])],
  [], [enable_lazy_libs=yes])
DL_LIBS=
AS_IF([test "x$enable_lazy_libs" != xno],
  [itm_save_LIBS=$LIBS
   AC_SEARCH_LIBS([dlopen], [dl], [],
     [AC_MSG_ERROR([dlopen not found (Debian package: libc6-dev); or configure --disable-lazy-libs])])
   AS_IF([test "x$ac_cv_search_dlopen" != "xnone required"],
     [DL_LIBS=$ac_cv_search_dlopen])
   LIBS=$itm_save_LIBS
   AC_CHECK_TOOL([OBJDUMP], [objdump], [no])
   ITM_SONAME([ITM_CURL_SONAME], [$CURL_LIBS], [libcurl], [curl_easy_init], [libcurl.so.4])
   ITM_SONAME([ITM_ARCHIVE_SONAME], [$ARCHIVE_LIBS], [libarchive], [archive_write_new],
              [libarchive.so.13])
   ITM_SONAME([ITM_CRYPTO_SONAME], [$OPENSSL_LIBS], [libcrypto], [EVP_Digest],
              [libcrypto.so.3])
   AC_DEFINE([ITM_LAZY_LIBS], [1],
     [Define to 1 to load libcurl, libarchive and libcrypto with dlopen() on first use.])])
AC_SUBST([DL_LIBS])
AM_CONDITIONAL([LAZY_LIBS], [test "x$enable_lazy_libs" != xno])
])
