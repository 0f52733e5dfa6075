// SPDX-License-Identifier: GPL-2.0
/*
 * proc_rss: the process table's own memory for N tracked processes, measured
 * on perimd's table (ctl/perimd/procs/proctable.c, linked in): resident memory
 * before and after the N synthetic processes perimd makes for
 * PERIM_TEST_PROCS (tests/lib/proctable_synth.h: an exe from a small set, a
 * 61-byte argv), over LINES distinct command lines (default N: every process
 * its own; fewer: the rest forked from them, sharing). The benchmark's goal
 * figure is the daemon's whole VmRSS; this splits out the table's share.
 *
 *   proc_rss N [LINES]   prints "entries=N exes=E argvs=A rss_before_kib=B rss_after_kib=C bytes_per_entry=D"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procs/proctable.h"
#include "proctable_synth.h"

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f) {
		perror("proc_rss: /proc/self/status");
		return -1;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *end || v <= 0 ? -1 : v;
}

int main(int argc, char **argv)
{
	long n = argc >= 2 ? count_arg(argv[1]) : -1, lines = argc == 3 ? count_arg(argv[2]) : n;
	struct perim_proctable *t;
	struct perim_proctable_stats st;
	long before, after;

	if (argc < 2 || argc > 3 || n <= 0 || lines <= 0) {
		fprintf(stderr, "usage: proc_rss N [LINES]\n");
		return 2;
	}
	/* Room for every entry: the benchmark measures memory, not eviction. */
	t = perim_proctable_new((size_t)n, 30ULL * 1000000000ULL);
	if (!t) {
		fprintf(stderr, "proc_rss: perim_proctable_new failed\n");
		return 1;
	}
	before = rss_kib();
	if (perim_proctable_synthesize(t, (size_t)n, (size_t)lines)) {
		fprintf(stderr, "proc_rss: %ld synthetic processes refused\n", n);
		return 1;
	}
	after = rss_kib();
	perim_proctable_stats(t, &st);
	if (st.procs != (size_t)n) {
		fprintf(stderr, "proc_rss: table holds %zu entries, expected %ld\n", st.procs, n);
		return 1;
	}
	printf("entries=%ld exes=%zu argvs=%zu rss_before_kib=%ld rss_after_kib=%ld bytes_per_entry=%ld\n",
	       n, st.exes, st.argvs, before, after, (after - before) * 1024 / n);
	perim_proctable_free(t);
	return 0;
}
