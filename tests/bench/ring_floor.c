// SPDX-License-Identifier: GPL-2.0
/*
 * ring_floor: attaches tests/bench/progs/ring_floor.bpf.c (the tracer hooks'
 * floor) and drains its ring every 50 ms or at a program's wakeup, as perimd
 * does, until SIGTERM.
 *
 *   ring_floor [-r] RING_BYTES [SET [WAKE_FRACTION]]
 *
 * SET is a comma-separated list of program name prefixes: floor (the default)
 * attaches the floor_* programs, ref the ref_* references, bis_exec_mark,ref_fork
 * one bisect step and the fork reference. A second program on a hook finds the
 * task's lines warm from the first: the benchmark runs the floor and ref sets
 * as two processes beside perimd, in both attach orders. WAKE_FRACTION: the bis_ programs' wakeup mark is the ring
 * over it (perimd's fraction by default). -r: the reader reads every record
 * whole, as any consumer of the events must (perimd turns each into JSON);
 * without it, libbpf reads only each record's 8-byte header.
 *
 * Prints "ready" once attached. The benchmark reads the programs' bpf_stats.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <bpf/libbpf.h>

#include "tests/bench/progs/ring_floor.skel.h"

#define DRAIN_INTERVAL_MS 50
/* perimd wakes its reader at 1/4 of the event ring (ctl/perimd/tracing/load.c EV_WAKEUP_FRACTION). */
#define PERIMD_WAKEUP_FRACTION 4

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Every byte of the record loaded, summed where the compiler cannot drop it. */
static int on_sample_read(void *ctx, void *data, size_t size)
{
	volatile uint64_t *sink = ctx;
	const unsigned char *b = data;
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i++)
		sum += b[i];
	*sink += sum;
	return 0;
}

/* Whether name starts with one of set's comma-separated prefixes. */
static bool in_set(const char *name, const char *set)
{
	size_t len;

	for (; *set; set += len + (set[len] == ',')) {
		len = strcspn(set, ",");
		if (len && !strncmp(name, set, len))
			return true;
	}
	return false;
}

/* Whether set names at least one program. */
static bool set_matches(struct ring_floor *skel, const char *set)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		if (in_set(bpf_program__name(prog), set))
			return true;
	return false;
}

/* Loads only the programs set names. */
static int select_programs(struct ring_floor *skel, const char *set)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = in_set(bpf_program__name(prog), set);

		err = bpf_program__set_autoload(prog, wanted);
		if (err) {
			fprintf(stderr, "ring_floor: autoload of %s: %s\n", bpf_program__name(prog), strerror(-err));
			return err;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool read_whole = argc > 1 && !strcmp(argv[1], "-r");
	int nargs = argc - read_whole;
	char **args = argv + read_whole;
	unsigned long ring = nargs >= 2 ? strtoul(args[1], NULL, 0) : 0;
	const char *set = nargs >= 3 ? args[2] : "floor";
	unsigned long fraction = nargs == 4 ? strtoul(args[3], NULL, 0) : PERIMD_WAKEUP_FRACTION;
	static volatile uint64_t sink;
	struct ring_buffer *rb = NULL;
	struct ring_floor *skel;
	int err;

	if (nargs < 2 || nargs > 4 || ring < 4096 || (ring & (ring - 1)) || !fraction || fraction > ring) {
		fprintf(stderr, "usage: ring_floor [-r] RING_BYTES (a power of two, at least 4096) [SET [WAKE_FRACTION (1..RING_BYTES)]]\n");
		return 2;
	}
	skel = ring_floor__open();
	if (!skel) {
		fprintf(stderr, "ring_floor: open: %s\n", strerror(errno));
		return 1;
	}
	if (!set_matches(skel, set)) {
		fprintf(stderr, "ring_floor: set %s: no program's name starts with any of its prefixes\n", set);
		ring_floor__destroy(skel);
		return 2;
	}
	skel->rodata->bis_wakeup_bytes = ring / fraction;
	err = select_programs(skel, set);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.floor_ring, ring);
	if (!err)
		err = ring_floor__load(skel);
	if (!err)
		err = ring_floor__attach(skel);
	if (err) {
		fprintf(stderr, "ring_floor: load/attach: %s\n", strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.floor_ring), read_whole ? on_sample_read : on_sample,
			      (void *)&sink, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "ring_floor: ring buffer: %s\n", strerror(-err));
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		/*
		 * poll consumes only after a wakeup, and the floor_/ref_ programs
		 * never wake: the timeout's consume is what keeps their ring from
		 * filling (a full ring makes every reserve fail, and a failing
		 * hook looks cheap).
		 */
		err = ring_buffer__poll(rb, DRAIN_INTERVAL_MS);
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ring_floor: draining: %s\n", strerror(-err));
			goto out;
		}
	}
	err = 0;
out:
	ring_buffer__free(rb);
	ring_floor__destroy(skel);
	return err ? 1 : 0;
}
