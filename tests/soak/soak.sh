#!/bin/bash
# The soak (make soak [DURATION=SECONDS], default 1800): perimd on a perimeter
# veth under everything at once, for DURATION seconds, measured at the receiver.
#
#   traffic   from namespace $T-cl through perim's XDP on $GW to receivers in $T-gw:
#             L  10.79.1.1 -> :6001, 400 pps against a per-source rule of
#                RATE_L pps, burst BURST_L (the limited flow)
#             A  10.79.2.1 -> :6002, 200 pps under a generous rule (admitted)
#             D  10.79.3.1 -> :6003, 100 pps from a denied prefix
#             F  65,536 spoofed sources in 198.18.0.0/15 -> :6004, FLOOD_PPS pps
#                against a per-source rule (the new-source limiter's work)
#   churn     a perimctl change about every 0.1 s: limit set (add or replace)
#             and del of 20 TCP rules, deny add/del of 20 addresses, and the
#             limited flow's own rule set again with its own parameters
#   chaos     one at a time, on a timetable: link flaps of $GW (down 1 s, up)
#             every 40 s, bursts of 500 concurrent perimctl clients every 45 s,
#             perimd SIGKILLed and restarted every 30 s in the first half (the
#             second half is one perimd lifetime, for the fd and RSS slopes)
#   events    `perimctl -j events --follow`, restarted after every perimd restart
#
# Measured: the datagrams each receiver got per second of arrival (the
# kernel's timestamps, so a receiver descheduled under load still counts each
# in its second); every second perimd's fd count and RSS; every 5 s perimd's
# per-hook generated/delivered/lost counters. The verdicts
# (tests/soak/analyze.py states each bound) end the run as PASS:/FAIL: lines;
# the exit status is non-zero if any failed. Everything carries the prefix $T
# and is removed on every exit path (lib.sh's trap).
. "$(dirname "$0")/../lib/lib.sh"

DURATION=${DURATION:-1800}
RATE_L=100 BURST_L=50 SEND_L=400
SEND_A=200 SEND_D=100 FLOOD_PPS=${FLOOD_PPS:-3000}
KILL_EVERY=30 FLAP_EVERY=40 BURST_EVERY=45 CLIENTS=500
GW=${T}g CL=${T}c
DATA=${SOAK_DATA:-$TMP/data}     # SOAK_DATA=DIR keeps the raw samples after the run
STOP=$TMP/stop

log() { printf '%s soak: %s\n' "$(date -u +%T)" "$*"; }
now_ns() { date +%s%N; }
mark() { echo "$(now_ns) $*" >> "$DATA/timeline"; }

[ "$(id -u)" -eq 0 ] || { echo "FAIL: soak: must run as root"; exit 1; }
for f in "$PERIMD" "$PERIMCTL" "$TOOLS/udpflood"; do
	[ -x "$f" ] || { echo "FAIL: soak: $f is not built (make tests)"; exit 1; }
done
case $DURATION in ''|*[!0-9]*) echo "FAIL: soak: DURATION \"$DURATION\" is not a number of seconds"; exit 2 ;; esac
[ "$DURATION" -ge 60 ] || { echo "FAIL: soak: DURATION must be at least 60 s"; exit 2; }
mkdir -p "$DATA" || exit 1
: > "$DATA/timeline"

# ---- perimd ----
perimd_up() {
	: > "$TMP/perimd.log.cur"
	nsenter --net="/run/netns/$T-gw" "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" \
		--state "$STATE" --interface "$GW" --events "$TMP/events.json" \
		>>"$TMP/perimd.log.cur" 2>&1 &
	PERIMD_PID=$!
	track_pid "$PERIMD_PID"
	echo "$PERIMD_PID" > "$DATA/perimd.pid"
	if ! wait_until 30 grep -q 'perimd: ready' "$TMP/perimd.log.cur"; then
		cat "$TMP/perimd.log.cur" >> "$DATA/perimd.log"
		return 1
	fi
	mark ready "$PERIMD_PID"
}
perimd_kill() {
	mark kill "$PERIMD_PID"
	kill -9 "$PERIMD_PID" 2>/dev/null
	wait "$PERIMD_PID" 2>/dev/null
	cat "$TMP/perimd.log.cur" >> "$DATA/perimd.log"
}

# ---- traffic ----
# sender NAME SRC SOURCES PORT RATE: udpflood sends until the run stops, started
# again if it ends (a flap can make it give up); what it sent in each second goes
# to $DATA/sent.NAME.seconds (a second it was not scheduled in shows as none sent).
sender() {
	local name=$1 src=$2 n=$3 port=$4 rate=$5 mac
	mac=$(mac_of gw "$GW")
	( while [ ! -e "$STOP" ]; do
		ip netns exec "$T-cl" "$TOOLS/udpflood" send --dev "$CL" --dst-mac "$mac" --dst 10.79.0.1 \
			--src "$src" --sources "$n" --port "$port" --rate "$rate" --seconds 30 \
			--seconds-file "$DATA/sent.$name.seconds" \
			>> "$DATA/sender.$name" 2>&1
	  done ) &
	track_pid $!
}

