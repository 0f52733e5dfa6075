#!/bin/bash
# The tracers, end to end with the real perimd: real processes exec, exit,
# signal, connect (TCP/UDP, IPv4/IPv6), accept and bind; every event must arrive in
# the JSON sink with the right process attribution, also for a process that
# exits right after connecting and for a reused pid. Hooks the host lacks must
# be reported unavailable with a reason, and forced ring overflow must be
# accounted exactly (lost == generated - delivered).
. "$(dirname "$0")/../lib/lib.sh"

EV=$TMP/events.json
PY=$(command -v /usr/bin/python3 || command -v python3)
TCP_PORT=$(( 20000 + RANDOM % 20000 ))
UDP_PORT=$(( TCP_PORT + 1 ))
CLOSED_PORT=$(( TCP_PORT + 2 ))
BIND_PORT=$(( TCP_PORT + 3 ))

# find_event JQ-CONDITION: the first event in the sink (and its rotated
# predecessor, see sighup_reopens_sink) matching it, as compact JSON.
find_event() { cat "$EV.old" "$EV" 2>/dev/null | jq -c "select($1)" 2>/dev/null | head -n 1; }
has_event() { [ -n "$(find_event "$1")" ]; }
# await_event JQ-CONDITION: wait for it (perimd drains every 50 ms), print it.
await_event() {
	wait_until 10 has_event "$1" || { fail "no event matching: $1"; return 1; }
	find_event "$1"
}
field() { jq -r "$1" <<<"$2"; }

# A listener in the namespace: TCP and UDP on IPv4 and IPv6, accepting and closing.
listener_start() {
	cat > "$TMP/listener.py" <<'PYEOF'
import os, select, socket, sys
tcp_port, udp_port, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, tcp_port)); t.listen(64); socks.append(t)
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, udp_port))
with open(pidfile + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
while True:
    for s in select.select(socks, [], [])[0]:
        c, _ = s.accept(); c.close()
PYEOF
	in_netns srv "$PY" "$TMP/listener.py" "$TCP_PORT" "$UDP_PORT" "$TMP/listener.pid" &
	track_pid $!
	wait_until 10 test -s "$TMP/listener.pid" || fail "listener did not start" || return 1
	LISTENER_PID=$(cat "$TMP/listener.pid")
	track_pid "$LISTENER_PID"
}

# client NAME BASH-SNIPPET: a short-lived bash in the namespace, named by its
# $0, that records its pid, runs the snippet (a connect) and exits at once.
client() {
	local name=$1 snippet=$2
	in_netns srv bash -c 'echo $$ > "$1"; '"$snippet" "$name-$T" "$TMP/$name.pid" 2>/dev/null
	cat "$TMP/$name.pid"
}

# The connect of client NAME: right pid, process identity, flow and result.
check_connect() {
	local name=$1 pid=$2 proto=$3 family=$4 dst=$5 dport=$6 result=$7 ev
	ev=$(await_event ".type==\"connect\" and .pid==$pid and .flow.dport==$dport") || return 1
	expect_eq "$(field .comm "$ev")" bash "comm" &&
	expect_eq "$(field .exe "$ev")" "$(readlink -f "$(command -v bash)")" "exe" &&
	expect_ne "$(field ".argv | index(\"$name-$T\")" "$ev")" null "argv names the client" &&
	expect_eq "$(field .uid "$ev")" 0 "uid" &&
	expect_eq "$(field .user "$ev")" root "user" &&
	expect_ne "$(field .cgroup_id "$ev")" 0 "cgroup id" &&
	expect_eq "$(field .flow.proto "$ev")" "$proto" "proto" &&
	expect_eq "$(field .flow.family "$ev")" "$family" "family" &&
	expect_eq "$(field .flow.dst "$ev")" "$dst" "dst" &&
	expect_eq "$(field .result "$ev")" "$result" "result"
}

