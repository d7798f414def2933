/* spec.c - a normalized stack service, network or volume as the Engine API
 * request body that creates it. */
#include <config.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/self.h"
#include "ns/ns.h"
#include "prov/prov.h"
#include "stack/stack.h"
#include "stack/xproxy.h"
#include "util/file.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define J_STR(s) json_object_new_string (s)

static void
add_str (json_object *o, const char *k, const char *v)
{
  if (v)
    json_object_object_add (o, k, J_STR (v));
}

static json_object *
strv_json (const struct stack_strv *v)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < v->n; i++)
    json_object_array_add (a, J_STR (v->v[i]));
  return a;
}

static json_object *
kvs_map (const struct stack_kvs *kv)
{
  json_object *o = json_object_new_object ();
  for (size_t i = 0; i < kv->n; i++)
    json_object_object_add (o, kv->v[i].name, J_STR (kv->v[i].value ? kv->v[i].value : ""));
  return o;
}

static void
merge_labels (json_object *dst, const struct stack_kvs *kv)
{
  /* the file's labels first; ours (already in dst) win */
  for (size_t i = 0; i < kv->n; i++)
    if (!json_object_object_get_ex (dst, kv->v[i].name, NULL))
      json_object_object_add (dst, kv->v[i].name,
                              J_STR (kv->v[i].value ? kv->v[i].value : ""));
}

static char *
join (char **v, size_t n, const char *sep)
{
  struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < n; i++)
    buf_addf (&b, "%s%s", i ? sep : "", v[i]);
  return buf_steal (&b);
}

static const char *
network_engine_name (const struct stack *st, const char *key, const char *ns, char **tofree)
{
  const struct stack_network *n = stack_network (st, key);
  if (n && n->name)
    return n->name;
  return *tofree = ns_network_name (ns, key);
}

char **
prov_service_networks (const struct stack *st, const struct stack_service *svc, const char *ns,
                       size_t *n)
{
  *n = 0;
  if (svc->network_mode)
    return NULL;
  char **v = xcalloc (svc->nnetworks + 1, sizeof *v);
  /* attach order: highest priority first, then by name (the model's order) */
  size_t *idx = xcalloc (svc->nnetworks + 1, sizeof *idx);
  for (size_t i = 0; i < svc->nnetworks; i++)
    idx[i] = i;
  for (size_t i = 1; i < svc->nnetworks; i++)
    for (size_t k = i; k > 0 && svc->networks[idx[k]].priority > svc->networks[idx[k - 1]].priority;
         k--)
      {
        size_t t = idx[k];
        idx[k] = idx[k - 1];
        idx[k - 1] = t;
      }
  for (size_t i = 0; i < svc->nnetworks; i++)
    {
      char *f = NULL;
      const char *name = network_engine_name (st, svc->networks[idx[i]].name, ns, &f);
      v[i] = f ? f : xstrdup (name);
    }
  free (idx);
  *n = svc->nnetworks;
  return v;
}

json_object *
prov_endpoint_spec (const struct stack_service *svc, size_t i)
{
  /* i indexes prov_service_networks' order: recompute the same sort */
  size_t *idx = xcalloc (svc->nnetworks + 1, sizeof *idx);
  for (size_t k = 0; k < svc->nnetworks; k++)
    idx[k] = k;
  for (size_t a = 1; a < svc->nnetworks; a++)
    for (size_t k = a; k > 0 && svc->networks[idx[k]].priority > svc->networks[idx[k - 1]].priority;
         k--)
      {
        size_t t = idx[k];
        idx[k] = idx[k - 1];
        idx[k - 1] = t;
      }
  const struct stack_service_network *sn = &svc->networks[idx[i]];
  free (idx);
  json_object *ep = json_object_new_object ();
  json_object *aliases = json_object_new_array ();
  /* x-itm.proxy: the fault proxy takes the service's name (proxy.c) */
  unsigned pxp[1];
  cleanup_free char *real = xasprintf ("%s" STACK_PROXY_REAL_SUFFIX, svc->name);
  if (stack_xproxy_ports (svc, pxp, 1))
    json_object_array_add (aliases, J_STR (real));
  else
    json_object_array_add (aliases, J_STR (svc->name));
  for (size_t k = 0; k < sn->aliases.n; k++)
    json_object_array_add (aliases, J_STR (sn->aliases.v[k]));
  json_object_object_add (ep, "Aliases", aliases);
  if (sn->ipv4_address || sn->ipv6_address)
    {
      json_object *ipam = json_object_new_object ();
      add_str (ipam, "IPv4Address", sn->ipv4_address);
      add_str (ipam, "IPv6Address", sn->ipv6_address);
      json_object_object_add (ep, "IPAMConfig", ipam);
    }
  return ep;
}

