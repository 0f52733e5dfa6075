# shellcheck shell=bash
# Rate accuracy under overload, and how fast a new limit takes effect. Both
# use the live section's gateway (perimd on $T"c", fed from $T"C"); accuracy
# adds a two-queue NIC to it ($T"g", fed from $T"G") so that every source's
# traffic is spread over both CPUs.

ACC_RATE=5000                 # the configured aggregate rate, pps

# rule_of ID FIELD [CASE]: a field of rule ID's stats on gateway veth $T<CASE> (default c)
rule_of() { pctl -j stats "$T${3:-c}" | jq -r ".interfaces[0].rules[] | select(.id == $1) | .$2"; }
rule_seen() { [ "$(( $(rule_of "$1" passed_packets g) + $(rule_of "$1" dropped_packets g) ))" -ge "$2" ]; }

# A veth whose gateway side has two receive queues: veth hands a frame to the
# queue of the CPU that transmits it (smp_processor_id() % queues), and each
# queue's threaded NAPI kthread is pinned to its own CPU, so one generator per
# CPU sending the same sources spreads each source's frames over both CPUs.
# Each generator holds its program in the XDP dispatcher with its own idle
# device (xdp_live.c: hold_in_dispatcher; a second attach would replace the first).
acc_setup() {
	local pid cpu=0
	ip link add "${T}g" numtxqueues 2 numrxqueues 2 netns "$T-gw" type veth \
		peer name "${T}G" numtxqueues 2 numrxqueues 2 netns "$T-inet" || return 1
	ip -n "$T-gw" link set "${T}g" up && ip -n "$T-inet" link set "${T}G" up || return 1
	# Skbs (xdp_live's AF_PACKET path) reach the peer's NAPI threads only from a sender without TSO.
	in_ns inet ethtool -K "${T}G" tso off >/dev/null || return 1
	ip -n "$T-inet" link add "${T}i" type veth peer name "${T}I" || return 1
	pctl attach "${T}g" mode native >/dev/null || return 1
	in_ns gw sh -c "echo 1 > /sys/class/net/${T}g/threaded" || return 1
	for pid in $(pgrep "^napi/${T}g-"); do
		taskset -pc "$cpu" "$pid" >/dev/null && chrt -f -p 50 "$pid" || return 1
		cpu=$(( cpu + 1 ))
	done
	[ "$cpu" = 2 ] || { echo "acc: ${T}g has $cpu NAPI threads, not 2" >&2; return 1; }
}

# acc_queue_frames: "queue0 queue1", the XDP frames each receive queue of $T"g" has seen
acc_queue_frames() {
	in_ns gw ethtool -S "${T}g" | awk '/rx_queue_0_xdp_packets:/ {a = $2} /rx_queue_1_xdp_packets:/ {b = $2}
		END {print a + 0, b + 0}'
}

# acc_gen CPU HOLD START_AT SRC SOURCES RATE SECONDS: one generator on CPU into $T"G"
acc_gen() {
	in_ns inet nice -n -10 "$LIVE" gen --dev "${T}G" --hold-dev "$2" --dst-mac "$(mac_of gw "${T}g")" \
		--start-at "$3" --src "$4" --sources "$5" --dst 10.88.0.1 --rate "$6" --seconds "$7" --cpu "$1" \
		--batch "$LIVE_BATCH" --per-call "$LIVE_BATCH"
}

