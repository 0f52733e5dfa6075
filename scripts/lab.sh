#!/bin/bash
# The perim lab: network namespaces standing in for a perimeter.
#
#   internet (perimlab-inet)  ----veth---->  gateway (perimlab-gw)
#     flooder: spoofed 198.51.100.0/24         perimd + perim_xdp on "perim0"
#     client:  10.77.0.2, 200 pps              receivers on UDP 5001 / 5002
#
# A limit is set with perimctl, the live counters are shown while the flood
# runs, then a summary: the flood cut to the limit, the client untouched.
# Everything is removed on exit. LAB_SECONDS sets the flood's length.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/.output
SECONDS_FLOOD=${LAB_SECONDS:-12}
P=perimlab-$$
GWNS=$P-gw INETNS=$P-inet DEV=perim0 PEER=perim0-peer
RUN=$(mktemp -d /tmp/perimlab.XXXXXX)
SOCK=$RUN/perimd.sock PIN=/sys/fs/bpf/$P
pids=()

[ "$(id -u)" -eq 0 ] || { echo "lab: must run as root"; exit 1; }
for b in perimd perimctl tests/tools/udpflood; do
	[ -x "$OUT/$b" ] || { echo "lab: $OUT/$b missing: run make lab"; exit 1; }
done

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$GWNS" 2>/dev/null
	ip netns del "$INETNS" 2>/dev/null
	rm -rf "$PIN" "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { echo "# perimctl $*"; "$OUT/perimctl" -s "$SOCK" "$@"; }
count_of() { od -An -tu8 "$1" 2>/dev/null | tr -d ' '; }

step "building the lab: namespaces $GWNS and $INETNS, veth $DEV <-> $PEER"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$GWNS" && ip netns add "$INETNS" || exit 1
ip link add "$DEV" netns "$GWNS" type veth peer name "$PEER" netns "$INETNS" || exit 1
ip -n "$GWNS" addr add 10.77.0.1/24 dev "$DEV"
ip -n "$INETNS" addr add 10.77.0.2/24 dev "$PEER"
for ns in "$GWNS" "$INETNS"; do ip -n "$ns" link set lo up; done
ip -n "$GWNS" link set "$DEV" up
ip -n "$INETNS" link set "$PEER" up
GW_MAC=$(ip -n "$GWNS" -br link show dev "$DEV" | awk '{print $3}')

step "starting perimd on the gateway's perimeter NIC $DEV"
# nsenter --net keeps the host's bpffs, so perim's pins outlive the daemon.
nsenter --net="/run/netns/$GWNS" "$OUT/perimd" --socket "$SOCK" --pin-root "$PIN" \
	--state "$RUN/state" --interface "$DEV" > "$RUN/perimd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q 'perimd: ready' "$RUN/perimd.log" && break; sleep 0.05; done
grep -q 'perimd: ready' "$RUN/perimd.log" || { echo "perimd failed:"; cat "$RUN/perimd.log"; exit 1; }
ctl status

step "limiting the attack prefix: 50 pps per source (the flood sends 300 pps from each)"
ctl limit set "$DEV" src 198.51.100.0/24 proto udp rate 50pps burst 10 per-source || exit 1
ctl limit list

for port in 5001 5002; do
	ip netns exec "$GWNS" "$OUT/tests/tools/udpflood" recv --port $port --count-file "$RUN/$port.count" &
	pids+=($!)
done
for port in 5001 5002; do
	for _ in $(seq 100); do [ -s "$RUN/$port.count" ] && break; sleep 0.02; done
done

step "flood: 100 spoofed sources at 30 kpps for ${SECONDS_FLOOD}s; client at 200 pps beside it"
ip netns exec "$INETNS" "$OUT/tests/tools/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" \
	--dst 10.77.0.1 --src 198.51.100.0/24 --sources 100 --port 5001 --rate 30000 \
	--seconds "$SECONDS_FLOOD" > "$RUN/flood.out" &
flood=$!
ip netns exec "$INETNS" "$OUT/tests/tools/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" \
	--dst 10.77.0.1 --src 10.77.0.2 --port 5002 --rate 200 \
	--seconds "$SECONDS_FLOOD" > "$RUN/client.out" &
client=$!

step "live counters (perimctl stats --watch)"
timeout "$((SECONDS_FLOOD - 1))" "$OUT/perimctl" -s "$SOCK" stats "$DEV" --watch
wait "$flood" "$client"

step "after the flood"
ctl stats "$DEV"
ethtool_drops=$(ip netns exec "$GWNS" ethtool -S "$DEV" 2>/dev/null | awk '/xdp_drops/ {s += $2} END {print s + 0}')
fsent=$(sed -E 's/sent=([0-9]+).*/\1/' "$RUN/flood.out")
csent=$(sed -E 's/sent=([0-9]+).*/\1/' "$RUN/client.out")
printf '\n%-28s %10s %10s\n' "" sent received
printf '%-28s %10s %10s\n' "flood (198.51.100.0/24)" "$fsent" "$(count_of "$RUN/5001.count")"
printf '%-28s %10s %10s\n' "client (10.77.0.2)" "$csent" "$(count_of "$RUN/5002.count")"
printf 'driver (veth) xdp_drops on %s: %s\n' "$DEV" "$ethtool_drops"
step "cleaning up"