static void
add_ports (json_object *cfg, json_object *hc, const struct stack_service *svc)
{
  json_object *exposed = json_object_new_object ();
  json_object *bindings = json_object_new_object ();
  for (size_t i = 0; i < svc->nports; i++)
    {
      const struct stack_port *p = &svc->ports[i];
      for (unsigned t = p->target_start; t <= p->target_end; t++)
        {
          char key[64], hp[16] = "";
          snprintf (key, sizeof key, "%u/%s", t, p->protocol ? p->protocol : "tcp");
          if (p->published_start)
            {
              unsigned off = t - p->target_start;
              unsigned pub = p->published_start + off;
              if (p->published_end != p->published_start && p->target_end == p->target_start)
                /* a host range for one container port: let the engine pick in it */
                snprintf (hp, sizeof hp, "%u-%u", p->published_start, p->published_end);
              else
                snprintf (hp, sizeof hp, "%u", pub);
            }
          json_object_object_add (exposed, key, json_object_new_object ());
          json_object *list = NULL;
          if (!json_object_object_get_ex (bindings, key, &list))
            {
              list = json_object_new_array ();
              json_object_object_add (bindings, key, list);
            }
          json_object *b = json_object_new_object ();
          json_object_object_add (b, "HostIp", J_STR (p->host_ip ? p->host_ip : "127.0.0.1"));
          json_object_object_add (b, "HostPort", J_STR (hp));
          json_object_array_add (list, b);
        }
    }
  for (size_t i = 0; i < svc->expose.n; i++)
    {
      const char *e = svc->expose.v[i];
      unsigned a = 0, b = 0;
      char proto[16] = "tcp";
      const char *slash = strchr (e, '/');
      if (slash)
        snprintf (proto, sizeof proto, "%s", slash + 1);
      int k = sscanf (e, "%u-%u", &a, &b);
      if (k < 1)
        continue;
      if (k < 2)
        b = a;
      for (unsigned t = a; t <= b && t - a < 65536; t++)
        {
          char key[64];
          snprintf (key, sizeof key, "%u/%s", t, proto);
          if (!json_object_object_get_ex (exposed, key, NULL))
            json_object_object_add (exposed, key, json_object_new_object ());
        }
    }
  json_object_object_add (cfg, "ExposedPorts", exposed);
  json_object_object_add (hc, "PortBindings", bindings);
}

/* A bind that creates a missing host path, as Compose's short syntax
 * does: "SRC:DST[:ro,selinux,propagation]". */
static json_object *
bind_string (const struct stack_mount *m)
{
  cleanup_buf struct buf b = { 0 };
  buf_addf (&b, "%s:%s", m->source, m->target);
  char sep = ':';
  if (m->read_only)
    buf_addf (&b, "%cro", sep), sep = ',';
  if (m->selinux)
    buf_addf (&b, "%c%s", sep, m->selinux), sep = ',';
  if (m->propagation)
    buf_addf (&b, "%c%s", sep, m->propagation);
  return J_STR (b.data);
}

static void
volume_mount (json_object *o, const struct stack *st, const struct stack_mount *m, const char *ns)
{
  json_object_object_add (o, "Type", J_STR ("volume"));
  if (m->source)
    {
      const struct stack_volume *v = stack_volume (st, m->source);
      cleanup_free char *name = v && v->name ? xstrdup (v->name) : ns_volume_name (ns, m->source);
      json_object_object_add (o, "Source", J_STR (name));
    }
  json_object *vo = json_object_new_object ();
  if (m->nocopy)
    json_object_object_add (vo, "NoCopy", json_object_new_boolean (1));
  if (m->subpath)
    add_str (vo, "Subpath", m->subpath);
  json_object_object_add (o, "VolumeOptions", vo);
}

static void
bind_mount (json_object *o, const struct stack_mount *m)
{
  json_object_object_add (o, "Type", J_STR ("bind"));
  json_object_object_add (o, "Source", J_STR (m->source));
  if (m->propagation)
    {
      json_object *bo = json_object_new_object ();
      add_str (bo, "Propagation", m->propagation);
      json_object_object_add (o, "BindOptions", bo);
    }
}

static void
tmpfs_mount (json_object *o, const struct stack_mount *m)
{
  json_object_object_add (o, "Type", J_STR ("tmpfs"));
  json_object *to = json_object_new_object ();
  if (m->tmpfs_size)
    json_object_object_add (to, "SizeBytes", json_object_new_int64 ((int64_t) m->tmpfs_size));
  if (m->tmpfs_mode)
    json_object_object_add (to, "Mode", json_object_new_int ((int) m->tmpfs_mode));
  json_object_object_add (o, "TmpfsOptions", to);
}

