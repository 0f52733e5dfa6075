#!/bin/bash
# The fuzz targets' short CI run: build every libFuzzer target (make
# fuzz-build) and run each for a few seconds on its seed corpus, failing on
# any crash or sanitizer report; the regression inputs in the corpus run
# first. `make fuzz FUZZ_SECONDS=N` is the long run.
# shellcheck source=../lib/lib.sh
. "$(dirname "$0")/../lib/lib.sh"

FUZZ_EACH=${PERIM_FUZZ_SECONDS:-10}
# Built into the build directory under test (PERIM_OUT=.output-san: make SAN=1).
MAKE_BUILD=(-C "$TOP" -s); [ "${OUT##*/}" = .output-san ] && MAKE_BUILD+=(SAN=1)

# One case: run_cases orders cases by name, and the run needs the build.
case_targets_build_and_run_without_crash() {
	local n
	command -v clang >/dev/null || { skip "clang is not installed (libFuzzer needs it)"; return 0; }
	make "${MAKE_BUILD[@]}" fuzz-build >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; return 1; }
	n=$(find "$TOP/tests/fuzz" -maxdepth 1 -name 'fuzz_*.c' | wc -l)
	expect_eq "$(find "$OUT/fuzz" -maxdepth 1 -name 'fuzz_*' -type f | wc -l)" "$n" "fuzz targets built" || return 1
	# Each target reports its executions; a crash prints its stack and fails.
	"$TOP/tests/fuzz/run.sh" "$OUT/fuzz" "$FUZZ_EACH" | tee "$TMP/fuzz.log" >&2
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	expect_eq "$(grep -c '^fuzz .* no crash$' "$TMP/fuzz.log")" "$n" "targets that ran clean"
}

run_cases "$@"
# The executions per target, for the log.
if [ -f "$TMP/fuzz.log" ]; then sed "s/^/    /" "$TMP/fuzz.log"; fi
