# shellcheck shell=bash
# Rate accuracy under overload, and how fast a new limit takes effect. Both
# use the live section's gateway (perimd on $T"c", fed from $T"C").

ACC_RATE=5000                 # the configured aggregate rate, pps

rule_of() { pctl -j stats "${T}c" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
rule_seen() { [ "$(( $(rule_of "$1" passed_packets) + $(rule_of "$1" dropped_packets) ))" -ge "$2" ]; }

ACC_TRIES=3                   # runs per case at most, until one whose generator did not stall
ACC_BURST_NS=100000000        # the burst's length in time (burst = rate / 10)

# acc_run MODE FACTOR SECONDS: prints "admitted expected elapsed_ns max_gap_ns stalled_ns runq_ns"
#   one:      one source, a per-source rule of ACC_RATE
#   agg:      200 sources, one aggregate rule of ACC_RATE
#   persrc:   50 sources, each with its own bucket of ACC_RATE/50
acc_run() {
	local prefix=10.100.$((RANDOM % 200 + 1)).0 sources rate burst mode id deliv el stalls passed
	case $1 in
	one) sources=1 rate=$ACC_RATE mode=per-source ;;
	agg) sources=200 rate=$ACC_RATE mode=aggregate ;;
	persrc) sources=50 rate=$(( ACC_RATE / 50 )) mode=per-source ;;
	esac
	burst=$(( rate / 10 ))
	id=$(pctl -j limit set "${T}c" src "$prefix/24" proto udp rate "${rate}pps" burst "$burst" "$mode" | jq -r .id) || return 1
	read -r _ deliv el stalls < <(live_flood c "${prefix%.0}.1" "$sources" $(( ACC_RATE * $2 )) "$3") || return 1
	wait_until 10 rule_seen "$id" "$deliv" || { echo "acc: rule $id saw fewer than $deliv" >&2; return 1; }
	passed=$(rule_of "$id" passed_packets)
	pctl limit del "${T}c" "$id" >/dev/null
	# Every bucket starts full: `burst` tokens per source are admitted at once.
	[ "$mode" = aggregate ] || burst=$(( burst * sources ))
	echo "$passed $burst $el $stalls"
}

# acc_error ADMITTED BURST ELAPSED_NS: prints "admitted_pps error_percent"
acc_error() {
	local arate
	arate=$(fdiv "$(( ($1 - $2) * 1000000 ))" "$(( $3 / 1000 ))" 0)
	echo "$arate $(awk -v a="$arate" -v r="$ACC_RATE" 'BEGIN { printf "%+.2f", (a - r) * 100 / r }')"
}

# acc_case MODE FACTOR SECONDS: runs the case until its generator did not stall
# longer than the burst (while it stalls the bucket fills, the tokens past the
# burst are lost and admission falls short through no fault of the limiter), at
# most ACC_TRIES times. Every try goes to $TMP/acc-tries; prints "tries clean
# admitted burst elapsed_ns max_gap_ns stalled_ns runq_ns" of the judged try
# (clean: 1), or of the least stalled one (clean: 0).
acc_case() {
	local try line best="" best_gap="" admitted burst el gap
	for try in $(seq "$ACC_TRIES"); do
		line=$(acc_run "$@") || return 1
		read -r admitted burst el gap _ <<<"$line"
		[ -n "$gap" ] || return 1
		echo "$1 $2 $try $line $(acc_error "$admitted" "$burst" "$el")" >>"$TMP/acc-tries"
		if [ "$gap" -le "$ACC_BURST_NS" ]; then
			echo "$try 1 $line"
			return 0
		fi
		if [ -z "$best_gap" ] || [ "$gap" -lt "$best_gap" ]; then best=$line best_gap=$gap; fi
	done
	echo "$ACC_TRIES 0 $best"
}

ms() { fdiv "$1" 1000000 1; }

