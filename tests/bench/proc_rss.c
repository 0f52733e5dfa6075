// SPDX-License-Identifier: GPL-2.0
/*
 * proc_rss: perimd's memory for N tracked processes, measured on perimd's own
 * process table (ctl/perimd/proctable.c, linked in): resident memory before
 * and after N exec'd entries, each with a comm, a 24-byte exe path and a
 * 64-byte argv (typical of a server's processes; longer command lines cost
 * more). perimd keeps no per-flow state in user space (connections are
 * reported as events and forgotten), so flows add nothing here.
 *
 *   proc_rss N      prints "entries=N rss_before_kib=A rss_after_kib=B bytes_per_entry=C"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctable.h"

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

int main(int argc, char **argv)
{
	long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	struct perim_proctable *t;
	struct perim_proctable_stats st;
	long before, after;
	char exe[64], args[64];

	if (n <= 0) {
		fprintf(stderr, "usage: proc_rss N\n");
		return 2;
	}
	/* Room for every entry: the benchmark measures memory, not eviction. */
	t = perim_proctable_new((size_t)n * 2, 30ULL * 1000000000ULL);
	if (!t) {
		fprintf(stderr, "proc_rss: perim_proctable_new failed\n");
		return 1;
	}
	before = rss_kib();
	for (long i = 0; i < n; i++) {
		int len = snprintf(args, sizeof(args), "worker%c--config%c/etc/svc/%06ld.conf%c--verbose",
				   0, 0, i, 0);

		snprintf(exe, sizeof(exe), "/usr/sbin/svc-%06ld.bin", i);
		if (!perim_proctable_exec(t, (uint32_t)(1000 + i), 1000000000ULL + (uint64_t)i * 4000000,
					  "worker", exe, args, (size_t)len + 1)) {
			fprintf(stderr, "proc_rss: insert %ld refused\n", i);
			return 1;
		}
	}
	after = rss_kib();
	perim_proctable_stats(t, &st);
	if (st.procs != (size_t)n) {
		fprintf(stderr, "proc_rss: table holds %zu entries, expected %ld\n", st.procs, n);
		return 1;
	}
	printf("entries=%ld rss_before_kib=%ld rss_after_kib=%ld bytes_per_entry=%ld\n",
	       n, before, after, (after - before) * 1024 / n);
	perim_proctable_free(t);
	return 0;
}
