/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sampled drop events: the datapath -> perimd ABI behind `perimctl top`.
 * Shared by xdp/ and ctl/ like include/perim.h; plain C, fixed-width fields.
 *
 * Datapath contract (xdp/perim_xdp.bpf.c), for every packet it returns
 * XDP_DROP for (rate-pps, rate-bytes, new-source, blocked, deny, malformed):
 *
 *  1. Budget first, ring second, per CPU (struct perim_drop_budget, the one
 *     entry of the PERCPU_ARRAY PERIM_MAP_DROP_BUDGET; per-CPU, so plain
 *     stores: XDP does not preempt itself on one CPU), with the `now` of
 *     bpf_ktime_get_coarse_ns():
 *     a. Random 1-in-k selection: every PERIM_DROP_PERIOD_NS the CPU sets
 *        k = its drops in the period / half the samples the rate allows in
 *        it (at least 1; half, so the cap below rarely has to act). After
 *        each selection the CPU draws how many drops to pass over before
 *        the next one, uniformly in [0, 2k - 2] (mean k - 1): one random
 *        number and one division per selected drop, none per dropped
 *        packet, which is what a flood pays for.
 *        Random, not "the first drop after a refill": the coarse clock
 *        moves in jiffies, and senders woken by the same timer tick would
 *        otherwise always be the ones sampled.
 *     b. A hard cap: a GCRA bucket admits at most `perim_drop_sample_rate`
 *        samples per second with a burst of PERIM_DROP_SAMPLE_BURST
 *        (conform when tat <= now + tolerance, then tat = max(tat, now) +
 *        1e9 / rate), so a flood that grows within a period cannot flood
 *        user space: the ring sees at most rate * nr_cpus events per second.
 *     Every drop adds one to `pending`; a sample that reaches the ring
 *     carries weight = pending and resets it, so a selection refused by the
 *     cap or by a full ring leaves its drops to the next sample. User space
 *     sums weights, not samples: weights + pending = drops, exactly, per
 *     CPU, and the sum per source is an unbiased estimate of its drops
 *     (a CPU under a flood sends few heavy samples, an idle one light ones).
 *  2. `const volatile __u32 perim_drop_sample_rate` (rodata, default
 *     PERIM_DROP_SAMPLE_RATE_DEFAULT; 0 disables sampling, and the verifier
 *     prunes the whole path).
 *  3. bpf_ringbuf_reserve(&perim_drops, sizeof(struct perim_drop_event), 0);
 *     NULL (ring full) is simply not sampled. Fill every field, then
 *     bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP): the wakeup IPI is nearly all
 *     of a submit's cost here (shared/KERNELS.md), and perimd drains on a
 *     PERIMD_DROPS_DRAIN_MS timer instead; that timer bounds the latency.
 *  4. perim_drops is BPF_MAP_TYPE_RINGBUF, max_entries
 *     PERIM_DROPS_RING_BYTES, pinned by name (LIBBPF_PIN_BY_NAME) like the
 *     other maps, so every per-interface instance shares one ring and perimd
 *     finds it at <pin root>/perim_drops.
 *
 * Ring sizing: at the default rate a drain interval produces at most
 * 1000 * 0.1 s * 64 B = 6.4 KB per CPU, so 1 MiB holds 160 CPUs' worth.
 */
#ifndef PERIM_DROPS_H
#define PERIM_DROPS_H

#ifdef __bpf__
/* vmlinux.h (or linux/types.h) is included first by the BPF side. */
#else
#include <linux/types.h>
#endif

#define PERIM_MAP_DROPS        "perim_drops"
#define PERIM_MAP_DROP_BUDGET  "perim_drop_budget"
#define PERIM_DROPS_RING_BYTES (1 << 20)
#define PERIM_DROP_SAMPLE_RATE_DEFAULT 1000  /* samples per second per CPU */
#define PERIM_DROP_SAMPLE_BURST 100          /* samples a CPU may send back to back */
#define PERIMD_DROPS_DRAIN_MS 100            /* perimd's drain timer */

#define PERIM_DROP_PERIOD_NS 100000000ULL   /* k is recomputed every 100 ms */

struct perim_drop_budget {
	__u64 tat;                     /* hard cap: GCRA theoretical arrival time, ns */
	__u64 period_start;            /* ns */
	__u32 period_drops;            /* drops on this CPU since period_start */
	__u32 k;                       /* select 1 drop in k on average (0 or 1: every drop) */
	__u32 pending;                 /* drops since the last sample sent: its weight (saturates) */
	__u32 countdown;               /* drops to pass over before the next selection */
};

struct perim_drop_event {
	__u64 ts;                      /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE) */
	__u32 slot;                    /* interface slot */
	__u32 rule;                    /* rule slot; 0 when no rule decided (deny, malformed) */
	__u8 reason;                   /* enum perim_reason */
	__u8 family;                   /* 4 or 6; 0 when malformed before L3 */
	__u8 proto;                    /* IPPROTO_*; 0 when unknown */
	__u8 _pad0;
	__u16 sport;                   /* host order; 0 unless TCP/UDP (non-first fragments: 0) */
	__u16 dport;                   /* host order; as sport */
	__u32 len;                     /* frame length (data_end - data) */
	__u32 weight;                  /* drops this sample stands for (>= 1; 0 read as 1) */
	__u8 src[16];                  /* IPv4 stored IPv4-mapped, as in perim.h */
	__u8 dst[16];                  /* as src; 0 when malformed (no IP header) */
};

#ifndef __bpf__
_Static_assert(sizeof(struct perim_drop_event) == 64, "perim_drop_event layout");
#endif

#endif /* PERIM_DROPS_H */
