#!/bin/sh
# Installs every Debian 12 package perim's build, lab, tests, VM tier,
# benchmarks and Debian package (make deb, lintian, man, systemd-analyze)
# need. Idempotent: a second run installs nothing.
set -eu

PKGS="make gcc clang llvm pkg-config bpftool
libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libjson-c-dev libmicrohttpd-dev libnats-dev libssl-dev libnftables-dev
iproute2 ethtool procps util-linux kmod jq iperf3
qemu-system-x86 busybox-static cpio xz-utils
nftables libbpf-tools
prometheus curl nats-server
debhelper dpkg-dev fakeroot lintian man-db groff-base bash-completion systemd"

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: must run as root (it installs Debian packages)" >&2
	exit 1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
