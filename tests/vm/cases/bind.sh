# shellcheck shell=bash
# The bind hook (tracers/lib/bind.h) on the VM kernels: it attaches on the
# syscall tracepoints and a UDP bind in the gateway's namespace arrives as a
# "bind" event with the port (the hook UDP drop attribution relies on).

case_perim_tracepoint_bind_event() {
	local port=$(( 20000 + RANDOM % 20000 ))
	perim_setup --events "$TMP/events.jsonl" || return 1
	[ "$(perim_status | jq -r '.hooks[] | select(.name == "bind") | .attached')" = true ] ||
		fail "bind hook not attached: $(perim_status | jq -c '.hooks[] | select(.name == "bind")')" || return 1
	cp "$(command -v python3)" "$TMP/$T-bind" || return 1
	in_ns gw "$TMP/$T-bind" -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(('0.0.0.0', $port))" ||
		fail "bind in the gw namespace failed" || return 1
	wait_until 30 perim_event_seen '"type":"bind"' "\"sport\":$port" || fail "no bind event for UDP port $port"
}