/* tmpfs: "PATH[:OPTIONS]" as a map. */
static void
add_tmpfs (json_object *hc, const struct stack_service *svc)
{
  if (svc->tmpfs.n == 0)
    return;
  json_object *t = json_object_new_object ();
  for (size_t i = 0; i < svc->tmpfs.n; i++)
    {
      cleanup_free char *path = xstrdup (svc->tmpfs.v[i]);
      char *colon = strchr (path, ':');
      const char *opts = "";
      if (colon)
        {
          *colon = '\0';
          opts = colon + 1;
        }
      json_object_object_add (t, path, J_STR (opts));
    }
  json_object_object_add (hc, "Tmpfs", t);
}

static void
add_mounts (json_object *hc, const struct stack *st, const struct stack_service *svc,
            const char *ns)
{
  json_object *mounts = json_object_new_array ();
  json_object *binds = json_object_new_array ();
  for (size_t i = 0; i < svc->nvolumes; i++)
    {
      const struct stack_mount *m = &svc->volumes[i];
      if (m->type == STACK_MOUNT_BIND && m->create_host_path)
        {
          json_object_array_add (binds, bind_string (m));
          continue;
        }
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "Target", J_STR (m->target));
      if (m->read_only)
        json_object_object_add (o, "ReadOnly", json_object_new_boolean (1));
      if (m->type == STACK_MOUNT_VOLUME)
        volume_mount (o, st, m, ns);
      else if (m->type == STACK_MOUNT_BIND)
        bind_mount (o, m);
      else if (m->type == STACK_MOUNT_TMPFS)
        tmpfs_mount (o, m);
      json_object_array_add (mounts, o);
    }
  json_object_object_add (hc, "Mounts", mounts);
  if (json_object_array_length (binds))
    json_object_object_add (hc, "Binds", binds);
  else
    json_object_put (binds);
  add_tmpfs (hc, svc);
}

/* Whether the API version api ("1.44"; NULL: ENGINE_API_MIN) is at least
 * major.minor. */
static bool
api_at_least (const char *api, long major, long minor)
{
  long ma = 0, mi = 0;
  if (sscanf (api ? api : ENGINE_API_MIN, "%ld.%ld", &ma, &mi) < 1)
    return false;
  return ma != major ? ma > major : mi >= minor;
}

/* The engine's default healthcheck interval, and the start interval given
 * on API 1.44+ when the file has none. */
#define HEALTH_DEFAULT_INTERVAL_NS (30 * 1000000000LL)
#define HEALTH_START_INTERVAL_NS (500 * 1000000LL)

static json_object *
healthcheck_json (const char *api, const struct stack_healthcheck *h)
{
  json_object *o = json_object_new_object ();
  if (h->disable)
    {
      json_object *t = json_object_new_array ();
      json_object_array_add (t, J_STR ("NONE"));
      json_object_object_add (o, "Test", t);
      return o;
    }
  if (h->test.n)
    json_object_object_add (o, "Test", strv_json (&h->test));
  if (h->interval)
    json_object_object_add (o, "Interval", json_object_new_int64 (h->interval));
  if (h->timeout)
    json_object_object_add (o, "Timeout", json_object_new_int64 (h->timeout));
  /* API 1.44+: the engine probes every StartInterval until the first
   * success within StartPeriod, so its own health turns healthy about when
   * itm-env's prompt probe does (ps, docker ps and Compose agree with up).
   * When the file gives none: HEALTH_START_INTERVAL_NS, and a start period
   * of one interval (the engine's first probe came one interval after start
   * before: no failure counts earlier than it did). */
  bool fast = api_at_least (api, 1, 44);
  int64_t period = h->start_period;
  if (fast && period == 0)
    period = h->interval ? h->interval : HEALTH_DEFAULT_INTERVAL_NS;
  if (period)
    json_object_object_add (o, "StartPeriod", json_object_new_int64 (period));
  if (fast)
    json_object_object_add (o, "StartInterval",
                            json_object_new_int64 (h->start_interval ? h->start_interval
                                                                     : HEALTH_START_INTERVAL_NS));
  if (h->retries >= 0)
    json_object_object_add (o, "Retries", json_object_new_int (h->retries));
  return o;
}

static json_object *
restart_json (const char *r)
{
  json_object *o = json_object_new_object ();
  char name[32] = "no";
  int max = 0;
  if (r)
    {
      snprintf (name, sizeof name, "%s", r);
      char *colon = strchr (name, ':');
      if (colon)
        {
          *colon = '\0';
          max = atoi (colon + 1);
        }
    }
  json_object_object_add (o, "Name", J_STR (strcmp (name, "no") == 0 ? "" : name));
  if (max)
    json_object_object_add (o, "MaximumRetryCount", json_object_new_int (max));
  return o;
}

