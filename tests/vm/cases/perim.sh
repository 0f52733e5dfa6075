# shellcheck shell=bash
# perim on the guest kernel: the same .output/perimd and .output/perimctl the
# host built. Topology as in tests/integ: the perimeter NIC ${T}g in namespace
# $T-gw (10.77.0.1), its peer ${T}i in $T-inet (10.77.0.2). perimd and the
# xdp-tools commands run through in_netns (network namespace only), so they
# all see the same bpffs pins. Helpers: tests/lib/lib.sh.

# run.sh snapshots the binaries once into each kernel's results share, so every
# kernel runs the very same bytes even while the tree is being rebuilt.
if [ -x /tmp/perim-vm-results/bin/perimd ]; then
	PERIMD=/tmp/perim-vm-results/bin/perimd
	PERIMCTL=/tmp/perim-vm-results/bin/perimctl
fi

perim_require() {
	[ -x "$PERIMD" ] && [ -x "$PERIMCTL" ] || vm_skip "perimd/perimctl not built (.output/perimd, .output/perimctl)"
	command -v jq >/dev/null || vm_skip "jq not installed"
}

GW=${T}g
PEER=${T}i

# perim_setup [PERIMD OPTIONS...]: namespaces, veth, perimd running in gw;
# for a case listed shared=perimd (tests/vm/cases.list), fixture_perimd's,
# when it runs with the options asked for.
perim_setup() {
	perim_require
	[ -z "${PERIM_VM_FIXTURE_FAILED:-}" ] ||
		{ echo "the shared fixture was not set up:"; cat "$PERIM_VM_FIXTURE_FAILED"; return 1; }
	[ -z "${PERIM_VM_FIXTURE:-}" ] || { perim_use_fixture "$@"; return; }
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.77.0.1/24 inet "$PEER" 10.77.0.2/24 || return 1
	vm_perimd_start gw "$@"
}

