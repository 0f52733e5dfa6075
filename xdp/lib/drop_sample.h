/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sampled drop events for `perimctl top` (contract: include/perim_drops.h).
 * perim_xdp.bpf.c calls perim_sample_drop next to each perim_count_drop, and
 * rule.h calls perim_sample_drop_at with the bucket's clock reading for rule
 * drops. Only a program that defines PERIM_SAMPLE_DROPS before including lib/
 * samples (the XDP program; see ctx.h): without it this header defines no
 * map and both calls are empty.
 * Costs nothing on the pass path; on the drop path a clock read (none for
 * rule drops) and one per-CPU ARRAY lookup (inlined); a selected drop also
 * pays a random number, a division and, when sampled, a second read of the
 * IP header (the destination address).
 */
#ifndef PERIM_XDP_DROP_SAMPLE_H
#define PERIM_XDP_DROP_SAMPLE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim_drops.h"
#include "clock.h"
#include "parse.h"

#ifdef PERIM_SAMPLE_DROPS

/* Samples per second per CPU; 0 turns sampling off (the verifier prunes it). */
const volatile __u32 perim_drop_sample_rate = PERIM_DROP_SAMPLE_RATE_DEFAULT;

/* Pinned by name: every interface's instance shares the ring and the budget. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PERIM_DROPS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perim_drop_budget);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_drop_budget SEC(".maps");

/*
 * Every PERIM_DROP_PERIOD_NS: k = drops / samples wanted over the period just
 * ended. Aiming at half the cap leaves the cap room for a flood that grows
 * within a period: a sample the cap refuses moves its weight to whichever
 * source is sampled next, which skews the per-source estimates.
 */
static __always_inline void perim_drop_period(struct perim_drop_budget *b, __u64 now)
{
	__u64 elapsed = now - b->period_start, allowed;

	if (elapsed < PERIM_DROP_PERIOD_NS)
		return;
	allowed = perim_drop_sample_rate * elapsed / (2 * 1000000000ULL);
	b->k = allowed && b->period_drops > allowed ? b->period_drops / allowed : 1;
	b->period_start = now;
	b->period_drops = 0;
}

/* The drops to pass over before the next selection: uniform in [0, 2k - 2], mean k - 1. */
static __always_inline __u32 perim_drop_gap(__u32 k)
{
	return k > 1 ? bpf_get_prandom_u32() % (2 * k - 1) : 0;
}

/*
 * This CPU's budget when this drop is to be sampled (*weight set), else
 * NULL. Per-CPU, so plain stores: XDP does not preempt itself. A drop
 * that is not selected costs a lookup, three increments and two compares.
 */
static __always_inline struct perim_drop_budget *perim_drop_budget_take(__u64 now, __u32 *weight)
{
	struct perim_drop_budget *b;
	__u64 interval, tolerance;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&perim_drop_budget, &zero);
	if (!b)
		return NULL;
	b->period_drops++;
	if (b->pending != 0xffffffff)
		b->pending++;
	perim_drop_period(b, now);
	if (b->countdown) {
		b->countdown--;
		return NULL;
	}
	b->countdown = perim_drop_gap(b->k);
	interval = 1000000000ULL / perim_drop_sample_rate;
	tolerance = interval * (PERIM_DROP_SAMPLE_BURST - 1);
	if (b->tat > now + tolerance)
		return NULL;
	b->tat = (b->tat > now ? b->tat : now) + interval;
	*weight = b->pending;
	return b;
}

/*
 * The packet's destination, read from its IP header only now that the drop
 * is sampled: the parser keeps a pointer instead of copying it for every
 * packet. No data_end check here: whoever stores the pointer has checked the
 * bytes behind it (the XDP program: an IPv6 header's worth for either family,
 * rule_run.h, since older verifiers lose which family a stored flag says),
 * and the verifier keeps that bound with the pointer through the stack.
 * NULL (a frame too short for that): no destination. IPv4 is stored
 * IPv4-mapped, as src is.
 */
static __always_inline void perim_sample_dst(const struct perim_pkt *pkt, __u8 dst[16])
{
	if (!pkt->l3)
		return;
	if (pkt->is_v6) {
		__builtin_memcpy(dst, &((struct ipv6hdr *)pkt->l3)->daddr, 16);
		return;
	}
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &((struct iphdr *)pkt->l3)->daddr, 4);
}

/* now: the drop path's clock reading when it has one (rule drops), so the sampler reads none. */
static __always_inline void perim_sample_drop_at(__u32 slot, __u32 rule, __u32 reason,
						 const struct perim_pkt *pkt, __u64 len, __u64 now)
{
	struct perim_drop_budget *b;
	struct perim_drop_event *e;
	__u32 weight = 1;

	if (!perim_drop_sample_rate)
		return;
	b = perim_drop_budget_take(now, &weight);
	if (!b)
		return;
	e = bpf_ringbuf_reserve(&perim_drops, sizeof(*e), 0);
	if (!e)
		return;                 /* ring full (perimd not draining): the next sample carries the weight */
	b->pending = 0;
	/* Reserved memory is not zeroed: write every byte. */
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = now;
	e->slot = slot;
	e->rule = rule;
	e->reason = reason;
	e->len = len;
	e->weight = weight;
	if (pkt) {
		e->family = pkt->is_v6 ? 6 : 4;
		e->proto = pkt->proto;
		e->dport = pkt->has_ports ? pkt->dport : 0;
		e->sport = pkt->has_ports ? pkt->sport : 0;
		__builtin_memcpy(e->src, pkt->addr, sizeof(e->src));
		perim_sample_dst(pkt, e->dst);
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void perim_sample_drop(__u32 slot, __u32 rule, __u32 reason,
					      const struct perim_pkt *pkt, __u64 len)
{
	if (perim_drop_sample_rate)
		perim_sample_drop_at(slot, rule, reason, pkt, len, perim_now());
}

#else /* !PERIM_SAMPLE_DROPS */

static __always_inline void perim_sample_drop_at(__u32 slot, __u32 rule, __u32 reason,
						 const struct perim_pkt *pkt, __u64 len, __u64 now)
{
}

static __always_inline void perim_sample_drop(__u32 slot, __u32 rule, __u32 reason,
					      const struct perim_pkt *pkt, __u64 len)
{
}

#endif /* PERIM_SAMPLE_DROPS */

#endif /* PERIM_XDP_DROP_SAMPLE_H */
