#!/bin/bash
# perim's VM test tier: boots Debian's stock kernels in qemu (software
# emulation, BPF LSM on the command line) and runs tests/vm/guest-tests.sh in
# each, with the host's / shared read-only, so the binaries built once on the
# host run unchanged on every kernel.
#
#   tests/vm/run.sh [SERIES...]        e.g. tests/vm/run.sh 6.1
#
# Prints "PASS|FAIL|SKIP: vm-<series>:<case>" per case, then a table
# kernel x hook family and the timings. Environment:
#   PERIM_VM_KERNELS   series to run when none are given (default "5.10 6.1 6.12")
#   PERIM_VM_TIMEOUT   seconds before a VM is killed (default 2400)
#   PERIM_VM_CASES     regex: run only the cases whose name matches
#   PERIM_VM_REFRESH=1 resolve and fetch the newest kernel packages again
#   PERIM_VM_SYSTEMD=0 leave out the systemd guest (tests/vm/systemd.sh, 6.1)
#   PERIM_VM_JOBS      guests booted at once (default: the host's CPUs)
set -u
VM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$VM_DIR/../.." && pwd)
CACHE=${PERIM_VM_CACHE:-$VM_DIR/cache}
TIMEOUT=${PERIM_VM_TIMEOUT:-2400}
# One host thread runs both vCPUs. With a thread per vCPU (QEMU 7.2 MTTCG),
# guests hung when BPF attaches rewrote a function entry (security_file_open)
# another vCPU was running: memory held the patched call, and both vCPUs
# spun at that address for minutes (tests/vm/README.md, "Emulation").
ACCEL=${PERIM_VM_ACCEL:-tcg,thread=single}
JOBS=${PERIM_VM_JOBS:-$(nproc)}
SERIES=("$@")
[ ${#SERIES[@]} -gt 0 ] || read -r -a SERIES <<<"${PERIM_VM_KERNELS:-5.10 6.1 6.12}"

# `run.sh --boot SERIES|systemd` is one guest of a run (started by main
# through xargs, in the run's $PERIM_VM_WORK).
BOOT=
if [ "${1:-}" = --boot ]; then
	BOOT=$2
	WORK=${PERIM_VM_WORK:?run.sh --boot is started by run.sh}
else
	WORK=$(mktemp -d /tmp/perim-vm.XXXXXX)
fi
GUESTS_PID=
cleanup() {
	local pidfile
	# the guests' runners share GUESTS_PID's process group; qemu runs under
	# timeout, in a group of its own, so it is also told by its pid file
	[ -n "$GUESTS_PID" ] && kill -TERM -- "-$GUESTS_PID" 2>/dev/null
	for pidfile in "$WORK"/*/qemu.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	done
	rm -rf "$WORK"
}
if [ -z "$BOOT" ]; then
	trap cleanup EXIT
	trap 'exit 130' INT TERM
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# skip_all REASON: every kernel gets one SKIP line; the tier cannot run here.
skip_all() {
	local s
	for s in "${SERIES[@]}"; do echo "SKIP: vm-$s:all: $1"; done
	exit 0
}

check_host() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
	local t
	for t in qemu-system-x86_64 busybox cpio clang bpftool depmod modprobe apt-get dpkg-deb; do
		command -v "$t" >/dev/null || skip_all "$t not installed (scripts/deps.sh)"
	done
}

# The probe programs and their loader, built by the top Makefile with the
# flags of every other program (into .output/tests/vm/progs/), and the test
# tools some cases send with.
build_progs() {
	make -C "$TOP" vm-progs tools
}

# The perim binaries as they are now: every kernel gets these same bytes.
snapshot_binaries() {
	local b
	for b in perimd perimctl; do
		[ -x "$TOP/.output/$b" ] || { echo "vm: .output/$b not built, perim cases will skip"; return 0; }
	done
	mkdir -p "$WORK/bin"
	cp "$TOP/.output/perimd" "$TOP/.output/perimctl" "$WORK/bin/" || return 0
	echo "vm: binaries for every kernel: $(cd "$WORK/bin" && sha256sum perimd perimctl | awk '{ printf "%s %.12s  ", $2, $1 }')"
}

# run_vm SERIES KVER ROOT: boots one kernel; leaves results in $WORK/$series.
run_vm() {
	local series=$1 kver=$2 root=$3 dir=$WORK/$1
	mkdir -p "$dir/share"
	# A VM that dies or hangs never overwrites this.
	echo "fail" > "$dir/share/status"
	[ -d "$WORK/bin" ] && cp -a "$WORK/bin" "$dir/share/bin"
	"$VM_DIR/build-initramfs.sh" "$root" "$kver" "$dir/initramfs.cpio.gz" 2>"$dir/initramfs.log" || {
		echo "FAIL: vm-$series:boot: initramfs: $(tail -n1 "$dir/initramfs.log")"
		return 1
	}
	local cmdline="console=ttyS0 rdinit=/init panic=-1 lsm=lockdown,capability,bpf"
	cmdline+=" perim_tests=$VM_DIR/guest-tests.sh"
	cmdline+=" perim_top=$TOP"
	[ -n "${PERIM_VM_CASES:-}" ] && cmdline+=" perim_cases=$PERIM_VM_CASES"
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu max -m 4G -smp 2 \
		-nographic -no-reboot \
		-kernel "$root/boot/vmlinuz-$kver" -initrd "$dir/initramfs.cpio.gz" -append "$cmdline" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev local,id=results,path="$dir/share",security_model=none \
		-device virtio-9p-pci,fsdev=results,mount_tag=results \
		< /dev/null > "$dir/console.log" 2>&1 &
	echo $! > "$dir/qemu.pid"
	wait $!
	local rc=$?
	rm -f "$dir/qemu.pid"
	return $rc
}

# print_first_splat CONSOLE: the head of the kernel's first complaint (a lockup,
# a stall, an oops: its first line names it, and the case that ran is above it),
# which the console's tail, full of register dumps, does not show.
print_first_splat() {
	local at
	at=$(grep -n -m1 -E 'BUG:|Oops|soft lockup|hard LOCKUP|rcu: INFO|rcu_.* self-detected|Kernel panic|WARNING:|INFO: task' "$1" | cut -d: -f1)
	[ -n "$at" ] || return 0
	echo "    first kernel complaint, console line $at:"
	sed -n "$(( at > 10 ? at - 10 : 1 )),$(( at + 50 ))p" "$1" | sed 's/^/    | /'
	echo "    ..."
}

# report_vm SERIES QEMU_RC: per-case lines, and the family cells for the table.
report_vm() {
	local series=$1 qrc=$2 dir=$WORK/$1 status
	status=$(cat "$dir/share/status" 2>/dev/null)
	if [ -f "$dir/share/results.txt" ]; then
		sed -nE -e "s/^(PASS|FAIL|SKIP): /\\1: vm-$series:/p" -e '/^    /p' "$dir/share/results.txt"
	fi
	case $status in
	"done 0"|"done 1") ;;
	*)
		local why="guest did not finish"
		[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="killed after ${TIMEOUT}s"
		echo "FAIL: vm-$series:boot: $why (qemu exit $qrc); console tail:"
		print_first_splat "$dir/console.log"
		tail -n 30 "$dir/console.log" | sed 's/^/    /'
		[ -f "$dir/share/guest-init.err" ] && sed 's/^/    /' "$dir/share/guest-init.err"
		;;
	esac
}

# One row per kernel: for each family, pass / FAIL / skip / "-" (not run).
print_table() {
	local families series f cell lines
	families=$(cat "$WORK"/*/share/results.txt 2>/dev/null |
		sed -nE 's/^(PASS|FAIL|SKIP): ([a-z0-9_]+)-.*/\2/p' | awk '!seen[$0]++')
	echo
	printf '%-6s %-21s' kernel release
	for f in $families boot; do printf ' %s' "$f"; done
	echo
	for series in "${SERIES[@]}"; do
		printf '%-6s %-21s' "$series" "$(cat "$WORK/$series/kver" 2>/dev/null)"
		for f in $families; do
			lines=$(grep -E "^(PASS|FAIL|SKIP): $f-" "$WORK/$series/share/results.txt" 2>/dev/null)
			if [ -z "$lines" ]; then cell=-
			elif grep -q '^FAIL' <<<"$lines"; then cell=FAIL
			elif grep -q '^PASS' <<<"$lines"; then cell=pass
			else cell=skip
			fi
			printf " %-${#f}s" "$cell"
		done
		case $(cat "$WORK/$series/share/status" 2>/dev/null) in
		"done "*) cell=pass ;; *) cell=FAIL ;;
		esac
		printf ' %s\n' "$cell"
	done
	echo "(a family is pass when none of its cases failed and one passed; skip when all skipped)"
}