# acc_flood SRC SOURCES RATE SECONDS: half the rate from a generator on each CPU,
# both starting at one instant (ACC_LEAD_NS ahead, time to load; a late start
# counts as a stall); prints "sent delivered elapsed_ns max_gap_ns stalled_ns
# runq_ns on_cpu1_percent" (elapsed and stalls: the worse generator's).
ACC_LEAD_NS=1500000000
acc_flood() {
	local gen0 at e0 e1 q0 q1 r0 r1
	read -r _ e0 < <(xmit_of inet "${T}G")
	read -r q0 q1 < <(acc_queue_frames)
	at=$(( $("$LIVE" now) + ACC_LEAD_NS )) || return 1
	acc_gen 0 "${T}h" "$at" "$1" "$2" $(( $3 / 2 )) "$4" >"$TMP/acc-gen0.out" &
	gen0=$!
	track_pid "$gen0"
	acc_gen 1 "${T}i" "$at" "$1" "$2" $(( $3 - $3 / 2 )) "$4" >"$TMP/acc-gen1.out" || return 1
	wait "$gen0" || return 1
	read -r _ e1 < <(xmit_of inet "${T}G")
	read -r r0 r1 < <(acc_queue_frames)
	cat "$TMP/acc-gen0.out" "$TMP/acc-gen1.out" | sed -E 's/[a-z_]+=//g' | awk -v e=$(( e1 - e0 )) \
		-v q0=$(( r0 - q0 )) -v q1=$(( r1 - q1 )) '
		function max(a, b) { return a > b ? a : b }
		{ sent += $1; el = max(el, $2); gap = max(gap, $3); st = max(st, $4); rq = max(rq, $5) }
		END { printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", sent, sent - e, el, gap, st, rq, q0 + q1 ? q1 * 100 / (q0 + q1) : 0 }'
}

ACC_TRIES=3                   # runs per case at most, until one whose generator did not stall
ACC_BURST_NS=100000000        # the burst's length in time (burst = rate / 10)

# acc_run MODE FACTOR SECONDS: prints "admitted expected elapsed_ns max_gap_ns stalled_ns runq_ns on_cpu1_percent"
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
	id=$(pctl -j limit set "${T}g" src "$prefix/24" proto udp rate "${rate}pps" burst "$burst" "$mode" | jq -r .id) || return 1
	read -r _ deliv el stalls < <(acc_flood "${prefix%.0}.1" "$sources" $(( ACC_RATE * $2 )) "$3") || return 1
	[ -n "$stalls" ] || { echo "acc: the generators failed: $(cat "$TMP"/acc-gen?.out)" >&2; return 1; }
	wait_until 10 rule_seen "$id" "$deliv" || { echo "acc: rule $id saw fewer than $deliv" >&2; return 1; }
	passed=$(rule_of "$id" passed_packets g)
	pctl limit del "${T}g" "$id" >/dev/null
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
# admitted burst elapsed_ns max_gap_ns stalled_ns runq_ns on_cpu1_percent" of the judged try
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
	local secs=2 mode f tries clean admitted burst el gap stalled runq cpu1 arate err worst=0 unjudged=0
	quick && secs=0.5
	echo "## Rate accuracy under overload"
	echo
	{ live_setup && acc_setup; } >"$TMP/live-setup.log" 2>&1 || { cat "$TMP/live-setup.log" >&2; return 1; }
	: >"$TMP/acc-tries"
	echo "A flood of F x the limit for ${secs}s from the live generator into perimd's NIC; the limit"
	echo "is $ACC_RATE pps in all (one source with a per-source rule; 200 sources sharing an aggregate"
	echo "rule; 50 sources with per-source rules of $(( ACC_RATE / 50 )) pps each). Burst = 0.1 s of"
	echo "tokens, full at the start; admitted rate = (passed - burst) / the flood's duration."
	echo "Every source's frames are spread over both CPUs: perimd's NIC here has two receive queues, each"
	echo "with its NAPI thread on its own CPU, and two generators (one per CPU, half the rate each, the same"
	echo "sources) feed them (veth queues a frame on the sending CPU's queue); \"on CPU 1\" is the share of"
	echo "the frames the second queue received."
	echo "A run counts only if the generator never stopped sending for longer than the burst (0.1 s:"
	echo "its longest gap between two calls, \`xdp_live gen\`'s max_gap_ns): a longer stall lets the"
	echo "bucket overflow, and the tokens lost make admission fall short whatever the limiter does."
	echo "A stalled run is repeated, up to $ACC_TRIES tries; a case with no clean try is not judged."
	echo
	echo "| sources | flood | admitted | admitted pps | configured pps | error | within 3% | on CPU 1 | tries | generator's longest gap (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"
	for mode in one agg persrc; do
		for f in 2 10 100; do
			read -r tries clean admitted burst el gap stalled runq cpu1 < <(acc_case "$mode" "$f" "$secs") || return 1
			[ -n "$cpu1" ] || return 1
			read -r arate err < <(acc_error "$admitted" "$burst" "$el")
			if [ "$clean" = 1 ]; then
				worst=$(awk -v w="$worst" -v e="$err" 'BEGIN { e = e < 0 ? -e : e; print (e > w ? e : w) }')
				printf '| %s | %sx | %s | %s | %s | %s%% | %s | %s%% | %s | %s |\n' \
					"$(acc_label "$mode")" "$f" "$admitted" "$arate" "$ACC_RATE" "$err" \
					"$(fle "${err#[-+]}" 3 && echo yes || echo '**no**')" "$cpu1" "$tries" "$(ms "$gap")"
			else
				unjudged=$(( unjudged + 1 ))
				printf '| %s | %sx | %s | %s | %s | (%s%%) | not judged: generator stalled %s ms | %s%% | %s | %s |\n' \
					"$(acc_label "$mode")" "$f" "$admitted" "$arate" "$ACC_RATE" "$err" \
					"$(ms "$gap")" "$cpu1" "$tries" "$(ms "$gap")"
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
	if [ "${LIVE_VIA:-live}" = packet ]; then
		echo
		gen_skb_text
		echo "The admitted counts do not depend on how the frames arrived."
	fi
	acc_tries_table
}

# Every try, stalled ones too: a short admission beside a long stall is the generator's.
acc_tries_table() {
	local mode f try gap stalled runq err
	echo
	echo "Every try: the longest gap between calls of either generator, the time its calls started later"
	echo "than due (stalled), and the time it was runnable but not running (run queue, schedstat)."
	echo
	echo "| sources | flood | try | error | longest gap (ms) | stalled (ms) | run queue (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	while read -r mode f try _ _ _ gap stalled runq _ _ err; do
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
