#!/bin/bash
# Runs inside each VM (chrooted into the host's root, see guest-init):
#   guest-tests.sh RESULTS_FILE
# Reads tests/vm/cases.list; each listed case NAME is the function case_NAME
# (dashes become underscores) defined in tests/vm/cases/*.sh. The text before
# the first dash is the case's family, a column of the VM tier's table.
# Each case runs in its own process with a time bound and prints one
# PASS/FAIL/SKIP line to RESULTS_FILE as soon as it ends, so a VM that hangs
# later still reports what it finished. A case skips with `vm_skip REASON`.
VM_DIR=$(cd "$(dirname "$0")" && pwd)
CASE_TIMEOUT=${PERIM_VM_CASE_TIMEOUT:-300}

load_cases() {
	source "$VM_DIR/../lib/lib.sh"
	VM_OUT=$TOP/.output/tests/vm/progs
	local f
	for f in "$VM_DIR"/cases/*.sh; do source "$f"; done
}

vm_skip() { echo "$*" > "$VM_SKIP_FILE"; exit 0; }

# --case NAME SKIPFILE: one case in this process.
if [ "${1:-}" = --case ]; then
	VM_SKIP_FILE=$3
	load_cases
	fn=case_${2//-/_}
	declare -F "$fn" >/dev/null || { echo "no function $fn for case $2"; exit 1; }
	( set -o pipefail; "$fn" )
	exit $?
fi

results=${1:?usage: guest-tests.sh RESULTS_FILE}
times=$(dirname "$results")/case-ms.txt	# "case milliseconds" per line
only=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^perim_cases=//p')
work=$(mktemp -d /tmp/perim-vm-guest.XXXXXX)
trap 'rm -rf "$work"' EXIT

emit() { echo "$*" | tee -a "$results"; }

run_case() {
	local name=$1 rc t0
	rm -f "$work/skip"
	t0=$(date +%s%N)
	timeout -k 5 "$CASE_TIMEOUT" bash "$0" --case "$name" "$work/skip" > "$work/log" 2>&1
	rc=$?
	echo "$name $(( ($(date +%s%N) - t0) / 1000000 ))" >> "$times"
	if [ -s "$work/skip" ]; then
		emit "SKIP: $name: $(head -n1 "$work/skip")"
	elif [ $rc -eq 0 ]; then
		emit "PASS: $name"
	else
		[ $rc -eq 124 ] && echo "killed after ${CASE_TIMEOUT}s" >> "$work/log"
		emit "FAIL: $name"
		tail -n 40 "$work/log" | sed 's/^/    /' | tee -a "$results"
	fi
}

echo "guest: $(uname -r), lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)" | tee -a "$results"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$VM_DIR/cases.list" | while read -r name _; do
	[ -n "$only" ] && ! grep -qE -- "$only" <<<"$name" && continue
	run_case "$name"
done