/* The process: image, command, environment, user, TTY, stop, healthcheck. */
static void
add_process (json_object *c, const char *api, const struct stack_service *svc)
{
  add_str (c, "Image", svc->image);
  if (svc->command.set)
    json_object_object_add (c, "Cmd", strv_json (&svc->command));
  if (svc->entrypoint.set)
    json_object_object_add (c, "Entrypoint", strv_json (&svc->entrypoint));
  json_object *env = json_object_new_array ();
  for (size_t i = 0; i < svc->environment.n; i++)
    if (svc->environment.v[i].value)
      {
        cleanup_free char *kv = xasprintf ("%s=%s", svc->environment.v[i].name,
                                           svc->environment.v[i].value);
        json_object_array_add (env, J_STR (kv));
      }
  json_object_object_add (c, "Env", env);
  add_str (c, "WorkingDir", svc->working_dir);
  add_str (c, "User", svc->user);
  add_str (c, "Hostname", svc->hostname);
  json_object_object_add (c, "Tty", json_object_new_boolean (svc->tty));
  json_object_object_add (c, "OpenStdin", json_object_new_boolean (svc->stdin_open));
  add_str (c, "StopSignal", svc->stop_signal);
  if (svc->stop_grace_period >= 0)
    json_object_object_add (c, "StopTimeout",
                            json_object_new_int ((int) (svc->stop_grace_period / 1000000000LL)));
  if (svc->healthcheck.set)
    json_object_object_add (c, "Healthcheck", healthcheck_json (api, &svc->healthcheck));
}

/* Compose's labels, so that `docker compose -p NS ps/logs/port/exec` see a
 * namespace as a project (itm-env.1, LABELS); ours stay the source of
 * truth: nothing of itm-env reads these. */
#define COMPOSE_LABEL_PROJECT    "com.docker.compose.project"
#define COMPOSE_LABEL_SERVICE    "com.docker.compose.service"
#define COMPOSE_LABEL_NUMBER     "com.docker.compose.container-number"
#define COMPOSE_LABEL_ONEOFF     "com.docker.compose.oneoff"
#define COMPOSE_LABEL_HASH       "com.docker.compose.config-hash"
#define COMPOSE_LABEL_DIR        "com.docker.compose.project.working_dir"
#define COMPOSE_LABEL_FILES      "com.docker.compose.project.config_files"
#define COMPOSE_LABEL_DEPENDS_ON "com.docker.compose.depends_on"
#define COMPOSE_LABEL_VERSION    "com.docker.compose.version"
#define COMPOSE_LABEL_NETWORK    "com.docker.compose.network"
#define COMPOSE_LABEL_VOLUME     "com.docker.compose.volume"

static const char *
compose_condition (enum stack_condition c)
{
  switch (c)
    {
    case STACK_COND_HEALTHY: return "service_healthy";
    case STACK_COND_COMPLETED: return "service_completed_successfully";
    case STACK_COND_STARTED: break;
    }
  return "service_started";
}

/* The labels every Compose resource has: project, version, the files. */
static void
compose_common (json_object *labels, const struct stack *st, const char *ns)
{
  json_object_object_add (labels, COMPOSE_LABEL_PROJECT, J_STR (ns));
  json_object_object_add (labels, COMPOSE_LABEL_VERSION, J_STR (PACKAGE_VERSION));
  cleanup_free char *files = join (st->files, st->nfiles, ",");
  json_object_object_add (labels, COMPOSE_LABEL_FILES, J_STR (files));
  json_object_object_add (labels, COMPOSE_LABEL_DIR, J_STR (st->project_dir));
}

static void
compose_container (json_object *labels, const struct stack *st, const struct stack_service *svc,
                   const char *ns, const char *number, const char *hash)
{
  compose_common (labels, st, ns);
  json_object_object_add (labels, COMPOSE_LABEL_SERVICE, J_STR (svc->name));
  json_object_object_add (labels, COMPOSE_LABEL_NUMBER, J_STR (number));
  json_object_object_add (labels, COMPOSE_LABEL_ONEOFF, J_STR ("False"));
  json_object_object_add (labels, COMPOSE_LABEL_HASH, J_STR (hash));
  /* "service:condition:restart", comma-separated, as Compose writes it */
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < svc->ndepends_on; i++)
    buf_addf (&b, "%s%s:%s:%s", b.len ? "," : "", svc->depends_on[i].service,
              compose_condition (svc->depends_on[i].condition),
              svc->depends_on[i].restart ? "true" : "false");
  json_object_object_add (labels, COMPOSE_LABEL_DEPENDS_ON, J_STR (b.data));
}