print_timings() {
	local series d boot end
	echo
	echo "VM tier timings (TCG software emulation):"
	for series in "${SERIES[@]}"; do
		d=$WORK/$series
		boot=$(cat "$d/share/boot-seconds" 2>/dev/null || echo "?")
		end=$(cat "$d/share/end-seconds" 2>/dev/null || echo "?")
		local cases="?"
		[ "$boot" != "?" ] && [ "$end" != "?" ] && cases=$(elapsed "$boot" "$end")
		printf '  %-6s boot %ss, cases %ss, VM wall %ss\n' "$series" "$boot" "$cases" "$(cat "$d/wall" 2>/dev/null || echo "?")"
		[ -s "$d/share/case-ms.txt" ] && printf '         slowest: %s\n' "$(sort -k2 -nr "$d/share/case-ms.txt" |
			head -n 4 | awk '{ printf "%s%s %.1fs", (NR > 1 ? ", " : ""), $1, $2 / 1000 }')"
	done
}

# boot_series SERIES: one kernel's guest; its report lands in $WORK/SERIES/report.
boot_series() {
	local series=$1 line kver root qrc t1 dir=$WORK/$1
	mkdir -p "$dir"
	line=$(grep "^$series " "$WORK/kernels") || {
		echo "FAIL: vm-$series:fetch: unknown kernel series (known: 5.10 6.1 6.12)" > "$dir/report"
		return
	}
	read -r _ kver root <<<"$line"
	echo "$kver" > "$dir/kver"
	echo "== vm $series ($kver): booting"
	t1=$(now)
	run_vm "$series" "$kver" "$root"
	qrc=$?
	elapsed "$t1" "$(now)" > "$dir/wall"
	{ echo "== vm $series ($kver)"; report_vm "$series" "$qrc"; } > "$dir/report"
	if [ -n "${PERIM_VM_KEEP:-}" ]; then
		mkdir -p "$PERIM_VM_KEEP" && cp -r "$dir" "$PERIM_VM_KEEP/"
	fi
}

