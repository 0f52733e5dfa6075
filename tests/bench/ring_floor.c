// SPDX-License-Identifier: GPL-2.0
/*
 * ring_floor: attaches tests/bench/progs/ring_floor.bpf.c (the tracer hooks'
 * floor) and drains its ring every 50 ms, as perimd does, until SIGTERM.
 *
 *   ring_floor RING_BYTES [floor|ref]
 *
 * floor (the default) attaches the floor_* programs, ref the ref_* references
 * alone: a second program on a hook finds the ring's head and the task's lines
 * warm from the first, so the two sets are measured apart.
 *
 * Prints "ready" once attached. The benchmark reads the programs' bpf_stats.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "tests/bench/progs/ring_floor.skel.h"

#define DRAIN_INTERVAL_US 50000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Loads only the programs whose name starts with prefix. */
static int select_programs(struct ring_floor *skel, const char *prefix)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = !strncmp(bpf_program__name(prog), prefix, strlen(prefix));

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
	unsigned long ring = argc >= 2 ? strtoul(argv[1], NULL, 0) : 0;
	const char *set = argc == 3 ? argv[2] : "floor";
	struct ring_buffer *rb = NULL;
	struct ring_floor *skel;
	int err;

	if (argc < 2 || argc > 3 || ring < 4096 || (ring & (ring - 1)) ||
	    (strcmp(set, "floor") && strcmp(set, "ref"))) {
		fprintf(stderr, "usage: ring_floor RING_BYTES (a power of two, at least 4096) [floor|ref]\n");
		return 2;
	}
	skel = ring_floor__open();
	if (!skel) {
		fprintf(stderr, "ring_floor: open: %s\n", strerror(errno));
		return 1;
	}
	err = select_programs(skel, !strcmp(set, "ref") ? "ref_" : "floor_");
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
	rb = ring_buffer__new(bpf_map__fd(skel->maps.floor_ring), on_sample, NULL, NULL);
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
		usleep(DRAIN_INTERVAL_US);
		err = ring_buffer__consume(rb);
		if (err < 0) {
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