# perim_fixture [PERIMD OPTIONS...]: perim_setup for the cases of a fixture
# (tests/vm/guest-tests.sh, --fixture), which must ask for these options.
perim_fixture() {
	FIXTURE_ARGS=$*
	FIXTURE_ARGS=${FIXTURE_ARGS//"$TMP"/@TMP@}
	perim_setup "$@"
}

# The cases that only watch perimd's hooks and events, and perim's XDP
# program beside xdp-filter.
fixture_perimd() { perim_fixture --events "$TMP/events.jsonl"; }

# perim_use_fixture [PERIMD OPTIONS...]: the fixture's perimd, socket, log and
# events (its namespaces are this case's: same $T); the options must be its.
perim_use_fixture() {
	local FIXTURE_TMP FIXTURE_PID FIXTURE_ARGS asked=$*
	# shellcheck disable=SC1090 # written by guest-tests.sh --fixture
	source "$PERIM_VM_FIXTURE"
	asked=${asked//"$TMP"/@TMP@}
	[ "$asked" = "$FIXTURE_ARGS" ] ||
		fail "the case asks perimd for '$asked', the shared one runs with '$FIXTURE_ARGS'" || return 1
	kill -0 "$FIXTURE_PID" 2>/dev/null ||
		{ fail "the shared perimd ($FIXTURE_PID) is gone:"; tail -n 20 "$FIXTURE_TMP/perimd.log"; return 1; }
	PERIMD_PID=$FIXTURE_PID SOCK=$FIXTURE_TMP/perimd.sock STATE=$FIXTURE_TMP/state
	ln -s "$FIXTURE_TMP/perimd.log" "$TMP/perimd.log" &&
		ln -s "$FIXTURE_TMP/events.jsonl" "$TMP/events.jsonl"
}

# lib.sh's perimd_start, with a bound fit for software emulation, where
# loading and verifying the BPF objects takes many times longer.
vm_perimd_start() {
	local ns=$1; shift
	mount_bpffs
	track_path "$PIN_ROOT"
	: > "$TMP/perimd.log"
	# nsenter execs perimd, so $! is perimd itself (a shell function in the
	# background would put a subshell in between and outlive a kill)
	nsenter --net="/run/netns/$T-$ns" "$PERIMD" --foreground --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		"$@" >>"$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	track_pid "$PERIMD_PID"
	# a perimd that exits (refusing to start) ends the wait at once
	if ! wait_until 180 perimd_settled "$PERIMD_PID" || ! grep -q 'perimd: ready' "$TMP/perimd.log"; then
		echo "perimd did not become ready:"; cat "$TMP/perimd.log"
		return 1
	fi
}

# perimd_settled PID: ready, or gone.
perimd_settled() { grep -q 'perimd: ready' "$TMP/perimd.log" || ! kill -0 "$1" 2>/dev/null; }

perim_status() { pctl -j status; }

# perim_hook_family REGEX: hooks of those families that perimd reports attached.
perim_hooks_attached() {
	perim_status | jq -r --arg re "$1" '.hooks[]? | select(.attached == true and (.family | test($re))) | .name'
}

expect_hook_family() {
	local status names
	status=$(perim_status) || fail "perimctl status failed" || return 1
	if [ "$(jq '.hooks | length' <<<"$status")" = 0 ] || [ "$(jq '.hooks' <<<"$status")" = null ]; then
		fail "perimctl status reports no hooks (tracers not attached by perimd): $status"
		echo "perimd's own messages:"
		grep -v "^{" "$TMP/perimd.log" | tail -n 40
		return 1
	fi
	names=$(perim_hooks_attached "$1")
	echo "attached ($1): $names"
	[ -n "$names" ] || fail "no $1 hook attached; hooks: $(jq -c '.hooks' <<<"$status")"
}

# A UDP datagram from the internet side to the gateway's port $1.
udp_to_gw() { in_ns inet bash -c "echo perim > /dev/udp/10.77.0.1/$1"; }

xdp_filter_passed() {
	in_netns gw xdp-filter status | awk '$1 == "XDP_PASS" { print $2; exit }'
}

perim_rx() { jstat "$GW" .counters.rx_packets; }

# grows CMD OLD: send one datagram, then CMD's value must exceed OLD.
grows() {
	local v
	udp_to_gw 9
	v=$($1)
	[ -n "$v" ] && [ "$v" != null ] && [ "$v" -gt "$2" ]
}

# perim and xdp-filter in one libxdp dispatcher on the perimeter NIC; both
# leave it when the case ends (the next case shares the NIC and perimd).
perim_with_xdp_filter() {
	in_netns gw xdp-filter load "$GW" -m native || fail "xdp-filter load" || return 1
	on_cleanup in_netns gw xdp-filter unload "$GW"
	pctl attach "$GW" mode native || fail "perimctl attach" || return 1
	on_cleanup pctl detach "$GW"
	local st
	st=$(in_netns gw xdp-loader status "$GW")
	echo "$st"
	expect_match "$st" xdp_dispatcher "dispatcher" &&
		expect_match "$st" xdpfilt_ "xdp-filter" &&
		expect_match "$st" perim_xdp "perim"
}

case_perim_daemon_starts() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	local status
	status=$(perim_status) || fail "perimctl -j status" || return 1
	echo "$status"
	expect_eq "$(jq -r .pid <<<"$status")" "$PERIMD_PID" "status pid" &&
		expect_eq "$(jq -r .btf.source <<<"$status")" kernel "BTF source"
}

case_perim_kprobe_hooks_attached() {
	perim_setup --events "$TMP/events.jsonl" && expect_hook_family '^(kprobe|fentry)$'
}
# The guard hooks attached without --guard-rules: no guard rail is active,
# nothing is refused or reported (an open, an exec, bpftool on perim's pins).
case_perim_lsm_hooks_attached() {
	perim_setup --events "$TMP/events.jsonl" && expect_hook_family '^lsm$' || return 1
	cp /bin/cat "$TMP/$T-free" || return 1
	"$TMP/$T-free" /etc/hostname >/dev/null || fail "open or exec refused without guard rules" || return 1
	bpftool map show pinned "$PIN_ROOT/perim_rules" || fail "bpftool refused perim's pin without guard rules" ||
		return 1
	wait_until 30 perim_event_seen exec "$T-free" || fail "no exec event for $T-free" || return 1
	! grep -F '"type":"guard"' "$TMP/events.jsonl" || fail "guard events without guard rules"
}
case_perim_tracepoint_hooks_attached() {
	perim_setup --events "$TMP/events.jsonl" && expect_hook_family '^tracepoint$'
}

# Real actions must show up in the event stream. The actions carry a unique
# name, so the match needs no knowledge of the event schema beyond the kind.
# perim_event_seen KIND-REGEX TOKEN: an event line with both.
perim_event_seen() { grep -F -- "$2" "$TMP/events.jsonl" | grep -qiE -- "$1"; }

case_perim_tracepoint_exec_event() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	expect_hook_family '^tracepoint$' || return 1
	cp /bin/true "$TMP/$T-exe" && "$TMP/$T-exe" || return 1
	wait_until 30 perim_event_seen exec "$T-exe" || fail "no exec event for $TMP/$T-exe"
}

