#!/bin/bash
# perimd as a daemon: readiness, every command through the socket, the state
# file across restarts, adoption after SIGKILL without a gap in enforcement,
# peer credentials on the socket, and the BTF requirement.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
CL=${T}c      # its peer, in namespace $T-cl

# Cases run in subshells, so what they register with lib.sh's EXIT trap is
# lost when they end: each case tears its own things down on exit.
teardown() { daemon_topology_teardown; }
setup() { daemon_topology_setup; }

# The program attached to the NIC, as the kernel reports it.
prog_id() { in_netns gw ip -d link show dev "$GW" | sed -nE 's/.*prog\/xdp id ([0-9]+).*/\1/p'; }

# rx_packets of interface slot 0, read from the pinned map directly: works with perimd dead.
pinned_rx() {
	local v total=0
	for v in $(bpftool -j map lookup pinned "$PIN_ROOT/perim_if_stats" key 0 0 0 0 |
		   jq -r '.values[].value[0:8] | reverse | join("") | gsub("0x"; "")'); do
		total=$(( total + 16#$v ))
	done
	echo "$total"
}

# N UDP datagrams from the client side; each passes perim's XDP program on $GW.
send_udp() {
	local i
	for i in $(seq "$1"); do
		in_ns cl bash -c 'echo x > /dev/udp/10.78.0.1/9' 2>/dev/null
	done
}

# lib.sh's perimd_start records the pid of the shell around nsenter; SIGKILL
# must reach perimd itself, so start it here with exec semantics.
daemon_start() {
	: > "$TMP/perimd.log"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" "$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 20 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(cat "$TMP/perimd.log")" || return 1
	expect_eq "$(pctl -j status | jq -r .pid)" "$PERIMD_PID" "perimd's own pid"
}
rx_above() { [ "$(pinned_rx)" -gt "$1" ]; }

# The LPM tries are pinned per interface slot and family: perim_lpm4_<slot>, perim_lpm6_<slot>.
lpm_pins() { ls "$PIN_ROOT" 2>/dev/null | grep -E '^perim_lpm[46]_[0-9]+$'; }

# Entries in every pinned trie together.
lpm_count() {
	local pin total=0
	for pin in $(lpm_pins); do
		total=$(( total + $(bpftool -j map dump pinned "$PIN_ROOT/$pin" | jq length) ))
	done
	echo "$total"
}

# The interface slots whose pinned tries hold entries: unique, space separated.
lpm_slots() {
	local pin
	for pin in $(lpm_pins); do
		[ "$(bpftool -j map dump pinned "$PIN_ROOT/$pin" | jq length)" -gt 0 ] && echo "${pin##*_}"
	done | sort -un | xargs
}

limits() { pctl -j limit list | jq -c '[.limits[] | {dev, id, src, rate_pps, mode}]'; }

case_ready_and_commands() {
	setup && daemon_start || return 1
	expect_eq "$(pctl -j status | jq -r '.btf.source')" kernel "btf source" || return 1
	pctl attach "$GW" >/dev/null || return 1
	expect_eq "$(pctl -j status | jq -r '.interfaces[0].dev')" "$GW" "status dev" || return 1
	expect_ne "$(prog_id)" "" "program attached" || return 1

	local id1 id2
	id1=$(pctl -j limit set "$GW" src 10.0.0.0/8 rate 1kpps | jq -r .id)
	id2=$(pctl -j limit set "$GW" proto udp dport 53 rate 50pps aggregate | jq -r .id)
	expect_eq "$id1 $id2" "1 2" "rule ids" || return 1
	expect_eq "$(pctl -j limit list "$GW" | jq -r '.limits | length')" 2 "listed" || return 1
	pctl allow add "$GW" 10.1.0.0/16 >/dev/null && pctl deny add "$GW" 2001:db8::/32 >/dev/null || return 1
	expect_eq "$(pctl -j allow list | jq -r '.entries[0].prefix')" 10.1.0.0/16 "allow list" || return 1
	expect_eq "$(pctl -j deny list | jq -r '.entries[0].prefix')" 2001:db8::/32 "deny list" || return 1
	# the datapath sees them: an LPM entry per prefix (0/0 and ::/0 for the rule without src)
	expect_eq "$(lpm_count)" 5 "LPM entries" || return 1

	# bad input: exit 2 naming the token, nothing changed
	local before; before=$(cat "$STATE")
	expect_exit 2 pctl limit set "${T}x" rate 1pps || return 1
	expect_match "$(cat "$TMP/last.err")" "${T}x" "names the interface" || return 1
	expect_exit 2 pctl limit del "$GW" 99 || return 1
	expect_match "$(cat "$TMP/last.err")" '"99"' "names the id" || return 1
	expect_exit 2 pctl allow add "$GW" 10.1.0.0/16 || return 1
	expect_exit 2 pctl deny del "$GW" 10.1.0.0/16 || return 1
	expect_exit 2 pctl attach "$GW" || return 1
	expect_eq "$(cat "$STATE")" "$before" "state unchanged by bad input" || return 1

	pctl limit del "$GW" "$id2" >/dev/null && pctl allow del "$GW" 10.1.0.0/16 >/dev/null || return 1
	expect_eq "$(pctl -j limit list | jq -r '[.limits[].id] | join(",")')" 1 "after del" || return 1
	expect_eq "$(lpm_count)" 2 "stale entries deleted" || return 1

	pctl detach "$GW" >/dev/null || return 1
	expect_eq "$(prog_id)" "" "detached" || return 1
	expect_eq "$(lpm_count)" 0 "slot entries cleared" || return 1
}

case_state_restored_after_restart() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.0.0.0/8 rate 1kpps >/dev/null &&
	pctl limit set "$GW" src fd00::/8 rate 20pps aggregate >/dev/null &&
	pctl deny add "$GW" 192.0.2.0/24 >/dev/null || return 1
	local want; want=$(limits)
	expect_match "$(cat "$STATE")" "^attach $GW slot 0" "state records the slot" || return 1
	kill "$PERIMD_PID"; wait "$PERIMD_PID"
	expect_eq "$?" 0 "clean exit on SIGTERM" || return 1
	expect_ne "$(prog_id)" "" "still attached after SIGTERM" || return 1
	daemon_start || return 1          # no --interface: the state file brings it back
	expect_eq "$(limits)" "$want" "limits after restart" || return 1
	expect_eq "$(pctl -j deny list | jq -r '.entries[0].prefix')" 192.0.2.0/24 "deny after restart" || return 1
	expect_eq "$(pctl -j status | jq -r '.interfaces[0].attached')" true "attached after restart" || return 1
}

case_sigkill_keeps_enforcement() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.78.0.0/24 rate 1kpps >/dev/null || return 1
	local id before; id=$(prog_id)
	expect_ne "$id" "" "attached" || return 1

	kill -9 "$PERIMD_PID"; wait "$PERIMD_PID" 2>/dev/null; PERIMD_PID=
	! pctl status >/dev/null 2>&1 || fail "perimd still answers after SIGKILL" || return 1
	before=$(pinned_rx)
	send_udp 5
	wait_until 5 rx_above $((before + 4)) || fail "counters did not move while perimd was dead: $before -> $(pinned_rx)" || return 1
	expect_eq "$(prog_id)" "$id" "same program while dead" || return 1

	daemon_start || return 1
	expect_eq "$(prog_id)" "$id" "adopted, not re-attached" || return 1
	expect_eq "$(pctl -j status | jq -r '.interfaces[0].adopted')" true "reported as adopted" || return 1
	expect_eq "$(pctl -j limit list | jq -r '.limits[0].src')" 10.78.0.0/24 "rule kept" || return 1
	before=$(jstat "$GW" .counters.rx_packets)
	send_udp 3
	wait_until 5 rx_above $((before + 2)) || fail "counters stopped after adoption" || return 1
	expect_eq "$(pctl -j stats "$GW" | jq -r '.interfaces[0].rules[0].matched_packets > 0')" true \
		"the rule kept matching" || return 1
}

