#!/bin/bash
# Sampled XDP drops as "xdp_drop" events, attributed to the local process
# listening on the destination port (ctl/perimd/procs/listeners.h): a real TCP
# listener in the gateway's namespace, a denied source sending it SYNs, and
# the events naming the listener's pid and comm; null where nobody listens;
# a new process on the same port takes over; a listener from before perimd
# started is known from /proc. UDP alike: a process that binds a UDP port
# after perimd started (known from its bind event), over IPv4 and IPv6, one
# from before perimd (from /proc/net/udp), and forgotten once it closed.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet
EV=$TMP/events.json
PORT=$(( 20000 + RANDOM % 20000 ))
EARLY_PORT=$(( PORT + 1 ))
CLOSED_PORT=$(( PORT + 2 ))
UDP_PORT=$(( PORT + 3 ))
EARLY_UDP_PORT=$(( PORT + 4 ))
DENIED=10.221.0.0/24
DENIED6=2001:db8:221::/48
LIMITED=10.222.0.0/24        # not denied: a UDP rate limit drops its flood

find_event() { jq -c "select($1)" "$EV" 2>/dev/null | head -n 1; }
has_event() { [ -n "$(find_event "$1")" ]; }
await_event() {
	wait_until 10 has_event "$1" || { fail "no event matching: $1"; return 1; }
	find_event "$1"
}
field() { jq -r "$1" <<<"$2"; }

# listen NAME PORT: a tcplisten in the gateway's namespace; its pid in LISTEN_PID,
# its port in LISTEN_PORT (PORT 0: the kernel chooses it).
# (nsenter, not the in_netns function: $! is then the listener itself.)
listen() {
	local ready=$TMP/$1.pid
	rm -f "$ready"
	nsenter --net="/run/netns/$T-gw" "$TOOLS/tcplisten" --port "$2" --ready-file "$ready" >"$TMP/$1.log" 2>&1 &
	track_pid $!
	wait_until 5 test -s "$ready" || { fail "listener $1 did not start: $(cat "$TMP/$1.log")"; return 1; }
	read -r LISTEN_PID LISTEN_PORT <"$ready"
	LISTEN_PORT=${LISTEN_PORT:-$2}
	track_pid "$LISTEN_PID"
}

# listening PID PORT: perimd has seen PID's LISTEN on PORT (it updates its table before publishing).
await_listening() {
	await_event ".type==\"sock_state\" and .pid==$1 and .new_state==\"LISTEN\" and .flow.sport==$2" >/dev/null
}

# syns SRC PORT [--udp]: a burst from a denied source to the gateway.
syns() {
	local mode=--tcp-syn
	[ "${3:-}" = --udp ] && mode=
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.79.0.1 --src "$1" \
		--port "$2" --rate 200 --count 40 $mode >/dev/null
}

drop_to() { echo ".type==\"xdp_drop\" and .flow.dport==$1 and .flow.src==\"$2\""; }

# udp_bind NAME PORT FAMILY: a udpflood receiver bound to PORT in the gateway's
# namespace; its pid in BOUND_PID. (nsenter execs it: $! is the process that binds.)
udp_bind() {
	nsenter --net="/run/netns/$T-gw" "$TOOLS/udpflood" recv --port "$2" --count-file "$TMP/$1.count" \
		--family "$3" >"$TMP/$1.log" 2>&1 &
	BOUND_PID=$!
	track_pid "$BOUND_PID"
}

# await_bound PID PORT: perimd has seen PID bind PORT (it updates its table before publishing).
await_bound() {
	await_event ".type==\"bind\" and .pid==$1 and .flow.sport==$2 and .result==0" >/dev/null
}

# udp_flood SRC DST PORT: 40 datagrams at 200/s to the gateway.
udp_flood() {
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst "$2" --src "$1" \
		--port "$3" --rate 200 --count 40 >/dev/null
}

