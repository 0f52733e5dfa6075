/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only: synthetic processes in the process table, so a benchmark can
 * measure the memory of the real daemon holding N processes without forking
 * N of them. Their pids (2^31 and up) are above any pid_max, so no event of
 * a real process ever matches one; they are live, so they are never evicted.
 *
 * Each has comm "worker", an exe from a set of 8 real-looking paths (15 to
 * 44 bytes) and a 61-byte argv of 5 words. With lines == n every process has
 * a command line of its own (the realistic worst case); with fewer, the
 * processes past the first `lines` are forked from the one holding their
 * command line and share it, as a pool of forked workers does.
 */
#ifndef PERIM_PROCTABLE_SYNTH_H
#define PERIM_PROCTABLE_SYNTH_H

#include <stddef.h>

#include "procs/proctable.h"

#define PERIM_SYNTH_PID_BASE 0x80000000u

/* Adds n processes over `lines` distinct command lines; 0 or -errno (-ENOSPC: table full). */
int perim_proctable_synthesize(struct perim_proctable *t, size_t n, size_t lines);

/*
 * PERIM_TEST_PROCS=N[:LINES] in the environment: synthesize them (LINES
 * defaults to N). 0 when unset (or empty) or done; -EINVAL, with a message naming the
 * bad value, when malformed.
 */
int perim_proctable_synthesize_from_env(struct perim_proctable *t);

#endif /* PERIM_PROCTABLE_SYNTH_H */