# The bucket tables are perimd's too: a program whose perim_src4 is not the pinned one
# (its pin removed while perimd was dead) is refused, naming the map, and left attached.
case_replaced_bucket_pin_refuses_to_adopt() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.78.0.0/24 rate 1kpps per-source >/dev/null || return 1
	local prog; prog=$(prog_id)
	expect_ne "$prog" "" "attached" || return 1
	kill -9 "$PERIMD_PID"; wait "$PERIMD_PID" 2>/dev/null; PERIMD_PID=
	rm "$PIN_ROOT/perim_src4" || return 1
	expect_exit 1 timeout 60 nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" || return 1
	expect_match "$(grep -v '^{' "$TMP/last.err")" "refusing to adopt the attached perim_xdp(_syn)?: prog id $prog does not use perimd.s perim_src4" \
		"names the bucket table" || return 1
	expect_eq "$(prog_id)" "$prog" "the program stays attached" || return 1
}

case_socket_rejects_non_root_peer() {
	setup && daemon_start --interface "$GW" || return 1
	# open the file modes wide: only the credential check stands in the way
	chmod o+x "$TMP" && chmod 0666 "$SOCK" || return 1
	local before; before=$(cat "$STATE")
	expect_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$PERIMCTL" -s "$SOCK" limit set "$GW" rate 1pps || return 1
	expect_match "$(cat "$TMP/last.err")" "permission denied: uid [0-9]+ is neither root nor in group" "credential error" || return 1
	expect_eq "$(cat "$STATE")" "$before" "nothing changed" || return 1
	expect_eq "$(pctl -j limit list | jq -r '.limits | length')" 0 "no limit added" || return 1
	# root still gets in
	pctl status >/dev/null || return 1
}

