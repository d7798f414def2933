#!/bin/sh
# install-deps.sh - install what building and testing itm-env needs, from
# Debian's archive (Debian 12 "bookworm"), as root.  Packages already
# installed are skipped, so a second run costs a dpkg query and nothing else.
#
#   tests/install-deps.sh            build + test dependencies
#   tests/install-deps.sh --build    build dependencies, the engine, and busybox
#                                    (for the image doctor's round trip uses),
#                                    man-db (man itm-env after make install)
set -eu

build_pkgs="gcc make autoconf automake libtool pkg-config ca-certificates
  libcurl4-openssl-dev libjson-c-dev libarchive-dev libssl-dev libyaml-dev
  protobuf-c-compiler libprotobuf-c-dev libnghttp2-dev
  docker.io curl busybox-static man-db"
test_pkgs="mmdebstrap socat openssl xz-utils libxml2-utils jq
  libarchive-tools strace docker-registry apache2-utils docker-compose postgresql-client redis-tools util-linux passwd procps iproute2 valgrind groff-base tmux man-db python3-yaml
  clang-14 libclang-rt-14-dev openssh-server openssh-client"

case "${1:-}" in
  --build) pkgs=$build_pkgs ;;
  "") pkgs="$build_pkgs $test_pkgs" ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing:$missing; run this script as root" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null
