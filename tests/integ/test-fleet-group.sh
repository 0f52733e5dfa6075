#!/bin/bash
# Group rulesets over a real NATS JetStream server (topology: tests/lib/fleet.sh):
# three gateways of one group, whose perimeter NICs share one name (a group
# ruleset names its NIC), get a ruleset with `fleet apply`; spoofed floods from
# the inet namespace prove what each one enforces.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/fleet.sh"

GW_DEV=${T}p
GROUP=edge-$T

# ---- helpers ----

group_setup() {
	local n=${1:-3} i
	hub_setup && ns_add inet || return 1
	for i in $(seq "$n"); do gw_net "$i" || return 1; done
	nats_start nats || return 1
	for i in $(seq "$n"); do gw_start "$i" -v --fleet "$(fleet_url)" --fleet-group "$GROUP" || return 1; done
	for i in $(seq "$n"); do wait_until 10 fleet_connected "$i" || { fail "gw$i not connected"; return 1; }; done
}

# ruleset FILE LINE...: a ruleset file of these lines
ruleset() { local f=$1; shift; printf '%s\n' "$@" >"$f"; }

# The first revision: a deny and a limit.
ruleset_one() {
	ruleset "$TMP/r1" "# group $GROUP, revision one" "deny add $GW_DEV 203.0.113.0/24" \
		"limit set $GW_DEV src 198.51.100.0/24 rate 10pps aggregate"
}

# publish FILE: fleet apply at gw1; the revision it names in $REV
publish() {
	expect_exit 0 gctl 1 -j fleet apply "$GROUP" "$1" || return 1
	REV=$(jq -r .revision "$TMP/last.out")
	[ "$REV" -gt 0 ] 2>/dev/null || fail "fleet apply named no revision: $(cat "$TMP/last.out")"
}

group_rev() { status_of "$1" group_revision; }
group_at() { [ "$(group_rev "$1")" = "$2" ]; }

drops_of() { gctl "$1" -j stats "$GW_DEV" | jq -r ".interfaces[0].counters.dropped[\"$2\"].packets // 0"; }

# dropped_as I SRC REASON [COUNT]: a flood of COUNT (20) from SRC raises gateway I's REASON count by COUNT
dropped_as() {
	local before n=${4:-20}
	before=$(drops_of "$1" "$3")
	flood "$1" "$2" "$n"
	[ "$(drops_of "$1" "$3")" -ge $(( before + n )) ]
}

# rate_limited I: 200 packets at 2,000 pps from the limited prefix: most are dropped as rate-pps
rate_limited() {
	local before
	before=$(drops_of "$1" rate-pps)
	flood "$1" 198.51.100.0/24 200
	[ "$(drops_of "$1" rate-pps)" -ge $(( before + 100 )) ]
}

# not_denied I SRC: a flood from SRC is not dropped as deny
not_denied() {
	local before
	before=$(drops_of "$1" deny)
	flood "$1" "$2" 20
	[ "$(drops_of "$1" deny)" -eq "$before" ]
}

# gateway_rev GROUP-LISTING NAME: the revision fleet gateways shows for NAME
listed_rev() { gctl 1 -j fleet gateways "$GROUP" | jq -r --arg n "$1" '.gateways[] | select(.name == $n) | .revision'; }
listed_at() { [ "$(listed_rev "$1")" = "$2" ]; }

# ---- cases ----

