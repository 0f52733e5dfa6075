// SPDX-License-Identifier: GPL-2.0
/*
 * proc_rss: the process table's own memory for N tracked processes, measured
 * on perimd's table (ctl/perimd/proctable.c, linked in): resident memory
 * before and after N synthetic processes, each with a comm, a 24-byte exe
 * path and a 64-byte argv, spread over IMAGES distinct command lines (default
 * N: every process its own, the worst case; fewer: shared as forked workers
 * share them). The same entries perimd synthesizes with PERIM_TEST_PROCS, so
 * this is the per-entry figure beside the daemon's whole RSS. perimd keeps no
 * per-flow state in user space (connections are events, then forgotten).
 *
 *   proc_rss N [IMAGES]   prints "entries=N images=I rss_before_kib=A rss_after_kib=B bytes_per_entry=C"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctable.h"
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
	long n = argc >= 2 ? count_arg(argv[1]) : -1, images = argc == 3 ? count_arg(argv[2]) : n;
	struct perim_proctable *t;
	struct perim_proctable_stats st;
	long before, after;

	if (argc < 2 || argc > 3 || n <= 0 || images <= 0) {
		fprintf(stderr, "usage: proc_rss N [IMAGES]\n");
		return 2;
	}
	/* Room for every entry: the benchmark measures memory, not eviction. */
	t = perim_proctable_new((size_t)n, 30ULL * 1000000000ULL);
	if (!t) {
		fprintf(stderr, "proc_rss: perim_proctable_new failed\n");
		return 1;
	}
	before = rss_kib();
	if (perim_proctable_synthesize(t, (size_t)n, (size_t)images)) {
		fprintf(stderr, "proc_rss: %ld synthetic processes refused\n", n);
		return 1;
	}
	after = rss_kib();
	perim_proctable_stats(t, &st);
	if (st.procs != (size_t)n) {
		fprintf(stderr, "proc_rss: table holds %zu entries, expected %ld\n", st.procs, n);
		return 1;
	}
	printf("entries=%ld images=%zu rss_before_kib=%ld rss_after_kib=%ld bytes_per_entry=%ld\n",
	       n, st.images, before, after, (after - before) * 1024 / n);
	perim_proctable_free(t);
	return 0;
}
