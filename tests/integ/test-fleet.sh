#!/bin/bash
# A fleet of three gateways over a real NATS JetStream server (topology:
# tests/lib/fleet.sh). Spoofed floods from the inet namespace prove what each
# gateway drops, counted as fleet-deny.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/fleet.sh"

BLOCKED=203.0.113.0/24
# ---- cases ----

case_block_enforced_everywhere_then_unblocked() {
	fleet_setup || return 1
	local t0 t1 i
	t0=$(date +%s%N)
	expect_exit 0 gctl 1 fleet block "$BLOCKED" reason scan || return 1
	for i in 1 2 3; do
		wait_until 1 listed "$i" "$BLOCKED" || { fail "gw$i does not list $BLOCKED within 1 s"; return 1; }
	done
	t1=$(date +%s%N)
	echo "block -> listed on all three: $(( (t1 - t0) / 1000000 )) ms"
	for i in 1 2 3; do
		wait_until 5 drops_grow "$i" 203.0.113.0/24 || { fail "gw$i does not drop as fleet-deny"; return 1; }
	done
	passes 1 198.51.100.0/24 || { fail "an unblocked source was dropped"; return 1; }
	expect_exit 0 gctl 2 fleet unblock "$BLOCKED" || return 1
	for i in 1 2 3; do
		wait_until 1 not_listed "$i" "$BLOCKED" || { fail "gw$i still lists $BLOCKED"; return 1; }
		passes "$i" 203.0.113.0/24 || { fail "gw$i still drops after unblock"; return 1; }
	done
}

# Floods run through the whole TTL, so enforcement is seen however slow the box is.
case_ttl_expires_everywhere() {
	fleet_setup || return 1
	local i floods=()
	for i in 1 2 3; do
		flood "$i" 192.0.2.0/24 16000 &
		floods+=($!)
	done
	expect_exit 0 gctl 3 fleet block 192.0.2.0/24 ttl 3s || return 1
	for i in 1 2 3; do
		wait_until 3 fleet_drops_above "$i" 0 || { fail "gw$i does not drop the TTL block"; return 1; }
	done
	for i in 1 2 3; do
		wait_until 5 not_listed "$i" 192.0.2.0/24 || { fail "gw$i still lists it after its TTL"; return 1; }
	done
	wait "${floods[@]}"
	for i in 1 2 3; do passes "$i" 192.0.2.0/24 || { fail "gw$i still drops after the TTL"; return 1; }; done
}

case_local_allow_wins() {
	fleet_setup || return 1
	expect_exit 0 gctl 1 allow add "${T}g1" 203.0.113.128/25 || return 1
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	wait_until 2 listed 1 "$BLOCKED" || return 1
	drops_grow 1 203.0.113.0/25 || { fail "the blocked half is not dropped"; return 1; }
	passes 1 203.0.113.128/25 || { fail "the locally allowed half is dropped"; return 1; }
	grep -q "$BLOCKED" "$GW_STATE_DIR/gw1.state" && { fail "the fleet decision is in the state file"; return 1; }
	return 0
}

# A protected source passes a fleet block of its prefix (issue 20), counted as
# protected; the rest of the blocked prefix is still dropped as fleet-deny.
case_protected_source_passes_a_block() {
	fleet_setup || return 1
	local p0
	protected() { gctl 1 -j stats "${T}g1" | jq -r '.interfaces[0].counters.protected_packets'; }
	expect_exit 0 gctl 1 protect add "${T}g1" 203.0.113.0/28 proto udp dport 9 || return 1
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	wait_until 2 listed 1 "$BLOCKED" || return 1
	p0=$(protected)
	passes 1 203.0.113.0/28 || { fail "the protected sources are dropped as fleet-deny"; return 1; }
	[ "$(protected)" -ge $(( p0 + 20 )) ] || { fail "protected counted $(( $(protected) - p0 )) of 20"; return 1; }
	drops_grow 1 203.0.113.64/26 || { fail "the rest of the blocked prefix is not dropped"; return 1; }
}

