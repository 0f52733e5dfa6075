#!/bin/bash
# Real traffic through a real veth: an "internet" namespace floods the
# gateway's perimeter NIC, on which perimd runs perim's XDP program.
#
# Tolerance: the datapath refills buckets from the coarse clock (one jiffy,
# 4 ms at HZ=250), so over a flood of D seconds the admitted count is
# burst + rate * D give or take a couple of ticks' worth of tokens plus the
# sender's pacing jitter; with D = 2 s that is well under 1%. The tests allow
# 5% so a noisy VM does not make them flaky while a broken limiter (which
# admits 10x, or nothing) still fails by a wide margin. Bursts are half a
# second of tokens: a sender descheduled for less than that loses no admitted
# packets (the bucket banks the tokens), so the expectation holds on a busy box.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet

setup() {
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.77.0.1/24 inet "$PEER" 10.77.0.2/24 || return 1
	ip -n "$T-gw" addr add fd77::1/64 dev "$GW" nodad
	ip -n "$T-inet" addr add fd77::2/64 dev "$PEER" nodad
	GW_MAC=$(mac_of gw "$GW")
	perimd_start gw --interface "$GW" || return 1
}

# flood FAMILY SRC SOURCES PORT RATE SECONDS: prints "sent elapsed_ns"
flood() {
	local dst=10.77.0.1
	[ "$1" = 6 ] && dst=fd77::1
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst "$dst" \
		--src "$2" --sources "$3" --port "$4" --rate "$5" --seconds "$6" |
		sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/'
}

rule_stat() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
if_stat() { jstat "$GW" ".counters.$1"; }
rx_at_least() { [ "$(if_stat rx_packets)" -ge "$1" ]; }

# expect_admitted RECEIVED RATE BURST ELAPSED_NS TAG: within 5% of burst + rate*elapsed
expect_admitted() {
	local want=$(( $3 + $2 * $4 / 1000000000 ))
	expect_range "$1" $(( want * 95 / 100 )) $(( want * 105 / 100 )) "$5 (expected ~$want)"
}

