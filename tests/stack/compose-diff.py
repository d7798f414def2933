#!/usr/bin/env python3
"""compose-diff.py - compare Docker Compose v2's `config --format json`
with itm-env's, on the fields both models share (tests/stack/compose-diff.sh).

  compose-diff.py --dir CASEDIR COMPOSE.json ITM.json   exit 1 and the
                                                        differences, if any
  compose-diff.py --check-man itm-env-stack.5           every difference
                                                        below is in the man
                                                        page's list, and back

Standard library only.  The deliberate differences (DIFFERENCES: the tag
is the man page's item, in section DIFFERENCES FROM COMPOSE) are
normalized away; anything else that differs is a disagreement."""
import json, os, re, sys

# tag -> what the normalization below does about it (the man page explains)
DIFFERENCES = {
    "unsupported-keys": "keys itm-env warns about and ignores are not compared",
    "resource-names": "Compose's default names of networks, volumes, secrets "
                      "and configs (PROJECT_KEY) are not compared: itm-env names "
                      "them from the namespace at up time",
    "unused-declarations": "top-level networks, volumes, secrets and configs "
                           "no service uses: itm-env keeps them, Compose drops them",
    "sizes-and-numbers": "sizes and numbers: Compose writes some as strings",
    "ulimits": "a single-number ulimit: itm-env writes soft and hard",
    "implied-restart": "depends_on.restart that Compose adds to the "
                       "dependencies links, ipc and network_mode imply",
    "tmpfs-fraction": "tmpfs size=1.5m: itm-env writes it in bytes",
    "bind-device": "a local bind volume's driver_opts.device: itm-env makes "
                   "it absolute",
    "empty-values": "empty maps and nulls Compose writes for keys not set "
                    "(ipam: {}, placement: {}, command: null, volume: {})",
    "dollar-escape": "Compose's output writes a literal $ as $$ (so it can be "
                     "loaded again); itm-env writes the value",
    "default-targets": "secrets' and configs' targets: itm-env writes the "
                       "absolute path the container sees",
    "service-extensions": "a service's x-* keys: itm-env keeps them",
    "zero-durations": "a healthcheck duration of 0s is not given",
    "healthcheck-none": "test: NONE: itm-env also writes disable: true",
    "extra-hosts": "extra_hosts: the same entry twice (merged files) is kept "
                   "once by itm-env",
    "inactive-optional-deps": "a required: false dependency on a service no "
                              "profile activates: itm-env drops it",
    "ephemeral-port": "published: 0 is no published port",
    "mount-defaults": "create_host_path: false and consistency (no effect on "
                      "Linux) in mounts",
    "build-args-unset": "a build arg without a value: Compose drops it when the "
                        "variable is unset, itm-env leaves it to the builder",
}

# service keys itm-env warns about and ignores (itm-env-stack(5), WARNINGS)
UNSUPPORTED = set("""annotations attach blkio_config cgroup cgroup_parent cpu_count
cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpuset
credential_spec develop device_cgroup_rules devices dns_opt dns_search domainname
external_links gpus group_add ipc isolation label_file links logging mac_address
mem_reservation mem_swappiness memswap_limit models oom_kill_disable oom_score_adj
pid pids_limit post_start pre_start pre_stop provider pull_refresh_after scale
security_opt storage_opt use_api_socket userns_mode uts volumes_from""".split())
UNSUPPORTED_BUILD = set("""additional_contexts cache_from cache_to dockerfile_inline
entitlements isolation no_cache no_cache_filter platforms privileged provenance
pull sbom ssh tags ulimits""".split())
UNSUPPORTED_DEPLOY = set("""endpoint_mode labels mode placement replicas restart_policy
rollback_config update_config""".split())
UNSUPPORTED_SVC_NET = set("interface_name link_local_ips mac_address driver_opts gw_priority".split())
EMPTY_DROPPED = {"ipam", "placement", "volume", "bind", "tmpfs", "resources", "limits",
                 "reservations", "deploy", "build", "healthcheck", "depends_on"}
NULL_DROPPED = {"command", "entrypoint"}
TOP = ("networks", "volumes", "secrets", "configs")

UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def numbers(v):
    """"1073741824" and 1073741824 are one value (sizes-and-numbers)."""
    if isinstance(v, dict):
        return {k: numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [numbers(x) for x in v]
    if isinstance(v, str) and re.fullmatch(r"[0-9]+", v) and len(v) < 19:
        return int(v)
    if isinstance(v, float) and v == int(v):
        return int(v)
    return v


def empties(v, key=None):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            x = empties(x, k)
            if k in EMPTY_DROPPED and x in ({}, [], None):
                continue
            if k in NULL_DROPPED and x is None:
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [empties(x) for x in v]
    return v


def tmpfs_bytes(s):
    def one(m):
        num, unit = m.group(1), (m.group(2) or "b").lower()
        return "size=%d" % int(float(num) * UNITS[unit])
    return re.sub(r"size=([0-9.]+)([bkmgt])?b?", one, s)


def undollar(v):
    """dollar-escape: Compose's $$ is one $."""
    if isinstance(v, dict):
        return {undollar(k): undollar(x) for k, x in v.items()}
    if isinstance(v, list):
        return [undollar(x) for x in v]
    if isinstance(v, str):
        return v.replace("$$", "$")
    return v


def duration_zero(h):
    for k in ("interval", "timeout", "start_period", "start_interval"):
        if h.get(k) in ("0s", 0):
            del h[k]


def service(s, side, services):
    s = dict(s)
    if side == "itm":
        # service-extensions
        for k in [k for k in s if k.startswith("x-")]:
            del s[k]
        # build-args-unset
        b = s.get("build")
        if isinstance(b, dict) and isinstance(b.get("args"), dict):
            b["args"] = {k: x for k, x in b["args"].items() if x is not None}
        h = s.get("healthcheck")
        if isinstance(h, dict) and h.get("test") == ["NONE"]:
            h.pop("disable", None)   # healthcheck-none
    if side == "compose":
        # inactive-optional-deps
        deps = s.get("depends_on")
        if isinstance(deps, dict):
            s["depends_on"] = {k: d for k, d in deps.items()
                               if k in services or (d or {}).get("required", True)}
        h = s.get("healthcheck")
        if isinstance(h, dict):
            duration_zero(h)
        dp = s.get("deploy")
        r = dp.get("resources") if isinstance(dp, dict) else None
        if isinstance(r, dict):
            if isinstance(r.get("limits"), dict):
                r["limits"].pop("pids", None)
            if isinstance(r.get("reservations"), dict):
                r["reservations"].pop("generic_resources", None)
                r["reservations"].pop("devices", None)
        for k in list(s):
            if k in UNSUPPORTED:
                del s[k]
        b = s.get("build")
        if isinstance(b, dict):
            s["build"] = {k: x for k, x in b.items() if k not in UNSUPPORTED_BUILD}
        dp = s.get("deploy")
        if isinstance(dp, dict):
            s["deploy"] = {k: x for k, x in dp.items() if k not in UNSUPPORTED_DEPLOY}
        nets = s.get("networks")
        if isinstance(nets, dict):
            s["networks"] = {n: ({k: x for k, x in c.items() if k not in UNSUPPORTED_SVC_NET}
                                 if isinstance(c, dict) else c) for n, c in nets.items()}
    # implied-restart
    for d in (s.get("depends_on") or {}).values():
        if isinstance(d, dict):
            d.pop("restart", None)
    # ulimits
    ul = s.get("ulimits")
    if isinstance(ul, dict):
        s["ulimits"] = {k: ({"soft": x, "hard": x} if isinstance(x, int) else x)
                        for k, x in ul.items()}
    # tmpfs-fraction
    if isinstance(s.get("tmpfs"), list):
        s["tmpfs"] = [tmpfs_bytes(t) for t in s["tmpfs"]]
    elif isinstance(s.get("tmpfs"), str):
        s["tmpfs"] = [tmpfs_bytes(s["tmpfs"])]
    # extra-hosts: order and repeats are not part of the model
    if isinstance(s.get("extra_hosts"), list):
        s["extra_hosts"] = sorted(set(s["extra_hosts"]))
    # service networks: {} and null are both "attached, no options"
    nets = s.get("networks")
    if isinstance(nets, dict):
        s["networks"] = {k: (None if c == {} else c) for k, c in nets.items()}
    # ephemeral-port
    for p in s.get("ports") or []:
        if isinstance(p, dict) and p.get("published") in (0, "0", ""):
            del p["published"]
    # mount-defaults
    for v in s.get("volumes") or []:
        if isinstance(v, dict):
            v.pop("consistency", None)
            b = v.get("bind")
            if isinstance(b, dict) and b.get("create_host_path") is False:
                del b["create_host_path"]
    # default-targets
    for sect, base in (("secrets", "/run/secrets/"), ("configs", "/")):
        for r in s.get(sect) or []:
            if isinstance(r, dict):
                t = r.get("target") or r.get("source")
                if t and not t.startswith("/"):
                    t = base + t
                r["target"] = t
    return s


def top(doc, side, casedir, project):
    out = {}
    for sect in TOP:
        m = doc.get(sect) or {}
        o = {}
        for key, v in m.items():
            v = dict(v or {})
            # resource-names
            if side == "compose" and v.get("name") == "%s_%s" % (project, key) \
                    and not v.get("external"):
                del v["name"]
            if side == "compose" and v.get("external") and v.get("name") == key:
                del v["name"]
            # bind-device
            opts = v.get("driver_opts")
            if side == "compose" and isinstance(opts, dict) and \
                    v.get("driver") in (None, "local"):
                o_ = str(opts.get("o", ""))
                dev = opts.get("device")
                if dev and not str(dev).startswith("/") and \
                        set(o_.split(",")) & {"bind", "rbind"}:
                    opts["device"] = os.path.normpath(os.path.join(casedir, str(dev)))
            o[key] = v
        out[sect] = o
    return out


def model(doc, side, casedir, project):
    doc = numbers(doc)
    if side == "compose":
        doc = undollar(doc)
    m = top(doc, side, casedir, project)
    svcs = doc.get("services") or {}
    m["services"] = {k: service(v, side, svcs) for k, v in svcs.items()}
    return empties(m)


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = "%s.%s" % (path, k) if path else k
            if k not in b:
                out.append("%s: Compose %s, itm-env has none" % (p, json.dumps(a[k])))
            elif k not in a:
                out.append("%s: itm-env %s, Compose has none" % (p, json.dumps(b[k])))
            else:
                diff(a[k], b[k], p, out)
    elif a != b:
        out.append("%s: Compose %s, itm-env %s" % (path, json.dumps(a), json.dumps(b)))


def compare(casedir, dcfile, itmfile):
    dc = json.load(open(dcfile))
    itm = json.load(open(itmfile))
    project = dc.get("name", "")
    a = model(dc, "compose", os.path.realpath(casedir), project)
    b = model(itm, "itm", os.path.realpath(casedir), project)
    # unused-declarations: what Compose dropped, itm-env may keep
    for sect in TOP:
        for key in list(b[sect]):
            if key not in a[sect]:
                del b[sect][key]
    out = []
    diff(a, b, "", out)
    for line in out:
        print(line)
    return 1 if out else 0


def check_man(path):
    text = open(path).read()
    m = re.search(r'^\.SH "?DIFFERENCES FROM COMPOSE"?\n(.*?)(?=^\.SH )', text, re.S | re.M)
    if not m:
        print("no section DIFFERENCES FROM COMPOSE in %s" % path)
        return 1
    tags = set(re.findall(r"^\.\\\" diff: ([a-z-]+)$", m.group(1), re.M))
    bad = 0
    for t in sorted(set(DIFFERENCES) - tags):
        print("difference '%s' is not in the man page (a line .\\\" diff: %s)" % (t, t))
        bad = 1
    for t in sorted(tags - set(DIFFERENCES)):
        print("the man page lists '%s', which the comparator does not know" % t)
        bad = 1
    return bad


def main():
    args = sys.argv[1:]
    if args[:1] == ["--check-man"]:
        return check_man(args[1])
    if args[:1] == ["--dir"]:
        return compare(args[1], args[2], args[3])
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