/* Labels: ours, then the file's where they do not clash. */
static json_object *
container_labels (const struct stack *st, const struct stack_service *svc, const char *ns,
                  long ttl, const char *hash, int number)
{
  char num[16];
  snprintf (num, sizeof num, "%d", number);
  json_object *labels = ns_labels (ns, ttl);
  json_object_object_add (labels, ITM_LABEL_SERVICE, J_STR (svc->name));
  json_object_object_add (labels, ITM_LABEL_NUMBER, J_STR (num));
  json_object_object_add (labels, ITM_LABEL_CONFIG_HASH, J_STR (hash));
  if (svc->build.set)
    json_object_object_add (labels, ITM_LABEL_IMAGE_BUILT, J_STR (svc->image ? "tagged" : "local"));
  cleanup_free char *files = join (st->files, st->nfiles, ":");
  json_object_object_add (labels, ITM_LABEL_STACK_FILES, J_STR (files));
  json_object_object_add (labels, ITM_LABEL_PROJECT_DIR, J_STR (st->project_dir));
  cleanup_buf struct buf b = { 0 };
  buf_adds (&b, "");
  for (size_t i = 0; i < svc->ndepends_on; i++)
    buf_addf (&b, "%s%s", b.len ? "," : "", svc->depends_on[i].service);
  json_object_object_add (labels, ITM_LABEL_DEPENDS_ON, J_STR (b.data));
  compose_container (labels, st, svc, ns, num, hash);
  merge_labels (labels, &svc->labels);
  return labels;
}

static void
add_ulimits (json_object *hc, const struct stack_service *svc)
{
  if (svc->nulimits == 0)
    return;
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < svc->nulimits; i++)
    {
      json_object *u = json_object_new_object ();
      json_object_object_add (u, "Name", J_STR (svc->ulimits[i].name));
      json_object_object_add (u, "Soft", json_object_new_int64 (svc->ulimits[i].soft));
      json_object_object_add (u, "Hard", json_object_new_int64 (svc->ulimits[i].hard));
      json_object_array_add (a, u);
    }
  json_object_object_add (hc, "Ulimits", a);
}

/* HostConfig past ports and mounts: hosts, init, restart, resources,
 * capabilities, limits, DNS, runtime. */
static void
add_host (json_object *hc, const struct stack_service *svc)
{
  if (svc->extra_hosts.n)
    {
      json_object *a = json_object_new_array ();
      for (size_t i = 0; i < svc->extra_hosts.n; i++)
        {
          const struct stack_kv *kv = &svc->extra_hosts.v[i];
          cleanup_free char *s = xasprintf ("%s:%s", kv->name, kv->value ? kv->value : "");
          json_object_array_add (a, J_STR (s));
        }
      json_object_object_add (hc, "ExtraHosts", a);
    }
  if (svc->init >= 0)
    json_object_object_add (hc, "Init", json_object_new_boolean (svc->init));
  json_object_object_add (hc, "RestartPolicy", restart_json (svc->restart));
  uint64_t mem = svc->mem_limit ? svc->mem_limit : svc->limits.memory;
  if (mem)
    json_object_object_add (hc, "Memory", json_object_new_int64 ((int64_t) mem));
  if (svc->reservations.memory)
    json_object_object_add (hc, "MemoryReservation",
                            json_object_new_int64 ((int64_t) svc->reservations.memory));
  double cpus = svc->cpus ? svc->cpus : svc->limits.cpus;
  if (cpus > 0)
    json_object_object_add (hc, "NanoCpus", json_object_new_int64 ((int64_t) (cpus * 1e9)));
  if (svc->cap_add.n)
    json_object_object_add (hc, "CapAdd", strv_json (&svc->cap_add));
  if (svc->cap_drop.n)
    json_object_object_add (hc, "CapDrop", strv_json (&svc->cap_drop));
  if (svc->privileged)
    json_object_object_add (hc, "Privileged", json_object_new_boolean (1));
  add_ulimits (hc, svc);
  if (svc->sysctls.n)
    json_object_object_add (hc, "Sysctls", kvs_map (&svc->sysctls));
  if (svc->shm_size)
    json_object_object_add (hc, "ShmSize", json_object_new_int64 ((int64_t) svc->shm_size));
  if (svc->read_only)
    json_object_object_add (hc, "ReadonlyRootfs", json_object_new_boolean (1));
  if (svc->dns.n)
    json_object_object_add (hc, "Dns", strv_json (&svc->dns));
  add_str (hc, "Runtime", svc->runtime);
}

size_t
prov_networks_at_create (const char *api, size_t nnet)
{
  return api_at_least (api, 1, 44) ? nnet : nnet > 0 ? 1 : 0;
}

/* network_mode, or the networks given at create (API 1.41: the first, the
 * others are connected before the start; 1.44+: all of them). */
