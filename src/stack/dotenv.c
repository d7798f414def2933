/* dotenv.c - .env files as Compose reads them (see files.h).
 *
 *   # comment                      blank lines are skipped
 *   KEY=value                      unquoted: trimmed, " #..." dropped, interpolated
 *   export KEY=value               "export " is ignored
 *   KEY: value                     YAML-like separator (compose-go accepts it)
 *   KEY='literal $X \n'            single quotes: nothing is expanded; may span lines
 *   KEY="a\tb ${X:-d}"             double quotes: \n \r \t \\ \" \$ \' escapes and
 *                                  interpolation; may span lines
 *   KEY                            alone: takes the process environment's value, if any
 *
 * Names are [A-Za-z0-9_.-]+ (compose-go's); anything after a closing
 * quote other than blanks and a comment is an error.  Interpolation reads
 * the process environment, then the variables defined before (looked up
 * in both sets in place: loading is linear in the file's size).
 */
#include <config.h>
#include "stack/files.h"

#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/xalloc.h"

#define DOTENV_MAX_BYTES (16u << 20)

static bool
is_key_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '.' || c == '-';
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

int
stack_dotenv_parse (struct stack_env *out, const char *file, const char *data, size_t len,
                    const struct stack_env *lookup, struct diags *d)
{
  size_t budget = STACK_INTERP_MAX_TOTAL;
  return stack_dotenv_parse_in (out, file, data, len, lookup, &budget, d);
}

