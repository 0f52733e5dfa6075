# shellcheck shell=bash
# Egress on the guest kernels: the shaper with the fq_codel the host kernel
# lacks (there perimd falls back to TBF's own fifo), a transfer through it,
# and perim_tc cutting a UDP flood the gateway itself sends. Topology and
# perimd from cases/perim.sh (perim_setup: $GW in $T-gw 10.77.0.1, $PEER in
# $T-inet 10.77.0.2). Software emulation is 10-50x slower than the host, so
# these cases assert behaviour (shaped well below line rate, counters that
# move and agree), never precise rates.

# The egress cases share one perimd (shared=egress in cases.list); each
# removes what it set.
egress_setup() { perim_setup --interface "$GW" --events /dev/null; }
fixture_egress() { perim_fixture --interface "$GW" --events /dev/null; }

etc() { in_netns gw tc "$@"; }
eshaper() { pctl -j stats "$GW" | jq -r ".interfaces[0].shaper$1"; }
# eqdisc FILTER: "kind handle" of the qdisc of $GW that FILTER (jq) selects
eqdisc() { etc -j qdisc show dev "$GW" | jq -r "[.[] | select($1)][0] | \"\(.kind) \(.handle)\""; }

# The peer's address resolved first: datagrams queued behind ARP never reach the hook.
egress_resolve_peer() {
	in_ns gw bash -c 'echo x > /dev/udp/10.77.0.2/9'
	wait_until 30 sh -c "ip -n $T-gw neigh show 10.77.0.2 dev $GW | grep -qE 'REACHABLE|STALE|DELAY'"
}

case_egress_shaper_fq_codel() {
	egress_setup || return 1
	pctl shape set "$GW" rate 20mbit || fail "perimctl shape set" || return 1
	on_cleanup pctl shape del "$GW"
	eshaper '' | jq -c .
	etc qdisc show dev "$GW"
	expect_eq "$(eshaper .installed)" true "perimctl: installed" &&
		expect_eq "$(eshaper .queue)" fq_codel "perimctl: queue under the tbf" &&
		expect_eq "$(eshaper .child.kind)" fq_codel "perimctl: child qdisc" &&
		expect_eq "$(eshaper .child.handle)" 7e52: "perimctl: child handle" || return 1
	expect_eq "$(eqdisc '.root == true')" "tbf 7e51:" "tc: root qdisc" &&
		expect_eq "$(eqdisc '.parent == "7e51:1"')" "fq_codel 7e52:" "tc: qdisc under the tbf" || return 1
	# 50 ms of 20 mbit in 1514-byte frames is 82 packets: the queue bound perimd derives.
	expect_eq "$(etc -j qdisc show dev "$GW" | jq -r '.[] | select(.kind == "fq_codel") | .options.limit')" 82 \
		"tc: fq_codel limit" || return 1
	pctl shape del "$GW" || fail "perimctl shape del" || return 1
	expect_eq "$(eqdisc '.kind == "fq_codel" or .kind == "tbf"')" "null null" "tc: perim's qdiscs gone"
}

# iperf3_gbps_to_peer SECONDS: TCP goodput gw -> peer in bit/s (what the peer received).
iperf3_bps() {
	in_netns gw iperf3 -c 10.77.0.2 -p 5201 -t "$1" -J > "$TMP/iperf.json" || {
		echo "iperf3 client failed:"; tail -n 5 "$TMP/iperf.json"; return 1; }
	jq -r '.end.sum_received.bits_per_second | floor' "$TMP/iperf.json"
}

