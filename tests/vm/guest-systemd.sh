#!/bin/bash
# Runs in the systemd guest (tests/vm/systemd.sh), started by perim-vm.target
# with systemd as PID 1:  guest-systemd.sh RESULTS_FILE
# Installs /perim-vm/perim.deb with dpkg -i and checks the unit as an operator
# meets it, one PASS/FAIL/SKIP line per case, in order (each case builds on
# the one before), then writes /perim-vm/status and powers off.
RESULTS=$1
VM_DIR=$(cd "$(dirname "$0")" && pwd)
CASE_TIMEOUT=${PERIM_VM_CASE_TIMEOUT:-300}
# Every case runs in its own process (--case NAME) under a time bound; they share
# one test prefix, so the names one case makes are the next one's.
export PERIM_TEST_PREFIX=${PERIM_TEST_PREFIX:-p$(printf '%05x' $(( (RANDOM << 8 ^ $$) & 0xfffff )))}
# lib.sh's helpers (wait_until, expect_*, namespaces); its binaries are the package's here.
# Cases run in command substitutions: what one starts it ends itself (the
# guest powers off after the last one, taking whatever is left).
source "$VM_DIR/../lib/lib.sh"
PERIMD=/usr/sbin/perimd PERIMCTL=/usr/sbin/perimctl
SOCK=/run/perim/perimd.sock
GW=${T}g PEER=${T}p

finish() {
	cut -d' ' -f1 /proc/uptime > /perim-vm/end-seconds
	echo "done $1" > /perim-vm/status
	sync
	systemctl poweroff --force --force
}

failed=0
run() {
	local c=$1 out rc
	rm -f "$TMP/skip"
	out=$(timeout -k 10 "$CASE_TIMEOUT" bash "$0" --case "$c" "$TMP/skip" 2>&1)
	rc=$?
	[ $rc = 124 ] && out+=$'\n'"killed after ${CASE_TIMEOUT}s"
	[ $rc = 0 ] || out+=$'\n'"perimd's journal:"$'\n'"$(journal | tail -n 25)"
	if [ -f "$TMP/skip" ]; then echo "SKIP: ${c#case_}: $(cat "$TMP/skip")"
	elif [ $rc -eq 0 ]; then echo "PASS: ${c#case_}"
	else echo "FAIL: ${c#case_}"; sed 's/^/    /' <<<"$out" | tail -n 40; failed=1
	fi >> "$RESULTS"
	[ -n "$out" ] && sed 's/^/    | /' <<<"$out" > /dev/console
	return $rc
}

state() { systemctl show -P "$1" perimd.service; }
journal() { journalctl -q -o cat -u perimd.service --no-pager; }

case_dpkg_install_starts_the_unit() {
	expect_exit 0 dpkg -i /perim-vm/perim.deb || { cat "$TMP/last.out" "$TMP/last.err"; return 1; }
	expect_eq "$(systemctl is-enabled perimd.service)" enabled "enabled" || return 1
	wait_until 120 sh -c '[ "$(systemctl is-active perimd.service)" = active ]' ||
		fail "not active: $(systemctl status perimd.service --no-pager | tail -n 20)" || return 1
	expect_eq "$(state Type)" notify "Type" || return 1
	expect_match "$(state StatusText)" '^enforcing on 0 interfaces, tracing$' "STATUS= after READY"
}

# "active" comes only with READY=1: while perimd loads, the unit is
# "activating"; the first moment it is "active", the socket answers.
case_active_only_after_ready() {
	local seen_activating=0 s
	systemctl stop perimd.service || return 1
	systemctl start --no-block perimd.service || return 1
	for _ in $(seq 2400); do
		s=$(systemctl is-active perimd.service)
		[ "$s" = activating ] && seen_activating=1
		[ "$s" = active ] && break
		sleep 0.05
	done
	expect_eq "$s" active "state after start" || return 1
	"$PERIMCTL" status > "$TMP/status" || fail "perimctl status failed at the moment the unit became active" || return 1
	expect_eq "$seen_activating" 1 "\"activating\" while perimd loaded" || return 1
	expect_match "$(journal)" 'perimd: ready' "perimd's ready line in the journal" || return 1
	expect_eq "$("$PERIMCTL" -j status | jq -r .pid)" "$(state MainPID)" "perimctl reaches the unit's perimd"
}

# The unit's sandbox costs no hook: the hooks that attach under the unit are
# those a perimd started outside it (same guest, same kernel) attaches.
attached_hooks() { "$PERIMCTL" ${1:+-s "$1"} -j status | jq -r '.hooks[] | select(.attached) | .name' | sort | tr '\n' ' '; }
case_hooks_attach_under_the_sandbox() {
	local in_unit outside
	in_unit=$(attached_hooks)
	"$PERIMD" --socket "$TMP/free.sock" --pin-root "/sys/fs/bpf/perim-$T" --state "$TMP/free.state" \
		--events /dev/null > "$TMP/free.log" 2>&1 &
	local free=$!
	wait_until 120 grep -q 'perimd: ready' "$TMP/free.log" || fail "free perimd: $(cat "$TMP/free.log")" || return 1
	outside=$(attached_hooks "$TMP/free.sock")
	kill "$free"; wait "$free"; rm -rf "/sys/fs/bpf/perim-$T"
	echo "hooks attached under the unit: $in_unit"
	"$PERIMCTL" -j status | jq -r '.hooks[] | select(.attached | not) | "  not attached: \(.name): \(.reason)"'
	expect_eq "$in_unit" "$outside" "hooks attached under the unit and outside it"
}

