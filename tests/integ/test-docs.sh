#!/bin/bash
# The README's benchmark goals are the last report's, copied by
# tests/bench/readme_goals.sh; a README whose markers are broken is refused
# whole, not half-rewritten.
. "$(dirname "$0")/../lib/lib.sh"

GOALS=$TOP/tests/bench/readme_goals.sh

case_readme_goals_are_the_reports() {
	local want
	want=$("$GOALS") || fail "readme_goals.sh failed on the committed report" || return 1
	[ -n "$want" ] || fail "readme_goals.sh printed nothing" || return 1
	grep -q '^| goal' <<<"$want" || fail "no goal table in the summary: $want" || return 1
	awk '/^<!-- bench-goals: begin/ { on = 1; next } /^<!-- bench-goals: end/ { on = 0 } on' \
		"$TOP/README.md" | sed '/^$/d' > "$TMP/readme_part"
	sed '/^$/d' <<<"$want" | diff -u - "$TMP/readme_part" >&2 ||
		fail "README.md's goal tables differ from tests/bench/results/latest.md's: run tests/bench/readme_goals.sh --update README.md"
}

case_broken_markers_refused_unchanged() {
	local copy=$TMP/readme_broken out
	grep -v '^<!-- bench-goals: end' "$TOP/README.md" > "$copy"
	cp "$copy" "$copy.before"
	out=$("$GOALS" --update "$copy" 2>&1)
	[ $? -eq 2 ] || fail "exit status not 2: $out" || return 1
	grep -q 'marker' <<<"$out" || fail "message does not name the markers: $out" || return 1
	[ "$(wc -l <<<"$out")" -eq 1 ] || fail "more than one line: $out" || return 1
	cmp -s "$copy" "$copy.before" || fail "the README copy was changed"
}

case_update_rewrites_only_between_markers() {
	local copy=$TMP/readme_copy
	printf 'before\n%s\nstale line\n%s\nafter\n' \
		"$(grep '^<!-- bench-goals: begin' "$TOP/README.md")" '<!-- bench-goals: end -->' > "$copy"
	"$GOALS" --update "$copy" || fail "update failed" || return 1
	[ "$(head -n 1 "$copy")" = before ] && [ "$(tail -n 1 "$copy")" = after ] ||
		fail "text outside the markers changed: $(cat "$copy")" || return 1
	! grep -q 'stale line' "$copy" || fail "the old part was kept" || return 1
	grep -q '^| goal' "$copy" || fail "no goal table written"
}

run_cases "$@"
