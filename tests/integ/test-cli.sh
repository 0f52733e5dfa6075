#!/bin/bash
# perimctl on its own: help texts, bad input (exit 2, one line naming the
# token, daemon never contacted), daemon unreachable (exit 1), and the client
# side of the protocol against a scripted stand-in for perimd (framing,
# status to exit code, -j, human rendering, --watch, --follow).
. "$(dirname "$0")/../lib/lib.sh"

[ -x "$PERIMCTL" ] || { echo "SKIP: ${0##*/}: $PERIMCTL not built"; exit 0; }

# ---- a stand-in daemon: answers from a JSON file of {"argv words": response} ----
# A response is {"status":..} sent as is, or {"stream": [msg, ...]} sent as the
# response plus events, then the connection is held open (unless "hold": false). Every request's
# argv is appended to $TMP/requests as one JSON line.
write_fake() {
	cat > "$TMP/fake.py" <<'EOF'
import json, os, socket, struct, sys
path, answers, log = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
held = []
def recv_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b
def send(c, obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    c.sendall(struct.pack("=I", len(data)) + data)
while True:
    c, _ = srv.accept()
    hdr = recv_exact(c, 4)
    if hdr is None:
        c.close(); continue
    req = json.loads(recv_exact(c, struct.unpack("=I", hdr)[0]))
    with open(log, "a") as f:
        f.write(json.dumps(req["argv"]) + "\n")
    words = " ".join(req["argv"])
    ans = next((v for k, v in answers.items() if words.startswith(k)),
               {"status": 1, "error": "fake perimd: no answer for " + words})
    if isinstance(ans, str):
        c.sendall(struct.pack("=I", len(ans)) + ans.encode())
    elif "stream" in ans:
        for m in ans["stream"]:
            send(c, m)
        if ans.get("hold", True):
            held.append(c)
            continue
    else:
        send(c, ans)
    c.close()
EOF
}

# run_cases runs each case in a subshell, whose exit the file's EXIT trap does
# not see: processes a case starts are stopped by the case's own trap.
case_owned_pids=()
stop_case_pids() {
	local p
	for p in "${case_owned_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${case_owned_pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -f "$TMP/fake.sock"
}
track_case_pid() {
	case_owned_pids+=("$1")
	trap stop_case_pids EXIT
}

# start_fake ANSWERS_JSON: runs the stand-in on $TMP/fake.sock.
start_fake() {
	command -v python3 >/dev/null || { skip "python3 not installed"; return 1; }
	write_fake
	printf '%s\n' "$1" > "$TMP/answers.json"
	: > "$TMP/requests"
	rm -f "$TMP/fake.sock"
	python3 "$TMP/fake.py" "$TMP/fake.sock" "$TMP/answers.json" "$TMP/requests" 2>"$TMP/fake.err" &
	track_case_pid $!
	wait_until 5 test -S "$TMP/fake.sock" || fail "stand-in daemon did not start: $(cat "$TMP/fake.err")"
}

requests() { wc -l < "$TMP/requests"; }
has_requests() { [ "$(requests)" -ge "$1" ]; }

# expect_one_line FILE: exactly one line
expect_one_line() {
	expect_eq "$(wc -l < "$1")" 1 "lines in $1: $(head -c 300 "$1")"
}

# ---- help ----

case_help_texts() {
	local args
	for args in "-h" "--help" "help"; do
		expect_exit 0 "$PERIMCTL" $args || return 1
		expect_match "$(head -1 "$TMP/last.out")" '^Usage: perimctl \[-j\|--json\]' "$args" || return 1
	done
	for obj in attach detach limit allow deny stats status events protect show apply diff confirm rollback; do
		for args in "help $obj" "$obj help" "$obj -h" "$obj --help"; do
			expect_exit 0 "$PERIMCTL" $args || return 1
			expect_match "$(head -1 "$TMP/last.out")" "^Usage: perimctl .*$obj|^Usage: perimctl attach" "$args" || return 1
			expect_eq "$(cat "$TMP/last.err")" "" "stderr of $args" || return 1
		done
	done
	expect_exit 0 "$PERIMCTL" limit set -h || return 1
	grep -q 'syn .*implies proto tcp' "$TMP/last.out" || fail "limit help documents syn"
}

case_no_arguments_is_usage_error() {
	expect_exit 2 "$PERIMCTL" || return 1
	expect_match "$(head -1 "$TMP/last.err")" '^Usage: perimctl' "usage on stderr" || return 1
	expect_eq "$(cat "$TMP/last.out")" "" "stdout"
}

# ---- bad input: exit 2, one line naming the token, daemon not contacted ----

case_bad_input() {
	start_fake '{}' || return 0
	local -a cases=(
		'rate 10'                      '10'        'limit set eth0 rate 10'
		'unit'                         '10kbit'    'limit set eth0 rate 10kbit'
		'zero rate'                    '0pps'      'limit set eth0 rate 0pps'
		'overflow'                     '99999999999999999999pps' 'limit set eth0 rate 99999999999999999999pps'
		'too fast'                     '1001mpps'  'limit set eth0 rate 1001mpps'
		'bytes unit'                   '5mb'       'limit set eth0 rate 1pps bytes 5mb'
		'host bits'                    '10.0.0.1/8' 'limit set eth0 src 10.0.0.1/8 rate 1pps'
		'bad prefix'                   '10.0.0.256' 'allow add eth0 10.0.0.256'
		'v6 length'                    '::/129'    'deny add eth0 ::/129'
		'port'                         '0'         'limit set eth0 dport 0 rate 1pps'
		'port range'                   '90-80'     'limit set eth0 dport 90-80 rate 1pps'
		'dport icmp'                   'dport'     'limit set eth0 proto icmp dport 80 rate 1pps'
		'syn udp'                      'syn'       'limit set eth0 proto udp syn rate 1pps'
		'burst'                        '0'         'limit set eth0 rate 1pps burst 0'
		'block'                        '86401'     'limit set eth0 rate 1pps block 86401'
		'duplicate'                    'rate'      'limit set eth0 rate 1pps rate 2pps'
		'mode twice'                   'aggregate' 'limit set eth0 rate 1pps per-source aggregate'
		'missing value'                'burst'     'limit set eth0 rate 1pps burst'
		'missing rate'                 'set'       'limit set eth0'
		'unknown keyword'              'foo'       'limit set eth0 rate 1pps foo'
		'no prefix match'              'ra'        'limit set eth0 ra 1pps'
		'unknown object'               'limt'      'limt list'
		'unknown command'              'show'      'limit show'
		'long dev'                     'abcdefghijklmnop' 'attach abcdefghijklmnop'
		'dev slash'                    'a/b'       'detach a/b'
		'mode'                         'xdp'       'attach eth0 mode xdp'
		'extra'                        'eth1'      'detach eth0 eth1'
		'del id'                       'x'         'limit del eth0 x'
		'stats option'                 '--wath'    'stats --wath'
		'event type'                   'a,,b'      'events --type a,,b'
		'status extra'                 'now'       'status now'
		'global option'                '-x'        '-x status'
		'missing socket'               '-s'        '-s'
	)
	local i name token args
	for ((i = 0; i < ${#cases[@]}; i += 3)); do
		name=${cases[i]} token=${cases[i+1]} args=${cases[i+2]}
		# shellcheck disable=SC2086 # word splitting is the point
		expect_exit 2 "$PERIMCTL" -s "$TMP/fake.sock" $args || return 1
		expect_one_line "$TMP/last.err" || return 1
		grep -qF "Error: argument \"$token\" is wrong: " "$TMP/last.err" ||
			fail "$name: '$args' does not name \"$token\": $(cat "$TMP/last.err")" || return 1
		expect_eq "$(cat "$TMP/last.out")" "" "$name: stdout" || return 1
	done
	expect_eq "$(requests)" 0 "requests that reached the daemon"
}

# ---- daemon unreachable: exit 1, one line ----

case_daemon_unreachable() {
	expect_exit 1 "$PERIMCTL" -s "$TMP/none.sock" status || return 1
	expect_eq "$(cat "$TMP/last.err")" \
		"perimctl: cannot reach perimd at $TMP/none.sock: No such file or directory" || return 1
	: > "$TMP/not-a-socket"
	expect_exit 1 "$PERIMCTL" --socket "$TMP/not-a-socket" limit list || return 1
	expect_eq "$(cat "$TMP/last.err")" \
		"perimctl: cannot reach perimd at $TMP/not-a-socket: Connection refused" || return 1
	# $PERIM_SOCKET is the default; -s overrides it
	PERIM_SOCKET=$TMP/env.sock expect_exit 1 "$PERIMCTL" status || return 1
	expect_match "$(cat "$TMP/last.err")" "at $TMP/env.sock: " "env socket" || return 1
	PERIM_SOCKET=$TMP/env.sock expect_exit 1 "$PERIMCTL" -s "$TMP/opt.sock" status || return 1
	expect_match "$(cat "$TMP/last.err")" "at $TMP/opt.sock: " "-s over env"
}

# ---- the protocol against the stand-in ----

case_request_and_exit_codes() {
	start_fake '{
		"limit set eth0": {"status": 0, "result": {"dev": "eth0", "id": 7}},
		"limit del eth0 9": {"status": 2, "error": "Error: argument \"9\" is wrong: no such rule"},
		"attach eth0": {"status": 1, "error": "perimd: attach eth0: Operation not supported\nsecond line"},
		"detach eth0": "this is not json",
		"detach eth1": {"result": {}},
		"status": {"status": 0}
	}' || return 0
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" limit set eth0 rate 1kpps syn || return 1
	expect_eq "$(cat "$TMP/last.out")" "rule 7 on eth0" "limit set output" || return 1
	expect_eq "$(tail -1 "$TMP/requests")" '["limit", "set", "eth0", "rate", "1kpps", "syn"]' \
		"argv sent: command words only" || return 1
	expect_exit 0 "$PERIMCTL" -j -s "$TMP/fake.sock" limit set eth0 rate 1kpps || return 1
	expect_eq "$(cat "$TMP/last.out")" '{"dev":"eth0","id":7}' "-j prints the result" || return 1
	expect_eq "$(tail -1 "$TMP/requests")" '["limit", "set", "eth0", "rate", "1kpps"]' "no -j/-s" || return 1
	expect_exit 2 "$PERIMCTL" -s "$TMP/fake.sock" limit del eth0 9 || return 1
	expect_eq "$(cat "$TMP/last.err")" 'Error: argument "9" is wrong: no such rule' "daemon's bad input" || return 1
	expect_exit 1 "$PERIMCTL" -s "$TMP/fake.sock" attach eth0 || return 1
	expect_eq "$(cat "$TMP/last.err")" 'perimd: attach eth0: Operation not supported second line' \
		"daemon's failure, one line" || return 1
	expect_exit 1 "$PERIMCTL" -s "$TMP/fake.sock" detach eth0 || return 1
	expect_match "$(cat "$TMP/last.err")" '^perimctl: bad response from perimd' "garbage" || return 1
	expect_exit 1 "$PERIMCTL" -s "$TMP/fake.sock" detach eth1 || return 1
	expect_match "$(cat "$TMP/last.err")" '^perimctl: bad response from perimd' "no status" || return 1
	expect_exit 0 "$PERIMCTL" -j -s "$TMP/fake.sock" status || return 1
	expect_eq "$(cat "$TMP/last.out")" '{}' "missing result is empty"
}

STATS='{"status": 0, "result": {"time_ns": 1, "interfaces": [{"dev": "eth0", "ifindex": 4,
  "attached": true, "mode": "native", "dispatcher": "single",
  "counters": {"rx_packets": 1000, "rx_bytes": 64000, "passed_packets": 400, "passed_bytes": 25600,
    "allowed_packets": 3, "would_drop_packets": 5,
    "dropped": {"rate-pps": {"packets": 550, "bytes": 1}, "rate-bytes": {"packets": 0, "bytes": 0},
      "new-source": {"packets": 0, "bytes": 0}, "blocked": {"packets": 40, "bytes": 0},
      "deny": {"packets": 10, "bytes": 0}, "malformed": {"packets": 0, "bytes": 0}}},
  "rates": {"rx_pps": 12500, "passed_pps": 1000, "dropped_pps": 11500, "rx_bps": 6400000},
  "rules": [{"id": 1, "matched_packets": 990, "matched_bytes": 0, "passed_packets": 400,
    "passed_bytes": 0, "dropped_packets": 590, "dropped_bytes": 0, "would_drop_packets": 0,
    "would_drop_bytes": 0, "rates": {"matched_pps": 12000, "dropped_pps": 11000}}]}]}}'

