// SPDX-License-Identifier: GPL-2.0
/*
 * The test build of perimd (.output/tests/perimd-test): the daemon's own
 * objects plus this file, whose perim_tracers_test_opts() replaces the
 * daemon's no-op. Switches, from the environment:
 *   PERIM_TEST_RINGBUF_SIZE=BYTES  both tracer rings this small (a power of two, at least a page)
 *   PERIM_TEST_HOLD_FILE=PATH      no draining while PATH exists
 *   PERIM_TEST_PROCS=N[:LINES]     N synthetic processes in the table (proctable_synth.h)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "proctable_synth.h"
#include "tracing/tracers.h"

static const char *hold_file;

static bool held(void)
{
	return access(hold_file, F_OK) == 0;
}

static int ring_size(unsigned *bytes)
{
	const char *s = getenv("PERIM_TEST_RINGBUF_SIZE");
	long page = sysconf(_SC_PAGESIZE);
	char *end;
	unsigned long v;

	if (!s)
		return 0;
	v = strtoul(s, &end, 0);
	if (*end || v < (unsigned long)page || (v & (v - 1))) {
		pr_warn("tracers: PERIM_TEST_RINGBUF_SIZE \"%s\" is wrong: a power of two, at least %ld\n", s, page);
		return -EINVAL;
	}
	*bytes = v;
	return 0;
}

int perim_tracers_test_opts(struct perim_tracers_opts *opts)
{
	int err = perim_proctable_synthesize_from_env(opts->procs);

	if (err)
		return err;
	hold_file = getenv("PERIM_TEST_HOLD_FILE");
	if (hold_file)
		opts->held = held;
	return ring_size(&opts->ring_bytes);
}
