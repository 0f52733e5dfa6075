#!/bin/bash
# Egress: the shaper perimd installs over rtnetlink, observed with iproute2
# (tc) and real traffic between two namespaces.
#
# Shaped TCP rate: TBF counts every byte of a frame from the Ethernet header
# on (qdisc_pkt_len on a veth: 14 + 1500), so a full-size TCP segment with
# timestamps carries 1448 payload bytes per 1514 bytes shaped: goodput is
# rate x 1448/1514 (95.6%). iperf3 measures goodput over 6 s after omitting
# the first (slow start); the TBF bucket (10 ms of rate by default) adds at
# most 10 ms worth over 6 s, so 5% is wide for a working shaper and narrow
# for a missing one (the veth alone runs at several Gbit/s).
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # the gateway's NIC: perimd runs here and shapes what it sends
PEER=${T}p    # its peer, in namespace $T-peer

setup() {
	ns_add gw && ns_add peer || return 1
	veth_add gw "$GW" 10.78.0.1/24 peer "$PEER" 10.78.0.2/24 || return 1
	perimd_start gw --interface "$GW" --events /dev/null || return 1
}

tc_gw() { ip netns exec "$T-gw" tc "$@"; }
root_qdisc() { tc_gw -j qdisc show dev "$GW" root | jq -r '.[0] | "\(.kind) \(.handle)"'; }
shaper() { pctl -j stats "$GW" | jq -r ".interfaces[0].shaper$1"; }
# Every case starts from a running perimd (a case that restarted it leaves none behind:
# its registry ends it) and the kernel's default root qdisc, and leaves that again.
ensure_perimd() {
	pctl status >/dev/null 2>&1 || perimd_start gw --events /dev/null || return 1
	on_cleanup "pctl shape del $GW; ip netns exec $T-gw tc qdisc del dev $GW root"
	[ "$(root_qdisc)" = "noqueue 0:" ] || fail "case starts with root qdisc $(root_qdisc)"
}
# udp_to_peer N: N small datagrams from the gateway to the peer (bash's /dev/udp, no ping needed)
udp_to_peer() { in_ns gw bash -c "for i in \$(seq $1); do echo x > /dev/udp/10.78.0.2/9; done"; }

case_shape_installs_tbf_and_del_restores_default() {
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 20mbit || return 1
	expect_eq "$(root_qdisc)" "tbf 7e51:" "root qdisc after shape set" || return 1
	expect_eq "$(tc_gw -j qdisc show dev "$GW" root | jq -r '.[0].options.rate')" 2500000 \
		"tbf rate in bytes/s as tc sees it" || return 1
	expect_eq "$(shaper .installed)" true "perimctl: installed" || return 1
	expect_eq "$(shaper .root.rate_bits)" 20000000 "perimctl: root rate" || return 1
	grep -qx "shape set $GW rate 20mbit" "$STATE" || fail "state file: $(cat "$STATE")" || return 1
	expect_exit 0 pctl shape set "$GW" rate 30mbit latency 20 || return 1
	expect_eq "$(tc_gw -j qdisc show dev "$GW" root | jq -r '.[0].options.rate')" 3750000 "changed rate" || return 1
	expect_exit 0 pctl shape del "$GW" || return 1
	expect_eq "$(root_qdisc)" "noqueue 0:" "root qdisc after shape del" || return 1
	grep -q "^shape" "$STATE" && fail "state file still has a shaper" && return 1
	expect_eq "$(shaper '')" null "perimctl: no shaper"
}

case_tcp_through_shaped_nic_within_5_percent() {
	local rate=20000000 bps want
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 20mbit || return 1
	in_ns peer iperf3 -s -1 -B 10.78.0.2 -p 5201 >/dev/null 2>&1 &
	track_pid $!
	wait_until 5 in_ns peer sh -c 'ss -ltn | grep -q ":5201"' || fail "iperf3 server did not listen" || return 1
	in_ns gw iperf3 -c 10.78.0.2 -p 5201 -t 7 -O 1 -J > "$TMP/iperf.json" || fail "iperf3 client failed" || return 1
	# end.sum_received still counts the omitted second: sum the measured intervals instead.
	bps=$(jq -r '[.intervals[].sum | select(.omitted | not)] | (map(.bytes) | add) * 8 / (map(.seconds) | add) | floor' \
		"$TMP/iperf.json")
	want=$(( rate * 1448 / 1514 ))
	expect_range "$bps" $(( want * 95 / 100 )) $(( want * 105 / 100 )) "TCP goodput (want ~$want)" || return 1
	[ "$(shaper .root.overlimits)" -gt 0 ] || fail "the tbf never throttled"
}