case_exec_with_arguments() {
	local pid ev
	bash -c 'echo $$ > "$1"; exec /bin/echo "$2" "two words"' sh "$TMP/exec.pid" "arg-$T" >/dev/null
	pid=$(cat "$TMP/exec.pid")
	ev=$(await_event ".type==\"exec\" and .pid==$pid and .comm==\"echo\"") || return 1
	expect_eq "$(field .filename "$ev")" /bin/echo "filename" &&
	expect_eq "$(jq -c .argv <<<"$ev")" "[\"/bin/echo\",\"arg-$T\",\"two words\"]" "argv" &&
	expect_eq "$(field .comm "$ev")" echo "comm" &&
	expect_eq "$(field .ppid "$ev")" "$BASHPID" "ppid is this shell" &&
	expect_eq "$(field .user "$ev")" root "user"
}

case_fork_exit_with_code() {
	local pid ev
	bash -c 'exit 42' & pid=$!
	wait "$pid"
	ev=$(await_event ".type==\"exit\" and .pid==$pid") || return 1
	expect_eq "$(field .exit_code "$ev")" 42 "exit code" &&
	expect_eq "$(field .signal "$ev")" 0 "no signal" &&
	ev=$(await_event ".type==\"fork\" and .child_pid==$pid") || return 1
	expect_eq "$(field .pid "$ev")" "$BASHPID" "forked by this shell"
}

case_signal() {
	local pid ev
	sleep 30 & pid=$!
	wait_until 5 grep -qx sleep "/proc/$pid/comm" || { fail "sleep did not start"; return 1; }
	kill -USR1 "$pid"
	wait "$pid" 2>/dev/null
	ev=$(await_event ".type==\"signal\" and .target_pid==$pid") || return 1
	expect_eq "$(field .sig "$ev")" 10 "signal number" &&
	expect_eq "$(field .signame "$ev")" SIGUSR1 "signal name" &&
	expect_eq "$(field .pid "$ev")" "$BASHPID" "sender" &&
	expect_eq "$(field .target_comm "$ev")" sleep "target comm" &&
	ev=$(await_event ".type==\"exit\" and .pid==$pid") || return 1
	expect_eq "$(field .signal "$ev")" 10 "killed by the signal"
}

case_connect_tcp_ipv4() {
	local pid
	pid=$(client tcp4 "exec 3<>/dev/tcp/127.0.0.1/$TCP_PORT")
	check_connect tcp4 "$pid" tcp ipv4 127.0.0.1 "$TCP_PORT" 0
}

case_connect_tcp_ipv6() {
	local pid
	pid=$(client tcp6 "exec 3<>/dev/tcp/::1/$TCP_PORT")
	check_connect tcp6 "$pid" tcp ipv6 ::1 "$TCP_PORT" 0
}

case_connect_udp_ipv4() {
	local pid
	pid=$(client udp4 "echo x > /dev/udp/127.0.0.1/$UDP_PORT")
	check_connect udp4 "$pid" udp ipv4 127.0.0.1 "$UDP_PORT" 0
}

case_connect_udp_ipv6() {
	local pid
	pid=$(client udp6 "echo x > /dev/udp/::1/$UDP_PORT")
	check_connect udp6 "$pid" udp ipv6 ::1 "$UDP_PORT" 0
}

case_connect_refused_has_result() {
	local pid ev
	pid=$(client refused "exec 3<>/dev/tcp/127.0.0.1/$CLOSED_PORT")
	check_connect refused "$pid" tcp ipv4 127.0.0.1 "$CLOSED_PORT" -111 || return 1
	ev=$(find_event ".type==\"connect\" and .pid==$pid")
	expect_eq "$(field .error "$ev")" ECONNREFUSED "error name"
}