# fleet apply at one gateway: all three enforce the deny and the limit with
# real packets, run the same configuration, and report the revision.
case_group_apply_enforced_everywhere() {
	group_setup || return 1
	local i
	ruleset_one
	publish "$TMP/r1" || return 1
	for i in 1 2 3; do
		wait_until 2 group_at "$i" "$REV" || { fail "gw$i runs revision $(group_rev "$i"), not $REV"; return 1; }
	done
	for i in 1 2 3; do
		dropped_as "$i" 203.0.113.0/24 deny || { fail "gw$i does not drop the denied prefix"; return 1; }
		rate_limited "$i" || { fail "gw$i does not rate-limit 198.51.100.0/24"; return 1; }
		not_denied "$i" 192.0.2.0/24 || { fail "gw$i denies a prefix the ruleset does not name"; return 1; }
	done
	for i in 1 2 3; do
		expect_eq "$(sed '1,4d;$d' "$GW_STATE_DIR/gw$i.state.group")" "$(cat "$TMP/r1")" \
			"the ruleset gw$i recorded beside its state file" || return 1
	done
	expect_eq "$(gctl 2 show)" "$(gctl 1 show)" "show on gw2 vs gw1" || return 1
	expect_eq "$(gctl 3 show)" "$(gctl 1 show)" "show on gw3 vs gw1" || return 1
	for i in 1 2 3; do
		wait_until 2 listed_at "gw$i" "$REV" || { fail "fleet gateways: gw$i not at $REV"; return 1; }
	done
	expect_eq "$(gctl 1 -j fleet gateways "$GROUP" | jq -r .bucket_revision)" "$REV" "bucket revision" || return 1
	expect_exit 0 gctl 2 fleet status --group "$GROUP" || return 1
	expect_match "$(cat "$TMP/last.out")" "^gw3 +$REV " "fleet status --group" || return 1
	expect_exit 0 gctl 3 fleet status || return 1
	expect_match "$(cat "$TMP/last.out")" "group revision $REV running" "fleet status" || return 1
	grep -q "group $GROUP revision $REV applied" "$TMP/gw3.log" || { fail "gw3 did not log the apply"; return 1; }
}

# A bad line is refused where fleet apply runs (exit 2, FILE:LINE, the token), nothing is
# published; a bad revision written past perimctl is refused by every gateway, which keeps
# enforcing the previous one and reports the refusal.
case_bad_ruleset_refused() {
	group_setup 2 || return 1
	local i
	ruleset_one
	publish "$TMP/r1" || return 1
	local good=$REV
	ruleset "$TMP/bad" "deny add $GW_DEV 192.0.2.0/24" "limit set $GW_DEV src 10.0.0.0/8 rate 10furlongs"
	expect_exit 2 gctl 1 fleet apply "$GROUP" "$TMP/bad" || return 1
	expect_match "$(cat "$TMP/last.err")" "^$TMP/bad:2: .*\"10furlongs\"" "the refusal" || return 1
	expect_exit 0 gctl 1 fleet apply "$GROUP" "$TMP/r1" --check || return 1
	expect_match "$(cat "$TMP/last.out")" "not published" "--check" || return 1
	expect_eq "$(gctl 1 -j fleet gateways "$GROUP" | jq -r .bucket_revision)" "$good" "bucket revision after refusals" || return 1
	# Past perimctl: a NIC no gateway has (line 2), after a deny that must not take effect alone.
	in_ns hub "$TOOLS/natskv" "$(fleet_url)" put perim-rulesets "$GROUP" \
		"$(printf 'deny add %s 192.0.2.0/24\ndeny add nosuchnic0 10.0.0.0/8\n' "$GW_DEV")" || return 1
	for i in 1 2; do
		wait_until 2 status_above "$i" group_refusals 0 || { fail "gw$i did not refuse"; return 1; }
		expect_eq "$(group_rev "$i")" "$good" "gw$i's revision after a refusal" || return 1
		expect_match "$(status_of "$i" group_error)" "nosuchnic0" "gw$i's refusal" || return 1
		grep -q "group ruleset perim-rulesets/$GROUP revision $(( good + 1 )) refused, still running revision $good" \
			"$TMP/gw$i.log" || { fail "gw$i's log does not name the key and revision"; return 1; }
		not_denied "$i" 192.0.2.0/24 || { fail "gw$i half-applied the refused revision"; return 1; }
		dropped_as "$i" 203.0.113.0/24 deny || { fail "gw$i lost the previous revision"; return 1; }
	done
	wait_until 2 eval '[ "$(gctl 1 -j fleet gateways "$GROUP" | jq -r ".gateways[] | select(.name == \"gw2\") | .refused_revision")" = $(( good + 1 )) ]' ||
		{ fail "fleet gateways does not show gw2's refusal"; return 1; }
}

# A revision that arrives while a local change awaits confirmation is refused (exit 1 in the
# apply path), then applied once the change is confirmed, without a new revision.
case_revision_waits_for_a_pending_confirm() {
	group_setup 1 || return 1
	expect_exit 0 gctl 1 allow add "$GW_DEV" 10.1.0.0/16 --confirm 60 || return 1
	ruleset_one
	publish "$TMP/r1" || return 1
	wait_until 2 status_above 1 group_refusals 0 || { fail "the revision was not refused"; return 1; }
	expect_match "$(status_of 1 group_error)" "awaits confirmation" "the refusal" || return 1
	expect_eq "$(group_rev 1)" 0 "revision while refused" || return 1
	expect_exit 0 gctl 1 confirm || return 1
	wait_until 7 group_at 1 "$REV" || { fail "the refused revision was not retried after confirm"; return 1; }
	expect_eq "$(status_of 1 group_error)" null "the refusal after the retry" || return 1
	dropped_as 1 203.0.113.0/24 deny
}

