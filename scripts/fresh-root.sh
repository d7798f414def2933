#!/bin/sh
# fresh-root.sh [CMD...] - prove the README's quick start on a fresh Debian
# 12: a minbase root made with mmdebstrap (no compiler, no engine, no
# images, nothing of itm-env on PATH), a fresh clone of this repository at
# /root/work/main in it (with ../shared beside it when there is one), and
# CMD (default: scripts/quickstart.sh) run there as root.
#
# The root gets its own network namespace (a veth pair with NAT to the
# outside, for apt only), and its own mount, pid, uts and ipc namespaces:
# its dockerd, docker0, iptables rules and processes are its own; the
# host's engines and bridges are not touched.  When CMD ends, every
# process of the root ends with it (its pid namespace).  The root is kept
# (FRESH_DIR, default /var/tmp/itm-fresh) for a second look; FRESH_NEW=1
# makes it again; `scripts/fresh-root.sh --remove` removes the root, the
# network namespace, the veth and the NAT rules.
#
# Needs: root, mmdebstrap, iproute2, iptables, a Debian mirror.
set -eu
dir=${FRESH_DIR:-/var/tmp/itm-fresh}
root=$dir/root
ns=itmfresh
net=10.250.77
src=$(cd "$(dirname "$0")/.." && pwd)
out_if=$(ip route show default | awk '{print $5; exit}')

if [ "${1:-}" = --remove ]; then
  ip netns del "$ns" 2>/dev/null || true
  ip link del itmf0 2>/dev/null || true
  iptables -t nat -D POSTROUTING -s "$net.0/30" -o "$out_if" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i itmf0 -o "$out_if" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o itmf0 -i "$out_if" -m state --state RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  rm -rf "$dir"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "fresh-root: run as root" >&2; exit 1; }
[ $# -gt 0 ] || set -- scripts/quickstart.sh

if [ "${FRESH_NEW:-0}" = 1 ]; then rm -rf "$root"; fi
if [ ! -x "$root/bin/sh" ]; then
  mkdir -p "$dir"
  echo "fresh-root: mmdebstrap bookworm (minbase) into $root" >&2
  mmdebstrap --variant=minbase --include=ca-certificates,git,iproute2 bookworm "$root" \
    http://deb.debian.org/debian
fi
rm -rf "$root/root/work"
mkdir -p "$root/root/work"
git clone -q "$src" "$root/root/work/main"
[ ! -d "$src/../shared" ] || cp -a "$src/../shared" "$root/root/work/shared"

if ! ip netns list | grep -qw "$ns"; then
  ip netns add "$ns"
  ip link add itmf0 type veth peer name itmf1
  ip link set itmf1 netns "$ns"
  ip addr add "$net.1/30" dev itmf0
  ip link set itmf0 up
  ip netns exec "$ns" ip addr add "$net.2/30" dev itmf1
  ip netns exec "$ns" ip link set itmf1 up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip route add default via "$net.1"
  iptables -t nat -C POSTROUTING -s "$net.0/30" -o "$out_if" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$net.0/30" -o "$out_if" -j MASQUERADE
  iptables -C FORWARD -i itmf0 -o "$out_if" -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i itmf0 -o "$out_if" -j ACCEPT
  iptables -C FORWARD -o itmf0 -i "$out_if" -m state --state RELATED,ESTABLISHED -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -o itmf0 -i "$out_if" -m state --state RELATED,ESTABLISHED -j ACCEPT
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# the host's cgroup hierarchies ("mountpoint type options"): ip netns exec
# mounts a /sys of its own, so they are mounted again inside
awk '$0 ~ / - cgroup2? / {split($0,a," - "); split(a[2],b," "); print $5, b[1], b[3]}' \
  /proc/self/mountinfo >"$root/.cgroups"
exec ip netns exec "$ns" unshare --mount --pid --fork --uts --ipc --propagation private sh -c '
  root=$0
  mount --bind "$root" "$root"   # / a mount point: dockerd remounts it
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount -t tmpfs cgroup_root "$root/sys/fs/cgroup"
  while read -r mp ty op; do
    mkdir -p "$root$mp"
    mount -t "$ty" -o "$op" "$ty" "$root$mp"
  done <"$root/.cgroups"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  mount -t tmpfs tmpfs "$root/tmp"
  cd "$root/root/work/main"
  exec chroot "$root" env -i HOME=/root TERM=dumb CI="${CI:-}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    sh -c "cd /root/work/main && exec \"\$@\"" sh "$@"
' "$root" "$@"
