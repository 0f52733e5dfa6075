#!/bin/bash
# The per-source tables' fill in `status` (JSON and text) and the metrics:
# real sources through perim's XDP fill perim_src4 and perim_src, and perimd
# reports what the kernel holds (bpftool's dump of the pinned map is the
# reference), out of each table's size. A status call over a million
# entries is timed.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g CL=${T}c
METRICS_PORT=9469   # in the gateway's own namespace: nothing else listens there

status_of() { pctl -j status | jq -r ".source_tables[] | select(.table == \"$1\") | .$2"; }
dumped() { bpftool -j map dump pinned "$PIN_ROOT/$1" | jq length; }
rule_seen() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .passed_packets + .dropped_packets"; }

# send SRC SOURCES DST COUNT RATE: COUNT datagrams, one from each of SOURCES addresses in turn.
send() {
	in_ns cl "$TOOLS/udpflood" send --dev "$CL" --dst-mac "$(mac_of gw "$GW")" --src "$1" --sources "$2" \
		--dst "$3" --port 7001 --count "$4" --rate "$5" >/dev/null
}

setup() {
	daemon_topology_setup || return 1
	ip -n "$T-gw" addr add 2001:db8:79::1/64 dev "$GW" nodad &&
	ip -n "$T-cl" addr add 2001:db8:79::2/64 dev "$CL" nodad
}

# 3,000 IPv4 and 1,000 IPv6 sources, each sending once: the tables hold what
# was admitted, and status says so, out of --src-buckets.
case_fill_counted_in_status() {
	setup && perimd_start gw --interface "$GW" --src-buckets 8192 --metrics "$METRICS_PORT" || return 1
	# A rate of 100 pps admits 1,600 new sources a second (burst 1,600): every source here is admitted.
	local r4 r6
	r4=$(pctl -j limit set "$GW" src 198.18.0.0/15 proto udp rate 100pps burst 10 per-source | jq -r .id) &&
	r6=$(pctl -j limit set "$GW" src 2001:db8:7a::/48 proto udp rate 100pps burst 10 per-source | jq -r .id) ||
		return 1
	expect_eq "$(status_of perim_src4 entries)/$(status_of perim_src4 max_entries)" 0/8192 "perim_src4 before" &&
	expect_eq "$(status_of perim_src entries)/$(status_of perim_src max_entries)" 0/8192 "perim_src before" ||
		return 1
	send 198.18.0.0/15 3000 10.78.0.1 3000 1500 && send 2001:db8:7a::/48 1000 2001:db8:79::1 1000 1000 || return 1
	wait_until 10 eval '[ "$(rule_seen "$r4")" -ge 3000 ] && [ "$(rule_seen "$r6")" -ge 1000 ]' ||
		{ fail "perim saw $(rule_seen "$r4") and $(rule_seen "$r6") of the datagrams"; return 1; }
	local n4 n6 text
	n4=$(status_of perim_src4 entries) n6=$(status_of perim_src entries)
	echo "status: perim_src4 $n4, perim_src $n6"
	expect_eq "$n4" "$(dumped perim_src4)" "perim_src4 entries against the kernel's dump" &&
	expect_eq "$n6" "$(dumped perim_src)" "perim_src entries against the kernel's dump" &&
	expect_range "$n4" 2850 3000 "IPv4 sources held" &&
	expect_range "$n6" 950 1000 "IPv6 sources held" || return 1
	text=$(pctl status)
	expect_match "$text" "source tables: perim_src4 \(ipv4\) $n4 of 8192 \([0-9.]+%\), perim_src \(ipv6\) $n6 of 8192" \
		"status text" || return 1
	text=$(in_ns gw curl -sS "http://127.0.0.1:$METRICS_PORT/metrics")
	expect_match "$text" "^perim_source_table_entries\{table=\"perim_src4\"\} $n4$" "metrics, perim_src4" &&
	expect_match "$text" "^perim_source_table_max_entries\{table=\"perim_src\"\} 8192$" "metrics, perim_src size"
}

# A table of 1,048,576 filled by as many sources: status counts it (at least
# 80%: the kernel's LRU keeps free nodes per CPU) and stays quick.
case_million_entries_status_is_quick() {
	local size=1048576
	setup && perimd_start gw --interface "$GW" --src-buckets "$size" || return 1
	# 100 kpps a source admits 1.6 million new sources a second.
	local r4
	r4=$(pctl -j limit set "$GW" src 100.64.0.0/10 proto udp rate 100kpps burst 10 per-source | jq -r .id) || return 1
	local t0 t1 empty_ms full_ms n
	t0=$(date +%s%N); pctl -j status >/dev/null || return 1; t1=$(date +%s%N)
	empty_ms=$(( (t1 - t0) / 1000000 ))
	send 100.64.0.0/10 "$size" 10.78.0.1 "$size" 1000000 || return 1
	wait_until 30 eval '[ "$(rule_seen "$r4")" -ge '"$size"' ]' ||
		{ fail "perim saw $(rule_seen "$r4") of the $size datagrams"; return 1; }
	t0=$(date +%s%N); n=$(status_of perim_src4 entries); t1=$(date +%s%N)
	full_ms=$(( (t1 - t0) / 1000000 ))
	echo "status: $n of $size entries; the call took $full_ms ms full, $empty_ms ms empty"
	expect_range "$n" $(( size * 8 / 10 )) "$size" "entries held in perim_src4" &&
	expect_eq "$(status_of perim_src4 max_entries)" "$size" "perim_src4 size" &&
	expect_range "$full_ms" 0 2000 "ms for a status over a full table of a million"
}

run_cases "$@"
