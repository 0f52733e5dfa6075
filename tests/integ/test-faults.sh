#!/bin/bash
# The fault matrix (tests/integ/README.md): each fault with a clear error, and
# nothing half-changed. What other files already cover is named there, not
# repeated here (state directory full, read-only or immutable: test-state.sh;
# RLIMIT_NOFILE low: test-daemon.sh; ring buffer full: test-tracers.sh).
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet
BPFFS=$TMP/bpffs   # a private bpffs instance, for the cases that change its mount

teardown() {
	[ -n "${PERIMD_PID:-}" ] && kill -9 "$PERIMD_PID" 2>/dev/null && wait "$PERIMD_PID" 2>/dev/null
	cleanup_registered
	mountpoint -q "$BPFFS" && umount "$BPFFS"
	mount_bpffs
	kill_ns_processes "$T-gw"; ip netns del "$T-gw" 2>/dev/null
	kill_ns_processes "$T-inet"; ip netns del "$T-inet" 2>/dev/null
	kill_ns_processes "$T-away"; ip netns del "$T-away" 2>/dev/null
	rm -rf "$PIN_ROOT" "$SOCK" "$BPFFS" "$TMP"/state*
}

setup() {
	trap teardown EXIT
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.83.0.1/24 inet "$PEER" 10.83.0.2/24 || return 1
	in_ns gw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$GW.rp_filter=0"
	GW_MAC=$(mac_of gw "$GW")
}

# daemon_start [OPTIONS...]: perimd itself (nsenter execs it); PINS defaults to this test's pin root.
daemon_start() {
	: > "$TMP/perimd.log"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "${PINS:-$PIN_ROOT}" \
		--state "$STATE" "$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 60 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(tail -n 5 "$TMP/perimd.log")" || return 1
}

daemon_stop() {
	kill "$PERIMD_PID" && wait "$PERIMD_PID"
	PERIMD_PID=
}

prog_id() { in_netns gw ip -d link show dev "$GW" | sed -nE 's/.*prog\/xdp id ([0-9]+).*/\1/p'; }

# pinned_counter OFFSET: a u64 of slot 0's interface counters summed over CPUs, from the pin (perimd need not run).
pinned_counter() {
	local v total=0
	for v in $(bpftool -j map lookup pinned "${PINS:-$PIN_ROOT}/perim_if_stats" key 0 0 0 0 |
		   jq -r ".values[].value[$1:$(( $1 + 8 ))] | reverse | join(\"\") | gsub(\"0x\"; \"\")"); do
		total=$(( total + 16#$v ))
	done
	echo "$total"
}
# What perim received on $GW: from the pin, or (RX_VIA=ctl: pins this shell cannot see) from perimd.
# RX_VIA=nic: the veth's own count of frames its XDP program saw (pins that cannot be opened).
perim_rx() {
	case ${RX_VIA:-pin} in
	ctl) jstat "$GW" .counters.rx_packets ;;
	nic) in_netns gw ethtool -S "$GW" | awk '/rx_queue_[0-9]+_xdp_packets/ {n += $2} END {print n + 0}' ;;
	*)   pinned_counter 0 ;;
	esac
}
rx_at_least() { [ "$(perim_rx)" -ge "$1" ]; }

# through SRC PORT COUNT RATE: COUNT datagrams from SRC to PORT; GOT = how many the
# gateway's receiver got, once perim counted them all (passed or dropped).
through() {
	local name=r$2-$RANDOM rx0
	recv_start gw "$2" "$name" || return 1
	rx0=$(perim_rx)
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.83.0.1 \
		--src "$1" --port "$2" --rate "$4" --count "$3" >/dev/null || return 1
	wait_until 10 rx_at_least $(( rx0 + $3 )) || fail "perim saw $(( $(perim_rx) - rx0 )) of $3" || return 1
	wait_until 2 test "$(count_of "$TMP/$name.count")" -ge "$3"
	GOT=$(count_of "$TMP/$name.count")
}

# crc32 FILE and state_v2 LINES-FILE: a state file as perimd writes it (test-state.sh's format).
crc32() { gzip -c < "$1" | tail -c 8 | od -An -tx4 -N4 | tr -d ' '; }
state_from() {
	{ echo '# perim state v2, written by perimd; one perimctl command per line'; cat "$1"; } > "$STATE.body"
	{ cat "$STATE.body"; echo "# perim-state lines $(wc -l < "$STATE.body") crc32 $(crc32 "$STATE.body")"; } > "$STATE"
	rm -f "$STATE.body"
}

# ---- tables full ----

