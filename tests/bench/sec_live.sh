# shellcheck shell=bash
# Live traffic: the receiver's CPU per packet on a veth in threaded NAPI.
#
# A namespace "inet" holds one generator-side veth per case; their peers sit
# in the gateway namespace, each running one case: a trivial XDP_DROP, a
# parse-to-L4-and-drop floor, perimd (a per-source limit the flood exceeds),
# the minimal limiter of the datapath benchmark with the same rule (the
# least a per-source limiter with rules per prefix does: the reference beside
# perim's goal row), an nftables netdev-ingress per-source meter (no XDP; GRO
# on so the veth runs NAPI and builds skbs), and that skb path with no filter
# (its floor).
# Every gateway veth's NAPI kthread is pinned to
# RX_CPU; the generator runs on GEN_CPU. One run interleaves the cases.

LIVE_SRC=10.99.0.1            # the flood's source
LIVE_LIMIT=1000               # pps per source, far below the flood
# Frames per generator call for the sections that reuse live_flood (their
# pacing wants small calls): each call is one kernel batch.
LIVE_BATCH=${LIVE_BATCH:-128}
# section_live's generator: frames per kernel batch (one xdp_do_flush, so at
# most one NAPI wake-up, per batch; 64 is the veth's NAPI budget and four
# batches fit its 256-frame ring) and frames per BPF_PROG_RUN call. Each call
# builds a page pool: with one batch per call every frame sat on a fresh page
# that the receiver then freed, and the generator managed ~400 kpps. 4096
# frames per call recycle the pages (the receiver hands each one back to the
# pool, as a NIC driver's receive ring does) and the NAPI thread drains whole
# bursts per wake-up; pacing is then per 4096 frames.
LIVE_KBATCH=${LIVE_KBATCH:-64}
LIVE_CALL=${LIVE_CALL:-4096}

live_dev() { echo "$T$1"; }   # gateway side: ${T}a..f; inet side: ${T}A..F

# Once per section: run.sh releases it when the section ends (LIVE_READY unset).
live_setup() {
	[ -n "${LIVE_READY:-}" ] && return 0
	# A private copy: a rebuild of the tree during the run cannot swap it.
	if [ "$LIVE" != "$TMP/xdp_live" ]; then cp "$LIVE" "$TMP/xdp_live" && LIVE=$TMP/xdp_live || return 1; fi
	ns_add gw && ns_add inet || return 1
	local c up
	for c in a b c d e f; do
		up=$(tr a-f A-F <<<"$c")
		ip link add "$T$c" netns "$T-gw" type veth peer name "$T$up" netns "$T-inet" || return 1
		ip -n "$T-gw" link set "$T$c" up && ip -n "$T-inet" link set "$T$up" up || return 1
	done
	# An idle device that holds the generator in the XDP dispatcher (xdp_live.c).
	ip -n "$T-inet" link add "${T}h" type veth peer name "${T}H" || return 1
	LIVE_VIA=$(gen_probe_via) || return 1
	if [ "$LIVE_VIA" = packet ]; then
		for c in a b c d e f; do LIVE_GEN_DEV[$c]=$(gen_relay "$c" "$T${c^^}") || return 1; done
	fi
	in_ns gw "$LIVE" attach --dev "${T}a" --prog drop || return 1
	in_ns gw "$LIVE" attach --dev "${T}b" --prog parse || return 1
	in_ns gw "$LIVE" attach --dev "${T}f" --prog limiter --rule 10.99.0.0/16 --rate "$LIVE_LIMIT" --burst 100 || return 1
	perimd_start gw --interface "${T}c:native" ${LIVE_PERIMD_ARGS:-} || return 1
	pctl limit set "${T}c" src 10.99.0.0/16 proto udp rate "${LIVE_LIMIT}pps" burst 100 per-source >/dev/null || return 1
	in_ns gw ethtool -K "${T}d" gro on >/dev/null && in_ns gw ethtool -K "${T}e" gro on >/dev/null || return 1
	in_ns gw nft -f - <<-EOF || return 1
		table netdev $T {
			chain ingress {
				type filter hook ingress device "${T}d" priority 0;
				ip saddr 10.99.0.0/16 meter ${T}m { ip saddr limit rate over ${LIVE_LIMIT}/second } drop
			}
		}
	EOF
	on_cleanup "ip netns exec $T-gw nft delete table netdev $T"
	for c in a b c d e f; do
		LIVE_NAPI[$c]=$(threaded_napi gw "$T$c") || return 1
	done
	LIVE_READY=1
}

