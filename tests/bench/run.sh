#!/bin/bash
# `make bench`: runs every benchmark section and writes one markdown report,
# tests/bench/results/latest.md (also shown on stdout).
#
# A section is a shell function that prints a markdown section ("## Title",
# then tables and notes) on stdout and returns non-zero on failure. To add
# one, define section_<name> below and append it to SECTIONS.
# BENCH_QUICK=1 runs every section with small counts (a smoke test, not a result).
# `run.sh section_live ...` runs only the named sections.
set -u
[ "$(id -u)" -eq 0 ] || { echo "tests/bench/run.sh: must run as root (BPF_PROG_TEST_RUN)"; exit 1; }
# The test kit's registry removes every namespace, pin, process and path the
# sections create ($T-prefixed), on every exit path.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/bench/lib.sh"
for f in "$TOP"/tests/bench/sec_*.sh; do . "$f"; done
cd "$TOP" || exit 1
RESULTS=tests/bench/results
REPORT=$RESULTS/latest.md

SECTIONS=(section_xdp section_tracers section_live section_accuracy section_control section_rules section_ruleset section_egress section_fleet section_syn)
# Named sections only: a partial report, shown but not kept.
[ $# -gt 0 ] && SECTIONS=("$@") REPORT=$TMP/partial.md

header() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "# perim benchmark report"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r)"
	echo "- CPU: ${cpu:-unknown} ($(nproc) online); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	[ "${BENCH_QUICK:-0}" = 1 ] && echo "- BENCH_QUICK=1: small counts, a smoke test only"
	echo
}

mkdir -p "$RESULTS"
tmp=$(mktemp "$RESULTS/.latest.XXXXXX")
track_path "$tmp"
rc=0
header > "$tmp"
# What a section set up (namespaces, perimd, pins, generators) goes when it ends:
# later sections reuse the namespace names (gw, inet), so a full run would fail
# where each section alone succeeds. The report's own file stays registered.
release_section() {
	local p kept=()
	for p in "${_cleanup_paths[@]}"; do [ "$p" = "$tmp" ] || kept+=("$p"); done
	_cleanup_paths=("${kept[@]}")
	cleanup_registered
	unset LIVE_READY
	track_path "$tmp"
}

for section in "${SECTIONS[@]}"; do
	if ! "$section" >> "$tmp"; then
		echo "tests/bench/run.sh: $section failed" >&2
		printf '\n**%s failed; see stderr.**\n' "$section" >> "$tmp"
		rc=1
	fi
	release_section
	echo >> "$tmp"
done
chmod 0644 "$tmp"
mv "$tmp" "$REPORT"
cat "$REPORT"
echo "report written to $REPORT"
exit $rc