# A spoofed flood fills the per-source LRU (--src-buckets 1024, the smallest):
# the source already known keeps being limited to its rate, and the flood is
# counted as new-source drops while the table shows full.
case_source_lru_full_under_spoofed_flood() {
	setup && daemon_start --interface "$GW" --src-buckets 1024 || return 1
	pctl limit set "$GW" src 10.83.0.0/24 proto udp dport 7001 rate 100pps burst 50 per-source >/dev/null &&
	local flood_rule; flood_rule=$(pctl -j limit set "$GW" src 198.18.0.0/15 proto udp rate 10pps burst 10 per-source | jq -r .id)
	expect_ne "$flood_rule" "" "the flood's rule" || return 1
	recv_start gw 7001 known || return 1
	# 6 s of a 20,000-source flood at 6 kpps: the new-source bucket admits 1024 sources a second,
	# so the table of 1024 is refilled about six times over, beside the known source at 4x its rate.
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.83.0.1 \
		--src 198.18.0.0/15 --sources 20000 --port 7002 --rate 6000 --seconds 6 >/dev/null &
	local flood=$! sent el
	read -r sent el < <(in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.83.0.1 \
		--src 10.83.0.2 --port 7001 --rate 400 --seconds 6 | sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/')
	wait "$flood"
	wait_until 5 eval '[ "$(count_of "$TMP/known.count")" -ge $(( 50 + 100 * el / 1000000000 - 20 )) ]'
	local got want entries newsrc admitted
	got=$(count_of "$TMP/known.count"); want=$(( 50 + 100 * el / 1000000000 ))
	expect_range "$got" $(( want * 90 / 100 )) $(( want * 110 / 100 )) \
		"the known source's admitted datagrams (sent $sent, burst 50 + 100 pps)" || return 1
	# The kernel's LRU evicts before its last free nodes are used (they are kept per CPU):
	# full reads as at least 80% of its entries, with more sources admitted than it holds.
	# IPv4 sources have their own table, perim_src4 (8-byte keys).
	entries=$(bpftool -j map dump pinned "$PIN_ROOT/perim_src4" | jq length)
	expect_range "$entries" 819 1024 "entries in the per-source table of 1024" || return 1
	# The operator sees it filling: status counts what the kernel holds, out of the size.
	expect_eq "$(pctl -j status | jq -r '.source_tables[] | select(.table == "perim_src4") | "\(.entries)/\(.max_entries)"')" \
		"$entries/1024" "status: perim_src4's fill" || return 1
	admitted=$(pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $flood_rule) | .passed_packets")
	expect_range "$admitted" 2048 100000000 "flood packets admitted (each new source's first ones)" || return 1
	newsrc=$(pctl -j stats "$GW" | jq -r '.interfaces[0].counters.dropped["new-source"].packets')
	expect_range "$newsrc" 1000 100000000 "flood packets counted as new-source drops" || return 1
}

# 16,383 rules (every rule slot; restored from a state file): one more is refused
# naming the cause, and nothing of it is applied.
case_rule_slots_full() {
	setup || return 1
	local i
	{ echo "attach $GW slot 0"
	  for i in $(seq 1 16383); do
		echo "limit set $GW id $i src 10.$(( 100 + i / 256 )).$(( i % 256 )).0/24 proto tcp rate 1kpps burst 1000 per-source"
	  done; } > "$TMP/lines"
	state_from "$TMP/lines"
	daemon_start || return 1
	expect_eq "$(pctl -j limit list | jq '.limits | length')" 16383 "rules restored" || return 1
	local before; before=$(md5sum < "$STATE")
	expect_exit 2 pctl limit set "$GW" src 10.83.0.0/24 proto udp dport 7003 rate 1pps burst 1 aggregate || return 1
	expect_match "$(cat "$TMP/last.err")" 'all rule slots are in use' "names the cause" || return 1
	expect_eq "$(wc -l < "$TMP/last.err")" 1 "one line" || return 1
	expect_eq "$(md5sum < "$STATE")" "$before" "state file unchanged" || return 1
	expect_eq "$(pctl -j limit list | jq '.limits | length')" 16383 "rules unchanged" || return 1
	# the refused 1 pps rule is not in the datapath: 200 datagrams all arrive
	through 10.83.0.2 7003 200 1000 || return 1
	expect_eq "$GOT" 200 "datagrams received under the refused rule" || return 1
}

# The allow/deny lists full (8,192 prefixes): one more deny is refused, the source still arrives.
case_acl_lists_full() {
	setup || return 1
	local i
	{ echo "attach $GW slot 0"
	  for i in $(seq 0 8191); do echo "deny add $GW 172.16.$(( i / 256 )).$(( i % 256 ))"; done; } > "$TMP/lines"
	state_from "$TMP/lines"
	daemon_start || return 1
	expect_eq "$(pctl -j deny list | jq '.entries | length')" 8192 "deny entries restored" || return 1
	local before; before=$(md5sum < "$STATE")
	expect_exit 2 pctl deny add "$GW" 10.83.0.2 || return 1
	expect_match "$(cat "$TMP/last.err")" '"10.83.0.2(/32)?" is wrong: the allow/deny lists are full' "names the prefix and the cause" || return 1
	expect_eq "$(md5sum < "$STATE")" "$before" "state file unchanged" || return 1
	through 10.83.0.2 7004 100 1000 || return 1
	expect_eq "$GOT" 100 "datagrams from the refused deny entry's source" || return 1
}

# 16 rules already cover a prefix (the most one datapath entry holds): a 17th
# is refused, names its prefix, and limits nothing.
case_prefix_slots_full() {
	setup && daemon_start --interface "$GW" || return 1
	local p
	for p in $(seq 1 16); do
		pctl limit set "$GW" src 10.83.0.0/24 proto tcp dport "$p" rate 1pps >/dev/null || return 1
	done
	local before; before=$(md5sum < "$STATE")
	expect_exit 2 pctl limit set "$GW" src 10.83.0.0/16 proto udp dport 7005 rate 1pps burst 1 aggregate || return 1
	expect_match "$(cat "$TMP/last.err")" '"10.83.0.0/16" is wrong: .*17 rules would cover 10.83.0.0/24, at most 16' "names the prefixes" || return 1
	expect_eq "$(md5sum < "$STATE")" "$before" "state file unchanged" || return 1
	through 10.83.0.2 7005 100 1000 || return 1
	expect_eq "$GOT" 100 "datagrams received under the refused rule" || return 1
}

# ---- bpffs ----

# The flood the 100 pps rule is about: 1000 datagrams at 5 kpps; prints how many perim passed.
limited_passed() {
	through 10.83.0.2 7006 1000 5000 >/dev/null || return 1
	echo "$GOT"
}

# Inner Warden's bug (its PR #490): a restart on a read-only bpffs removed the
# blocking. Here perimd stops, the bpffs its maps are pinned in turns read-only,
# and a restart adopts what is attached: the program and the limit stay.
case_bpffs_read_only_restart_keeps_enforcement() {
	setup || return 1
	mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || return 1
	PINS=$BPFFS/perim
	daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.83.0.0/24 proto udp dport 7006 rate 100pps burst 100 aggregate >/dev/null || return 1
	daemon_stop || return 1
	local prog; prog=$(prog_id)
	mount -o remount,ro "$BPFFS" || return 1
	: > "$TMP/perimd.log"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PINS" --state "$STATE" \
		>>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 30 eval 'grep -q "perimd: ready" "$TMP/perimd.log" || ! kill -0 $PERIMD_PID' || return 1
	if grep -q 'perimd: ready' "$TMP/perimd.log"; then
		expect_eq "$(pctl -j status | jq -r '.interfaces[0].adopted')" true "adopted on the read-only bpffs" || return 1
	else
		wait "$PERIMD_PID"; PERIMD_PID=
		expect_eq "$(grep -v '^{' "$TMP/perimd.log")" "perimd: pin root $PINS is on a read-only bpffs: its pinned maps cannot be opened for writing; the attached programs keep enforcing what they hold (mount -o remount,rw $BPFFS, then start perimd)" \
			"a refused start says why and what to do" || return 1
	fi
	expect_eq "$(prog_id)" "$prog" "the same program stays attached" || return 1
	RX_VIA=nic
	local got; got=$(limited_passed) || return 1
	expect_range "$got" 1 400 "datagrams passed by the 100 pps rule (of 1000)" || return 1
}

# A first start on a read-only bpffs cannot pin: it says so and attaches nothing.
case_bpffs_read_only_first_start_attaches_nothing() {
	setup || return 1
	mkdir -p "$BPFFS" && mount -t bpf -o ro bpf "$BPFFS" || return 1
	expect_exit 1 timeout 30 nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" \
		--pin-root "$BPFFS/perim" --state "$STATE" --interface "$GW" || return 1
	expect_match "$(grep -v '^{' "$TMP/last.err")" "$BPFFS/perim.*Read-only file system" "names the pin root and the cause" || return 1
	expect_eq "$(prog_id)" "" "no program attached" || return 1
	[ ! -S "$SOCK" ] || fail "socket left by the refused start" || return 1
}

# No bpffs mounted where perimd runs (a mount namespace without one): perimd
# mounts it, says where, and pins there.
case_bpffs_missing_is_mounted() {
	setup || return 1
	unshare -m --propagation private sh -c "umount -l /sys/fs/bpf 2>/dev/null; ! mountpoint -q /sys/fs/bpf || exit 9;
		exec nsenter --net=/run/netns/$T-gw '$PERIMD' --socket '$SOCK' --pin-root /sys/fs/bpf/perim-$T \
		--state '$STATE' --interface '$GW' -v" > "$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 30 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(tail -n 5 "$TMP/perimd.log")" || return 1
	expect_match "$(grep -v '^{' "$TMP/perimd.log")" "no bpffs was mounted on /sys/fs/bpf: mounted one there" \
		"says it mounted bpffs" || return 1
	RX_VIA=ctl
	expect_ne "$(prog_id)" "" "attached" || return 1
	pctl limit set "$GW" src 10.83.0.0/24 proto udp dport 7006 rate 100pps burst 100 aggregate >/dev/null || return 1
	local got; got=$(limited_passed) || return 1
	expect_range "$got" 1 400 "datagrams passed by the 100 pps rule (of 1000)" || return 1
}

# A bpffs instance other than the one the attached program's maps are pinned in:
# test-daemon.sh:fresh_bpffs_refuses_to_adopt (no split brain; the program keeps enforcing).

# ---- the perimeter NIC changes under a change ----

# apply_loop N: N limit set on $GW, each on its own prefix; prints "ok refused failed".
apply_loop() {
	local i ok=0 refused=0 failed=0 rc
	for i in $(seq 1 "$1"); do
		pctl limit set "$GW" src "10.90.$i.0/24" proto tcp rate 1kpps >/dev/null 2>>"$TMP/apply.err"; rc=$?
		case $rc in 0) ok=$(( ok + 1 )) ;; 2) refused=$(( refused + 1 )) ;; *) failed=$(( failed + 1 )) ;; esac
	done
	echo "$ok $refused $failed"
}