# live_flood CASE SRC SOURCES RATE SECONDS: a flood into gateway veth $T<CASE>;
# prints "sent delivered elapsed_ns"
live_flood() {
	local up out sent el x0 e0 x1 e1 gen
	up=$(tr a-f A-F <<<"$1")
	gen=(nice -n -10 "$LIVE" gen --dev "$T$up" --hold-dev "${T}h" --batch "$LIVE_BATCH"
		--per-call "${LIVE_PER_CALL:-$LIVE_BATCH}")
	# Through the relay a call fills its 256-frame ring at most (it cannot drain during a call).
	[ "${LIVE_VIA:-live}" = packet ] &&
		gen=(chrt -f 10 "$LIVE" gen --via packet --dev "${LIVE_GEN_DEV[$1]}" --per-call 256)
	read -r x0 e0 < <(xmit_of inet "$T$up")
	out=$(in_ns inet "${gen[@]}" --dst-mac "$(mac_of gw "$T$1")" --src "$2" --sources "$3" \
		--dst 10.88.0.1 --rate "$4" --seconds "$5" --cpu "$GEN_CPU") || return 1
	read -r sent el < <(sed -E 's/sent=([0-9]+) elapsed_ns=([0-9]+).*/\1 \2/' <<<"$out")
	read -r x1 e1 < <(xmit_of inet "$T$up")
	echo "$sent $(( sent - (e1 - e0) )) $el"
}

# live_run CASE RATE SECONDS: prints "sent delivered cpu_ns elapsed_ns wakeups
# stats" (wakeups: times the NAPI kthread was switched in, schedstat's third
# field; stats: 1 when kernel.bpf_stats_enabled was on at either end).
live_run() {
	local c0 c1 w0 w1 s0 s1 sent deliv el
	s0=$(live_stats_on)
	read -r c0 w0 < <(awk '{print $1, $3}' "/proc/${LIVE_NAPI[$1]}/schedstat")
	read -r sent deliv el < <(live_flood "$1" "$LIVE_SRC" 1 "$2" "$3") || return 1
	# The last frames in the ring are processed after the generator returns:
	# a ring holds 256 frames, well under 1 ms of work.
	sleep 0.02
	read -r c1 w1 < <(awk '{print $1, $3}' "/proc/${LIVE_NAPI[$1]}/schedstat")
	s1=$(live_stats_on)
	echo "$sent $deliv $(( c1 - c0 )) $el $(( w1 - w0 )) $(( s0 | s1 ))"
}

# bpf_stats (switched on by a tracer benchmark, possibly another run's) adds
# two clock reads to every XDP program run and nothing to the skb cases, so
# runs with it on are kept apart (live_pick_runs).
live_stats_on() { cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0; }
live_stats_off() { [ "$(live_stats_on)" = 0 ]; }

# live_nft_seen: "seen delivered" for a short flood into the nftables case,
# seen counted by a counter-only chain hooked just before the meter's (added
# for this check only). Equal numbers mean GRO merged nothing: nftables'
# figure is per packet.
live_nft_seen() {
	local n0 n1 sent deliv el
	in_ns gw nft -f - <<-EOF || return 1
		table netdev $T {
			chain count {
				type filter hook ingress device "${T}d" priority -1;
				counter
			}
		}
	EOF
	n0=$(in_ns gw nft list chain netdev "$T" count | awk '/counter packets/ {print $3}')
	read -r sent deliv el < <(live_flood d "$LIVE_SRC" 1 1000000 0.3) || return 1
	sleep 0.02
	n1=$(in_ns gw nft list chain netdev "$T" count | awk '/counter packets/ {print $3}')
	in_ns gw nft flush chain netdev "$T" count && in_ns gw nft delete chain netdev "$T" count || return 1
	echo "$(( n1 - n0 )) $deliv"
}

declare -A LIVE_GEN_DEV LIVE_NAPI LIVE_NS LIVE_ALL LIVE_RV LIVE_DELIV LIVE_PPW LIVE_BUSY LIVE_NAMES
LIVE_NAMES=([a]="trivial XDP_DROP (floor)" [b]="parse to L4 + XDP_DROP (floor)"
	[c]="perim: per-source limit dropping the flood" [d]="nftables netdev ingress per-source meter"
	[e]="skb path, no filter (GRO on; IP routing drops it)"
	[f]="reference: minimal limiter, the same rule (parse, LPM trie, per-CPU rule counter, LRU bucket, drop)")