# A restart under a flood: the limit holds while perimd is down (packets prove it).
case_restart_under_flood_keeps_enforcement() {
	local mac pid0 got want sent
	# Not ns_add: the namespace outlives this case (the next ones use $GW).
	ip netns add "$T-peer" && ip -n "$T-peer" link set lo up || return 1
	ip link add "$GW" type veth peer name "$PEER" netns "$T-peer" || return 1
	ip addr add 10.98.0.1/24 dev "$GW" && ip link set "$GW" up || return 1
	ip -n "$T-peer" addr add 10.98.0.2/24 dev "$PEER" && ip -n "$T-peer" link set "$PEER" up || return 1
	echo "interface $GW" >> /etc/perim/perimd.conf
	systemctl restart perimd.service || return 1
	expect_match "$(state StatusText)" '^enforcing on 1 interface' "STATUS= names the interface" || return 1
	"$PERIMCTL" limit set "$GW" src 10.98.0.0/24 proto udp dport 5001 rate 100pps burst 100 aggregate || return 1
	"$TOOLS/udpflood" recv --port 5001 --count-file "$TMP/r.count" &
	track_pid $!
	wait_until 10 test -s "$TMP/r.count" || return 1
	mac=$(cat "/sys/class/net/$GW/address")
	pid0=$(state MainPID)
	in_ns peer "$TOOLS/udpflood" send --dev "$PEER" --dst-mac "$mac" --dst 10.98.0.1 --src 10.98.0.2 \
		--port 5001 --rate 1000 --seconds 12 > "$TMP/flood.out" &
	local flood=$!
	wait_until 10 sh -c "[ \$(od -An -tu8 $TMP/r.count | tr -d ' ') -gt 0 ]" || return 1
	systemctl restart perimd.service || return 1
	expect_ne "$(state MainPID)" "$pid0" "a new perimd" || return 1
	wait "$flood"
	sent=$(sed -nE 's/^sent=([0-9]+).*/\1/p' "$TMP/flood.out")
	got=$(count_of "$TMP/r.count")
	want=$(( 100 + 100 * 12 ))
	echo "sent $sent at 1000 pps over a restart; admitted $got (the limit: about $want)"
	expect_range "$got" $(( want * 70 / 100 )) $(( want * 130 / 100 )) "admitted across the restart" || return 1
	expect_match "$("$PERIMCTL" limit list "$GW")" ' 100pps ' "the rule survived the restart"
}

# A reload re-reads the config: "verbose" added takes effect at once (its
# info line is the proof), and perimd stays the same process.
case_reload_reopens_and_rereads() {
	local pid
	pid=$(state MainPID)
	echo verbose >> /etc/perim/perimd.conf
	systemctl reload perimd.service || return 1
	wait_until 60 sh -c 'journalctl -q -o cat -u perimd.service | grep -q "SIGHUP: config re-read"' ||
		fail "no re-read line in the journal: $(journal | tail -n 5)" || return 1
	expect_eq "$(systemctl is-active perimd.service)" active "active after reload" &&
	expect_eq "$(state MainPID)" "$pid" "the same perimd"
}

# (perimd logs its exit line at info level: "verbose", added by the reload case, shows it.)
case_stop_leaves_xdp_attached() {
	systemctl stop perimd.service || return 1
	expect_eq "$(systemctl is-active perimd.service)" inactive "stopped" || return 1
	expect_match "$(ip link show dev "$GW")" 'xdp' "XDP still on $GW" || return 1
	expect_match "$(journal | tail -n 5)" 'XDP programs stay attached' "perimd said so"
}

case_dpkg_remove_keeps_conffile_and_state() {
	expect_exit 0 dpkg -r perim || { cat "$TMP/last.err"; return 1; }
	local f
	for f in /usr/sbin/perimd /usr/sbin/perimctl /lib/systemd/system/perimd.service \
		 /usr/share/man/man8/perimd.8.gz /usr/share/bash-completion/completions/perimctl; do
		[ ! -e "$f" ] || fail "$f still there" || return 1
	done
	for f in /etc/perim/perimd.conf /var/lib/perim/state; do
		[ -e "$f" ] || fail "$f removed" || return 1
	done
	expect_eq "$(dpkg-query -W -f='${Status}' perim)" "deinstall ok config-files" "package status"
}

if [ "$1" = --case ]; then
	SKIP_FILE=$3
	skip() { echo "$*" > "$SKIP_FILE"; }
	"$2"
	exit $?
fi
echo "systemd guest: $(systemctl is-system-running 2>&1), PID 1 is $(cat /proc/1/comm)" > /dev/console
for c in case_dpkg_install_starts_the_unit case_active_only_after_ready case_hooks_attach_under_the_sandbox \
	 case_restart_under_flood_keeps_enforcement case_reload_reopens_and_rereads \
	 case_stop_leaves_xdp_attached case_dpkg_remove_keeps_conffile_and_state; do
	run "$c"
done
cleanup
finish "$failed"
