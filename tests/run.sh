#!/bin/bash
# perim's test command: the C unit tests (BPF_PROG_TEST_RUN), the shell
# integration tests in network namespaces, then the VM tier. Every case prints
# PASS/FAIL/SKIP; this script counts them and ends with the closing line.
# PERIM_SKIP_VM=1 leaves the VM tier out (it is counted as a skip with that reason).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
LOG=$(mktemp /tmp/perim-run.XXXXXX)
trap 'rm -f "$LOG"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "tests/run.sh: must run as root (BPF, namespaces)"; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

run_one() {
	local name=$1; shift
	echo "== $name"
	"$@" 2>&1 | tee -a "$LOG"
	local rc=${PIPESTATUS[0]}
	# A program that died without reporting a failed case is a failure too.
	if [ "$rc" -ne 0 ] && ! tail -n 50 "$LOG" | grep -q '^FAIL:'; then
		echo "FAIL: $name: exited $rc" | tee -a "$LOG"
	fi
}

# One binary per tests/unit/*.c (a binary left from a removed source is not run).
# PERIM_OUT: run another build's binaries (tests/lib/lib.sh reads it too).
for src in tests/unit/*.c; do
	t=${PERIM_OUT:-.output}/tests/unit/$(basename "${src%.c}")
	if [ -x "$t" ]; then
		run_one "$t" "$t"
	else
		echo "FAIL: $t: not built (make tests)" | tee -a "$LOG"
	fi
done
for t in tests/integ/test-*.sh; do
	[ -f "$t" ] && run_one "$t" bash "$t"
done
if [ "${PERIM_SKIP_VM:-0}" = 1 ]; then
	echo "SKIP: vm tier: PERIM_SKIP_VM=1 was set" | tee -a "$LOG"
elif [ -x tests/vm/run.sh ]; then
	run_one tests/vm/run.sh tests/vm/run.sh
fi

pass=$(grep -c '^PASS:' "$LOG")
fail=$(grep -c '^FAIL:' "$LOG")
skip=$(grep -c '^SKIP:' "$LOG")
if [ "$fail" -gt 0 ]; then
	echo; echo "failed cases:"; grep '^FAIL:' "$LOG"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
