/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GCRA token buckets (perim.h): a bucket is its theoretical arrival time.
 *
 * Buckets are shared by every CPU. With cas (kernel >= 5.12) tat is updated
 * with a compare-and-swap, retried PERIM_GCRA_CAS_TRIES times; every retry
 * means another CPU has just charged this bucket, so tat >= now and
 * max(tat, now) + cost == tat + cost. When the retries run out the packet is
 * admitted and charged with an atomic add: no charge is ever lost; the
 * admission decision is at most PERIM_GCRA_CAS_TRIES charges stale, which
 * can admit a packet that tolerance would just have refused. That is the
 * only error on 5.12+.
 *
 * Without cas (perim_xdp_compat, kernels < 5.12, which reject the cmpxchg
 * instruction even in dead code) tat is read and written with plain
 * accesses: two CPUs racing on one bucket can overwrite each other's
 * charge, so the admitted rate of one bucket can exceed its limit by up to
 * (CPUs sharing its traffic - 1) x the rate in the worst case.
 */
#ifndef PERIM_XDP_GCRA_H
#define PERIM_XDP_GCRA_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>   /* __always_inline */

#define PERIM_GCRA_CAS_TRIES 4

/* A single load or store the compiler may not split, merge or repeat. */
#define PERIM_READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define PERIM_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

static __always_inline bool perim_gcra_conforms(__u64 tat, __u64 now, __u64 tolerance)
{
	return tat <= now + tolerance;
}

static __always_inline __u64 perim_gcra_next(__u64 tat, __u64 now, __u64 cost)
{
	return (tat > now ? tat : now) + cost;
}

/* Charges cost when the bucket conforms; false (nothing charged) when not. */
static __always_inline bool perim_gcra_charge(__u64 *tat, __u64 now, __u64 cost,
					      __u64 tolerance, bool cas)
{
	__u64 old = PERIM_READ_ONCE(*tat);

	if (!cas) {
		if (!perim_gcra_conforms(old, now, tolerance))
			return false;
		PERIM_WRITE_ONCE(*tat, perim_gcra_next(old, now, cost));
		return true;
	}
#pragma unroll
	for (int i = 0; i < PERIM_GCRA_CAS_TRIES; i++) {
		__u64 seen;

		if (!perim_gcra_conforms(old, now, tolerance))
			return false;
		seen = __sync_val_compare_and_swap(tat, old, perim_gcra_next(old, now, cost));
		if (seen == old)
			return true;
		old = seen;
	}
	__sync_fetch_and_add(tat, cost);
	return true;
}

/* Gives back a charge taken by perim_gcra_charge (the packet was dropped after all). */
static __always_inline void perim_gcra_refund(__u64 *tat, __u64 cost)
{
	__sync_fetch_and_add(tat, -cost);
}

#endif /* PERIM_XDP_GCRA_H */