main() {
	local t0 series failed=0
	t0=$(now)
	check_host
	if ! build_progs > "$WORK/build.log" 2>&1; then
		echo "FAIL: vm:build: probe programs did not build:"
		tail -n 20 "$WORK/build.log" | sed 's/^/    /'
		return 1
	fi
	if ! "$VM_DIR/fetch-kernels.sh" "${SERIES[@]}" > "$WORK/kernels" 2> "$WORK/fetch.log"; then
		echo "FAIL: vm:fetch: kernel packages could not be fetched:"
		tail -n 20 "$WORK/fetch.log" | sed 's/^/    /'
		return 1
	fi
	snapshot_binaries
	# Each guest runs on one host thread (ACCEL), so the host's CPUs boot as
	# many guests at once, the longest first (newer kernels have taken longer,
	# the systemd guest a few minutes), so that no long one starts last; their
	# reports print in the order asked for.
	{
		printf '%s\n' "${SERIES[@]}" | sort -t. -k1,1nr -k2,2nr
		[ "${PERIM_VM_SYSTEMD:-1}" = 1 ] && echo systemd
	} > "$WORK/guests"
	PERIM_VM_WORK=$WORK setsid xargs -P "$JOBS" -n 1 "$VM_DIR/run.sh" --boot < "$WORK/guests" &
	GUESTS_PID=$!
	wait "$GUESTS_PID"
	GUESTS_PID=
	for series in "${SERIES[@]}"; do
		[ -s "$WORK/$series/report" ] || echo "FAIL: vm-$series:boot: its guest's runner ended without a report" > "$WORK/$series/report"
		cat "$WORK/$series/report"
		grep -q '^FAIL:' "$WORK/$series/report" && failed=1
	done
	if [ "${PERIM_VM_SYSTEMD:-1}" = 1 ]; then
		cat "$WORK/systemd.report"
		grep -q '^FAIL:' "$WORK/systemd.report" && failed=1
	fi
	print_table
	print_timings
	echo "  total  $(elapsed "$t0" "$(now)")s"
	return $failed
}

# boot_one SERIES|systemd: one guest, in its own process (run.sh --boot).
boot_one() {
	if [ "$1" = systemd ]; then
		"$VM_DIR/systemd.sh" > "$WORK/systemd.report" 2>&1
	else
		boot_series "$1"
	fi
	return 0
}

if [ -n "$BOOT" ]; then
	boot_one "$BOOT"
else
	main
fi
