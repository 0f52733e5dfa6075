#!/bin/bash
# Builds the VM tier's initramfs for one unpacked Debian kernel:
#   build-initramfs.sh KERNEL_ROOT KVER OUT.cpio.gz
# busybox-static, tests/vm/guest-init as /init, and the kernel's own modules
# the guest needs (virtio-9p for the shares, veth for the tests) with their
# dependencies in load order, resolved from a modules.dep made by depmod -b.
set -eu
VM_DIR=$(cd "$(dirname "$0")" && pwd)
# Modules the guest loads; built-in ones are skipped, dependencies added.
# The qdiscs and tc classifier are loaded here because the kernel's own
# module autoload would look in the initramfs, not in the chrooted host root.
MODULES="virtio_pci 9pnet_virtio 9p veth sch_ingress cls_bpf sch_tbf sch_fq_codel"

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

: > "$stage/modules/load.order"
for m in $MODULES; do
	# --show-depends lists "insmod PATH" lines, dependencies first
	deps=$(modprobe -d "$root" -S "$kver" --show-depends "$m") || die "modprobe cannot resolve $m for $kver"
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		name=$(basename "$path")
		name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
		grep -qx "$name" "$stage/modules/load.order" && continue
		# busybox insmod takes plain ELF, so compressed modules are unpacked here
		case $path in
		*.xz)  xz -dc "$path" > "$stage/modules/$name" ;;
		*.zst) zstd -qdc "$path" > "$stage/modules/$name" ;;
		*.gz)  gzip -dc "$path" > "$stage/modules/$name" ;;
		*)     cp "$path" "$stage/modules/$name" ;;
		esac
		echo "$name" >> "$stage/modules/load.order"
	done <<<"$deps"
done

(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(tr '\n' ' ' < "$stage/modules/load.order"))" >&2