# The SSH guard (issue 17) and the fleet: a block covering the client of the
# caller's SSH session is refused unless a protect entry covers the client;
# once it is in force, the protect entry that keeps the client passing it
# cannot be deleted, unless perimctl --force. The refusals happen in perimctl,
# against perimd's own copy of the decisions: nothing is published.
case_ssh_guard_sees_fleet_blocks() {
	fleet_setup || return 1
	export SSH_CONNECTION="203.0.113.9 50022 10.0.0.1 22"
	expect_exit 2 gctl 1 fleet block "$BLOCKED" || return 1
	expect_match "$(cat "$TMP/last.err")" "^Error: argument \"fleet block $BLOCKED\" is wrong: .*SSH" \
		"block of the session's client" || return 1
	expect_eq "$(gctl 1 -j fleet list | jq '.decisions | length')" 0 "decisions after the refusal" || return 1
	expect_exit 0 gctl 1 protect add "${T}g1" 203.0.113.9/32 proto tcp dport 22 || return 1
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	wait_until 2 listed 1 "$BLOCKED" || { fail "gw1 does not list $BLOCKED"; return 1; }
	expect_exit 2 gctl 1 protect del "${T}g1" 203.0.113.9/32 proto tcp dport 22 || return 1
	expect_match "$(cat "$TMP/last.err")" "takes away the protection of 203.0.113.9.*\"fleet block $BLOCKED\"" \
		"protect del under the block" || return 1
	expect_eq "$(gctl 1 -j protect list | jq -c '[.protected[].prefix]')" '["203.0.113.9/32"]' \
		"protect list after the refusal" || return 1
	expect_exit 0 gctl 1 --force protect del "${T}g1" 203.0.113.9/32 proto tcp dport 22 || return 1
	unset SSH_CONNECTION
}

case_restarted_gateway_converges() {
	fleet_setup || return 1
	expect_exit 0 gctl 1 fleet block 198.18.0.0/16 || return 1
	expect_exit 0 gctl 1 fleet block 198.19.0.0/16 || return 1
	wait_until 2 listed 3 198.19.0.0/16 || return 1
	gw_stop 3
	expect_exit 0 gctl 1 fleet unblock 198.18.0.0/16 || return 1
	expect_exit 0 gctl 1 fleet block 2001:db8:bad::/48 ttl 1h reason "while gw3 was away" || return 1
	# The pins outlive perimd: gw3 enforces what it had applied while it is down. The
	# blocked packets go first, then as many from elsewhere on the same path: once those
	# are counted, the blocked ones would have been too.
	recv_start gw3 5009 down || return 1
	flood 3 198.19.0.0/16 20 5009
	flood 3 198.51.100.0/24 20 5009
	wait_until 5 count_at_least "$TMP/down.count" 20 || { fail "the control packets did not arrive"; return 1; }
	expect_eq "$(count_of "$TMP/down.count")" 20 "packets received while gw3's perimd was down" || return 1
	gw_start 3 --fleet "$(fleet_url)" || return 1
	wait_until 5 listed 3 2001:db8:bad::/48 || { fail "gw3 did not catch up"; return 1; }
	wait_until 2 not_listed 3 198.18.0.0/16 || { fail "gw3 kept a removed decision"; return 1; }
	expect_eq "$(gctl 3 -j fleet list | jq -c '[.decisions[].prefix]')" \
		"$(gctl 1 -j fleet list | jq -c '[.decisions[].prefix]')" "fleet list gw3 vs gw1" || return 1
	passes 3 198.18.0.0/16 || { fail "gw3 still drops the removed decision"; return 1; }
	drops_grow 3 198.19.0.0/16 || return 1
}

# perimd restarted while NATS is down: the pins are all it has, and it keeps them.
case_restart_with_nats_down_keeps_decisions() {
	fleet_setup || return 1
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	expect_exit 0 gctl 1 fleet block 198.18.0.0/16 || return 1
	drops_grow 1 203.0.113.0/24 || return 1
	nats_kill
	gw_stop 1
	gw_start 1 --fleet "$(fleet_url)" || return 1
	drops_grow 1 203.0.113.0/24 || { fail "the restart lifted a fleet decision"; return 1; }
	expect_exit 0 gctl 1 allow add "${T}g1" 192.0.2.0/24 || return 1
	drops_grow 1 203.0.113.0/24 || { fail "a local change lifted a fleet decision"; return 1; }
	nats_start nats || return 1
	wait_until 10 fleet_connected 2 || return 1
	expect_exit 0 gctl 2 fleet unblock 198.18.0.0/16 || return 1
	wait_until 10 fleet_connected 1 || return 1
	wait_until 5 listed 1 "$BLOCKED" || { fail "gw1 did not read the bucket"; return 1; }
	wait_until 5 not_listed 1 198.18.0.0/16 || return 1
	passes 1 198.18.0.0/16 || { fail "the pins' entry outlived the bucket's unblock"; return 1; }
	drops_grow 1 203.0.113.0/24
}