case_human_rendering() {
	start_fake '{
		"stats": '"$STATS"',
		"limit list": {"status": 0, "result": {"limits": [{"dev": "eth0", "id": 3, "src": "10.0.0.0/8",
			"proto": "tcp", "dport": "1000-2000", "syn": true, "rate_pps": 20000, "burst": 0,
			"bytes_per_s": 2000000, "mode": "aggregate", "block_s": 30, "dry_run": false}]}},
		"allow list": {"status": 0, "result": {"entries": []}},
		"deny add": {"status": 0, "result": {"dev": "eth0", "prefix": "192.0.2.0/24", "list": "deny"}},
		"status": {"status": 0, "result": {"pid": 42, "version": "0.1", "pin_root": "/sys/fs/bpf/perim",
			"btf": {"path": "/sys/kernel/btf/vmlinux", "source": "kernel"},
			"interfaces": [{"dev": "eth0", "ifindex": 4, "attached": true, "mode": "native",
				"dispatcher": "single", "programs": [{"name": "perim_xdp", "priority": 10,
				"chain_call_actions": ["pass"]}]}],
			"hooks": [{"name": "perim_xdp", "family": "xdp", "attached": true, "how": "native, no dispatcher"},
				{"name": "tcp_connect", "family": "kprobe", "attached": false, "reason": "no kprobes"}]}}
	}' || return 0
	local out
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" stats || return 1
	out=$(cat "$TMP/last.out")
	expect_match "$out" '^eth0  ifindex 4  native  single' "header" || return 1
	expect_match "$out" 'received +1000 pkts +12.5k pps +6.40Mbit/s' "rx" || return 1
	expect_match "$out" 'dropped +600 pkts +11.5k pps' "dropped total" || return 1
	expect_match "$out" 'drops by reason: rate-pps 550 rate-bytes 0 new-source 0 blocked 40 deny 10 malformed 0' \
		"reasons" || return 1
	expect_match "$out" '^ +1 +990 +400 +590 +0 +12.0k +11.0k$' "rule row" || return 1
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" limit list || return 1
	out=$(cat "$TMP/last.out")
	expect_match "$out" '^DEV +ID +SRC' "table header" || return 1
	expect_match "$out" '^eth0 +3 +10.0.0.0/8 +tcp +1000-2000 +20kpps +default +16mbit +aggregate +30s +syn$' \
		"limit row" || return 1
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" allow list || return 1
	expect_eq "$(cat "$TMP/last.out")" "no entries" "empty list" || return 1
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" deny add eth0 192.0.2.0/24 || return 1
	expect_eq "$(cat "$TMP/last.out")" "added 192.0.2.0/24 to the deny list of eth0" "acl add" || return 1
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" status || return 1
	out=$(cat "$TMP/last.out")
	expect_match "$out" '^perimd pid 42, version 0.1' "pid" || return 1
	expect_match "$out" '^BTF: /sys/kernel/btf/vmlinux \(kernel\)' "btf" || return 1
	expect_match "$out" 'perim_xdp \(priority 10, chains on pass\)' "programs" || return 1
	expect_match "$out" 'tcp_connect +kprobe +not attached: no kprobes' "hook reason" || return 1
	expect_match "$out" 'perim_xdp +xdp +attached via native, no dispatcher' "hook how"
}

