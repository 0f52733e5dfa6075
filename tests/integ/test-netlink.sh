#!/bin/bash
# perimd follows its configured links over netlink: a perimeter veth deleted
# and re-created under a flood, renamed, brought down and up, configured
# before it exists, or refused mid-attach; and perimctl stats shows the NIC's
# own counters (stats64, the driver's xdp_drops) beside perim's drops.
#
# Every wait is on a state, a counter or a log line perimd writes when it
# acts. "Within a second" is asserted with a 1 s deadline on the state.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g          # perimeter NIC, in namespace $T-gw
PEER=${T}i        # its peer, in namespace $T-inet
LATE=${T}l        # configured, absent at start
PICKY=${T}n       # configured native-only, created with a peer MTU native XDP refuses
GW_MAC=02:77:00:00:00:01
PEER_MAC=02:77:00:00:00:02
LOG=$TMP/perimd.log

make_gw_pair() {
	ip link add "$GW" netns "$T-gw" address "$GW_MAC" type veth \
		peer name "$PEER" netns "$T-inet" address "$PEER_MAC" || return 1
	ip -n "$T-gw" addr add 10.78.0.1/24 dev "$GW" nodad 2>/dev/null || ip -n "$T-gw" addr add 10.78.0.1/24 dev "$GW"
	ip -n "$T-inet" addr add 10.78.0.2/24 dev "$PEER"
	ip -n "$T-gw" link set "$GW" up && ip -n "$T-inet" link set "$PEER" up
}

setup() {
	ns_add gw && ns_add inet || return 1
	make_gw_pair || return 1
	perimd_start gw -v --events "$TMP/events.json" --interface "$GW" --interface "$LATE" \
		--interface "$PICKY:native" || return 1
}

# ---- reading perimd and the kernel ----
iface() { pctl -j status | jq -c ".interfaces[] | select(.dev == \"$1\")"; }
ifindex_of() { iface "$1" | jq -r 'if .attached then .ifindex else 0 end'; }
kernel_name_of() { iface "$1" | jq -r '.kernel_name // ""'; }
kernel_ifindex() { ip -n "$T-$1" -j link show dev "$2" | jq -r '.[0].ifindex'; }
# The XDP program id the kernel has on a device (0: none), from `ip -j link`.
kernel_xdp_id() { ip -n "$T-$1" -j -d link show dev "$2" | jq -r '.[0].xdp.prog.id // 0'; }
nic() { jstat "$1" ".nic.$2"; }
rule_dropped() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .dropped_packets"; }
# Log lines since the case's mark: an earlier case's line cannot satisfy a wait.
LOG_MARK=0
mark() { LOG_MARK=$(wc -l < "$LOG"); }
new_log() { tail -n +$(( LOG_MARK + 1 )) "$LOG"; }
log_count() { new_log | grep -cE -- "$1"; }
log_has() { new_log | grep -qE -- "$1"; }
log_at_least() { [ "$(log_count "$2")" -ge "$1" ]; }
# is VALUE CMD...: CMD prints VALUE (re-run on every poll, unlike "$(...)" in the call)
is() { [ "$("${@:2}")" = "$1" ]; }
isnt() { [ "$("${@:2}")" != "$1" ]; }
is_attached_at() { [ "$(ifindex_of "$1")" = "$2" ]; }
attached_elsewhere() { local i; i=$(ifindex_of "$1"); [ "$i" != 0 ] && [ "$i" != "$2" ]; }
at_least() { [ "$("${@:2}")" -ge "$1" ]; }
daemon_alive() { kill -0 "$PERIMD_PID" 2>/dev/null || fail "perimd died: $(grep -v '^{' "$LOG" | tail -5)"; }

# flood_loop SRC PORT RATE: keeps a flood going across the peer's deletion
# (udpflood exits when its device vanishes; the loop starts it again).
flood_loop() {
	( while [ ! -e "$TMP/stop-flood" ]; do
		in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
			--src "$1" --sources 20 --port "$2" --rate "$3" --seconds 1 >/dev/null 2>&1 ||
			sleep 0.05   # the device is being re-created: try again shortly
	  done ) &
	FLOOD_PID=$!
	track_pid "$FLOOD_PID"
	on_cleanup "touch $TMP/stop-flood"
}
flood_stop() { touch "$TMP/stop-flood"; wait "$FLOOD_PID" 2>/dev/null; rm -f "$TMP/stop-flood"; }

