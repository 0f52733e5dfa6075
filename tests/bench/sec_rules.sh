# shellcheck shell=bash
# What one `perimctl limit set` costs as the rule count grows: perimd restores
# N - 1 per-source /32 rules from its state file, then a rule is set (timed)
# and deleted again (not timed), RULES_ROUNDS times; the median is reported.

RULES_ROUNDS=9

# rules_state FILE DEV N: a state file attaching DEV with N rules, one /32 source each, as
# perimd writes it (header, lines, trailer with their count and crc32: README, test-faults.sh).
rules_state() {
	local i
	{
		echo '# perim state v2, written by perimd; one perimctl command per line'
		echo "attach $2 slot 0"
		for (( i = 1; i <= $3; i++ )); do
			echo "limit set $2 src 10.$(( 100 + i / 65536 )).$(( i / 256 % 256 )).$(( i % 256 ))/32 proto udp rate 100pps"
		done
	} > "$1.body"
	{
		cat "$1.body"
		echo "# perim-state lines $(wc -l < "$1.body") crc32 $(gzip -c < "$1.body" | tail -c 8 | od -An -tx4 -N4 | tr -d ' ')"
	} > "$1"
	rm -f "$1.body"
}

# perimd's CPU time so far, all threads, in ns.
cpu_ns_all() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# rules_cost N: RC_WALL, RC_CPU (medians, ms) and RC_ALL (every round's CPU ms) of limit set with
# N rules after it. Runs in the caller's shell so the registry sees the namespace, pins and perimd.
rules_cost() {
	local n=$1 ns=rb$1 dev=${T}r sock=$TMP/rb$1.sock state=$TMP/rb$1.state log=$TMP/rb$1.log
	local pid i t0 t1 c0 c1 id ms=() cpu=()
	ns_add "$ns" || return 1
	ip -n "$T-$ns" link add "$dev" type veth peer name "${T}R" && ip -n "$T-$ns" link set "$dev" up || return 1
	track_path "$PIN_ROOT-rb$n"
	rules_state "$state" "$dev" $(( n - 1 ))
	: > "$log"
	nsenter --net="/run/netns/$T-$ns" "$PERIMD" --socket "$sock" --pin-root "$PIN_ROOT-rb$n" \
		--state "$state" >>"$log" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_until 120 grep -q 'perimd: ready' "$log" || { echo "rules: perimd with $n rules not ready" >&2; cat "$log" >&2; return 1; }
	for (( i = 0; i < RULES_ROUNDS; i++ )); do
		c0=$(cpu_ns_all "$pid"); t0=$(date +%s%N)
		"$PERIMCTL" -s "$sock" -j limit set "$dev" src 10.99.0.$(( i + 1 ))/32 proto udp rate 100pps > "$TMP/rb.out" || return 1
		t1=$(date +%s%N); c1=$(cpu_ns_all "$pid")
		id=$(jq -r .id "$TMP/rb.out")
		"$PERIMCTL" -s "$sock" limit del "$dev" "$id" >/dev/null || return 1
		ms+=("$(fdiv $(( t1 - t0 )) 1000000 1)")
		cpu+=("$(fdiv $(( c1 - c0 )) 1000000 1)")
	done
	[ "$("$PERIMCTL" -s "$sock" -j limit list | jq '.limits | length')" = $(( n - 1 )) ] ||
		{ echo "rules: $n - 1 rules expected after the rounds" >&2; return 1; }
	kill "$pid"; wait "$pid" 2>/dev/null
	RC_WALL=$(printf '%s\n' "${ms[@]}" | median)
	RC_CPU=$(printf '%s\n' "${cpu[@]}" | median)
	RC_ALL=${cpu[*]}
}

section_rules() {
	local n sizes=(${RULES_SIZES:-1 1000 2000 16383}) cpu first=
	quick && sizes=(1 100 200) RULES_ROUNDS=3
	echo "## Control plane: limit set against the rule count"
	echo
	echo "perimd restores N - 1 rules (one per-source /32 each) from its state file; then a"
	echo "\`perimctl -j limit set\` (timed) and a \`limit del\` (not timed), $RULES_ROUNDS times. 16,383 is"
	echo "the maximum: PERIM_MAX_RULES (include/perim.h) minus slot 0, which is never used. Wall time"
	echo "runs from perimctl's exec to its exit (the 1-rule row is a command's fixed cost); perimd CPU is"
	echo "the daemon's own time over the command (all threads' schedstat), which includes draining the"
	echo "trace events of perimctl's exec, the same at every size."
	echo
	echo "| rules | wall ms per limit set, median | perimd CPU ms, median | perimd CPU ms, all rounds | CPU ms per 1,000 rules over the 1-rule row |"
	echo "|---:|---:|---:|---|---:|"
	for n in "${sizes[@]}"; do
		rules_cost "$n" || return 1
		cpu=$RC_CPU
		[ -n "$first" ] || first=$cpu
		printf '| %s | %s | %s | %s | %s |\n' "$n" "$RC_WALL" "$cpu" "$RC_ALL" \
			"$([ "$n" -gt 1 ] && awk -v c="$cpu" -v f="$first" -v n="$n" 'BEGIN { printf "%.2f", (c - f) * 1000 / n }' || echo -)"
	done
	echo
	echo "Linear cost shows as a steady last column. Before the prefix index (commit history), every"
	echo "LPM entry was compared with every rule: 11 / 51 / 116 ms at 1,000 / 2,000 / 3,000 rules."
}
