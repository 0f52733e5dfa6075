#!/bin/bash
# Fetches Debian's stock kernels for the VM tier into tests/vm/cache/ and
# unpacks them there. Uses a private apt configuration (its own sources list,
# lists and cache under the cache dir), so the host's /etc/apt is never
# touched. The mirror is the one the host already uses.
#
# A second run reuses what is cached and needs no network; PERIM_VM_REFRESH=1
# resolves the newest packages again.
#
# Output: cache/kernels/<series>/{root/,kver,package} for each series, and one
# line "<series> <kver> <root>" per kernel on stdout.
set -eu
VM_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${PERIM_VM_CACHE:-$VM_DIR/cache}
APT_DIR=$CACHE/apt
KERNELS_DIR=$CACHE/kernels

# series, package name pattern (anchored regex), suite that carries it
SERIES=(
	"5.10 linux-image-5\.10\.0-[0-9]+-amd64-unsigned bullseye"
	"6.1 linux-image-6\.1\.0-[0-9]+-amd64-unsigned bookworm"
	"6.12 linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned bookworm-backports"
)

die() { echo "fetch-kernels: $*" >&2; exit 1; }

# The host's Debian mirror: the URI of the first entry that serves plain
# Debian suites (not -security), from deb822 or one-line sources.
host_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			/^URIs:/   { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-security$/ && $i !~ /-updates$/) ok = 1 }
			/^$/       { if (ok && uri ~ /\/debian\/?$/) { print uri; exit } ok = 0; uri = "" }
			END        { if (ok && uri ~ /\/debian\/?$/) print uri }' "$f" | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /\/debian\/?$/ { print $2; exit }
			   $1 == "deb" && $2 ~ /^\[/ && $3 ~ /\/debian\/?$/ { print $3; exit }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	return 1
}

apt_private() {
	"$1" -q -o Dir::Etc::SourceList="$APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts="$APT_DIR/sources.list.d" \
		-o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::Cache="$APT_DIR/cache" \
		-o Dir::State::status="$APT_DIR/status" \
		-o APT::Architecture=amd64 \
		-o Debug::NoLocking=1 "${@:2}"
}

apt_update_private() {
	local mirror
	mirror=$(host_mirror) || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/sources.list.d"
	: > "$APT_DIR/status"
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
	printf 'deb [signed-by=%s] %s %s main\n' \
		"$keyring" "$mirror" bullseye \
		"$keyring" "$mirror" bookworm \
		"$keyring" "$mirror" bookworm-backports > "$APT_DIR/sources.list"
	echo "fetch-kernels: apt update (private config, mirror $mirror)" >&2
	apt_private apt-get update >&2 || die "apt-get update failed (private config in $APT_DIR)"
}

# newest_package REGEX: the highest-versioned package name matching REGEX.
newest_package() {
	apt_private apt-cache search --names-only "^$1\$" | awk '{print $1}' | sort -V | tail -n1
}

# modules live in lib/modules or, on merged-/usr packages, usr/lib/modules
kver_of_root() {
	local d
	for d in "$1"/lib/modules/* "$1"/usr/lib/modules/*; do
		[ -d "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}

fetch_one() {
	local series=$1 regex=$2 suite=$3 dir=$KERNELS_DIR/$1
	if [ "${PERIM_VM_REFRESH:-0}" != 1 ] && [ -f "$dir/ok" ]; then
		echo "$series $(cat "$dir/kver") $dir/root"
		return 0
	fi
	[ -f "$APT_DIR/updated" ] || { apt_update_private; touch "$APT_DIR/updated"; }
	local pkg
	pkg=$(newest_package "$regex")
	[ -n "$pkg" ] || die "no package matching ^$regex\$ in $suite"
	echo "fetch-kernels: $series: $pkg" >&2
	local dl
	dl=$(mktemp -d "$CACHE/dl.XXXXXX")
	(cd "$dl" && apt_private apt-get download "$pkg" >&2) || { rm -rf "$dl"; die "apt-get download $pkg failed"; }
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! dpkg-deb -x "$dl"/*.deb "$dir/root"; then
		rm -rf "$dl" "$dir"
		die "dpkg-deb -x failed for $pkg"
	fi
	rm -rf "$dl"
	local kver
	kver=$(kver_of_root "$dir/root") || { rm -rf "$dir"; die "$pkg holds no lib/modules/<kver>"; }
	echo "$kver" > "$dir/kver"
	echo "$pkg" > "$dir/package"
	touch "$dir/ok"
	echo "$series $kver $dir/root"
}

main() {
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb"
	mkdir -p "$CACHE" "$KERNELS_DIR"
	[ "${PERIM_VM_REFRESH:-0}" = 1 ] && rm -f "$APT_DIR/updated"
	local want=("$@") line s
	for line in "${SERIES[@]}"; do
		read -r s regex suite <<<"$line"
		if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx "$s"; then
			continue
		fi
		fetch_one "$s" "$regex" "$suite"
	done
}

main "$@"
