#!/bin/bash
# Whole rulesets (issue 17): "perimctl show" prints the live configuration as
# ruleset lines, "perimctl apply FILE" makes a file the configuration of the
# interfaces it names in one switch, or changes nothing; "--check" and "diff"
# give apply's verdict without changing anything. Real perimd, real veths,
# real packets.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet
GW2=${T}h     # a second perimeter NIC no file below names
PEER2=${T}j

setup() {
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.81.0.1/24 inet "$PEER" 10.81.0.2/24 || return 1
	veth_add gw "$GW2" 10.82.0.1/24 inet "$PEER2" 10.82.0.2/24 || return 1
	GW_MAC=$(mac_of gw "$GW")
	perimd_start gw --interface "$GW" --interface "$GW2" || return 1
}

# perimd again on the same pins and state; its pid is the case's to stop, the
# pins stay the file's (setup's perimd_start removes them at the end).
daemon_restart() {
	: > "$TMP/perimd.log"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" --interface "$GW" --interface "$GW2" "$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	track_pid "$PERIMD_PID"
	wait_until 20 grep -q 'perimd: ready' "$TMP/perimd.log" || fail "not ready: $(cat "$TMP/perimd.log")"
}
# perimd_stop's wait only reaps a child of this shell: a case's subshell awaits its exit.
gone() { ! kill -0 "$1" 2>/dev/null; }
daemon_stop() {
	local pid=$PERIMD_PID
	kill "$pid" 2>/dev/null
	wait_until 20 gone "$pid" || fail "perimd $pid did not exit"
}
# A case that restarted perimd ran it in its own subshell, which stopped it on exit.
daemon_up() { pctl status >/dev/null 2>&1 || daemon_restart; }
if_stat() { jstat "$GW" ".counters.$1"; }
rx_at_least() { [ "$(if_stat rx_packets)" -ge "$1" ]; }