case_accept_attributed_to_listener() {
	local pid ev cport
	pid=$(client acc "exec 3<>/dev/tcp/127.0.0.1/$TCP_PORT")
	ev=$(await_event ".type==\"connect\" and .pid==$pid") || return 1
	cport=$(field .flow.sport "$ev")
	ev=$(await_event ".type==\"accept\" and .flow.dport==$cport and .flow.sport==$TCP_PORT") || return 1
	expect_eq "$(field .pid "$ev")" "$LISTENER_PID" "the listener accepted" &&
	expect_eq "$(field .flow.proto "$ev")" tcp "proto" &&
	expect_eq "$(field .flow.dst "$ev")" 127.0.0.1 "peer" &&
	expect_match "$(jq -c .argv <<<"$ev")" "listener.py" "listener argv"
}

# bind_udp NAME FAMILY: a udpflood receiver bound to BIND_PORT in the namespace;
# its pid in BIND_PID. (nsenter execs it: $! is the process that binds.)
bind_udp() {
	nsenter --net="/run/netns/$T-srv" "$TOOLS/udpflood" recv --port "$BIND_PORT" \
		--count-file "$TMP/$1.count" --family "$2" >"$TMP/$1.log" 2>&1 &
	BIND_PID=$!
	track_pid "$BIND_PID"
}

