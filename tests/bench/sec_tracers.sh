# shellcheck shell=bash
# Tracers: what perim's hooks cost the traced workload and perimd, beside
# Debian's libbpf-tools execsnoop/tcpstates, in one run. Runs before the
# live section so no other perimd is tracing meanwhile.

STORM=$BENCH/storm

# prog_stats PID: "name run_time_ns run_cnt" per BPF program PID holds open
# (bpftool's own pid column needs an iterator this bpftool lacks; fdinfo works).
prog_stats() {
	local ids
	ids=$(grep -hs '^prog_id:' /proc/"$1"/fdinfo/* | awk '{print $2}' | sort -un | paste -sd, -)
	[ -n "$ids" ] || return 0
	bpftool prog show -j | jq -r "[$ids] as \$ids | .[] | select(.id as \$i | \$ids | index(\$i)) |
		\"\\(.name) \\(.run_time_ns // 0) \\(.run_cnt // 0)\""
}

# stats_delta BEFORE AFTER: "name ns_per_run runs" for programs that ran
stats_delta() {
	awk 'NR == FNR { t[$1] = $2; c[$1] = $3; next }
	     $3 > c[$1] { printf "%s %.0f %d\n", $1, ($2 - t[$1]) / ($3 - c[$1]), $3 - c[$1] }' "$1" "$2"
}

task_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

# hook_sum FIELD: a field summed over perimd's hooks (perimctl -j status)
hook_sum() { pctl -j status | jq "[.hooks[] | .$1 // 0] | add // 0"; }

# storm KIND N [WORKERS]: elapsed ns
storm() { "$STORM" "$@" | sed -E 's/.*elapsed_ns=([0-9]+)/\1/'; }

has_progs() { [ -n "$(prog_stats "$1")" ]; }

# Memory: perimd holding MEM_PROCS synthetic processes (PERIM_TEST_PROCS, see
# ctl/perimd/proctable_synth.h), over MEM_IMAGES command lines (pooled, as
# forked workers share them) or each its own (distinct, the worst case).
MEM_PROCS=100000
MEM_IMAGES=1000
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# mem_at_ready KNOB: "rss_kib heap_kib rings_kib" of a perimd started in
# namespace tr with PERIM_TEST_PROCS=KNOB ("" = none), read once it is ready
mem_at_ready() {
	PERIM_TEST_PROCS=$1 perimd_start tr --events /dev/null >"$TMP/tr-mem.log" 2>&1 ||
		{ cat "$TMP/tr-mem.log" >&2; return 1; }
	awk '/^[0-9a-f]+-[0-9a-f]+ / { heap = / \[heap\]$/ || NF == 5; ring = /bpf-map/ }
	     /^Rss:/ { if (heap) h += $2; if (ring) r += $2 }
	     END { printf "%d %d\n", h, r }' "/proc/$PERIMD_PID/smaps" > "$TMP/mem_parts"
	echo "$(rss_kib "$PERIMD_PID") $(cat "$TMP/mem_parts")"
	perimd_stop
	rm -rf "$PIN_ROOT" "$STATE"
}

# A libbpf-tools tool running while KIND storms: "elapsed_ns tool_cpu_ns"
with_tool() {
	local tool=$1 pid el c0 c1 kind=$2; shift 2
	"$tool" >/dev/null 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_until 20 has_progs "$pid" || { echo "tracers: $tool attached nothing" >&2; return 1; }
	prog_stats "$pid" > "$TMP/tool0"
	c0=$(task_cpu_ns "$pid")
	el=$(storm "$kind" "$@") || return 1
	c1=$(task_cpu_ns "$pid")
	prog_stats "$pid" > "$TMP/tool1"
	stats_delta "$TMP/tool0" "$TMP/tool1" | sed "s/^/$tool:/" >> "$TMP/hookcost"
	kill "$pid"; wait "$pid" 2>/dev/null
	echo "$el $(( c1 - c0 ))"
}

# One storm under perimd: appends "kind events lost elapsed_ns cpu_ns" to $TMP/perim_runs
perim_storm() {
	local g0 l0 d0 c0 el
	g0=$(hook_sum generated); l0=$(hook_sum lost); d0=$(hook_sum delivered); c0=$(task_cpu_ns "$PERIMD_PID")
	el=$(storm "$@") || return 1
	# perimd drains on a short timer: await the fate of every event generated
	# by the storm's end (the rest of the system keeps generating more).
	wait_until 5 drained "$(hook_sum generated)" || echo "tracers: perimd had not drained every event" >&2
	echo "$1:$2$([ "${3:-1}" -gt 1 ] && echo ":${3}-workers") $(( $(hook_sum delivered) - d0 )) $(( $(hook_sum lost) - l0 )) $el $(( $(task_cpu_ns "$PERIMD_PID") - c0 ))" >> "$TMP/perim_runs"
	echo "$el"
}
drained() { [ $(( $(hook_sum delivered) + $(hook_sum lost) )) -ge "$1" ]; }

section_tracers() {
	local ne=300 nc=3000 stats_was e_base c_base e_perim c_perim e_snoop c_snoop snoop_cpu tcp_cpu
	quick && ne=40 nc=300
	echo "## Tracers"
	echo
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	on_cleanup "sysctl -q kernel.bpf_stats_enabled=$stats_was"
	sysctl -q kernel.bpf_stats_enabled=1 || return 1
	: > "$TMP/hookcost"; : > "$TMP/perim_runs"

	e_base=$(storm exec "$ne") && c_base=$(storm connect "$nc") || return 1

	ns_add tr || return 1
	mem_at_ready "" > "$TMP/mem_base" && mem_at_ready "$MEM_PROCS:$MEM_IMAGES" > "$TMP/mem_pooled" &&
		mem_at_ready "$MEM_PROCS" > "$TMP/mem_distinct" || return 1
	# The storms' perimd holds the pooled 100,000 too: its RSS after them is the goal's figure.
	PERIM_TEST_PROCS="$MEM_PROCS:$MEM_IMAGES" perimd_start tr --events /dev/null >"$TMP/tr-start.log" 2>&1 ||
		{ cat "$TMP/tr-start.log" >&2; return 1; }
	prog_stats "$PERIMD_PID" > "$TMP/perim0"
	e_perim=$(perim_storm exec "$ne") && c_perim=$(perim_storm connect "$nc") || return 1
	prog_stats "$PERIMD_PID" > "$TMP/perim1"
	perim_storm exec "$ne" 2 >/dev/null && perim_storm connect $(( nc * 3 )) >/dev/null || return 1
	stats_delta "$TMP/perim0" "$TMP/perim1" | sed 's/^/perimd:/' >> "$TMP/hookcost"
	local rss
	rss=$(rss_kib "$PERIMD_PID")
	perimd_stop
	# The live section starts its own perimd on this pin root and state file.
	rm -rf "$PIN_ROOT" "$STATE"

	read -r e_snoop snoop_cpu < <(with_tool execsnoop exec "$ne") || return 1
	read -r c_snoop tcp_cpu < <(with_tool tcpstates connect "$nc") || return 1
	[ -n "$e_snoop" ] && [ -n "$c_snoop" ] || return 1

	tracers_report "$ne" "$nc" "$e_base" "$c_base" "$e_perim" "$c_perim" "$e_snoop" "$c_snoop" \
		"$snoop_cpu" "$tcp_cpu" "$rss"
}

tracers_report() {
	local ne=$1 nc=$2 eb=$3 cb=$4 ep=$5 cp=$6 es=$7 cs=$8 scpu=$9 tcpu=${10} rss=${11}
	local kind ev lost el cpu max=0 cpu_ev busy_cpu=n/a busiest=0 out lossy=0
	echo "Storms: $ne fork+exec of /bin/true; $nc TCP connects to a loopback listener (accepted, closed"
	echo "with RST). perimd runs with every hook this kernel offers, events to /dev/null; libbpf-tools"
	echo "\`execsnoop\` / \`tcpstates\` print to /dev/null. \`kernel.bpf_stats_enabled=1\` throughout."
	echo
	echo "| storm | without tracing (µs/op) | with perimd | slowdown | with libbpf-tools | slowdown |"
	echo "|---|---:|---:|---:|---:|---:|"
	printf '| exec | %s | %s | %sx | %s (execsnoop) | %sx |\n' "$(fdiv "$eb" $(( ne * 1000 )) 1)" \
		"$(fdiv "$ep" $(( ne * 1000 )) 1)" "$(fdiv "$ep" "$eb")" "$(fdiv "$es" $(( ne * 1000 )) 1)" "$(fdiv "$es" "$eb")"
	printf '| connect | %s | %s | %sx | %s (tcpstates) | %sx |\n' "$(fdiv "$cb" $(( nc * 1000 )) 1)" \
		"$(fdiv "$cp" $(( nc * 1000 )) 1)" "$(fdiv "$cp" "$cb")" "$(fdiv "$cs" $(( nc * 1000 )) 1)" "$(fdiv "$cs" "$cb")"
	echo
	echo "Per-hook kernel cost (bpf_stats run_time_ns / run_cnt over the exec and connect storms):"
	echo
	echo "| program | ns/run | runs |"
	echo "|---|---:|---:|"
	sort "$TMP/hookcost" | awk '{printf "| %s | %s | %s |\n", $1, $2, $3}'
	[ -s "$TMP/hookcost" ] || echo "| (none: \`kernel.bpf_stats_enabled\` was switched off by another process during the run) | | |"
	echo
	echo "perimd handling the storms' events (delivered = written out; lost = ring overflow):"
	echo
	echo "| storm (kind:count[:workers]) | events delivered | lost | events/s | perimd CPU/event (µs) |"
	echo "|---|---:|---:|---:|---:|"
	while read -r kind ev lost el cpu; do
		[ "$ev" -gt 0 ] || continue
		cpu_ev=$(fdiv "$cpu" $(( ev * 1000 )) 2)
		out=$(fdiv $(( ev * 1000000 )) $(( el / 1000 )) 0)
		echo "| $kind | $ev | $lost | $out | $cpu_ev |"
		[ "$lost" = 0 ] || lossy=1
		[ "$lost" = 0 ] && [ "$out" -gt "$max" ] && max=$out
		[ "$out" -gt "$busiest" ] && busiest=$out busy_cpu=$cpu_ev
	done < "$TMP/perim_runs"
	echo
	echo "perimd's CPU includes its fixed cost (a 50 ms drain timer, 1 Hz counters), which slow storms"
	echo "spread over few events: the goal is judged at the busiest storm, every storm is listed above."
	echo "Events counted are everything perimd delivered meanwhile, the rest of the machine included."
	echo
	echo "For comparison, the tools' own CPU per event: execsnoop $(fdiv "$scpu" $(( ne * 1000 )) 1) µs (per exec),"
	echo "tcpstates $(fdiv "$tcpu" $(( nc * 1000 )) 1) µs (per connect; it prints several state changes per connect)."
	echo
	local base pooled distinct per_pooled per_distinct mb_rss mb_dist
	read -r base < "$TMP/mem_base"; read -r pooled < "$TMP/mem_pooled"; read -r distinct < "$TMP/mem_distinct"
	per_pooled=$("$BENCH/proc_rss" "$MEM_PROCS" "$MEM_IMAGES" | sed -E 's/.*bytes_per_entry=//') || return 1
	per_distinct=$("$BENCH/proc_rss" "$MEM_PROCS" | sed -E 's/.*bytes_per_entry=//') || return 1
	mb_rss=$(fdiv "$rss" 1024 1)
	mb_dist=$(fdiv "${distinct%% *}" 1024 1)
	echo "| goal | figure | met |"
	echo "|---|---:|---|"
	echo "| perimd CPU per event handled <= 5 µs (busiest storm, $busiest events/s) | $busy_cpu µs | $(met "$busy_cpu" 5) |"
	echo "| perimd resident memory with 100,000 tracked processes <= 32 MiB (over 1,000 command lines, after the storms) | $mb_rss MiB | $(met "$mb_rss" 32) |"
	echo "| the same, worst case: every process its own command line (at start) | $mb_dist MiB | $(met "$mb_dist" 32) |"
	if [ "$lossy" = 0 ]; then
		echo "| max events/s drained with zero loss | >= $max (no loss in any storm: the storms, not perimd, were the limit) | n/a |"
	else
		echo "| max events/s drained with zero loss | $max (the fastest storm without loss; faster ones lost events) | n/a |"
	fi
	echo
	echo "Memory: perimd's own VmRSS, the real daemon in the storms' namespace with every hook this kernel"
	echo "offers. PERIM_TEST_PROCS makes it hold $MEM_PROCS synthetic processes (each a comm, a 24-byte exe"
	echo "path and a 64-byte argv; pids above pid_max, so no real event matches them), spread over"
	echo "$MEM_IMAGES command lines (pooled, as forked workers share them) or each its own (distinct)."
	echo "Heap = [heap] and anonymous mappings; rings = the mmapped ring buffers (libbpf maps a ring's"
	echo "data twice, so a 2 MiB event ring counts 4 MiB)."
	echo
	echo "| perimd | VmRSS (KiB) | heap (KiB) | rings (KiB) |"
	echo "|---|---:|---:|---:|"
	local row name a b c
	for row in "at start, no synthetic processes:$base" "at start, $MEM_PROCS pooled:$pooled" \
		   "at start, $MEM_PROCS distinct:$distinct"; do
		name=${row%%:*}
		read -r a b c <<<"${row#*:}"
		echo "| $name | $a | $b | $c |"
	done
	echo "| after the storms, $MEM_PROCS pooled | $rss | | |"
	echo
	echo "The process table alone (\`proc_rss\`, the same entries in a bare process): $per_pooled bytes per"
	echo "process pooled, $per_distinct distinct (an 88-byte slab entry plus, when distinct, its own"
	echo "interned exe+argv allocation). perimd keeps no per-flow state in user space (connects are"
	echo "events, not table entries), so 100,000 flows add nothing to it."
}