static void
add_networking (json_object *c, json_object *hc, const char *api, const struct stack *st,
                const struct stack_service *svc, const char *ns)
{
  const char *m = svc->network_mode;
  if (m && strncmp (m, "service:", 8) == 0)
    {
      const struct stack_service *o = stack_service (st, m + 8);
      cleanup_free char *cn = o && o->container_name ? xstrdup (o->container_name)
                                                     : ns_container_name (ns, m + 8, 1);
      cleanup_free char *v = xasprintf ("container:%s", cn);
      json_object_object_add (hc, "NetworkMode", J_STR (v));
      return;
    }
  if (m)
    {
      json_object_object_add (hc, "NetworkMode", J_STR (m));
      return;
    }
  size_t nnet = 0;
  cleanup_strv char **nets = prov_service_networks (st, svc, ns, &nnet);
  if (nnet == 0)
    return;
  json_object_object_add (hc, "NetworkMode", J_STR (nets[0]));
  json_object *nc = json_object_new_object ();
  json_object *eps = json_object_new_object ();
  for (size_t i = 0; i < prov_networks_at_create (api, nnet); i++)
    json_object_object_add (eps, nets[i], prov_endpoint_spec (svc, i));
  json_object_object_add (nc, "EndpointsConfig", eps);
  json_object_object_add (c, "NetworkingConfig", nc);
}

json_object *
prov_container_spec (const char *api, const struct stack *st, const struct stack_service *svc,
                     const char *ns, long ttl, const char *hash)
{
  return prov_replica_spec (api, st, svc, ns, ttl, hash, 1);
}

json_object *
prov_replica_spec (const char *api, const struct stack *st, const struct stack_service *svc,
                   const char *ns, long ttl, const char *hash, int number)
{
  json_object *c = json_object_new_object ();
  json_object *hc = json_object_new_object ();
  add_process (c, api, svc);
  json_object_object_add (c, "Labels", container_labels (st, svc, ns, ttl, hash, number));
  add_ports (c, hc, svc);
  add_mounts (hc, st, svc, ns);
  add_host (hc, svc);
  add_networking (c, hc, api, st, svc, ns);
  json_object_object_add (c, "HostConfig", hc);
  return c;
}

json_object *
prov_network_spec (const struct stack *st, const struct stack_network *n, const char *ns,
                   long ttl)
{
  json_object *o = json_object_new_object ();
  cleanup_free char *name = n->name ? xstrdup (n->name) : ns_network_name (ns, n->key);
  json_object_object_add (o, "Name", J_STR (name));
  json_object_object_add (o, "CheckDuplicate", json_object_new_boolean (1));
  json_object_object_add (o, "Driver", J_STR (n->driver ? n->driver : "bridge"));
  if (n->internal)
    json_object_object_add (o, "Internal", json_object_new_boolean (1));
  if (n->attachable)
    json_object_object_add (o, "Attachable", json_object_new_boolean (1));
  if (n->enable_ipv6)
    json_object_object_add (o, "EnableIPv6", json_object_new_boolean (1));
  if (n->driver_opts.n)
    json_object_object_add (o, "Options", kvs_map (&n->driver_opts));
  json_object *labels = ns_labels (ns, ttl);
  json_object_object_add (labels, ITM_LABEL_NETWORK, J_STR (n->key));
  cleanup_free char *files = join (st->files, st->nfiles, ":");
  json_object_object_add (labels, ITM_LABEL_STACK_FILES, J_STR (files));
  json_object_object_add (labels, ITM_LABEL_PROJECT_DIR, J_STR (st->project_dir));
  json_object_object_add (labels, COMPOSE_LABEL_PROJECT, J_STR (ns));
  json_object_object_add (labels, COMPOSE_LABEL_VERSION, J_STR (PACKAGE_VERSION));
  json_object_object_add (labels, COMPOSE_LABEL_NETWORK, J_STR (n->key));
  merge_labels (labels, &n->labels);
  json_object_object_add (o, "Labels", labels);
  if (n->ipam_driver || n->nipam_config || n->ipam_options.n)
    {
      json_object *ipam = json_object_new_object ();
      add_str (ipam, "Driver", n->ipam_driver);
      json_object *cfg = json_object_new_array ();
      for (size_t i = 0; i < n->nipam_config; i++)
        {
          const struct stack_ipam_config *ic = &n->ipam_config[i];
          json_object *c = json_object_new_object ();
          add_str (c, "Subnet", ic->subnet);
          add_str (c, "IPRange", ic->ip_range);
          add_str (c, "Gateway", ic->gateway);
          if (ic->aux_addresses.n)
            json_object_object_add (c, "AuxiliaryAddresses", kvs_map (&ic->aux_addresses));
          json_object_array_add (cfg, c);
        }
      json_object_object_add (ipam, "Config", cfg);
      if (n->ipam_options.n)
        json_object_object_add (ipam, "Options", kvs_map (&n->ipam_options));
      json_object_object_add (o, "IPAM", ipam);
    }
  return o;
}