# Every rule perimd lists is in its state file, and the other way round.
list_matches_state() {
	local listed stated
	listed=$(pctl -j limit list | jq -r '.limits[].src' | sort)
	stated=$(grep -oE '^limit set [^ ]+ id [0-9]+ src [^ ]+' "$STATE" | awk '{print $NF}' | sort)
	expect_eq "$listed" "$stated" "limit list against the state file"
}

attached_is() { [ "$(pctl -j status | jq -r '.interfaces[0].attached')" = "$1" ]; }

# nic_fault_mid_apply HOW: while 60 changes are applied, the NIC is renamed,
# moved to another namespace or deleted (HOW), then brought back. Every change
# is applied or refused with a reason; the list and the state file agree; a
# NIC gone is reported detached; back, it is attached and its rule limits.
nic_fault_mid_apply() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.83.0.0/24 proto udp dport 7006 rate 100pps burst 100 aggregate >/dev/null || return 1
	apply_loop 60 > "$TMP/apply.out" &
	local loop=$!
	wait_until 10 eval '[ "$(pctl -j limit list | jq ".limits | length")" -ge 10 ]'
	case $1 in
	rename) ip -n "$T-gw" link set "$GW" down && ip -n "$T-gw" link set "$GW" name "${T}r" ;;
	netns)  ns_add away && ip -n "$T-gw" link set "$GW" netns "$T-away" ;;
	delete) ip -n "$T-gw" link del "$GW" ;;
	esac || return 1
	wait "$loop"
	local ok refused failed; read -r ok refused failed < "$TMP/apply.out"
	expect_eq "$(( ok + refused + failed ))" 60 "changes answered" || return 1
	expect_eq "$failed" 0 "changes that failed without a reason ($(sort -u "$TMP/apply.err" | head -n 3))" || return 1
	list_matches_state || return 1
	# Renamed, the NIC keeps perim (test-netlink.sh follows renames); gone, it is reported detached.
	if [ "$1" = rename ]; then
		wait_until 5 eval '[ "$(pctl -j status | jq -r ".interfaces[0].kernel_name")" = "${T}r" ]' ||
			fail "rename not followed: $(pctl -j status | jq -c '.interfaces[0]')" || return 1
	else
		wait_until 5 attached_is false || fail "still reported attached: $(pctl -j status | jq -c '.interfaces[0]')" || return 1
	fi
	case $1 in
	rename) ip -n "$T-gw" link set "${T}r" name "$GW" && ip -n "$T-gw" link set "$GW" up ;;
	netns)  ip -n "$T-away" link set "$GW" netns "$T-gw" && ip -n "$T-gw" link set "$GW" up &&
		ip -n "$T-gw" addr add 10.83.0.1/24 dev "$GW" ;;
	delete) ip link add "$GW" netns "$T-gw" type veth peer name "$PEER" netns "$T-inet" &&
		ip -n "$T-gw" addr add 10.83.0.1/24 dev "$GW" && ip -n "$T-inet" addr add 10.83.0.2/24 dev "$PEER" &&
		ip -n "$T-gw" link set "$GW" up && ip -n "$T-inet" link set "$PEER" up ;;
	esac || return 1
	GW_MAC=$(mac_of gw "$GW")
	wait_until 5 attached_is true || fail "not attached again: $(pctl -j status | jq -c '.interfaces[0]')" || return 1
	expect_ne "$(prog_id)" "" "a program on the NIC" || return 1
	local got; got=$(limited_passed) || return 1
	expect_range "$got" 1 400 "datagrams passed by the 100 pps rule (of 1000)" || return 1
	list_matches_state
}
case_nic_renamed_mid_apply() { nic_fault_mid_apply rename; }
case_nic_moved_to_another_netns_mid_apply() { nic_fault_mid_apply netns; }
case_nic_deleted_mid_apply() { nic_fault_mid_apply delete; }