case_nats_down_enforcement_continues() {
	fleet_setup || return 1
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	wait_until 2 listed 2 "$BLOCKED" || return 1
	# A flood in flight while the server dies.
	flood 2 203.0.113.0/24 4000 &
	local flooder=$!
	nats_kill
	wait_until 5 eval '! fleet_connected 2' || { fail "gw2 still reports connected"; return 1; }
	expect_exit 0 gctl 2 status || { fail "perimd unresponsive with NATS down"; return 1; }
	wait "$flooder"
	drops_grow 2 203.0.113.0/24 || { fail "enforcement stopped with NATS down"; return 1; }
	expect_exit 1 gctl 1 fleet block 192.0.2.0/24 || return 1
	expect_match "$(cat "$TMP/last.err")" "not connected" "block while down" || return 1
	nats_start nats || return 1
	for i in 1 2 3; do wait_until 10 fleet_connected "$i" || { fail "gw$i did not reconnect"; return 1; }; done
	expect_exit 0 gctl 1 fleet block 192.0.2.0/24 || return 1
	for i in 1 2 3; do wait_until 2 listed "$i" 192.0.2.0/24 || { fail "gw$i missed the new decision"; return 1; }; done
	drops_grow 3 192.0.2.0/24
}

# nats_put KEY VALUE: a raw KV write, bypassing perimctl (publishes the put through a perimd's own
# connection is impossible by design), with a tiny client: nats-server's own test tool is not
# packaged, so the tests/tools helper natskv does it.
case_malformed_value_rejected() {
	fleet_setup || return 1
	local before
	before=$(gctl 1 -j fleet status | jq -r .rejected_malformed)
	in_ns gw1 "$TOOLS/natskv" "$(fleet_url)" put perim-decisions 10.9.9.0/24 '{"prefix":"10.9.9.0/24","ttl":"soon"}' ||
		return 1
	wait_until 2 status_above 1 rejected_malformed "$before" ||
		{ fail "the malformed value was not counted"; return 1; }
	grep -q 'key "10.9.9.0/24".*rejected: "ttl" is not an integer' "$TMP/gw1.log" ||
		{ fail "the log does not name the key"; return 1; }
	not_listed 1 10.9.9.0/24 || return 1
	passes 1 10.9.9.0/24
}

# write_auth_conf OPERATOR_NKEY GATEWAY_NKEY: gw1 the operator and gw2 a gateway by nkey,
# gw3 a gateway by user and password.
write_auth_conf() {
	cat >"$TMP/auth.conf" <<-CONF
	authorization {
	  users = [
	    { nkey: $1, $(account_permissions operator gw1) }
	    { nkey: $2, $(account_permissions gateway gw2) }
	    { user: gw3, password: gwsecret, $(account_permissions gateway gw3) }
	  ]
	}
	CONF
}

