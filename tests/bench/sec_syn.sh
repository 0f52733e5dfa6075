# shellcheck shell=bash
# SYN floods: the receiver's CPU per SYN with perim's XDP cookies, with the
# kernel's own syncookies (net.ipv4.tcp_syncookies=1, no XDP) and with
# nftables' synproxy alone (no XDP), in one run, rounds interleaving the
# modes; two reference XDP programs beside them (syn_reflect, syn_cookie in
# progs/live_progs.bpf.c) show the floor of answering a SYN with XDP_TX here,
# and perim flood only (no client) is measured the way they are.
# Then, per mode, the highest SYN rate the receiver sustains, found by a
# stepped search with a real client beside the flood.
#
# A spoofed flood (xdp_live gen --tcp-syn: 65,536 sources, bare SYNs padded to
# 64 bytes, sent as XDP frames the way a NIC hands frames to its driver) from
# namespace "inet" reaches a listener on the gateway's veth, whose threaded
# NAPI kthread, pinned to RX_CPU, runs everything the SYN costs the receiver
# (XDP, or the stack's TCP and netfilter paths, and the answer's transmit); a
# real client (tcpconns, kernel TCP) makes connections beside the flood.
# The inet side runs XDP_PASS: a veth hands its XDP_TX frames only to a peer
# running XDP. The peer's receive of every answer (XDP_TX's through the peer's
# NAPI, the stack's through the sending CPU's backlog) runs on the measured
# core in every mode, as softirq work of the kthread. Giving the peer its own
# threaded NAPI on another CPU would take it off, but on 6.18 that stalled the
# gateway's ring (its NAPI no longer woken: the generator's frames all
# dropped at the veth's ring after the first 255) once the client ran beside
# a perim flood.

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
	# The client's segments into the gateway's ring, beside the flood's frames, in every mode: a
	# veth hands its peer's NAPI only segments it may aggregate (no TSO on the sender); the rest go
	# through the sending CPU's backlog, where no XDP program sees them and no flood competes.
	in_ns inet ethtool -K "$inet" tso off >/dev/null || return 1
	# An idle device that holds the generator in the XDP dispatcher (xdp_live.c).
	ip -n "$T-inet" link add "${T}h" type veth peer name "${T}H" || return 1
	cp "$LIVE" "$TMP/xdp_live_syn" && SYN_GEN=$TMP/xdp_live_syn || return 1
	SYN_VIA=$(gen_probe_via) || return 1
	if [ "$SYN_VIA" = packet ]; then SYN_GEN_DEV=$(gen_relay y "$inet") || return 1; fi
	in_ns inet "$SYN_GEN" attach --dev "$inet" --prog pass || return 1
	SYN_NAPI=$(threaded_napi gw "$gw") || return 1
	# --idle-ms: a connection whose client gave up under the flood must not hold the server (one
	# connection at a time) through the next steps.
	ip netns exec "$T-gw" "$TOOLS/tcpconns" server --port "$SYN_PORT" --addr "$SYN_GW" --backlog 128 \
		--idle-ms 1500 --ready-file "$f" &
	track_pid $!
	wait_until 5 test -s "$f" || return 1
	perimd_start gw || return 1
	[ "$(pctl -j status | jq -r .syncookie.available)" = true ] ||
		{ echo "SYN protection unavailable: $(pctl -j status | jq -r .syncookie.reason)"; return 1; }
	SYN_MAC=$(mac_of gw "$gw")
	# The flood's frames come from the inet veth's address, so answers are addressed to its stack.
	SYN_SRC_MAC=$(mac_of inet "$inet")
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

