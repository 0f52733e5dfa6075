/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only: synthetic processes in the process table, so a benchmark can
 * measure the memory of the real daemon holding N processes without forking
 * N of them. Their pids (2^31 and up) are above any pid_max, so no event of
 * a real process ever matches one; they are live, so they are never evicted.
 *
 * Each has comm "worker", a 24-byte exe path and a 64-byte argv. With
 * images == n every process has a command line of its own (the worst case);
 * with fewer, processes share them as forked workers do.
 */
#ifndef PERIM_PROCTABLE_SYNTH_H
#define PERIM_PROCTABLE_SYNTH_H

#include <stddef.h>

#include "proctable.h"

#define PERIM_SYNTH_PID_BASE 0x80000000u

/* Adds n processes over `images` distinct (exe, argv) pairs; 0 or -errno (-ENOSPC: table full). */
int perim_proctable_synthesize(struct perim_proctable *t, size_t n, size_t images);

/*
 * PERIM_TEST_PROCS=N[:IMAGES] in the environment: synthesize them (IMAGES
 * defaults to N). 0 when unset (or empty) or done; -EINVAL, with a message naming the
 * bad value, when malformed.
 */
int perim_proctable_synthesize_from_env(struct perim_proctable *t);

#endif /* PERIM_PROCTABLE_SYNTH_H */