case_group_member_allowed() {
	setup && daemon_start --group nogroup || return 1
	chmod o+x "$TMP" || return 1
	expect_eq "$(stat -c '%a %G' "$SOCK")" "660 nogroup" "socket mode and group" || return 1
	# a member of the group (here by its primary gid) gets in
	expect_exit 0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$PERIMCTL" -s "$SOCK" status || return 1
	# a non-member past the file modes is refused by its credentials
	chmod 0666 "$SOCK" || return 1
	expect_exit 1 setpriv --reuid=nobody --regid=daemon --clear-groups "$PERIMCTL" -s "$SOCK" status || return 1
	expect_match "$(cat "$TMP/last.err")" "uid [0-9]+ is neither root nor in group nogroup" "names the group" || return 1
}

attached_in_slot_3() { [ "$(pctl -j status | jq -c '.interfaces[0] | [.slot, .attached]')" = "[3,true]" ]; }

case_missing_nic_keeps_slot_and_rules() {
	setup || return 1
	local nic=${T}m
	# the first version's format (no trailer): accepted once, and easy to write by hand
	printf '# perim state, written by perimd; one perimctl command per line\nattach %s slot 3\nlimit set %s id 7 src 10.0.0.0/8 rate 10pps per-source\n' \
		"$nic" "$nic" > "$STATE"
	daemon_start || return 1
	expect_eq "$(pctl -j status | jq -c '.interfaces[0] | [.dev, .slot, .attached]')" "[\"$nic\",3,false]" \
		"configured, not attached" || return 1
	expect_eq "$(pctl -j limit list | jq -r '.limits[0].id')" 7 "rule id kept" || return 1
	expect_eq "$(lpm_slots)" 3 "LPM entries under slot 3" || return 1
	ip -n "$T-gw" link add "$nic" type veth peer name "${T}n" && ip -n "$T-gw" link set "$nic" up || return 1
	# perimd follows link events (follow.h): the NIC is attached when it appears, no command needed.
	wait_until 2 attached_in_slot_3 || fail "not attached in its slot: $(pctl -j status | jq -c '.interfaces[0]')" || return 1
	expect_ne "$(in_netns gw ip -d link show dev "$nic" | grep -o 'prog/xdp id [0-9]*')" "" "program on the NIC" || return 1
}

