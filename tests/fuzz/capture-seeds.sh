#!/bin/bash
# Captures the fuzz targets' seed corpus from a real system: perimd's own
# state file after real commands, the kernel's netlink replies and ethtool
# counters for a veth with perim attached, /proc files of real processes
# and /proc/net/* of a namespace with real listeners. Writes into
# tests/fuzz/corpus/<target>/; run as root after `make`. Hand-written seeds
# (commands, protocol requests, config and guard files) live beside these.
# shellcheck source=../lib/lib.sh
. "$(dirname "$0")/../lib/lib.sh"
CORPUS=$TOP/tests/fuzz/corpus
CAP=$OUT/tests/fuzz/nl_capture
SEP=$'\n%%\n'

die() { echo "capture-seeds: $*" >&2; exit 1; }
[ -x "$CAP" ] || die "$CAP missing: make $CAP"

# sections FILE PART...: the parts joined by the fuzz targets' section separator.
sections() {
	local out=$1 first=1; shift
	: > "$out"
	for p in "$@"; do
		[ $first = 1 ] || printf '%s' "$SEP" >> "$out"
		first=0
		cat "$p" >> "$out"
	done
}

capture_state() {
	pctl attach "$T-a0" mode skb >/dev/null || die "attach"
	pctl limit set "$T-a0" src 10.0.0.0/8 proto udp dport 53 rate 1kpps burst 500 >/dev/null || die "limit"
	pctl limit set "$T-a0" src 2001:db8::/32 proto tcp dport 1000-2000 syn rate 200pps bytes 10mbit block 30 >/dev/null || die "limit6"
	pctl limit set "$T-a0" rate 5kpps aggregate dry-run >/dev/null || die "limit agg"
	pctl deny add "$T-a0" 192.0.2.0/24 >/dev/null || die "deny"
	pctl allow add "$T-a0" 10.1.0.0/16 >/dev/null || die "allow"
	cp "$STATE" "$CORPUS/state/perimd-rules"
	pctl limit del "$T-a0" 2 >/dev/null || die "limit del"
	cp "$STATE" "$CORPUS/state/perimd-after-del"
	[ -f "$STATE.prev" ] && cp "$STATE.prev" "$CORPUS/state/perimd-prev"
}

capture_netlink() {
	local d=$TMP/nl
	mkdir -p "$d"
	in_netns a "$CAP" link "$T-a0" "$CORPUS/netlink/link-xdp-skb" || die "link"
	in_netns a "$CAP" link lo "$CORPUS/netlink/link-lo" || die "lo"
	in_netns a "$CAP" dump "$CORPUS/netlink/dump-links" || die "dump"
	in_netns a "$CAP" ethtool "$T-a0" "$d/ethtool" || die "ethtool"
	# The dump's bytes, then the ethtool part (its file starts with the separator).
	cat "$CORPUS/netlink/dump-links" "$d/ethtool" > "$CORPUS/nicstats/veth-dump-and-ethtool"
	cat "$CORPUS/netlink/link-xdp-skb" "$d/ethtool" > "$CORPUS/nicstats/veth-link-and-ethtool"
}

# proc_of PID NAME: the process's stat, status, cmdline and exe target as a seed.
proc_of() {
	local d=$TMP/proc-$1
	mkdir -p "$d"
	cat "/proc/$1/stat" > "$d/stat" && cat "/proc/$1/status" > "$d/status" &&
		cat "/proc/$1/cmdline" > "$d/cmdline" || die "/proc/$1"
	readlink "/proc/$1/exe" > "$d/exe" 2>/dev/null || : > "$d/exe"
	printf '%s' "$(cat "$d/exe")" > "$d/exe"
	sections "$CORPUS/proctable/$2" "$d/stat" "$d/status" "$d/cmdline" "$d/exe"
}

capture_proc() {
	local odd=$TMP/'odd) name (x' pid
	proc_of "$PERIMD_PID" perimd
	proc_of 2 kthreadd
	cp /bin/sleep "$odd"
	"$odd" 30 & pid=$!
	track_pid $pid
	wait_until 5 grep -q 'odd' "/proc/$pid/stat"
	proc_of $pid comm-with-parens
}

capture_listeners() {
	local d=$TMP/lst pid inode
	mkdir -p "$d"
	in_netns a "$TOOLS/tcplisten" --port 8080 --ready-file "$d/ready4" & track_pid $!
	in_netns a "$TOOLS/tcplisten" --port 8443 --addr :: --ready-file "$d/ready6" & track_pid $!
	in_netns a "$TOOLS/udpflood" recv --port 5353 --count-file "$d/count" --family 4 & track_pid $!
	wait_until 5 test -e "$d/ready4" && wait_until 5 test -e "$d/ready6" && wait_until 5 test -s "$d/count" ||
		die "listeners did not start"
	for f in tcp tcp6 udp udp6; do in_netns a cat "/proc/net/$f" > "$d/$f"; done
	pid=$(pgrep -f "tcplisten --port 8080 --ready-file $d/ready4" | head -1)
	inode=$(awk 'NR > 1 && $4 == "0A" { print $10; exit }' "$d/tcp")
	printf 'socket:[%s]' "$inode" > "$d/fd"
	cat "/proc/$pid/stat" > "$d/stat"
	printf 8080 > "$d/port"
	sections "$CORPUS/listeners/tcp-udp-listeners" "$d/tcp" "$d/tcp6" "$d/udp" "$d/udp6" "$d/fd" "$d/stat" "$d/port"
	printf 5353 > "$d/port"
	sections "$CORPUS/listeners/udp-lookup" "$d/tcp" "$d/tcp6" "$d/udp" "$d/udp6" "$d/fd" "$d/stat" "$d/port"
}

mkdir -p "$CORPUS"/{state,netlink,nicstats,proctable,listeners}
ns_add a && ns_add b || die "namespaces"
veth_add a "$T-a0" 10.9.0.1/24 b "$T-b0" 10.9.0.2/24 || die "veth"
perimd_start a || die "perimd"
capture_state
capture_netlink
capture_proc
capture_listeners
echo "capture-seeds: written under $CORPUS"