# ---- event buffers full ----
# The tracer rings: test-tracers.sh:forced_overflow_accounted (lost == generated - delivered,
# every gap announced); the soak (tests/soak/) checks the same for followers under load.

follower_told() { grep -q '"type":"lost","ring":"follower","count":[1-9]' "$TMP/follow.out"; }

# An `events --follow` reader that stops reading (SIGSTOP) while events pour in:
# perimd answers others meanwhile, keeps the reader, and when it reads again
# tells it how many events it was not sent.
case_follower_that_stops_reading() {
	mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	setup && daemon_start --interface "$GW" --events "$TMP/events.json" || return 1
	"$PERIMCTL" -s "$SOCK" -j events --follow --type fork,exec,exit,lost > "$TMP/follow.out" 2>&1 &
	local follower=$! i
	track_pid "$follower"
	wait_until 5 grep -q streaming "$TMP/follow.out" || fail "no stream: $(cat "$TMP/follow.out")" || return 1
	kill -STOP "$follower"
	# The 1 MiB send buffer (2 MiB as the kernel counts it) holds about 7,000 of these
	# events: 4,000 processes make 12,000 (fork, exec, exit).
	for i in $(seq 4000); do /bin/true "stuck-$T-$i"; done
	expect_exit 0 timeout 2 "$PERIMCTL" -s "$SOCK" status || return 1
	kill -CONT "$follower"
	for i in $(seq 20); do /bin/true "after-$T-$i"; done
	wait_until 10 follower_told || fail "no \"lost\" event for the follower: $(grep -c . "$TMP/follow.out") lines, $(grep '"lost"' "$TMP/follow.out" | head -n 3)" || return 1
	wait_until 10 grep -q "after-$T-20" "$TMP/follow.out" || fail "the follower did not get the newest events" || return 1
	kill -0 "$follower" || fail "the follower was dropped" || return 1
	! grep -v '^{' "$TMP/perimd.log" | grep 'dropping an events --follow reader' || fail "perimd dropped it"
}

# ---- metrics ----

# The metrics port already taken: one line naming the address and the cause,
# exit 1, and the start changed nothing (no program attached, no pins, no socket).
case_metrics_port_taken() {
	setup || return 1
	local port=$(( 20000 + RANDOM % 20000 ))
	in_netns gw "$TOOLS/tcplisten" --port "$port" --addr 127.0.0.1 --ready-file "$TMP/listen.ready" &
	track_pid $!
	wait_until 5 test -s "$TMP/listen.ready" || return 1
	expect_exit 1 timeout 30 nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" \
		--pin-root "$PIN_ROOT" --state "$STATE" --interface "$GW" --metrics "$port" || return 1
	expect_eq "$(grep -v '^{' "$TMP/last.err")" \
		"perimd: metrics endpoint 127.0.0.1:$port: cannot listen: Address already in use" "the error" || return 1
	expect_eq "$(prog_id)" "" "no program attached" || return 1
	[ ! -S "$SOCK" ] || fail "socket left by the refused start" || return 1
	[ -z "$(ls "$PIN_ROOT" 2>/dev/null)" ] || fail "pins left by the refused start: $(ls "$PIN_ROOT" | head -n 3)"
}

run_cases "$@"