# expect_udp_listener EVENT PID: the drop is attributed to the udpflood receiver PID.
expect_udp_listener() {
	expect_eq "$(field .listener.pid "$1")" "$2" "listener pid" &&
	expect_eq "$(field .listener.comm "$1")" udpflood "listener comm" &&
	expect_eq "$(field .listener.exe "$1")" "$(readlink "/proc/$2/exe")" "listener exe" &&
	expect_match "$(field '.listener.argv | join(" ")' "$1")" "recv --port $UDP_PORT|recv --port $EARLY_UDP_PORT" "listener argv" &&
	expect_eq "$(field .flow.proto "$1")" udp "proto"
}

case_drop_names_the_listener() {
	local pid ev
	listen web "$PORT" || return 1
	pid=$LISTEN_PID
	await_listening "$pid" "$PORT" || return 1
	syns 10.221.0.1 "$PORT" || return 1
	ev=$(await_event "$(drop_to "$PORT" 10.221.0.1)") || return 1
	expect_eq "$(field .listener.pid "$ev")" "$pid" "listener pid" &&
	expect_eq "$(field .listener.comm "$ev")" tcplisten "listener comm" &&
	expect_eq "$(field .listener.exe "$ev")" "$(readlink -f "$TOOLS/tcplisten")" "listener exe" &&
	expect_eq "$(field .listener.user "$ev")" root "listener user" &&
	expect_match "$(field '.listener.argv | join(" ")' "$ev")" "--port $PORT" "listener argv" &&
	expect_eq "$(field .dev "$ev")" "$GW" "dev" &&
	expect_eq "$(field .reason "$ev")" deny "reason" &&
	expect_eq "$(field .flow.proto "$ev")" tcp "proto" &&
	expect_eq "$(field .flow.family "$ev")" ipv4 "family" &&
	expect_eq "$(field .flow.dst "$ev")" 10.79.0.1 "dst" &&
	expect_range "$(field .flow.sport "$ev")" 40000 40999 "sport" &&
	# A sample's weight counts the drops since its CPU's last sample: drops an earlier
	# case's flood left pending on that CPU are in it too, so the bound is all deny drops.
	expect_range "$(field .weight "$ev")" 1 "$(pctl -j stats "$GW" | jq '.interfaces[0].counters.dropped.deny.packets')" "weight"
}

# perimctl top names, per source, the local process its drops were aimed at.
case_top_names_the_process_aimed_at() {
	local pid row
	listen topweb "$((PORT + 5))" || return 1
	pid=$LISTEN_PID
	await_listening "$pid" "$((PORT + 5))" || return 1
	syns 10.221.0.9 "$((PORT + 5))" || return 1
	await_event "$(drop_to "$((PORT + 5))" 10.221.0.9)" >/dev/null || return 1
	row=$(pctl -j top "$GW" --once | jq -c '.sources[] | select(.src == "10.221.0.9")')
	expect_eq "$(field .dst "$row")" 10.79.0.1 "top: dst" &&
	expect_eq "$(field .target.pid "$row")" "$pid" "top: target pid" &&
	expect_eq "$(field .target.comm "$row")" tcplisten "top: target comm" || return 1
	expect_match "$(pctl top "$GW" --once | grep -F ' 10.221.0.9 ')" "tcplisten\\[$pid\\]\$" "top's table: AIMED AT"
}

case_drop_without_listener_is_null() {
	local ev
	syns 10.221.0.2 "$CLOSED_PORT" || return 1
	ev=$(await_event "$(drop_to "$CLOSED_PORT" 10.221.0.2)") || return 1
	expect_eq "$(field .listener "$ev")" null "listener"
}

# A TCP listener does not take UDP to its port.
case_udp_drop_to_a_tcp_port_has_no_listener() {
	local ev
	syns 10.221.0.6 "$EARLY_PORT" --udp || return 1
	ev=$(await_event "$(drop_to "$EARLY_PORT" 10.221.0.6)") || return 1
	expect_eq "$(field .flow.proto "$ev")" udp "proto" &&
	expect_eq "$(field .listener "$ev")" null "listener"
}