json_object *
prov_volume_spec (const struct stack *st, const struct stack_volume *v, const char *ns, long ttl)
{
  json_object *o = json_object_new_object ();
  cleanup_free char *name = v->name ? xstrdup (v->name) : ns_volume_name (ns, v->key);
  json_object_object_add (o, "Name", J_STR (name));
  add_str (o, "Driver", v->driver);
  if (v->driver_opts.n)
    json_object_object_add (o, "DriverOpts", kvs_map (&v->driver_opts));
  json_object *labels = ns_labels (ns, ttl);
  json_object_object_add (labels, ITM_LABEL_VOLUME, J_STR (v->key));
  cleanup_free char *files = join (st->files, st->nfiles, ":");
  json_object_object_add (labels, ITM_LABEL_STACK_FILES, J_STR (files));
  json_object_object_add (labels, ITM_LABEL_PROJECT_DIR, J_STR (st->project_dir));
  json_object_object_add (labels, COMPOSE_LABEL_PROJECT, J_STR (ns));
  json_object_object_add (labels, COMPOSE_LABEL_VERSION, J_STR (PACKAGE_VERSION));
  json_object_object_add (labels, COMPOSE_LABEL_VOLUME, J_STR (v->key));
  merge_labels (labels, &v->labels);
  json_object_object_add (o, "Labels", labels);
  return o;
}

/* ---- secrets and configs as a tar in memory ---- */

static la_ssize_t
tar_write (struct archive *a, void *ctx, const void *data, size_t n)
{
  buf_add (ctx, data, n);
  return (la_ssize_t) n;
}

/* A secret's or config's file: a regular file of at most 16 MiB (a FIFO
 * or a device is refused without blocking: itm-env.1, EXIT STATUS 3). */
#define FILE_REF_MAX_BYTES (16u << 20)

static int
add_file_ref (struct archive *a, const struct stack *st, const struct stack_file_ref *r,
              bool secret, struct itm_err *err)
{
  const struct stack_object *obj = secret ? stack_secret (st, r->source) : stack_config (st, r->source);
  const char *what = secret ? "secret" : "config";
  if (obj == NULL)
    return itm_err_set (err, ITM_EXIT_STACK, "%s '%s' is not defined", what, r->source);
  if (obj->external)
    return itm_err_set (err, ITM_EXIT_STACK,
                        "%s '%s' is external: external secrets and configs need Swarm", what,
                        r->source);
  cleanup_buf struct buf content = { 0 };
  buf_adds (&content, "");
  if (obj->file)
    {
      size_t n = 0;
      cleanup_free char *data = file_read (obj->file, FILE_REF_MAX_BYTES, &n, ITM_EXIT_STACK, err);
      if (data == NULL)
        return itm_err_prefix (err, "%s '%s': file", what, r->source);
      buf_add (&content, data, n);
    }
  else if (obj->environment)
    {
      /* the loader's value: the process environment plus generated secrets */
      const char *v = obj->env_value;
      if (v == NULL)
        return itm_err_set (err, ITM_EXIT_STACK, "%s '%s': variable %s is not set", what,
                            r->source, obj->environment);
      buf_adds (&content, v);
    }
  else if (obj->content)
    buf_adds (&content, obj->content);
  cleanup_free char *target = NULL;
  if (r->target && r->target[0] == '/')
    target = xstrdup (r->target);
  else if (r->target)
    target = xasprintf (secret ? "/run/secrets/%s" : "/%s", r->target);
  else
    target = xasprintf (secret ? "/run/secrets/%s" : "/%s", r->source);
  /* the loader refuses a '..' component (file:line:col); a stack built
   * another way must not write outside the target either */
  size_t tl = strlen (target);   /* absolute here */
  if (strstr (target, "/../") || (tl >= 3 && strcmp (target + tl - 3, "/..") == 0))
    return itm_err_set (err, ITM_EXIT_STACK, "%s '%s': target '%s': a '..' component is not "
                        "allowed", what, r->source, target);
  struct archive_entry *ent = archive_entry_new ();
  archive_entry_set_pathname (ent, target + 1);
  archive_entry_set_size (ent, (la_int64_t) content.len);
  archive_entry_set_filetype (ent, AE_IFREG);
  archive_entry_set_perm (ent, r->mode >= 0 ? (unsigned) r->mode : 0444);
  archive_entry_set_uid (ent, r->uid ? strtoll (r->uid, NULL, 10) : 0);
  archive_entry_set_gid (ent, r->gid ? strtoll (r->gid, NULL, 10) : 0);
  archive_entry_set_mtime (ent, time (NULL), 0);
  int rc = archive_write_header (a, ent);
  if (rc == ARCHIVE_OK && content.len)
    rc = archive_write_data (a, content.data, content.len) < 0 ? ARCHIVE_FATAL : ARCHIVE_OK;
  archive_entry_free (ent);
  if (rc != ARCHIVE_OK)
    return itm_err_set (err, ITM_EXIT_FAILURE, "%s '%s': tar: %s", what, r->source,
                        archive_error_string (a));
  return 0;
}

