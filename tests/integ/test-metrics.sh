#!/bin/bash
# perimd's Prometheus endpoint: off by default, loopback by default, bad
# values refused, and under a real flood the scraped counters pass
# `promtool check metrics` and equal what `perimctl -j stats` reports.
. "$(dirname "$0")/../lib/lib.sh"

GW=${T}g      # perimeter NIC, in namespace $T-gw
PEER=${T}i    # its peer, in namespace $T-inet
PORT=$(( 20000 + RANDOM % 20000 ))

# Each case gets fresh namespaces (its NIC, and so any XDP program on it, goes
# with them) and a fresh state file: a case never adopts the one before.
setup() {
	ns_add gw && ns_add inet || return 1
	# No IPv6 on the sending side: its router solicitations and MLD reports
	# would reach perim between two reads that the cases compare exactly.
	in_ns inet sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 || return 1
	veth_add gw "$GW" 10.78.0.1/24 inet "$PEER" 10.78.0.2/24 || return 1
	GW_MAC=$(mac_of gw "$GW")
	track_path "$STATE"
}

# listeners NS: the TCP sockets listening in NS, "ADDR:PORT" per line
listeners() { in_netns "$1" ss -Hltn | awk '{print $4}'; }
listening_on() { listeners gw | grep -qxF "$1"; }

scrape() { in_netns gw curl -sS --fail --max-time 5 "http://$1/metrics"; }

# metric FILE NAME LABELS: the value of the sample NAME{LABELS} in FILE
metric() { awk -v s="$2{$3}" '$1 == s {print $2}' "$1"; }

case_off_by_default() {
	setup || return 1
	perimd_start gw --interface "$GW" || return 1
	expect_eq "$(listeners gw)" "" "TCP listeners in the gateway namespace"
}

case_bad_metrics_value_exits_2() {
	local bad
	for bad in bogus 0 65536 10.0.0.1:99999 localhost:9469 '[::1' '[::1]x' 1.2.3.4:; do
		expect_exit 2 "$PERIMD" --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
			--metrics "$bad" || return 1
		grep -qF -- "\"--metrics $bad\"" "$TMP/last.err" || fail "error does not name \"--metrics $bad\": $(cat "$TMP/last.err")" || return 1
		expect_eq "$(wc -l < "$TMP/last.err")" 1 "one error line" || return 1
	done
	[ ! -e "$PIN_ROOT" ] || fail "a refused start created $PIN_ROOT"
}

case_on_listens_on_loopback_default_port() {
	setup || return 1
	perimd_start gw --interface "$GW" --metrics on || return 1
	expect_eq "$(listeners gw)" "127.0.0.1:9469" "listeners with --metrics on" || return 1
	scrape 127.0.0.1:9469 > "$TMP/on.prom" || return 1
	promtool check metrics < "$TMP/on.prom" || fail "promtool check metrics failed"
}

case_port_only_and_http_errors() {
	local code
	setup || return 1
	perimd_start gw --interface "$GW" --metrics "$PORT" || return 1
	expect_eq "$(listeners gw)" "127.0.0.1:$PORT" "listeners with --metrics PORT" || return 1
	code=$(in_netns gw curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
	expect_eq "$code" 404 "GET /" || return 1
	code=$(in_netns gw curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$PORT/metrics")
	expect_eq "$code" 405 "POST /metrics" || return 1
	# The content type scrapers negotiate on.
	in_netns gw curl -sS -D - -o /dev/null "http://127.0.0.1:$PORT/metrics" > "$TMP/headers" || return 1
	expect_match "$(cat "$TMP/headers")" 'Content-Type: text/plain; version=0.0.4' "content type"
}

case_ipv6_loopback() {
	setup || return 1
	perimd_start gw --interface "$GW" --metrics "[::1]:$PORT" || return 1
	expect_eq "$(listeners gw)" "[::1]:$PORT" "listeners with --metrics [::1]:PORT" || return 1
	in_netns gw curl -sS --fail --max-time 5 "http://[::1]:$PORT/metrics" | grep -q '^perim_interface_attached' ||
		fail "no perim_interface_attached over IPv6"
}

case_flood_counters_match_stats() {
	local id sent rx0 stats reason want got p
	setup || return 1
	perimd_start gw --interface "$GW" --metrics "127.0.0.1:$PORT" || return 1
	id=$(pctl -j limit set "$GW" src 10.210.0.0/24 proto udp dport 5011 rate 1kpps burst 500 aggregate | jq -r .id)
	expect_ne "$id" "" "rule id" || return 1
	pctl deny add "$GW" 10.211.0.0/24 || return 1
	rx0=$(jstat "$GW" .counters.rx_packets)
	sent=$(in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
		--src 10.210.0.0/24 --sources 20 --port 5011 --rate 10000 --seconds 1 | sed -E 's/sent=([0-9]+).*/\1/')
	p=$(in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
		--src 10.211.0.0/24 --sources 5 --port 5011 --rate 2000 --count 500 | sed -E 's/sent=([0-9]+).*/\1/')
	expect_eq "$p" 500 "denied packets sent" || return 1
	# The traffic has been counted once rx covers everything sent.
	wait_until 10 test "$(jstat "$GW" .counters.rx_packets)" -ge $(( rx0 + sent + 500 )) ||
		fail "perim saw $(jstat "$GW" .counters.rx_packets) packets" || return 1
	pctl -j stats "$GW" > "$TMP/stats.json" || return 1
	scrape "127.0.0.1:$PORT" > "$TMP/flood.prom" || return 1
	promtool check metrics < "$TMP/flood.prom" || fail "promtool check metrics failed" || return 1

	for reason in rate-pps rate-bytes new-source blocked deny malformed; do
		want=$(jq -r ".interfaces[0].counters.dropped.\"$reason\".packets" "$TMP/stats.json")
		got=$(metric "$TMP/flood.prom" perim_packets_dropped_total "interface=\"$GW\",reason=\"$reason\"")
		expect_eq "$got" "$want" "perim_packets_dropped_total reason=$reason" || return 1
	done
	expect_eq "$(metric "$TMP/flood.prom" perim_packets_dropped_total "interface=\"$GW\",reason=\"deny\"")" 500 \
		"denied packets dropped" || return 1
	got=$(metric "$TMP/flood.prom" perim_packets_dropped_total "interface=\"$GW\",reason=\"rate-pps\"")
	[ "$got" -gt 0 ] || fail "the flood dropped nothing for rate-pps" || return 1
	want=$(jq -r '.interfaces[0].counters.rx_packets' "$TMP/stats.json")
	expect_eq "$(metric "$TMP/flood.prom" perim_packets_received_total "interface=\"$GW\"")" "$want" "received" || return 1
	want=$(jq -r ".interfaces[0].rules[] | select(.id == $id) | .dropped_packets" "$TMP/stats.json")
	expect_eq "$(metric "$TMP/flood.prom" perim_rule_packets_total "interface=\"$GW\",rule=\"$id\",verdict=\"dropped\"")" \
		"$want" "rule dropped" || return 1
	want=$(jq -r ".interfaces[0].rules[] | select(.id == $id) | .passed_packets" "$TMP/stats.json")
	expect_eq "$(metric "$TMP/flood.prom" perim_rule_packets_total "interface=\"$GW\",rule=\"$id\",verdict=\"passed\"")" \
		"$want" "rule passed" || return 1
	expect_eq "$(metric "$TMP/flood.prom" perim_interface_attached "interface=\"$GW\"")" 1 "attached gauge"
}

