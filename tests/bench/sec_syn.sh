# shellcheck shell=bash
# SYN floods: the receiver's CPU per SYN with perim's XDP cookies, with the
# kernel's own syncookies (net.ipv4.tcp_syncookies=1, no XDP) and with
# nftables' synproxy alone (no XDP), in one run, rounds interleaving the
# three. A spoofed flood (xdp_live gen --tcp-syn: 65,536 sources, bare SYNs
# padded to 64 bytes, sent as XDP frames the way a NIC hands frames to its
# driver) from namespace "inet" reaches a listener on the gateway's veth, whose
# threaded NAPI kthread, pinned to RX_CPU, runs everything the SYN costs the
# receiver (XDP, or the stack's TCP and netfilter paths, and the answer's
# transmit); a real client (tcpconns, kernel TCP) makes connections beside
# the flood. perim runs in skb (generic) mode: a native XDP_TX on this
# host's veth never reaches the peer (tests/integ/test-syncookie.sh), so the
# client could not connect; one row adds perim in native mode, flood only.

SYN_GW=10.98.0.1
SYN_PORT=8080

syn_dev() { echo "${T}y"; }     # gateway side; ${T}Y in inet

syn_setup() {
	local gw=${T}y inet=${T}Y f=$TMP/syn-server.ready
	ns_add gw && ns_add inet || return 1
	ip link add "$gw" netns "$T-gw" type veth peer name "$inet" netns "$T-inet" || return 1
	ip -n "$T-gw" addr add "$SYN_GW/24" dev "$gw" && ip -n "$T-gw" link set "$gw" up || return 1
	ip -n "$T-inet" addr add 10.98.0.2/24 dev "$inet" && ip -n "$T-inet" link set "$inet" up || return 1
	# The spoofed sources are routed back out, so the kernel answers them (and its answers cost it).
	ip -n "$T-gw" route add default via 10.98.0.2 || return 1
	in_ns gw sysctl -qw net.ipv4.tcp_syncookies=1 net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null ||
		in_ns gw sysctl -qw net.ipv4.tcp_syncookies=1 || return 1
	# GRO on: without XDP the veth still runs NAPI for the XDP frames it receives, and builds
	# the skbs there, so the stack's paths run in the pinned kthread too (as in sec_live.sh).
	in_ns gw ethtool -K "$gw" gro on >/dev/null || return 1
	# An idle device that holds the generator in the XDP dispatcher (xdp_live.c).
	ip -n "$T-inet" link add "${T}h" type veth peer name "${T}H" || return 1
	cp "$LIVE" "$TMP/xdp_live" && SYN_GEN=$TMP/xdp_live || return 1
	SYN_NAPI=$(threaded_napi gw "$gw") || return 1
	ip netns exec "$T-gw" "$TOOLS/tcpconns" server --port "$SYN_PORT" --addr "$SYN_GW" --backlog 128 \
		--ready-file "$f" &
	track_pid $!
	wait_until 5 test -s "$f" || return 1
	perimd_start gw || return 1
	[ "$(pctl -j status | jq -r .syncookie.available)" = true ] ||
		{ echo "SYN protection unavailable: $(pctl -j status | jq -r .syncookie.reason)"; return 1; }
	SYN_MAC=$(mac_of gw "$gw")
}

# The netfilter side alone, as perim installs it (ctl/perimd/syn/synproxy.c), in a table of the run's.
syn_nft_on() {
	in_ns gw nft -f - <<-EOF
		table inet ${T}syn {
			chain raw {
				type filter hook prerouting priority raw; policy accept;
				ip daddr $SYN_GW tcp dport $SYN_PORT tcp flags & (fin|syn|rst|ack) == syn notrack
			}
			chain input {
				type filter hook input priority filter; policy accept;
				ip daddr $SYN_GW tcp dport $SYN_PORT ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
				ip daddr $SYN_GW tcp dport $SYN_PORT ct state invalid drop
			}
		}
	EOF
}
syn_nft_off() { in_ns gw nft delete table inet "${T}syn"; }

# syn_mode_on MODE / syn_mode_off MODE: kernel | synproxy | perim (skb) | native (perim, no client)
syn_mode_on() {
	case $1 in
	kernel) ;;
	synproxy) syn_nft_on ;;
	perim|native)
		pctl attach "$(syn_dev)" mode "$([ "$1" = native ] && echo native || echo skb)" >/dev/null &&
			pctl syncookie set "$(syn_dev)" dst "$SYN_GW/32" dport "$SYN_PORT" >/dev/null ;;
	esac
}
syn_mode_off() {
	case $1 in
	kernel) ;;
	synproxy) syn_nft_off ;;
	perim|native) pctl detach "$(syn_dev)" >/dev/null ;;
	esac
}

# syn_run MODE RATE SECONDS CONNS: prints "delivered cpu_ns ok conns"
syn_run() {
	local c0 c1 x0 e0 x1 e1 sent ok=0 conns=$4 client
	syn_mode_on "$1" || return 1
	c0=$(cpu_ns_of "$SYN_NAPI")
	read -r x0 e0 < <(xmit_of inet "${T}Y")
	in_ns inet nice -n -10 "$SYN_GEN" gen --dev "${T}Y" --hold-dev "${T}h" --dst-mac "$SYN_MAC" \
		--src 10.200.0.0 --sources 65536 --dst "$SYN_GW" --port "$SYN_PORT" --rate "$2" \
		--seconds "$3" --cpu "$GEN_CPU" --batch 64 --per-call 64 --tcp-syn > "$TMP/syn-flood.out" &
	local fl=$!
	if [ "$1" != native ]; then
		client=$(in_ns inet "$TOOLS/tcpconns" client --dst "$SYN_GW" --port "$SYN_PORT" --count "$conns" \
			--bytes 1024)
		ok=$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$client")
	else
		conns=0
	fi
	wait "$fl" || return 1
	sleep 0.05   # the ring's last frames (at most 256) are processed after the generator returns
	c1=$(cpu_ns_of "$SYN_NAPI")
	read -r x1 e1 < <(xmit_of inet "${T}Y")
	sent=$(sed -E 's/sent=([0-9]+).*/\1/' "$TMP/syn-flood.out")
	syn_mode_off "$1" || return 1
	echo "$(( sent - (e1 - e0) )) $(( c1 - c0 )) $ok $conns"
}

