# shellcheck shell=bash
# Helpers shared by the benchmark sections (tests/bench/sec_*.sh). Sourced by
# tests/bench/run.sh after tests/lib/lib.sh, whose registry ($T-prefixed
# namespaces, pids, paths) removes everything on exit.

BENCH=$OUT/tests/bench
LIVE=$BENCH/xdp_live
GEN_CPU=0
RX_CPU=1

quick() { [ "${BENCH_QUICK:-0}" = 1 ]; }

# napi_thread NS DEV: the pid of DEV's (single queue) threaded-NAPI kthread.
napi_thread() {
	local ifidx pid
	# The kthread is named napi/<dev>-<napi id>; the dev name is unique ($T).
	for pid in $(pgrep "^napi/$2-"); do echo "$pid"; return 0; done
	ifidx=$(ip -n "$T-$1" -o link show dev "$2" | cut -d: -f1)
	echo "no NAPI thread for $2 (ifindex $ifidx)" >&2
	return 1
}

# threaded_napi NS DEV [CPU]: switch DEV to threaded NAPI, pin its kthread to
# CPU (default RX_CPU) at real-time priority (so another busy task on that CPU
# cannot delay it), print its pid.
threaded_napi() {
	local pid
	echo 1 > "/sys/class/net/$2/threaded" 2>/dev/null ||
		in_ns "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" || return 1
	pid=$(napi_thread "$1" "$2") || return 1
	taskset -pc "${3:-$RX_CPU}" "$pid" >/dev/null && chrt -f -p 50 "$pid" || return 1
	echo "$pid"
}

cpu_ns_of() { awk '{print $1}' "/proc/$1/schedstat"; }
# task_cpu_ns PID: the CPU time of all PID's threads (live ones), from schedstat
task_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

# gen_note_via FILE: after an `xdp_live gen` run whose output is FILE, marks the run
# ($TMP/gen-via-packet) when the kernel refused live frames and the frames went out
# through AF_PACKET (they then reach the receiver as skbs); gen_via_packet asks.
gen_note_via() { if grep -q 'via=packet' "$1" 2>/dev/null; then : >"$TMP/gen-via-packet"; fi; }
gen_via_packet() { [ -e "$TMP/gen-via-packet" ]; }
# gen_via_text: how the generator's frames reached the receiver, for a report
gen_via_text() {
	if gen_via_packet; then
		echo "**This kernel refuses \`BPF_F_TEST_XDP_LIVE_FRAMES\` (EPERM), so \`xdp_live gen\` sent through an"
		echo "AF_PACKET socket (qdisc bypassed) instead: every frame reached the receiver as an skb, which the"
		echo "veth converts for XDP, and one core of this machine generates ~500 kpps that way; every case's"
		echo "CPU per packet includes that conversion and far fewer packets per wake-up than XDP frames get.**"
	fi
}

# xmit_of NS DEV: "xdp_xmit xdp_xmit_errors" of DEV's transmit side.
xmit_of() {
	in_ns "$1" ethtool -S "$2" | awk '/tx_queue_[0-9]+_xdp_xmit_errors:/ {e += $2}
		/tx_queue_[0-9]+_xdp_xmit:/ {x += $2} END {print x + 0, e + 0}'
}

# fdiv A B [DIGITS]: A/B as a decimal
fdiv() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a <= b) }'; }
met() { if fle "$1" "$2"; then echo "yes"; else echo "**no**"; fi; }
