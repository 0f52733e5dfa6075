# shellcheck shell=bash
# Shared helpers for perim's shell tests (tests/integ/test-*.sh).
#
# A test file defines functions named case_* and ends with `run_cases "$@"`.
# Each case prints one PASS/FAIL/SKIP line. Everything a test creates
# (namespaces, veths, pin dirs, processes, temp files) carries the unique
# prefix $T and is removed by the EXIT trap, on every exit path.

set -u
# perimctl refuses changes that would cut the caller's own SSH session;
# tests are a local operator (test-ruleset.sh sets it where it tests that).
unset SSH_CONNECTION
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# PERIM_OUT: another build's outputs, e.g. PERIM_OUT=.output-san (make SAN=1).
OUT=${PERIM_OUT:-$TOP/.output}
case $OUT in /*) ;; *) OUT=$TOP/$OUT ;; esac
PERIMD=$OUT/perimd
PERIMCTL=$OUT/perimctl
TOOLS=$OUT/tests/tools

# Unique, short (interface names are at most 15 bytes): "p" + 5 hex digits.
T=${PERIM_TEST_PREFIX:-p$(printf '%05x' $(( (RANDOM << 8 ^ $$) & 0xfffff )))}
TMP=$(mktemp -d "/tmp/perim-test-$T.XXXXXX")

_cleanup_ns=()
_cleanup_pids=()
_cleanup_paths=()
_cleanup_cmds=()

# Removes what was registered, newest first is not needed: processes, then
# namespaces, then paths.
cleanup_registered() {
	local p c
	for c in "${_cleanup_cmds[@]}"; do eval "$c" >/dev/null 2>&1; done
	local -a live=()
	for p in "${_cleanup_pids[@]}"; do
		still_same_process "$p" && live+=("${p%%:*}")
	done
	for p in "${live[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${live[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$p" 2>/dev/null
	done
	for p in "${_cleanup_ns[@]}"; do kill_ns_processes "$p"; ip netns del "$p" 2>/dev/null; done
	for p in "${_cleanup_paths[@]}"; do rm -rf "$p"; done
	_cleanup_cmds=() _cleanup_pids=() _cleanup_ns=() _cleanup_paths=()
}
# kill_ns_processes NS: whatever still runs in one of our namespaces (a
# background process whose tracked pid was only its wrapper) would keep the
# namespace alive after `ip netns del`: TERM, then KILL what is left.
kill_ns_processes() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	for _ in $(seq 50); do
		pids=$(ip netns pids "$1" 2>/dev/null)
		[ -n "$pids" ] || return 0
		sleep 0.05
	done
	kill -9 $pids 2>/dev/null
}
cleanup() {
	cleanup_registered
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on_cleanup() { _cleanup_cmds+=("$*"); }
# A tracked process is killed at cleanup only while its pid still names it:
# on a machine that forks fast, pids are reused within seconds, and killing a
# reused pid would hit another test's (or the system's) process.
proc_start_time() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	set -- ${stat##*) }
	echo "${20}"
}
# A process already gone (one that fails at once, as a second bind to a
# taken port) leaves nothing to remove: tracking it succeeds.
track_pid() {
	local start
	start=$(proc_start_time "$1") || return 0
	_cleanup_pids+=("$1:$start")
}
still_same_process() {
	local pid=${1%%:*} start=${1#*:}
	[ -n "$start" ] && [ "$(proc_start_time "$pid")" = "$start" ]
}
track_path() { _cleanup_paths+=("$1"); }

mount_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# ns_add NAME: a namespace named $T-NAME, with loopback up.
ns_add() {
	ip netns add "$T-$1" || return 1
	_cleanup_ns+=("$T-$1")
	ip -n "$T-$1" link set lo up
}

# veth_add NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B: a veth pair between two of
# our namespaces, addresses with prefix length (IPv4 or IPv6), links up.
veth_add() {
	local nsa=$T-$1 deva=$2 addra=$3 nsb=$T-$4 devb=$5 addrb=$6
	ip link add "$deva" netns "$nsa" type veth peer name "$devb" netns "$nsb" || return 1
	ip -n "$nsa" addr add "$addra" dev "$deva" nodad 2>/dev/null || ip -n "$nsa" addr add "$addra" dev "$deva"
	ip -n "$nsb" addr add "$addrb" dev "$devb" nodad 2>/dev/null || ip -n "$nsb" addr add "$addrb" dev "$devb"
	ip -n "$nsa" link set "$deva" up
	ip -n "$nsb" link set "$devb" up
}

in_ns() { local ns=$T-$1; shift; ip netns exec "$ns" "$@"; }

# wait_until SECONDS CMD...: poll CMD (every 20 ms) until it succeeds.
# Awaits a counter or a state; never a fixed sleep standing in for one.
wait_until() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# ---- assertions: print what failed, return 1 ----
fail() { echo "  $*" >&2; return 1; }
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"; }
expect_ne() { [ "$1" != "$2" ] || fail "${3:-value}: got '$1', expected anything else"; }
# expect_range VALUE LO HI TAG (integers)
expect_range() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "${4:-value}: got $1, expected in [$2, $3]"
}
expect_match() { grep -qE -- "$2" <<<"$1" || fail "${3:-output}: '$1' does not match /$2/"; }
# expect_exit CODE CMD...: run CMD, compare its exit code.
expect_exit() {
	local want=$1; shift
	"$@" >"$TMP/last.out" 2>"$TMP/last.err"
	local got=$?
	[ "$got" = "$want" ] || fail "exit of '$*': got $got, expected $want; stderr: $(head -c 300 "$TMP/last.err")"
}

# ---- the case runner ----
skip() { echo "$*" > "$TMP/skip"; return 0; }

run_cases() {
	local fns c rc tool
	# A plain `make` builds perimd and perimctl only; `make tests` the tools too.
	for tool in "$TOP"/tests/tools/*.c; do
		tool=$TOOLS/$(basename "${tool%.c}")
		[ -x "$tool" ] || { echo "FAIL: ${0##*/}: $tool is not built (make tests)"; return 1; }
	done
	fns=$(declare -F | awk '{print $3}' | grep '^case_')
	[ $# -gt 0 ] && fns="$*"
	for c in $fns; do
		rm -f "$TMP/skip"
		# A case runs in a subshell with its own registry: what it creates is
		# removed when it ends, while the file's setup lives on for later cases.
		( _cleanup_cmds=() _cleanup_pids=() _cleanup_ns=() _cleanup_paths=()
		  trap cleanup_registered EXIT
		  "$c" ) > "$TMP/case.log" 2>&1
		rc=$?
		if [ -f "$TMP/skip" ]; then
			echo "SKIP: ${0##*/}:${c#case_}: $(cat "$TMP/skip")"
		elif [ $rc -eq 0 ]; then
			echo "PASS: ${0##*/}:${c#case_}"
		else
			echo "FAIL: ${0##*/}:${c#case_}"
			sed 's/^/    /' "$TMP/case.log" | tail -n 40
		fi
	done
}

