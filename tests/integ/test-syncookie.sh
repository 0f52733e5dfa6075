#!/bin/bash
# SYN protection with real stacks and real packets. An "internet" namespace
# (a real kernel TCP client, and udpflood spoofing SYNs or forged ACKs from
# 65,536 random sources) reaches the gateway's perimeter NIC, where perimd
# runs perim_xdp_syn; behind the gateway a server namespace is routed.
# The gateway's own kernel counters (/proc/net/netstat of its namespace) say
# whether the flood reached its stack; perim's counters say what XDP did.
#
# The client makes CONNS connections one after the other during the flood,
# each sending and receiving 1 KiB: 1,000 at about 1 ms each on veth take a
# second or two, well inside the flood.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in $T-gw
PEER=${T}i    # its peer, in $T-inet
SGW=${T}s     # the gateway's side towards the server, in $T-gw
SRV=${T}b     # the server's NIC, in $T-srv
PORT=8080
CONNS=${SYN_TEST_CONNS:-1000}
FLOOD_RATE=${SYN_TEST_FLOOD_RATE:-40000}

setup() {
	ns_add gw && ns_add inet && ns_add srv || return 1
	veth_add gw "$GW" 10.79.0.1/24 inet "$PEER" 10.79.0.2/24 || return 1
	veth_add gw "$SGW" 10.80.0.1/24 srv "$SRV" 10.80.0.2/24 || return 1
	ip -n "$T-gw" addr add fd79::1/64 dev "$GW" nodad
	ip -n "$T-inet" addr add fd79::2/64 dev "$PEER" nodad
	ip -n "$T-inet" route add 10.80.0.0/24 via 10.79.0.1
	ip -n "$T-srv" route add default via 10.80.0.1
	# The spoofed sources are "out there": without a route the gateway's stack would drop their
	# SYNs before answering (it routes the SYN-ACK first), and the contrast would show nothing.
	ip -n "$T-gw" route add default via 10.79.0.2
	ip -n "$T-gw" -6 route add default via fd79::2
	in_ns gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.tcp_syncookies=1 || return 1
	in_ns srv sysctl -qw net.ipv4.tcp_syncookies=1 || return 1
	GW_MAC=$(mac_of gw "$GW")
	# skb mode: a native XDP_TX on this host's veth never reaches the peer (counted as sent, not
	# received, even with the peer's GRO on); generic XDP transmits through the stack's queue.
	# Either way the SYN is answered before the stack sees it.
	perimd_start gw --interface "$GW:skb" --metrics on || return 1
	if [ "$(pctl -j status | jq -r .syncookie.available)" != true ]; then
		SYN_UNAVAILABLE=$(pctl -j status | jq -r .syncookie.reason)
	fi
}

need_syn() {
	[ -z "${SYN_UNAVAILABLE:-}" ] && return 0
	skip "this kernel has no SYN-cookie stage: $SYN_UNAVAILABLE"
	return 1
}

# server NS ADDR [BACKLOG]: an echo server on ADDR:$PORT
server() {
	local f=$TMP/server-$1-${2//:/_}.ready
	rm -f "$f"
	ip netns exec "$T-$1" "$TOOLS/tcpconns" server --port "$PORT" --addr "$2" --backlog "${3:-128}" \
		--ready-file "$f" &
	track_pid $!
	wait_until 5 test -s "$f"
}

# clients DST COUNT [BYTES]: prints "ok failed elapsed_ns"
clients() {
	in_ns inet "$TOOLS/tcpconns" client --dst "$1" --port "$PORT" --count "$2" --bytes "${3:-1024}" |
		sed -E 's/ok=([0-9]+) failed=([0-9]+) elapsed_ns=([0-9]+).*/\1 \2 \3/'
}

# flood MODE DST SECONDS: spoofed TCP (--tcp-syn or --tcp-ack) at DST:$PORT; prints the number sent
flood() {
	local src=10.200.0.0/16
	[[ $2 == *:* ]] && src=fd00:200::/112
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst "$2" --src "$src" \
		--sources 65536 --port "$PORT" --rate "$FLOOD_RATE" --seconds "$3" "$1" |
		sed -E 's/sent=([0-9]+).*/\1/'
}

# netstat NAME: a TcpExt counter of the gateway's namespace
netstat() {
	in_ns gw cat /proc/net/netstat | awk -v k="$1" '
		/^TcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) h[i] = $i; n = 1 } else for (i = 2; i <= NF; i++) if (h[i] == k) print $i }'
}

