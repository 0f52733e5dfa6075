# shellcheck shell=bash
# Fleet: three real gateways (tests/lib/fleet.sh) and a nats-server in the hub.
#  - propagation: `fleet block` at gw1 to the first packet each gateway drops
#    as fleet-deny (the xdp_drop event's kernel timestamp, wall clock), with
#    100 light simulated gateways (KV watchers in one process) beside them;
#  - apply rate: N decisions written straight into the bucket while gw1 is
#    stopped, then gw1 started: from "ready" to all N applied, and perimd's
#    CPU per decision over that catch-up; gw2 applies the same N live;
#  - event export: a fork storm traced by gw1 publishing its events
#    (--fleet-events) and by gw2 at the same time writing them to its events
#    file only: events published per second, dropped, received by a
#    subscriber, and perimd's CPU per event with and without the export.
# FL_PARTS="latency apply events" picks the parts (default all three).
. "$TOP/tests/lib/fleet.sh"

FL_SIMULATED=100

fl_setup() {
	hub_setup && ns_add inet || return 1
	for i in 1 2 3; do gw_net "$i" || return 1; done
	nats_start nats || return 1
	for i in 1 2 3; do gw_start "$i" --fleet "$(fleet_url)" || return 1; done
	for i in 1 2 3; do wait_until 10 fleet_connected "$i" || return 1; done
}

fl_rx() { gctl "$1" -j stats "${T}g$1" | jq -r '.interfaces[0].counters.rx_packets'; }
fl_rx_above() { [ "$(fl_rx "$1")" -gt "$2" ]; }

# fl_first_drop_ms I PREFIX3 T0_NS: ms from T0 to gw I's first fleet-deny drop of a source PREFIX3.*
fl_first_drop_ms() {
	python3 - "$TMP/gw$1.events" "$2" "$3" <<-'PY'
	import json, sys, datetime
	path, pfx, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
	for line in open(path):
	    if '"xdp_drop"' not in line or 'fleet-deny' not in line:
	        continue
	    e = json.loads(line)
	    src = ((e.get("flow") or {}).get("src") or "")
	    if not src.startswith(pfx):
	        continue
	    t = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
	    ms = (t * 1e9 - t0) / 1e6
	    if ms >= 0:
	        print("%.1f" % ms)
	        sys.exit(0)
	sys.exit(1)
	PY
}

fl_percentile() { sort -n | awk -v p="$1" '{v[NR]=$1} END {i=int((NR-1)*p/100+0.5)+1; print v[i]}'; }

