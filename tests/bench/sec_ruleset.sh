# shellcheck shell=bash
# What a whole-ruleset switch costs: perimd holds ruleset A (N per-source /32
# rules), then `perimctl apply` of ruleset B (N other rules: N added, N
# removed, one switch) is timed, RULESET_ROUNDS times alternating A and B,
# as the operator runs it (counts only) and with -j (every changed line in
# the reply); beside it the floor (ruleset_floor: the same map writes in
# batches and the state file's one synced write, nothing else), `nft -f` of
# an equivalent nftables ruleset (N rules, each a per-source meter on one
# /32) replacing the previous one in one transaction, in a test namespace,
# and the datapath's ns per packet (perim's attached XDP program run through
# BPF_PROG_TEST_RUN on a frame from a source both rulesets limit) idle and
# while switches run back to back.

RULESET_ROUNDS=5

# ruleset_file FILE DEV N BASE RATE: N rules with sources 10.BASE+.x.y/32
ruleset_file() {
	local i
	{
		echo "attach $2"
		for (( i = 1; i <= $3; i++ )); do
			echo "limit set $2 src 10.$(( $4 + i / 65536 )).$(( i / 256 % 256 )).$(( i % 256 ))/32 proto udp rate $5pps"
		done
	} > "$1"
}

# nft_file FILE N BASE RATE: the same as an nftables table, replaced whole
nft_file() {
	local i
	{
		echo "table inet ${T}rs"
		echo "delete table inet ${T}rs"
		echo "table inet ${T}rs {"
		echo "  chain in { type filter hook input priority 0; policy accept;"
		for (( i = 1; i <= $2; i++ )); do
			echo "    ip saddr 10.$(( $3 + i / 65536 )).$(( i / 256 % 256 )).$(( i % 256 )) udp dport 0-65535 meter m$i { ip saddr limit rate over $4/second } drop"
		done
		echo "  }"
		echo "}"
	} > "$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# apply_ms SOCK FILE N [-j]: ms of one `perimctl apply` that changed N rules (added + replaced)
apply_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$PERIMCTL" -s "$1" ${4:+"$4"} apply "$2" > "$TMP/rs.out" || return 1
	t1=$(date +%s%N)
	if [ "${4:-}" = -j ]; then
		[ "$(jq -c '[.added + .replaced, (.changes | length) > 0]' "$TMP/rs.out")" = "[$3,true]" ]
	else
		[ "$(sed -nE 's/.*: ([0-9]+) added, [0-9]+ removed, ([0-9]+) replaced$/\1 \2/p' "$TMP/rs.out" |
		     awk '{ print $1 + $2 }')" = "$3" ]
	fi || { echo "ruleset: $(head -c 200 "$TMP/rs.out")" >&2; return 1; }
	fdiv $(( t1 - t0 )) 1000000 1
}

# sched_of PID: "CPU-ns RUNQUEUE-WAIT-ns" of PID's threads so far (schedstat)
sched_of() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c, w }'; }

# udp_frame FILE A B C: a 64-byte Ethernet/IPv4/UDP frame from 10.A.B.C to 10.255.0.1, port 9
udp_frame() {
	local sum=0 w hex=
	# IPv4 header words: version/ihl/tos, total length 50, id, DF, ttl 64/udp, checksum, source, destination
	local hdr=(0x4500 0x0032 0x0000 0x4000 0x4011 0x0000 $(( 10 << 8 | $2 )) $(( $3 << 8 | $4 )) 0x0aff 0x0001)
	for w in "${hdr[@]}"; do sum=$(( sum + w )); done
	while (( sum >> 16 )); do sum=$(( (sum & 0xffff) + (sum >> 16) )); done
	hdr[5]=$(( ~sum & 0xffff ))
	for w in "${hdr[@]}"; do hex+=$(printf '\\x%02x\\x%02x' $(( w >> 8 )) $(( w & 0xff ))); done
	{
		printf '\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00'
		printf '%b' "$hex"
		printf '\x30\x39\x00\x09\x00\x1e\x00\x00'
		head -c 22 /dev/zero
	} > "$1"
}

# prog_ns PROG-ID FRAME: ns per run of the program on FRAME (BPF_PROG_TEST_RUN, 200,000 runs)
prog_ns() {
	bpftool prog run id "$1" data_in "$2" repeat 200000 2>&1 | sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p'
}