# ---- churn ----
churn_one() {
	local i=$(( RANDOM % 20 )) op=$(( RANDOM % 5 )) id rc
	case $op in
	0) pctl limit set "$GW" src "10.80.$i.0/24" proto tcp dport 80 rate "$(( (RANDOM % 10 + 1) * 100 ))pps" ;;
	1) id=$(pctl -j limit list "$GW" 2>/dev/null | jq -r --arg s "10.80.$i.0/24" '[.limits[] | select(.src == $s) | .id][0] // empty')
	   [ -n "$id" ] || return 0
	   pctl limit del "$GW" "$id" ;;
	2) pctl deny add "$GW" "192.0.2.$i" ;;
	3) pctl deny del "$GW" "192.0.2.$i" ;;
	4) pctl limit set "$GW" src 10.79.1.0/24 proto udp dport 6001 rate "${RATE_L}pps" burst "$BURST_L" per-source ;;
	esac
}
# Each change's outcome: ok, "refused" (exit 2: already there / not there, the
# expected answers to a random add or del), or "failed" with its message.
churn_loop() {
	local rc
	while [ ! -e "$STOP" ]; do
		churn_one > "$TMP/churn.out" 2> "$TMP/churn.err"; rc=$?
		case $rc in
		0) echo "$(now_ns) ok" ;;
		2) echo "$(now_ns) refused $(head -c 200 "$TMP/churn.err" | tr '\n' ' ')" ;;
		*) echo "$(now_ns) failed $rc $(head -c 200 "$TMP/churn.err" | tr '\n' ' ')" ;;
		esac
		sleep 0.1
	done >> "$DATA/churn"
}

# ---- events ----
# Each follower's stream goes to its own file; how it ended is recorded with
# the perimd it followed, so an end while that perimd lived is told apart.
follow_loop() {
	local n=0 pid rc
	while [ ! -e "$STOP" ]; do
		pid=$(cat "$DATA/perimd.pid")
		if ! pctl status >/dev/null 2>&1; then sleep 0.2; continue; fi
		n=$(( n + 1 ))
		pctl -j events --follow > "$DATA/follow.$n.json" 2> "$DATA/follow.$n.err" &
		echo "$!" > "$TMP/follower.pid"
		wait $!; rc=$?
		echo "$(now_ns) follower $n perimd $pid rc $rc alive $(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" \
			>> "$DATA/followers"
	done
}

# ---- samples ----
sample_loop() {
	local tick=0 pid t
	while [ ! -e "$STOP" ]; do
		pid=$(cat "$DATA/perimd.pid")
		t=$(now_ns)
		if [ -d "/proc/$pid/fd" ]; then
			echo "$t $pid $(ls "/proc/$pid/fd" 2>/dev/null | wc -l) $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)" \
				>> "$DATA/proc"
		fi
		if [ $(( tick % 5 )) -eq 0 ]; then
			pctl -j status 2>/dev/null | jq -c --arg t "$t" \
				'{t: ($t|tonumber), pid, generated: ([.hooks[].generated // 0] | add),
				  delivered: ([.hooks[].delivered // 0] | add), lost: ([.hooks[].lost // 0] | add),
				  procs: (.processes.tracked // null)}' \
				>> "$DATA/hooks" 2>/dev/null
		fi
		tick=$(( tick + 1 ))
		sleep 1
	done
}

# ---- chaos ----
flap() {
	mark flap_down
	ip -n "$T-gw" link set "$GW" down
	sleep 1
	ip -n "$T-gw" link set "$GW" up
	mark flap_up
}

# CLIENTS perimctl clients at once: a third each status, stats, limit list.
client_burst() {
	local dir=$TMP/burst failed
	rm -rf "$dir"; mkdir -p "$dir"
	mark burst_start
	# In a subshell: its `wait` waits for these clients only.
	( for i in $(seq "$CLIENTS"); do
		case $(( i % 3 )) in
		0) pctl -j status ;;
		1) pctl -j stats ;;
		2) pctl -j limit list ;;
		esac > /dev/null 2> "$dir/$i.err" &
	  done
	  wait )
	failed=$(find "$dir" -name '*.err' -size +0 | wc -l)
	mark burst_end "$CLIENTS" "$failed"
	# What the failed clients said, most frequent first.
	[ "$failed" -eq 0 ] || find "$dir" -name '*.err' -size +0 -exec cat {} + | sort | uniq -c | sort -rn |
		head -n 5 | sed "s/^/$(now_ns) /" >> "$DATA/burst_errors"
}