# syn_mode_on MODE / syn_mode_off MODE: kernel | synproxy | perim (native XDP) | perim-flood
# (perim, flood only) | reflect | cookie (the reference programs, flood only)
syn_mode_on() {
	case $1 in
	kernel) ;;
	synproxy) syn_nft_on ;;
	perim|perim-flood)
		pctl attach "$(syn_dev)" mode native >/dev/null &&
			pctl syncookie set "$(syn_dev)" dst "$SYN_GW/32" dport "$SYN_PORT" >/dev/null ;;
	reflect|cookie) in_ns gw "$SYN_GEN" attach --dev "$(syn_dev)" --prog "$1" ;;
	esac
}
syn_mode_off() {
	case $1 in
	kernel) ;;
	synproxy) syn_nft_off ;;
	perim|perim-flood) pctl detach "$(syn_dev)" >/dev/null ;;
	reflect|cookie) ip -n "$T-gw" link set "$(syn_dev)" xdp off ;;
	esac
}
syn_has_client() { [ "$1" != reflect ] && [ "$1" != cookie ] && [ "$1" != perim-flood ]; }

# syn_flood_start RATE SECONDS: the flood in the background (SYN_FLOOD: its pid; output in
# $TMP/syn-flood.out); SIGTERM ends it early, and it still prints what it sent.
syn_flood_start() {
	local via=(nice -n -10 "$SYN_GEN" gen --dev "${T}Y" --hold-dev "${T}h")
	[ "${SYN_VIA:-live}" = packet ] && via=(chrt -f 10 "$SYN_GEN" gen --via packet --dev "$SYN_GEN_DEV")
	ip netns exec "$T-inet" "${via[@]}" \
		--dst-mac "$SYN_MAC" --src-mac "$SYN_SRC_MAC" --src 10.200.0.0 --sources 65536 \
		--dst "$SYN_GW" --port "$SYN_PORT" --rate "$1" --seconds "$2" --cpu "$GEN_CPU" \
		--batch 64 --per-call 64 --tcp-syn > "$TMP/syn-flood.out" &
	SYN_FLOOD=$!
	track_pid "$SYN_FLOOD"
}
syn_xmit_count() { xmit_of inet "${T}Y" | awk '{print $1 + $2}'; }
# syn_flood_flowing BEFORE: the generator has handed frames to the veth since the count BEFORE
# (loading it takes a while on a busy machine: the client must not start before the flood), or
# it is gone (syn_flood_wait says which).
syn_flood_flowing() { [ "$(syn_xmit_count)" -gt "$1" ] || ! kill -0 "$SYN_FLOOD" 2>/dev/null; }
# syn_flood_wait BEFORE MODE: waits for the flood's frames; false, saying why, when none came
syn_flood_wait() {
	wait_until 30 syn_flood_flowing "$1"
	[ "$(syn_xmit_count)" -le "$1" ] || return 0
	if kill -0 "$SYN_FLOOD" 2>/dev/null; then
		echo "syn: $2: the flood sent no frame in 30 s" >&2
	else
		echo "syn: $2: the generator exited before sending ($(cat "$TMP/syn-flood.out"))" >&2
	fi
	return 1
}
syn_flood_field() { sed -nE "s/.*$1=([0-9]+).*/\\1/p" "$TMP/syn-flood.out"; }

# syn_client CONNS [TIMEOUT_MS GIVE_UP]: the client's "ok" count
syn_client() {
	in_ns inet "$TOOLS/tcpconns" client --dst "$SYN_GW" --port "$SYN_PORT" --count "$1" --bytes 1024 \
		--timeout-ms "${2:-3000}" --give-up "${3:-0}" | sed -nE 's/.*ok=([0-9]+).*/\1/p'
}