# ---- cases ----

case_recreate_under_flood_keeps_limits() {
	local id limits0 old d0 t0 t1 new
	mark
	id=$(pctl -j limit set "$GW" src 10.210.0.0/24 proto udp dport 5010 rate 1kpps burst 500 aggregate | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	limits0=$(pctl -j limit list "$GW")
	old=$(ifindex_of "$GW")
	flood_loop 10.210.0.0/24 5010 5000
	wait_until 10 at_least 1000 rule_dropped "$id" || fail "no enforcement before: $(rule_dropped "$id")" || return 1

	ip -n "$T-gw" link del "$GW" || return 1
	wait_until 5 log_has "$GW: ifindex $old was deleted" || fail "deletion not logged" || return 1
	d0=$(rule_dropped "$id")
	make_gw_pair || return 1
	new=$(kernel_ifindex gw "$GW")
	t0=$(date +%s%N)
	wait_until 1 is_attached_at "$GW" "$new" || fail "not re-attached to ifindex $new within 1 s" || return 1
	t1=$(date +%s%N)
	echo "re-attached $(( (t1 - t0) / 1000000 )) ms after the device was created"
	expect_ne "$(kernel_xdp_id gw "$GW")" 0 "kernel XDP program on the new device" || return 1
	log_has "$GW: attached to the device that appeared: ifindex $new" || fail "re-attach not logged" || return 1
	# Enforcement resumes: the rule drops again on the new device, and the driver counts it.
	wait_until 10 at_least $(( d0 + 1000 )) rule_dropped "$id" ||
		fail "no drops after re-create: $d0 -> $(rule_dropped "$id")" || return 1
	wait_until 5 at_least 1 nic "$GW" xdp_drops || fail "driver counted no XDP drops" || return 1
	flood_stop
	expect_eq "$(pctl -j limit list "$GW")" "$limits0" "limits after re-create" || return 1
	# The baseline was taken before the attach: both sides count the same packets.
	wait_until 5 is 0 nic "$GW" since_attach.difference ||
		fail "perim vs driver since attach: $(nic "$GW" since_attach)" || return 1
	pctl limit del "$GW" "$id"
}

case_down_up_keeps_program() {
	local id0
	mark
	id0=$(kernel_xdp_id gw "$GW")
	expect_ne "$id0" 0 "XDP program before" || return 1
	ip -n "$T-gw" link set "$GW" down || return 1
	wait_until 5 log_has "$GW: link down" || fail "down not seen" || return 1
	ip -n "$T-gw" link set "$GW" up || return 1
	wait_until 5 log_has "$GW: link up; XDP native \(prog id $id0\)" || fail "up not seen" || return 1
	expect_eq "$(kernel_xdp_id gw "$GW")" "$id0" "XDP program after down/up" || return 1
	! log_has "$GW: perim's XDP program .* is no longer attached" || fail "needlessly re-attached"
}

case_program_removed_behind_perimds_back_is_reattached() {
	local idx
	mark
	idx=$(ifindex_of "$GW")
	ip -n "$T-gw" link set dev "$GW" xdp off || return 1
	# Removing it sends no link event of its own; the next link change makes perimd look.
	ip -n "$T-gw" link set "$GW" down && ip -n "$T-gw" link set "$GW" up
	wait_until 5 log_has "$GW: re-attached: ifindex $idx" || fail "not re-attached" || return 1
	expect_ne "$(kernel_xdp_id gw "$GW")" 0 "XDP program after re-attach"
}

case_rename_away_stays_then_moves_to_the_name() {
	local idx other
	mark
	idx=$(ifindex_of "$GW")
	ip -n "$T-gw" link set "$GW" name "${T}r" || return 1
	wait_until 5 log_has "$GW: ifindex $idx was renamed ${T}r" || fail "rename not logged" || return 1
	expect_eq "$(ifindex_of "$GW")" "$idx" "still attached to the renamed device" || return 1
	expect_eq "$(kernel_name_of "$GW")" "${T}r" "kernel_name" || return 1
	expect_ne "$(kernel_xdp_id gw "${T}r")" 0 "XDP stays on the renamed device" || return 1
	pctl stats "$GW" | grep -q "now named ${T}r" || fail "stats do not show the rename" || return 1

	# Another device takes the name: perim moves there and leaves the renamed one.
	ip -n "$T-gw" link add "$GW" type veth peer name "${T}o" || return 1
	on_cleanup "ip -n $T-gw link del ${T}o"
	other=$(kernel_ifindex gw "$GW")
	wait_until 1 is_attached_at "$GW" "$other" || fail "not moved to ifindex $other within 1 s" || return 1
	wait_until 5 log_has "$GW: detached from ${T}r \(ifindex $idx\)" || fail "old not detached" || return 1
	expect_eq "$(kernel_xdp_id gw "${T}r")" 0 "XDP left the renamed device" || return 1

	# Back as it was: the impostor goes, the original gets its name back.
	ip -n "$T-gw" link del "$GW" || return 1
	ip -n "$T-gw" link set "${T}r" name "$GW" || return 1
	wait_until 1 is_attached_at "$GW" "$idx" || fail "not back on ifindex $idx within 1 s" || return 1
	expect_ne "$(kernel_xdp_id gw "$GW")" 0 "XDP on the original again"
}

case_rename_and_back_keeps_attachment() {
	local idx id0
	mark
	idx=$(ifindex_of "$GW"); id0=$(kernel_xdp_id gw "$GW")
	ip -n "$T-gw" link set "$GW" name "${T}b" || return 1
	wait_until 5 is "${T}b" kernel_name_of "$GW" || fail "rename not followed" || return 1
	ip -n "$T-gw" link set "${T}b" name "$GW" || return 1
	wait_until 5 log_has "$GW: ifindex $idx bears the name again" || fail "rename back not logged" || return 1
	expect_eq "$(kernel_name_of "$GW")" "$GW" "kernel_name" || return 1
	expect_eq "$(ifindex_of "$GW")" "$idx" "same attachment" || return 1
	! log_has "$GW: (moved|re-attached|attached to)" || fail "a rename and back re-attached" || return 1
	expect_eq "$(kernel_xdp_id gw "$GW")" "$id0" "same program"
}

case_configured_before_it_exists() {
	local idx
	mark
	expect_eq "$(ifindex_of "$LATE")" 0 "not attached while absent" || return 1
	ip -n "$T-gw" link add "$LATE" type veth peer name "${T}lp" || return 1
	on_cleanup "ip -n $T-gw link del $LATE"
	idx=$(kernel_ifindex gw "$LATE")
	wait_until 1 is_attached_at "$LATE" "$idx" || fail "not attached within 1 s" || return 1
	expect_ne "$(kernel_xdp_id gw "$LATE")" 0 "kernel XDP program" || return 1
	expect_eq "$(iface "$LATE" | jq -r .mode)" native "mode obtained"
}

case_refused_attach_is_retried_with_backoff() {
	mark
	# veth refuses native XDP while its peer's MTU is too large; PICKY is native-only.
	ip -n "$T-gw" link add "$PICKY" mtu 9000 type veth peer name "${T}np" mtu 9000 || return 1
	on_cleanup "ip -n $T-gw link del $PICKY"
	wait_until 10 log_at_least 3 "$PICKY: attached to the device that appeared .* failed, retrying" ||
		fail "no retries: $(grep "$PICKY" "$LOG" | tail -3)" || return 1
	daemon_alive || return 1
	expect_eq "$(ifindex_of "$PICKY")" 0 "not attached while refused" || return 1
	ip -n "$T-gw" link set "${T}np" mtu 1500 || return 1
	wait_until 6 isnt 0 ifindex_of "$PICKY" || fail "not attached after the MTU fix" || return 1
	expect_eq "$(iface "$PICKY" | jq -r .mode)" native "mode"
}

case_vanishing_interface_is_survived() {
	mark
	for i in $(seq 30); do
		ip -n "$T-gw" link add "$LATE" type veth peer name "${T}vp" 2>/dev/null
		ip -n "$T-gw" link del "$LATE" 2>/dev/null
	done
	daemon_alive || return 1
	ip -n "$T-gw" link add "$LATE" type veth peer name "${T}vp" || return 1
	on_cleanup "ip -n $T-gw link del $LATE"
	wait_until 2 is_attached_at "$LATE" "$(kernel_ifindex gw "$LATE")" || fail "not attached at the end" || return 1
	daemon_alive && grep "$LATE" "$LOG" | grep -cE "deleted|failed" | sed 's/^/deletions or failed attaches logged: /'
}

case_perim_and_driver_drops_agree_under_flood() {
	local p0 x0 p1 x1 sent el
	mark
	pctl deny add "$GW" 10.211.0.0/24 || return 1
	p0=$(jstat "$GW" '.counters.dropped.deny.packets'); x0=$(nic "$GW" xdp_drops)
	read -r sent el < <(in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
		--src 10.211.0.0/24 --sources 10 --port 5011 --rate 20000 --seconds 1 |
		sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/')
	wait_until 10 at_least $(( p0 + sent )) jstat "$GW" '.counters.dropped.deny.packets' || return 1
	p1=$(jstat "$GW" '.counters.dropped.deny.packets'); x1=$(nic "$GW" xdp_drops)
	echo "sent $sent: perim dropped $(( p1 - p0 )), driver xdp_drops $(( x1 - x0 ))"
	expect_eq $(( x1 - x0 )) $(( p1 - p0 )) "driver xdp_drops vs perim drops" || return 1
	expect_eq "$(nic "$GW" source)" ethtool-ioctl "source" || return 1
	# Rates appear once two samples span the flood.
	expect_match "$(jstat "$GW" '.nic.rates | keys | join(",")')" 'rx_dropped_pps,rx_pps,xdp_drops_pps' "rate keys" || return 1
	pctl stats "$GW" | grep -q "driver xdp_drops" || fail "human stats lack the driver line"
	pctl deny del "$GW" 10.211.0.0/24
}

case_skb_fallback_reported_and_mismatch_visible() {
	local dev=${T}s res
	mark
	# A peer MTU native XDP refuses: the default mode falls back to skb, and says so.
	ip -n "$T-gw" link add "$dev" mtu 9000 type veth peer name "${T}sp" mtu 9000 || return 1
	on_cleanup "ip -n $T-gw link del $dev"
	ip -n "$T-gw" link set "$dev" up && ip -n "$T-gw" link set "${T}sp" up
	res=$(pctl -j attach "$dev") || return 1
	expect_eq "$(jq -r .mode <<<"$res")" skb "attach mode obtained" || return 1
	expect_ne "$(jq -r '.programs | length' <<<"$res")" 0 "programs listed" || return 1
	pctl deny add "$dev" 0.0.0.0/0 || return 1
	# Generic XDP drops are perim's alone: veth's xdp_drops counts only native XDP.
	in_ns gw "$TOOLS/udpflood" send --dev "${T}sp" --dst-mac "$(mac_of gw "$dev")" --dst 10.79.0.1 \
		--src 10.212.0.1 --port 5012 --rate 1000 --count 200 >/dev/null || return 1
	wait_until 5 at_least 200 jstat "$dev" '.counters.dropped.deny.packets' || return 1
	expect_ne "$(jstat "$dev" .nic.since_attach.difference)" 0 "difference shown in skb mode" || return 1
	pctl stats "$dev" | grep -q MISMATCH || fail "human stats hide the mismatch" || return 1
	res=$(pctl -j detach "$dev") || return 1
	expect_eq "$(jq -r .mode <<<"$res")" skb "detach reports the mode" || return 1
	expect_eq "$(kernel_xdp_id gw "$dev")" 0 "detached in the kernel"
}

case_zz_daemon_alive_and_no_crash() {
	mark
	daemon_alive
}

if ! setup > "$TMP/setup.log" 2>&1; then
	echo "FAIL: ${0##*/}:setup"; sed 's/^/    /' "$TMP/setup.log"
	exit 1
fi
run_cases "$@"
if [ -n "${NETLINK_TEST_DUMP:-}" ]; then
	grep -v "^{" "$LOG" | grep -v tracers | tail -n 60
fi
exit 0
