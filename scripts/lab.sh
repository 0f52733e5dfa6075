#!/bin/bash
# The perim lab: network namespaces standing in for a perimeter, and the whole
# mission in five steps, each saying in one line what it shows.
#
#   internet (perimlab-N-inet)  ----veth---->  gateway (perimlab-N-gw)
#     flooder: spoofed 198.51.100.0/24          perimd + perim_xdp/perim_tc on "perim0"
#     client:  10.77.0.2, 200 pps               lab-service on UDP 5001, lab-client on 5002
#     a TCP server on 10.77.0.2:8080            lab-agent (connects out), lab-backup (chatty)
#
#   1. a flood limited in XDP, with the live counters
#   2. perimctl top: the heaviest sources and the local process they aimed at
#   3. a local process connecting out, seen as events (process, user, exe, argv)
#   4. an egress limit on a chatty local process, by its cgroup
#   5. per actor: what it sent, what perim admitted, what it dropped
#
# Everything it makes is removed on exit. LAB_SECONDS (default 10) sets the
# flood's length (the egress step runs half as long); with the default the
# whole lab takes about 25 s. Output works on a terminal and into a file (no
# redraws, no colours there).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/.output
SECONDS_FLOOD=${LAB_SECONDS:-10}
SECONDS_EGRESS=$(( SECONDS_FLOOD / 2 > 3 ? SECONDS_FLOOD / 2 : 3 ))
P=perimlab-$$
GWNS=$P-gw INETNS=$P-inet DEV=perim0 PEER=perim0-peer
RUN=$(mktemp -d /tmp/perimlab.XXXXXX)
SOCK=$RUN/perimd.sock PIN=/sys/fs/bpf/$P EV=$RUN/events.json
CG=
pids=()

[ "$(id -u)" -eq 0 ] || { echo "lab: must run as root"; exit 1; }
case $SECONDS_FLOOD in ''|*[!0-9]*|0|1|2) echo "lab: LAB_SECONDS must be a whole number of seconds, at least 3"; exit 2 ;; esac
for b in perimd perimctl tests/tools/udpflood tests/tools/udpsend tests/tools/tcplisten; do
	[ -x "$OUT/$b" ] || { echo "lab: $OUT/$b missing: run make lab"; exit 1; }
done
command -v jq >/dev/null || { echo "lab: jq missing: run scripts/deps.sh"; exit 1; }

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$GWNS" "$INETNS"; do
		p=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$p" ] && kill -9 $p 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	rm -rf "$PIN" "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
ctl() { echo "# perimctl $*"; "$OUT/perimctl" -s "$SOCK" "$@"; }
pctl() { "$OUT/perimctl" -s "$SOCK" "$@"; }
count_of() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }
sent_of() { sed -nE 's/^sent=([0-9]+).*/\1/p' "$1"; }
rule_stat() { pctl -j stats "$DEV" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
# events_of TYPE PID: how many events of TYPE by PID the events file holds (its
# last line may be half written: grep, not jq, reads it).
events_of() { grep -F "\"type\":\"$1\"," "$EV" | grep -cF "\"pid\":$2,"; }
has_events() { [ "$(events_of "$1" "$2")" -ge "$3" ]; }
# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s%N)" -lt "$end" ] || return 1; sleep 0.05; done
}
# Local programs under the names the story gives them (comm is the name executed).
for name in lab-service:$OUT/tests/tools/udpflood lab-client:$OUT/tests/tools/udpflood \
	    lab-backup:$OUT/tests/tools/udpsend lab-agent:$(command -v bash); do
	ln -s "${name#*:}" "$RUN/${name%%:*}"
done

