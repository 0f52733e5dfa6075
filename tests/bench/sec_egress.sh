# shellcheck shell=bash
# Egress: perim_tc's cost beside its floor and the XDP path (tc_bench,
# BPF_PROG_TEST_RUN), and what an egress flood costs the process that sends
# it with perim's egress limit and with an nftables egress meter. Both drop
# at the same place: the nftables netdev egress hook and tc's clsact egress
# hook both run in __dev_queue_xmit, in the sending process's context, before
# any qdisc, so the sender's system CPU carries the cost of each.

EG_LIMIT=1000          # pps either limit admits; the flood is far above it
EG_DEV=${T}x           # the gateway's NIC in $T-gw; its peer ${T}X in $T-epeer (the live section has a-e)
EG_DST=10.79.0.2
EG_PORT=5001

# perimd in $T-gw: the live section's when it ran, else one of our own.
eg_perimd() {
	pctl status >/dev/null 2>&1 && return 0
	[ -e "/run/netns/$T-gw" ] || ns_add gw || return 1
	perimd_start gw --events /dev/null
}

eg_setup() {
	[ -n "${EG_READY:-}" ] && return 0
	eg_perimd || return 1
	ns_add epeer || return 1
	veth_add gw "$EG_DEV" 10.79.0.1/24 epeer "${T}X" "$EG_DST/24" || return 1
	# A permanent neighbour: no datagram waits for ARP, every one reaches the hook.
	ip -n "$T-gw" neigh replace "$EG_DST" lladdr "$(mac_of epeer "${T}X")" dev "$EG_DEV" nud permanent || return 1
	pctl attach "$EG_DEV" >/dev/null || return 1
	EG_READY=1
}

eg_nft_add() {
	in_ns gw nft -f - <<-EOF
		table netdev ${T}eg {
			chain egress {
				type filter hook egress device "$EG_DEV" priority 0;
				ip daddr $EG_DST udp dport $EG_PORT meter ${T}em { ip daddr limit rate over $EG_LIMIT/second burst 100 packets } counter drop
			}
		}
	EOF
}
eg_nft_dropped() {
	in_ns gw nft -j list table netdev "${T}eg" | jq '[.nftables[] | .rule.expr[]? | .counter.packets // empty] | add // 0'
}
eg_perim_dropped() { jstat "$EG_DEV" '.egress.counters.dropped."rate-pps".packets // 0'; }

# eg_flood MODE RATE SECONDS: prints "sent elapsed_ns stime_ns dropped"
#   none: no limit, every datagram crosses the veth; perim: perim's egress
#   limit (per destination); nft: the nftables netdev egress meter (per destination)
eg_flood() {
	local id=0 d0=0 d1=0 out sent el st
	case $1 in
	perim)
		id=$(pctl -j limit set "$EG_DEV" dir egress dst "$EG_DST" proto udp dport "$EG_PORT" \
			rate "${EG_LIMIT}pps" burst 100 per-destination | jq -r .id) || return 1
		d0=$(eg_perim_dropped) ;;
	nft) eg_nft_add || return 1 ;;
	esac
	out=$(in_netns gw taskset -c "$GEN_CPU" "$BENCH/child_cpu" "$TOOLS/udpsend" --dst "$EG_DST" \
		--port "$EG_PORT" --rate "$2" --seconds "$3") || return 1
	sent=$(sed -nE 's/.*sent=([0-9]+).*/\1/p' <<<"$out")
	el=$(sed -nE 's/.*elapsed_ns=([0-9]+).*/\1/p' <<<"$out")
	st=$(sed -nE 's/.*stime_ns=([0-9]+).*/\1/p' <<<"$out")
	case $1 in
	perim)
		d1=$(eg_perim_dropped)
		pctl limit del "$EG_DEV" "$id" >/dev/null || return 1 ;;
	nft)
		d1=$(eg_nft_dropped)
		in_ns gw nft delete table netdev "${T}eg" || return 1 ;;
	esac
	echo "$sent $el $st $(( d1 - d0 ))"
}

declare -A EG_BEST EG_SENT EG_EL EG_DROP EG_NAMES
EG_NAMES=([none]="no limit (delivered to the peer)" [perim]="perim: egress limit (perim_tc, clsact egress)"
	[nft]="nftables: netdev egress meter")

section_egress() {
	# A rate near what one sender manages: it spins little between sends, so
	# most of its run time is system time and the tick-sampled split is stable.
	local args=() rounds=3 secs=1 rate=${EG_RATE:-200000} r m sent el st dropped ns
	quick && args=(-r 2 -n 200000) rounds=1 secs=0.5 rate=20000
	"$BENCH/tc_bench" "${args[@]}" || return 1
	echo
	eg_setup >"$TMP/eg-setup.log" 2>&1 || { cat "$TMP/eg-setup.log" >&2; return 1; }
	for r in $(seq "$rounds"); do
		for m in none perim nft; do
			read -r sent el st dropped < <(eg_flood "$m" "$rate" "$secs") || return 1
			[ -n "$st" ] || { echo "egress: the $m flood reported nothing" >&2; return 1; }
			ns=$(( st / sent ))
			if [ -z "${EG_BEST[$m]:-}" ] || [ "$ns" -lt "${EG_BEST[$m]}" ]; then
				EG_BEST[$m]=$ns EG_SENT[$m]=$sent EG_EL[$m]=$el EG_DROP[$m]=$dropped
			fi
		done
	done
	eg_report "$rate" "$secs" "$rounds"
}

eg_report() {
	local m
	echo "## Egress flood: the sender's system CPU per packet"
	echo
	echo "tests/tools/udpsend (an ordinary UDP socket, paced at $1 pps, 16-byte payload) in the gateway"
	echo "namespace sends $(awk -v r="$1" -v s="$2" 'BEGIN { print r * s }') datagrams to its veth peer (a sender slower than the pace takes longer:"
	echo "see achieved pps), pinned to CPU $GEN_CPU; its system CPU (rusage from wait4,"
	echo "tests/bench/child_cpu) over the datagrams sent. Both limits are per destination,"
	echo "$EG_LIMIT pps, burst 100, so nearly all the flood is dropped at the hook. Best of $3 interleaved rounds."
	echo
	echo "| egress | sent | achieved pps | dropped at the hook | sender system ns/pkt | vs nftables |"
	echo "|---|---:|---:|---:|---:|---:|"
	for m in none perim nft; do
		printf '| %s | %s | %s | %s | %s | %s |\n' "${EG_NAMES[$m]}" "${EG_SENT[$m]}" \
			"$(fdiv "$(( EG_SENT[$m] * 1000 ))" "$(( EG_EL[$m] / 1000000 ))" 0)" \
			"${EG_DROP[$m]}" "${EG_BEST[$m]}" "$(fdiv "${EG_BEST[$m]}" "${EG_BEST[nft]}")"
	done
	echo
	echo "The ratio is the figure to read: the absolute nanoseconds depend on the machine and its load."
	echo "The kernel splits the process's precise run time into system and user time by tick samples,"
	echo "so some percent of noise per run remains; udpsend spins between sends, which is user time and"
	echo "not counted. Without a limit every datagram also crosses the veth and is received"
	echo "by the peer (softirq work that the sending context may carry); a drop at the hook skips that."
	echo "Either hook's own work (tens of ns: see the table above for perim_tc) is a few percent of a"
	echo "sendto() of this size, so a ratio near 1 says the limit is not what the sender pays for."
}