# Credentials as gateways get them: an nkey seed file in its armour (gw1) or bare (gw2), a
# password in the URL (gw3). Only the operator account writes decisions.
case_gateway_account_cannot_decide() {
	local op_key gw_key stray_key i
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 && gw_net 3 || return 1
	op_key=$("$TOOLS/natsnkey" "$TMP/op.seed") && gw_key=$("$TOOLS/natsnkey" "$TMP/gw2.nk") &&
		stray_key=$("$TOOLS/natsnkey" "$TMP/stray.nk") || return 1
	{ echo "-----BEGIN USER NKEY SEED-----"; cat "$TMP/op.seed"; echo "------END USER NKEY SEED------"; } >"$TMP/op.nk"
	write_auth_conf "$op_key" "$gw_key"
	nats_start nats -c "$TMP/auth.conf" || return 1
	gw_start 1 --fleet "$(fleet_url)" --fleet-creds "$TMP/op.nk" || return 1
	gw_start 2 --fleet "$(fleet_url)" --fleet-creds "$TMP/gw2.nk" || return 1
	# A key the server does not list is refused; perimd keeps retrying, enforcing what it has.
	gw_start 3 --fleet "$(fleet_url)" --fleet-creds "$TMP/stray.nk" || return 1
	wait_until 10 fleet_connected 1 && wait_until 10 fleet_connected 2 || return 1
	wait_until 10 grep -q "authentication error - Nkey \"$stray_key\"" "$NATS_STORE/nats.log" ||
		{ fail "the server did not refuse the unknown nkey"; return 1; }
	expect_eq "$(status_of 3 connected)" false "an unknown nkey's connection" || return 1
	gw_stop 3
	gw_start 3 --fleet "nats://gw3:gwsecret@$HUB:$NATS_PORT" || return 1
	wait_until 10 fleet_connected 3 || return 1
	expect_eq "$(status_of 1 user)" "$op_key" "the account gw1's fleet status names" || return 1
	expect_eq "$(status_of 2 user)" "$gw_key" "the account gw2's fleet status names" || return 1
	expect_eq "$(status_of 3 user)" gw3 "the account gw3's fleet status names" || return 1
	for i in 2 3; do
		expect_exit 1 gctl "$i" fleet block "$BLOCKED" || return 1
		expect_match "$(cat "$TMP/last.err")" 'not stored.*Permissions Violation for Publish to "\$KV\.perim-decisions' \
			"gw$i's block" || return 1
	done
	for i in 1 2 3; do not_listed "$i" "$BLOCKED" || { fail "gw$i applied a refused block"; return 1; }; done
	passes 2 203.0.113.0/24 || { fail "a refused block is enforced"; return 1; }
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	for i in 2 3; do
		wait_until 2 listed "$i" "$BLOCKED" || { fail "gw$i does not see the operator's decision"; return 1; }
	done
	drops_grow 2 203.0.113.0/24 || return 1
	expect_exit 1 gctl 2 fleet unblock "$BLOCKED" || return 1
	listed 1 "$BLOCKED" && listed 2 "$BLOCKED" || { fail "a gateway removed a decision"; return 1; }
	gctl 3 -j fleet status | grep -q gwsecret && { fail "fleet status shows the password"; return 1; }
	grep -q "$(cut -c3-20 "$TMP/gw2.nk")" "$TMP"/gw?.log && { fail "a seed is in a log"; return 1; }
	expect_exit 0 gctl 1 fleet unblock "$BLOCKED" || return 1
	wait_until 2 not_listed 2 "$BLOCKED" || { fail "the operator's unblock did not reach gw2"; return 1; }
}

# Operator mode (decentralised JWT auth), made by tests/tools/natsjwt since Debian has no nsc:
# an operator, the system account JetStream needs, and the account "perim" (JetStream enabled in
# its claims) whose users the fleet's gateways are; the server's config in $TMP/op.conf.
jwt_setup() {
	local d=$TMP/jwt sys acc
	mkdir -p "$d" && "$TOOLS/natsjwt" operator "$d" op >/dev/null || return 1
	sys=$("$TOOLS/natsjwt" account "$d" op SYS system) && acc=$("$TOOLS/natsjwt" account "$d" op perim) || return 1
	cat >"$TMP/op.conf" <<-CONF
	operator: $d/op.jwt
	system_account: $sys
	resolver: MEMORY
	resolver_preload: {
	  $sys: $(cat "$d/SYS.jwt")
	  $acc: $(cat "$d/perim.jwt")
	}
	CONF
}

# jwt_user NAME gateway|operator [ACCOUNT]: $TMP/jwt/NAME.creds, a user of ACCOUNT (perim) whose
# JWT allows publishing exactly to the README's subjects for that kind of gateway NAME; prints its key.
jwt_user() {
	local args=() subject
	while IFS= read -r subject; do args+=(pub "$subject"); done < <("$2_subjects" "$1")
	"$TOOLS/natsjwt" user "$TMP/jwt" "${3:-perim}" "$1" "${args[@]}" sub '_INBOX.>'
}

