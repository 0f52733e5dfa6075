#!/bin/bash
# Runs inside each VM (chrooted into the host's root, see guest-init):
#   guest-tests.sh RESULTS_FILE
# Reads tests/vm/cases.list; each listed case NAME is the function case_NAME
# (dashes become underscores) defined in tests/vm/cases/*.sh. The text before
# the first dash is the case's family, a column of the VM tier's table.
# Each case runs in its own process with a time bound and prints one
# PASS/FAIL/SKIP line to RESULTS_FILE as soon as it ends, so a VM that hangs
# later still reports what it finished. A case skips with `vm_skip REASON`.
# A case listed with `shared=NAME` runs against fixture NAME, the function
# fixture_NAME of tests/vm/cases/*.sh, set up once (in a process of its own)
# before the first of the consecutive cases naming it and torn down after the
# last: under emulation a perimd start is ~30 s, most of a case's time.
VM_DIR=$(cd "$(dirname "$0")" && pwd)
CASE_TIMEOUT=${PERIM_VM_CASE_TIMEOUT:-300}

load_cases() {
	source "$VM_DIR/../lib/lib.sh"
	VM_OUT=$TOP/.output/tests/vm/progs
	local f
	for f in "$VM_DIR"/cases/*.sh; do source "$f"; done
}

vm_skip() { echo "$*" > "$VM_SKIP_FILE"; exit 0; }

# --fixture NAME DIR: fixture NAME set up in this process, its environment
# written to DIR/env and "ready" (or "failed") to DIR/state; it stays until
# TERM, when lib.sh's exit trap removes all it made.
if [ "${1:-}" = --fixture ]; then
	fx_dir=$3
	VM_SKIP_FILE=$fx_dir/skip	# its cases then skip for the same reason
	load_cases
	if ! "fixture_$2" > "$fx_dir/log" 2>&1; then
		echo failed > "$fx_dir/state"
		exit 1
	fi
	{
		echo "PERIM_TEST_PREFIX=$T"
		echo "FIXTURE_TMP=$TMP"
		echo "FIXTURE_PID=${PERIMD_PID:-}"
		echo "FIXTURE_ARGS='${FIXTURE_ARGS:-}'"
	} > "$fx_dir/env"
	echo ready > "$fx_dir/state"
	sleep infinity &
	track_pid $!
	wait $!
	exit 0
fi

# --case NAME SKIPFILE: one case in this process.
if [ "${1:-}" = --case ]; then
	VM_SKIP_FILE=$3
	load_cases
	fn=case_${2//-/_}
	declare -F "$fn" >/dev/null || { echo "no function $fn for case $2"; exit 1; }
	# In this shell, not a subshell: lib.sh's exit trap removes what the case
	# registered (a subshell's registrations die with it, and every case's
	# perimd, tracers attached, ran on through the cases after it).
	set -o pipefail
	"$fn"
	exit $?
fi

results=${1:?usage: guest-tests.sh RESULTS_FILE}
times=$(dirname "$results")/case-ms.txt	# "case milliseconds" per line
only=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^perim_cases=//p')
work=$(mktemp -d /tmp/perim-vm-guest.XXXXXX)
trap 'rm -rf "$work"' EXIT

emit() { echo "$*" | tee -a "$results"; }

FIXTURE= FIXTURE_RUNNER=
# fixture_start NAME: its process started, its state awaited (a file it writes
# once set up: ready or failed).
fixture_start() {
	local waited=0 t0
	FIXTURE=$1
	t0=$(date +%s%N)
	mkdir -p "$work/fixture-$1"
	bash "$0" --fixture "$1" "$work/fixture-$1" &
	FIXTURE_RUNNER=$!
	while [ ! -s "$work/fixture-$1/state" ] && kill -0 "$FIXTURE_RUNNER" 2>/dev/null &&
		[ $waited -lt $(( CASE_TIMEOUT * 10 )) ]; do
		sleep 0.1
		waited=$(( waited + 1 ))
	done
	echo "fixture:$1 $(( ($(date +%s%N) - t0) / 1000000 ))" >> "$times"
	[ "$(cat "$work/fixture-$1/state" 2>/dev/null)" = ready ] || [ -s "$work/fixture-$1/skip" ] || {
		echo "fixture $1 not set up:"; cat "$work/fixture-$1/log"; } | sed 's/^/    /' | tee -a "$results"
}

fixture_stop() {
	[ -n "$FIXTURE" ] || return 0
	kill -TERM "$FIXTURE_RUNNER" 2>/dev/null
	wait "$FIXTURE_RUNNER" 2>/dev/null
	FIXTURE= FIXTURE_RUNNER=
}

# case_env SHARED: the environment a case runs in (none, or its fixture's).
case_env() {
	[ -n "$1" ] || return 0
	if [ "$(cat "$work/fixture-$1/state" 2>/dev/null)" != ready ]; then
		echo "PERIM_VM_FIXTURE_FAILED=$work/fixture-$1/log"
		return 0
	fi
	grep '^PERIM_TEST_PREFIX=' "$work/fixture-$1/env"
	echo "PERIM_VM_FIXTURE=$work/fixture-$1/env"
}

run_case() {
	local name=$1 shared=$2 rc t0
	rm -f "$work/skip"
	if [ "$shared" != "$FIXTURE" ]; then
		fixture_stop
		[ -n "$shared" ] && fixture_start "$shared"
	fi
	t0=$(date +%s%N)
	# shellcheck disable=SC2046 # one VAR=VALUE a word
	env $(case_env "$shared") timeout -k 5 "$CASE_TIMEOUT" bash "$0" --case "$name" "$work/skip" > "$work/log" 2>&1
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
# (the guest's /dev has no /dev/fd: no process substitution)
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$VM_DIR/cases.list" > "$work/cases"
while read -r name opt; do
	[ -n "$only" ] && ! grep -qE -- "$only" <<<"$name" && continue
	run_case "$name" "$(sed -n 's/^shared=//p' <<<"$opt")"
done < "$work/cases"
fixture_stop