# The bind event names the process, the UDP port it took and the socket's inode.
check_bind() {
	local family=$1 src=$2 pid ev inode
	bind_udp "bind$family" "${family#ipv}" || return 1
	pid=$BIND_PID
	ev=$(await_event ".type==\"bind\" and .pid==$pid") || return 1
	inode=$(readlink /proc/"$pid"/fd/* 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | head -n 1)
	expect_eq "$(field .comm "$ev")" udpflood "comm" &&
	expect_eq "$(field .exe "$ev")" "$(readlink -f "$TOOLS/udpflood")" "exe" &&
	expect_eq "$(field .flow.proto "$ev")" udp "proto" &&
	expect_eq "$(field .flow.family "$ev")" "$family" "family" &&
	expect_eq "$(field .flow.src "$ev")" "$src" "address" &&
	expect_eq "$(field .flow.sport "$ev")" "$BIND_PORT" "port" &&
	expect_eq "$(field .result "$ev")" 0 "result" &&
	expect_eq "$(field .inode "$ev")" "$inode" "the socket's inode"
}

case_bind_udp_ipv4() {
	check_bind ipv4 0.0.0.0
}

# A second bind to the taken port fails: the event says so, with the port asked for.
case_bind_udp_ipv6_and_refused() {
	local first ev
	check_bind ipv6 :: || return 1
	first=$BIND_PID
	bind_udp bind-again 6 || return 1
	ev=$(await_event ".type==\"bind\" and .pid==$BIND_PID") || return 1
	expect_eq "$(field .result "$ev")" -98 "result" &&
	expect_eq "$(field .error "$ev")" EADDRINUSE "error" &&
	expect_eq "$(field .flow.sport "$ev")" "$BIND_PORT" "the port asked for" &&
	expect_ne "$BIND_PID" "$first" "another process"
}

# A connect from a pid that an earlier process also had is the new process's.
case_pid_reuse_not_misattributed() {
	local old new try
	for try in 1 2 3 4 5 6 7 8; do
		/bin/true "old-$T" & old=$!
		wait "$old"
		echo $(( old - 1 )) > /proc/sys/kernel/ns_last_pid
		# nsenter execs bash: $! is the pid that connects.
		nsenter --net="/run/netns/$T-srv" bash -c "exec 3<>/dev/tcp/127.0.0.1/$TCP_PORT" "new-$T" 2>/dev/null & new=$!
		wait "$new"
		[ "$new" = "$old" ] && break
	done
	[ "$new" = "$old" ] || { skip "could not get pid $old reused (busy machine)"; return 0; }
	await_event ".type==\"exec\" and .pid==$old and (.argv|index(\"old-$T\"))" >/dev/null || return 1
	ev=$(await_event ".type==\"connect\" and .pid==$new") || return 1
	expect_eq "$(field '.argv[-1]' "$ev")" "new-$T" "the new process's argv" &&
	expect_eq "$(field '.argv | index("old-'"$T"'")' "$ev")" null "nothing of the old process" &&
	expect_eq "$(field .comm "$ev")" bash "the new process's comm"
}

case_hooks_report_attachment() {
	local hooks h
	hooks=$(pctl -j status | jq -c .hooks) || return 1
	for h in exec fork exit signal connect accept sock_state ptrace bpf setid mount unlink rename attr write creds bind; do
		expect_eq "$(jq -r ".[] | select(.name==\"$h\") | .attached" <<<"$hooks")" true "$h attached" || return 1
	done
	# What this kernel lacks is unavailable with its reason, never silently.
	if [ ! -e /sys/bus/event_source/devices/kprobe ]; then
		expect_match "$(jq -r '.[] | select(.name=="unlink") | .reason' <<<"$hooks")" "lacks kprobes" "unlink fallback reason" &&
		expect_match "$(jq -r '.[] | select(.name=="unlink") | .how' <<<"$hooks")" "^tracepoint syscalls/sys_enter_unlinkat" "unlink via tracepoint" || return 1
	fi
	if [ ! -d /sys/kernel/tracing/events/module ]; then
		expect_eq "$(jq -r '.[] | select(.name=="module") | .attached' <<<"$hooks")" false "module" &&
		expect_match "$(jq -r '.[] | select(.name=="module") | .reason' <<<"$hooks")" "no tracepoint module_load" "module reason" || return 1
	fi
	if ! grep -q bpf /sys/kernel/security/lsm 2>/dev/null; then
		expect_match "$(jq -r '.[] | select(.name=="guard_open") | .reason' <<<"$hooks")" "BPF LSM not in lsm=" "lsm reason" || return 1
	else
		for h in guard_open guard_exec guard_bpf; do
			[ "$(jq -r ".[] | select(.name==\"$h\") | .attached" <<<"$hooks")" = true ] ||
				expect_match "$(jq -r ".[] | select(.name==\"$h\") | .reason" <<<"$hooks")" "LSM" "$h reason" || return 1
		done
	fi
	expect_eq "$(jq '[.[] | select(.attached==false and (.reason // "") == "")] | length' <<<"$hooks")" 0 \
		"every unattached hook has a reason"
}

# The process table's size in status: 20 new live processes are there (or
# made room for by evicting exited ones), and the human output says so.
case_status_shows_process_table() {
	local before after i pids=() out
	before=$(pctl -j status | jq -c .processes) || return 1
	for i in $(seq 20); do
		bash -c 'exec -a "tbl-$1" sleep 60' sh "$T" & pids+=($!)
		track_pid "$!"
	done
	await_event ".type==\"exec\" and .pid==${pids[19]}" >/dev/null || return 1
	after=$(pctl -j status | jq -c .processes) || return 1
	kill "${pids[@]}" 2>/dev/null
	expect_range "$(jq -n --argjson a "$after" --argjson b "$before" \
		'($a.tracked - $b.tracked) + ($a.evicted - $b.evicted)')" 20 1000000 \
		"tracked + evicted grew by the 20 processes ($before -> $after)" || return 1
	expect_eq "$(jq -r .dropped <<<"$after")" 0 "nothing dropped" || return 1
	out=$(pctl status) || return 1
	expect_match "$out" "^processes: [0-9]+ tracked \([0-9]+ exited\), 0 dropped, [0-9]+ evicted$" "status line"
}

case_file_and_security_events() {
	local f=$TMP/victim-$T ev
	touch "$f"; chmod 600 "$f"; mv "$f" "$f.2"; rm "$f.2"
	ev=$(await_event ".type==\"file\" and .op==\"unlink\" and .path==\"$f.2\"") || return 1
	ev=$(await_event ".type==\"file\" and .op==\"rename\" and .path==\"$f\"") || return 1
	expect_eq "$(field .path2 "$ev")" "$f.2" "rename target" &&
	ev=$(await_event ".type==\"file\" and .op==\"chmod\" and .path==\"$f\"") || return 1
	expect_eq "$(field .mode "$ev")" 0600 "mode" &&
	bpftool prog show >/dev/null 2>&1
	await_event ".type==\"bpf\" and .comm==\"bpftool\"" >/dev/null
}

case_events_command() {
	local out pid
	pctl -j events --follow --type exec > "$TMP/follow.out" 2>&1 & pid=$!
	trap "kill $pid 2>/dev/null" EXIT
	# The subscription is live once perimd has answered; then every exec streams.
	wait_until 5 eval 'pctl -j status | jq -e ".hooks" >/dev/null' || return 1
	wait_until 10 eval '/bin/true "cli-$T"; grep -q "cli-$T" "$TMP/follow.out"' ||
		{ fail "exec not streamed: $(head -c 300 "$TMP/follow.out")"; return 1; }
	expect_eq "$(grep -v "cli-$T" "$TMP/follow.out" | grep -c '"type":"fork"')" 0 "only the requested type" || return 1
	out=$(pctl -j events --type exec) || { fail "perimctl events failed"; return 1; }
	expect_match "$out" '"type":"exec"' "backlog of recent execs" &&
	expect_exit 2 pctl events --type exec,bogus &&
	expect_match "$(cat "$TMP/last.err" "$TMP/last.out")" '"bogus"' "bad type named"
}

# events_reader MODE: a control client asking for a non-follow `events` dump.
# slow: waits 0.5 s before reading (perimd meets a full socket), then reads
# 2 KiB at a time; prints the messages it got, one per line. stuck: never
# reads, and holds on until killed.
events_reader() {
	"$PY" - "$SOCK" "$1" <<'PYEOF'
import json, socket, struct, sys, time
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
req = json.dumps({"argv": ["events"]}).encode()
s.sendall(struct.pack("=I", len(req)) + req)
if mode == "stuck":
    print("asked", flush=True)
    time.sleep(120)
    sys.exit(0)
time.sleep(0.5)
buf = b""
while True:
    chunk = s.recv(2048)
    if not chunk:
        break
    buf += chunk
    time.sleep(0.001)
while len(buf) >= 4:
    n = struct.unpack("=I", buf[:4])[0]
    if len(buf) < 4 + n:
        print("TRUNCATED", flush=True)
        break
    print(buf[4:4 + n].decode())
    buf = buf[4 + n:]
PYEOF
}

# A non-follow dump of a full backlog (1024 events, more than the socket holds)
# to a slow reader arrives whole; a reader that never reads blocks nobody.
case_events_dump_complete_for_a_slow_reader() {
	local out=$TMP/slow.out i stuck n
	for i in $(seq 400); do /bin/true "dump-$T-$i"; done
	await_event ".type==\"exec\" and (.argv|index(\"dump-$T-400\"))" >/dev/null || return 1
	events_reader stuck > "$TMP/stuck.out" & stuck=$!
	track_pid "$stuck"
	wait_until 5 grep -q asked "$TMP/stuck.out" || { fail "the stuck reader did not connect"; return 1; }
	events_reader slow > "$out" || { fail "slow reader failed"; return 1; }
	expect_eq "$(grep -c TRUNCATED "$out")" 0 "no message cut" &&
	expect_eq "$(head -n 1 "$out" | jq -c .result)" '{"streaming":true}' "the answer first" &&
	expect_eq "$(tail -n +2 "$out" | jq -s length)" 1024 "every backlog event (the backlog is full)" &&
	expect_ne "$(grep -c "dump-$T-400" "$out")" 0 "the tail: the newest exec" || return 1
	# A reader that takes nothing does not hold up the daemon.
	expect_eq "$(timeout 5 "$PERIMCTL" -s "$SOCK" -j status | jq -r .pid)" "$(pctl -j status | jq -r .pid)" "status answers meanwhile"
}

case_sighup_reopens_sink() {
	local pid
	pid=$(pctl -j status | jq -r .pid) || return 1
	mv "$EV" "$EV.old"
	kill -HUP "$pid"
	wait_until 5 test -e "$EV" || { fail "no new events file after SIGHUP"; return 1; }
	/bin/true "hup-$T"
	await_event ".type==\"exec\" and (.argv|index(\"hup-$T\"))" >/dev/null
}

# A 4 KiB ring that perimd does not drain for a while overflows; every loss is counted.
# The test build of perimd (tests/daemon/) has the ring-size and hold switches.
case_forced_overflow_accounted() {
	local sock=$TMP/ovf.sock ev=$TMP/ovf.json hold=$TMP/hold pid i gen del lost
	touch "$hold"
	PERIM_TEST_RINGBUF_SIZE=4096 PERIM_TEST_HOLD_FILE=$hold \
		"$OUT/tests/perimd-test" --socket "$sock" --pin-root "$PIN_ROOT-ovf" --state "$TMP/ovf.state" \
		--events "$ev" >"$TMP/ovf.log" 2>&1 & pid=$!
	track_pid "$pid"; track_path "$PIN_ROOT-ovf"
	# Cases run in a subshell: this trap, not lib.sh's, is what ends them.
	trap "kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf '$PIN_ROOT-ovf'" EXIT
	wait_until 20 grep -q 'perimd: ready' "$TMP/ovf.log" || { fail "not ready: $(cat "$TMP/ovf.log")"; return 1; }
	for i in $(seq 60); do /bin/true; done
	rm -f "$hold"
	exec_counts() {
		"$PERIMCTL" -s "$sock" -j status | jq -r '.hooks[] | select(.name=="exec") | "\(.generated) \(.delivered) \(.lost)"'
	}
	settled() { read -r gen del lost < <(exec_counts); [ $(( gen - del - lost )) -eq 0 ]; }
	# settled's own reading (wait_until runs it in this shell): a second read could count an exec
	# from elsewhere on the machine that is generated but not yet delivered.
	wait_until 10 settled || { fail "never settled: $(exec_counts)"; return 1; }
	expect_range "$lost" 1 "$gen" "exec events lost" &&
	expect_eq "$lost" $(( gen - del )) "lost == generated - delivered" || return 1
	# The gaps perimd saw in the sequence numbers are the kernel's losses on
	# that ring (a loss is seen as a gap once the next event of its CPU arrives).
	ring_lost() {
		"$PERIMCTL" -s "$sock" -j status | jq '[.hooks[] | select(.name |
			test("^(exec|fork|exit|signal|connect|accept|sock_state|unlink|rename|attr|write|bind)$")) | .lost] | add'
	}
	ring_gaps() { jq -s '[.[] | select(.type=="lost" and .ring=="events") | .count] | add // 0' "$ev"; }
	gaps_match() { [ "$(ring_gaps)" = "$(ring_lost)" ]; }
	wait_until 10 gaps_match || fail "sequence gaps $(ring_gaps) != lost on the event ring $(ring_lost)"
}

mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
[ -x "$PERIMD" ] || { echo "SKIP: ${0##*/}: $PERIMD not built"; exit 0; }
ns_add srv || exit 1
listener_start || { echo "FAIL: ${0##*/}: listener"; exit 1; }
perimd_start srv --events "$EV" || { echo "FAIL: ${0##*/}: perimd did not start"; exit 1; }
wait_until 10 eval 'pctl -j status | jq -e ".hooks | length > 0"' || { echo "FAIL: ${0##*/}: no hooks in status"; exit 1; }
# perimd_start's $! is the shell around nsenter: track perimd itself too.
track_pid "$(pctl -j status | jq -r .pid)"
run_cases "$@"