# A process binds a UDP port after perimd started; a rate limit drops a flood to
# it: the drops name it. Once it exits, drops to the port name nobody.
case_udp_limit_drop_names_the_bound_process() {
	local pid id ev
	udp_bind udp "$UDP_PORT" 4
	pid=$BOUND_PID
	await_bound "$pid" "$UDP_PORT" || return 1
	id=$(pctl -j limit set "$GW" src "$LIMITED" proto udp dport "$UDP_PORT" rate 10pps burst 5 | jq -r .id) ||
		{ fail "limit set"; return 1; }
	on_cleanup pctl limit del "$GW" "$id"
	udp_flood 10.222.0.1 10.79.0.1 "$UDP_PORT" || return 1
	ev=$(await_event "$(drop_to "$UDP_PORT" 10.222.0.1)") || return 1
	expect_udp_listener "$ev" "$pid" &&
	expect_eq "$(field .reason "$ev")" rate-pps "reason" &&
	expect_eq "$(field .flow.family "$ev")" ipv4 "family" || return 1
	kill "$pid"
	wait_until 5 eval "! kill -0 $pid 2>/dev/null" || { fail "receiver $pid did not exit"; return 1; }
	# perimd re-checks a UDP entry against /proc/net/udp at most once a second: a burst per try.
	wait_until 10 eval 'udp_flood 10.222.0.2 10.79.0.1 "$UDP_PORT"; has_event "$(drop_to "$UDP_PORT" 10.222.0.2) and .listener==null"' ||
		{ fail "drops still attributed after the socket closed: $(find_event "$(drop_to "$UDP_PORT" 10.222.0.2)")"; return 1; }
}

# IPv6: a [::] receiver (dual stack) bound after perimd started, a denied IPv6 source.
case_udp_ipv6_drop_names_the_bound_process() {
	local pid ev
	udp_bind udp6 "$UDP_PORT" 6
	pid=$BOUND_PID
	await_bound "$pid" "$UDP_PORT" || return 1
	udp_flood 2001:db8:221::1 2001:db8:79::1 "$UDP_PORT" || return 1
	ev=$(await_event "$(drop_to "$UDP_PORT" 2001:db8:221::1)") || return 1
	expect_udp_listener "$ev" "$pid" &&
	expect_eq "$(field .flow.family "$ev")" ipv6 "family" &&
	expect_eq "$(field .reason "$ev")" deny "reason"
}

case_udp_socket_from_before_perimd() {
	local ev
	syns 10.221.0.8 "$EARLY_UDP_PORT" --udp || return 1
	ev=$(await_event "$(drop_to "$EARLY_UDP_PORT" 10.221.0.8)") || return 1
	expect_udp_listener "$ev" "$EARLY_UDP_PID"
}

# The listener exits; another process listens on the port: drops are the new one's.
case_attribution_follows_a_new_listener() {
	local old new ev
	listen old "$PORT" || return 1
	old=$LISTEN_PID
	await_listening "$old" "$PORT" || return 1
	kill "$old"
	await_event ".type==\"sock_state\" and .pid==$old and .old_state==\"LISTEN\" and .new_state==\"CLOSE\"" >/dev/null || return 1
	syns 10.221.0.3 "$PORT" || return 1
	ev=$(await_event "$(drop_to "$PORT" 10.221.0.3)") || return 1
	expect_eq "$(field .listener "$ev")" null "nobody listens after the exit" || return 1
	listen new "$PORT" || return 1
	new=$LISTEN_PID
	await_listening "$new" "$PORT" || return 1
	syns 10.221.0.4 "$PORT" || return 1
	ev=$(await_event "$(drop_to "$PORT" 10.221.0.4)") || return 1
	expect_eq "$(field .listener.pid "$ev")" "$new" "the new listener" &&
	expect_ne "$new" "$old" "a different process"
}

# A port bound without a number is released by the kernel before it reports
# the close: the CLOSE event still names the port, and perimd forgets it.
case_listener_on_a_kernel_chosen_port_is_forgotten() {
	local pid port ev
	listen chosen 0 || return 1
	pid=$LISTEN_PID port=$LISTEN_PORT
	await_listening "$pid" "$port" || return 1
	kill "$pid"
	await_event ".type==\"sock_state\" and .pid==$pid and .old_state==\"LISTEN\" and .new_state==\"CLOSE\" and .flow.sport==$port" >/dev/null || return 1
	syns 10.221.0.10 "$port" || return 1
	ev=$(await_event "$(drop_to "$port" 10.221.0.10)") || return 1
	expect_eq "$(field .listener "$ev")" null "nobody listens after the close"
}