# datapath_cost NS DEV SOCK: RS_IDLE_NS, RS_SWITCH_NS (medians), RS_SWITCHES (applies during the runs)
datapath_cost() {
	local id loop i idle=() during=()
	id=$(ip -n "$T-$1" -j -d link show dev "$2" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty')
	[ -n "$id" ] || { echo "ruleset: no XDP program on $2" >&2; return 1; }
	udp_frame "$TMP/rs.frame" 100 0 1
	for (( i = 0; i < RULESET_ROUNDS; i++ )); do idle+=("$(prog_ns "$id" "$TMP/rs.frame")"); done
	: > "$TMP/rs.switches"
	( while :; do
		"$PERIMCTL" -s "$3" apply "$TMP/rsB" >/dev/null && echo >> "$TMP/rs.switches"
		"$PERIMCTL" -s "$3" apply "$TMP/rsA" >/dev/null && echo >> "$TMP/rs.switches"
	  done ) &
	loop=$!
	track_pid "$loop"
	wait_until 60 test -s "$TMP/rs.switches" || { kill "$loop"; return 1; }
	for (( i = 0; i < 2 * RULESET_ROUNDS; i++ )); do during+=("$(prog_ns "$id" "$TMP/rs.frame")"); done
	RS_SWITCHES=$(wc -l < "$TMP/rs.switches")
	kill "$loop"; wait "$loop" 2>/dev/null
	"$PERIMCTL" -s "$3" apply "$TMP/rsA" >/dev/null || return 1
	RS_IDLE_NS=$(printf '%s\n' "${idle[@]}" | median)
	RS_SWITCH_NS=$(printf '%s\n' "${during[@]}" | median)
}

# ruleset_cost N BASE-B: RS_APPLY, RS_APPLY_J, RS_CPU and RS_WAIT (perimd's CPU and run-queue
# wait during a plain apply), RS_FLOOR, RS_NFT (median ms of one switch from
# A, sources at 10.100+, 100pps, to B, sources at 10.BASE-B+, 200pps, and back) and datapath_cost's.
ruleset_cost() {
	local n=$1 bb=$2 ns=rs$1-$2 dev=${T}s sock=$TMP/rs$1-$2.sock log=$TMP/rs$1-$2.log pid i f t0 t1 c0 w0 c1 w1
	local ms=() msj=() nft=() cpu=() rq=()
	ns_add "$ns" || return 1
	ip -n "$T-$ns" link add "$dev" type veth peer name "${T}S" && ip -n "$T-$ns" link set "$dev" up &&
		ip -n "$T-$ns" link set "${T}S" up || return 1
	track_path "$PIN_ROOT-$ns"
	: > "$log"
	nsenter --net="/run/netns/$T-$ns" "$PERIMD" --socket "$sock" --pin-root "$PIN_ROOT-$ns" \
		--state "$TMP/$ns.state" --interface "$dev" >>"$log" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_until 60 grep -q 'perimd: ready' "$log" || { echo "ruleset: perimd not ready" >&2; cat "$log" >&2; return 1; }
	ruleset_file "$TMP/rsA" "$dev" "$n" 100 100
	ruleset_file "$TMP/rsB" "$dev" "$n" "$bb" 200
	"$PERIMCTL" -s "$sock" apply "$TMP/rsA" >/dev/null || return 1
	for (( i = 0; i < 2 * RULESET_ROUNDS; i++ )); do
		f=$TMP/rsB; (( i % 2 )) && f=$TMP/rsA
		if (( i / 2 % 2 )); then
			msj+=("$(apply_ms "$sock" "$f" "$n" -j)") || return 1
		else
			read -r c0 w0 < <(sched_of "$pid")
			ms+=("$(apply_ms "$sock" "$f" "$n")") || return 1
			read -r c1 w1 < <(sched_of "$pid")
			cpu+=("$(fdiv $(( c1 - c0 )) 1000000 1)")
			rq+=("$(fdiv $(( w1 - w0 )) 1000000 1)")
		fi
	done
	datapath_cost "$ns" "$dev" "$sock" || return 1
	kill "$pid"; wait "$pid" 2>/dev/null
	"$BENCH/ruleset_floor" "$n" "$RULESET_ROUNDS" "$TMP" > "$TMP/rs.floor" || return 1
	if [ "$bb" = 100 ]; then
		RS_FLOOR=$(awk '{ print $1 + $3 }' "$TMP/rs.floor" | median)
	else
		RS_FLOOR=$(awk '{ print $2 + $3 }' "$TMP/rs.floor" | median)
	fi
	nft_file "$TMP/nftA" "$n" 100 100
	nft_file "$TMP/nftB" "$n" "$bb" 200
	on_cleanup ip netns exec "$T-$ns" nft delete table inet "${T}rs"
	printf 'table inet %srs\n' "$T" > "$TMP/nft0"
	ip netns exec "$T-$ns" nft -f "$TMP/nft0" && ip netns exec "$T-$ns" nft -f "$TMP/nftA" || return 1
	for (( i = 0; i < RULESET_ROUNDS; i++ )); do
		f=$TMP/nftB; (( i % 2 )) && f=$TMP/nftA
		t0=$(date +%s%N)
		ip netns exec "$T-$ns" nft -f "$f" || return 1
		t1=$(date +%s%N)
		nft+=("$(fdiv $(( t1 - t0 )) 1000000 1)")
	done
	RS_APPLY=$(printf '%s\n' "${ms[@]}" | median)
	RS_APPLY_J=$(printf '%s\n' "${msj[@]}" | median)
	RS_CPU=$(printf '%s\n' "${cpu[@]}" | median)
	RS_WAIT=$(printf '%s\n' "${rq[@]}" | median)
	RS_NFT=$(printf '%s\n' "${nft[@]}" | median)
}

section_ruleset() {
	local n sizes=(${RULESET_SIZES:-100 8191 10000 16383})
	quick && sizes=(100 1000) RULESET_ROUNDS=3
	echo "## Control plane: whole-ruleset switch (perimctl apply) beside nft -f"
	echo
	echo "perimd holds N per-source /32 rules; \`perimctl apply\` of another N-rule file is timed from"
	echo "perimctl's start to its exit (file read, parse, model, flatten, maps with the waits for running"
	echo "programs, state file): as an operator runs it (the counts), and with -j (every changed line in"
	echo "the reply). *disjoint*: every source new (N added, N removed); a new rule takes a rule slot no"
	echo "old rule holds until the switch, so a disjoint switch fits up to 8191 rules (16383 slots, perim's"
	echo "maximum). *same sources*: every rule's rate changes (N replaced, ids kept), which fits the"
	echo "maximum. *floor*: ruleset_floor, the same switch's map writes alone (batched; disjoint: N trie and"
	echo "N hash inserts and deletes, rules on and off, one wait for running programs) plus the state file's"
	echo "N lines written once and synced: what no implementation avoids. nft -f replaces an nftables table"
	echo "of N per-source meters in one transaction (same sources and rates). *datapath*: perim's attached"
	echo "XDP program through BPF_PROG_TEST_RUN on a frame from 10.100.0.1 (a source ruleset A limits), ns"
	echo "per packet idle and while switches run back to back (how many ran during the runs in brackets)."
	echo "*perimd CPU / wait*: perimd's CPU time during a plain apply and its time waiting for a CPU"
	echo "(schedstat): on a loaded machine the wall time is these two plus perimctl's share."
	echo "Median of $RULESET_ROUNDS rounds (datapath: $RULESET_ROUNDS idle, $(( 2 * RULESET_ROUNDS )) during), alternating."
	echo
	echo "| rules | switch | perimctl apply (ms) | perimd CPU / wait (ms) | apply -j (ms) | floor (ms) | nft -f (ms) | apply / nft | datapath idle / during switch (ns/pkt) | goal (10,000: < 100 ms) |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for n in "${sizes[@]}"; do
		if (( n <= 8191 )); then
			ruleset_cost "$n" 150 || return 1
			echo "| $n | disjoint | $RS_APPLY | $RS_CPU / $RS_WAIT | $RS_APPLY_J | $RS_FLOOR | $RS_NFT | $(fdiv "$RS_APPLY" "$RS_NFT") | $RS_IDLE_NS / $RS_SWITCH_NS ($RS_SWITCHES) | |"
		fi
		ruleset_cost "$n" 100 || return 1
		echo "| $n | same sources | $RS_APPLY | $RS_CPU / $RS_WAIT | $RS_APPLY_J | $RS_FLOOR | $RS_NFT | $(fdiv "$RS_APPLY" "$RS_NFT") | $RS_IDLE_NS / $RS_SWITCH_NS ($RS_SWITCHES) | $( [ "$n" = 10000 ] && met "$RS_APPLY" 100) |"
	done
}