# rule_matched ID: matched_packets of rule ID, summed over CPUs from the pinned
# counters (a rule removed from the model keeps its counters there).
rule_matched() {
	local v total=0
	for v in $(bpftool -j map lookup pinned "$PIN_ROOT/perim_rule_stats" key $(( $1 & 255 )) $(( $1 >> 8 )) 0 0 |
		   jq -r '.values[].value[0:8] | reverse | join("") | gsub("0x"; "")'); do
		total=$(( total + 16#$v ))
	done
	echo "$total"
}

# rule_id SELECTOR-JQ: the id of the live rule on $GW that jq's select() picks
rule_id() { pctl -j limit list "$GW" | jq -r ".limits[] | select($1) | .id"; }

# The flood comes from 10.200.0.0/24. In the old ruleset its only match is
# rule O (10.200.0.0/16 udp); in the new one N2 (10.200.0.0/20 udp). N1
# (10.0.0.0/8 udp) covers it too but is never the longest match, and N3
# (10.200.0.0/16 tcp) never matches UDP: a packet counted on N1, or on no
# rule, was judged by neither ruleset. Fillers make 20 rules each, with
# prefix lengths that change the fast path's descriptor (8 and 16 old; 8,
# 16, 20 and 24 new), so the switch passes through every step.
write_old_ruleset() {
	{
		echo "# old: 20 rules"
		echo "attach $GW"
		echo "limit set $GW src 10.200.0.0/16 proto udp rate 1mpps aggregate"
		echo "limit set $GW src 11.0.0.0/8 rate 1kpps"
		for k in $(seq 0 17); do echo "limit set $GW src 12.$k.0.0/16 rate 1kpps per-source"; done
	} > "$1"
}

write_new_ruleset() {
	{
		echo "# new: 20 rules"
		echo "limit set $GW src 10.0.0.0/8 proto udp rate 1mpps aggregate"
		echo "limit set $GW src 10.200.0.0/16 proto tcp rate 1mpps aggregate"
		echo "limit set $GW src 10.200.0.0/20 proto udp rate 1mpps aggregate"
		echo
		for k in $(seq 0 16); do echo "limit set $GW src 13.$k.0.0/24 rate 2kpps    # filler $k"; done
	} > "$1"
}

case_flood_switches_without_a_third_verdict() {
	daemon_up || return 1
	local old=$TMP/old.rules new=$TMP/new.rules o n1 n2 n3 rx0 sent el flood
	write_old_ruleset "$old" && write_new_ruleset "$new"
	expect_exit 0 pctl apply "$old" || return 1
	o=$(rule_id '.src == "10.200.0.0/16" and .proto == "udp"')
	expect_ne "$o" "" "rule O" || return 1
	expect_eq "$(pctl -j limit list "$GW" | jq '.limits | length')" 20 "old rules" || return 1
	recv_start gw 5001 flood || return 1
	rx0=$(if_stat rx_packets)
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.81.0.1 \
		--src 10.200.0.0/24 --sources 50 --port 5001 --rate 20000 --seconds 3 > "$TMP/flood.out" &
	flood=$!
	# Switch in the middle of the flood: once a good part of it went by.
	wait_until 10 rx_at_least $(( rx0 + 15000 )) || fail "the flood did not arrive" || return 1
	expect_exit 0 pctl apply "$new" || return 1
	expect_match "$(cat "$TMP/last.out")" "20 added, 20 removed, 0 replaced" "apply's summary" || return 1
	wait "$flood"
	read -r sent el < <(sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/' "$TMP/flood.out")
	wait_until 10 rx_at_least $(( rx0 + sent )) || fail "perim saw $(( $(if_stat rx_packets) - rx0 )) of $sent" || return 1
	n1=$(rule_id '.src == "10.0.0.0/8"'); n2=$(rule_id '.src == "10.200.0.0/20"')
	n3=$(rule_id '.src == "10.200.0.0/16" and .proto == "tcp"')
	local mo mn1 mn2 mn3
	mo=$(rule_matched "$o"); mn1=$(rule_matched "$n1"); mn2=$(rule_matched "$n2"); mn3=$(rule_matched "$n3")
	echo "sent $sent: old O $mo, new N2 $mn2, N1 $mn1, N3 $mn3"
	expect_eq "$mn1" 0 "packets judged by a mix (N1, never the longest match)" || return 1
	expect_eq "$mn3" 0 "packets on the tcp rule" || return 1
	expect_eq "$(( mo + mn2 ))" "$sent" "packets judged by the old rule O or the new rule N2" || return 1
	[ "$mo" -gt 0 ] && [ "$mn2" -gt 0 ] || fail "the switch was not during the flood" || return 1
	# Both rulesets admit all of it: the receiver got every packet.
	wait_until 5 test "$(count_of "$TMP/flood.count")" -ge "$sent" ||
		fail "receiver got $(count_of "$TMP/flood.count") of $sent" || return 1
}

case_bad_last_line_changes_nothing() {
	daemon_up || return 1
	local f=$TMP/bad.rules before after
	write_new_ruleset "$f"
	echo "limit set $GW src 10.9.0.0/16 rate 12x" >> "$f"
	before=$(pctl show)
	expect_exit 2 pctl apply "$f" || return 1
	cat "$TMP/last.err"
	expect_match "$(cat "$TMP/last.err")" "^$f:23: Error: argument \"12x\" is wrong" "FILE:LINE and the token" || return 1
	expect_eq "$(wc -l < "$TMP/last.err")" 1 "one line" || return 1
	local apply_err
	apply_err=$(cat "$TMP/last.err")
	after=$(pctl show)
	expect_eq "$after" "$before" "show after a refused apply" || return 1
	# --check and diff: the same verdict, word for word.
	expect_exit 2 pctl apply --check "$f" || return 1
	expect_eq "$(cat "$TMP/last.err")" "$apply_err" "--check's verdict" || return 1
	expect_exit 2 pctl diff "$f" || return 1
	expect_eq "$(cat "$TMP/last.err")" "$apply_err" "diff's verdict" || return 1
	# A line that is no ruleset line, and an interface perim is not on.
	printf 'limit del %s 3\n' "$GW" > "$f"
	expect_exit 2 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.err")" "^$f:1: .*\"limit\" is wrong: a ruleset holds" "not a ruleset line" || return 1
	printf '\n# none\nallow add lo 192.0.2.0/24\n' > "$f"
	expect_exit 2 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.err")" "^$f:3: .*\"lo\" is wrong: perim is not attached" "unknown interface" || return 1
	expect_eq "$(pctl show)" "$before" "show after the refusals" || return 1
}

case_check_and_diff_agree_with_apply() {
	daemon_up || return 1
	local f=$TMP/next.rules before
	write_old_ruleset "$TMP/old.rules"
	expect_exit 0 pctl apply "$TMP/old.rules" || return 1
	write_new_ruleset "$f"
	echo "deny add $GW 198.51.100.0/24" >> "$f"
	before=$(pctl show)
	expect_exit 0 pctl apply --check "$f" || return 1
	expect_match "$(cat "$TMP/last.out")" "21 added, 20 removed, 0 replaced \(not applied\)" "--check" || return 1
	expect_exit 0 pctl -j diff "$f" || return 1
	expect_eq "$(jq -c '[.added, .removed, .replaced, .applied]' "$TMP/last.out")" "[21,20,0,false]" "diff -j" || return 1
	expect_eq "$(jq -r '.changes[] | select(.op == "added") | .line' "$TMP/last.out" | grep -c deny)" 1 \
		"the deny listed" || return 1
	expect_exit 0 pctl diff "$f" || return 1
	expect_match "$(cat "$TMP/last.out")" "^\+ deny add $GW 198.51.100.0/24$" "human diff line" || return 1
	expect_eq "$(pctl show)" "$before" "nothing changed by --check and diff" || return 1
	expect_exit 0 pctl -j apply "$f" || return 1
	expect_eq "$(jq -c '[.added, .removed, .replaced, .applied]' "$TMP/last.out")" "[21,20,0,true]" "apply -j" || return 1
	expect_exit 0 pctl diff "$f" || return 1
	expect_match "$(cat "$TMP/last.out")" "no change" "diff after apply" || return 1
}

case_show_apply_is_a_noop() {
	daemon_up || return 1
	local f=$TMP/shown.rules before
	pctl limit set "$GW2" src 192.0.2.0/24 rate 5kpps >/dev/null || return 1
	pctl allow add "$GW" 203.0.113.0/24 >/dev/null || return 1
	pctl limit set "$GW" dir egress dst 198.51.100.0/24 proto udp rate 10kpps per-destination >/dev/null || return 1
	pctl show > "$f" || return 1
	cat "$f"
	before=$(cat "$f")
	expect_exit 0 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.out")" "no change" "apply of show" || return 1
	expect_exit 0 pctl -j apply "$f" || return 1
	expect_eq "$(jq -c '[.changed, .applied]' "$TMP/last.out")" "[false,false]" "-j" || return 1
	expect_eq "$(pctl show)" "$before" "show again" || return 1
	# show DEV: that interface only; a file of it leaves the other alone.
	pctl show "$GW" > "$f"
	if grep -q "$GW2" "$f"; then fail "show $GW printed $GW2"; return 1; fi
	write_new_ruleset "$f"
	expect_exit 0 pctl apply "$f" || return 1
	expect_eq "$(pctl -j limit list "$GW2" | jq -c '[.limits[] | .src]')" '["192.0.2.0/24"]' \
		"the interface the file does not name" || return 1
	expect_eq "$(pctl -j allow list "$GW" | jq '.entries | length')" 0 "the named one's allow list replaced" || return 1
}

case_state_round_trips_through_restart() {
	daemon_up || return 1
	local before
	write_new_ruleset "$TMP/new.rules"
	expect_exit 0 pctl apply "$TMP/new.rules" || return 1
	before=$(pctl show)
	daemon_stop
	daemon_restart || return 1
	expect_eq "$(pctl show)" "$before" "show after a restart" || return 1
	pctl show > "$TMP/after.rules"
	expect_exit 0 pctl apply "$TMP/after.rules" || return 1
	expect_match "$(cat "$TMP/last.out")" "no change" "apply after restart" || return 1
}

case_same_selector_kept_with_its_counters() {
	daemon_up || return 1
	local f=$TMP/keep.rules id id2
	printf 'limit set %s src 10.81.0.0/24 proto udp rate 1kpps\n' "$GW" > "$f"
	expect_exit 0 pctl apply "$f" || return 1
	id=$(rule_id '.src == "10.81.0.0/24"')
	# The same selector with another rate: replaced, same id.
	printf 'limit set %s src 10.81.0.0/24 proto udp rate 3kpps\n' "$GW" > "$f"
	expect_exit 0 pctl -j apply "$f" || return 1
	expect_eq "$(jq -c '[.added, .removed, .replaced]' "$TMP/last.out")" "[0,0,1]" "replaced" || return 1
	id2=$(rule_id '.src == "10.81.0.0/24"')
	expect_eq "$id2" "$id" "id kept" || return 1
	expect_eq "$(pctl -j limit list "$GW" | jq '.limits[0].rate_pps')" 3000 "new rate" || return 1
	# Two lines with one selector: refused, naming the second.
	printf 'limit set %s src 10.81.0.0/24 proto udp rate 3kpps\nlimit set %s src 10.81.0.0/24 proto udp rate 4kpps\n' \
		"$GW" "$GW" > "$f"
	expect_exit 2 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.err")" "^$f:2: .*same selector" "duplicate selector" || return 1
}

# ---- confirm or roll back ----

# passes_now: a burst from the peer's own address reaches the receiver on port 5003
passes_now() {
	local before
	before=$(count_of "$TMP/probe.count")
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.81.0.1 \
		--src 10.81.0.2 --port 5003 --rate 2000 --count 20 >/dev/null || return 1
	wait_until 1 test "$(count_of "$TMP/probe.count")" -gt "$before"
}
dropped_now() { ! passes_now; }
pending() { [ "$(pctl -j status | jq -r .confirm.pending)" = "$1" ]; }
now_ms() { date +%s%3N; }

# A ruleset that denies the peer, beside the empty one the cases start from.
write_deny_ruleset() { printf 'deny add %s 10.81.0.0/24
limit set %s src 10.9.0.0/16 rate 1kpps
' "$GW" "$GW" > "$1"; }
start_clean() {
	printf 'attach %s
' "$GW" > "$TMP/empty.rules"
	pctl confirm >/dev/null 2>&1
	pctl apply "$TMP/empty.rules" >/dev/null || return 1
	recv_start gw 5003 probe || return 1
	passes_now || fail "the probe does not pass before the change"
}

case_confirm_window_ends_in_rollback() {
	daemon_up || return 1
	local f=$TMP/deny.rules before t0 deadline t1
	start_clean || return 1
	write_deny_ruleset "$f"
	before=$(pctl show)
	t0=$(now_ms)
	expect_exit 0 pctl apply "$f" --confirm 3 || return 1
	expect_match "$(cat "$TMP/last.out")" "rolled back at .* unless \"perimctl confirm\"" "apply's reply" || return 1
	deadline=$(pctl -j status | jq -r .confirm.deadline_unix_ms)
	expect_range "$(( deadline - t0 ))" 2900 3500 "deadline 3 s ahead" || return 1
	expect_match "$(pctl status)" "a change awaits confirmation until" "status" || return 1
	dropped_now || fail "the deny is not in force during the window" || return 1
	# Another change is refused while it awaits confirmation.
	expect_exit 1 pctl limit set "$GW" src 10.8.0.0/16 rate 1kpps || return 1
	expect_match "$(cat "$TMP/last.err")" "awaits confirmation" "refusal" || return 1
	wait_until 10 pending false || fail "still pending" || return 1
	t1=$(now_ms)
	[ "$t1" -ge "$deadline" ] || fail "rolled back $(( deadline - t1 )) ms before the deadline" || return 1
	expect_eq "$(pctl show)" "$before" "the previous configuration" || return 1
	passes_now || fail "the probe is still dropped after the rollback" || return 1
	grep -q '^rollback-' "$STATE" && fail "the state file still holds a pending rollback" && return 1
	return 0
}

case_confirm_keeps_the_change() {
	daemon_up || return 1
	local f=$TMP/deny.rules after deadline
	start_clean || return 1
	write_deny_ruleset "$f"
	expect_exit 0 pctl apply "$f" --confirm 2 || return 1
	after=$(pctl show)
	deadline=$(pctl -j status | jq -r .confirm.deadline_unix_ms)
	expect_exit 0 pctl confirm || return 1
	expect_eq "$(cat "$TMP/last.out")" "confirmed" "confirm's reply" || return 1
	pending false || fail "pending after confirm" || return 1
	# Past the old deadline, the change stays.
	wait_until 5 test "$(now_ms)" -gt $(( deadline + 300 ))
	expect_eq "$(pctl show)" "$after" "configuration after the window" || return 1
	dropped_now || fail "the deny was rolled back" || return 1
	expect_exit 1 pctl confirm || return 1
	expect_match "$(cat "$TMP/last.err")" "no change awaits confirmation" "confirm with nothing pending" || return 1
}

case_rollback_now_and_single_commands() {
	daemon_up || return 1
	local before
	start_clean || return 1
	before=$(pctl show)
	expect_exit 0 pctl limit set "$GW" src 10.7.0.0/16 rate 1kpps --confirm 60 || return 1
	expect_match "$(cat "$TMP/last.out")" "rolled back at" "limit set's reply" || return 1
	expect_exit 0 pctl rollback || return 1
	expect_eq "$(pctl show)" "$before" "after rollback" || return 1
	expect_exit 2 pctl attach lo --confirm 5 || return 1
	expect_match "$(cat "$TMP/last.err")" "\"--confirm\" is wrong" "attach --confirm" || return 1
	expect_exit 2 pctl apply "$TMP/empty.rules" --confirm 0 || return 1
}

case_rollback_survives_sigkill_and_restart() {
	daemon_up || return 1
	local f=$TMP/deny.rules before deadline
	start_clean || return 1
	write_deny_ruleset "$f"
	before=$(pctl show)
	# 10 s: a restart (tracers included) takes seconds on a busy machine.
	expect_exit 0 pctl apply "$f" --confirm 10 || return 1
	deadline=$(pctl -j status | jq -r .confirm.deadline_unix_ms)
	grep -q "^rollback-at $deadline$" "$STATE" || fail "no rollback-at in the state file" || return 1
	kill -9 "$PERIMD_PID"
	wait_until 20 gone "$PERIMD_PID" || fail "perimd survived SIGKILL" || return 1
	daemon_restart || return 1
	pending true || fail "the restarted perimd lost the pending rollback: $(grep "^perimd" "$TMP/perimd.log"; grep rollback "$STATE")" || return 1
	expect_eq "$(pctl -j status | jq -r .confirm.deadline_unix_ms)" "$deadline" "same deadline" || return 1
	dropped_now || fail "the deny is not in force after the restart" || return 1
	wait_until 20 pending false || fail "not rolled back" || return 1
	[ "$(now_ms)" -ge "$deadline" ] || fail "rolled back before the deadline" || return 1
	expect_eq "$(pctl show)" "$before" "the previous configuration" || return 1
	passes_now || fail "the probe is still dropped" || return 1
}

# ---- protected management access ----

# sends_from SRC PORT: a burst from SRC to the gateway's port PORT
sends_from() {
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.81.0.1 \
		--src "$1" --port "$2" --rate 2000 --count 50 >/dev/null
}

case_protected_source_passes_a_deny_of_everything() {
	daemon_up || return 1
	local f=$TMP/protect.rules p0 d0 others
	start_clean || return 1
	recv_start gw 5004 others || return 1
	printf 'protect add %s 10.81.0.2/32 proto udp dport 5003\ndeny add %s 0.0.0.0/0\nlimit set %s src 10.81.0.0/24 rate 1pps burst 1 block 60\n' \
		"$GW" "$GW" "$GW" > "$f"
	expect_exit 0 pctl apply "$f" || return 1
	expect_eq "$(pctl -j protect list "$GW" | jq -c '.protected[] | [.prefix, .proto, .dport]')" \
		'["10.81.0.2/32","udp","5003"]' "protect list" || return 1
	p0=$(if_stat protected_packets); d0=$(jstat "$GW" '.counters.dropped.deny.packets')
	passes_now || fail "the protected source is dropped" || return 1
	passes_now || fail "the protected source is dropped the second time (limit or block)" || return 1
	[ "$(if_stat protected_packets)" -ge $(( p0 + 40 )) ] || fail "protected counter $(if_stat protected_packets)" || return 1
	# The same source to another port, and another source: denied.
	sends_from 10.81.0.2 5004 && sends_from 10.81.0.77 5004
	wait_until 5 test "$(jstat "$GW" '.counters.dropped.deny.packets')" -ge $(( d0 + 100 )) ||
		fail "deny counted $(( $(jstat "$GW" '.counters.dropped.deny.packets') - d0 )) of 100" || return 1
	expect_eq "$(count_of "$TMP/others.count")" 0 "unprotected packets received" || return 1
	# show round-trips the protect line; del removes it and the deny takes the source too.
	expect_match "$(pctl show "$GW")" "^protect add $GW 10.81.0.2/32 proto udp dport 5003$" "show" || return 1
	expect_exit 0 pctl protect del "$GW" 10.81.0.2/32 proto udp dport 5003 || return 1
	dropped_now || fail "still passes after protect del" || return 1
	expect_exit 2 pctl protect add "$GW" 10.81.0.2/32 dport 22 || return 1
	expect_match "$(cat "$TMP/last.err")" '"dport" is wrong: needs proto' "dport without proto" || return 1
}

case_protect_at_boot() {
	daemon_up || return 1
	start_clean || return 1
	expect_exit 0 pctl deny add "$GW" 0.0.0.0/0 || return 1
	dropped_now || fail "the deny does not drop the probe" || return 1
	daemon_stop
	daemon_restart --protect "$GW,10.81.0.2/32,udp,5003" || return 1
	expect_eq "$(pctl -j protect list | jq -c '[.protected[] | .dev, .prefix, .proto, .dport]')" \
		"[\"$GW\",\"10.81.0.2/32\",\"udp\",\"5003\"]" "protect list after --protect" || return 1
	passes_now || fail "the --protect source is dropped" || return 1
	grep -q "^protect add $GW 10.81.0.2/32 proto udp dport 5003$" "$STATE" || fail "not in the state file" || return 1
	daemon_stop
	expect_exit 2 nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" --interface "$GW" --protect "$GW,10.81.0.2/33" || return 1
	expect_match "$(cat "$TMP/last.err")" "10.81.0.2/33" "bad --protect named" || return 1
	# The next case's daemon_up and start_clean bring perimd back and clear $GW.
}

case_ssh_session_source_guarded() {
	daemon_up || return 1
	local f=$TMP/ssh.rules before
	start_clean || return 1
	before=$(pctl show)
	export SSH_CONNECTION="10.81.0.2 50022 10.81.0.1 22"
	expect_exit 2 pctl deny add "$GW" 10.81.0.0/24 || return 1
	expect_match "$(cat "$TMP/last.err")" "^Error: argument \"deny add $GW 10.81.0.0/24\" is wrong: .*SSH" "deny refused" || return 1
	expect_exit 2 pctl limit set "$GW" src 10.81.0.0/16 proto tcp dport 22 rate 10pps || return 1
	printf 'limit set %s src 10.9.0.0/16 rate 1kpps\nlimit set %s proto tcp rate 1kpps\n' "$GW" "$GW" > "$f"
	expect_exit 2 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.err")" "\"limit set $GW proto tcp rate 1kpps\" is wrong" "apply names the line" || return 1
	expect_eq "$(pctl show)" "$before" "nothing changed" || return 1
	# Not the session: a limit on udp, another prefix, egress.
	expect_exit 0 pctl limit set "$GW" src 10.81.0.0/24 proto udp rate 10pps || return 1
	# Protected, or --force: allowed.
	expect_exit 0 pctl protect add "$GW" 10.81.0.2/32 proto tcp dport 22 || return 1
	expect_exit 0 pctl deny add "$GW" 10.81.0.0/24 || return 1
	expect_exit 0 pctl deny del "$GW" 10.81.0.0/24 || return 1
	expect_exit 0 pctl protect del "$GW" 10.81.0.2/32 proto tcp dport 22 || return 1
	expect_exit 0 pctl --force deny add "$GW" 10.81.0.0/24 || return 1
	unset SSH_CONNECTION
}

# The guard covers taking a protection away too: "protect del" of the entry
# that keeps the session's client passing a deny, or an apply that leaves it
# out, is refused (exit 2, nothing changed, the client still passes) unless
# another entry protects the client or perimctl says --force. "fleet block"
# of the client's prefix is refused by perimctl itself: this perimd runs
# without --fleet, and no NATS server exists.
case_ssh_guard_covers_protect_del_and_fleet_block() {
	daemon_up || return 1
	local f=$TMP/unprotect.rules before
	start_clean || return 1
	printf 'attach %s\n' "$GW2" > "$TMP/empty2.rules"
	expect_exit 0 pctl apply "$TMP/empty2.rules" || return 1
	export SSH_CONNECTION="10.81.0.2 50022 10.81.0.1 22"
	expect_exit 2 pctl fleet block 10.81.0.0/24 || return 1
	expect_match "$(cat "$TMP/last.err")" "^Error: argument \"fleet block 10.81.0.0/24\" is wrong: .*SSH" \
		"fleet block refused by the guard" || return 1
	expect_exit 1 pctl fleet block 10.82.0.0/24 || return 1
	expect_match "$(cat "$TMP/last.err")" "without --fleet" "a block the guard lets through reaches perimd" || return 1

	expect_exit 0 pctl protect add "$GW" 10.81.0.2/32 || return 1
	expect_exit 0 pctl deny add "$GW" 10.81.0.0/24 || return 1
	passes_now || fail "the protected client is dropped" || return 1
	before=$(pctl show)
	expect_exit 2 pctl protect del "$GW" 10.81.0.2/32 || return 1
	expect_match "$(cat "$TMP/last.err")" \
		"^Error: argument \"protect del $GW 10.81.0.2/32\" is wrong: it takes away the protection of 10.81.0.2.*\"deny add $GW 10.81.0.0/24\"" \
		"protect del refused" || return 1
	# A file for $GW without the protect line, while a deny on $GW2 (not in the file) covers the client.
	expect_exit 0 pctl deny add "$GW2" 10.81.0.0/16 || return 1
	printf 'limit set %s src 10.9.0.0/16 rate 1kpps\n' "$GW" > "$f"
	before=$(pctl show)
	expect_exit 2 pctl apply "$f" || return 1
	expect_match "$(cat "$TMP/last.err")" "^Error: argument \"$f\" is wrong: it takes away .*\"deny add $GW2 10.81.0.0/16\"" \
		"apply without the protect line refused" || return 1
	expect_eq "$(pctl show)" "$before" "nothing changed" || return 1
	passes_now || fail "the client is dropped after the refusals" || return 1
	# Another entry protects the client: the first may go. Then --force takes the last one.
	expect_exit 0 pctl protect add "$GW" 10.81.0.0/30 || return 1
	expect_exit 0 pctl protect del "$GW" 10.81.0.2/32 || return 1
	passes_now || fail "the client is dropped while 10.81.0.0/30 protects it" || return 1
	expect_exit 2 pctl protect del "$GW" 10.81.0.0/30 || return 1
	expect_exit 0 pctl --force protect del "$GW" 10.81.0.0/30 || return 1
	dropped_now || fail "the client passes after the forced protect del" || return 1
	unset SSH_CONNECTION
	expect_exit 0 pctl apply "$TMP/empty2.rules" || return 1
}

setup || { echo "FAIL: ${0##*/}:setup"; exit 1; }
run_cases "$@"