# The kernel's counters, read by tc before and after perimctl's: perimctl's lie between.
case_counters_agree_with_tc() {
	local before after mine
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 5mbit || return 1
	udp_to_peer 20 || fail "sending through the shaper" || return 1
	before=$(tc_gw -s -j qdisc show dev "$GW" root | jq -r '.[0].packets')
	mine=$(shaper .root.sent_packets)
	after=$(tc_gw -s -j qdisc show dev "$GW" root | jq -r '.[0].packets')
	expect_range "$mine" "$before" "$after" "sent packets: perimctl vs tc" || return 1
	[ "$mine" -ge 20 ] || fail "only $mine packets sent through the shaper" || return 1
	expect_eq "$(shaper .root.dropped)" "$(tc_gw -s -j qdisc show dev "$GW" root | jq -r '.[0].drops')" "drops" || return 1
	expect_eq "$(shaper .root.backlog_bytes)" "$(tc_gw -s -j qdisc show dev "$GW" root | jq -r '.[0].backlog')" "backlog"
}

case_foreign_root_qdisc_left_without_force() {
	ensure_perimd || return 1
	tc_gw qdisc add dev "$GW" root handle 1: htb default 1 || return 1
	expect_exit 2 pctl shape set "$GW" rate 10mbit || return 1
	expect_match "$(cat "$TMP/last.err")" "htb 1:.*not created by perim" "error names the qdisc" || return 1
	expect_eq "$(root_qdisc)" "htb 1:" "foreign qdisc still there" || return 1
	grep -q "^shape" "$STATE" && fail "state file has a shaper" && return 1
	expect_exit 2 pctl shape del "$GW" || return 1
	expect_eq "$(root_qdisc)" "htb 1:" "shape del leaves the foreign qdisc" || return 1
	expect_exit 0 pctl shape set "$GW" rate 10mbit force || return 1
	expect_eq "$(root_qdisc)" "tbf 7e51:" "force replaced it" || return 1
	grep -qx "shape set $GW rate 10mbit" "$STATE" || fail "force is not persisted: $(cat "$STATE")" || return 1
	pctl shape del "$GW"
}

case_bad_input_exits_2_and_changes_nothing() {
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 10mbit || return 1
	local state qd
	state=$(cat "$STATE"); qd=$(tc_gw -j qdisc show dev "$GW" root | jq -c '.[0].options')
	expect_exit 2 pctl shape set "$GW" rate 10mbps || return 1
	expect_exit 2 pctl shape set "$GW" rate 20mbit burst 100 || return 1
	expect_match "$(cat "$TMP/last.err")" 'argument "100" is wrong: burst is smaller than one frame' || return 1
	expect_exit 2 pctl shape set "$GW" rate 20mbit latency 0 || return 1
	expect_exit 2 pctl shape set "${T}x" rate 20mbit || return 1
	expect_exit 2 pctl shape del "${T}x" || return 1
	expect_exit 2 pctl limit set "$GW" dir egress src 10.0.0.0/8 rate 1pps || return 1
	expect_exit 2 pctl limit set "$GW" dir egress cgroup relative rate 1pps || return 1
	expect_eq "$(cat "$STATE")" "$state" "state file" || return 1
	expect_eq "$(tc_gw -j qdisc show dev "$GW" root | jq -c '.[0].options')" "$qd" "qdisc options" || return 1
	pctl shape del "$GW"
	expect_exit 2 pctl shape del "$GW"
}

# The state file puts a shaper removed behind perimd's back in place on start.
case_shaper_restored_on_start() {
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 8mbit || return 1
	perimd_stop
	expect_eq "$(root_qdisc)" "tbf 7e51:" "the shaper outlives perimd" || return 1
	tc_gw qdisc del dev "$GW" root || return 1
	perimd_start gw --events /dev/null || return 1
	expect_eq "$(root_qdisc)" "tbf 7e51:" "re-installed from the state file" || return 1
	expect_eq "$(tc_gw -j qdisc show dev "$GW" root | jq -r '.[0].options.rate')" 1000000 "rate" || return 1
	pctl shape del "$GW"
}

# The link deleted and created again under the same name: perimd's link
# follower re-attaches XDP and calls perimd_egress_link_back.
case_shaper_back_after_link_recreated() {
	ensure_perimd || return 1
	expect_exit 0 pctl shape set "$GW" rate 12mbit || return 1
	ip -n "$T-gw" link del "$GW" || return 1
	veth_add gw "$GW" 10.78.0.1/24 peer "$PEER" 10.78.0.2/24 || return 1
	wait_until 10 sh -c "[ \"\$(ip netns exec $T-gw tc -j qdisc show dev $GW root | jq -r '.[0].handle')\" = 7e51: ]" ||
		fail "root qdisc after re-creation: $(root_qdisc)" || return 1
	expect_eq "$(tc_gw -j qdisc show dev "$GW" root | jq -r '.[0].options.rate')" 1500000 "rate" || return 1
	pctl shape del "$GW"
}

setup || { echo "FAIL: ${0##*/}:setup"; exit 1; }
run_cases "$@"