case_listener_from_before_perimd() {
	local ev
	syns 10.221.0.5 "$EARLY_PORT" || return 1
	ev=$(await_event "$(drop_to "$EARLY_PORT" 10.221.0.5)") || return 1
	expect_eq "$(field .listener.pid "$ev")" "$EARLY_PID" "listener pid (from /proc)" &&
	expect_eq "$(field .listener.comm "$ev")" tcplisten "listener comm"
}

# Streamed to a follower: only xdp_drop events, this case's among them.
case_events_command_filters_xdp_drop() {
	local out=$TMP/follow.out pid
	pctl -j events --follow --type xdp_drop > "$out" 2>&1 & pid=$!
	track_pid "$pid"
	# Live once perimd has answered; a burst per try until one streams.
	wait_until 10 eval 'syns 10.221.0.7 "$CLOSED_PORT"; grep -q "\"src\":\"10.221.0.7\"" "$out"' ||
		{ fail "no xdp_drop streamed: $(head -c 300 "$out")"; return 1; }
	expect_eq "$(grep -v '"type":"xdp_drop"' "$out" | grep -c '"type":')" 0 "only xdp_drop" &&
	expect_exit 2 pctl events --type xdp_drop,bogus &&
	expect_match "$(cat "$TMP/last.err" "$TMP/last.out")" '"bogus"' "bad type named"
}

# A drop flood (more samples than the backlog holds) does not push tracer
# events out of the backlog a non-follow `perimctl events` dumps: after 1200
# tracer events and the flood, the dump still holds a full tracer backlog.
# (Not one marker event: on a busy machine other processes' events push it out.)
case_drop_flood_leaves_tracer_events_in_backlog() {
	local out=$TMP/dump.out drops i
	for i in $(seq 400); do /bin/true "mark-$T-$i"; done
	await_event ".type==\"exec\" and (.argv|index(\"mark-$T-400\"))" >/dev/null || return 1
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.79.0.1 --src 10.221.0.9 \
		--port "$CLOSED_PORT" --rate 4000 --count 8000 >/dev/null || return 1
	many_drops() { [ "$(jq -c 'select(.type=="xdp_drop" and .flow.src=="10.221.0.9")' "$EV" | wc -l)" -gt 1100 ]; }
	wait_until 10 many_drops || { fail "the flood was sampled fewer than 1100 times"; return 1; }
	pctl -j events > "$out" || { fail "perimctl events failed"; return 1; }
	drops=$(grep -c '"type":"xdp_drop"' "$out")
	expect_range "$drops" 1 256 "xdp_drop events in the dump (their own backlog)" &&
	expect_eq "$(grep -v '"type":"xdp_drop"' "$out" | grep -c '"type":')" 1024 "a full backlog of tracer events"
}

# ---- --drop-sample-rate: each case its own perimd, namespaces and veth ----
# (a case runs in a subshell: the socket, pins, state and namespaces below are its own)
RATE_DENIED=10.223.0.0/24

# rate_setup: namespaces rgw/rinet, veth RGW-RPEER; this case's perimd paths
rate_setup() {
	PIN_ROOT=/sys/fs/bpf/perim-${T}r SOCK=$TMP/rate.sock STATE=$TMP/rate.state
	RGW=${T}rg RPEER=${T}ri
	rm -f "$STATE"
	track_path "$STATE"
	ns_add rgw && ns_add rinet || return 1
	veth_add rgw "$RGW" 10.80.0.1/24 rinet "$RPEER" 10.80.0.2/24 || return 1
	RGW_MAC=$(mac_of rgw "$RGW")
}

# rate_perimd RATE EVENTS: perimd on RGW sampling RATE drops/s per CPU, events to EVENTS, the range denied
rate_perimd() {
	perimd_start rgw --interface "$RGW" --drop-sample-rate "$1" --events "$2" || return 1
	pctl deny add "$RGW" "$RATE_DENIED" >/dev/null || { fail "deny add"; return 1; }
}

