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

# gen_skb_text: the report's note on a run whose generator sent skbs (AF_PACKET) straight to
# the receiver, where the kernel refuses live frames
gen_skb_text() {
	echo "**This kernel refuses \`BPF_F_TEST_XDP_LIVE_FRAMES\` (EPERM), so \`xdp_live gen\` sent through an"
	echo "AF_PACKET socket (qdisc bypassed) instead: every frame reached the receiver as an skb, which the"
	echo "veth converts for XDP, and one core of this machine generates ~500 kpps that way; every case's"
	echo "CPU per packet includes that conversion and far fewer packets per wake-up than XDP frames get.**"
}

# gen_probe_via: "live" when this kernel runs xdp_live's generator on live frames, "packet" when
# it refuses them (one frame out of the idle inet device ${T}h either way)
gen_probe_via() {
	local via
	via=$(in_ns inet "$LIVE" gen --dev "${T}h" --dst-mac 02:00:00:00:00:02 --src 10.99.0.1 \
		--dst 10.88.0.1 --rate 0 --count 1 | sed -nE 's/.* via=([a-z]+).*/\1/p')
	[ -n "$via" ] || { echo "the generator's probe printed no via=" >&2; return 1; }
	echo "$via"
}

# gen_relay NAME OUT: where the kernel refuses live frames, the generator sends skbs (AF_PACKET)
# into ${T}r<NAME>, whose peer ${T}R<NAME> runs xdp_live's relay: it redirects each frame out
# of the inet device OUT as an XDP frame, flushed once per NAPI poll (up to 64), so OUT's peer
# receives XDP frames in batches as from live frames. The relay's NAPI thread shares the
# generator's CPU at the generator's SCHED_FIFO priority (chrt -f 10): neither preempts the
# other, and the generator yields after each call, so the relay drains what a call queued
# before the next one starts, never in the middle of one.
# Prints the device the generator sends into.
gen_relay() {
	local pid
	ip -n "$T-inet" link add "${T}r$1" type veth peer name "${T}R$1" || return 1
	ip -n "$T-inet" link set "${T}r$1" up && ip -n "$T-inet" link set "${T}R$1" up || return 1
	in_ns inet ethtool -K "${T}r$1" tso off >/dev/null || return 1
	in_ns inet "$LIVE" attach --dev "${T}R$1" --prog relay --to "$2" >&2 || return 1
	in_ns inet sh -c "echo 1 > /sys/class/net/${T}R$1/threaded" || return 1
	pid=$(napi_thread inet "${T}R$1") && taskset -pc "$GEN_CPU" "$pid" >/dev/null || return 1
	chrt -f -p 10 "$pid" || return 1
	echo "${T}r$1"
}

# gen_relay_text: the report's note on a run whose generator went through gen_relay
gen_relay_text() {
	echo "**This kernel refuses \`BPF_F_TEST_XDP_LIVE_FRAMES\` (EPERM).** So \`xdp_live gen\` sent skbs (AF_PACKET,"
	echo "qdisc bypassed, SCHED_FIFO) into a relay veth on CPU $GEN_CPU whose XDP program redirected each frame"
	echo "out of the case's veth: the gateway still received XDP frames, flushed up to 64 at a time by the"
	echo "relay's NAPI polls. One core generates and relays far less than 1 Mpps that way."
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