# deny_rate FILE: the largest dropped_pps_by_reason.deny over the -j frames in FILE
deny_rate() { jq -s '[.[].interfaces[0].rates.dropped_pps_by_reason.deny // 0] | max' "$1"; }
# A function, so wait_until re-reads the file on every poll (an argument would be expanded once).
deny_rate_reached() { [ "$(deny_rate "$1")" -ge "$2" ]; }

case_stats_watch_rates_per_reason_and_rule() {
	local id watch
	setup || return 1
	perimd_start gw --interface "$GW" || return 1
	pctl deny add "$GW" 10.212.0.0/24 || return 1
	id=$(pctl -j limit set "$GW" src 10.213.0.0/24 rate 100pps burst 50 aggregate | jq -r .id)
	"$PERIMCTL" -s "$SOCK" -j stats --watch "$GW" > "$TMP/watch.json" &
	watch=$!
	track_pid $watch
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
		--src 10.212.0.0/24 --sources 5 --port 5012 --rate 3000 --seconds 3 > /dev/null &
	track_pid $!
	in_ns inet "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$GW_MAC" --dst 10.78.0.1 \
		--src 10.213.0.0/24 --sources 5 --port 5012 --rate 1000 --seconds 3 > /dev/null
	# 3000 pps denied: a frame taken during the flood shows about that.
	wait_until 10 deny_rate_reached "$TMP/watch.json" 1500 ||
		fail "deny rate per reason never reached 1500/s: $(deny_rate "$TMP/watch.json")" || return 1
	jq -se "[.[].interfaces[0].rules[] | select(.id == $id) | .rates.dropped_pps] | max >= 450" \
		"$TMP/watch.json" > /dev/null || fail "rule $id drop rate never reached 450/s" || return 1
	kill "$watch"; wait "$watch"
	expect_eq "$?" 0 "stats --watch exit on SIGTERM" || return 1
	# The human frame shows the per-reason rates beside the totals.
	"$PERIMCTL" -s "$SOCK" stats --watch "$GW" > "$TMP/watch.txt" &
	watch=$!
	track_pid $watch
	wait_until 5 grep -q 'deny [0-9]* ([0-9.kM]*/s)' "$TMP/watch.txt" ||
		fail "no per-reason rate in: $(cat "$TMP/watch.txt")"
}

case_scrape_never_blocks_the_control_socket() {
	setup || return 1
	# A client that connects and sends nothing holds a connection; perimd's
	# loop keeps serving perimctl and other scrapes meanwhile.
	perimd_start gw --interface "$GW" --metrics "127.0.0.1:$PORT" || return 1
	in_netns gw bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; sleep 30" &
	track_pid $!
	wait_until 5 bash -c "nsenter --net=/run/netns/$T-gw ss -Htn state established | grep -q ':$PORT'" || return 1
	pctl status > /dev/null || fail "perimctl status with an idle scrape connection open" || return 1
	scrape "127.0.0.1:$PORT" | grep -q '^perim_packets_received_total' || fail "second scrape failed"
}

if ! command -v curl >/dev/null || ! command -v promtool >/dev/null; then
	echo "SKIP: ${0##*/}: curl or promtool missing (scripts/deps.sh installs them)"
	exit 0
fi
run_cases "$@"