# --fleet-creds with a user JWT: the operator user decides, the gateway user applies and cannot
# decide, a user signed by an account the server does not know is refused.
case_jwt_creds_operator_mode() {
	local op_user gw_user i
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 && gw_net 3 && jwt_setup || return 1
	op_user=$(jwt_user gw1 operator) && gw_user=$(jwt_user gw2 gateway) || return 1
	"$TOOLS/natsjwt" account "$TMP/jwt" op stranger >/dev/null && jwt_user gw3 gateway stranger >/dev/null || return 1
	nats_start nats -c "$TMP/op.conf" || return 1
	grep -q "Trusted Operators" "$NATS_STORE/nats.log" || { fail "nats-server is not in operator mode"; return 1; }
	for i in 1 2 3; do gw_start "$i" --fleet "$(fleet_url)" --fleet-creds "$TMP/jwt/gw$i.creds" || return 1; done
	wait_until 10 fleet_connected 1 && wait_until 10 fleet_connected 2 || return 1
	expect_eq "$(status_of 1 user)" "$op_user" "the user gw1's fleet status names" || return 1
	expect_eq "$(status_of 2 user)" "$gw_user" "the user gw2's fleet status names" || return 1
	wait_until 10 grep -q ":C:gw3\" - authentication error" "$NATS_STORE/nats.log" ||
		{ fail "the server did not refuse the unknown account's user"; return 1; }
	expect_eq "$(status_of 3 connected)" false "a user of an unknown account" || return 1
	expect_exit 1 gctl 2 fleet block "$BLOCKED" || return 1
	# shellcheck disable=SC2016 # a regex matching a literal $
	expect_match "$(cat "$TMP/last.err")" 'not stored.*Permissions Violation for Publish to "\$KV\.perim-decisions' \
		"the gateway user's block" || return 1
	for i in 1 2; do not_listed "$i" "$BLOCKED" || { fail "gw$i applied a refused block"; return 1; }; done
	passes 2 203.0.113.0/24 || { fail "a refused block is enforced"; return 1; }
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	wait_until 2 listed 2 "$BLOCKED" || { fail "the gateway user does not see the operator's decision"; return 1; }
	drops_grow 2 203.0.113.0/24 || return 1
	expect_exit 1 gctl 2 fleet unblock "$BLOCKED" || return 1
	listed 2 "$BLOCKED" || { fail "the gateway user removed a decision"; return 1; }
	grep -q "$(sed -n '/BEGIN USER NKEY SEED/{n;p}' "$TMP/jwt/gw2.creds" | cut -c3-20)" "$TMP"/gw?.log &&
		{ fail "a seed is in a log"; return 1; }
	return 0
}

# A write JetStream does not acknowledge (the server stopped, its socket open) is sent twice and
# then answered as possibly stored, exit 1, in bounded time, perimd answering meanwhile: once
# the server resumes it stores it, so "not stored" would have been false.
case_unacknowledged_block_is_not_called_unstored() {
	local blocker rc t0 ms status_rc
	hub_setup && ns_add inet && gw_net 1 || return 1
	nats_start nats || return 1
	gw_start 1 --fleet "$(fleet_url)" || return 1
	wait_until 10 fleet_connected 1 || return 1
	expect_exit 0 gctl 1 fleet block 198.51.100.0/24 || return 1
	kill -STOP "$NATS_PID"
	t0=$(date +%s%N)
	gctl 1 fleet block "$BLOCKED" >"$TMP/block.out" 2>"$TMP/block.err" &
	blocker=$!
	timeout 5 "$PERIMCTL" -s "$TMP/gw1.sock" status >/dev/null
	status_rc=$?
	wait "$blocker"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	kill -CONT "$NATS_PID"
	echo "unacknowledged block answered in $ms ms: $(cat "$TMP/block.err")"
	expect_eq "$status_rc" 0 "perimctl status while the write waits" || return 1
	expect_eq "$rc" 1 "the unacknowledged block's exit" || return 1
	expect_match "$(cat "$TMP/block.err")" "did not acknowledge the write in 2 x 3000 ms: the decision may still be stored" \
		"the unacknowledged block's error" || return 1
	expect_range "$ms" 5500 9000 "ms until the unacknowledged block is answered" || return 1
	grep -q "fleet: put of $BLOCKED took [0-9]* ms, 2 tries: Timeout" "$TMP/gw1.log" ||
		{ fail "the slow write is not logged"; return 1; }
	wait_until 5 listed 1 "$BLOCKED" || { fail "the server did not store the write once it resumed"; return 1; }
	drops_grow 1 203.0.113.0/24
}

# The kernel's count of forks since boot, and since it was $1.
forks() { awk '$1 == "processes" {print $2}' /proc/stat; }
forks_at_least() { [ $(( $(forks) - $1 )) -ge "$2" ]; }