section_accuracy() {
	local secs=2 mode f tries clean admitted burst el gap stalled runq arate err worst=0 unjudged=0
	quick && secs=0.5
	echo "## Rate accuracy under overload"
	echo
	live_setup >"$TMP/live-setup.log" 2>&1 || { cat "$TMP/live-setup.log" >&2; return 1; }
	: >"$TMP/acc-tries"
	echo "A flood of F x the limit for ${secs}s from the live generator into perimd's NIC; the limit"
	echo "is $ACC_RATE pps in all (one source with a per-source rule; 200 sources sharing an aggregate"
	echo "rule; 50 sources with per-source rules of $(( ACC_RATE / 50 )) pps each). Burst = 0.1 s of"
	echo "tokens, full at the start; admitted rate = (passed - burst) / the flood's duration."
	echo "A run counts only if the generator never stopped sending for longer than the burst (0.1 s:"
	echo "its longest gap between two calls, \`xdp_live gen\`'s max_gap_ns): a longer stall lets the"
	echo "bucket overflow, and the tokens lost make admission fall short whatever the limiter does."
	echo "A stalled run is repeated, up to $ACC_TRIES tries; a case with no clean try is not judged."
	echo
	echo "| sources | flood | admitted | admitted pps | configured pps | error | within 3% | tries | generator's longest gap (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
	for mode in one agg persrc; do
		for f in 2 10 100; do
			read -r tries clean admitted burst el gap stalled runq < <(acc_case "$mode" "$f" "$secs") || return 1
			[ -n "$runq" ] || return 1
			read -r arate err < <(acc_error "$admitted" "$burst" "$el")
			if [ "$clean" = 1 ]; then
				worst=$(awk -v w="$worst" -v e="$err" 'BEGIN { e = e < 0 ? -e : e; print (e > w ? e : w) }')
				printf '| %s | %sx | %s | %s | %s | %s%% | %s | %s | %s |\n' \
					"$(acc_label "$mode")" "$f" "$admitted" "$arate" "$ACC_RATE" "$err" \
					"$(fle "${err#[-+]}" 3 && echo yes || echo '**no**')" "$tries" "$(ms "$gap")"
			else
				unjudged=$(( unjudged + 1 ))
				printf '| %s | %sx | %s | %s | %s | (%s%%) | not judged: generator stalled %s ms | %s | %s |\n' \
					"$(acc_label "$mode")" "$f" "$admitted" "$arate" "$ACC_RATE" "$err" \
					"$(ms "$gap")" "$tries" "$(ms "$gap")"
			fi
		done
	done
	echo
	echo "| goal | worst error | met |"
	echo "|---|---:|---|"
	if [ "$unjudged" -gt 0 ]; then
		echo "| admitted rate within 3% of the configured rate | ${worst}% (judged cases) | not judged: $unjudged case(s) without a clean run |"
	else
		echo "| admitted rate within 3% of the configured rate | ${worst}% | $(met "$worst" 3) |"
	fi
	acc_tries_table
}

# Every try, stalled ones too: a short admission beside a long stall is the generator's.
acc_tries_table() {
	local mode f try gap stalled runq err
	echo
	echo "Every try: the generator's longest gap between calls, the time its calls started later"
	echo "than due (stalled), and the time it was runnable but not running (run queue, schedstat)."
	echo
	echo "| sources | flood | try | error | longest gap (ms) | stalled (ms) | run queue (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	while read -r mode f try _ _ _ gap stalled runq _ err; do
		printf '| %s | %sx | %s | %s%% | %s | %s | %s |\n' "$(acc_label "$mode")" "$f" "$try" "$err" \
			"$(ms "$gap")" "$(ms "$stalled")" "$(ms "$runq")"
	done <"$TMP/acc-tries"
}

acc_label() {
	case $1 in
	one) echo "1 (per-source)" ;; agg) echo "200 (aggregate)" ;; persrc) echo "50 (per-source)" ;;
	esac
}

# ---- control plane ----