step "setting up: namespaces $GWNS (the gateway) and $INETNS (the internet), veth $DEV <-> $PEER"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$GWNS" && ip netns add "$INETNS" || exit 1
ip link add "$DEV" netns "$GWNS" type veth peer name "$PEER" netns "$INETNS" || exit 1
ip -n "$GWNS" addr add 10.77.0.1/24 dev "$DEV"
ip -n "$INETNS" addr add 10.77.0.2/24 dev "$PEER"
for ns in "$GWNS" "$INETNS"; do ip -n "$ns" link set lo up; done
ip -n "$GWNS" link set "$DEV" up
ip -n "$INETNS" link set "$PEER" up
GW_MAC=$(ip -n "$GWNS" -br link show dev "$DEV" | awk '{print $3}')

# nsenter --net keeps the host's bpffs and cgroup2: perim's pins outlive the daemon.
nsenter --net="/run/netns/$GWNS" "$OUT/perimd" --socket "$SOCK" --pin-root "$PIN" \
	--state "$RUN/state" --interface "$DEV" --events "$EV" > "$RUN/perimd.log" 2>&1 &
pids+=($!)
wait_for 30 grep -q 'perimd: ready' "$RUN/perimd.log" || { echo "perimd failed:"; cat "$RUN/perimd.log"; exit 1; }
echo "perimd is up on $DEV ($(pctl -j status | jq -r '.interfaces[0].mode') mode), tracing every process"

# The gateway's services: lab-service takes the attack's port, lab-client's port is the client's.
nsenter --net="/run/netns/$GWNS" "$RUN/lab-service" recv --port 5001 --count-file "$RUN/5001.count" &
pids+=($!); SERVICE_PID=$!
nsenter --net="/run/netns/$GWNS" "$RUN/lab-client" recv --port 5002 --count-file "$RUN/5002.count" &
pids+=($!)
ip netns exec "$INETNS" "$OUT/tests/tools/udpflood" recv --port 5003 --count-file "$RUN/5003.count" &
pids+=($!)
ip netns exec "$INETNS" "$OUT/tests/tools/tcplisten" --port 8080 --ready-file "$RUN/8080.ready" > /dev/null 2>&1 &
pids+=($!)
for f in 5001.count 5002.count 5003.count 8080.ready; do wait_for 5 test -s "$RUN/$f" || { echo "lab: $f"; exit 1; }; done
# perimd learns who listens from the bind events: await lab-service's.
wait_for 10 has_events bind "$SERVICE_PID" 1 ||
	{ echo "lab: perimd did not see lab-service bind"; exit 1; }

step "1. a flood limited in XDP: 100 spoofed sources at 300 pps each, cut to 50 pps each; a client beside it untouched"
ctl limit set "$DEV" src 198.51.100.0/24 proto udp rate 50pps burst 10 per-source || exit 1
FLOOD_RULE=1
ip netns exec "$INETNS" "$OUT/tests/tools/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" \
	--dst 10.77.0.1 --src 198.51.100.0/24 --sources 100 --port 5001 --rate 30000 \
	--seconds "$SECONDS_FLOOD" > "$RUN/flood.out" &
flood=$!
ip netns exec "$INETNS" "$OUT/tests/tools/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" \
	--dst 10.77.0.1 --src 10.77.0.2 --port 5002 --rate 200 --seconds "$SECONDS_FLOOD" > "$RUN/client.out" &
client=$!
echo "# perimctl stats $DEV --watch   (live counters for $((SECONDS_FLOOD - 1)) s)"
timeout "$((SECONDS_FLOOD - 1))" "$OUT/perimctl" -s "$SOCK" stats "$DEV" --watch

step "2. perimctl top: the sources dropped most, and the local process they were aimed at"
ctl top "$DEV" --once | head -n 8
wait "$flood" "$client"

step "3. a local process (lab-agent, as nobody) connecting out: each connect an event naming its process, user, exe and argv"
# It runs as nobody: the events name the user too. (setpriv execs it: $! is its pid.)
chmod 0755 "$RUN"
nsenter --net="/run/netns/$GWNS" setpriv --reuid=nobody --regid=nogroup --clear-groups "$RUN/lab-agent" -c 'for i in 1 2 3; do exec 3<>/dev/tcp/10.77.0.2/8080 && exec 3>&-; done' &
agent=$!
wait "$agent"
wait_for 10 has_events connect "$agent" 3 ||
	echo "lab: fewer than 3 connect events from lab-agent"