case_flood_cut_to_aggregate_rate() {
	local id out sent el rx0
	id=$(pctl -j limit set "$GW" src 10.200.0.0/24 proto udp dport 5001 rate 2kpps burst 1000 aggregate | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	recv_start gw 5001 flood && recv_start gw 5002 client || return 1
	rx0=$(if_stat rx_packets)
	# 10x the limit from 50 spoofed sources, and a well-behaved client beside it.
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.77.0.1 \
		--src 10.77.0.2 --port 5002 --rate 500 --count 1000 > "$TMP/client.out" &
	local client=$!
	read -r sent el < <(flood 4 10.200.0.0/24 50 5001 20000 2)
	wait "$client"
	wait_until 10 rx_at_least $(( rx0 + sent + 1000 )) || fail "perim saw $(if_stat rx_packets) packets"
	local passed dropped
	passed=$(rule_stat "$id" passed_packets); dropped=$(rule_stat "$id" dropped_packets)
	expect_eq $(( passed + dropped )) "$sent" "rule passed+dropped vs sent" || return 1
	wait_until 10 test "$(count_of "$TMP/flood.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/flood.count")" "$passed" "receiver vs rule passed" || return 1
	expect_admitted "$passed" 2000 1000 "$el" "admitted flood" || return 1
	wait_until 10 test "$(count_of "$TMP/client.count")" -ge 1000
	expect_eq "$(count_of "$TMP/client.count")" 1000 "client packets received" || return 1
	pctl limit del "$GW" "$id"
}

case_per_source_buckets() {
	local id sent el passed
	id=$(pctl -j limit set "$GW" src 10.201.0.0/24 proto udp dport 5003 rate 200pps burst 100 per-source | jq -r .id)
	recv_start gw 5003 persrc || return 1
	# 10 sources at 1000 pps each: every source gets its own 200 pps.
	read -r sent el < <(flood 4 10.201.0.0/24 10 5003 10000 2)
	wait_until 10 test "$(( $(rule_stat "$id" passed_packets) + $(rule_stat "$id" dropped_packets) ))" -ge "$sent"
	passed=$(rule_stat "$id" passed_packets)
	expect_admitted "$passed" $(( 10 * 200 )) $(( 10 * 100 )) "$el" "admitted over 10 sources" || return 1
	wait_until 10 test "$(count_of "$TMP/persrc.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/persrc.count")" "$passed" "receiver vs rule passed"
	pctl limit del "$GW" "$id"
}

# burst_from SRC PORT NAME RULE: 20 datagrams from one source at 1,000/s, once perim
# counted them all: PASSED = how many RULE passed, GOT = the receiver's total since started.
burst_from() {
	local p0; p0=$(rule_stat "$4" passed_packets)
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.77.0.1 \
		--src "$1" --port "$2" --rate 1000 --count 20 >/dev/null || return 1
	wait_until 5 rx_at_least $(( RX0 + 20 )) || fail "perim saw $(if_stat rx_packets) of $(( RX0 + 20 ))" || return 1
	RX0=$(( RX0 + 20 ))
	PASSED=$(( $(rule_stat "$4" passed_packets) - p0 ))
	wait_until 5 test "$(count_of "$TMP/$3.count")" -ge $(( GOT + PASSED )) || fail "received $(count_of "$TMP/$3.count")" || return 1
	GOT=$(count_of "$TMP/$3.count")
}

# An IPv4 source's bucket (perim_src4) follows its rule: a replace with other
# parameters or a delete and set again start it afresh, the same parameters keep it.
case_per_source_state_follows_the_rule() {
	local sel=(src 10.204.0.0/24 proto udp dport 5007) id b0
	id=$(pctl -j limit set "$GW" "${sel[@]}" rate 1pps burst 5 per-source block 600 | jq -r .id)
	recv_start gw 5007 blk || return 1
	RX0=$(if_stat rx_packets) GOT=0
	b0=$(if_stat 'dropped."blocked".packets')
	burst_from 10.204.0.9 5007 blk "$id" || return 1
	expect_eq "$PASSED $GOT" "5 5" "the burst, then blocked (passed, received)" || return 1
	expect_range "$(( $(if_stat 'dropped."blocked".packets') - b0 ))" 1 14 "blocked drops" || return 1
	# The rule has no byte limit: the source's bucket is its route, key {PERIM_SRC_ROUTE | slot,
	# address}, whose candidate (bytes 8-15, where a bucket has byte_tat) starts with the rule id.
	expect_eq "$(bpftool -j map dump pinned "$PIN_ROOT/perim_src4" |
		jq -c --arg lo "$(printf '0x%02x' $((id & 255)))" --arg hi "$(printf '0x%02x' $((id >> 8)))" \
		'[.[] | select(.formatted.key.rule >= 2147483648 and .formatted.key.addr == [10,204,0,9] and
			.value[8] == $lo and .value[9] == $hi)] | length')" 1 \
		"the source's route and bucket, in the IPv4 table" || return 1
	expect_eq "$(pctl -j limit set "$GW" "${sel[@]}" rate 1pps burst 5 per-source block 600 | jq -r .replaced)" true \
		"same parameters: replaced" || return 1
	burst_from 10.204.0.9 5007 blk "$id" || return 1
	expect_eq "$PASSED $GOT" "0 5" "same parameters keep the block" || return 1
	pctl limit set "$GW" "${sel[@]}" rate 2pps burst 5 per-source block 600 >/dev/null || return 1
	burst_from 10.204.0.9 5007 blk "$id" || return 1
	expect_eq "$PASSED $GOT" "5 10" "another rate starts the source afresh" || return 1
	pctl limit del "$GW" "$id" >/dev/null || return 1
	id=$(pctl -j limit set "$GW" "${sel[@]}" rate 2pps burst 5 per-source block 600 | jq -r .id)
	burst_from 10.204.0.9 5007 blk "$id" || return 1
	expect_eq "$PASSED $GOT" "5 15" "deleted and set again: afresh" || return 1
	pctl limit del "$GW" "$id"
}

# The route of IPv4 source $1 decides: its epoch (value bytes 28-31) is perimd's
# (perim_rules[0].gen, bytes 0-3), and not 0.
route_decides() {
	local epoch route
	epoch=$(bpftool -j map lookup pinned "$PIN_ROOT/perim_rules" key 0 0 0 0 | jq -c '.value[0:4]')
	route=$(bpftool -j map dump pinned "$PIN_ROOT/perim_src4" | jq -c --argjson a "[${1//./,}]" \
		'[.[] | select(.formatted.key.rule >= 2147483648 and .formatted.key.addr == $a)][0].value[28:32]')
	[ "$route" = "$epoch" ] && [ "$epoch" != '["0x00","0x00","0x00","0x00"]' ]
}