# syn_run MODE RATE SECONDS CONNS: prints "delivered cpu_ns ok conns" (mode already on)
syn_run() {
	local c0 c1 x0 e0 x1 e1 sent ok=0 conns=$4
	c0=$(cpu_ns_of "$SYN_NAPI")
	read -r x0 e0 < <(xmit_of inet "${T}Y")
	syn_flood_start "$2" "$3"
	syn_flood_wait "$(( x0 + e0 ))" "$1" || return 1
	if syn_has_client "$1"; then ok=$(syn_client "$conns"); else conns=0; fi
	wait "$SYN_FLOOD" || return 1
	sleep 0.05   # the ring's last frames (at most 256) are processed after the generator returns
	c1=$(cpu_ns_of "$SYN_NAPI")
	read -r x1 e1 < <(xmit_of inet "${T}Y")
	sent=$(syn_flood_field sent)
	echo "$(( sent - (e1 - e0) )) $(( c1 - c0 )) ${ok:-0} $conns"
}

# syn_prog_ns MODE RATE SECONDS: the XDP program's own ns per run (bpf_stats on for this run
# only: it adds two clock reads per run, which the figure includes), or n/a
syn_prog_ns() {
	local id t0 n0 t1 n1 was
	was=$(cat /proc/sys/kernel/bpf_stats_enabled)
	syn_mode_on "$1" || return 1
	id=$(ip -n "$T-gw" -j link show dev "$(syn_dev)" | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$id" ] || { syn_mode_off "$1"; echo "syn: no XDP program on $(syn_dev) in mode $1" >&2; return 1; }
	# restored however the run ends: left on, it adds two clock reads to every
	# BPF program on the machine (a killed run left it on for a whole bench)
	on_cleanup "sysctl -qw kernel.bpf_stats_enabled=$was"
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r t0 n0 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	syn_flood_start "$2" "$3"
	wait "$SYN_FLOOD"
	read -r t1 n1 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	sysctl -qw kernel.bpf_stats_enabled="$was"
	syn_mode_off "$1" || return 1
	[ "$(( n1 - n0 ))" -gt 0 ] && echo $(( (t1 - t0) / (n1 - n0) )) || echo n/a
}

# median of the numbers on stdin
syn_median() {
	sort -g | awk '{v[NR] = $1} END {if (!NR) print "n/a"; else printf "%d\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
syn_words_median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | syn_median; }

syn_label() {
	case $1 in
	kernel) echo "kernel syncookies (tcp_syncookies=1, no XDP)" ;;
	synproxy) echo "nftables synproxy alone (no XDP)" ;;
	perim) echo "perim: XDP cookies (native) + SYNPROXY" ;;
	perim-flood) echo "perim as above, flood only (no client, as the references)" ;;
	reflect) echo "reference: syn_reflect (SYN-ACK, fixed sequence number, XDP_TX)" ;;
	cookie) echo "reference: syn_cookie (syn_reflect + the kernel's cookie helper)" ;;
	esac
}

# syn_step MODE RATE CONNS: one step of the rate search (mode on). Prints "pass|fail|gen
# offered_pps taken_share busy_share ok". The flood runs while the client makes its
# connections, and at least SYN_STEP_MS. Passes when the client completed 99.9% of its
# connections (each within the client's 3 s: a lost SYN costs a 1 s retransmission, two cost
# 3 s); "gen" when the generator itself fell 5% short of the rate. taken: the share of the SYNs
# offered that the receiver took (the rest overflowed the veth's ring); busy: its kthread's
# share of the time.
syn_step() {
	local x0 e0 x1 e1 c0 c1 sent ns ok offered taken busy t0 left
	read -r x0 e0 < <(xmit_of inet "${T}Y")
	c0=$(cpu_ns_of "$SYN_NAPI")
	t0=$(date +%s%N)
	syn_flood_start "$2" 30
	syn_flood_wait "$(( x0 + e0 ))" "$1" || return 1
	# More failures than 99.9% allows end the step: each waited the whole 3 s.
	ok=$(syn_client "$3" 3000 $(( $3 / 1000 + 1 )))
	# A measurement window, not a wait for an event: the rate is judged over at least SYN_STEP_MS.
	left=$(( SYN_STEP_MS - ($(date +%s%N) - t0) / 1000000 ))
	[ "$left" -le 0 ] || sleep "$(fdiv "$left" 1000 3)"
	kill -TERM "$SYN_FLOOD" 2>/dev/null
	wait "$SYN_FLOOD" || return 1
	c1=$(cpu_ns_of "$SYN_NAPI")
	read -r x1 e1 < <(xmit_of inet "${T}Y")
	sent=$(syn_flood_field sent) ns=$(syn_flood_field elapsed_ns)
	[ "${sent:-0}" -gt 0 ] && [ "${ns:-0}" -gt 0 ] || { echo "syn: the flood sent nothing" >&2; return 1; }
	offered=$(( sent * 1000000000 / ns ))
	taken=$(fdiv "$(( sent - (e1 - e0) ))" "$sent" 3)
	busy=$(fdiv "$(( c1 - c0 ))" "$ns" 2)
	if [ "$(( offered * 100 ))" -lt "$(( $2 * 95 ))" ]; then
		echo "gen $offered $taken $busy ${ok:-0}"
	elif [ "$(( ${ok:-0} * 1000 ))" -ge "$(( $3 * 999 ))" ]; then
		echo "pass $offered $taken $busy $ok"
	else
		echo "fail $offered $taken $busy ${ok:-0}"
	fi
}