# The first drop of a new rule under a flood: prints "command_ms effect_ms".
limit_latency() {
	local prefix=10.101.$((RANDOM % 200 + 1)) t0 t1 t2 id gen
	live_flood c "$prefix.1" 1 100000 4 >"$TMP/lat-flood.out" 2>&1 &
	gen=$!
	track_pid "$gen"
	wait_until 5 rx_growing || { echo "control: the flood did not arrive: $(cat "$TMP/lat-flood.out")" >&2; return 1; }
	t0=$(date +%s%N)
	id=$(pctl -j limit set "${T}c" src "$prefix.0/24" proto udp rate 1pps burst 1 aggregate | jq -r .id) || return 1
	t1=$(date +%s%N)
	while [ "$(rule_of "$id" dropped_packets)" = 0 ]; do
		[ $(( $(date +%s%N) - t0 )) -lt 5000000000 ] || { echo "control: no drop 5 s after limit set" >&2; return 1; }
	done
	t2=$(date +%s%N)
	wait "$gen"
	pctl limit del "${T}c" "$id" >/dev/null
	echo "$(fdiv $(( t1 - t0 )) 1000000 1) $(fdiv $(( t2 - t0 )) 1000000 1)"
}

rx_growing() {
	local a b
	a=$(jstat "${T}c" .counters.rx_packets); sleep 0.05; b=$(jstat "${T}c" .counters.rx_packets)
	[ "$b" -gt $(( a + 1000 )) ]
}

# A fresh perimd in a fresh namespace with one NIC: exec to "perimd: ready",
# in START_MS. Runs in the caller's shell so the registry sees what it makes.
start_latency() {
	local i=$1 ns=st$1 log=$TMP/start$1.log t0 t1 pid
	ns_add "$ns" || return 1
	ip -n "$T-$ns" link add "${T}s$i" type veth peer name "${T}S$i" && ip -n "$T-$ns" link set "${T}s$i" up || return 1
	track_path "$PIN_ROOT-s$i"
	: > "$log"
	t0=$(date +%s%N)
	nsenter --net="/run/netns/$T-$ns" "$PERIMD" --socket "$TMP/s$i.sock" --pin-root "$PIN_ROOT-s$i" \
		--state "$TMP/s$i.state" --interface "${T}s$i:native" >>"$log" 2>&1 &
	pid=$!
	track_pid "$pid"
	until grep -q 'perimd: ready' "$log"; do
		kill -0 "$pid" 2>/dev/null && [ $(( $(date +%s%N) - t0 )) -lt 20000000000 ] || { cat "$log" >&2; return 1; }
		sleep 0.002
	done
	t1=$(date +%s%N)
	kill "$pid"; wait "$pid" 2>/dev/null
	START_MS=$(fdiv $(( t1 - t0 )) 1000000 1)
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

section_control() {
	local runs=3 i cmd eff starts=() cmds=() effs=() poll0 poll
	quick && runs=1
	echo "## Control plane"
	echo
	live_setup >"$TMP/live-setup.log" 2>&1 || { cat "$TMP/live-setup.log" >&2; return 1; }
	poll0=$(date +%s%N); rule_of 0 passed_packets >/dev/null; poll=$(fdiv $(( $(date +%s%N) - poll0 )) 1000000 1)
	for i in $(seq "$runs"); do
		read -r cmd eff < <(limit_latency) || return 1
		[ -n "$eff" ] || { echo "control: no drop counted" >&2; return 1; }
		cmds+=("$cmd"); effs+=("$eff")
		start_latency "$i" || return 1
		starts+=("$START_MS")
	done
	echo "| measurement | median of $runs (ms) | all runs (ms) |"
	echo "|---|---:|---|"
	echo "| \`perimctl limit set\` under a 100 kpps flood: command returns | $(printf '%s\n' "${cmds[@]}" | median) | ${cmds[*]} |"
	echo "| ... first drop counted by the new rule | $(printf '%s\n' "${effs[@]}" | median) | ${effs[*]} |"
	echo "| perimd start: exec to \"ready\" (XDP attached to one NIC, tracers attached) | $(printf '%s\n' "${starts[@]}" | median) | ${starts[*]} |"
	echo
	echo "The first drop is seen by polling \`perimctl -j stats\` in a loop (one poll: ${poll} ms), so that"
	echo "figure is an upper bound by about one poll. Start-up is polled every 2 ms from the log."
}
