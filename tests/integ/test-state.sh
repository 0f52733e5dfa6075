#!/bin/bash
# perimd's state file: verified whole before it counts (header, trailer with
# line count and crc32), FILE.prev kept for recovery, a failed start leaving
# the pinned datapath as it was, a state file that cannot be written refusing
# changes without stopping enforcement, and the messages for each.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet
MNT=$TMP/mnt  # a mount point for the read-only and full-disk cases

# Cases run in subshells, so what they register with lib.sh's EXIT trap is
# lost when they end: each case tears its own things down on exit.
teardown() {
	[ -n "${PERIMD_PID:-}" ] && kill -9 "$PERIMD_PID" 2>/dev/null && wait "$PERIMD_PID" 2>/dev/null
	cleanup_registered
	chattr -i "$STATE" 2>/dev/null
	mountpoint -q "$MNT" && umount "$MNT"
	mount_bpffs
	kill_ns_processes "$T-gw"
	ip netns del "$T-gw" 2>/dev/null
	kill_ns_processes "$T-inet"
	ip netns del "$T-inet" 2>/dev/null
	rm -rf "$PIN_ROOT" "$SOCK" "$MNT" "$TMP"/state*
}

setup() {
	trap teardown EXIT
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.79.0.1/24 inet "$PEER" 10.79.0.2/24 || return 1
	GW_MAC=$(mac_of gw "$GW")
}

# daemon_start [OPTIONS...]: perimd itself (nsenter execs it) with this test's pins.
daemon_start() {
	: > "$TMP/perimd.log"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "${STATE_PATH:-$STATE}" "$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	wait_until 20 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(cat "$TMP/perimd.log")" || return 1
}

daemon_stop() {
	kill "$PERIMD_PID" && wait "$PERIMD_PID"
	expect_eq "$?" 0 "clean exit on SIGTERM" || return 1
	PERIMD_PID=
}

# start_fails CODE STATE-PATH: a start with that state file exits CODE with
# one line on stderr (in $TMP/last.err); bounded, in case it starts after all.
start_fails() {
	expect_exit "$1" timeout 20 nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" \
		--pin-root "$PIN_ROOT" --state "$2" || return 1
	cat "$TMP/last.err"
	expect_eq "$(wc -l < "$TMP/last.err")" 1 "one line on stderr" || return 1
	[ ! -S "$SOCK" ] || fail "socket left by a refused start" || return 1
}

# Entries in every pinned LPM trie together: what enforcement sees.
lpm_count() {
	local pin total=0
	for pin in $(ls "$PIN_ROOT" | grep -E '^perim_lpm[46]_[0-9]+$'); do
		total=$(( total + $(bpftool -j map dump pinned "$PIN_ROOT/$pin" | jq length) ))
	done
	echo "$total"
}

