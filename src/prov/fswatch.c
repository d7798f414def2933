/* fswatch.c - file activity under a few paths (fswatch.h): one inotify
 * instance, a table from watch descriptor to the slots that own it (two
 * services that share a volume share its watches: inotify gives one
 * descriptor per inode), and a counter per slot. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prov/fswatch.h"
#include "util/xalloc.h"

#define MASK                                                                                      \
  (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_MASK_ADD)

struct slot
{
  bool used;
  uint64_t count;
  unsigned ndirs, max_dirs;
};

struct wdent
{
  char *path;                   /* NULL: free */
  bool dir;
  size_t nown;
  int *own;                     /* the slots that watch it */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ifd = -1;
static bool ifd_failed;
static struct slot *slots;
static size_t nslots;
static struct wdent *wds;       /* indexed by watch descriptor */
static size_t nwds;
static size_t nwatches;

static bool
owns (const struct wdent *w, int slot)
{
  for (size_t i = 0; i < w->nown; i++)
    if (w->own[i] == slot)
      return true;
  return false;
}

/* Watch one path for slot; true when it is watched (now or already). */
static bool
watch_one (int slot, const char *path, bool dir, bool root)
{
  uint32_t m = MASK | (dir ? IN_ONLYDIR : 0) | (root ? 0 : IN_DONT_FOLLOW);
  int wd = inotify_add_watch (ifd, path, m);
  if (wd < 0)
    return false;
  if ((size_t) wd >= nwds)
    {
      size_t n = nwds ? nwds : 64;
      while (n <= (size_t) wd)
        n *= 2;
      wds = xrealloc (wds, n * sizeof *wds);
      memset (wds + nwds, 0, (n - nwds) * sizeof *wds);
      nwds = n;
    }
  struct wdent *w = &wds[wd];
  if (w->path == NULL)
    {
      w->path = xstrdup (path);
      w->dir = dir;
      nwatches++;
    }
  if (!owns (w, slot))
    {
      w->own = xrealloc (w->own, (w->nown + 1) * sizeof *w->own);
      w->own[w->nown++] = slot;
      if (dir)
        slots[slot].ndirs++;
    }
  return true;
}

static void
entry_drop (int wd)
{
  struct wdent *w = &wds[wd];
  if (w->dir)
    for (size_t i = 0; i < w->nown; i++)
      slots[w->own[i]].ndirs--;
  free (w->path);
  free (w->own);
  *w = (struct wdent){ 0 };
  nwatches--;
}

/* Watch the directory tree at root for slot, breadth first, while the
 * slot has room. */
static void
watch_tree (int slot, const char *root, bool top)
{
  struct slot *s = &slots[slot];
  size_t cap = 16, head = 0, tail = 0;
  char **q = xmalloc (cap * sizeof *q);
  q[tail++] = xstrdup (root);
  while (head < tail)
    {
      char *p = q[head++];
      bool ok = s->ndirs < s->max_dirs && watch_one (slot, p, true, top && head == 1);
      DIR *d = ok ? opendir (p) : NULL;
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
          if (s->ndirs + (tail - head) >= s->max_dirs)
            break;
          char *c = xasprintf ("%s/%s", p, de->d_name);
          struct stat st;
          if (de->d_type == DT_UNKNOWN && (lstat (c, &st) < 0 || !S_ISDIR (st.st_mode)))
            {
              free (c);
              continue;
            }
          if (tail == cap)
            q = xrealloc (q, (cap *= 2) * sizeof *q);
          q[tail++] = c;
        }
      if (d)
        closedir (d);
      free (p);
    }
  for (; head < tail; head++)
    free (q[head]);
  free (q);
}