# ---- the run ----
ns_add gw && ns_add cl || { echo "FAIL: soak: namespaces"; exit 1; }
veth_add gw "$GW" 10.79.0.1/24 cl "$CL" 10.79.0.2/24 || { echo "FAIL: soak: veth"; exit 1; }
in_ns gw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$GW.rp_filter=0"
mount_bpffs
track_path "$PIN_ROOT"
perimd_up || { echo "FAIL: soak: perimd did not start: $(tail -n 5 "$DATA/perimd.log")"; exit 1; }
pctl limit set "$GW" src 10.79.1.0/24 proto udp dport 6001 rate "${RATE_L}pps" burst "$BURST_L" per-source >/dev/null &&
pctl limit set "$GW" src 10.79.2.0/24 proto udp rate 5kpps burst 5000 per-source >/dev/null &&
pctl limit set "$GW" src 198.18.0.0/15 rate 10pps burst 10 per-source >/dev/null &&
pctl deny add "$GW" 10.79.3.0/24 >/dev/null || { echo "FAIL: soak: the rules were refused"; exit 1; }

# soak_recv NAME PORT: a receiver counting datagrams per second of arrival into $DATA/NAME.seconds.
soak_recv() {
	ip netns exec "$T-gw" "$TOOLS/udpflood" recv --port "$2" --count-file "$TMP/$1.count" \
		--seconds-file "$DATA/$1.seconds" &
	track_pid $!
	wait_until 5 test -s "$TMP/$1.count"
}
soak_recv L 6001 && soak_recv A 6002 && soak_recv D 6003 || { echo "FAIL: soak: receivers"; exit 1; }
sender L 10.79.1.1 1 6001 "$SEND_L"
sender A 10.79.2.1 1 6002 "$SEND_A"
sender D 10.79.3.1 1 6003 "$SEND_D"
sender F 198.18.0.0/15 65536 6004 "$FLOOD_PPS"
churn_loop & track_pid $!
follow_loop & track_pid $!
sample_loop & track_pid $!
echo "$DURATION $RATE_L $BURST_L $SEND_L $SEND_A $SEND_D $FLOOD_PPS $CLIENTS" > "$DATA/params"
mark start
log "running for ${DURATION}s (prefix $T, data in $DATA)"

start=$(date +%s)
next_kill=$KILL_EVERY next_flap=20 next_burst=10 restarts=0 start_failures=0
while :; do
	el=$(( $(date +%s) - start ))
	[ "$el" -lt "$DURATION" ] || break
	if [ "$el" -ge "$next_kill" ]; then
		next_kill=$(( next_kill + KILL_EVERY ))
		if [ "$el" -lt $(( DURATION / 2 )) ]; then
			perimd_kill
			if perimd_up; then restarts=$(( restarts + 1 )); else
				start_failures=$(( start_failures + 1 )); mark start_failed
				log "perimd did not restart: $(tail -n 3 "$TMP/perimd.log.cur")"
				perimd_up || break
			fi
		fi
	elif [ "$el" -ge "$next_flap" ]; then
		next_flap=$(( next_flap + FLAP_EVERY )); flap
	elif [ "$el" -ge "$next_burst" ]; then
		next_burst=$(( next_burst + BURST_EVERY )); client_burst
	fi
	sleep 0.2
done
mark end
log "stopping: $restarts restarts, $start_failures failed starts"

# Settle: the events of the last seconds drained, the counters at rest.
touch "$STOP"
kill "$(cat "$TMP/follower.pid" 2>/dev/null)" 2>/dev/null
# Accounting at rest: what the hooks had generated at one moment is, a second
# later, delivered or counted as lost (the host's other processes keep
# generating events, so the two are never read at the same instant).
hook_sums() {
	pctl -j status | jq -r '"\([.hooks[].generated // 0] | add) \([.hooks[].delivered // 0] | add) \([.hooks[].lost // 0] | add)"'
}
read -r gen1 _ _ < <(hook_sums)
sleep 1
read -r gen2 del2 lost2 < <(hook_sums)
echo "${gen1:-0} ${gen2:-0} ${del2:-0} ${lost2:-0}" > "$DATA/final_hooks"
pctl -j limit list > "$DATA/final_limits" 2>/dev/null
pctl -j stats > "$DATA/final_stats" 2>/dev/null
echo "$restarts $start_failures" > "$DATA/restarts"
perimd_stop
cat "$TMP/perimd.log.cur" >> "$DATA/perimd.log"

python3 "$TOP/tests/soak/analyze.py" "$DATA"