# A gateway stopped while a new revision is published converges when it restarts.
case_stopped_gateway_converges() {
	group_setup || return 1
	ruleset_one
	publish "$TMP/r1" || return 1
	wait_until 2 group_at 3 "$REV" || return 1
	gw_stop 3
	ruleset "$TMP/r2" "deny add $GW_DEV 192.0.2.0/24" "limit set $GW_DEV src 198.51.100.0/24 rate 10pps aggregate"
	publish "$TMP/r2" || return 1
	wait_until 2 group_at 1 "$REV" || return 1
	gw_start 3 --fleet "$(fleet_url)" --fleet-group "$GROUP" || return 1
	wait_until 5 group_at 3 "$REV" || { fail "gw3 runs revision $(group_rev 3), not $REV"; return 1; }
	expect_eq "$(gctl 3 show)" "$(gctl 1 show)" "show on gw3 vs gw1" || return 1
	dropped_as 3 192.0.2.0/24 deny || { fail "gw3 does not enforce the new revision"; return 1; }
	not_denied 3 203.0.113.0/24 || { fail "gw3 kept the old revision's deny"; return 1; }
	wait_until 2 listed_at gw3 "$REV" || { fail "gw3's report is not at $REV"; return 1; }
}

# NATS gone: a gateway restarted keeps enforcing the last revision it applied and says which.
case_nats_down_keeps_last_revision() {
	group_setup 1 || return 1
	ruleset_one
	publish "$TMP/r1" || return 1
	wait_until 2 group_at 1 "$REV" || return 1
	local before
	before=$(gctl 1 show)
	nats_kill
	gw_stop 1
	gw_start 1 -v --fleet "$(fleet_url)" --fleet-group "$GROUP" || return 1
	expect_eq "$(status_of 1 connected)" false "connected with NATS down" || return 1
	expect_eq "$(group_rev 1)" "$REV" "revision after a restart without NATS" || return 1
	expect_eq "$(gctl 1 show)" "$before" "show after the restart" || return 1
	dropped_as 1 203.0.113.0/24 deny || { fail "the deny is gone after the restart"; return 1; }
	rate_limited 1 || { fail "the limit is gone after the restart"; return 1; }
	nats_start nats || return 1
	wait_until 10 fleet_connected 1 || { fail "gw1 did not reconnect"; return 1; }
	ruleset "$TMP/r2" "deny add $GW_DEV 192.0.2.0/24"
	publish "$TMP/r2" || return 1
	wait_until 2 group_at 1 "$REV" || { fail "gw1 did not take the revision published after NATS came back"; return 1; }
	dropped_as 1 192.0.2.0/24 deny || { fail "gw1 does not enforce revision $REV"; return 1; }
}

# The README's gateway permissions (tests/lib/fleet.sh): a gateway account applies and reports,
# and cannot publish a ruleset.
write_auth_conf() {
	cat >"$TMP/auth.conf" <<-CONF
	authorization {
	  users = [
	    { user: operator, password: opsecret }
	    { user: gw2, password: gwsecret, $(account_permissions group_gateway gw2 "$GROUP") }
	  ]
	}
	CONF
}

case_gateway_account_applies_but_cannot_publish() {
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 || return 1
	write_auth_conf
	nats_start nats -c "$TMP/auth.conf" || return 1
	gw_start 1 -v --fleet "nats://operator:opsecret@$HUB:$NATS_PORT" --fleet-group "$GROUP" || return 1
	wait_until 10 fleet_connected 1 || return 1
	ruleset_one
	publish "$TMP/r1" || return 1
	gw_start 2 -v --fleet "nats://gw2:gwsecret@$HUB:$NATS_PORT" --fleet-group "$GROUP" || return 1
	wait_until 10 fleet_connected 2 || return 1
	wait_until 5 group_at 2 "$REV" || { fail "the gateway account did not apply revision $REV"; return 1; }
	wait_until 5 listed_at gw2 "$REV" || { fail "the gateway account's report is missing"; return 1; }
	dropped_as 2 203.0.113.0/24 deny || return 1
	ruleset "$TMP/r2" "deny add $GW_DEV 192.0.2.0/24"
	expect_exit 1 gctl 2 fleet apply "$GROUP" "$TMP/r2" || return 1
	expect_match "$(cat "$TMP/last.err")" "not published" "a gateway's fleet apply" || return 1
	expect_eq "$(gctl 1 -j fleet gateways "$GROUP" | jq -r .bucket_revision)" "$REV" "the bucket's revision" || return 1
	expect_eq "$(group_rev 2)" "$REV" "gw2's revision"
}