# pinned_counter BYTE-OFFSET: a u64 of slot 0's struct perim_if_counters summed
# over CPUs, from the pinned map: readable while perimd is down.
pinned_counter() {
	local v total=0
	for v in $(bpftool -j map lookup pinned "$PIN_ROOT/perim_if_stats" key 0 0 0 0 |
		   jq -r ".values[].value[$1:$(( $1 + 8 ))] | reverse | join(\"\") | gsub(\"0x\"; \"\")"); do
		total=$(( total + 16#$v ))
	done
	echo "$total"
}
pinned_rx() { pinned_counter 0; }
pinned_passed() { pinned_counter 16; }
rx_at_least() { [ "$(pinned_rx)" -ge "$1" ]; }

# crc32 FILE: zlib's crc32 of FILE, as gzip's trailer holds it (little endian).
crc32() { gzip -c < "$1" | tail -c 8 | od -An -tx4 -N4 | tr -d ' '; }

# state_v2 LINE...: a state file as perimd writes it: header, lines, trailer.
state_v2() {
	{ echo '# perim state v2, written by perimd; one perimctl command per line'; printf '%s\n' "$@"; } > "$STATE.body"
	{ cat "$STATE.body"; echo "# perim-state lines $(( $# + 1 )) crc32 $(crc32 "$STATE.body")"; } > "$STATE"
	rm -f "$STATE.body"
}

limits() { pctl -j limit list | jq -c '[.limits[] | {id, src, rate_pps, burst}]'; }

# The flood the 100 pps rule is about: 1000 datagrams to port 5001 at 5 kpps.
# Prints how many perim passed, once it has seen them all; perimd need not run.
flood_passed() {
	local rx0 passed0
	rx0=$(pinned_rx); passed0=$(pinned_passed)
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.79.0.1 \
		--src 10.79.0.2 --port 5001 --rate 5000 --count 1000 >/dev/null || return 1
	wait_until 10 rx_at_least $(( rx0 + 1000 )) || fail "perim saw $(pinned_rx) packets, from $rx0" || return 1
	echo $(( $(pinned_passed) - passed0 ))
}

# perimd with the rule the regression was about, then stopped: enforcement by the pins alone.
limited_then_stopped() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.79.0.0/24 proto udp dport 5001 rate 100pps burst 100 aggregate >/dev/null || return 1
	daemon_stop
}

# The 100 pps rule still limits: about burst + 100 pps * 0.2 s of 1000 pass (all without it).
expect_still_limited() {
	local got; got=$(flood_passed) || return 1
	expect_range "$got" 1 400 "datagrams passed by the 100 pps rule (of 1000)"
}

case_failed_start_leaves_the_datapath() {
	limited_then_stopped || return 1
	expect_eq "$(lpm_count)" 1 "LPM entries before" || return 1
	mkdir "$TMP/statedir" || return 1
	start_fails 1 "$TMP/statedir" || return 1
	expect_match "$(cat "$TMP/last.err")" "$TMP/statedir: Is a directory" "names the path and errno" || return 1
	expect_eq "$(lpm_count)" 1 "LPM entries after the failed start" || return 1
	expect_still_limited
}

case_unreadable_paths_named() {
	limited_then_stopped || return 1
	ln -s "$TMP/stateloop" "$TMP/stateloop" && touch "$TMP/statefile" || return 1
	start_fails 1 "$TMP/stateloop" || return 1
	expect_match "$(cat "$TMP/last.err")" "$TMP/stateloop: Too many levels of symbolic links" "loop" || return 1
	start_fails 1 "$TMP/statefile/state" || return 1
	expect_match "$(cat "$TMP/last.err")" "$TMP/statefile/state: Not a directory" "under a file" || return 1
	expect_eq "$(lpm_count)" 1 "LPM entries kept" || return 1
}

case_rejected_line_exits_2_naming_it() {
	setup || return 1
	state_v2 "attach $GW slot 0" "limit set ${GW}x rate 10pps"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "^perimd: state file $STATE:3: .*\"${GW}x\"" "FILE:LINE and the token" || return 1
	expect_eq "$(grep -c '[^[:print:]]' "$TMP/last.err")" 0 "no binary junk" || return 1
	expect_eq "$(in_netns gw ip -d link show dev "$GW" | grep -c 'prog/xdp')" 0 "the attach it made undone" || return 1
}

# A pending rollback (issue 17) is the last part of the file, in order:
# rollback-at once, then rollback-to lines holding configuration lines.
case_rollback_lines_out_of_order_refused() {
	setup || return 1
	state_v2 "attach $GW slot 0" "rollback-to attach $GW slot 0"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE:3: a rollback-to line before the rollback-at line" "rollback-to first" || return 1
	state_v2 "attach $GW slot 0" "rollback-at 1700000000000" "limit set $GW rate 10pps"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE:4: a configuration line after the rollback-at line" "config after" || return 1
	state_v2 "attach $GW slot 0" "rollback-at 1700000000000" "rollback-at 1700000000001"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE:4: a second rollback-at line" "two deadlines" || return 1
	state_v2 "attach $GW slot 0" "rollback-at 017"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE:3: rollback-at takes one time in ms" "a bad deadline" || return 1
	state_v2 "attach $GW slot 0" "rollback-at 1700000000000" "rollback-to status"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE:4: a rollback-to line holds a configuration line" "not configuration" || return 1
	expect_eq "$(in_netns gw ip -d link show dev "$GW" | grep -c 'prog/xdp')" 0 "the attach it made undone" || return 1
}

case_trailer_written_and_prev_kept() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.0.0.0/8 rate 1kpps >/dev/null || return 1
	local first; first=$(cat "$STATE")
	pctl limit set "$GW" src 10.1.0.0/16 rate 500pps burst 500 >/dev/null || return 1
	expect_eq "$(cat "$STATE.prev")" "$first" "the previous file kept as .prev" || return 1
	expect_eq "$(head -n 1 "$STATE")" "# perim state v2, written by perimd; one perimctl command per line" "header" || return 1
	local n crc body
	read -r n crc < <(tail -n 1 "$STATE" | sed -nE 's/^# perim-state lines ([0-9]+) crc32 ([0-9a-f]{8})$/\1 \2/p')
	body=$(head -n -1 "$STATE")
	expect_eq "$n" "$(head -n -1 "$STATE" | wc -l)" "trailer's line count" || return 1
	head -n -1 "$STATE" > "$TMP/body"
	expect_eq "$crc" "$(crc32 "$TMP/body")" "trailer's crc32" || return 1
	expect_ne "$body" "" "body" || return 1
}

