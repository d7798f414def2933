#!/usr/bin/env python3
"""compose-normalize.py - reduce a `config` output (docker-compose 1.29's
YAML, or itm-env's JSON/YAML) to the fields both normalize, in one form:
services, image, command, entrypoint, environment, ports, volumes, networks,
depends_on, healthcheck.  Prints canonical JSON on stdout."""
import json, re, shlex, sys
import yaml

def dur(v):
    if v is None: return None
    if isinstance(v, (int, float)): return int(v * 1e9)
    total = 0
    units = {"ns": 1, "us": 1e3, "\u00b5s": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    for num, unit in re.findall(r"([0-9.]+)(ns|us|\u00b5s|ms|s|m|h)", str(v)):
        total += float(num) * units[unit]
    return int(round(total))

def argv(v):
    if v is None: return None
    if isinstance(v, str): return shlex.split(v)
    return [str(x) for x in v]

def port(p):
    if isinstance(p, dict):
        pub = p.get("published")
        return [(p.get("host_ip") or "", str(pub) if pub not in (None, "", 0) else "",
                 int(p["target"]), p.get("protocol") or "tcp")]
    s = str(p); proto = "tcp"
    if "/" in s: s, proto = s.rsplit("/", 1)
    ip = ""
    m = re.match(r"^(\[[^\]]*\]|[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*(?=::?[0-9-]*:[0-9-]+$)):(.*)$", s)
    parts = s.rsplit(":", 2)
    if s.startswith("[") or s.count(":") > 2:
        ip, rest = s.rsplit(":", 2)[0], s.rsplit(":", 2)[1:]
        ip = ip.strip("[]"); host, cont = rest
    elif len(parts) == 3: ip, host, cont = parts
    elif len(parts) == 2: host, cont = parts
    else: host, cont = "", parts[0]
    def rng(x):
        if "-" in x: a, b = x.split("-"); return list(range(int(a), int(b) + 1))
        return [int(x)]
    cs = rng(cont)
    if host and len(cs) > 1:
        hs = rng(host); return [(ip, str(h), c, proto) for h, c in zip(hs, cs)]
    return [(ip, host, c, proto) for c in cs]

def volume(v):
    if isinstance(v, dict):
        return (v.get("type"), v.get("source") or "", v["target"], bool(v.get("read_only")))
    parts = v.split(":")
    if len(parts) == 1: return ("volume", "", parts[0], False)
    src, dst = parts[0], parts[1]
    ro = len(parts) > 2 and "ro" in parts[2].split(",")
    t = "bind" if src.startswith(("/", ".", "~")) else "volume"
    return (t, src, dst, ro)

def env(e):
    if e is None: return {}
    if isinstance(e, list):
        out = {}
        for x in e:
            k, sep, val = x.partition("=")
            out[k] = val if sep else None
        return out
    return {k: (None if v is None else str(v)) for k, v in e.items()}

def health(h):
    if h is None: return None
    t = h.get("test")
    if isinstance(t, str): t = ["CMD-SHELL", t]
    disable = bool(h.get("disable")) or (t == ["NONE"])
    out = {"disable": disable}
    if not disable:
        out.update(test=t, interval=dur(h.get("interval")), timeout=dur(h.get("timeout")),
                   start_period=dur(h.get("start_period")), retries=h.get("retries"))
    return out

def deps(d):
    if d is None: return {}
    if isinstance(d, list): return {k: "service_started" for k in d}
    return {k: (v or {}).get("condition", "service_started") for k, v in d.items()}

def nets(n, s):
    if s.get("network_mode"): return []
    if n is None: return ["default"]
    return sorted(n if isinstance(n, list) else n.keys())

def main():
    doc = yaml.safe_load(sys.stdin.read())
    out = {}
    for name, s in (doc.get("services") or {}).items():
        out[name] = {
            "image": s.get("image"),
            "command": argv(s.get("command")),
            "entrypoint": argv(s.get("entrypoint")),
            "environment": env(s.get("environment")),
            "ports": sorted(x for p in (s.get("ports") or []) for x in port(p)),
            "volumes": sorted(volume(v) for v in (s.get("volumes") or [])),
            "networks": nets(s.get("networks"), s),
            "depends_on": deps(s.get("depends_on")),
            "healthcheck": health(s.get("healthcheck")),
        }
    json.dump(out, sys.stdout, sort_keys=True, indent=1)
    print()

main()