# A fleet block in a fork storm past the process table's size (131,072; exited processes stay
# 30 s): answered in seconds and enforced. The table once made room by scanning itself per fork,
# which held the event loop, and the block behind it, for minutes.
case_block_during_fork_storm() {
	local storm forks0 t0 ms rc
	hub_setup && ns_add inet && gw_net 1 || return 1
	nats_start nats || return 1
	gw_start 1 --fleet "$(fleet_url)" --events /dev/null || return 1
	wait_until 10 fleet_connected 1 || return 1
	forks0=$(forks)
	"$OUT/tests/bench/storm" fork 400000 2 >"$TMP/storm.out" &
	storm=$!
	track_pid "$storm"
	wait_until 60 forks_at_least "$forks0" 150000 || { fail "the storm made $(( $(forks) - forks0 )) forks in 60 s"; return 1; }
	kill -0 "$storm" 2>/dev/null || { skip "the storm ended before the block (too fast a machine)"; return 0; }
	t0=$(date +%s%N)
	timeout 30 "$PERIMCTL" -s "$TMP/gw1.sock" fleet block "$BLOCKED" >/dev/null
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "fleet block in a fork storm: $ms ms"
	expect_eq "$rc" 0 "the block's exit (124: no answer in 30 s)" || return 1
	expect_range "$ms" 0 10000 "ms to answer a block in a fork storm" || return 1
	wait "$storm"
	listed 1 "$BLOCKED" && drops_grow 1 203.0.113.0/24
}

# The fleet's own stop (threads joined, connection closed) is timed by perimd
# itself: the rest of an exit (tracer links, RCU) varies with the box's load. A
# thread left waiting on the absent server (a JetStream request's 3 s) shows here.
fleet_stop_ms() { sed -n 's/.*perimd: fleet: stopped in \([0-9]*\) ms.*/\1/p' "$TMP/gw$1.log"; }

case_stops_promptly_with_nats_down() {
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 || return 1
	nats_start nats || return 1
	gw_start 1 -v --fleet "$(fleet_url)" && gw_start 2 -v --fleet "$(fleet_url)" || return 1
	wait_until 10 fleet_connected 1 && wait_until 10 fleet_connected 2 || return 1
	gw_stop 2
	nats_kill
	gw_stop 1
	echo "fleet stop: NATS up $(fleet_stop_ms 2) ms, NATS down $(fleet_stop_ms 1) ms"
	expect_range "$(fleet_stop_ms 2)" 0 1000 "ms to stop the fleet, NATS up" || return 1
	expect_range "$(fleet_stop_ms 1)" 0 1000 "ms to stop the fleet, NATS down"
}

case_cluster_node_killed() {
	hub_setup && ns_add inet || return 1
	for i in 1 2 3; do gw_net "$i" || return 1; done
	NATS_STORE=$(mktemp -d "$TMP/js.XXXXXX")
	for n in 1 2 3; do nats_node "$n"; done
	for n in 1 2 3; do wait_until 20 grep -q "Server is ready" "$NATS_STORE/n$n.log" || return 1; done
	for i in 1 2 3; do gw_start "$i" -v --fleet "$(cluster_urls)" || return 1; done
	for i in 1 2 3; do wait_until 20 fleet_connected "$i" || { fail "gw$i not connected"; return 1; }; done
	retry_block 1 198.51.100.0/24 || { fail "no decision stored by the cluster"; return 1; }
	for i in 1 2 3; do wait_until 2 listed "$i" 198.51.100.0/24 || return 1; done
	cat "$TMP"/gw?.log | grep -q "created bucket perim-decisions (3 replicas)" ||
		{ fail "the bucket is not replicated over the cluster"; return 1; }
	kill -9 "$NODE1_PID"
	retry_block 2 192.0.2.0/24 || { fail "the cluster refused decisions with a node down"; return 1; }
	# A gateway whose watch consumer lived on the dead node learns it from missed
	# heartbeats (libnats: two 5 s intervals) and watches again on a live one;
	# the bound leaves that 10 s twice over (20 s was missed once, in a loaded
	# host tier; the case passed alone in 27 s).
	for i in 1 2 3; do
		wait_until 30 listed "$i" 192.0.2.0/24 || { fail "gw$i missed a decision after the node died"; return 1; }
	done
	drops_grow 1 192.0.2.0/24
}

