# shellcheck shell=bash
# libxdp multiprog cases: two programs in one dispatcher on a veth. The
# dispatcher side stays in the VM's root namespace, so libxdp's pins under
# /sys/fs/bpf are visible to every command (ip netns exec remounts /sys).

# xdp_veth: $T-x0 in the root namespace (10.77.0.1) <-> $T-x1 in namespace $T-peer.
xdp_veth() {
	mount_bpffs
	ns_add peer || return 1
	ip link add "$T-x0" type veth peer name "$T-x1" netns "$T-peer" || return 1
	on_cleanup "ip link del $T-x0"
	ip addr add 10.77.0.1/24 dev "$T-x0" && ip link set "$T-x0" up &&
		ip -n "$T-peer" addr add 10.77.0.2/24 dev "$T-x1" && ip -n "$T-peer" link set "$T-x1" up
}

# Sends one UDP datagram from the peer namespace to the root side.
xdp_send_udp() { in_ns peer bash -c 'echo ping > /dev/udp/10.77.0.1/9' ; }

# xdp_prog_id DEV NAME: the id of program NAME in DEV's xdp-loader status.
xdp_prog_id() {
	xdp-loader status "$1" | awk -v name="$2" '{ for (i = 1; i < NF; i++) if ($i == name && $(i + 1) ~ /^[0-9]+$/) { print $(i + 1); exit } }'
}

xdp_filter_pass_count() {
	xdp-filter status | awk '$1 == "XDP_PASS" { print $2; exit }'
}

vmxdp_hits() {
	bpftool -j map dump name vmxdp_hits 2>/dev/null | jq -r '.[0].formatted.value // .[0].value // 0'
}

# until_counter_above CMD MIN: await CMD's output exceeding MIN, sending traffic.
until_counter_above() {
	local v
	xdp_send_udp
	v=$($1)
	[ -n "$v" ] && [ "$v" -gt "$2" ]
}

case_xdp_dispatcher_two_programs() {
	local status
	xdp_veth || return 1
	xdp-filter load "$T-x0" -m native || fail "xdp-filter load" || return 1
	on_cleanup "xdp-filter unload $T-x0"
	xdp-loader load "$T-x0" -m native "$VM_OUT/xdp_count.bpf.o" || fail "xdp-loader load xdp_count" || return 1
	on_cleanup "xdp-loader unload $T-x0 --all"
	status=$(xdp-loader status "$T-x0")
	echo "$status"
	expect_match "$status" "xdp_dispatcher" "dispatcher" || return 1
	expect_match "$status" "xdpfilt_" "xdp-filter in the dispatcher" || return 1
	expect_match "$status" "vmxdp_count" "xdp_count in the dispatcher" || return 1
	local before
	before=$(xdp_filter_pass_count)
	wait_until 30 until_counter_above vmxdp_hits 0 || fail "xdp_count saw no packet" || return 1
	wait_until 30 until_counter_above xdp_filter_pass_count "${before:-0}" || fail "xdp-filter saw no packet" || return 1
	# Removing one program leaves the other attached.
	xdp-loader unload "$T-x0" --id "$(xdp_prog_id "$T-x0" vmxdp_count)" ||
		fail "unloading xdp_count" || return 1
	status=$(xdp-loader status "$T-x0")
	echo "$status"
	expect_match "$status" "xdpfilt_" "xdp-filter still attached" &&
		! grep -q vmxdp_count <<<"$status" || fail "xdp_count still listed"
}