fl_latency() {
	local rounds=$1 k i t0 rx0 mac floods samples="$TMP/fl_lat"
	: >"$samples"
	ip netns exec "$T-hub" "$BENCH/fleet_load" "$(fleet_url)" watch "$FL_SIMULATED" >"$TMP/fl_watch.out" 2>&1 &
	local watchers=$!
	track_pid "$watchers"
	wait_until 30 grep -q watching "$TMP/fl_watch.out" || { echo "simulated watchers did not start" >&2; return 1; }
	for k in $(seq "$rounds"); do
		rx0=$(fl_rx 1) floods=()
		for i in 1 2 3; do
			mac=$(mac_of "gw$i" "${T}g$i")
			in_ns inet "$TOOLS/udpflood" send --dev "${T}i$i" --dst-mac "$mac" --dst "10.7$i.0.1" \
				--src "10.201.$k.0/24" --sources 16 --port 9 --rate 5000 --seconds 3 >/dev/null &
			floods+=($!)
		done
		wait_until 2 fl_rx_above 1 "$rx0"
		t0=$(date +%s%N)
		gctl 1 fleet block "10.201.$k.0/24" >/dev/null || { echo "block $k failed" >&2; return 1; }
		for i in 1 2 3; do
			wait_until 3 fl_first_drop_ms "$i" "10.201.$k." "$t0" ||
				{ echo "no drop on gw$i" >&2; wait "${floods[@]}"; return 1; }
			fl_first_drop_ms "$i" "10.201.$k." "$t0" >>"$samples"
		done
		wait "${floods[@]}"
	done
	# The apply rate is one gateway's: the server does not also feed the simulated watchers 10,000 entries each.
	kill "$watchers" 2>/dev/null
	wait "$watchers" 2>/dev/null
	echo "| block at gw1 to first fleet-deny drop, 3 gateways + $FL_SIMULATED simulated watchers ($(wc -l <"$samples") samples) | p50 $(fl_percentile 50 <"$samples") ms / p99 $(fl_percentile 99 <"$samples") ms / max $(fl_percentile 100 <"$samples") ms | p99 < 200 ms |"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

fl_apply_rate() {
	local n=$1 out t_ready t_done ticks0 ticks1 t_put t_acked t_live live_ms hz applies0 live_ticks0 live_ticks
	hz=$(getconf CLK_TCK)
	gw_stop 1
	applies0=$(status_of 2 applies)
	live_ticks0=$(cpu_ticks "$GW2_PID")
	t_put=$(date +%s%N)
	out=$(ip netns exec "$T-hub" "$BENCH/fleet_load" "$(fleet_url)" put "$n") || return 1
	t_acked=$(date +%s%N)
	wait_until 60 status_at_least 2 decisions "$n" || { echo "gw2 did not apply $n" >&2; return 1; }
	t_live=$(date +%s%N)
	live_ticks=$(( $(cpu_ticks "$GW2_PID") - live_ticks0 ))
	live_ms=$(( (t_live - t_put) / 1000000 ))
	gw_start 1 --fleet "$(fleet_url)" || return 1
	t_ready=$(date +%s%N)
	ticks0=$(cpu_ticks "$GW1_PID")
	wait_until 120 status_at_least 1 decisions "$n" || { echo "gw1 did not catch up" >&2; return 1; }
	t_done=$(date +%s%N)
	ticks1=$(cpu_ticks "$GW1_PID")
	local ms=$(( (t_done - t_ready) / 1000000 ))
	echo "| $n decisions written to the bucket (asynchronous puts) | $(awk -v ns="$(cut -d' ' -f3 <<<"$out")" -v n="$n" 'BEGIN {printf "%.0f/s", n / (ns / 1e9)}') | |"
	echo "| gw2 applying them live (put start to all applied) | ${live_ms} ms, $(( n * 1000 / (live_ms ? live_ms : 1) ))/s | >= 10,000/s |"
	echo "| gw2 behind the writer (last put acknowledged to all applied) | $(( (t_live - t_acked) / 1000000 )) ms, $(( $(status_of 2 applies) - applies0 )) applies in all | |"
	echo "| gw2 CPU per decision applied live (all its threads) | $(awk -v t="$live_ticks" -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f us", t / hz * 1e6 / n}') | |"
	echo "| gw1 catching up on start (ready to all applied) | ${ms} ms, $(( n * 1000 / (ms ? ms : 1) ))/s | >= 10,000/s |"
	if [ "$(status_of 1 catchup_entries)" != null ]; then
		local cu_ms
		cu_ms=$(status_of 1 catchup_ms)
		echo "| gw1 catching up, by perimd (its watch started to the bucket's $(status_of 1 catchup_entries) entries applied) | ${cu_ms} ms, $(( $(status_of 1 catchup_entries) * 1000 / (cu_ms ? cu_ms : 1) ))/s | >= 10,000/s |"
	fi
	echo "| gw1 CPU per decision during catch-up (from its ready line: the start of the catch-up may precede it) | $(awk -v t=$(( ticks1 - ticks0 )) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f us", t / hz * 1e6 / n}') | |"
	echo "| gw1 applies (flatten + map transaction) for the catch-up, time inside them per decision | $(status_of 1 applies), $(awk -v us="$(status_of 1 apply_us_total)" -v n="$n" 'BEGIN {printf "%.1f us", us / n}') | |"
}