deny_drops() { pctl -j stats "$RGW" | jq '.interfaces[0].counters.dropped.deny.packets'; }
at_least() { [ "$("${@:2}")" -ge "$1" ]; }

# rate_flood SRC COUNT PPS: COUNT UDP datagrams from SRC (denied), every one
# counted as a deny drop, then every sample drained: `top` drains the ring
# before it answers, publishing each sample. Prints the flood's seconds.
rate_flood() {
	local before out
	before=$(deny_drops) || return 1
	out=$(in_ns rinet nice -n -10 "$TOOLS/udpflood" send --dev "$RPEER" --dst-mac "$RGW_MAC" --dst 10.80.0.1 --src "$1" \
		--port 9 --count "$2" --rate "$3") || { fail "udpflood: $out"; return 1; }
	wait_until 10 at_least $(( before + $2 )) deny_drops || { fail "the flood was not dropped: $(deny_drops) after $before"; return 1; }
	pctl -j top --once >/dev/null || { fail "top"; return 1; }
	awk -v ns="$(sed -E 's/.*elapsed_ns=([0-9]+).*/\1/' <<<"$out")" 'BEGIN { printf "%d\n", ns / 1e9 + 1 }'
}

samples_from() { jq -c "select(.type==\"xdp_drop\" and .flow.src==\"$2\")" "$1" 2>/dev/null | wc -l; }

# More samples arrive with a higher rate: at 100/s per CPU a 6,000-packet flood
# yields at most a burst and 100/s per CPU; at 20,000/s, most of its drops.
case_drop_sample_rate_sets_how_many_drops_are_sampled() {
	local secs low high cap
	rate_setup && rate_perimd 100 "$TMP/rate-low.json" || return 1
	expect_eq "$(pctl -j status | jq -c '[.drop_samples.rate, .interfaces[0].drop_sample_rate]')" "[100,100]" "status" &&
	expect_match "$(pctl status)" "^drop samples: at most 100/s per CPU, 0 sent, 0 received$" "status, human" || return 1
	secs=$(rate_flood 10.223.0.1 6000 6000) || return 1
	low=$(samples_from "$TMP/rate-low.json" 10.223.0.1)
	# per CPU: the burst (PERIM_DROP_SAMPLE_BURST) and the rate over the flood
	cap=$(( $(nproc) * (100 + 100 * secs) ))
	expect_range "$low" 1 "$cap" "samples at 100/s per CPU ($secs s)" || return 1
	pctl detach "$RGW" >/dev/null || { fail "detach"; return 1; }
	perimd_stop
	rate_perimd 20000 "$TMP/rate-high.json" || return 1
	expect_eq "$(pctl -j status | jq -c '[.drop_samples.rate, .interfaces[0].drop_sample_rate]')" "[20000,20000]" "status" || return 1
	rate_flood 10.223.0.2 6000 6000 >/dev/null || return 1
	high=$(samples_from "$TMP/rate-high.json" 10.223.0.2)
	expect_range "$high" 3000 6000 "samples at 20000/s per CPU of 6000 drops" &&
	expect_range "$high" $(( low * 4 )) 6000 "at least 4x the samples at 100/s ($low)" || return 1
	# status counts them: this perimd received each one; the ring (pinned since the first perimd) sent both floods'
	expect_eq "$(pctl -j status | jq -c '[.drop_samples.sent, .drop_samples.received]')" "[$(( low + high )),$high]" "status counts"
}

# 0 turns sampling off: no sample of a flood, and top says why.
case_drop_sample_rate_zero_samples_nothing() {
	rate_setup && rate_perimd 0 "$TMP/rate-off.json" || return 1
	expect_eq "$(pctl -j status | jq -c '[.drop_samples.rate, .interfaces[0].drop_sample_rate]')" "[0,0]" "status" &&
	expect_match "$(pctl status)" "^drop samples: off, 0 sent, 0 received$" "status, human" || return 1
	rate_flood 10.223.0.3 2000 4000 >/dev/null || return 1
	expect_eq "$(samples_from "$TMP/rate-off.json" 10.223.0.3)" 0 "samples" &&
	expect_eq "$(pctl -j top --once | jq -c '[.sampling, .reason]')" '[false,"drop sampling is off (perimd --drop-sample-rate 0)"]' "top"
}