case_events_exported_and_buffered() {
	hub_setup && ns_add inet && gw_net 1 || return 1
	nats_start nats || return 1
	gw_start 1 --fleet "$(fleet_url)" --fleet-events exec,xdp_drop --metrics 9469 || return 1
	wait_until 10 fleet_connected 1 || return 1
	natssub_start ev 'perim.events.gw1.>' && natssub_start drops perim.drops.gw1 || return 1
	/bin/true
	wait_until 5 grep -q '^perim.events.gw1.exec {"type":"exec"' "$TMP/ev.msgs" ||
		{ fail "no exec event on perim.events.gw1.exec"; return 1; }
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	flood 1 203.0.113.0/24 200
	wait_until 5 grep -q '^perim.events.gw1.xdp_drop .*"reason":"fleet-deny"' "$TMP/ev.msgs" ||
		{ fail "no fleet-deny xdp_drop event exported"; return 1; }
	wait_until 15 grep -q '^perim.drops.gw1 .*"fleet-deny":' "$TMP/drops.msgs" ||
		{ fail "no drop summary with fleet-deny"; return 1; }
	local metrics
	metrics=$(in_netns gw1 curl -sf http://127.0.0.1:9469/metrics) || { fail "no metrics"; return 1; }
	expect_match "$metrics" 'perim_fleet_decisions\{fleet_name="gw1"\} 1' "fleet decisions metric" || return 1
	expect_match "$metrics" 'perim_fleet_events_published_total\{fleet_name="gw1"\} [1-9]' "published metric" || return 1
	expect_match "$metrics" 'perim_packets_dropped_total\{interface="[^"]*",reason="fleet-deny"\} [1-9]' \
		"fleet-deny drops metric" || return 1
	grep -q '"type":"fork"' "$TMP/ev.msgs" && { fail "an event type not asked for was exported"; return 1; }
	# Server gone: lines queue up to the bound, the rest is dropped and counted; nothing blocks.
	nats_kill
	wait_until 5 eval '! fleet_connected 1' || return 1
	flood 1 203.0.113.0/24 20000 &
	local flooder=$! i
	for i in $(seq 200); do /bin/true; done
	wait "$flooder"
	wait_until 10 status_above 1 events_dropped 0 || { fail "nothing counted as dropped"; return 1; }
	expect_exit 0 gctl 1 status || return 1
	local queued published
	queued=$(status_of 1 events_queued); published=$(status_of 1 events_published)
	expect_range "$queued" 1 4096 "events queued while down" || return 1
	nats_start nats || return 1
	wait_until 10 fleet_connected 1 || return 1
	wait_until 10 status_at_least 1 events_published $(( published + queued )) ||
		{ fail "the queue was not published after the server came back"; return 1; }
	gctl 1 fleet status
}

# make_certs DIR NAME: a CA DIR/NAME-ca.pem and, signed by it, a server certificate for $HUB.
make_certs() {
	local d=$1 n=$2
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$n-ca.key" -out "$d/$n-ca.pem" \
		-subj "/CN=perim test $n CA" -days 1 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$d/$n-srv.key" -out "$d/$n-srv.csr" \
		-subj "/CN=$HUB" 2>/dev/null || return 1
	printf 'subjectAltName=IP:%s\n' "$HUB" >"$d/$n-san.ext"
	openssl x509 -req -in "$d/$n-srv.csr" -CA "$d/$n-ca.pem" -CAkey "$d/$n-ca.key" -CAcreateserial \
		-out "$d/$n-srv.pem" -days 1 -extfile "$d/$n-san.ext" 2>/dev/null
}

case_tls_with_ca() {
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 || return 1
	make_certs "$TMP" good && make_certs "$TMP" other || { skip "openssl could not make test certificates"; return 0; }
	nats_start nats --tls --tlscert "$TMP/good-srv.pem" --tlskey "$TMP/good-srv.key" || return 1
	gw_start 1 --fleet "tls://$HUB:$NATS_PORT" --fleet-tls-ca "$TMP/good-ca.pem" || return 1
	gw_start 2 --fleet "tls://$HUB:$NATS_PORT" --fleet-tls-ca "$TMP/other-ca.pem" || return 1
	wait_until 10 fleet_connected 1 || { fail "gw1 did not connect over TLS"; return 1; }
	expect_exit 0 gctl 1 fleet block "$BLOCKED" || return 1
	expect_eq "$(status_of 2 connected)" false "a server signed by another CA is refused" || return 1
	expect_exit 2 "$PERIMD" --fleet "tls://$HUB:$NATS_PORT" --fleet-tls-ca "$TMP/missing.pem" || return 1
}

case_without_fleet_nothing_runs() {
	hub_setup && ns_add inet && gw_net 1 || return 1
	gw_start 1 || return 1
	expect_exit 1 gctl 1 fleet list || return 1
	expect_match "$(cat "$TMP/last.err")" "without --fleet" "fleet list without --fleet" || return 1
	expect_exit 1 gctl 1 fleet block "$BLOCKED" || return 1
	# libnats starts threads on its first use: without --fleet perimd keeps its one thread.
	expect_eq "$(ls "/proc/$GW1_PID/task" | wc -l)" 1 "perimd's threads without --fleet"
}

# The cap (16,384 decisions a gateway holds): a block beyond it is refused at the CLI,
# one written past perimctl is rejected by every gateway and counted.
case_cap_on_decisions() {
	hub_setup && ns_add inet && gw_net 1 || return 1
	nats_start nats || return 1
	gw_start 1 --fleet "$(fleet_url)" || return 1
	wait_until 10 fleet_connected 1 || return 1
	ip netns exec "$T-hub" "$OUT/tests/bench/fleet_load" "$(fleet_url)" put 16384 || return 1
	wait_until 60 status_at_least 1 decisions 16384 || { fail "16384 decisions not applied"; return 1; }
	expect_exit 2 gctl 1 fleet block 192.0.2.0/24 || return 1
	expect_match "$(cat "$TMP/last.err")" "the cap is 16384" "block beyond the cap" || return 1
	in_ns gw1 "$TOOLS/natskv" "$(fleet_url)" put perim-decisions 192.0.2.0/24 \
		'{"prefix":"192.0.2.0/24","created_ms":1800000000000}' || return 1
	wait_until 5 status_above 1 rejected_cap 0 || { fail "the decision over the cap was not counted"; return 1; }
	grep -q 'decision 192.0.2.0/24 rejected: this gateway holds 16384 decisions' "$TMP/gw1.log" || return 1
	expect_eq "$(status_of 1 decisions)" 16384 "decisions in force" || return 1
	drops_grow 1 10.163.255.0/24 || { fail "the last decision under the cap is not enforced"; return 1; }
}

case_bad_input() {
	expect_exit 2 "$PERIMCTL" fleet block 10.0.0.1/8 || return 1
	expect_exit 2 "$PERIMCTL" fleet block 10.0.0.0/8 ttl 0s || return 1
	expect_exit 2 "$PERIMCTL" fleet block 10.0.0.0/8 ttl 400d || return 1
	expect_exit 2 "$PERIMCTL" fleet block 10.0.0.0/8 ttl 1h ttl 2h || return 1
	expect_exit 2 "$PERIMCTL" fleet frobnicate || return 1
	expect_exit 2 "$PERIMD" --fleet http://x:1 || return 1
	expect_exit 2 "$PERIMD" --fleet-name gw1 || return 1
	expect_exit 2 "$PERIMD" --fleet nats://127.0.0.1:1 --fleet-name 'a.b' || return 1
	# --fleet-creds: neither a credentials file nor a user seed; a damaged seed; an account seed.
	echo "user: gw1" >"$TMP/bad.creds"
	expect_exit 2 "$PERIMD" --fleet nats://127.0.0.1:1 --fleet-creds "$TMP/bad.creds" || return 1
	expect_match "$(cat "$TMP/last.err")" 'fleet-creds.*no user nkey seed' "a file without a seed" || return 1
	"$TOOLS/natsnkey" "$TMP/good.nk" >/dev/null || return 1
	local seed c
	seed=$(cat "$TMP/good.nk") c=A
	[ "${seed:20:1}" = A ] && c=B
	echo "${seed:0:20}$c${seed:21}" >"$TMP/damaged.nk"
	expect_exit 2 "$PERIMD" --fleet nats://127.0.0.1:1 --fleet-creds "$TMP/damaged.nk" || return 1
	expect_match "$(cat "$TMP/last.err")" 'checksum is wrong' "a damaged seed" || return 1
	expect_exit 2 "$PERIMD" --fleet nats://127.0.0.1:1 --fleet-creds "$TMP" || return 1
}

run_cases "$@"