# udp_through PORT NAME: 200 datagrams from the client at 1,000/s; GOT = how many the gateway received.
# (Not printed: a $(...) would wait for the receiver, which holds its stdout.)
udp_through() {
	recv_start gw "$1" "$2" || return 1
	in_ns cl "$TOOLS/udpflood" send --dev "$CL" --dst-mac "$(mac_of gw "$GW")" --dst 10.78.0.1 \
		--src 10.78.0.2 --port "$1" --rate 1000 --count 200 >/dev/null || return 1
	# The last datagram's fate is known once perim counted all 200 (passed, dropped or denied).
	wait_until 5 rx_above $(( RX0 + 199 )) || fail "perim saw $(pinned_rx) of $(( RX0 + 200 ))" || return 1
	RX0=$(pinned_rx)
	wait_until 2 test "$(count_of "$TMP/$2.count")" -ge 200
	GOT=$(count_of "$TMP/$2.count")
}

# perimd started under `ip netns exec` sees a fresh /sys, so not the bpffs the attached
# program's maps are pinned in: it refuses to adopt (exit 1, what happened and what to do),
# and leaves enforcement as it was. Started as the message says, limit del and deny add work.
case_fresh_bpffs_refuses_to_adopt() {
	setup && daemon_start --interface "$GW" || return 1
	local id prog
	id=$(pctl -j limit set "$GW" src 10.78.0.0/24 proto udp rate 10pps burst 10 aggregate | jq -r .id)
	prog=$(prog_id)
	RX0=$(pinned_rx)
	udp_through 5001 before || return 1
	expect_range "$GOT" 1 40 "received under a 10 pps limit" || return 1
	perimd_stop
	expect_exit 1 timeout 60 ip netns exec "$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" --interface "$GW" || return 1
	expect_match "$(grep -v '^{' "$TMP/last.err")" "refusing to adopt the attached perim_xdp(_syn)?: prog id $prog does not use perimd.s perim_rules.*another bpffs.*nsenter --net.*xdp off" \
		"says what happened and what to do" || return 1
	[ ! -S "$SOCK" ] || ! pctl status >/dev/null 2>&1 || fail "a perimd answers after the refused start" || return 1
	expect_eq "$(prog_id)" "$prog" "the program stays attached" || return 1
	udp_through 5002 refused || return 1
	expect_range "$GOT" 1 40 "the limit still enforced after the refused start" || return 1

	daemon_start || return 1
	expect_eq "$(pctl -j status | jq -r '.interfaces[0].adopted')" true "adopted where its bpffs is mounted" || return 1
	pctl limit del "$GW" "$id" >/dev/null || return 1
	udp_through 5003 deleted || return 1
	expect_eq "$GOT" 200 "received once the limit is deleted" || return 1
	pctl deny add "$GW" 10.78.0.0/24 >/dev/null || return 1
	udp_through 5004 denied || return 1
	expect_eq "$GOT" 0 "received once the client's prefix is denied" || return 1
}

# Under ip netns exec perimd sees no cgroup2 mount: it says so at start, and a cgroup rule is
# refused with that reason instead of a bare "No such file or directory".
case_no_cgroup2_said_plainly() {
	setup || return 1
	if in_ns gw grep -q ' cgroup2 ' /proc/self/mounts; then
		skip "ip netns exec keeps a cgroup2 mount on this host"
		return 0
	fi
	: > "$TMP/perimd.log"
	ip netns exec "$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--interface "$GW" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 20 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(cat "$TMP/perimd.log")" || return 1
	expect_match "$(grep -v '^{' "$TMP/perimd.log")" "no cgroup v2 hierarchy is mounted where perimd runs.*egress cgroup rules cannot be set" \
		"said at start" || return 1
	local before; before=$(cat "$STATE")
	expect_exit 2 pctl limit set "$GW" dir egress cgroup /sys/fs/cgroup/unified/system.slice rate 1kpps || return 1
	expect_match "$(cat "$TMP/last.err")" '"/sys/fs/cgroup/unified/system.slice" is wrong: no cgroup v2 hierarchy is mounted where perimd runs .*nsenter' \
		"the refusal names the reason" || return 1
	expect_eq "$(cat "$STATE")" "$before" "nothing changed" || return 1
}

fd_count() { ls "/proc/$PERIMD_PID/fd" | wc -l; }