# A restarted perimd adopts the attached program, which keeps the rate it was
# loaded with: status and the log say so; detach and attach apply the new one.
case_adopted_program_keeps_its_drop_sample_rate() {
	rate_setup && rate_perimd 100 /dev/null || return 1
	perimd_stop
	perimd_start rgw --interface "$RGW" --drop-sample-rate 5000 --events /dev/null || return 1
	expect_eq "$(pctl -j status | jq -c '[.drop_samples.rate, .interfaces[0].adopted, .interfaces[0].drop_sample_rate]')" \
		"[5000,true,100]" "status after adoption" &&
	expect_match "$(cat "$TMP/perimd.log")" "$RGW: the adopted program samples at most 100 drops/s per CPU, not --drop-sample-rate 5000" "logged" &&
	expect_match "$(pctl status)" "$RGW: its adopted program samples at most 100/s per CPU" "status, human" || return 1
	pctl detach "$RGW" >/dev/null && pctl attach "$RGW" >/dev/null || { fail "detach, attach"; return 1; }
	expect_eq "$(pctl -j status | jq -c '[.interfaces[0].adopted, .interfaces[0].drop_sample_rate]')" "[false,5000]" "after attach"
}

# Bad values: exit 2, one line naming the value, nothing created.
case_drop_sample_rate_bad_values_are_refused() {
	local v sock=$TMP/bad-rate.sock pins=/sys/fs/bpf/perim-${T}bad
	track_path "$pins"
	for v in -1 01 100001 abc "" 1e3 4294967296; do
		expect_exit 2 "$PERIMD" --socket "$sock" --pin-root "$pins" --state "$TMP/bad-rate.state" --drop-sample-rate "$v" || return 1
		expect_eq "$(wc -l < "$TMP/last.err")" 1 "one line for \"$v\"" &&
		expect_match "$(cat "$TMP/last.err")" "^perimd: option \"--drop-sample-rate $v\" is wrong: expected a number from 0 to 100000" "names \"$v\"" || return 1
	done
	printf 'drop-sample-rate 100001\n' > "$TMP/rate.conf"
	expect_exit 2 "$PERIMD" --socket "$sock" --pin-root "$pins" --config "$TMP/rate.conf" &&
	expect_match "$(cat "$TMP/last.err")" "^perimd: $TMP/rate.conf:1: option \"drop-sample-rate 100001\" is wrong" "config FILE:LINE" || return 1
	expect_eq "$(ls -d "$sock" "$pins" "$TMP/bad-rate.state" 2>/dev/null)" "" "nothing created"
}

setup() {
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.79.0.1/24 inet "$PEER" 10.79.0.2/24 || return 1
	GW_MAC=$(mac_of gw "$GW")
	track_path "$STATE"
	listen early "$EARLY_PORT" || return 1
	EARLY_PID=$LISTEN_PID
	udp_bind early-udp "$EARLY_UDP_PORT" 4
	EARLY_UDP_PID=$BOUND_PID
	wait_until 5 eval "grep -q ':$(printf %04X "$EARLY_UDP_PORT") ' <(in_ns gw cat /proc/net/udp)" ||
		{ echo "the early UDP receiver did not bind: $(cat "$TMP/early-udp.log")"; return 1; }
	perimd_start gw --interface "$GW" --events "$EV" || return 1
	track_pid "$(pctl -j status | jq -r .pid)"
	[ -e "$PIN_ROOT/perim_drops" ] || { echo "the datapath does not sample drops"; return 1; }
	pctl deny add "$GW" "$DENIED" && pctl deny add "$GW" "$DENIED6"
}

mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
[ -x "$PERIMD" ] || { echo "SKIP: ${0##*/}: $PERIMD not built"; exit 0; }
setup || { echo "FAIL: ${0##*/}: setup"; cat "$TMP/perimd.log" 2>/dev/null | tail -20; exit 1; }
run_cases "$@"