case_cut_or_empty_file_refused() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.0.0.0/8 rate 1kpps >/dev/null &&
	pctl limit set "$GW" src 10.1.0.0/16 rate 500pps burst 500 >/dev/null &&
	pctl limit set "$GW" src 10.2.0.0/16 rate 20pps >/dev/null || return 1
	local want; want=$(limits)
	daemon_stop || return 1
	cp "$STATE" "$TMP/good" || return 1
	local entries; entries=$(lpm_count)

	# cut right after "burst 5": once applied as burst 5 with the later rules dropped
	sed -E '/burst 500/{s/burst 500.*/burst 5/;q}' "$TMP/good" | head -c -1 > "$STATE"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "state file $STATE: cut short.*refusing to start.*mv $STATE.prev $STATE" \
		"names the file, what failed and the way back" || return 1
	sed -E '/burst 500/q' "$TMP/good" > "$STATE"          # cut at a line end
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "no trailer" "a missing trailer" || return 1
	sed -E 's/burst 500/burst 5/' "$TMP/good" > "$STATE"  # edited, trailer kept
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "does not match its trailer" "a changed line" || return 1
	: > "$STATE"
	start_fails 2 "$STATE" || return 1
	expect_match "$(cat "$TMP/last.err")" "$STATE: empty: not a perim state file" "an empty file" || return 1
	expect_eq "$(lpm_count)" "$entries" "LPM entries through the refused starts" || return 1

	# the way back the message gives
	cp "$TMP/good" "$STATE" || return 1
	daemon_start || return 1
	expect_eq "$(limits)" "$want" "limits from the intact file" || return 1
}

case_prev_recovers_a_refused_file() {
	setup && daemon_start --interface "$GW" || return 1
	pctl limit set "$GW" src 10.0.0.0/8 rate 1kpps >/dev/null || return 1
	local want; want=$(limits)
	pctl limit set "$GW" src 10.1.0.0/16 rate 500pps >/dev/null || return 1
	daemon_stop || return 1
	head -c 40 "$STATE" > "$STATE.cut" && mv "$STATE.cut" "$STATE" || return 1
	start_fails 2 "$STATE" || return 1
	mv "$STATE.prev" "$STATE" || return 1
	daemon_start || return 1
	expect_eq "$(limits)" "$want" "the state before the last change" || return 1
}

case_old_file_accepted_once_and_rewritten() {
	setup || return 1
	printf '# perim state, written by perimd; one perimctl command per line\nattach %s slot 0\nlimit set %s id 4 src 10.0.0.0/8 rate 10pps per-source\n' \
		"$GW" "$GW" > "$STATE"
	daemon_start || return 1
	expect_match "$(cat "$TMP/perimd.log")" "$STATE has no trailer .*accepted once, rewritten" "the warning" || return 1
	expect_eq "$(pctl -j limit list | jq -r '.limits[0].id')" 4 "its rule" || return 1
	expect_match "$(tail -n 1 "$STATE")" '^# perim-state lines 3 crc32 [0-9a-f]{8}$' "rewritten with a trailer" || return 1
}