# syn_prog_ns RATE SECONDS: perim_xdp_syn's own ns per run in native mode (bpf_stats on for this run
# only: it adds two clock reads per run, which the figure includes), or n/a
syn_prog_ns() {
	local id t0 n0 t1 n1 was
	was=$(cat /proc/sys/kernel/bpf_stats_enabled)
	syn_mode_on native || return 1
	id=$(pctl -j status | jq -r '.interfaces[0].programs[0].id')
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r t0 n0 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	in_ns inet nice -n -10 "$SYN_GEN" gen --dev "${T}Y" --hold-dev "${T}h" --dst-mac "$SYN_MAC" \
		--src 10.200.0.0 --sources 65536 --dst "$SYN_GW" --port "$SYN_PORT" --rate "$1" \
		--seconds "$2" --cpu "$GEN_CPU" --batch 64 --per-call 64 --tcp-syn > /dev/null
	read -r t1 n1 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	sysctl -qw kernel.bpf_stats_enabled="$was"
	syn_mode_off native || return 1
	[ "$(( n1 - n0 ))" -gt 0 ] && echo $(( (t1 - t0) / (n1 - n0) )) || echo n/a
}

# median of the numbers on stdin
syn_median() {
	sort -g | awk '{v[NR] = $1} END {if (!NR) print "n/a"; else printf "%d\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

section_syn() {
	local rounds=${SYN_ROUNDS:-3} rate=${SYN_RATE:-40000} secs=2 conns=200 r m sent cpu ok n
	declare -A ns_of ok_of conns_of sent_of
	quick && rounds=1 secs=0.5 conns=20
	echo "## SYN flood: receiver CPU per SYN (perim's XDP cookies, kernel syncookies, nftables synproxy)"
	echo
	syn_setup > "$TMP/syn-setup.log" 2>&1 || { cat "$TMP/syn-setup.log" >&2; return 1; }
	for r in $(seq "$rounds"); do
		for m in kernel synproxy perim native; do
			read -r sent cpu ok n < <(syn_run "$m" "$rate" "$secs" "$conns") || return 1
			[ "${sent:-0}" -gt 0 ] || { echo "syn: $m sent nothing" >&2; return 1; }
			ns_of[$m]+="$(( cpu / sent )) "
			ok_of[$m]=$(( ${ok_of[$m]:-0} + ok )) conns_of[$m]=$(( ${conns_of[$m]:-0} + n ))
			sent_of[$m]=$(( ${sent_of[$m]:-0} + sent ))
		done
	done
	local k
	k=$(tr ' ' '\n' <<<"${ns_of[kernel]}" | sed '/^$/d' | syn_median)
	echo "A spoofed SYN flood at $rate pps for ${secs} s per run (65,536 sources, bare SYNs padded to"
	echo "64 bytes, XDP frames from xdp_live on CPU $GEN_CPU) at a listener on the gateway's veth; the"
	echo "receiver's cost is the CPU time of that veth's threaded NAPI kthread (pinned to CPU $RX_CPU)"
	echo "over the SYNs delivered to it;"
	echo "median of $rounds rounds, the modes interleaved in each. A real client (kernel TCP) makes"
	echo "$conns connections (1 KiB each way) during each run. \"Ceiling\" is 1 s over the CPU per SYN:"
	echo "an extrapolation to one saturated receiver core, not a measured rate."
	echo
	echo "| mode | SYNs delivered | receiver CPU per SYN | vs kernel syncookies | ceiling per core | client connections |"
	echo "|---|---|---|---|---|---|"
	for m in kernel synproxy perim native; do
		local med label
		med=$(tr ' ' '\n' <<<"${ns_of[$m]}" | sed '/^$/d' | syn_median)
		case $m in
		kernel) label="kernel syncookies (tcp_syncookies=1, no XDP)" ;;
		synproxy) label="nftables synproxy alone (no XDP)" ;;
		perim) label="perim: XDP cookies (skb mode) + SYNPROXY" ;;
		native) label="perim: XDP cookies (native mode, flood only)" ;;
		esac
		echo "| $label | ${sent_of[$m]} | $med ns | $(fdiv "$med" "$k" 2)x | $(fdiv 1000000000 "$med" 0) SYN/s | $([ "${conns_of[$m]}" -gt 0 ] && echo "${ok_of[$m]}/${conns_of[$m]}" || echo -) |"
	done
	echo
	local p prog
	prog=$(syn_prog_ns "$rate" "$secs") || return 1
	echo "Of perim's native figure, perim_xdp_syn itself (bpf_stats run time per run, one more run with"
	echo "bpf_stats on): $prog ns per SYN, $(fdiv "$prog" "$k" 2)x the kernel's whole path; the rest is"
	echo "the veth's NAPI receive and the XDP_TX of the answer."
	echo
	p=$(tr ' ' '\n' <<<"${ns_of[native]}" | sed '/^$/d' | syn_median)
	echo "Goal: perim at most 0.25x the kernel's own syncookie path per SYN: native $(fdiv "$p" "$k" 2)x," \
		"met: $(met "$(fdiv "$p" "$k" 2)" 0.25)."
}
