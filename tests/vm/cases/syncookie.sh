# shellcheck shell=bash
# SYN protection on the guest kernels (helpers used in cases/perim.sh).
# From 6.0 the raw SYN-cookie helpers and conntrack kfuncs exist: perimd loads
# perim_xdp_syn and a real handshake goes through the cookie (answered from
# XDP, checked in XDP, completed by nftables' SYNPROXY). Before (5.10): status
# says unavailable and why, `syncookie set` fails with exit 1 naming the
# missing kernel feature, and the rest of perim works. From 6.0 the stage must
# load and attach as a libxdp dispatcher extension. build-initramfs.sh
# loads nf_conntrack and nft_synproxy (the kfuncs are in nf_conntrack's BTF)
# and 8021q (VLAN devices: the host kernel has none).

syncookie_kernel_has_helpers() {
	local major minor
	IFS=. read -r major minor _ <<<"$(uname -r)"
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 0 ]; }
}

# The SYN cases share one perimd (shared=syncookie in cases.list); each
# removes what it set (the VLAN case, last, leaves the namespaces' sysctls).
fixture_syncookie() { perim_fixture --interface "$GW:skb"; }

case_syncookie_reported_by_kernel() {
	# skb mode: see tests/integ/test-syncookie.sh (a native XDP_TX on veth needs the peer's NAPI)
	perim_setup --interface "$GW:skb" || return 1
	local status available reason named
	status=$(perim_status) || return 1
	jq -c .syncookie <<<"$status"
	available=$(jq -r .syncookie.available <<<"$status")
	reason=$(jq -r .syncookie.reason <<<"$status")
	# The datapath is on the interface whatever the SYN stage's fate.
	expect_eq "$(jstat "$GW" .attached)" true "perim attached to $GW" || return 1
	if syncookie_kernel_has_helpers; then
		# The kernel has what perim_xdp_syn calls: it must load and attach
		# (6.12 refused it as a dispatcher extension while it resized the frame).
		expect_eq "$available" true "available on $(uname -r) (reason: $reason)" || return 1
		expect_eq "$(jq -r .syncookie.program <<<"$status")" perim_xdp_syn "program" || return 1
		# As an extension of libxdp's dispatcher, where the kernel has freplace.
		expect_eq "$(jstat "$GW" .dispatcher)" multiprog "dispatcher" || return 1
		expect_eq "$(jstat "$GW" '.programs[0].name')" perim_xdp_syn "the dispatcher's program"
		return
	fi
	expect_eq "$available" false "available on $(uname -r)" || return 1
	named=bpf_tcp_raw_gen_syncookie_ipv4
	expect_match "$reason" "$named" "reason" || return 1
	expect_exit 1 pctl syncookie set "$GW" dport 80 || return 1
	expect_match "$(cat "$TMP/last.err")" "$named" "syncookie set's message" || return 1
	# The rest of perim is up: a limit is set and counted.
	local id
	id=$(pctl -j limit set "$GW" src 10.77.0.2/32 proto udp dport 5001 rate 1pps burst 1 | jq -r .id)
	expect_ne "$id" "" "limit set beside an unavailable SYN protection" || return 1
	pctl limit del "$GW" "$id"
}

case_syncookie_handshake() {
	syncookie_kernel_has_helpers || vm_skip "$(uname -r) predates the SYN-cookie helpers (6.0)"
	perim_setup --interface "$GW:skb" || return 1
	local ready=$TMP/server.ready out status
	status=$(perim_status) || return 1
	expect_eq "$(jq -r .syncookie.available <<<"$status")" true \
		"SYN protection on $(uname -r) ($(jq -r .syncookie.reason <<<"$status"))" || return 1
	ip netns exec "$T-gw" "$TOOLS/tcpconns" server --port 8080 --addr 10.77.0.1 --ready-file "$ready" &
	track_pid $!
	wait_until 30 test -s "$ready" || fail "echo server did not start" || return 1
	pctl syncookie set "$GW" dst 10.77.0.1/32 dport 8080 || return 1
	on_cleanup pctl syncookie del "$GW" dst 10.77.0.1/32 dport 8080
	in_netns gw nft list table inet "perim_synproxy_$GW" || fail "perim's synproxy table" || return 1
	out=$(in_ns inet "$TOOLS/tcpconns" client --dst 10.77.0.1 --port 8080 --count 5 --bytes 4096 --timeout-ms 20000)
	echo "$out"
	pctl -j stats "$GW" | jq -c '.interfaces[0] | {syncookie, rx_packets, passed_packets, dropped_packets}'
	in_netns gw ip -d link show "$GW"
	in_netns gw nft list ruleset
	in_netns gw bpftool net show dev "$GW"
	expect_match "$out" "^ok=5 " "connections through the cookie" || return 1
	expect_range "$(jstat "$GW" .syncookie.synack_sent)" 5 100 "SYN-ACKs from XDP" || return 1
	expect_range "$(jstat "$GW" .syncookie.cookie_valid)" 5 100 "cookies validated in XDP"
}

