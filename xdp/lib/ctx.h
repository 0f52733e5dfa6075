/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The context shim: one datapath (parse, rule lookup, buckets, counters)
 * compiled for two hooks. A program defines PERIM_CTX_TC before including
 * lib/ to be a tc (sched_cls) program on struct __sk_buff; otherwise it is
 * an XDP program on struct xdp_md. Everything hook-specific is here: the
 * context type, its packet bounds and length, and the verdicts.
 *
 * The other switches an entry file may define before including lib/:
 * PERIM_MATCH_DST (set with PERIM_CTX_TC by the egress program) makes the
 * parser hand the rules the destination address instead of the source;
 * PERIM_SAMPLE_DROPS (set by the XDP program) makes drops sampled onto the
 * perim_drops ring (drop_sample.h).
 */
#ifndef PERIM_XDP_CTX_H
#define PERIM_XDP_CTX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifdef PERIM_CTX_TC

/* linux/pkt_cls.h's TC_ACT_*: macros, so absent from vmlinux.h. */
#define PERIM_TC_ACT_OK   0
#define PERIM_TC_ACT_SHOT 2

/* Headers perim reads at most, linearised before parsing (see perim_ctx_prepare). */
#define PERIM_CTX_PULL_BYTES 256

/* A macro, not a typedef: CO-RE relocates field accesses by the type's name in kernel BTF. */
#define perim_ctx_t struct __sk_buff
#define PERIM_VERDICT_PASS PERIM_TC_ACT_OK
#define PERIM_VERDICT_DROP PERIM_TC_ACT_SHOT

/*
 * An skb's headers may sit partly outside its linear area (direct access
 * sees only that): pull the first PERIM_CTX_PULL_BYTES in when they are not.
 * A failed pull leaves the frame as it is; the parser then sees it short.
 */
static __always_inline void perim_ctx_prepare(struct __sk_buff *skb)
{
	__u32 want = skb->len < PERIM_CTX_PULL_BYTES ? skb->len : PERIM_CTX_PULL_BYTES;

	if ((__u64)skb->data + want > (__u64)skb->data_end)
		bpf_skb_pull_data(skb, want);
}

/* The whole packet, paged part included: what a byte limit charges. */
static __always_inline __u64 perim_ctx_len(const struct __sk_buff *skb)
{
	return skb->len;
}

#else /* XDP */

#define perim_ctx_t struct xdp_md
#define PERIM_VERDICT_PASS XDP_PASS
#define PERIM_VERDICT_DROP XDP_DROP

static __always_inline void perim_ctx_prepare(struct xdp_md *ctx)
{
}

static __always_inline __u64 perim_ctx_len(const struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

#endif /* PERIM_CTX_TC */

/* Read after perim_ctx_prepare: a pull moves the data. */
static __always_inline void *perim_ctx_data(const perim_ctx_t *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *perim_ctx_data_end(const perim_ctx_t *ctx)
{
	return (void *)(long)ctx->data_end;
}

#endif /* PERIM_XDP_CTX_H */