# fleet gateways with exactly the README's permissions of a group's operator (gw1; a gateway of
# the group itself, where fleet apply is checked): the reports and the group's revision, read by
# direct get. The same without the direct-get subject (gw3): a clear error in bounded time.
case_gateways_with_operator_permissions() {
	local t0 ms
	hub_setup && ns_add inet && gw_net 1 && gw_net 2 && gw_net 3 || return 1
	cat >"$TMP/auth.conf" <<-CONF
	authorization {
	  users = [
	    { user: admin, password: adminsecret }
	    { user: gw1, password: s1, $(account_permissions group_operator gw1 "$GROUP") }
	    { user: gw2, password: s2, $(account_permissions group_gateway gw2 "$GROUP") }
	    { user: gw3, password: s3, $(account_permissions group_operator gw3 "$GROUP" | sed 's/, "[$]JS.API.DIRECT.GET[^"]*"//') }
	  ]
	}
	CONF
	[ "$(grep -c 'DIRECT.GET' "$TMP/auth.conf")" = 1 ] ||
		{ fail "the direct-get subject is not in gw1's permissions only"; return 1; }
	nats_start nats -c "$TMP/auth.conf" || return 1
	# No one here may create perim-gateways: the operator creates it beforehand (README).
	in_ns hub "$TOOLS/natskv" "nats://admin:adminsecret@$HUB:$NATS_PORT" add perim-gateways || return 1
	for i in 1 2 3; do
		gw_start "$i" -v --fleet "nats://gw$i:s$i@$HUB:$NATS_PORT" --fleet-group "$GROUP" || return 1
	done
	for i in 1 2 3; do wait_until 10 fleet_connected "$i" || { fail "gw$i not connected"; return 1; }; done
	ruleset_one
	publish "$TMP/r1" || return 1
	for i in 1 2 3; do wait_until 5 group_at "$i" "$REV" || { fail "gw$i did not apply revision $REV"; return 1; }; done
	for i in 1 2 3; do
		wait_until 5 listed_at "gw$i" "$REV" || { fail "fleet gateways: gw$i not at $REV"; return 1; }
	done
	expect_eq "$(gctl 1 -j fleet gateways "$GROUP" | jq -r .bucket_revision)" "$REV" "the group's revision" || return 1
	t0=$(date +%s%N)
	expect_exit 1 gctl 3 fleet gateways "$GROUP" || return 1
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "fleet gateways without direct get: refused in $ms ms: $(cat "$TMP/last.err")"
	# shellcheck disable=SC2016 # a regex matching a literal $
	expect_match "$(cat "$TMP/last.err")" \
		'revision.*Permissions Violation for Publish to "\$JS\.API\.DIRECT\.GET\.KV_perim-rulesets' \
		"fleet gateways without direct get" || return 1
	expect_range "$ms" 0 5000 "ms until fleet gateways fails" || return 1
	expect_exit 0 gctl 3 status || { fail "gw3's perimd does not answer after the refusal"; return 1; }
}

case_bad_input() {
	expect_exit 2 "$PERIMCTL" fleet apply || return 1
	expect_exit 2 "$PERIMCTL" fleet apply 'a.b' /dev/null || return 1
	expect_exit 2 "$PERIMCTL" fleet apply edge || return 1
	expect_exit 2 "$PERIMCTL" fleet apply edge f1 f2 || return 1
	expect_exit 2 "$PERIMCTL" fleet apply edge f1 --force || return 1
	expect_exit 2 "$PERIMCTL" fleet gateways || return 1
	expect_exit 2 "$PERIMCTL" fleet status --group || return 1
	expect_exit 2 "$PERIMCTL" fleet apply edge "$TMP/missing" || return 1
	expect_match "$(cat "$TMP/last.err")" "missing" "a missing file" || return 1
}

run_cases "$@"
