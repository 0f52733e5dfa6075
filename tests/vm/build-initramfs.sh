#!/bin/bash
# Builds the VM tier's initramfs for one unpacked Debian kernel:
#   build-initramfs.sh KERNEL_ROOT KVER OUT.cpio.gz
# busybox-static, tests/vm/guest-init as /init, and the kernel's own modules
# the guest needs (virtio-9p for the shares, veth for the tests) with their
# dependencies in load order, resolved from a modules.dep made by depmod -b,
# and spare modules (SPARE_MODULES) for the cases to load themselves.
set -eu
VM_DIR=$(cd "$(dirname "$0")" && pwd)
# Modules the guest loads; built-in ones are skipped, dependencies added.
# The qdiscs and tc classifier are loaded here because the kernel's own
# module autoload would look in the initramfs, not in the chrooted host root.
# nf_conntrack (its BTF holds the XDP conntrack kfuncs) and nft_synproxy: SYN protection;
# 8021q: VLAN devices over a protected interface (syncookie-vlan).
# PERIM_VM_EXTRA_MODULES adds more (the systemd guest's overlay).
MODULES="virtio_pci 9pnet_virtio 9p veth sch_ingress cls_bpf sch_tbf sch_fq_codel nf_conntrack nft_ct nft_synproxy 8021q ${PERIM_VM_EXTRA_MODULES:-}"
# Modules packed but not loaded (their dependencies are): the cases load them
# to see perimd's module_load hook fire. guest-init copies them to
# /run/perim-vm-modules/, since the chrooted host root has no
# /lib/modules/<guest kernel>.
SPARE_MODULES="dummy"

die() { echo "build-initramfs: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: build-initramfs.sh KERNEL_ROOT KVER OUT.cpio.gz"
root=$1 kver=$2 out=$3
[ -d "$root/lib/modules/$kver" ] || die "$root/lib/modules/$kver does not exist"
busybox=$(command -v busybox) || die "busybox not found (package busybox-static)"
file -L "$busybox" | grep -q 'statically linked' || die "$busybox is not static (package busybox-static)"
command -v cpio >/dev/null || die "cpio not found"

stage=$(mktemp -d /tmp/perim-initramfs.XXXXXX)
trap 'rm -rf "$stage"' EXIT

# depmod writes modules.dep next to the modules: our cache, never the host's.
if [ ! -s "$root/lib/modules/$kver/modules.dep" ]; then
	depmod -b "$root" "$kver" || die "depmod -b $root $kver failed"
fi

mkdir -p "$stage/bin" "$stage/modules"
cp "$busybox" "$stage/bin/busybox"
install -m 0755 "$VM_DIR/guest-init" "$stage/init"

# unpack PATH DEST: busybox insmod takes plain ELF, so compressed modules are unpacked here
unpack() {
	case $1 in
	*.xz)  xz -dc "$1" > "$2" ;;
	*.zst) zstd -qdc "$1" > "$2" ;;
	*.gz)  gzip -dc "$1" > "$2" ;;
	*)     cp "$1" "$2" ;;
	esac
}

# add_module NAME LOAD: NAME's dependencies into load.order; NAME itself too
# when LOAD is "load", else into spare/.
add_module() {
	local m=$1 load=$2 deps verb path name
	# --show-depends lists "insmod PATH" lines, dependencies first
	deps=$(modprobe -d "$root" -S "$kver" --show-depends "$m") || die "modprobe cannot resolve $m for $kver"
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		name=$(basename "$path")
		name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
		if [ "$load" != load ] && [ "$name" = "$m.ko" ]; then
			unpack "$path" "$stage/modules/spare/$name"
			continue
		fi
		grep -qx "$name" "$stage/modules/load.order" && continue
		unpack "$path" "$stage/modules/$name"
		echo "$name" >> "$stage/modules/load.order"
	done <<<"$deps"
	[ "$load" = load ] || [ -f "$stage/modules/spare/$m.ko" ] || die "$m is built into $kver, not a module"
}

mkdir -p "$stage/modules/spare"
: > "$stage/modules/load.order"
for m in $MODULES; do add_module "$m" load; done
for m in $SPARE_MODULES; do add_module "$m" spare; done

(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(tr '\n' ' ' < "$stage/modules/load.order"); spare: $(ls "$stage/modules/spare" | tr '\n' ' '))" >&2
