#!/bin/bash
# The benchmark's traffic generator off live frames (tests/bench/xdp_live.c):
# where the kernel refuses BPF_F_TEST_XDP_LIVE_FRAMES, `make bench` sends
# through an AF_PACKET socket, and through the XDP relay when the receiver
# must get XDP frames. Every frame the generator says it sent must reach the
# receiver's XDP program, through the relay as an XDP frame; bad arguments
# get one line and exit 2.
. "$(dirname "$0")/../lib/lib.sh"

LIVE=$OUT/tests/bench/xdp_live

[ -x "$LIVE" ] || { echo "FAIL: ${0##*/}: $LIVE is not built (make tests)"; exit 1; }

# rx_xdp NS DEV: frames DEV's XDP program has run on; tx_xdp NS DEV: XDP frames sent out of DEV
rx_xdp() { in_ns "$1" ethtool -S "$2" | awk '/rx_queue_[0-9]+_xdp_packets:/ {n += $2} END {print n + 0}'; }
tx_xdp() { in_ns "$1" ethtool -S "$2" | awk '/tx_queue_[0-9]+_xdp_xmit:/ {n += $2} END {print n + 0}'; }
rx_xdp_at_least() { [ "$(rx_xdp "$1" "$2")" -ge "$3" ]; }
sent_of() { sed -nE 's/.*sent=([0-9]+) .*/\1/p' <<<"$1"; }

# pair NS_A DEV_A NS_B DEV_B: a veth pair, links up, the sender side without TSO (else a
# veth hands the skbs to the sending CPU's backlog instead of its peer's NAPI); no IPv6 on
# either end, whose router solicitations and MLD reports would reach the receiver too
pair() {
	ip link add "$2" netns "$T-$1" type veth peer name "$4" netns "$T-$3" || return 1
	in_ns "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" && in_ns "$3" sysctl -qw "net.ipv6.conf.$4.disable_ipv6=1" ||
		return 1
	ip -n "$T-$1" link set "$2" up && ip -n "$T-$3" link set "$4" up || return 1
	in_ns "$1" ethtool -K "$2" tso off >/dev/null
}

# gen_packet NS DEV DST_MAC COUNT SOURCES: COUNT frames through AF_PACKET, unpaced
gen_packet() {
	in_ns "$1" "$LIVE" gen --via packet --dev "$2" --dst-mac "$3" --src 10.99.0.1 --sources "$5" \
		--dst 10.88.0.1 --rate 0 --count "$4"
}

case_packet_frames_reach_the_receivers_xdp() {
	local r0 out sent
	ns_add a && ns_add b && pair a "${T}s" b "${T}d" || return 1
	in_ns b "$LIVE" attach --dev "${T}d" --prog drop || return 1
	r0=$(rx_xdp b "${T}d")
	out=$(gen_packet a "${T}s" "$(mac_of b "${T}d")" 3000 16) || fail "the generator failed: $out" || return 1
	expect_match "$out" ' via=packet$' "generator output" || return 1
	sent=$(sent_of "$out")
	expect_range "${sent:-0}" 1 3000 "frames the device took" || return 1
	wait_until 5 rx_xdp_at_least b "${T}d" $(( r0 + sent )) ||
		fail "the receiver's XDP saw $(( $(rx_xdp b "${T}d") - r0 )) of $sent frames" || return 1
	expect_eq "$(( $(rx_xdp b "${T}d") - r0 ))" "$sent" "frames at the receiver's XDP"
}

case_relay_delivers_xdp_frames() {
	local r0 x0 out sent
	ns_add a && ns_add b || return 1
	pair a "${T}r" a "${T}R" && pair a "${T}s" b "${T}d" || return 1
	in_ns b "$LIVE" attach --dev "${T}d" --prog drop || return 1
	in_ns a "$LIVE" attach --dev "${T}R" --prog relay --to "${T}s" || return 1
	r0=$(rx_xdp b "${T}d") x0=$(tx_xdp a "${T}s")
	out=$(gen_packet a "${T}r" "$(mac_of b "${T}d")" 3000 1) || fail "the generator failed: $out" || return 1
	sent=$(sent_of "$out")
	expect_range "${sent:-0}" 1 3000 "frames the device took" || return 1
	wait_until 5 rx_xdp_at_least b "${T}d" $(( r0 + sent )) ||
		fail "the receiver's XDP saw $(( $(rx_xdp b "${T}d") - r0 )) of $sent frames" || return 1
	# Every frame left the relay's target as an XDP frame (ndo_xdp_xmit), none as an skb.
	expect_eq "$(( $(tx_xdp a "${T}s") - x0 ))" "$sent" "XDP frames sent on by the relay" || return 1
	expect_eq "$(( $(rx_xdp b "${T}d") - r0 ))" "$sent" "frames at the receiver's XDP"
}

case_bad_arguments_one_line_exit_2() {
	local args
	ns_add a || return 1
	ip -n "$T-a" link add "${T}x" type veth peer name "${T}X" || return 1
	for args in "gen --via bogus --dev ${T}x --dst-mac 02:00:00:00:00:01 --src 10.0.0.1 --dst 10.0.0.2 --rate 0 --count 1:--via" \
		"attach --dev ${T}x --prog relay:--to" "attach --dev ${T}x --prog drop --to ${T}X:--to"; do
		# shellcheck disable=SC2086
		expect_exit 2 in_ns a "$LIVE" ${args%:*} || return 1
		expect_eq "$(wc -l < "$TMP/last.err")" 1 "error lines for '${args%:*}'" || return 1
		grep -q -- "${args##*:}" "$TMP/last.err" || fail "'${args%:*}': the error does not name ${args##*:}: $(cat "$TMP/last.err")" || return 1
	done
	# Nothing attached by a refused call.
	[ -z "$(ip -n "$T-a" -j link show dev "${T}x" | jq -r '.[0].xdp.prog.id // empty')" ] ||
		fail "a refused attach left a program on ${T}x"
}

run_cases "$@"
