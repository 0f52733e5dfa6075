#!/bin/bash
# tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]: runs each libFuzzer target
# (BUILD_DIR/fuzz_NAME) for SECONDS on its seed corpus tests/fuzz/corpus/NAME
# (read-only: what a run finds goes to a scratch corpus). Prints one line per
# target with its executions; a crash, leak, timeout or sanitizer report
# fails the run and its input is kept in the scratch directory to be added to
# the corpus as a regression input.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?build dir}; SECONDS_EACH=${2:?seconds}; shift 2
WORK=$(mktemp -d /tmp/perim-fuzz.XXXXXX)
failed=0

targets=("$@")
[ ${#targets[@]} -gt 0 ] || for b in "$BUILD"/fuzz_*; do targets+=("$(basename "$b")"); done

for t in "${targets[@]}"; do
	name=${t#fuzz_}
	seeds=$TOP/tests/fuzz/corpus/$name
	mkdir -p "$WORK/$name/corpus"
	# -close_fd_mask=3: the parsers' error lines would flood the log;
	# libFuzzer and the sanitizers still report on their own descriptor.
	TMPDIR=$WORK/$name "$BUILD/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
		-close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$WORK/$name/" \
		"$WORK/$name/corpus" "$seeds" > "$WORK/$name/log" 2>&1
	rc=$?
	execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$WORK/$name/log")
	cov=$(grep -o 'cov: [0-9]*' "$WORK/$name/log" | tail -1)
	crashes=$(find "$WORK/$name" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
		echo "FAIL: fuzz $name: exit $rc after ${execs:-?} executions; inputs kept in $WORK/$name"
		grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM' "$WORK/$name/log" | sed 's/^/    /'
		failed=1
	else
		echo "fuzz $name: ${execs:-?} executions in ${SECONDS_EACH}s, ${cov:-cov: ?}, no crash"
	fi
done
[ $failed = 0 ] && rm -rf "$WORK"
exit $failed
