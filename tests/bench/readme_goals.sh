#!/bin/bash
# The benchmark report's goals, for the README: every table of
# tests/bench/results/latest.md that judges a goal, under its section's title,
# with the report's date, machine and commit. Copied, never retyped, so the
# README says what the last `make bench` measured.
#
#   readme_goals.sh [REPORT]             print the summary
#   readme_goals.sh --update README.md   replace the summary between README's markers
#
# A goal table is one whose first header cell starts with "goal" (copied
# whole: its reference rows stand beside the goal), or one with a "met" or
# "goal..." column (copied with the rows where that column says something
# other than "reference").
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
REPORT=$TOP/tests/bench/results/latest.md
BEGIN_MARK='<!-- bench-goals: begin (tests/bench/readme_goals.sh --update README.md writes this part from tests/bench/results/latest.md) -->'
END_MARK='<!-- bench-goals: end -->'

die() { echo "readme_goals.sh: $*" >&2; exit 2; }

summary() {
	[ -r "$1" ] || die "cannot read the report $1"
	awk '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	function cells(line, out,    n, i, parts) {
		n = split(line, parts, "|")
		for (i = 2; i < n; i++) out[i - 1] = trim(parts[i])
		return n - 2
	}
	function flush_table(    i, n, c, col, whole, kept, hdr) {
		if (nrows < 3) { nrows = 0; return }
		n = cells(rows[1], hdr)
		whole = tolower(hdr[1]) ~ /^goal/
		col = 0
		for (i = 1; i <= n; i++)
			if (tolower(hdr[i]) == "met" || tolower(hdr[i]) ~ /^goal/) col = i
		if (!whole && !col) { nrows = 0; return }
		kept = ""
		for (i = 3; i <= nrows; i++) {
			delete c
			cells(rows[i], c)
			if (whole || (c[col] != "" && c[col] != "reference")) kept = kept rows[i] "\n"
		}
		if (kept != "") {
			if (section != printed) { printf "\n**%s**\n", section; printed = section }
			printf "\n%s\n%s\n%s", rows[1], rows[2], kept
		}
		nrows = 0
	}
	/^- (date|kernel|CPU|commit|re-run): / && !body { header = header $0 "\n"; next }
	/^## / { flush_table(); body = 1; section = substr($0, 4); next }
	/^\|/ { rows[++nrows] = $0; next }
	{ flush_table() }
	END {
		flush_table()
		if (header == "") exit 1
		printf "%s", header
	}' "$1" > "$TMP_OUT" || die "$1 has no report header (date, kernel, CPU, commit)"
	# The header lines were collected first but print first.
	grep -E '^- (date|kernel|CPU|commit|re-run): ' "$TMP_OUT"
	grep -vE '^- (date|kernel|CPU|commit|re-run): ' "$TMP_OUT"
}

update() {
	local readme=$1 begins ends
	[ -w "$readme" ] || die "cannot write $readme"
	begins=$(grep -cxF -- "$BEGIN_MARK" "$readme" || true)
	ends=$(grep -cxF -- "$END_MARK" "$readme" || true)
	[ "$begins" = 1 ] && [ "$ends" = 1 ] || die "$readme needs exactly one begin and one end marker (found $begins / $ends)"
	summary "$REPORT" > "$TMP_OUT.new"
	awk -v begin="$BEGIN_MARK" -v end="$END_MARK" -v body="$TMP_OUT.new" '
	$0 == begin { print; print ""; while ((getline l < body) > 0) print l; print ""; skip = 1; next }
	$0 == end { skip = 0 }
	!skip' "$readme" > "$TMP_OUT.readme"
	cat "$TMP_OUT.readme" > "$readme"
}

TMP_OUT=$(mktemp)
trap 'rm -f "$TMP_OUT" "$TMP_OUT.new" "$TMP_OUT.readme"' EXIT
case "${1:-}" in
--update) [ $# -eq 2 ] || die "usage: readme_goals.sh --update README.md"; update "$2" ;;
--*) die "unknown option $1 (usage: readme_goals.sh [REPORT] | --update README.md)" ;;
*) summary "${1:-$REPORT}" ;;
esac