int
stack_dotenv_parse_in (struct stack_env *out, const char *file, const char *data, size_t len,
                       const struct stack_env *lookup, size_t *budget, struct diags *d)
{
  int ret = 0;
  size_t i = 0, line = 1;
  /* a BOM */
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  if (memchr (data, '\0', len))
    {
      diag_addp (d, DIAG_ERROR, file, 0, 0, "not a text file: a NUL byte at offset %zu",
                 (size_t) ((const char *) memchr (data, '\0', len) - data));
      return -1;
    }
  while (i < len)
    {
      size_t lineno = line;
      size_t line_start = i;
#define COL(at) ((int) ((at) - line_start) + 1)
      /* leading blanks */
      while (i < len && is_blank (data[i]))
        i++;
      if (i >= len)
        break;
      if (data[i] == '\n')
        {
          i++, line++;
          continue;
        }
      if (data[i] == '#')
        {
          while (i < len && data[i] != '\n')
            i++;
          continue;
        }
      if (len - i > 7 && memcmp (data + i, "export", 6) == 0 && is_blank (data[i + 6]))
        {
          i += 6;
          while (i < len && is_blank (data[i]))
            i++;
        }
      size_t k0 = i;
      while (i < len && is_key_char (data[i]))
        i++;
      cleanup_free char *key = xstrndup (data + k0, i - k0);
      while (i < len && is_blank (data[i]))
        i++;
      if (k0 == i || *key == '\0' || (i < len && data[i] != '=' && data[i] != ':' && data[i] != '\n'
                                      && data[i] != '#'))
        {
          char c = i < len ? data[i] : ' ';
          if (*key == '\0')
            diag_addp (d, DIAG_ERROR, file, (int) lineno, COL (i),
                       "expected a variable name, found '%c'", c);
          else
            diag_addp (d, DIAG_ERROR, file, (int) lineno, COL (i),
                       "unexpected character '%c' after the variable name \"%s\" (expected '=')",
                       c, key);
          ret = -1;
          while (i < len && data[i] != '\n')
            i++;
          continue;
        }
      if (i >= len || data[i] == '\n' || data[i] == '#')
        {
          /* KEY alone: inherited from the environment */
          while (i < len && data[i] != '\n')
            i++;
          const char *v = stack_env_get (lookup, key);
          if (v)
            stack_env_set (out, key, v);
          continue;
        }
      i++; /* = or : */
      while (i < len && is_blank (data[i]) && data[i] != '\r')
        i++;
      cleanup_buf struct buf val = { 0 };
      buf_adds (&val, "");
      char q = i < len ? data[i] : 0;
      bool expand = true;
      if (q == '\'' || q == '"')
        {
          size_t j = i + 1;
          bool closed = false;
          for (; j < len; j++)
            {
              char c = data[j];
              if (c == '\n')
                line++;
              if (c == q)
                {
                  closed = true;
                  break;
                }
              if (q == '"' && c == '\\' && j + 1 < len)
                {
                  char e = data[++j];
                  switch (e)
                    {
                    case 'n': buf_addc (&val, '\n'); break;
                    case 'r': buf_addc (&val, '\r'); break;
                    case 't': buf_addc (&val, '\t'); break;
                    case '\\': buf_addc (&val, '\\'); break;
                    case '"': buf_addc (&val, '"'); break;
                    case '\'': buf_addc (&val, '\''); break;
                    case '$': buf_adds (&val, "$$"); break; /* literal $ after interpolation */
                    case '\n':
                      line++;
                      buf_addc (&val, '\\');
                      buf_addc (&val, '\n');
                      break;
                    default:
                      buf_addc (&val, '\\');
                      buf_addc (&val, e);
                      break;
                    }
                  continue;
                }
              if (q == '"' && c == '$')
                {
                  buf_addc (&val, '$');
                  continue;
                }
              if (q == '\'' && c == '$')
                {
                  buf_adds (&val, "$$");
                  continue;
                }
              buf_addc (&val, c);
            }
          if (!closed)
            {
              diag_addp (d, DIAG_ERROR, file, (int) lineno, COL (i),
                         "the value of %s: unterminated %s-quoted string", key,
                         q == '"' ? "double" : "single");
              return -1;
            }
          i = j + 1;
          while (i < len && is_blank (data[i]))
            i++;
          if (i < len && data[i] != '\n' && data[i] != '#')
            {
              diag_addp (d, DIAG_ERROR, file, (int) line, line == lineno ? COL (i) : 0,
                         "the value of %s: unexpected '%c' after the closing quote", key, data[i]);
              ret = -1;
              while (i < len && data[i] != '\n')
                i++;
              continue;
            }
          while (i < len && data[i] != '\n')
            i++;
          expand = true; /* single quotes were escaped as $$ above */
        }
      else
        {
          size_t j = i;
          while (j < len && data[j] != '\n')
            j++;
          size_t end = j;
          /* an inline comment needs a blank before the # */
          for (size_t c = i; c < j; c++)
            if (data[c] == '#' && c > i && is_blank (data[c - 1]))
              {
                end = c;
                break;
              }
          while (end > i && is_blank (data[end - 1]))
            end--;
          buf_add (&val, data + i, end - i);
          i = j;
        }
      if (expand && memchr (val.data, '$', val.len) == NULL)
        stack_env_set (out, key, val.data); /* nothing to interpolate */
      else if (expand)
        {
          char *err = NULL;
          size_t col = 0;
          char *v = stack_interpolate_in (val.data, lookup, out, budget, &err, &col);
          if (v == NULL)
            {
              diag_addp (d, DIAG_ERROR, file, (int) lineno, COL (k0), "the value of %s: %s", key,
                         err);
              free (err);
              ret = -1;
              if (budget && *budget == 0)
                return -1; /* every later line would fail the same way */
              continue;
            }
          stack_env_set (out, key, v);
          free (v);
        }
    }
  return ret;
}

int
stack_dotenv_load (struct stack_env *out, const char *path, const struct stack_env *lookup,
                   struct diags *d)
{
  size_t budget = STACK_INTERP_MAX_TOTAL;
  return stack_dotenv_load_in (out, path, NULL, lookup, &budget, d);
}

int
stack_dotenv_load_in (struct stack_env *out, const char *path, const char *what,
                      const struct stack_env *lookup, size_t *budget, struct diags *d)
{
  cleanup_err struct itm_err err = { 0 };
  size_t len = 0;
  /* a regular file only: a FIFO or a device is refused without blocking */
  cleanup_free char *data = file_read (path, DOTENV_MAX_BYTES, &len, ITM_EXIT_STACK, &err);
  if (data == NULL)
    {
      /* err says "PATH: why"; the diagnostic names the path already */
      const char *why = err.msg;
      size_t pl = strlen (path);
      if (strncmp (why, path, pl) == 0 && why[pl] == ':')
        why += pl + 1 + (why[pl + 1] == ' ');
      diag_addp (d, DIAG_ERROR, path, 0, 0, "%s%scannot open the env file: %s", what ? what : "",
                 what ? ": " : "", why);
      return -1;
    }
  return stack_dotenv_parse_in (out, path, data, len, lookup, budget, d);
}
