# shellcheck shell=bash
# What a whole-ruleset switch costs: perimd holds ruleset A (N per-source /32
# rules), then `perimctl apply` of ruleset B (N other rules: N added, N
# removed, one switch) is timed, RULESET_ROUNDS times alternating A and B;
# beside it `nft -f` of an equivalent nftables ruleset (N rules, each a
# per-source meter on one /32), replacing the previous one in one
# transaction, in a test namespace.

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

# ruleset_cost N BASE-B: RS_APPLY and RS_NFT, median ms of one switch from A
# (sources at 10.100+, 100pps) to B (sources at 10.BASE-B+, 200pps) and back.
ruleset_cost() {
	local n=$1 bb=$2 ns=rs$1-$2 dev=${T}s sock=$TMP/rs$1-$2.sock log=$TMP/rs$1-$2.log pid i t0 t1 f ms=() nft=()
	ns_add "$ns" || return 1
	ip -n "$T-$ns" link add "$dev" type veth peer name "${T}S" && ip -n "$T-$ns" link set "$dev" up || return 1
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
	for (( i = 0; i < RULESET_ROUNDS; i++ )); do
		f=$TMP/rsB; (( i % 2 )) && f=$TMP/rsA
		t0=$(date +%s%N)
		"$PERIMCTL" -s "$sock" -j apply "$f" > "$TMP/rs.out" || return 1
		t1=$(date +%s%N)
		[ "$(jq -c '[.added + .replaced]' "$TMP/rs.out")" = "[$n]" ] || { echo "ruleset: $(head -c 200 "$TMP/rs.out")" >&2; return 1; }
		ms+=("$(fdiv $(( t1 - t0 )) 1000000 1)")
	done
	kill "$pid"; wait "$pid" 2>/dev/null
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
	RS_NFT=$(printf '%s\n' "${nft[@]}" | median)
}

section_ruleset() {
	local n sizes=(${RULESET_SIZES:-100 8191 10000 16383})
	quick && sizes=(100 1000) RULESET_ROUNDS=3
	echo "## Control plane: whole-ruleset switch (perimctl apply) beside nft -f"
	echo
	echo "perimd holds N per-source /32 rules; \`perimctl apply\` of another N-rule file is timed from"
	echo "perimctl's start to its exit (file read, parse, model, flatten, maps with the waits for running"
	echo "programs, state file). *disjoint*: every source new (N added, N removed); a new rule takes a"
	echo "rule slot no old rule holds until the switch, so a disjoint switch fits up to 8191 rules"
	echo "(16383 slots, perim's maximum). *same sources*: every rule's rate changes (N replaced, ids"
	echo "kept), which fits the maximum. nft -f replaces an nftables table of N per-source meters in"
	echo "one transaction (same sources and rates). Median of $RULESET_ROUNDS rounds, alternating."
	echo
	echo "| rules | switch | perimctl apply (ms) | nft -f (ms) | ratio | goal (10,000: < 100 ms) |"
	echo "|---:|---|---:|---:|---:|---|"
	for n in "${sizes[@]}"; do
		if (( n <= 8191 )); then
			ruleset_cost "$n" 150 || return 1
			echo "| $n | disjoint | $RS_APPLY | $RS_NFT | $(fdiv "$RS_APPLY" "$RS_NFT") | |"
		fi
		ruleset_cost "$n" 100 || return 1
		echo "| $n | same sources | $RS_APPLY | $RS_NFT | $(fdiv "$RS_APPLY" "$RS_NFT") | $( [ "$n" = 10000 ] && met "$RS_APPLY" 100) |"
	done
}
