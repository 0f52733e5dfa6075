# shellcheck shell=bash
# Live traffic: the receiver's CPU per packet on a veth in threaded NAPI.
#
# A namespace "inet" holds one generator-side veth per case; their peers sit
# in the gateway namespace, each running one case: a trivial XDP_DROP, a
# parse-to-L4-and-drop floor, perimd (a per-source limit the flood exceeds),
# and an nftables netdev-ingress per-source meter (no XDP; GRO on so the veth
# runs NAPI and builds skbs). Every gateway veth's NAPI kthread is pinned to
# RX_CPU; the generator runs on GEN_CPU. One run interleaves the cases.

LIVE_SRC=10.99.0.1            # the flood's source
LIVE_LIMIT=1000               # pps per source, far below the flood
# Frames per generator call: each call wakes the NAPI thread once, and in a VM
# that wake-up is costly; 128 spreads it over more frames while one call still
# fits the veth's 256-frame ring with room for the consumer's lag.
LIVE_BATCH=${LIVE_BATCH:-128}

live_dev() { echo "$T$1"; }   # gateway side: ${T}a..d; inet side: ${T}A..D

# Once per run: the accuracy and control-plane sections reuse it.
live_setup() {
	[ -n "${LIVE_READY:-}" ] && return 0
	ns_add gw && ns_add inet || return 1
	local c up
	for c in a b c d; do
		up=$(tr a-d A-D <<<"$c")
		ip link add "$T$c" netns "$T-gw" type veth peer name "$T$up" netns "$T-inet" || return 1
		ip -n "$T-gw" link set "$T$c" up && ip -n "$T-inet" link set "$T$up" up || return 1
	done
	# An idle device that holds the generator in the XDP dispatcher (xdp_live.c).
	ip -n "$T-inet" link add "${T}h" type veth peer name "${T}H" || return 1
	in_ns gw "$LIVE" attach --dev "${T}a" --prog drop || return 1
	in_ns gw "$LIVE" attach --dev "${T}b" --prog parse || return 1
	perimd_start gw --interface "${T}c:native" || return 1
	pctl limit set "${T}c" src 10.99.0.0/16 proto udp rate "${LIVE_LIMIT}pps" burst 100 per-source >/dev/null || return 1
	in_ns gw ethtool -K "${T}d" gro on >/dev/null || return 1
	in_ns gw nft -f - <<-EOF || return 1
		table netdev $T {
			chain ingress {
				type filter hook ingress device "${T}d" priority 0;
				ip saddr 10.99.0.0/16 meter ${T}m { ip saddr limit rate over ${LIVE_LIMIT}/second } drop
			}
		}
	EOF
	on_cleanup "ip netns exec $T-gw nft delete table netdev $T"
	for c in a b c d; do
		LIVE_NAPI[$c]=$(threaded_napi gw "$T$c") || return 1
	done
	LIVE_READY=1
}

# live_flood CASE SRC SOURCES RATE SECONDS: a flood into gateway veth $T<CASE>;
# prints "sent delivered elapsed_ns"
live_flood() {
	local up out sent el x0 e0 x1 e1
	up=$(tr a-d A-D <<<"$1")
	read -r x0 e0 < <(xmit_of inet "$T$up")
	out=$(in_ns inet nice -n -10 "$LIVE" gen --dev "$T$up" --hold-dev "${T}h" \
		--dst-mac "$(mac_of gw "$T$1")" --src "$2" --sources "$3" --dst 10.88.0.1 \
		--rate "$4" --seconds "$5" --cpu "$GEN_CPU" --batch "$LIVE_BATCH") || return 1
	read -r sent el < <(sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+)/\1 \2/' <<<"$out")
	read -r x1 e1 < <(xmit_of inet "$T$up")
	echo "$sent $(( sent - (e1 - e0) )) $el"
}

# live_run CASE RATE SECONDS: prints "sent delivered cpu_ns elapsed_ns"
live_run() {
	local c0 c1 sent deliv el
	c0=$(cpu_ns_of "${LIVE_NAPI[$1]}")
	read -r sent deliv el < <(live_flood "$1" "$LIVE_SRC" 1 "$2" "$3") || return 1
	# The last frames in the ring are processed after the generator returns:
	# a ring holds 256 frames, well under 1 ms of work.
	sleep 0.02
	c1=$(cpu_ns_of "${LIVE_NAPI[$1]}")
	echo "$sent $deliv $(( c1 - c0 )) $el"
}

declare -A LIVE_NAPI LIVE_NS LIVE_DELIV LIVE_SAT LIVE_SAT_BUSY LIVE_BUSY LIVE_NAMES
LIVE_NAMES=([a]="trivial XDP_DROP (floor)" [b]="parse to L4 + XDP_DROP (floor)"
	[c]="perim: per-source limit dropping the flood" [d]="nftables netdev ingress per-source meter")

