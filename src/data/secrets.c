/* secrets.c - generated secrets (top-level x-itm.secrets): random per
 * namespace (OpenSSL RAND_bytes, alphanumeric), kept in the namespace's
 * private state directory (ns_state_dir()/secrets, mode 0600, one
 * NAME=value line each) so every later command on the namespace sees the
 * same values, handed to the stack loader as ITM_SECRET_<NAME> (the
 * process environment is not changed), and masked in what itm-env
 * prints. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "data/priv.h"
#include "ns/ns.h"
#include "report/report.h"
#include "stack/stack.h"
#include "util/file.h"
#include "util/strv.h"

#define SECRET_DEFAULT_LEN 24
#define SECRET_MAX_LEN 256
#define MASK "********"
#define SECRETS_FILE_MAX (1024 * 1024)

static pthread_mutex_t mask_mu = PTHREAD_MUTEX_INITIALIZER;
static char **masks;
static size_t nmasks, capmasks;

void
data_mask_add (const char *value)
{
  if (value == NULL || strlen (value) < 4)
    return;
  pthread_mutex_lock (&mask_mu);
  for (size_t i = 0; i < nmasks; i++)
    if (strcmp (masks[i], value) == 0)
      {
        pthread_mutex_unlock (&mask_mu);
        return;
      }
  masks = xgrow (masks, &capmasks, nmasks + 1, sizeof *masks);
  masks[nmasks++] = xstrdup (value);
  pthread_mutex_unlock (&mask_mu);
}

char *
data_mask (const char *s)
{
  struct buf b = { 0 };
  buf_adds (&b, s ? s : "");
  data_mask_buf (&b);
  return buf_steal (&b);
}

void
data_mask_buf (struct buf *b)
{
  pthread_mutex_lock (&mask_mu);
  for (size_t i = 0; i < nmasks && b->data; i++)
    {
      size_t ml = strlen (masks[i]);
      char *p;
      struct buf o = { 0 };
      const char *s = b->data;
      bool hit = false;
      while ((p = strstr (s, masks[i])) != NULL)
        {
          buf_add (&o, s, (size_t) (p - s));
          buf_adds (&o, MASK);
          s = p + ml;
          hit = true;
        }
      if (!hit)
        {
          buf_free (&o);
          continue;
        }
      buf_adds (&o, s);
      buf_free (b);
      *b = o;
    }
  pthread_mutex_unlock (&mask_mu);
}

/* ---- masking a stream ---- */
/* The length of the longest registered value matching at p (avail bytes),
 * 0 when none does; *partial: avail is shorter than some value and p is
 * its beginning (the rest may come with the next feed).  Under mask_mu. */
static size_t
match_at (const char *p, size_t avail, bool *partial)
{
  size_t best = 0;
  *partial = false;
  for (size_t i = 0; i < nmasks; i++)
    {
      size_t ml = strlen (masks[i]);
      if (ml <= avail)
        {
          if (ml > best && memcmp (p, masks[i], ml) == 0)
            best = ml;
        }
      else if (memcmp (p, masks[i], avail) == 0)
        *partial = true;
    }
  return best;
}

static void
mask_stream (struct data_masker *m, bool flush, struct buf *out)
{
  const char *d = m->held.data;
  size_t len = m->held.len, i = 0, from = 0;
  pthread_mutex_lock (&mask_mu);
  while (i < len)
    {
      bool partial;
      size_t ml = match_at (d + i, len - i, &partial);
      if (ml)
        {
          buf_add (out, d + from, i - from);
          buf_adds (out, MASK);
          i += ml;
          from = i;
        }
      else if (partial && !flush)
        break;
      else
        i++;
    }
  pthread_mutex_unlock (&mask_mu);
  buf_add (out, d + from, i - from);
  buf_consume (&m->held, i);
}

void
data_mask_feed (struct data_masker *m, const char *data, size_t len, struct buf *out)
{
  buf_add (&m->held, data, len);
  mask_stream (m, false, out);
}

void
data_mask_flush (struct data_masker *m, struct buf *out)
{
  mask_stream (m, true, out);
  buf_free (&m->held);
}