/* Read what the kernel queued (mu held). */
static void
drain (void)
{
  char b[8192] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  for (;;)
    {
      ssize_t n = read (ifd, b, sizeof b);
      if (n <= 0)
        return;
      for (char *p = b; p < b + n;)
        {
          const struct inotify_event *ev = (const struct inotify_event *) p;
          p += sizeof *ev + ev->len;
          if (ev->mask & IN_Q_OVERFLOW)
            {
              for (size_t i = 0; i < nslots; i++)
                slots[i].count++;
              continue;
            }
          if (ev->wd < 0 || (size_t) ev->wd >= nwds || wds[ev->wd].path == NULL)
            continue;
          if (ev->mask & IN_IGNORED)
            {
              entry_drop (ev->wd);
              continue;
            }
          struct wdent *w = &wds[ev->wd];
          for (size_t i = 0; i < w->nown; i++)
            slots[w->own[i]].count++;
          if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len)
            {
              /* a new directory: watched by every owner with room (w may
               * move while the tree is added: copy what is needed) */
              cleanup_free char *c = xasprintf ("%s/%s", w->path, ev->name);
              size_t nown = w->nown;
              cleanup_free int *own = xmalloc (nown * sizeof *own);
              memcpy (own, w->own, nown * sizeof *own);
              for (size_t i = 0; i < nown; i++)
                if (slots[own[i]].ndirs < slots[own[i]].max_dirs)
                  watch_tree (own[i], c, false);
            }
        }
    }
}

int
fswatch_add (const char *const *paths, size_t n, unsigned max_dirs)
{
  pthread_mutex_lock (&mu);
  if (ifd < 0 && !ifd_failed)
    {
      ifd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
      ifd_failed = ifd < 0;
    }
  int slot = -1;
  if (ifd >= 0)
    {
      drain ();
      for (size_t i = 0; i < nslots && slot < 0; i++)
        if (!slots[i].used)
          slot = (int) i;
      if (slot < 0)
        {
          slots = xrealloc (slots, (nslots + 1) * sizeof *slots);
          slot = (int) nslots++;
        }
      slots[slot] = (struct slot){ .used = true, .max_dirs = max_dirs };
      bool any = false;
      for (size_t i = 0; i < n; i++)
        {
          struct stat st;
          if (paths[i] == NULL || stat (paths[i], &st) < 0)
            continue;
          if (S_ISDIR (st.st_mode))
            watch_tree (slot, paths[i], true);
          else if (!watch_one (slot, paths[i], false, true))
            continue;
          any = true;
        }
      if (!any)
        {
          pthread_mutex_unlock (&mu);
          fswatch_remove (slot + 1);
          return 0;
        }
    }
  pthread_mutex_unlock (&mu);
  return slot + 1;
}

uint64_t
fswatch_count (int id)
{
  int slot = id - 1;
  if (slot < 0)
    return 0;
  pthread_mutex_lock (&mu);
  drain ();
  uint64_t c = (size_t) slot < nslots ? slots[slot].count : 0;
  pthread_mutex_unlock (&mu);
  return c;
}

void
fswatch_remove (int id)
{
  int slot = id - 1;
  if (slot < 0)
    return;
  pthread_mutex_lock (&mu);
  if ((size_t) slot < nslots && slots[slot].used)
    {
      for (size_t wd = 0; wd < nwds; wd++)
        {
          struct wdent *w = &wds[wd];
          if (w->path == NULL || !owns (w, slot))
            continue;
          size_t j = 0;
          for (size_t i = 0; i < w->nown; i++)
            if (w->own[i] != slot)
              w->own[j++] = w->own[i];
          w->nown = j;
          if (j == 0)
            {
              inotify_rm_watch (ifd, (int) wd);   /* its IN_IGNORED finds no entry */
              w->dir = false;
              entry_drop ((int) wd);
            }
        }
      slots[slot] = (struct slot){ 0 };
    }
  pthread_mutex_unlock (&mu);
}

size_t
fswatch_watches (void)
{
  pthread_mutex_lock (&mu);
  size_t n = nwatches;
  pthread_mutex_unlock (&mu);
  return n;
}