section_live() {
	local rounds=3 secs=1 rate c r sent deliv cpu el ns key
	quick && rounds=1 secs=0.3
	echo "## Live traffic: receiver CPU per packet (veth, threaded NAPI)"
	echo
	live_setup >"$TMP/live-setup.log" 2>&1 || { cat "$TMP/live-setup.log" >&2; return 1; }
	for rate in 300000 1000000; do
		for r in $(seq "$rounds"); do
			for c in a b c d; do
				read -r sent deliv cpu el < <(live_run "$c" "$rate" "$secs") || return 1
				[ "$deliv" -gt 0 ] || { echo "live: $c delivered nothing" >&2; return 1; }
				ns=$(( cpu / deliv )); key=$c-$rate
				if [ -z "${LIVE_NS[$key]:-}" ] || [ "$ns" -lt "${LIVE_NS[$key]}" ]; then
					LIVE_NS[$key]=$ns
					LIVE_DELIV[$key]=$(fdiv "$(( deliv * 1000000 ))" "$el" 0)
					LIVE_BUSY[$key]=$(fdiv "$(( cpu * 100 ))" "$el" 0)
				fi
			done
		done
	done
	for c in a b c d; do
		read -r sent deliv cpu el < <(live_run "$c" 0 "$secs") || return 1
		LIVE_SAT[$c]=$(fdiv "$(( deliv * 1000000 ))" "$el" 0)
		LIVE_SAT_BUSY[$c]=$(fdiv "$(( cpu * 100 ))" "$el" 0)
	done
	live_report "$rounds" "$secs"
}

live_report() {
	local c rate p f n
	echo "Offered load paced by the project's generator (\`xdp_live gen\`: BPF_PROG_RUN with"
	echo "BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of the inet-side veth), 64-byte UDP frames from one"
	echo "source, $LIVE_BATCH frames per call, CPU $GEN_CPU; every gateway veth's NAPI kthread on CPU $RX_CPU (SCHED_FIFO)."
	echo "CPU per packet = kthread CPU time (\`/proc/PID/schedstat\`) / packets delivered (sent minus the"
	echo "sender's \`xdp_xmit_errors\`); best of $1 interleaved rounds of ${2}s. \"CPU left\" is the share of"
	echo "the receiver core the flood leaves to everything else (a well-behaved flow's packets included)."
	echo
	echo "| case | ns/pkt @300 kpps | ns/pkt @1 Mpps | delivered kpps @1 Mpps | CPU left @1 Mpps | saturation (kpps) |"
	echo "|---|---:|---:|---:|---:|---:|"
	for c in a b c d; do
		printf '| %s | %s | %s | %s | %s%% | %s |\n' "${LIVE_NAMES[$c]}" "${LIVE_NS[$c-300000]}" \
			"${LIVE_NS[$c-1000000]}" "${LIVE_DELIV[$c-1000000]}" \
			"$(( 100 - $(min100 "${LIVE_BUSY[$c-1000000]}") ))" "$(live_saturation "$c")"
	done
	echo
	echo "| goal | @300 kpps | @1 Mpps | met |"
	echo "|---|---:|---:|---|"
	for f in "b:1.5:perim / parse-only floor <= 1.5" "d:0.4:perim / nftables meter <= 0.4"; do
		local p3 p1
		p3=$(fdiv "${LIVE_NS[c-300000]}" "${LIVE_NS[${f%%:*}-300000]}")
		p1=$(fdiv "${LIVE_NS[c-1000000]}" "${LIVE_NS[${f%%:*}-1000000]}")
		n=${f#*:}; n=${n%%:*}
		if fle "$p3" "$n" && fle "$p1" "$n"; then p=yes; else p="**no**"; fi
		echo "| ${f##*:} | $p3 | $p1 | $p |"
	done
	echo
	echo "Saturation: the rate at which the receiver core would be fully busy, 1e9 / ns/pkt at 1 Mpps;"
	echo "in brackets, what an unpaced generator actually got through (kthread busy %): when that core"
	echo "is not near 100% busy the generator, not the receiver, was the limit. Each figure includes the"
	echo "NAPI thread's wake-up per call (the same for every case), which narrows the ratios; on a busy"
	echo "machine (see the load average above) these figures move by tens of percent between runs."
}

min100() { if [ "${1%.*}" -gt 100 ] 2>/dev/null; then echo 100; else echo "${1%.*}"; fi; }

live_saturation() {
	local est
	est=$(fdiv 1000000 "${LIVE_NS[$1-1000000]}" 0)
	echo "$est (${LIVE_SAT[$1]} at ${LIVE_SAT_BUSY[$1]}%)"
}