int
prov_files_tar (const struct stack *st, const struct stack_service *svc, char **data, size_t *len,
                struct itm_err *err)
{
  *data = NULL;
  *len = 0;
  if (svc->nsecrets == 0 && svc->nconfigs == 0)
    return 0;
  struct buf b = { 0 };
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_per_block (a, 0);
  archive_write_open (a, &b, NULL, tar_write, NULL);
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < svc->nsecrets; i++)
    ret = add_file_ref (a, st, &svc->secrets[i], true, err);
  for (size_t i = 0; ret == 0 && i < svc->nconfigs; i++)
    ret = add_file_ref (a, st, &svc->configs[i], false, err);
  archive_write_close (a);
  archive_write_free (a);
  if (ret < 0)
    {
      buf_free (&b);
      return -1;
    }
  *len = b.len;
  *data = buf_steal (&b);
  return 0;
}

char **
prov_probe_argv (json_object *test)
{
  size_t n = test ? json_object_array_length (test) : 0;
  if (n < 2)
    return NULL;
  const char *kind = json_object_get_string (json_object_array_get_idx (test, 0));
  char **v = NULL;
  if (strcmp (kind, "CMD") == 0)
    {
      v = xcalloc (n, sizeof *v);
      for (size_t i = 1; i < n; i++)
        v[i - 1] = xstrdup (json_object_get_string (json_object_array_get_idx (test, i)));
    }
  else if (strcmp (kind, "CMD-SHELL") == 0)
    {
      v = xcalloc (4, sizeof *v);
      v[0] = xstrdup ("/bin/sh");
      v[1] = xstrdup ("-c");
      v[2] = xstrdup (json_object_get_string (json_object_array_get_idx (test, 1)));
    }
  return v;
}

/* ---- bind sources as the engine's host sees them ---- */
static int
outside (const struct self *self, const struct stack_service *svc, const struct stack_mount *m,
         struct itm_err *err)
{
  itm_err_set (err, ITM_EXIT_STACK, "service %s: bind mount source %s is outside every mount "
               "of itm-env's own container %s: the engine would see its own host's %s, not "
               "these files", svc->name, m->source, self->name, m->source);
  return itm_err_hint (err, "mount %s (or a directory holding it) into the container itm-env "
                       "runs in, e.g. docker run -v HOST_DIR:%s, or use a volume", m->source,
                       m->source);
}

int
prov_binds_check (const struct stack *st, const struct self *self, struct itm_err *err)
{
  if (self == NULL || !self->on_engine)
    return 0;
  for (size_t i = 0; i < st->nservices; i++)
    for (size_t k = 0; k < st->services[i].nvolumes; k++)
      {
        const struct stack_mount *m = &st->services[i].volumes[k];
        if (m->type != STACK_MOUNT_BIND || m->source == NULL)
          continue;
        cleanup_free char *h = self_host_path (self, m->source);
        if (h == NULL)
          return outside (self, &st->services[i], m, err);
      }
  return 0;
}

int
prov_spec_host_paths (json_object *spec, const struct stack_service *svc,
                      const struct self *self, struct itm_err *err)
{
  if (self == NULL || !self->on_engine)
    return 0;
  json_object *hc = NULL, *binds = NULL, *mounts = NULL;
  if (!json_object_object_get_ex (spec, "HostConfig", &hc))
    return 0;
  json_object_object_get_ex (hc, "Binds", &binds);
  json_object_object_get_ex (hc, "Mounts", &mounts);
  size_t bi = 0, mi = 0;
  /* the same walk as add_mounts: short-syntax binds into Binds, the rest
   * into Mounts, in order */
  for (size_t i = 0; i < svc->nvolumes; i++)
    {
      const struct stack_mount *m = &svc->volumes[i];
      bool in_binds = m->type == STACK_MOUNT_BIND && m->create_host_path;
      json_object *arr = in_binds ? binds : mounts;
      size_t idx = in_binds ? bi++ : mi++;
      if (m->type != STACK_MOUNT_BIND || m->source == NULL || arr == NULL
          || idx >= json_object_array_length (arr))
        continue;
      cleanup_free char *h = self_host_path (self, m->source);
      if (h == NULL)
        return outside (self, svc, m, err);
      if (in_binds)
        {
          const char *old = json_object_get_string (json_object_array_get_idx (arr, idx));
          size_t sl = strlen (m->source);
          cleanup_free char *nb = xasprintf ("%s%s", h, strncmp (old, m->source, sl) == 0
                                                          ? old + sl : "");
          json_object_array_put_idx (arr, idx, json_object_new_string (nb));
        }
      else
        json_object_object_add (json_object_array_get_idx (arr, idx), "Source",
                                json_object_new_string (h));
    }
  return 0;
}