case_perim_kprobe_unlink_event() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	expect_hook_family '^(kprobe|fentry)$' || return 1
	echo x > "$TMP/$T-victim" && rm "$TMP/$T-victim" || return 1
	wait_until 30 perim_event_seen unlink "$T-victim" || fail "no unlink event for $TMP/$T-victim"
}

case_perim_kprobe_creds_event() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	expect_hook_family '^(kprobe|fentry)$' || return 1
	cp "$(command -v setpriv)" "$TMP/$T-cred" || return 1
	"$TMP/$T-cred" --reuid=65534 --regid=65534 --clear-groups /bin/true || return 1
	wait_until 30 perim_event_seen 'cred|setid' "$T-cred" || fail "no credential event for $T-cred"
}

case_perim_tracepoint_connect_event() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	expect_hook_family '^tracepoint$' || return 1
	cp /bin/bash "$TMP/$T-conn" || return 1
	# A TCP connect to a closed port in the gw namespace: refused, but attempted.
	in_ns gw "$TMP/$T-conn" -c 'exec 3<>/dev/tcp/10.77.0.1/1' 2>/dev/null
	wait_until 30 perim_event_seen connect "$T-conn" || fail "no connect event for $T-conn"
}

case_perim_xdp_dispatcher_with_xdp_filter() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	perim_with_xdp_filter || return 1
	local status
	status=$(perim_status)
	expect_eq "$(jq -r --arg d "$GW" '.interfaces[] | select(.dev == $d) | .dispatcher' <<<"$status")" multiprog "perim's dispatcher"
}

case_perim_xdp_both_see_traffic() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	perim_with_xdp_filter || return 1
	local f0 p0
	f0=$(xdp_filter_passed); p0=$(perim_rx)
	wait_until 60 grows perim_rx "${p0:-0}" || fail "perim saw no packet" || return 1
	wait_until 60 grows xdp_filter_passed "${f0:-0}" || fail "xdp-filter saw no packet"
}

