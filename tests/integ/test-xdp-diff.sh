#!/bin/bash
# The XDP parser against an independent decoder (tests/fuzz/xdp_diff): a CI
# sized run of generated, cut and mutated frames through BPF_PROG_TEST_RUN on
# the real perim_xdp; every verdict and drop reason must match. `make
# xdp-diff` runs 1,000,000 frames (XDP_DIFF_FRAMES=N for more).
# shellcheck source=../lib/lib.sh
. "$(dirname "$0")/../lib/lib.sh"

DIFF=$OUT/tests/fuzz/xdp_diff
# Built into the build directory under test (PERIM_OUT=.output-san: make SAN=1).
MAKE_BUILD=(-C "$TOP" -s); [ "${OUT##*/}" = .output-san ] && MAKE_BUILD+=(SAN=1)

case_100k_frames_match_the_decoder() {
	make "${MAKE_BUILD[@]}" "${OUT#"$TOP"/}/tests/fuzz/xdp_diff" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; return 1; }
	"$DIFF" 100000 0x$(printf '%x' $$) > "$TMP/diff.log" 2>&1
	local rc=$?
	grep -v 'skipping unrecognized data section' "$TMP/diff.log"
	expect_eq "$rc" 0 "xdp_diff exit" || return 1
	expect_match "$(cat "$TMP/diff.log")" 'mismatches: 0$' "mismatch count" || return 1
	# The run covered every outcome: a decoder or generator gone blind would show here.
	for what in 'drop malformed [1-9]' 'drop deny [1-9]' 'drop rate-pps [1-9]' 'drop blocked [1-9]' \
		    'drop rate-bytes [1-9]' 'drop new-source [1-9]' 'pass allowed [1-9]' 'pass would-drop [1-9]' \
		    'expected: pass [1-9]' 'bucket: [1-9][0-9]* IPv4, [1-9][0-9]* IPv6'; do
		expect_match "$(cat "$TMP/diff.log")" "$what" "outcome covered" || return 1
	done
}

run_cases "$@"