/* ---- a namespace's secrets, read back ---- */
int
data_secrets_load (const char *ns, struct itm_err *err)
{
  cleanup_err struct itm_err quiet = { 0 };
  cleanup_free char *dir = ns_state_dir (ns, false, &quiet);
  if (dir == NULL)
    return 0;
  cleanup_free char *path = xasprintf ("%s/secrets", dir);
  struct stat sb;
  if (lstat (path, &sb) < 0 && errno == ENOENT)
    return 0;
  size_t len = 0;
  cleanup_free char *text = file_read (path, SECRETS_FILE_MAX, &len, ITM_EXIT_FAILURE, err);
  if (text == NULL)
    return -1;
  int n = 0;
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *eq = strchr (line, '=');
      if (eq && eq[1])
        {
          data_mask_add (eq + 1);
          n++;
        }
    }
  if (n > 0)
    report_set_mask (data_mask);
  return n;
}

static int
secret_len (json_object *spec, const char *name, size_t *len, struct itm_err *err)
{
  *len = SECRET_DEFAULT_LEN;
  if (spec == NULL || json_object_is_type (spec, json_type_null))
    return 0;
  if (!json_object_is_type (spec, json_type_object))
    return itm_err_set (err, ITM_EXIT_STACK, "x-itm.secrets.%s: expected a map ({length: N})",
                        name);
  json_object_object_foreach (spec, k, v)
    {
      if (strcmp (k, "length") != 0)
        return itm_err_set (err, ITM_EXIT_STACK, "x-itm.secrets.%s: unknown key '%s' (length)",
                            name, k);
      errno = 0;
      char *end;
      const char *s = json_object_get_string (v);
      long l = strtol (s, &end, 10);
      if (*s == '\0' || *end || l < 8 || l > SECRET_MAX_LEN)
        return itm_err_set (err, ITM_EXIT_STACK,
                            "x-itm.secrets.%s.length: '%s' is not a number from 8 to %d", name,
                            s, SECRET_MAX_LEN);
      *len = (size_t) l;
    }
  return 0;
}

static bool
secret_name_ok (const char *s)
{
  if (!*s || strlen (s) > 64 || isdigit ((unsigned char) *s))
    return false;
  for (; *s; s++)
    if (!(isalnum ((unsigned char) *s) || *s == '_'))
      return false;
  return true;
}

static int
generate (size_t len, char *out, struct itm_err *err)
{
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t i = 0;
  while (i < len)
    {
      unsigned char r[64];
      if (RAND_bytes (r, sizeof r) != 1)
        return itm_err_set (err, ITM_EXIT_FAILURE, "OpenSSL RAND_bytes failed");
      for (size_t k = 0; k < sizeof r && i < len; k++)
        if (r[k] < 248)   /* 248 = 4 * 62: no modulo bias */
          out[i++] = alnum[r[k] % 62];
    }
  out[len] = '\0';
  return 0;
}

static char *
file_lookup (const char *data, const char *name)
{
  size_t nl = strlen (name);
  for (const char *p = data; p && *p;)
    {
      const char *eol = strchr (p, '\n');
      size_t ll = eol ? (size_t) (eol - p) : strlen (p);
      if (ll > nl && strncmp (p, name, nl) == 0 && p[nl] == '=')
        return xstrndup (p + nl + 1, ll - nl - 1);
      p = eol ? eol + 1 : NULL;
    }
  return NULL;
}

/* The top-level x-itm.secrets map, or NULL when there is none. */
static json_object *
secrets_of (const struct stack *st)
{
  json_object *secrets = NULL;
  if (st->x_itm == NULL || !json_object_object_get_ex (st->x_itm, "secrets", &secrets))
    return NULL;
  return secrets;
}

int
data_secrets_validate (const struct stack *st, struct itm_err *err)
{
  json_object *secrets = secrets_of (st);
  if (secrets == NULL)
    return 0;
  if (!json_object_is_type (secrets, json_type_object))
    return itm_err_set (err, ITM_EXIT_STACK, "x-itm.secrets: expected a map of NAME: {length: N}");
  json_object_object_foreach (secrets, name, spec)
    {
      size_t len;
      if (!secret_name_ok (name))
        return itm_err_set (err, ITM_EXIT_STACK,
                            "x-itm.secrets: '%s' is not a valid name ([A-Za-z_][A-Za-z0-9_]*)",
                            name);
      if (secret_len (spec, name, &len, err) < 0)
        return -1;
    }
  return 0;
}