rule_dropped() { pctl -j stats "$GW" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .dropped_packets"; }

# A burst of datagrams at 10x a tiny limit: the rule's drop counter is awaited.
case_perim_xdp_limit_enforced() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	perim_with_xdp_filter || return 1
	local id
	id=$(pctl -j limit set "$GW" src 10.77.0.2/32 proto udp dport 5001 rate 1pps burst 1 | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	on_cleanup pctl limit del "$GW" "$id"
	burst() {
		in_ns inet bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo x > /dev/udp/10.77.0.1/5001; done'
		[ "$(rule_dropped "$id")" -gt 0 ] 2>/dev/null
	}
	wait_until 60 burst || fail "rule $id dropped nothing: $(pctl -j stats "$GW")" || return 1
	local dropped
	dropped=$(jstat "$GW" '.counters.dropped["rate-pps"].packets')
	[ "$dropped" -gt 0 ] 2>/dev/null || fail "interface rate-pps drops: $dropped"
}

case_perim_xdp_detach_leaves_xdp_filter() {
	perim_setup --events "$TMP/events.jsonl" || return 1
	perim_with_xdp_filter || return 1
	pctl detach "$GW" || fail "perimctl detach" || return 1
	local st
	st=$(in_netns gw xdp-loader status "$GW")
	echo "$st"
	expect_match "$st" xdpfilt_ "xdp-filter still attached" || return 1
	! grep -q perim_xdp <<<"$st" || fail "perim_xdp still attached"
	local f0
	f0=$(xdp_filter_passed)
	wait_until 60 grows xdp_filter_passed "${f0:-0}" || fail "xdp-filter saw no packet after perim left"
}

# BTF fallback: the kernel's own BTF hidden by configuration (--kernel-btf
# pointing nowhere). With a BTF file for this kernel (a copy of its own) perimd
# starts and traces; with none it refuses, naming what is missing.
case_btf_fallback_with_file() {
	perim_require
	cp /sys/kernel/btf/vmlinux "$TMP/kernel.btf" || return 1
	mkdir -p "$TMP/no-bundled"
	perim_setup --kernel-btf "$TMP/hidden-vmlinux" --btf "$TMP/kernel.btf" --btf-dir "$TMP/no-bundled" || return 1
	local status
	status=$(perim_status) || return 1
	expect_eq "$(jq -r .btf.source <<<"$status")" config "BTF source" &&
		expect_eq "$(jq -r .btf.path <<<"$status")" "$TMP/kernel.btf" "BTF path" &&
		expect_hook_family '^(tracepoint|kprobe|fentry|lsm)$'
}

case_btf_fallback_refuses_without() {
	perim_require
	mkdir -p "$TMP/no-bundled"
	mount_bpffs
	track_path "$PIN_ROOT"
	timeout 120 "$PERIMD" --foreground --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--kernel-btf "$TMP/hidden-vmlinux" --btf-dir "$TMP/no-bundled" > "$TMP/refuse.log" 2>&1
	local rc=$?
	cat "$TMP/refuse.log"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "perimd exit $rc, expected a refusal" || return 1
	grep -qF "no BTF for kernel $(uname -r)" "$TMP/refuse.log" || fail "no refusal naming kernel $(uname -r)"
}

# LSM guard rails in enforce mode: an exec under one prefix and an open under
# another are refused (EPERM) and reported as guard events; the same binary
# outside the prefix, and other files, are untouched.
guard_option() { "$PERIMD" --help 2>&1 | grep -oE -- '--guard[a-z-]*' | head -n1; }

case_perim_lsm_guard_enforce() {
	perim_require
	local opt
	opt=$(guard_option)
	[ -n "$opt" ] || fail "perimd --help lists no guard rules option: guard rails not configurable yet" || return 1
	mkdir -p "$TMP/$T-jail" && cp /bin/true "$TMP/$T-jail/true" && echo secret > "$TMP/$T-secret" &&
		echo public > "$TMP/$T-public" || return 1
	printf 'exec %s/ enforce\nopen %s enforce\n' "$TMP/$T-jail" "$TMP/$T-secret" > "$TMP/guard.rules"
	perim_setup --events "$TMP/events.jsonl" "$opt" "$TMP/guard.rules" || return 1
	expect_hook_family '^lsm$' || return 1
	"$TMP/$T-jail/true" 2>"$TMP/exec.err" && fail "exec under the guarded prefix was allowed" && return 1
	expect_match "$(cat "$TMP/exec.err")" "Operation not permitted" "exec refusal" || return 1
	cat "$TMP/$T-secret" 2>"$TMP/open.err" && fail "open of the guarded file was allowed" && return 1
	expect_match "$(cat "$TMP/open.err")" "Operation not permitted" "open refusal" || return 1
	/bin/true || fail "exec outside the guarded prefix was refused" || return 1
	cat "$TMP/$T-public" >/dev/null || fail "open of another file was refused" || return 1
	wait_until 30 perim_event_seen '"guard"' "$T-jail" || fail "no guard event for the exec" || return 1
	wait_until 30 perim_event_seen '"guard"' "$T-secret" || fail "no guard event for the open"
}
