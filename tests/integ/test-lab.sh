#!/bin/bash
# The lab (scripts/lab.sh, `make lab`) tells the story it says it tells: run
# short (LAB_SECONDS=4) into a file, its output is checked step by step (the
# top source named with the local process it aimed at, the connecting process
# named with user, exe and argv, the egress-limited process cut to its rate,
# the per-actor summary), then that it left nothing behind; a second run on a
# pseudo-terminal checks it works there too.
. "$(dirname "$0")/../lib/lib.sh"

LAB=$TOP/scripts/lab.sh
SECS=4

# run_lab OUTFILE [script]: the lab's exit status; its pid (its names' suffix) in LAB_PID.
run_lab() {
	if [ "${2:-}" = script ]; then
		LAB_SECONDS=$SECS script -qefc "$LAB" "$1" > /dev/null 2>&1 < /dev/null &
	else
		LAB_SECONDS=$SECS "$LAB" > "$1" 2>&1 < /dev/null &
	fi
	LAB_PID=$!
	track_pid "$LAB_PID"
	wait "$LAB_PID"
}

LAB_OUT=$TMP/lab.out
t0=$(date +%s%N)
run_lab "$LAB_OUT"
LAB_RC=$? FILE_LAB_PID=$LAB_PID
LAB_MS=$(( ($(date +%s%N) - t0) / 1000000 ))

# step N: the lines of step N's section.
step_lines() { awk -v n="== $1." 'index($0, n) == 1 {s = 1; next} /^== / {s = 0} s' "$LAB_OUT"; }
summary_row() { step_lines 5 | grep -F "$1"; }

case_lab_runs_every_step_in_time() {
	local n
	expect_eq "$LAB_RC" 0 "lab exit status; its output: $(tail -n 20 "$LAB_OUT")" || return 1
	for n in 1 2 3 4 5; do
		# One line saying what the step shows.
		expect_match "$(grep -E "^== $n\. " "$LAB_OUT")" "^== $n\. [a-z].{30,}" "step $n's line" || return 1
	done
	# Into a file: no terminal escapes.
	expect_eq "$(grep -c $'\033' "$LAB_OUT")" 0 "escape sequences in a file" || return 1
	# The live counters ran during the flood, one block a second.
	expect_range "$(step_lines 1 | grep -c '^perim stats at')" 2 $SECS "stats --watch blocks" || return 1
	# The default (10 s) adds 6 s of flood and 2 s of egress to this run: still under a minute.
	echo "lab with LAB_SECONDS=$SECS: $LAB_MS ms"
	expect_range $(( LAB_MS + 8000 )) 0 60000 "the default lab's length, from this run's"
}

case_top_names_the_source_and_the_process_aimed_at() {
	local svc row
	svc=$(sed -nE 's/^lab-service \(pid ([0-9]+)\) received.*/\1/p' "$LAB_OUT")
	expect_ne "$svc" "" "lab-service's pid in the summary" || return 1
	row=$(step_lines 2 | grep -E '^perim0 +198\.51\.100\.[0-9]+ ' | head -n 1)
	expect_ne "$row" "" "a flood source at the top" || return 1
	expect_match "$row" "rate-pps +1 +udp +5001 +lab-service\\[$svc\\]\$" "top row: reason, rule, port, the process aimed at"
}

case_events_name_the_connecting_process() {
	local lines
	lines=$(step_lines 3 | grep '^connect ')
	expect_eq "$(grep -c . <<<"$lines")" 3 "lab-agent's three connects" || return 1
	expect_match "$(head -n 1 <<<"$lines")" \
		"^connect pid=[0-9]+ user=nobody comm=lab-agent exe=/tmp/perimlab\.[^ ]+/lab-agent argv=/tmp/perimlab\.[^ ]+/lab-agent -c for i in 1 2 3.* -> 10\.77\.0\.2:8080 result=0\$" \
		"connect event line"
}

case_egress_limited_process_is_cut_to_its_rate() {
	local line sent admitted allowed
	line=$(step_lines 4 | grep '^lab-backup sent')
	expect_ne "$line" "" "lab-backup's line" || return 1
	sent=$(sed -nE 's/^lab-backup sent ([0-9]+) .*/\1/p' <<<"$line")
	admitted=$(sed -nE 's/.*perim admitted ([0-9]+) .*/\1/p' <<<"$line")
	allowed=$(sed -nE 's/.*the limit allows about ([0-9]+).*/\1/p' <<<"$line")
	# 2000 pps offered against 200 pps: within 5% of burst + rate x elapsed.
	expect_range "$admitted" $(( allowed * 95 / 100 )) $(( allowed * 105 / 100 )) "admitted" || return 1
	expect_range "$sent" $(( allowed * 7 )) 1000000 "lab-backup offered about 10x" || return 1
	expect_match "$(summary_row lab-backup)" "^lab-backup, cgroup \(rule 2\) +$sent +$admitted +$(( sent - admitted ))\$" "summary row"
}

# The summary: the flood cut to 100 sources x 50 pps (+ their bursts), the client untouched.
case_summary_per_actor() {
	local row sent admitted dropped want
	row=$(summary_row 'flood 198.51.100.0/24')
	read -r sent admitted dropped <<<"$(awk '{print $(NF-2), $(NF-1), $NF}' <<<"$row")"
	expect_eq "$(( admitted + dropped ))" "$sent" "flood: admitted + dropped = sent" || return 1
	want=$(( 100 * (10 + 50 * SECS) ))
	expect_range "$admitted" $(( want * 85 / 100 )) $(( want * 115 / 100 )) "flood admitted" || return 1
	row=$(summary_row 'client 10.77.0.2')
	read -r sent admitted dropped <<<"$(awk '{print $(NF-2), $(NF-1), $NF}' <<<"$row")"
	expect_eq "$admitted" "$sent" "client: everything admitted" &&
	expect_eq "$dropped" 0 "client: nothing dropped"
}

# No namespace, pin, cgroup, process or directory of the lab remains.
expect_nothing_left() {
	local p=perimlab-$1
	expect_eq "$(ip netns list | grep -c "^$p-")" 0 "namespaces $p-*" || return 1
	expect_eq "$(ls /sys/fs/bpf | grep -c "^$p\$")" 0 "pins /sys/fs/bpf/$p" || return 1
	expect_eq "$(find /sys/fs/cgroup -maxdepth 2 -name "$p-*" 2>/dev/null | wc -l)" 0 "cgroup $p-*" || return 1
	expect_eq "$(pgrep -f "perimlab\.[^ ]*/(lab-|perimd)" | wc -l)" 0 "lab processes"
}

case_lab_leaves_nothing_behind() {
	expect_nothing_left "$FILE_LAB_PID"
}

case_lab_runs_on_a_terminal() {
	local rc
	command -v script >/dev/null || { skip "no script(1) to give the lab a terminal"; return 0; }
	run_lab "$TMP/tty.out" script
	rc=$?
	expect_eq "$rc" 0 "exit status on a terminal; output: $(tail -n 10 "$TMP/tty.out")" || return 1
	expect_match "$(cat "$TMP/tty.out")" $'\033\\[1m== 5\\. per actor' "bold step lines" || return 1
	expect_match "$(cat "$TMP/tty.out")" 'lab-service \(pid [0-9]+\) received' "the summary" || return 1
	# script(1) forks the lab: its pid is script's child's; find its names from its output.
	expect_nothing_left "$(sed -nE 's/.*namespaces perimlab-([0-9]+)-gw.*/\1/p' "$TMP/tty.out" | head -n 1)"
}

run_cases "$@"