# Not a TTY: one block per second; SIGINT after the second request stops it, exit 0.
case_stats_watch() {
	start_fake '{"stats": '"$STATS"'}' || return 0
	"$PERIMCTL" -s "$TMP/fake.sock" stats --watch > "$TMP/watch.out" 2>"$TMP/watch.err" &
	local pid=$!
	track_case_pid $pid
	wait_until 10 has_requests 2 || fail "watch did not repeat its request" || return 1
	kill -INT $pid
	wait $pid
	expect_eq $? 0 "exit after SIGINT" || return 1
	expect_eq "$(cat "$TMP/watch.err")" "" "stderr" || return 1
	expect_range "$(grep -c '^perim stats at' "$TMP/watch.out")" 2 4 "blocks printed" || return 1
	if grep -q $'\033' "$TMP/watch.out"; then fail "escape codes written to a file"; return 1; fi
	# -j --watch: one JSON line per sample, SIGTERM stops it too
	: > "$TMP/requests"
	"$PERIMCTL" -j -s "$TMP/fake.sock" stats -w > "$TMP/watch.out" &
	pid=$!
	track_case_pid $pid
	wait_until 10 has_requests 2 || fail "-j watch did not repeat" || return 1
	kill -TERM $pid
	wait $pid
	expect_eq $? 0 "exit after SIGTERM" || return 1
	head -1 "$TMP/watch.out" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "not JSON lines"
}