LIVE_ORDER=${LIVE_ORDER:-"a b e c f d"}

# live_record KEY ROUND SENT DELIV CPU EL WAKES: keeps every round's ns/pkt
# and the best round's delivered rate, busy share and packets per wake-up.
live_record() {
	local r=$2 ns=$(( $5 / $4 ))
	set -- "$1" "${@:3}"   # KEY SENT DELIV CPU EL WAKES
	LIVE_ALL[$1]+=" $ns"
	LIVE_RV[$1#$r]=$ns
	if [ -z "${LIVE_NS[$1]:-}" ] || [ "$ns" -lt "${LIVE_NS[$1]}" ]; then
		LIVE_NS[$1]=$ns
		LIVE_DELIV[$1]=$(fdiv "$(( $3 * 1000000 ))" "$5" 0)
		LIVE_BUSY[$1]=$(fdiv "$(( $4 * 100 ))" "$5" 0)
		LIVE_PPW[$1]=$(( $3 / ($6 > 0 ? $6 : 1) ))
	fi
}

# live_pick_runs: the figures come from the runs made with bpf_stats off; when
# some case and load has none (another process kept bpf_stats on), from all
# runs, which the report then says.
live_pick_runs() {
	local key c rate r
	for c in $LIVE_ORDER; do
		for rate in 300000 1000000 0; do
			[ -n "${LIVE_NS[$c-$rate]:-}" ] || LIVE_FALLBACK=1
		done
	done
	[ "$LIVE_FALLBACK" = 1 ] || return 0
	for c in $LIVE_ORDER; do
		for rate in 300000 1000000 0; do
			key=$c-$rate
			LIVE_NS[$key]=${LIVE_NS[any:$key]} LIVE_ALL[$key]=${LIVE_ALL[any:$key]}
			LIVE_DELIV[$key]=${LIVE_DELIV[any:$key]} LIVE_BUSY[$key]=${LIVE_BUSY[any:$key]}
			LIVE_PPW[$key]=${LIVE_PPW[any:$key]}
			for r in $(seq "$LIVE_ROUNDS_RUN"); do
				LIVE_RV[$key#$r]=${LIVE_RV[any:$key#$r]}
			done
		done
	done
}

# live_paired CASE FLOOR RATE [diff]: the median over rounds of CASE's ns/pkt
# over FLOOR's (with diff: minus FLOOR's) in the same round. Rounds run the
# cases seconds apart, so a change in the machine's load between rounds
# cancels out of each ratio.
live_paired() {
	local r a b vals=""
	for r in $(seq "$LIVE_ROUNDS_RUN"); do
		a=${LIVE_RV[$1-$3#$r]:-} b=${LIVE_RV[$2-$3#$r]:-}
		[ -n "$a" ] && [ -n "$b" ] || continue
		if [ "${4:-}" = diff ]; then vals+=" $(( a - b ))"; else vals+=" $(fdiv "$a" "$b" 3)"; fi
	done
	[ -n "$vals" ] || { echo n/a; return; }
	tr ' ' '\n' <<<"$vals" | sed '/^$/d' | sort -g | awk -v d="$([ "${4:-}" = diff ] && echo 0 || echo 2)" \
		'{v[NR] = $1} END {printf "%.*f\n", d, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

section_live() {
	local rounds=${LIVE_ROUNDS:-7} secs=1 rate c r sent deliv cpu el wakes stats seen
	local LIVE_BATCH=$LIVE_KBATCH LIVE_PER_CALL=$LIVE_CALL
	quick && rounds=1 secs=0.3
	LIVE_TAINTED=0 LIVE_RUNS=0 LIVE_FALLBACK=0 LIVE_ROUNDS_RUN=$rounds
	echo "## Live traffic: receiver CPU per packet (veth, threaded NAPI)"
	echo
	live_setup >"$TMP/live-setup.log" 2>&1 || { cat "$TMP/live-setup.log" >&2; return 1; }
	# Rounds interleave the cases and the loads (rate 0: unpaced, saturation).
	for r in $(seq "$rounds"); do
		wait_until 30 live_stats_off
		for rate in 300000 1000000 0; do
			for c in $LIVE_ORDER; do
				read -r sent deliv cpu el wakes stats < <(live_run "$c" "$rate" "$secs") || return 1
				[ "$deliv" -gt 0 ] || { echo "live: $c delivered nothing" >&2; return 1; }
				[ "$stats" = 0 ] && live_record "$c-$rate" "$r" "$sent" "$deliv" "$cpu" "$el" "$wakes"
				live_record "any:$c-$rate" "$r" "$sent" "$deliv" "$cpu" "$el" "$wakes"
				LIVE_RUNS=$(( LIVE_RUNS + 1 )) LIVE_TAINTED=$(( LIVE_TAINTED + stats ))
			done
		done
	done
	live_pick_runs
	read -r seen deliv < <(live_nft_seen) || return 1
	live_report "$rounds" "$secs" "$seen" "$deliv"
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

live_med() { median <<<"${LIVE_ALL[$1]}"; }

live_report() {
	local c f p n p3 p1 p0 fl
	echo "Offered load paced by the project's generator (\`xdp_live gen\`: BPF_PROG_RUN with"
	echo "BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of the inet-side veth), 64-byte UDP frames from one"
	echo "source, $LIVE_KBATCH frames per kernel batch (one flush, at most one NAPI wake-up) and $LIVE_CALL per call"
	echo "(one page pool per call, so pages are recycled as on a NIC; pacing is per call), CPU $GEN_CPU;"
	echo "every gateway veth's NAPI kthread on CPU $RX_CPU (SCHED_FIFO). CPU per packet = kthread CPU time"
	echo "(\`/proc/PID/schedstat\`) / packets delivered (sent minus the sender's \`xdp_xmit_errors\`);"
	echo "$1 rounds of ${2}s interleave the cases and loads: best round, median in brackets."
	if [ "$LIVE_FALLBACK" = 1 ]; then
		echo "**Another process kept \`kernel.bpf_stats_enabled\` on during $LIVE_TAINTED of $LIVE_RUNS runs, so these"
		echo "figures include those runs: the XDP cases carry bpf_stats' two clock reads per packet and the skb"
		echo "cases do not. Differences between XDP cases (perim minus the parse floor) and between skb cases"
		echo "hold; ratios of an XDP case to an skb case lean against XDP.**"
	else
		echo "$LIVE_TAINTED of $LIVE_RUNS runs had \`kernel.bpf_stats_enabled\` on (another process) and are left out."
	fi
	echo "\"CPU left\" is the share of the receiver core a 1 Mpps flood would leave to everything else"
	echo "(a well-behaved flow's packets included): 100% - 1 Mpps x ns/pkt, so cases that lost different"
	echo "numbers of frames at the sender compare fairly; \"pkts/wake-up\" = delivered / kthread switch-ins."
	if [ "${LIVE_VIA:-live}" = packet ]; then
		gen_relay_text
		echo "The \"1 Mpps\" and unpaced columns are what it reached (delivered kpps beside them), and the goals"
		echo "are judged at 300 kpps only."
	fi
	echo
	echo "| case | ns/pkt @300 kpps | ns/pkt @1 Mpps | ns/pkt unpaced | delivered kpps @1 Mpps | pkts/wake-up @1 Mpps | CPU left @1 Mpps | saturation (kpps) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for c in $LIVE_ORDER; do
		printf '| %s | %s (%s) | %s (%s) | %s (%s) | %s | %s | %s%% | %s |\n' "${LIVE_NAMES[$c]}" \
			"${LIVE_NS[$c-300000]}" "$(live_med "$c-300000")" \
			"${LIVE_NS[$c-1000000]}" "$(live_med "$c-1000000")" \
			"${LIVE_NS[$c-0]}" "$(live_med "$c-0")" \
			"${LIVE_DELIV[$c-1000000]}" "${LIVE_PPW[$c-1000000]}" \
			"$(live_left "${LIVE_NS[$c-1000000]}")" "$(live_saturation "$c")"
	done
	echo
	echo "| goal | @300 kpps | @1 Mpps | unpaced | met |"
	echo "|---|---:|---:|---:|---|"
	for f in "b:1.3:perim / parse-only floor <= 1.3" "d:0.4:perim / nftables meter <= 0.4"; do
		fl=${f%%:*}
		p3=$(live_paired c "$fl" 300000) p1=$(live_paired c "$fl" 1000000) p0=$(live_paired c "$fl" 0)
		n=${f#*:}; n=${n%%:*}
		if [ "${LIVE_VIA:-live}" = packet ]; then
			if fle "$p3" "$n"; then p="yes (at 300 kpps)"; else p="**no** (at 300 kpps)"; fi
		elif fle "$p3" "$n" && fle "$p1" "$n"; then p=yes; else p="**no**"; fi
		printf '| %s | %s (%s) | %s (%s) | %s (%s) | %s |\n' "${f##*:}" \
			"$p3" "$(fdiv "${LIVE_NS[c-300000]}" "${LIVE_NS[$fl-300000]}")" \
			"$p1" "$(fdiv "${LIVE_NS[c-1000000]}" "${LIVE_NS[$fl-1000000]}")" \
			"$p0" "$(fdiv "${LIVE_NS[c-0]}" "${LIVE_NS[$fl-0]}")" "$p"
	done
	# The reference beside the 1.3x goal: what the least per-source limiter gets in the same rounds.
	for f in "f:b:reference: minimal limiter / parse-only floor" "c:f:perim / minimal limiter"; do
		c=${f%%:*} fl=${f#*:}; fl=${fl%%:*}
		printf '| %s | %s (%s) | %s (%s) | %s (%s) | |\n' "${f#*:*:}" \
			"$(live_paired "$c" "$fl" 300000)" "$(fdiv "${LIVE_NS[$c-300000]}" "${LIVE_NS[$fl-300000]}")" \
			"$(live_paired "$c" "$fl" 1000000)" "$(fdiv "${LIVE_NS[$c-1000000]}" "${LIVE_NS[$fl-1000000]}")" \
			"$(live_paired "$c" "$fl" 0)" "$(fdiv "${LIVE_NS[$c-0]}" "${LIVE_NS[$fl-0]}")"
	done
	echo
	echo "Ratios: the median over rounds of the two cases' ratio within a round (the goal is judged on"
	echo "these at 300 kpps and 1 Mpps); in brackets, the ratio of the best rounds."
	echo
	echo "Where the nanoseconds go @1 Mpps (medians of same-round differences): the parse floor is what"
	echo "touching the frame costs in XDP; perim adds $(live_paired c b 1000000 diff) ns to it, the minimal limiter"
	echo "$(live_paired f b 1000000 diff) ns (its rule in an LPM trie, one LRU bucket, a per-CPU counter). nftables adds"
	echo "$(live_paired d b 1000000 diff) ns to the parse floor: $(live_paired e b 1000000 diff) for the skb path (an skb, GRO, the IP layer's"
	echo "drop) and $(live_paired d e 1000000 diff) for the ingress hook and the meter's lookup and limit."
	echo "For perim <= 0.4x nftables, nftables would have to cost $(( $(live_med c-1000000) * 5 / 2 )) ns/pkt here (perim's median x 2.5);"
	fl=$(live_paired b d 1000000)
	if fle 0.4 "$fl"; then
		echo "the parse floor alone is ${fl}x nftables' figure, so no XDP filter that reads the frame can meet 0.4x."
	else
		echo "the parse floor alone is ${fl}x nftables' figure."
	fi
	echo
	echo "Per packet as nftables counts: a counter-only chain ahead of the meter saw $3 packets"
	echo "of $4 delivered in a 0.3 s flood at 1 Mpps (GRO on, no UDP GRO forwarding: nothing merged)."
	echo
	echo "Saturation: the rate at which the receiver core would be fully busy, 1e9 / unpaced ns/pkt;"
	echo "in brackets, what the unpaced generator got through (kthread busy %): below ~100% busy the"
	echo "generator, not the receiver, was the limit. Until 2026-11-26 the generator made one call per"
	echo "128 frames, so its page pool lived one call and every frame sat on a freshly allocated page used"
	echo "once: that cost every case per packet (nftables' skb path most) on top of a wake-up per call."
	echo "On a busy machine (see the load average above) single rounds move by tens of percent."
}

# live_left NS: the share of a core left beside a 1 Mpps flood costing NS per packet
live_left() { if [ "$1" -ge 1000 ]; then echo 0; else echo $(( 100 - $1 / 10 )); fi; }

live_saturation() {
	local est
	est=$(fdiv 1000000 "${LIVE_NS[$1-0]}" 0)
	echo "$est (${LIVE_DELIV[$1-0]} at ${LIVE_BUSY[$1-0]}%)"
}
