#!/bin/bash
# Egress: limits enforced by perim_tc on the clsact egress hook, and the
# shaper perimd installs over rtnetlink, observed with iproute2 (tc) and real
# traffic between two namespaces.
#
# Egress limits: the gateway's own sockets (tests/tools/udpsend, paced, not
# slowed by drops) send at 10x the limit. The bucket refills from the coarse
# clock, so over D seconds it admits burst + rate x D give or take a couple
# of 4 ms ticks plus the sender's pacing jitter: well under 1% at D = 2 s.
# 5% keeps a noisy VM from flaking while a broken limiter (10x, or nothing)
# fails by far. Bursts are half a second of tokens, as in test-xdp-limit.sh.
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

UDPSEND=$TOOLS/udpsend

# The peer's address resolved before a measurement: datagrams queued behind
# ARP could be dropped before they reach the egress hook.
resolve_peer() {
	in_ns gw bash -c 'echo x > /dev/udp/10.78.0.2/9'
	wait_until 5 sh -c "ip -n $T-gw neigh show 10.78.0.2 dev $GW | grep -qE 'REACHABLE|STALE|DELAY'"
}

setup() {
	ns_add gw && ns_add peer || return 1
	veth_add gw "$GW" 10.78.0.1/24 peer "$PEER" 10.78.0.2/24 || return 1
	perimd_start gw --interface "$GW" --events /dev/null || return 1
	resolve_peer
}

tc_gw() { ip netns exec "$T-gw" tc "$@"; }
root_qdisc() { tc_gw -j qdisc show dev "$GW" root | jq -r '.[0] | "\(.kind) \(.handle)"'; }
shaper() { pctl -j stats "$GW" | jq -r ".interfaces[0].shaper$1"; }
# Every case starts from a running perimd (a case that restarted it leaves none behind:
# its registry ends it) and the kernel's default root qdisc, and leaves that again.
# A case that restarted perimd removed the pins when it ended (its registry) while the XDP
# program stayed attached: that program's maps are gone, so perimd would refuse to adopt it.
ensure_perimd() {
	if ! pctl status >/dev/null 2>&1; then
		ip -n "$T-gw" link set dev "$GW" xdp off && perimd_start gw --events /dev/null || return 1
	fi
	on_cleanup "pctl shape del $GW; ip netns exec $T-gw tc qdisc del dev $GW root"
	[ "$(root_qdisc)" = "noqueue 0:" ] || fail "case starts with root qdisc $(root_qdisc)"
}
# udp_to_peer N: N small datagrams from the gateway to the peer (bash's /dev/udp, no ping needed)
udp_to_peer() { in_ns gw bash -c "for i in \$(seq $1); do echo x > /dev/udp/10.78.0.2/9; done"; }

rule_stat() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
egress_drops() { jstat "$GW" '.egress.counters.dropped."rate-pps".packets'; }
egress_prog_id() { pctl -j stats "$GW" | jq -r '.interfaces[0].egress.prog_id'; }
tc_filter_prog_id() {
	tc_gw -j filter show dev "$GW" egress | jq -r '[.[] | select(.options.handle == "0x7e51") | .options.prog.id][0] // 0'
}
# send PORT RATE SECONDS [in cgroup DIR]: prints "sent elapsed_ns"; in_netns keeps the host's /sys
send_from_gw() {
	local cg=${4:-}
	in_netns gw sh -c "${cg:+echo \$\$ > $cg/cgroup.procs && }exec $UDPSEND --dst 10.78.0.2 --port $1 --rate $2 --seconds $3" |
		sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/'
}
# expect_admitted RECEIVED RATE BURST ELAPSED_NS TAG: within 5% of burst + rate*elapsed
expect_admitted() {
	local want=$(( $3 + $2 * $4 / 1000000000 ))
	expect_range "$1" $(( want * 95 / 100 )) $(( want * 105 / 100 )) "$5 (expected ~$want)"
}