case_events_follow() {
	start_fake '{"events --follow": {"stream": [{"status": 0, "result": {}},
		{"type": "exec", "pid": 7, "comm": "sh"}, {"type": "drop", "reason": "deny"}]}}' || return 0
	"$PERIMCTL" -s "$TMP/fake.sock" events --follow > "$TMP/ev.out" 2>"$TMP/ev.err" &
	local pid=$!
	track_case_pid $pid
	wait_until 10 grep -q 'reason=deny' "$TMP/ev.out" || fail "events not printed: $(cat "$TMP/ev.out" "$TMP/ev.err")" || return 1
	kill -INT $pid
	wait $pid
	expect_eq $? 0 "exit after SIGINT" || return 1
	expect_eq "$(head -1 "$TMP/ev.out")" "type=exec pid=7 comm=sh" "human event line"
}

# Without --follow: the events in the result and those streamed until perimd closes.
case_events_backlog() {
	start_fake '{"events --type exec": {"stream": [{"status": 0, "result": {"events": [{"type": "exec", "pid": 1}]}},
		{"type": "exec", "pid": 2}], "hold": false},
		"events --type bad": {"status": 1, "error": "the tracers are not running"}}' || return 0
	expect_exit 0 "$PERIMCTL" -s "$TMP/fake.sock" events --type exec || return 1
	expect_eq "$(cat "$TMP/last.out")" $'type=exec pid=1\ntype=exec pid=2' "both events" || return 1
	expect_exit 0 "$PERIMCTL" -j -s "$TMP/fake.sock" events --type exec || return 1
	expect_eq "$(cat "$TMP/last.out")" $'{"events":[{"type":"exec","pid":1}]}\n{"type":"exec","pid":2}' "-j lines" || return 1
	expect_exit 1 "$PERIMCTL" -s "$TMP/fake.sock" events --type bad || return 1
	expect_eq "$(cat "$TMP/last.err")" "the tracers are not running" "daemon error"
}

run_cases "$@"