syn_stat() { jstat "$GW" ".syncookie.$1"; }

# at_least N CMD...: CMD prints a number >= N
at_least() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }

# flood_during_clients MODE DST CONNS BYTES: floods while the client works; sets SENT OK FAILED ELAPSED
flood_during_clients() {
	local rx0 fl
	rx0=$(jstat "$GW" .counters.rx_packets)
	flood "$1" "$2" 4 > "$TMP/flood.out" &
	fl=$!
	# The flood is under way (perim has seen its first thousand frames) before the first connection.
	wait_until 5 at_least $(( rx0 + 1000 )) jstat "$GW" .counters.rx_packets || fail "no flood seen"
	read -r OK FAILED ELAPSED < <(clients "$2" "$3" "$4")
	wait "$fl"
	SENT=$(cat "$TMP/flood.out")
	# Generic XDP runs after the backlog queue: the flood is over when perim has seen all of it.
	wait_until 30 at_least $(( rx0 + SENT )) jstat "$GW" .counters.rx_packets || fail "flood still queued"
}

case_bad_input_changes_nothing() {
	local before
	before=$(pctl -j syncookie list | jq -c .)
	expect_exit 2 pctl syncookie set "$GW" dport 90-80 || return 1
	expect_exit 2 pctl syncookie set "$GW" dst 10.79.0.1/8 || return 1
	expect_exit 2 pctl syncookie set "$GW" mss 535 || return 1
	expect_exit 2 pctl syncookie set "$GW" mss 9001 || return 1
	expect_exit 2 pctl syncookie set "$GW" wscale 15 || return 1
	expect_exit 2 pctl syncookie set "${T}x" dport 80 || return 1
	expect_exit 2 pctl syncookie del "$GW" dport 1 || return 1
	expect_eq "$(pctl -j syncookie list | jq -c .)" "$before" "protections" || return 1
	expect_eq "$(in_netns gw nft list tables | grep -c perim_synproxy)" 0 "nftables tables"
}

case_set_del_own_table_only() {
	need_syn || return 0
	# An operator's table with a chain on the same hooks: perim must never touch it.
	in_netns gw nft -f - <<-EOF || return 1
		table inet ${T}_operator {
			chain input { type filter hook input priority filter; policy accept; tcp dport 22 accept; }
			chain raw { type filter hook prerouting priority raw; policy accept; }
		}
	EOF
	on_cleanup "nsenter --net=/run/netns/$T-gw nft delete table inet ${T}_operator"
	local before after
	before=$(in_netns gw nft list table inet "${T}_operator")
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" mss 1460 wscale 7 > /dev/null || return 1
	in_netns gw nft list table inet "perim_synproxy_$GW" > "$TMP/table" || return 1
	expect_match "$(cat "$TMP/table")" "notrack" "raw chain" || return 1
	expect_match "$(cat "$TMP/table")" "synproxy mss 1460 wscale 7 timestamp sack-perm" "input/forward" || return 1
	expect_eq "$(grep -c 'synproxy mss' "$TMP/table")" 2 "input and forward" || return 1
	expect_match "$(pctl -j status | jq -c .syncookie.protections)" "\"dport_lo\":$PORT" "status" || return 1
	grep -q "syncookie set $GW dst 10.79.0.1/32 dport $PORT mss 1460 wscale 7" "$STATE" ||
		fail "state file: $(cat "$STATE")" || return 1
	pctl syncookie del "$GW" dst 10.79.0.1/32 dport "$PORT" > /dev/null || return 1
	expect_eq "$(in_netns gw nft list tables | grep -c perim_synproxy)" 0 "table removed" || return 1
	after=$(in_netns gw nft list table inet "${T}_operator")
	expect_eq "$after" "$before" "the operator's table"
}