# syn_search MODE START MAX CONNS: doubles the rate from START until a step fails (or MAX), then
# two bisection steps between the last pass and the first fail. Prints "best taken busy
# first_fail note": the highest rate passed (0: even START failed) with its step's taken and
# busy shares, the lowest failed ("-": none up to MAX) and why the search stopped.
syn_search() {
	local mode=$1 rate=$2 max=$3 conns=$4 best=0 bad=- note=limit
	local verdict offered taken busy ok best_taken=- best_busy=-
	syn_mode_on "$mode" || return 1
	# syn_try RATE: one step (again once if the generator fell short: this machine is shared),
	# logged on stderr; sets verdict and, on a pass, the best step's figures
	syn_try() {
		for _ in 1 2; do
			read -r verdict offered taken busy ok < <(syn_step "$mode" "$1" "$conns") || return 1
			echo "syn search $mode $1: $verdict offered=$offered taken=$taken busy=$busy ok=$ok/$conns" >&2
			[ "$verdict" = gen ] || break
		done
		[ "$verdict" != pass ] || { best=$1 best_taken=$taken best_busy=$busy; }
	}
	while [ "$rate" -le "$max" ]; do
		syn_try "$rate" || { syn_mode_off "$mode"; return 1; }
		case $verdict in
		pass) rate=$(( rate * 2 )) ;;
		gen) note=generator; break ;;
		*) bad=$rate note=fail; break ;;
		esac
	done
	if [ "$bad" != - ] && [ "$best" -gt 0 ]; then
		for _ in 1 2; do
			rate=$(awk -v a="$best" -v b="$bad" 'BEGIN { printf "%d\n", sqrt(a * b) / 1000 * 1000 }')
			[ "$rate" -gt "$best" ] && [ "$rate" -lt "$bad" ] || break
			syn_try "$rate" || { syn_mode_off "$mode"; return 1; }
			[ "$verdict" = pass ] || bad=$rate
		done
	fi
	syn_mode_off "$mode" || return 1
	echo "$best $best_taken $best_busy $bad $note"
}

# syn_signed A B: A - B with its sign, or n/a
syn_signed() {
	[ "$1" != n/a ] && [ "$2" != n/a ] || { echo n/a; return; }
	local d=$(( $1 - $2 ))
	[ "$d" -lt 0 ] && echo "$d" || echo "+$d"
}

