#!/bin/bash
# perimctl top: the sources dropped most, from the datapath's sampled drop
# events (include/perim_drops.h). Without a datapath that samples, top says
# so; with one, a flood from a few sources shows the heaviest first.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet

setup() {
	ns_add gw && ns_add inet || return 1
	veth_add gw "$GW" 10.79.0.1/24 inet "$PEER" 10.79.0.2/24 || return 1
	GW_MAC=$(mac_of gw "$GW")
	track_path "$STATE"
	perimd_start gw --interface "$GW"
}

sampling() { [ -e "$PIN_ROOT/perim_drops" ]; }

case_bad_input_exits_2() {
	expect_exit 2 "$PERIMCTL" -s "$SOCK" top --bogus || return 1
	expect_match "$(cat "$TMP/last.err")" '"--bogus"' "names the option" || return 1
	expect_exit 2 "$PERIMCTL" -s "$SOCK" top "${T}a" "${T}b" || return 1
	expect_match "$(cat "$TMP/last.err")" "\"${T}b\"" "names the extra argument"
}

case_unknown_interface() {
	setup || return 1
	expect_exit 2 pctl top --once "${T}x" || return 1
	expect_match "$(cat "$TMP/last.err")" "\"${T}x\"" "names the interface"
}

case_says_when_the_datapath_does_not_sample() {
	setup || return 1
	# A datapath from before sampling pins no ring; unpinning ours looks the
	# same to perimd (the programs keep their map) until its first `top`.
	rm -f "$PIN_ROOT/perim_drops"
	expect_eq "$(pctl -j top --once | jq -r .sampling)" false "sampling" || return 1
	expect_match "$(pctl top --once)" "does not sample drops" "human output"
}

# top_src N: the source in row N of `top --once` (JSON)
top_src() { pctl -j top --once "$GW" | jq -r ".sources[$1].src // empty"; }
third_is() { [ "$(top_src 2)" = "$1" ]; }

case_flood_shows_the_heaviest_source_first() {
	local p pids=()
	setup || return 1
	sampling || { skip "the datapath does not emit sampled drops yet (spec: include/perim_drops.h)"; return 0; }
	pctl deny add "$GW" 10.220.0.0/24 || return 1
	pctl top --once "$GW" > /dev/null || return 1    # starts the drain
	# Three senders at once (the kernel may run them on different CPUs, whose
	# budgets are separate: the weights make their samples comparable).
	for p in 1:4000 2:1000 3:300; do
		in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.79.0.1 \
			--src "10.220.0.${p%%:*}" --port 5020 --rate "${p##*:}" --seconds 3 \
			| sed -E 's/sent=([0-9]+).*/\1/' > "$TMP/sent.${p%%:*}" &
		pids+=($!)
		track_pid $!
	done
	wait "${pids[@]}"
	wait_until 10 third_is 10.220.0.3 || fail "third source never showed: $(pctl -j top --once)" || return 1
	pctl -j top --once "$GW" > "$TMP/top.json"
	expect_eq "$(jq -r '.sources[0].src' "$TMP/top.json")" 10.220.0.1 "heaviest source first" || return 1
	expect_eq "$(jq -r '.sources[1].src' "$TMP/top.json")" 10.220.0.2 "then the next" || return 1
	# The estimate is within 25% of what the heaviest source sent (all of it denied).
	local sent est
	sent=$(cat "$TMP/sent.1"); est=$(jq -r '.sources[0].est_drops' "$TMP/top.json")
	expect_range "$est" $(( sent * 75 / 100 )) $(( sent * 125 / 100 )) "estimated drops of 10.220.0.1 (sent $sent)" || return 1
	# Every drop is accounted for: the weights add up to the deny counter, give or take sampling noise.
	local denied total
	denied=$(jstat "$GW" '.counters.dropped.deny.packets'); total=$(jq -r '.totals[0].est_drops' "$TMP/top.json")
	expect_range "$total" $(( denied * 85 / 100 )) $(( denied * 115 / 100 )) "estimated drops (denied $denied)" || return 1
	# Bounded in the kernel: samples never exceed the per-CPU budget over the flood.
	local cpus samples
	cpus=$(nproc); samples=$(jq -r '[.sources[].samples] | add' "$TMP/top.json")
	expect_range "$samples" 1 $(( cpus * (100 + 1000 * 4) )) "samples over 3 s on $cpus CPUs" || return 1
	expect_eq "$(pctl -j top --once "$GW" | jq -r '.sources[0].reason')" deny "reason" || return 1
	expect_match "$(pctl top --once "$GW")" "10\.220\.0\.1 .* deny" "human table"
}

run_cases "$@"