# A SYN protection is part of the ruleset: show writes it, show | apply changes
# nothing, a file without it removes it (table and all), diff and apply agree.
case_ruleset_carries_protections() {
	need_syn || return 0
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" mss 1460 > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	pctl show "$GW" > "$TMP/rs" || return 1
	# The default window scale is written out: show says what is enforced.
	grep -qx "syncookie set $GW dst 10.79.0.1/32 dport $PORT mss 1460 wscale 7" "$TMP/rs" ||
		fail "show: $(cat "$TMP/rs")" || return 1
	expect_eq "$(pctl -j apply "$TMP/rs" | jq -c '[.added, .removed, .replaced]')" "[0,0,0]" "show | apply" || return 1
	grep -v '^syncookie ' "$TMP/rs" > "$TMP/rs.without"
	expect_eq "$(pctl -j diff "$TMP/rs.without" | jq -r '.changes[] | select(.op == "removed") | .line')" \
		"syncookie set $GW dst 10.79.0.1/32 dport $PORT mss 1460 wscale 7" "diff names the protection" || return 1
	expect_eq "$(pctl -j apply "$TMP/rs.without" | jq -c '[.added, .removed, .replaced]')" "[0,1,0]" "apply" || return 1
	expect_eq "$(pctl -j syncookie list | jq '.syncookie | length')" 0 "no protection left" || return 1
	expect_eq "$(in_netns gw nft list tables | grep -c perim_synproxy)" 0 "table removed" || return 1
	expect_eq "$(pctl -j apply "$TMP/rs" | jq -c '[.added, .removed, .replaced]')" "[1,0,0]" "back" || return 1
	in_netns gw nft list table inet "perim_synproxy_$GW" > /dev/null || fail "table not back"
}

# Runs last (cases run in name order): the perimd it restarts ends with this case.
case_zz_restart_restores_protections() {
	need_syn || return 0
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local old=$PERIMD_PID
	perimd_stop
	# Not this subshell's child, so perimd_stop's wait returns at once: the old perimd removes
	# its socket as it exits, which must happen before the new one makes its own.
	wait_until 10 eval "! kill -0 $old 2>/dev/null" || fail "perimd $old did not exit" || return 1
	in_netns gw nft delete table inet "perim_synproxy_$GW" || return 1
	perimd_start gw --interface "$GW:skb" --metrics on || return 1
	expect_eq "$(pctl -j syncookie list | jq -r '.syncookie[0].dport_lo')" "$PORT" "restored" || return 1
	in_netns gw nft list table inet "perim_synproxy_$GW" > /dev/null || fail "table not restored"
}

# metric NAME: the value of NAME{interface="$GW"} in perimd's Prometheus text
metric() {
	in_netns gw curl -sf http://127.0.0.1:9469/metrics | awk -v m="$1{interface=\"$GW\"}" '$1 == m { print $2 }'
}

case_metrics_match_stats() {
	need_syn || return 0
	server gw 10.79.0.1 || return 1
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local ok failed el
	read -r ok failed el < <(clients 10.79.0.1 20)
	expect_eq "$ok" 20 "connections" || return 1
	expect_eq "$(metric perim_syncookie_synacks_sent_total)" "$(syn_stat synack_sent)" "SYN-ACKs" || return 1
	expect_eq "$(metric perim_syncookie_cookies_valid_total)" "$(syn_stat cookie_valid)" "cookies valid" || return 1
	expect_eq "$(metric perim_syncookie_cookies_bad_total)" "$(syn_stat cookie_bad)" "cookies bad" || return 1
	in_netns gw curl -sf http://127.0.0.1:9469/metrics | grep -q "perim_packets_dropped_total{interface=\"$GW\",reason=\"bad-cookie\"}" ||
		fail "no bad-cookie drop series"
}