case_egress_flood_cut_to_rate() {
	local id sent el passed other_sent
	ensure_perimd || return 1
	id=$(pctl -j limit set "$GW" dir egress dst 10.78.0.2 proto udp dport 5001 rate 1kpps burst 500 aggregate | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	on_cleanup "pctl limit del $GW $id"
	expect_ne "$(tc_filter_prog_id)" 0 "perim's filter on the egress hook" || return 1
	expect_eq "$(egress_prog_id)" "$(tc_filter_prog_id)" "perimctl and tc agree on the program" || return 1
	local drops0
	drops0=$(egress_drops)
	recv_start peer 5001 eflood && recv_start peer 5002 eother || return 1
	resolve_peer || return 1
	# 10x the limit, and traffic to another port beside it that no rule matches.
	send_from_gw 5002 500 2 > "$TMP/other.out" &
	local other=$!
	read -r sent el < <(send_from_gw 5001 10000 2)
	wait "$other"
	wait_until 10 test "$(( $(rule_stat "$id" passed_packets) + $(rule_stat "$id" dropped_packets) ))" -ge "$sent" ||
		fail "rule saw $(rule_stat "$id" matched_packets) of $sent" || return 1
	passed=$(rule_stat "$id" passed_packets)
	expect_eq "$(rule_stat "$id" matched_packets)" "$sent" "rule matched vs sent" || return 1
	wait_until 10 test "$(count_of "$TMP/eflood.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/eflood.count")" "$passed" "peer received vs rule passed" || return 1
	expect_admitted "$passed" 1000 500 "$el" "admitted egress flood" || return 1
	read -r other_sent _ < "$TMP/other.out"
	wait_until 10 test "$(count_of "$TMP/eother.count")" -ge "$other_sent"
	expect_eq "$(count_of "$TMP/eother.count")" "$other_sent" "unmatched port untouched" || return 1
	expect_eq $(( $(egress_drops) - drops0 )) "$(rule_stat "$id" dropped_packets)" \
		"interface egress drops vs rule drops" || return 1
	# The last egress rule gone: perim's filter leaves the hook.
	pctl limit del "$GW" "$id" || return 1
	expect_eq "$(tc_filter_prog_id)" 0 "filter removed with the last egress rule"
}

# One process in a cgroup with a limit, another outside it: only the first is cut.
case_cgroup_limit_cuts_one_process() {
	local cg2 dir id sent_in el_in sent_out el_out passed
	ensure_perimd || return 1
	cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cg2" ] || { skip "no cgroup2 mount in /proc/mounts"; return 0; }
	dir=$cg2/perim-$T-limited
	mkdir "$dir" || return 1
	on_cleanup "rmdir $dir"
	id=$(pctl -j limit set "$GW" dir egress cgroup "$dir" proto udp rate 500pps burst 250 | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	on_cleanup "pctl limit del $GW $id"
	recv_start peer 5011 cgin && recv_start peer 5012 cgout || return 1
	resolve_peer || return 1
	send_from_gw 5012 2000 2 > "$TMP/out.txt" &
	local outside=$!
	read -r sent_in el_in < <(send_from_gw 5011 2000 2 "$dir")
	wait "$outside"
	read -r sent_out el_out < "$TMP/out.txt"
	wait_until 10 test "$(rule_stat "$id" matched_packets)" -ge "$sent_in" ||
		fail "rule matched $(rule_stat "$id" matched_packets) of $sent_in" || return 1
	expect_eq "$(rule_stat "$id" matched_packets)" "$sent_in" "only the cgroup's datagrams match" || return 1
	passed=$(rule_stat "$id" passed_packets)
	expect_admitted "$passed" 500 250 "$el_in" "admitted from the cgroup" || return 1
	wait_until 10 test "$(count_of "$TMP/cgin.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/cgin.count")" "$passed" "peer got what the rule passed" || return 1
	wait_until 10 test "$(count_of "$TMP/cgout.count")" -ge "$sent_out" || true
	expect_eq "$(count_of "$TMP/cgout.count")" "$sent_out" "the other process untouched"
}

case_egress_bad_input_changes_nothing() {
	local state
	ensure_perimd || return 1
	state=$(cat "$STATE")
	expect_exit 2 pctl limit set "$GW" dir egress cgroup "/sys/fs/cgroup/perim-$T-missing" rate 1pps || return 1
	expect_match "$(cat "$TMP/last.err")" "perim-$T-missing" "names the path" || return 1
	expect_exit 2 pctl limit set "$GW" dir egress cgroup /proc rate 1pps || return 1
	expect_match "$(cat "$TMP/last.err")" "not in a cgroup v2 hierarchy" || return 1
	expect_exit 2 pctl limit set "$GW" dir egress dst 10.0.0.1/8 rate 1pps || return 1
	expect_exit 2 pctl limit set "$GW" dir egress per-source rate 1pps || return 1
	expect_exit 2 pctl limit set "${T}x" dir egress rate 1pps || return 1
	expect_eq "$(cat "$STATE")" "$state" "state file" || return 1
	expect_eq "$(tc_filter_prog_id)" 0 "no filter attached" || return 1
	expect_eq "$(pctl -j limit list | jq '.limits | length')" 0 "no rule"
}

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
	ensure_perimd || return 1
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
	ensure_perimd || return 1
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

# Egress rules persist; on start perimd re-applies them and puts its filter back,
# even on a NIC whose clsact was removed while it was down.
case_egress_rules_restored_on_start() {
	local id
	ensure_perimd || return 1
	id=$(pctl -j limit set "$GW" dir egress dst 10.78.0.0/24 proto udp rate 2kpps | jq -r .id)
	on_cleanup "pctl limit del $GW $id"
	grep -qx "limit set $GW id $id dir egress dst 10.78.0.0/24 proto udp rate 2kpps per-destination" "$STATE" ||
		fail "state file: $(cat "$STATE")" || return 1
	perimd_stop
	expect_ne "$(tc_filter_prog_id)" 0 "the filter outlives perimd" || return 1
	tc_gw qdisc del dev "$GW" clsact || return 1
	perimd_start gw --events /dev/null || return 1
	expect_ne "$(tc_filter_prog_id)" 0 "filter back after start" || return 1
	expect_eq "$(egress_prog_id)" "$(tc_filter_prog_id)" "perimctl and tc agree" || return 1
	expect_eq "$(pctl -j limit list "$GW" | jq -r ".limits[] | select(.id == $id) | .dst")" 10.78.0.0/24 "rule restored"
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
# follower re-attaches XDP and calls perimd_egress_link_back, which puts
# the shaper and the egress program back; the rule enforces again.
case_egress_program_back_after_link_recreated() {
	local id old sent el
	ensure_perimd || return 1
	id=$(pctl -j limit set "$GW" dir egress dst 10.78.0.2 proto udp dport 5021 rate 1kpps burst 500 aggregate | jq -r .id)
	on_cleanup "pctl limit del $GW $id"
	old=$(tc_filter_prog_id)
	expect_ne "$old" 0 "filter attached" || return 1
	ip -n "$T-gw" link del "$GW" || return 1
	veth_add gw "$GW" 10.78.0.1/24 peer "$PEER" 10.78.0.2/24 || return 1
	wait_until 10 sh -c "[ \"\$(ip netns exec $T-gw tc -j filter show dev $GW egress 2>/dev/null | jq -r '[.[] | select(.options.handle == \"0x7e51\") | .options.prog.id][0] // 0')\" != 0 ]" ||
		fail "no perim filter on the re-created link" || return 1
	expect_eq "$(egress_prog_id)" "$(tc_filter_prog_id)" "perimctl and tc agree" || return 1
	recv_start peer 5021 back || return 1
	resolve_peer || return 1
	read -r sent el < <(send_from_gw 5021 10000 1)
	wait_until 10 test "$(rule_stat "$id" matched_packets)" -ge "$sent"
	expect_admitted "$(rule_stat "$id" passed_packets)" 1000 500 "$el" "admitted after re-creation"
}

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
