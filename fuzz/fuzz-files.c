/* fuzz-files.c - fuzz the file layer: the input is written to a file and
 * loaded twice (-f F -f F), so merges, extends, include and relative paths
 * all run on it.  With libFuzzer: clang -fsanitize=fuzzer -DITM_LIBFUZZER;
 * else a replay of fuzz/corpus-yaml/ (see fuzz-common.h). */
#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "stack/files.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char path[64];
  if (path[0] == '\0')
    snprintf (path, sizeof path, "/tmp/itm-fuzz-files-%ld.yaml", (long) getpid ());
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    abort ();
  if (size && write (fd, data, size) != (ssize_t) size)
    abort ();
  close (fd);
  static char e1[] = "HOME=/home/fuzz", e2[] = "A=1", e3[] = "E=";
  char *envp[] = { e1, e2, e3, NULL };
  const char *files[] = { path, path };
  struct stack_load_opts o = { .files = files, .nfiles = 2, .project_dir = "/tmp/itm-fuzz-proj",
                               .environ = envp };
  struct node_arena *a = node_arena_new ();
  struct stack_loaded l;
  struct diags d = { 0 };
  int r = stack_files_load (&o, a, &l, &d);
  if (r < 0 && d.nerrors == 0)
    abort (); /* a failure always says why */
  stack_loaded_free (&l);
  diags_free (&d);
  node_arena_free (a);
  unlink (path);
  return 0;
}

FUZZ_MAIN ("corpus-yaml")