# ---- perim daemon helpers ----
# in_netns NS CMD...: run CMD in our namespace NS's *network* namespace only.
# `ip netns exec` would also give it a fresh mount namespace, hiding the host's
# bpffs: perimd's pins must outlive it, so it keeps the host mounts.
in_netns() { local ns=$T-$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

PIN_ROOT=/sys/fs/bpf/perim-$T
SOCK=$TMP/perimd.sock
STATE=$TMP/state

# perimd_start NS [OPTIONS...]: start perimd in NS's network namespace with
# this test's private socket, pin root and state file; await "perimd: ready".
perimd_start() {
	local ns=$1; shift
	mount_bpffs
	track_path "$PIN_ROOT"
	: > "$TMP/perimd.log"
	# nsenter execs perimd, so $! is perimd's own pid (a function run in the
	# background would leave a shell in between, and perimd behind on cleanup).
	nsenter --net="/run/netns/$T-$ns" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" "$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	track_pid "$PERIMD_PID"
	if ! wait_until 20 grep -q 'perimd: ready' "$TMP/perimd.log"; then
		echo "perimd did not become ready:"; cat "$TMP/perimd.log"
		return 1
	fi
}

perimd_stop() {
	[ -n "${PERIMD_PID:-}" ] || return 0
	kill "$PERIMD_PID" 2>/dev/null
	wait "$PERIMD_PID" 2>/dev/null
	PERIMD_PID=
}

pctl() { "$PERIMCTL" -s "$SOCK" "$@"; }

# jstat DEV JQ-PATH: one number from `perimctl -j stats DEV`
jstat() { pctl -j stats "$1" | jq -r ".interfaces[0]$2"; }

# count_of FILE: the counter a `udpflood recv` keeps in FILE
count_of() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }

# recv_start NS PORT NAME [FAMILY]: a counting receiver; its count file is $TMP/NAME.count
recv_start() {
	local f=$TMP/$3.count
	rm -f "$f"
	# ip itself, not in_ns, in the background: $! is then the receiver (ip execs it).
	ip netns exec "$T-$1" "$TOOLS/udpflood" recv --port "$2" --count-file "$f" --family "${4:-4}" &
	track_pid $!
	wait_until 5 test -s "$f"
}

mac_of() { ip -n "$T-$1" -br link show dev "$2" | awk '{print $3}'; }

# For test files whose cases each run one perimd between namespaces $T-gw and
# $T-cl (cases run in subshells: each tears its own things down on exit).
daemon_topology_teardown() {
	[ -n "${PERIMD_PID:-}" ] && kill -9 "$PERIMD_PID" 2>/dev/null && wait "$PERIMD_PID" 2>/dev/null
	mount_bpffs
	kill_ns_processes "$T-gw"
	ip netns del "$T-gw" 2>/dev/null
	kill_ns_processes "$T-cl"
	ip netns del "$T-cl" 2>/dev/null
	rm -rf "$PIN_ROOT" "$STATE" "$SOCK"
}

# The gateway and client namespaces and the veth between them ($GW, $CL).
daemon_topology_setup() {
	trap daemon_topology_teardown EXIT
	ns_add gw && ns_add cl || return 1
	veth_add gw "$GW" 10.78.0.1/24 cl "$CL" 10.78.0.2/24
}