# A spoofed SYN flood at a listener on the gateway, with protection, then without. In that
# order: the flood without leaves the listener's SYN queue full of half-open requests for a
# minute, which would make the kernel answer even SYNPROXY's own SYNs with cookies.
case_flood_local_listener() {
	need_syn || return 0
	server gw 10.79.0.1 64 || return 1
	local c0 o0 d0 s0 v0
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	c0=$(netstat SyncookiesSent); o0=$(netstat ListenOverflows); d0=$(netstat ListenDrops)
	s0=$(syn_stat synack_sent); v0=$(syn_stat cookie_valid)
	flood_during_clients --tcp-syn 10.79.0.1 "$CONNS" 1024
	local cookies=$(( $(netstat SyncookiesSent) - c0 )) answered=$(( $(syn_stat synack_sent) - s0 ))
	local valid=$(( $(syn_stat cookie_valid) - v0 ))
	echo "protected: flood $SENT SYNs, perim SYN-ACKs $answered, cookies validated $valid, kernel cookies $cookies, client ok=$OK failed=$FAILED in $((ELAPSED / 1000000)) ms"
	expect_range "$OK" $(( CONNS * 999 / 1000 )) "$CONNS" "connections completed" || return 1
	# Every flood SYN and every client SYN answered in XDP.
	expect_range "$answered" "$SENT" $(( SENT + CONNS + 10 )) "perim's SYN-ACKs" || return 1
	expect_range "$valid" $(( CONNS * 999 / 1000 )) $(( CONNS + 10 )) "cookies validated" || return 1
	expect_range "$cookies" 0 $(( SENT / 1000 )) "kernel SYN cookies" || return 1
	expect_eq "$(netstat ListenOverflows)" "$o0" "ListenOverflows" || return 1
	expect_eq "$(netstat ListenDrops)" "$d0" "ListenDrops" || return 1

	# Without: the kernel answers the flood with its own cookies.
	pctl syncookie del "$GW" > /dev/null || return 1
	c0=$(netstat SyncookiesSent)
	flood_during_clients --tcp-syn 10.79.0.1 "$CONNS" 1024
	local plain_cookies=$(( $(netstat SyncookiesSent) - c0 ))
	echo "unprotected: flood $SENT SYNs, kernel cookies $plain_cookies, client ok=$OK failed=$FAILED in $((ELAPSED / 1000000)) ms"
	expect_range "$plain_cookies" $(( SENT / 2 )) $(( SENT + CONNS )) "kernel SYN cookies without protection"
}

# A server routed behind the gateway, a transfer that needs window scaling.
case_flood_forwarded_server() {
	need_syn || return 0
	server srv 10.80.0.2 || return 1
	pctl syncookie set "$GW" dst 10.80.0.0/24 dport "$PORT" wscale 7 > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local v0 ok failed el
	v0=$(syn_stat cookie_valid)
	flood_during_clients --tcp-syn 10.80.0.2 "$((CONNS / 2))" 1024
	echo "forwarded: flood $SENT SYNs, client ok=$OK failed=$FAILED in $((ELAPSED / 1000000)) ms"
	expect_range "$OK" $(( CONNS / 2 * 999 / 1000 )) $((CONNS / 2)) "connections completed" || return 1
	# 8 MiB each way: far past the 64 KiB an unscaled window allows in flight.
	read -r ok failed el < <(clients 10.80.0.2 3 8388608)
	expect_eq "$ok" 3 "8 MiB transfers through SYNPROXY" || return 1
	expect_range "$(( $(syn_stat cookie_valid) - v0 ))" $((CONNS / 2 * 999 / 1000 + 3)) $((CONNS / 2 + 13)) "cookies validated"
}