# Requests that only read (status, stats: also what `stats --watch` sends every second)
# close every fd they open: libxdp's query of a NIC leaks one unless perimd closes it.
case_requests_leave_no_fd_open() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.78.0.0/24 rate 1kpps >/dev/null && pctl status >/dev/null &&
	pctl stats >/dev/null || return 1
	local before i
	before=$(fd_count)
	for i in $(seq 200); do
		pctl status >/dev/null && pctl -j stats >/dev/null || fail "request $i failed" || return 1
	done
	# the last client's socket closes when perimd reads its hang-up: await that, bounded
	wait_until 5 eval '[ "$(fd_count)" -le "$before" ]'
	expect_eq "$(fd_count)" "$before" "perimd's open fds after 200 status and 200 stats" || return 1
	# attach and detach of a second NIC: the first cycle opens its slot's maps for good, later ones nothing
	ip -n "$T-gw" link add "${T}x" type veth peer name "${T}y" && ip -n "$T-gw" link set "${T}x" up || return 1
	pctl attach "${T}x" >/dev/null && pctl detach "${T}x" >/dev/null || return 1
	before=$(fd_count)
	for i in $(seq 20); do
		pctl attach "${T}x" >/dev/null && pctl detach "${T}x" >/dev/null || fail "attach/detach $i failed" || return 1
	done
	wait_until 5 eval '[ "$(fd_count)" -le "$before" ]'
	expect_eq "$(fd_count)" "$before" "perimd's open fds after 20 attach/detach cycles" || return 1
}

# At the fd limit, a status that cannot ask the kernel what is attached is an error, not an empty list.
case_fd_limit_reports_error() {
	setup && daemon_start --interface "$GW" || return 1
	local low=0
	while [ -e "/proc/$PERIMD_PID/fd/$low" ]; do low=$(( low + 1 )); done
	# Room for the request's own connection and nothing more (the soft limit only: it can be raised again).
	prlimit --pid "$PERIMD_PID" --nofile="$(( low + 1 )):" || return 1
	expect_exit 1 pctl -j status || return 1
	expect_match "$(cat "$TMP/last.err")" "$GW: querying the XDP programs .*Too many open files" "status names the cause" || return 1
	expect_eq "$(wc -c < "$TMP/last.out")" 0 "no status printed" || return 1
	expect_exit 1 pctl -j stats || return 1
	expect_match "$(cat "$TMP/last.err")" "Too many open files" "stats names the cause" || return 1
	prlimit --pid "$PERIMD_PID" --nofile=4096: || return 1
	expect_match "$(pctl -j status | jq -r '.interfaces[0].programs[0].name')" '^perim_xdp(_syn)?$' "status after the limit is raised" || return 1
}

case_btf_required() {
	setup || return 1
	local missing=$TMP/no-such-vmlinux
	expect_exit 1 "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--kernel-btf "$missing" --btf-dir "$TMP/no-btf-dir" || return 1
	expect_match "$(cat "$TMP/last.err")" "no BTF for kernel .*--btf" "says what to provide" || return 1
	expect_eq "$(wc -l < "$TMP/last.err")" 1 "one line" || return 1
	[ ! -e "$SOCK" ] || fail "socket created although start was refused" || return 1

	cp /sys/kernel/btf/vmlinux "$TMP/vmlinux.btf" || return 1
	daemon_start --kernel-btf "$missing" --btf "$TMP/vmlinux.btf" --interface "$GW" || return 1
	expect_eq "$(pctl -j status | jq -r '.btf.source + " " + .btf.path')" "config $TMP/vmlinux.btf" "custom BTF" || return 1
}

case_bad_option_exits_2() {
	trap teardown EXIT
	expect_exit 2 "$PERIMD" --no-such-option || return 1
	expect_match "$(cat "$TMP/last.err")" "no-such-option" "names the option" || return 1
	echo "interface" > "$TMP/bad.conf"
	expect_exit 2 "$PERIMD" --config "$TMP/bad.conf" || return 1
	expect_match "$(cat "$TMP/last.err")" '"interface"' "names the config key" || return 1
	expect_exit 2 "$PERIMD" --interface "${T}g:turbo" || return 1
}

run_cases "$@"