# syncookie_netstat NAME: a TcpExt counter of the gateway's namespace.
syncookie_netstat() {
	in_ns gw cat /proc/net/netstat | awk -v k="$1" '
		/^TcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) h[i] = $i; n = 1 } else for (i = 2; i <= NF; i++) if (h[i] == k) print $i }'
}

# syncookie_vlan_round WHAT COUNT: COUNT connections over VLAN 100 through the
# cookie; perim answered and validated each, the kernel sent no cookie.
syncookie_vlan_round() {
	local what=$1 n=$2 s0 v0 k0 out
	s0=$(jstat "$GW" .syncookie.synack_sent); v0=$(jstat "$GW" .syncookie.cookie_valid)
	k0=$(syncookie_netstat TcpExtSyncookiesSent)
	out=$(in_ns inet "$TOOLS/tcpconns" client --dst 10.78.0.1 --port 8080 --count "$n" --bytes 4096 \
		--timeout-ms 20000)
	echo "$what: $out"
	pctl -j stats "$GW" | jq -c '.interfaces[0].syncookie'
	expect_match "$out" "^ok=$n " "$what: connections over VLAN 100" || return 1
	expect_range "$(( $(jstat "$GW" .syncookie.synack_sent) - s0 ))" "$n" $(( 2 * n )) \
		"$what: SYN-ACKs from XDP" || return 1
	expect_range "$(( $(jstat "$GW" .syncookie.cookie_valid) - v0 ))" "$n" $(( 2 * n )) \
		"$what: cookies validated in XDP" || return 1
	expect_eq "$(( $(syncookie_netstat TcpExtSyncookiesSent) - k0 ))" 0 "$what: the kernel's own SYN cookies"
}

# syncookie_vlan_setup PERIMD-INTERFACE: perimd on the gateway's veth with the
# SYN stage available, a VLAN 100 device over each end, a listener on the
# gateway's, the protection set on the parent. Strict reverse-path filtering
# on both sides: a SYN-ACK sent back without its tag would reach the client's
# parent, not its VLAN device, and be dropped (the weak host model would take
# it otherwise).
syncookie_vlan_setup() {
	perim_setup --interface "$1" || return 1
	local ready=$TMP/server.ready status
	status=$(perim_status) || return 1
	expect_eq "$(jq -r .syncookie.available <<<"$status")" true \
		"SYN protection on $(uname -r) ($(jq -r .syncookie.reason <<<"$status"))" || return 1
	ip -n "$T-gw" link add link "$GW" name "${T}v" type vlan id 100 || fail "VLAN device over $GW" || return 1
	ip -n "$T-inet" link add link "$PEER" name "${T}w" type vlan id 100 || fail "VLAN device over $PEER" ||
		return 1
	on_cleanup "ip -n $T-gw link del ${T}v"
	on_cleanup "ip -n $T-inet link del ${T}w"
	ip -n "$T-gw" addr add 10.78.0.1/24 dev "${T}v" && ip -n "$T-gw" link set "${T}v" up || return 1
	ip -n "$T-inet" addr add 10.78.0.2/24 dev "${T}w" && ip -n "$T-inet" link set "${T}w" up || return 1
	in_ns gw sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.tcp_syncookies=1 || return 1
	in_ns inet sysctl -qw net.ipv4.conf.all.rp_filter=1 || return 1
	ip netns exec "$T-gw" "$TOOLS/tcpconns" server --port 8080 --addr 10.78.0.1 --ready-file "$ready" &
	track_pid $!
	wait_until 30 test -s "$ready" || fail "echo server did not start" || return 1
	pctl syncookie set "$GW" dst 10.78.0.1/32 dport 8080 || return 1
	on_cleanup pctl syncookie del "$GW" dst 10.78.0.1/32 dport 8080
}

# syncookie_vlan_tag_in_frame: the client's veth stops offloading the tag, so
# its frames carry it, as from a NIC that does not strip it.
syncookie_vlan_tag_in_frame() {
	in_ns inet ethtool -K "$PEER" txvlan off || fail "ethtool -K $PEER txvlan off" || return 1
	expect_match "$(in_ns inet ethtool -k "$PEER")" "tx-vlan-offload: off" "$PEER's tag offload"
}

# perim's SYN protection on the gateway's parent, where the tagged frames
# arrive (skb mode, as case_syncookie_handshake), real connections to a
# listener on its VLAN device.
case_syncookie_vlan() {
	syncookie_kernel_has_helpers || vm_skip "$(uname -r) predates the SYN-cookie helpers (6.0)"
	syncookie_vlan_setup "$GW:skb" || return 1
	# veth offloads the tag: the frame perim sees is untagged, the tag rides in
	# the skb, and the answer must keep it.
	syncookie_vlan_round "tag offloaded" 10 || return 1
	# The tag in the frame: perim_xdp_syn parses past it and writes the SYN-ACK behind it.
	syncookie_vlan_tag_in_frame || return 1
	syncookie_vlan_round "tag in the frame" 10
}