# Forged ACKs: all dropped as bad-cookie in XDP; established connections unaffected.
case_ack_flood_dropped() {
	need_syn || return 0
	server gw 10.79.0.1 || return 1
	pctl syncookie set "$GW" dst 10.79.0.1/32 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local b0 r0
	b0=$(syn_stat cookie_bad); r0=$(jstat "$GW" '.counters.dropped["bad-cookie"].packets')
	flood_during_clients --tcp-ack 10.79.0.1 200 1024
	echo "ACK flood: $SENT forged ACKs, client ok=$OK failed=$FAILED"
	expect_eq "$(( $(syn_stat cookie_bad) - b0 ))" "$SENT" "bad cookies counted" || return 1
	expect_eq "$(( $(jstat "$GW" '.counters.dropped["bad-cookie"].packets') - r0 ))" "$SENT" "bad-cookie drops" || return 1
	expect_eq "$OK" 200 "connections during the ACK flood"
}

case_ipv6() {
	need_syn || return 0
	server gw fd79::1 || return 1
	pctl syncookie set "$GW" dst fd79::1/128 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local s0 v0
	s0=$(syn_stat synack_sent); v0=$(syn_stat cookie_valid)
	flood_during_clients --tcp-syn fd79::1 200 1024
	echo "IPv6: flood $SENT SYNs, client ok=$OK failed=$FAILED"
	expect_eq "$OK" 200 "IPv6 connections" || return 1
	expect_range "$(( $(syn_stat synack_sent) - s0 ))" "$SENT" $(( SENT + 210 )) "IPv6 SYN-ACKs" || return 1
	expect_range "$(( $(syn_stat cookie_valid) - v0 ))" 200 210 "IPv6 cookies validated"
}

case_vlan() {
	need_syn || return 0
	if ! ip -n "$T-gw" link add link "$GW" name "${T}v" type vlan id 100 2> "$TMP/vlan.err"; then
		skip "no VLAN devices on this kernel ($(cat "$TMP/vlan.err")); the VM tier runs this case on" \
			"Debian's 6.1 and 6.12 (tests/vm case syncookie-vlan), unit test_syncookie the tagged frames"
		return 0
	fi
	ip -n "$T-inet" link add link "$PEER" name "${T}w" type vlan id 100 || return 1
	ip -n "$T-gw" addr add 10.81.0.1/24 dev "${T}v" && ip -n "$T-gw" link set "${T}v" up
	ip -n "$T-inet" addr add 10.81.0.2/24 dev "${T}w" && ip -n "$T-inet" link set "${T}w" up
	on_cleanup "ip -n $T-gw link del ${T}v"
	on_cleanup "ip -n $T-inet link del ${T}w"
	# Strict reverse path on the client's side: a SYN-ACK that lost its tag reaches the parent,
	# not the VLAN device, and is dropped (the weak host model would take it).
	in_ns inet sysctl -qw net.ipv4.conf.all.rp_filter=1 || return 1
	on_cleanup "ip netns exec $T-inet sysctl -qw net.ipv4.conf.all.rp_filter=0"
	server gw 10.81.0.1 || return 1
	pctl syncookie set "$GW" dst 10.81.0.1/32 dport "$PORT" > /dev/null || return 1
	on_cleanup "$PERIMCTL -s $SOCK syncookie del $GW"
	local s0 v0 ok failed el
	s0=$(syn_stat synack_sent); v0=$(syn_stat cookie_valid)
	read -r ok failed el < <(clients 10.81.0.1 100)
	expect_eq "$ok" 100 "connections over VLAN 100" || return 1
	expect_range "$(( $(syn_stat synack_sent) - s0 ))" 100 110 "SYN-ACKs from XDP, tag kept" || return 1
	expect_range "$(( $(syn_stat cookie_valid) - v0 ))" 100 110 "cookies validated"
}

if ! setup > "$TMP/setup.log" 2>&1; then
	echo "FAIL: ${0##*/}:setup"; sed 's/^/    /' "$TMP/setup.log"
	exit 1
fi
run_cases "$@"