# A TCP transfer first unshaped (the emulated veth's line rate), then through a
# 4 mbit shaper: well below line rate, within the shaper's rate, and every
# segment went through fq_codel while the tbf throttled.
case_egress_shaped_transfer() {
	local rate=4000000 line shaped sent
	egress_setup || return 1
	in_ns inet iperf3 -s -B 10.77.0.2 -p 5201 >/dev/null 2>&1 &
	track_pid $!
	wait_until 60 in_ns inet sh -c 'ss -ltn | grep -q ":5201"' || fail "iperf3 server did not listen" || return 1
	line=$(iperf3_bps 2) || return 1
	pctl shape set "$GW" rate 4mbit || fail "perimctl shape set" || return 1
	on_cleanup pctl shape del "$GW"
	shaped=$(iperf3_bps 3) || return 1
	sent=$(eshaper .child.sent_packets)
	echo "line rate ${line} bit/s, shaped to $rate: ${shaped} bit/s; fq_codel sent $sent packets," \
		"tbf overlimits $(eshaper .root.overlimits)"
	[ "$line" -ge $(( rate * 5 )) ] 2>/dev/null ||
		fail "the emulated line rate ($line bit/s) is too low to show shaping at $rate" || return 1
	# Goodput is 95.6% of the shaped wire rate; the tbf bucket (10 ms) adds little over 3 s.
	expect_range "$shaped" $(( rate * 30 / 100 )) $(( rate * 105 / 100 )) "shaped goodput" || return 1
	[ "$sent" -gt 500 ] 2>/dev/null || fail "fq_codel sent only $sent packets" || return 1
	[ "$(eshaper .root.overlimits)" -gt 0 ] 2>/dev/null || fail "the tbf never throttled" || return 1
	# The root counts what its child dequeued: the two agree to the packet once
	# idle. A late segment of the transfer can pass between the two counters'
	# reads (6.12 once read 1019 and 1020), so one snapshot holds both and the
	# case awaits their agreement.
	wait_until 30 shaper_counts_agree ||
		fail "tbf vs fq_codel packets never agreed within 30 s: $(pctl -j stats "$GW" |
			jq -c '.interfaces[0].shaper | [.root.sent_packets, .child.sent_packets]')"
}

# Whether one stats reply has the shaper's root and child at the same packet count (not the
# root's backlog: Debian 5.10's tbf kept reporting one after both counts agreed).
shaper_counts_agree() {
	pctl -j stats "$GW" | jq -e '.interfaces[0].shaper | .root.sent_packets == .child.sent_packets' >/dev/null
}

erule() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
egress_drops() { jstat "$GW" '.egress.counters.dropped."rate-pps".packets // 0'; }

# A UDP flood from the gateway's own socket at many times an egress limit:
# perim_tc on the clsact egress hook drops the excess, the peer gets exactly
# what the rule passed, and the interface's egress drop counter agrees.
case_egress_limit_drops_flood() {
	local id sent el passed dropped drops0 tcid
	egress_setup || return 1
	id=$(pctl -j limit set "$GW" dir egress dst 10.77.0.2 proto udp dport 5001 rate 50pps burst 10 aggregate |
		jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	on_cleanup pctl limit del "$GW" "$id"
	tcid=$(etc -j filter show dev "$GW" egress | jq -r '[.[] | .options.prog.id // empty][0]')
	expect_eq "$(jstat "$GW" .egress.prog_id)" "$tcid" "perimctl and tc agree on the egress program" || return 1
	drops0=$(egress_drops)
	recv_start inet 5001 eflood || return 1
	egress_resolve_peer || fail "no ARP entry for the peer" || return 1
	# The guest's /dev has no /dev/fd: no process substitution here.
	in_netns gw "$TOOLS/udpsend" --dst 10.77.0.2 --port 5001 --rate 2000 --seconds 1 > "$TMP/udpsend.out" ||
		fail "udpsend failed" || return 1
	read -r sent el <<<"$(sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/' "$TMP/udpsend.out")"
	[ "${sent:-0}" -gt 0 ] || fail "udpsend sent nothing" || return 1
	wait_until 60 test "$(erule "$id" matched_packets)" -ge "$sent" ||
		fail "rule matched $(erule "$id" matched_packets) of $sent" || return 1
	passed=$(erule "$id" passed_packets); dropped=$(erule "$id" dropped_packets)
	echo "sent $sent in $el ns: passed $passed, dropped $dropped"
	expect_eq "$(( passed + dropped ))" "$sent" "passed + dropped vs sent" || return 1
	# burst + rate x elapsed, with room for a slow guest's clock ticks.
	expect_range "$passed" 10 $(( 10 + 50 * el / 1000000000 * 3 / 2 + 5 )) "admitted" || return 1
	wait_until 60 test "$(count_of "$TMP/eflood.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/eflood.count")" "$passed" "peer received vs rule passed" || return 1
	expect_eq "$(( $(egress_drops) - drops0 ))" "$dropped" "interface egress drops vs rule drops"
}
