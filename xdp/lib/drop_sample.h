/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sampled drop events for `perimctl top` (contract: include/perim_drops.h).
 * Not yet included by perim_xdp.bpf.c: wiring it in is
 *   #include "lib/drop_sample.h"
 * and, where perim_run returns a drop,
 *   perim_sample_drop(slot, rule, reason, &pkt, len)   (&pkt NULL when malformed)
 * next to perim_count_drop. Costs nothing on the pass path; on the drop path
 * one clock read and one per-CPU ARRAY lookup while over budget.
 */
#ifndef PERIM_XDP_DROP_SAMPLE_H
#define PERIM_XDP_DROP_SAMPLE_H

#include "perim_drops.h"

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

/* GCRA on this CPU's budget; per-CPU, so plain stores: XDP does not preempt itself. */
static __always_inline bool perim_drop_budget_take(__u64 now)
{
	struct perim_drop_budget *b;
	__u64 interval, tolerance;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&perim_drop_budget, &zero);
	if (!b)
		return false;
	interval = 1000000000ULL / perim_drop_sample_rate;
	tolerance = interval * (PERIM_DROP_SAMPLE_BURST - 1);
	if (b->tat > now + tolerance)
		return false;
	b->tat = (b->tat > now ? b->tat : now) + interval;
	return true;
}

static __always_inline void perim_sample_drop(__u32 slot, __u32 rule, __u32 reason,
					      const struct perim_pkt *pkt, __u64 len)
{
	struct perim_drop_event *e;
	__u64 now;

	if (!perim_drop_sample_rate)
		return;
	now = bpf_ktime_get_coarse_ns();
	if (!perim_drop_budget_take(now))
		return;
	e = bpf_ringbuf_reserve(&perim_drops, sizeof(*e), 0);
	if (!e)
		return;   /* ring full: perimd is not draining; nothing to do */
	/* Reserved memory is not zeroed: write every byte. */
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = now;
	e->slot = slot;
	e->rule = rule;
	e->reason = reason;
	e->len = len;
	if (pkt) {
		e->family = pkt->is_v6 ? 6 : 4;
		e->proto = pkt->proto;
		e->dport = pkt->has_ports ? pkt->dport : 0;
		__builtin_memcpy(e->src, pkt->addr, sizeof(e->src));
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

#endif /* PERIM_XDP_DROP_SAMPLE_H */