FL_EVENT_TYPES=fork,exit
FL_STORM_WORKERS=2

# fl_hooks I FIELD: FIELD summed over gateway I's tracer hooks (generated, delivered, lost)
fl_hooks() { gctl "$1" -j status | jq "[.hooks[] | .$2 // 0] | add // 0"; }
fl_drained() { [ $(( $(fl_hooks "$1" delivered) + $(fl_hooks "$1" lost) )) -ge "$2" ]; }
fl_queue_empty() { [ "$(status_of 1 events_queued)" = 0 ]; }
# The counting subscriber's last line: "received N dropped D".
fl_received() { tail -n 1 "$TMP/fl_count.out" | awk '$1 == "received" {print $2}'; }
fl_received_at_least() { [ "$(fl_received)" -ge "$1" ]; }

# fl_counter_start: FL_COUNTER counts what arrives on perim.events.> and perim.drops.> (the
# drop summaries are counted as published too).
fl_counter_start() {
	ip netns exec "$T-hub" "$BENCH/fleet_load" "$(fleet_url)" count 'perim.events.>' 'perim.drops.>' \
		>"$TMP/fl_count.out" 2>&1 &
	FL_COUNTER=$!
	track_pid "$FL_COUNTER"
	wait_until 10 grep -q counting "$TMP/fl_count.out" || { cat "$TMP/fl_count.out" >&2; return 1; }
}

# fl_events N: a storm of N forks traced by gw1 exporting (--fleet-events) and gw2 not.
fl_events() {
	local n=$1 i el load t0 t1 us pub0 drop0 published dropped total received
	local -a pid del0 lost0 cpu0 del cpu lost
	# gw3 takes no part: one perimd fewer tracing the storm on a small machine.
	gw_stop 3
	fl_counter_start || { echo "the counting subscriber did not start" >&2; return 1; }
	# gw1 exports from its start, after the counter subscribed: all it publishes should arrive.
	gw_stop 1
	gw_start 1 --fleet "$(fleet_url)" --fleet-events "$FL_EVENT_TYPES" || return 1
	wait_until 10 fleet_connected 1 || { echo "gw1 did not reconnect" >&2; return 1; }
	# Its catch-up on the bucket (the apply rows' decisions) is over before the window opens.
	wait_until 120 status_at_least 1 decisions "$(status_of 2 decisions)" || { echo "gw1 did not catch up" >&2; return 1; }
	pid=("" "$GW1_PID" "$GW2_PID")
	pub0=$(status_of 1 events_published) drop0=$(status_of 1 events_dropped)
	for i in 1 2; do
		del0[i]=$(fl_hooks "$i" delivered) lost0[i]=$(fl_hooks "$i" lost) cpu0[i]=$(task_cpu_ns "${pid[i]}")
	done
	t0=$(date +%s%N)
	el=$("$BENCH/storm" fork "$n" "$FL_STORM_WORKERS" | sed -E 's/.*elapsed_ns=([0-9]+)/\1/') || return 1
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	# Both rings drained and gw1's export queue empty: every storm event's fate is known.
	for i in 1 2; do
		wait_until 10 fl_drained "$i" "$(fl_hooks "$i" generated)" || echo "gw$i had not drained its ring" >&2
	done
	wait_until 10 fl_queue_empty || echo "gw1's export queue did not empty" >&2
	t1=$(date +%s%N)
	for i in 1 2; do
		cpu[i]=$(( $(task_cpu_ns "${pid[i]}") - cpu0[i] ))
		del[i]=$(( $(fl_hooks "$i" delivered) - del0[i] )) lost[i]=$(( $(fl_hooks "$i" lost) - lost0[i] ))
	done
	published=$(( $(status_of 1 events_published) - pub0 )) dropped=$(( $(status_of 1 events_dropped) - drop0 ))
	total=$(status_of 1 events_published)
	wait_until 10 fl_received_at_least "$total" || echo "the subscriber received fewer than gw1 published" >&2
	received=$(fl_received)
	kill "$FL_COUNTER" 2>/dev/null
	wait "$FL_COUNTER" 2>/dev/null
	us=$(( (t1 - t0) / 1000 ))
	echo "| fork storm: $n forks by $FL_STORM_WORKERS workers, a fork and an exit event each (load average $load at its end) | $(awk -v n="$n" -v ns="$el" 'BEGIN {printf "%.0f events/s for %.1f s", 2 * n / (ns / 1e9), ns / 1e9}') | >= 10,000/s |"
	echo "| gw1 with \`--fleet-events $FL_EVENT_TYPES\`: events published per second (fleet status; storm start to its export queue empty, $(fdiv "$us" 1000000 1) s) | $(awk -v p="$published" -v us="$us" 'BEGIN {printf "%.0f/s", p / (us / 1e6)}') ($published published, $dropped dropped by the bounded buffer, ${lost[1]} lost in the kernel ring) | |"
	echo "| a subscriber on perim.events.> and perim.drops.> (subscribed before gw1 started; gw1 publishes on, whatever else runs on the machine) | received $received, gw1 had published $total since its start when read$( [ "${received:-0}" -ge "$total" ] && echo ": none lost" || echo ": **$(( total - ${received:-0} )) missing**") | nothing lost |"
	echo "| gw1 CPU per published event (all its threads, same window) | $(fdiv "${cpu[1]}" $(( published * 1000 )) 2) µs ($(fdiv "${cpu[1]}" $(( del[1] * 1000 )) 2) µs per event delivered from its ring, ${del[1]} delivered) | |"
	echo "| gw2 in the same storm without \`--fleet-events\` (events to its \`--events\` file only): CPU per event | $(fdiv "${cpu[2]}" $(( del[2] * 1000 )) 2) µs (${del[2]} delivered, ${lost[2]} lost) | |"
	echo "| the export's own CPU per event (gw1 minus gw2, per event delivered) | $(awk -v c1="${cpu[1]}" -v d1="${del[1]}" -v c2="${cpu[2]}" -v d2="${del[2]}" 'BEGIN { if (!d1 || !d2) print "n/a"; else printf "%.2f µs", (c1 / d1 - c2 / d2) / 1000 }') | |"
}

