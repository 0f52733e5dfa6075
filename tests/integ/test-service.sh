#!/bin/bash
# perimd as a systemd service, as far as this host allows (PID 1 is not
# systemd here; the VM tier boots one): the sd_notify conversation a unit of
# Type=notify sees (STATUS= while starting, READY=1 only once the socket
# answers, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM), and what
# SIGHUP (ExecReload) re-reads from the config: verbosity and the events file
# take effect, restart-only options are refused with a log line, a bad config
# changes nothing.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g

# A stand-in for systemd's notify socket: every datagram becomes one line of
# $TMP/notify.log, its newlines turned into "|".
notify_listen() {
	NOTIFY=$TMP/notify.sock
	track_path "$NOTIFY"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
while True:
    log.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$NOTIFY" "$TMP/notify.log" &
	track_pid $!
	wait_until 5 test -S "$NOTIFY"
}

# Cases share $TMP: each starts without the files an earlier one left.
setup() {
	rm -f "$STATE" "$TMP"/ev*.json "$TMP"/notify.* "$TMP/other.sock"
	ns_add gw || return 1
	ip -n "$T-gw" link add "$GW" type veth peer name "${GW}p" && ip -n "$T-gw" link set "$GW" up &&
		ip -n "$T-gw" link set "${GW}p" up
}

# perimd with $TMP/perimd.conf as its only option source beside the test's paths.
start_with_config() {
	: > "$TMP/notify.log"
	NOTIFY_SOCKET=$NOTIFY perimd_start gw --config "$TMP/perimd.conf"
}

notified() { grep -q -- "$1" "$TMP/notify.log"; }

case_notify_status_then_ready_then_stopping() {
	local ready_line status_line
	setup && notify_listen || return 1
	printf 'interface %s\nevents /dev/null\n' "$GW" > "$TMP/perimd.conf"
	start_with_config || return 1
	wait_until 5 notified '^READY=1$' || fail "no READY=1: $(cat "$TMP/notify.log")" || return 1
	# STATUS lines come before READY=1 while it starts, and one after says what it serves.
	status_line=$(grep -n '^STATUS=loading the datapath' "$TMP/notify.log" | cut -d: -f1)
	ready_line=$(grep -n '^READY=1$' "$TMP/notify.log" | head -n 1 | cut -d: -f1)
	[ -n "$status_line" ] && [ "$status_line" -lt "$ready_line" ] ||
		fail "STATUS before READY: $(cat "$TMP/notify.log")" || return 1
	wait_until 5 notified '^STATUS=enforcing on 1 interface, tracing$' ||
		fail "status after ready: $(cat "$TMP/notify.log")" || return 1
	kill -TERM "$PERIMD_PID"
	wait_until 10 notified '^STOPPING=1|STATUS=stopping; the datapath stays attached$' ||
		fail "no STOPPING=1: $(cat "$TMP/notify.log")" || return 1
	wait "$PERIMD_PID"
	# The stop left the program on the NIC.
	expect_match "$(ip -n "$T-gw" link show dev "$GW")" 'prog/xdp' "XDP still attached after the stop"
}

# READY=1 is sent only when perimctl can already talk to perimd: a client
# woken by it (systemctl start returns then) never finds the socket missing.
case_ready_only_once_the_socket_answers() {
	setup && notify_listen || return 1
	printf 'events /dev/null\n' > "$TMP/perimd.conf"
	: > "$TMP/notify.log"
	# The listener replies to nothing; perimctl is run at the moment READY=1 is logged.
	NOTIFY_SOCKET=$NOTIFY nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" \
		--pin-root "$PIN_ROOT" --state "$STATE" --config "$TMP/perimd.conf" > "$TMP/perimd.log" 2>&1 &
	PERIMD_PID=$!
	track_pid "$PERIMD_PID"
	track_path "$PIN_ROOT"
	wait_until 30 notified '^READY=1$' || fail "no READY=1" || return 1
	pctl status > /dev/null || fail "perimctl status right after READY=1 failed" || return 1
}

case_sighup_applies_verbosity_and_events_file() {
	setup && notify_listen || return 1
	printf 'events %s\n' "$TMP/ev1.json" > "$TMP/perimd.conf"
	start_with_config || return 1
	printf 'events %s\nverbose\n' "$TMP/ev2.json" > "$TMP/perimd.conf"
	: > "$TMP/notify.log"
	kill -HUP "$PERIMD_PID"
	wait_until 10 grep -q 'SIGHUP: config re-read' "$TMP/perimd.log" ||
		fail "no info line after SIGHUP (verbose not applied): $(tail -n 5 "$TMP/perimd.log")" || return 1
	wait_until 5 notified '^READY=1|STATUS=' || fail "no READY=1 after the reload" || return 1
	expect_match "$(head -n 1 "$TMP/notify.log")" '^RELOADING=1' "RELOADING=1 first" || return 1
	# A process started now lands in the new file, not in the old one.
	: > "$TMP/ev1.json"
	/bin/true "perim-$T-marker"
	wait_until 10 grep -q "perim-$T-marker" "$TMP/ev2.json" ||
		fail "exec event not in the new events file" || return 1
	! grep -q "perim-$T-marker" "$TMP/ev1.json" || fail "exec event still in the old file"
}

case_sighup_refuses_restart_only_options() {
	setup && notify_listen || return 1
	printf 'events /dev/null\n' > "$TMP/perimd.conf"
	start_with_config || return 1
	printf 'events /dev/null\nsocket %s\ninterface %s\nsrc-buckets 4096\ndrop-sample-rate 5000\n' "$TMP/other.sock" "$GW" > "$TMP/perimd.conf"
	kill -HUP "$PERIMD_PID"
	# drop-sample-rate is the last option refused (reload.c)
	wait_until 10 grep -q '"drop-sample-rate" changed' "$TMP/perimd.log" || fail "no refusal: $(cat "$TMP/perimd.log")" || return 1
	for opt in socket interface src-buckets; do
		expect_match "$(cat "$TMP/perimd.log")" "SIGHUP: \"$opt\" changed: it needs a restart, not applied" "$opt refused" || return 1
	done
	# Nothing of it applied: the old socket answers, no new one, nothing attached.
	[ ! -e "$TMP/other.sock" ] || fail "a socket at the new path" || return 1
	expect_eq "$(pctl -j status | jq '.interfaces | length')" 0 "interfaces attached" &&
	expect_eq "$(pctl -j status | jq '.drop_samples.rate')" 1000 "drop sample rate" || return 1
}

case_sighup_with_a_bad_config_changes_nothing() {
	setup && notify_listen || return 1
	printf 'events %s\n' "$TMP/ev1.json" > "$TMP/perimd.conf"
	start_with_config || return 1
	printf 'events %s\nbogus-option 1\n' "$TMP/ev2.json" > "$TMP/perimd.conf"
	kill -HUP "$PERIMD_PID"
	wait_until 10 grep -q 'config not re-read' "$TMP/perimd.log" || fail "bad config not reported" || return 1
	expect_match "$(cat "$TMP/perimd.log")" 'bogus-option' "the bad option named" || return 1
	/bin/true "perim-$T-marker"
	wait_until 10 grep -q "perim-$T-marker" "$TMP/ev1.json" || fail "events left the old file" || return 1
	[ ! -e "$TMP/ev2.json" ] || fail "the bad config's events file was opened"
}

run_cases "$@"