# syn_above_reference PERIM KERNEL PERIM_FLOOD COOKIE PERIM_PROG COOKIE_PROG CONNS: where perim's
# receiver cost above syn_cookie's goes, from the run's medians (ns per SYN). Profiled on
# 2026-12-06 (perf on the kthread, flood only), perim and syn_cookie spent the same outside their
# programs: the veth's receive and XDP_TX, and the peer's stack taking in each answer (an skb
# built, the early-demux socket lookup, a route lookup, dropped as not local), on the same core.
syn_above_reference() {
	local p=$1 k=$2 pf=$3 c=$4 pp=$5 cp=$6 conns=$7
	echo "Where perim's cost above the references goes: its row carries a real client's $conns"
	echo "connections (the cookie checked in XDP, conntrack, SYNPROXY's handshake with the server,"
	echo "the data), charged to the flood's SYNs as in the kernel and synproxy rows; the references"
	echo "carry none. The client adds $(syn_signed "$p" "$pf") ns per flood SYN to perim's row. Flood only,"
	echo "perim takes $pf ns per SYN against syn_cookie's $c ns ($(syn_signed "$pf" "$c") ns, $(fdiv "$(( pf - c ))" "$k" 3)x the"
	echo "kernel's path), and perim_xdp_syn's own time is $pp ns against $cp ns ($(syn_signed "$pp" "$cp") ns,"
	echo "bpf_stats): the SYN stage's work the reference skips (the pipeline's parse and prefix"
	echo "lookup, the protection's match, the SYN's options read and answered, two checksum helper"
	echo "calls, the counters). Outside the programs a perf profile of the kthread (2026-12-06) found"
	echo "the same work for both: the veth's receive and XDP_TX and the peer's"
	echo "stack taking in each answer on this core, which is the reference's floor."
}