case_foreign_file_not_echoed() {
	setup || return 1
	printf 'root:SECRETHASH:19000:0:99999:7:::\nlimit set x rate 1pps\n' > "$TMP/statefake"
	start_fails 2 "$TMP/statefake" || return 1
	expect_match "$(cat "$TMP/last.err")" "$TMP/statefake: does not start with perim's header" "says what it is" || return 1
	grep -q SECRETHASH "$TMP/last.err" && fail "the file's content echoed: $(cat "$TMP/last.err")" && return 1
	return 0
}

case_temp_files_of_killed_writes_removed() {
	setup || return 1
	printf '# perim state v2, written by perimd; one perimctl command per line\nattach' > "$STATE.Ab12Cd"
	: > "$STATE.zz99ZZ"
	echo "not perim's" > "$STATE.Xy34Zw"   # the pattern, someone else's content: kept
	echo keep > "$STATE.notes"
	daemon_start --interface "$GW" || return 1
	[ ! -e "$STATE.Ab12Cd" ] && [ ! -e "$STATE.zz99ZZ" ] || fail "temp files left: $(ls "$TMP")" || return 1
	[ -e "$STATE.Xy34Zw" ] && [ -e "$STATE.notes" ] || fail "removed files not perim's: $(ls "$TMP")" || return 1
}

# unwritable HOW: the state file cannot be rewritten (HOW: immutable, ro-mount,
# full): perimd starts, says so, refuses changes and applies none of them.
unwritable() {
	local how=$1
	mkdir -p "$MNT" || return 1
	[ "$how" = full ] && { mount -t tmpfs -o size=64k "${T}fs" "$MNT" || return 1; }
	STATE_PATH=$MNT/state
	STATE=$STATE_PATH
	limited_then_stopped || return 1
	local before want entries
	before=$(cat "$STATE"); entries=$(lpm_count)
	case $how in
	immutable) chattr +i "$STATE" || return 1 ;;
	ro-mount) mount --bind "$MNT" "$MNT" && mount -o remount,bind,ro "$MNT" || return 1 ;;
	full) dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null; [ -s "$MNT/fill" ] || return 1 ;;
	esac
	daemon_start || return 1
	want=$(limits)
	expect_eq "$(pctl -j status | jq -c '.state | [.path, .writable]')" "[\"$STATE\",false]" "status" || return 1
	expect_match "$(pctl status)" "state file: $STATE NOT WRITABLE" "human status" || return 1
	expect_exit 1 pctl limit set "$GW" src 10.0.0.0/8 rate 1pps || return 1
	expect_match "$(cat "$TMP/last.err")" "state file is not writable .*$STATE.*change refused" "the message" || return 1
	expect_exit 1 pctl deny add "$GW" 192.0.2.0/24 || return 1
	expect_eq "$(limits)" "$want" "model unchanged" || return 1
	expect_eq "$(lpm_count)" "$entries" "LPM entries unchanged" || return 1
	expect_eq "$(cat "$STATE")" "$before" "file unchanged" || return 1
	expect_still_limited || return 1

	case $how in
	immutable) chattr -i "$STATE" ;;
	ro-mount) umount "$MNT" ;;
	full) rm -f "$MNT/fill" ;;
	esac
	expect_exit 0 pctl deny add "$GW" 192.0.2.0/24 || return 1
	expect_eq "$(pctl -j status | jq -c '.state.writable')" true "writable again" || return 1
	grep -qx "deny add $GW 192.0.2.0/24" "$STATE" || fail "change not persisted: $(cat "$STATE")" || return 1
}

case_immutable_state_file() { unwritable immutable; }
case_read_only_mount() { unwritable ro-mount; }
case_full_disk() { unwritable full; }

run_cases "$@"