fl_part() { [[ " ${FL_PARTS:-latency apply events} " == *" $1 "* ]]; }

# Not in a subshell: what fl_setup starts is registered with run.sh's cleanup.
fl_table() {
	fl_setup >&2 || return 1
	echo "| measurement | result | goal |"
	echo "|---|---:|---|"
	if fl_part latency; then fl_latency "$1" || return 1; fi
	if fl_part apply; then fl_apply_rate "$2" || return 1; fi
	if fl_part events; then fl_events "$3" || return 1; fi
}

section_fleet() {
	local n=10000 rounds=20 forks=100000 rc
	quick && n=${FL_QUICK_N:-1000} rounds=3 forks=4000
	echo "## Fleet (NATS JetStream)"
	echo
	fl_table "$rounds" "$n" "$forks"
	rc=$?
	echo
	echo "Latency is measured from just before \`perimctl fleet block\` at gw1 to the kernel timestamp of"
	echo "the first sampled fleet-deny drop on each gateway (floods of 5 kpps into each, from the"
	echo "blocked prefix, already running). Apply: every batch of bucket entries the loop takes at once"
	echo "is one flatten + map transaction; batches are coalesced while more entries are right behind."
	echo "Export: gw1 (restarted with \`--fleet-events\`) and gw2 (without) trace the same storm at the"
	echo "same time, so the difference of their CPU per event is the export's own cost (its queue, the"
	echo "publishing thread, libnats); both also write every event to their \`--events\` file. perimd"
	echo "traces the whole machine: events from other processes are counted with the storm's."
	return $rc
}