section_syn() {
	local rounds=${SYN_ROUNDS:-3} rate=${SYN_RATE:-40000} secs=2 conns=200 r m sent cpu ok n
	local modes="kernel synproxy perim perim-flood reflect cookie" search_conns=1000 search_max=3200000
	declare -A ns_of ok_of conns_of sent_of prog_of
	SYN_STEP_MS=1000
	quick && rounds=1 secs=0.5 conns=20 search_conns=100 search_max=200000 SYN_STEP_MS=300
	echo "## SYN flood: receiver CPU per SYN (perim's XDP cookies, kernel syncookies, nftables synproxy)"
	echo
	syn_setup > "$TMP/syn-setup.log" 2>&1 || { cat "$TMP/syn-setup.log" >&2; return 1; }
	for r in $(seq "$rounds"); do
		for m in $modes; do
			syn_mode_on "$m" || return 1
			read -r sent cpu ok n < <(syn_run "$m" "$rate" "$secs" "$conns") || return 1
			syn_mode_off "$m" || return 1
			[ "${sent:-0}" -gt 0 ] || { echo "syn: $m sent nothing" >&2; return 1; }
			ns_of[$m]+="$(( cpu / sent )) "
			ok_of[$m]=$(( ${ok_of[$m]:-0} + ok )) conns_of[$m]=$(( ${conns_of[$m]:-0} + n ))
			sent_of[$m]=$(( ${sent_of[$m]:-0} + sent ))
		done
	done
	for r in $(seq "$rounds"); do
		for m in perim reflect cookie; do
			prog_of[$m]+="$(syn_prog_ns "$m" "$rate" "$secs") " || return 1
		done
	done
	local k
	k=$(syn_words_median "${ns_of[kernel]}")
	echo "A spoofed SYN flood at $rate pps for ${secs} s per run (65,536 sources, bare SYNs padded to"
	echo "64 bytes, XDP frames from xdp_live on CPU $GEN_CPU) at a listener on the gateway's veth; the"
	echo "receiver's cost is the CPU time of that veth's threaded NAPI kthread (pinned to CPU $RX_CPU)"
	echo "over the SYNs delivered to it, which includes the peer's receive of each answer (a veth's"
	echo "peer runs on the sending core; a NIC would take the answer off it). Median of $rounds rounds, the"
	echo "modes interleaved in each. A real client (kernel TCP) makes $conns connections (1 KiB each way)"
	echo "during each run. The references answer bare SYNs only (no client): syn_reflect is the floor of"
	echo "answering a SYN from XDP on this veth, syn_cookie adds the kernel's cookie helper. \"Program\""
	echo "is the XDP program's own time per SYN (bpf_stats, one more round with it on)."
	if [ "${SYN_VIA:-live}" = packet ]; then gen_relay_text; fi
	echo
	echo "| mode | SYNs delivered | receiver CPU per SYN | vs kernel syncookies | program | client connections |"
	echo "|---|---|---|---|---|---|"
	for m in $modes; do
		local med prog
		med=$(syn_words_median "${ns_of[$m]}")
		# The program's figure is flood only in every mode (syn_prog_ns): perim's serves both rows.
		prog=$(syn_words_median "${prog_of[${m%-flood}]:-}")
		echo "| $(syn_label "$m") | ${sent_of[$m]} | $med ns | $(fdiv "$med" "$k" 2)x |" \
			"$([ "$prog" != n/a ] && echo "$prog ns" || echo -) |" \
			"$([ "${conns_of[$m]}" -gt 0 ] && echo "${ok_of[$m]}/${conns_of[$m]}" || echo -) |"
	done
	echo
	local p f
	p=$(syn_words_median "${ns_of[perim]}")
	f=$(syn_words_median "${ns_of[reflect]}")
	echo "| goal: receiver CPU per SYN <= 0.25 x the kernel's own syncookie path | ratio | met |"
	echo "|---|---:|---|"
	echo "| perim: XDP cookies (native) + SYNPROXY, with a real client | $(fdiv "$p" "$k" 2) | $(met "$(fdiv "$p" "$k" 2)" 0.25) |"
	echo "| reference: syn_reflect, the floor of any XDP answer on this veth (no cookie, no matching)" \
		"$(fle "$(fdiv "$f" "$k" 2)" 0.25 || echo "; above the goal, which no XDP answer here can meet") | $(fdiv "$f" "$k" 2) | |"
	echo
	syn_above_reference "$p" "$k" "$(syn_words_median "${ns_of[perim-flood]}")" \
		"$(syn_words_median "${ns_of[cookie]}")" "$(syn_words_median "${prog_of[perim]:-}")" \
		"$(syn_words_median "${prog_of[cookie]:-}")" "$conns"
	echo
	echo "### Highest sustained SYN rate on one receiver core"
	echo
	echo "A stepped search per mode: the flood's rate doubles from 50 kpps until a step fails, then two"
	echo "bisection steps. A step passes when a real client completes at least 99.9% of $search_conns"
	echo "connections during the flood (which lasts at least $SYN_STEP_MS ms), each within 3 s (1 KiB each"
	echo "way; the client's segments share the veth's ring with the flood in every mode). Not within 1 s:"
	echo "here nftables' SYNPROXY alone, without any flood, had 0.1-0.5% of 1000 connections take a"
	echo "second more. \"Taken\": the share of the SYNs offered that reached the receiver (the rest"
	echo "overflowed the veth's 256-frame ring); \"busy\": its kthread's CPU time over the step's length."
	echo
	echo "| mode | highest rate passed | SYNs taken there | receiver core busy there | first rate failed |"
	echo "|---|---|---|---|---|"
	local best taken busy bad note
	for m in kernel synproxy perim; do
		read -r best taken busy bad note < <(syn_search "$m" 50000 "$search_max" "$search_conns") || return 1
		[ -n "${note:-}" ] || return 1
		case $note in
		generator) bad="- (the generator fell short of $(( best > 0 ? best * 2 : 50000 )) pps)" ;;
		limit) bad="- (none up to $search_max pps)" ;;
		*) bad="$bad pps" ;;
		esac
		echo "| $(syn_label "$m") | $([ "$best" -gt 0 ] && echo "$best pps" || echo none) |" \
			"$taken | $busy | $bad |"
	done
}