echo "# perimctl -j events --type connect   (lab-agent's, pid $agent, summarised with jq)"
pctl -j events --type connect | jq -r "(.events[]? // .) | select(.type == \"connect\" and .pid == $agent) |
	\"connect pid=\(.pid) user=\(.user) comm=\(.comm) exe=\(.exe) argv=\(.argv | join(\" \")) -> \(.flow.dst):\(.flow.dport) result=\(.result)\"" | head -n 3

step "4. an egress limit by cgroup: lab-backup sends 2000 pps from its own cgroup, which perim limits to 200 pps"
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG2" ]; then
	echo "lab: no cgroup2 mount: step 4 skipped"
else
	CG=$CG2/$P-backup
	mkdir "$CG" || exit 1
	# The gateway resolves the peer first: datagrams queued behind ARP never reach the hook.
	ip netns exec "$GWNS" bash -c 'echo x > /dev/udp/10.77.0.2/9'
	wait_for 5 sh -c "ip -n $GWNS neigh show 10.77.0.2 | grep -qE 'REACHABLE|STALE|DELAY'"
	EGRESS_RULE=$(pctl -j limit set "$DEV" dir egress cgroup "$CG" proto udp rate 200pps burst 100 | jq -r .id)
	echo "# perimctl limit set $DEV dir egress cgroup $CG proto udp rate 200pps burst 100"
	echo "rule $EGRESS_RULE on $DEV"
	nsenter --net="/run/netns/$GWNS" sh -c "echo \$\$ > $CG/cgroup.procs && exec $RUN/lab-backup --dst 10.77.0.2 --port 5003 --rate 2000 --seconds $SECONDS_EGRESS" > "$RUN/backup.out"
	backup_sent=$(sent_of "$RUN/backup.out")
	backup_ns=$(sed -nE 's/.*elapsed_ns=([0-9]+).*/\1/p' "$RUN/backup.out")
	wait_for 2 test "$(count_of "$RUN/5003.count")" -ge "$(rule_stat "$EGRESS_RULE" passed_packets)"
	backup_admitted=$(rule_stat "$EGRESS_RULE" passed_packets)
	backup_expected=$(( 100 + 200 * backup_ns / 1000000000 ))
	echo "lab-backup sent $backup_sent datagrams in $(( backup_ns / 1000000 )) ms; perim admitted $backup_admitted (the limit allows about $backup_expected), the receiver counted $(count_of "$RUN/5003.count")"
fi

step "5. per actor: what it sent, what perim admitted, what perim dropped"
fsent=$(sent_of "$RUN/flood.out")
csent=$(sent_of "$RUN/client.out")
frecv=$(count_of "$RUN/5001.count")
crecv=$(count_of "$RUN/5002.count")
printf '%-34s %9s %9s %9s\n' ACTOR SENT ADMITTED DROPPED
printf '%-34s %9s %9s %9s\n' "flood 198.51.100.0/24 (rule $FLOOD_RULE)" "$fsent" "$(rule_stat $FLOOD_RULE passed_packets)" "$(rule_stat $FLOOD_RULE dropped_packets)"
printf '%-34s %9s %9s %9s\n' "client 10.77.0.2 (no rule)" "$csent" "$crecv" "$(( csent - crecv ))"
[ -n "$CG" ] && printf '%-34s %9s %9s %9s\n' "lab-backup, cgroup (rule $EGRESS_RULE)" "$backup_sent" \
	"$backup_admitted" "$(rule_stat "$EGRESS_RULE" dropped_packets)"
echo "lab-service (pid $SERVICE_PID) received $frecv of the flood's $fsent datagrams"
step "cleaning up: namespaces, pins, cgroup, processes"
