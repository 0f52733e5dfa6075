#!/bin/bash
# The VM tier's systemd guest: boots Debian 12's kernel (6.1; or the series
# given) with systemd as PID 1 on a writable overlay over the host's
# read-only root (guest-init, perim_systemd=1), installs perim's .deb there
# and runs tests/vm/guest-systemd.sh: the unit as an operator meets it.
#
#   tests/vm/systemd.sh [SERIES]      (needs `make deb` first: .output/deb/perim_*.deb)
#
# Prints "PASS|FAIL|SKIP: vm-systemd-<series>:<case>". Environment as
# tests/vm/run.sh: PERIM_VM_CACHE, PERIM_VM_TIMEOUT (default 600), PERIM_VM_KEEP.
set -u
VM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$VM_DIR/../.." && pwd)
TIMEOUT=${PERIM_VM_TIMEOUT:-600}
# one host thread for both vCPUs: see ACCEL in run.sh
ACCEL=${PERIM_VM_ACCEL:-tcg,thread=single}
SERIES=${1:-6.1}
WORK=$(mktemp -d /tmp/perim-vm-systemd.XXXXXX)
QEMU_PID=
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	if [ -n "${PERIM_VM_KEEP:-}" ]; then mkdir -p "$PERIM_VM_KEEP" && cp -r "$WORK" "$PERIM_VM_KEEP/"; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
name=vm-systemd-$SERIES

[ "$(id -u)" -eq 0 ] || { echo "SKIP: $name:all: needs root"; exit 0; }
for t in qemu-system-x86_64 busybox cpio depmod modprobe; do
	command -v "$t" >/dev/null || { echo "SKIP: $name:all: $t not installed (scripts/deps.sh)"; exit 0; }
done
[ -x /lib/systemd/systemd ] || { echo "SKIP: $name:all: no /lib/systemd/systemd on the host root the guest boots"; exit 0; }
deb=$(ls "$TOP"/.output/deb/perim_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "SKIP: $name:all: no .output/deb/perim_*_amd64.deb to install (make deb builds it)"; exit 0; }

line=$("$VM_DIR/fetch-kernels.sh" "$SERIES" 2> "$WORK/fetch.log" | grep "^$SERIES ") ||
	{ echo "FAIL: $name:fetch: $(tail -n 3 "$WORK/fetch.log")"; exit 1; }
read -r _ kver root <<<"$line"
mkdir -p "$WORK/share"
echo fail > "$WORK/share/status"
cp "$deb" "$WORK/share/perim.deb"
PERIM_VM_EXTRA_MODULES=overlay "$VM_DIR/build-initramfs.sh" "$root" "$kver" "$WORK/initramfs.cpio.gz" 2> "$WORK/initramfs.log" ||
	{ echo "FAIL: $name:boot: initramfs: $(tail -n 1 "$WORK/initramfs.log")"; exit 1; }

echo "== vm systemd guest on $SERIES ($kver), $(basename "$deb")"
cmdline="console=ttyS0 rdinit=/init panic=-1 lsm=lockdown,capability,bpf"
cmdline+=" perim_systemd=1 perim_tests=$VM_DIR/guest-systemd.sh perim_top=$TOP"
cmdline+=" systemd.unit=perim-vm.target systemd.show_status=0 systemd.log_level=warning"
t0=$(date +%s)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu max -m 2G -smp 2 -nographic -no-reboot \
	-kernel "$root/boot/vmlinuz-$kver" -initrd "$WORK/initramfs.cpio.gz" -append "$cmdline" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=results,path="$WORK/share",security_model=none \
	-device virtio-9p-pci,fsdev=results,mount_tag=results \
	< /dev/null > "$WORK/console.log" 2>&1 &
QEMU_PID=$!
wait "$QEMU_PID"
qrc=$?
QEMU_PID=

[ -f "$WORK/share/results.txt" ] && sed -nE -e "s/^(PASS|FAIL|SKIP): /\\1: $name:/p" -e '/^    /p' "$WORK/share/results.txt"
case $(cat "$WORK/share/status") in
"done 0") rc=0 ;;
"done "*) rc=1 ;;
*)
	echo "FAIL: $name:boot: the guest did not finish (qemu exit $qrc); console tail:"
	tail -n 40 "$WORK/console.log" | sed 's/^/    /'
	rc=1 ;;
esac
echo "vm systemd guest: boot $(cat "$WORK/share/boot-seconds" 2>/dev/null)s to systemd, wall $(( $(date +%s) - t0 ))s"
exit $rc