/* cur (the file's NAME=value lines) without name's line */
static void
drop_line (struct buf *cur, const char *name)
{
  cleanup_free char *old = file_lookup (cur->data, name);
  if (old == NULL)
    return;
  cleanup_free char *needle = xasprintf ("%s=%s\n", name, old);
  char *p = strstr (cur->data, needle);
  if (p)
    memmove (p, p + strlen (needle), strlen (p + strlen (needle)) + 1);
  cur->len = strlen (cur->data);
}

/* Whether data_secrets_prepare keeps what it makes (data.h). */
static bool persist = true;

void
data_secrets_persist (bool on)
{
  persist = on;
}

/* fd's contents (a regular file: ns_state_file checked), at most
 * SECRETS_FILE_MAX bytes. */
static char *
read_bounded (int fd, const char *path, size_t *len, struct itm_err *err)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  char chunk[4096];
  for (;;)
    {
      ssize_t r = read (fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          buf_free (&b);
          itm_err_errno (err, ITM_EXIT_FAILURE, "cannot read %s", path);
          return NULL;
        }
      if (r == 0)
        break;
      if (b.len + (size_t) r > SECRETS_FILE_MAX)
        {
          buf_free (&b);
          itm_err_set (err, ITM_EXIT_FAILURE, "%s: larger than %d bytes", path,
                       (int) SECRETS_FILE_MAX);
          return NULL;
        }
      buf_add (&b, chunk, (size_t) r);
    }
  *len = b.len;
  return buf_steal (&b);
}

int
data_secrets_prepare (const struct stack *st, const char *ns, char ***vars, struct itm_err *err)
{
  *vars = NULL;
  if (data_secrets_validate (st, err) < 0)
    return -1;
  json_object *secrets = secrets_of (st);
  if (secrets == NULL || json_object_object_length (secrets) == 0)
    return 0;
  /* never through a planted link, never created for config (persist
   * false): what is there is used, what is missing is made in memory */
  cleanup_free char *dir = ns_state_dir (ns, persist, err);
  if (dir == NULL)
    return -1;
  cleanup_free char *path = xasprintf ("%s/secrets", dir);
  cleanup_close int fd = ns_state_file (ns, "secrets", persist ? O_RDWR | O_CREAT : O_RDONLY,
                                        0600, err);
  if (fd == -1)
    return -1;
  if (fd >= 0 && ((persist && fchmod (fd, 0600) < 0)
                  || flock (fd, persist ? LOCK_EX : LOCK_SH) < 0))
    return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot lock %s", path);
  size_t len0 = 0;
  char *text = fd >= 0 ? read_bounded (fd, path, &len0, err) : xstrdup ("");
  if (text == NULL)
    return -1;
  cleanup_buf struct buf cur = { .data = text, .len = len0, .cap = len0 + 1 };
  bool changed = false;
  size_t n = 0;
  cleanup_strv char **out = NULL;
  json_object_object_foreach (secrets, name, spec)
    {
      size_t len;
      secret_len (spec, name, &len, err);   /* validated above */
      cleanup_free char *val = file_lookup (cur.data, name);
      if (val == NULL || strlen (val) != len)
        {
          free (val);
          val = xmalloc (len + 1);
          if (generate (len, val, err) < 0)
            return -1;
          /* a changed length replaces the old line */
          drop_line (&cur, name);
          buf_addf (&cur, "%s=%s\n", name, val);
          changed = true;
        }
      strv_push_take (&out, &n, xasprintf ("ITM_SECRET_%s=%s", name, val));
      data_mask_add (val);
    }
  if (changed && persist
      && (ftruncate (fd, 0) < 0 || pwrite (fd, cur.data, cur.len, 0) != (ssize_t) cur.len
          || fsync (fd) < 0))
    return itm_err_errno (err, ITM_EXIT_FAILURE, "cannot write %s", path);
  report_set_mask (data_mask);
  *vars = steal_pointer (&out);
  return (int) n;
}