# A known source's route decides its rule without a prefix lookup until the
# prefix entries change: a deny entry or a more specific rule added for it
# later takes over at once (perimd's new route epoch).
case_route_gives_way_to_new_entries() {
	local sel=(src 10.205.0.0/24 proto udp dport 5008) id id2 d0 m0
	id=$(pctl -j limit set "$GW" "${sel[@]}" rate 1pps burst 5 per-source | jq -r .id)
	recv_start gw 5008 rt || return 1
	RX0=$(if_stat rx_packets) GOT=0
	burst_from 10.205.0.9 5008 rt "$id" || return 1
	expect_eq "$PASSED $GOT" "5 5" "the burst, then the route's rule drops" || return 1
	route_decides 10.205.0.9 || fail "the source's route does not decide" || return 1
	pctl deny add "$GW" 10.205.0.9/32 || return 1
	d0=$(if_stat 'dropped."deny".packets') m0=$(rule_stat "$id" matched_packets)
	burst_from 10.205.0.9 5008 rt "$id" || return 1
	expect_eq "$(( $(if_stat 'dropped."deny".packets') - d0 ))" 20 "the deny entry drops all" || return 1
	expect_eq "$(rule_stat "$id" matched_packets)" "$m0" "the route's rule sees none" || return 1
	pctl deny del "$GW" 10.205.0.9/32 || return 1
	id2=$(pctl -j limit set "$GW" src 10.205.0.9/32 proto udp dport 5008 rate 1kpps burst 100 per-source |
		jq -r .id)
	burst_from 10.205.0.9 5008 rt "$id2" || return 1
	expect_eq "$PASSED $GOT" "20 25" "the more specific rule admits all" || return 1
	expect_eq "$(rule_stat "$id" matched_packets)" "$m0" "the route's old rule sees none" || return 1
	pctl limit del "$GW" "$id2"; pctl limit del "$GW" "$id"
}

case_ipv6_flood_cut() {
	local id sent el passed
	id=$(pctl -j limit set "$GW" src fd99::/64 proto udp rate 1kpps burst 500 aggregate | jq -r .id)
	recv_start gw 5004 v6 6 || return 1
	read -r sent el < <(flood 6 fd99::/64 20 5004 10000 2)
	wait_until 10 test "$(( $(rule_stat "$id" passed_packets) + $(rule_stat "$id" dropped_packets) ))" -ge "$sent"
	passed=$(rule_stat "$id" passed_packets)
	expect_admitted "$passed" 1000 500 "$el" "admitted IPv6 flood" || return 1
	wait_until 10 test "$(count_of "$TMP/v6.count")" -ge "$passed"
	expect_eq "$(count_of "$TMP/v6.count")" "$passed" "receiver vs rule passed"
	pctl limit del "$GW" "$id"
}

case_deny_and_allow_lists() {
	local d0 sent el
	recv_start gw 5005 acl || return 1
	pctl deny add "$GW" 10.202.0.0/16 || return 1
	d0=$(if_stat 'dropped."deny".packets')
	read -r sent el < <(flood 4 10.202.1.0/24 5 5005 5000 0.2)
	wait_until 10 test "$(( $(if_stat 'dropped."deny".packets') - d0 ))" -ge "$sent" || return 1
	expect_eq "$(count_of "$TMP/acl.count")" 0 "denied packets received" || return 1
	# An allow entry inside the denied prefix wins for its sources, and bypasses limits.
	pctl allow add "$GW" 10.202.1.0/24 || return 1
	local id
	id=$(pctl -j limit set "$GW" src 10.202.0.0/16 rate 1pps burst 1 aggregate | jq -r .id)
	read -r sent el < <(flood 4 10.202.1.0/24 5 5005 5000 0.2)
	wait_until 10 test "$(count_of "$TMP/acl.count")" -ge "$sent"
	expect_eq "$(count_of "$TMP/acl.count")" "$sent" "allowed packets received" || return 1
	pctl limit del "$GW" "$id"; pctl allow del "$GW" 10.202.1.0/24; pctl deny del "$GW" 10.202.0.0/16
}

case_driver_counts_xdp_drops() {
	# perim's drops are XDP_DROPs the driver counts itself (veth: xdp_drops).
	local before after ours0 ours1
	pctl deny add "$GW" 10.203.0.0/24 || return 1
	before=$(in_ns gw ethtool -S "$GW" | awk '/xdp_drops/ {s += $2} END {print s + 0}')
	ours0=$(if_stat 'dropped."deny".packets')
	local sent el
	read -r sent el < <(flood 4 10.203.0.0/24 3 5006 5000 0.2)
	wait_until 10 test "$(( $(if_stat 'dropped."deny".packets') - ours0 ))" -ge "$sent" || return 1
	after=$(in_ns gw ethtool -S "$GW" | awk '/xdp_drops/ {s += $2} END {print s + 0}')
	ours1=$(if_stat 'dropped."deny".packets')
	expect_eq $(( after - before )) $(( ours1 - ours0 )) "driver xdp_drops vs perim deny drops"
	pctl deny del "$GW" 10.203.0.0/24
}

if ! setup > "$TMP/setup.log" 2>&1; then
	echo "FAIL: ${0##*/}:setup"; sed 's/^/    /' "$TMP/setup.log"
	exit 1
fi
run_cases "$@"
