/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule's application (rule.h), by the candidate the prefix lookup chose
 * or by the source's route (route.h), on a packet rebuilt from four words.
 * Only scalars (and the counter row, one map value) cross from the parser
 * to here: a packet pointer kept across
 * the prefix lookup differs per way the parser can leave (families, VLANs,
 * extension headers), and the verifier then follows the lookup and the rule
 * once per way; as scalars, blurred (parse.h: perim_pkt_blur), those states
 * merge (perim_xdp: 78k instructions verified on 6.18, 490k before the blur
 * and the branch-free match; Debian 6.1 allows 1M). It was a global function
 * first, verified once on its own, but each call through it cost ~30 ns here
 * (retpolines and return thunks): it is inlined.
 */
#ifndef PERIM_XDP_RULE_RUN_H
#define PERIM_XDP_RULE_RUN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "route.h"
#include "rule.h"

/* Past this the IP header is not where perim_parse can have left it. */
#define PERIM_RUN_L3_MAX 255

/*
 * meta: the packet's fields, the IP header's offset and what the call asks.
 * Packed without a branch: every branch in the caller is verified once per
 * way the parser can leave.
 */
#define PERIM_RUN_SPORT_SHIFT 16
#define PERIM_RUN_PROTO_SHIFT 32
#define PERIM_RUN_L3_SHIFT 40
#define PERIM_RUN_FLAGS_SHIFT 48      /* tcp_flags: only SYN and ACK (match.h) */
#define PERIM_RUN_HAS_PORTS_SHIFT 53
#define PERIM_RUN_V6_SHIFT 54
#define PERIM_RUN_BY_ROUTE (1ULL << 55) /* decide by the source's route, else return -1 */
/*
 * The candidate's index in its entry ORed with the entry's acl: 0 when it is
 * the first candidate of an entry with no ACL verdict or protect candidates,
 * so every packet of the source has this rule and a new route may say so.
 */
#define PERIM_RUN_FIRST_SHIFT 56

struct perim_run_args {
	__u64 addr_hi;
	__u64 addr_lo;
	__u64 meta;
	__u64 cand;                    /* struct perim_candidate, unless PERIM_RUN_BY_ROUTE */
};

/*
 * The IP header at l3_off with an IPv6 header's worth of bytes behind it
 * whatever the family, or NULL when the frame is shorter (a minimal IPv4
 * frame behind two VLAN tags): the only reader, the drop sampler, then
 * leaves the destination out. One bound for both families because Debian
 * 5.10's and 6.1's verifiers lose which family the packet's is_v6 byte says
 * once it is on the stack and check the IPv6 read against the IPv4 bound.
 * The caller keeps the offset as a scalar and clears pkt->l3 after parsing:
 * a packet pointer kept across the prefix lookup differs per parser exit,
 * and the verifier would follow the lookup once per exit.
 */
static __always_inline void *perim_run_l3(const struct xdp_md *ctx, __u64 l3_off)
{
	void *data = perim_ctx_data(ctx), *data_end = perim_ctx_data_end(ctx);
	void *l3 = data + (l3_off & PERIM_RUN_L3_MAX);

	if (l3 + sizeof(struct ipv6hdr) > data_end)
		return NULL;
	return l3;
}

/*
 * PERIM_RUN_FIRST_SHIFT's value for c, the candidate perim_match copied out
 * of v: whether it is the first is whether it equals the first, byte for
 * byte (equal bytes match the same packets, so the first would have matched
 * already). The index it would ask for is one value per iteration the match
 * could stop at, which the verifier tells apart (match.h).
 */
static __always_inline __u64 perim_run_first(const struct perim_lpm_value *v, const struct perim_candidate *c)
{
	__u64 c0, cx;

	__builtin_memcpy(&c0, &v->cand[0], sizeof(c0));
	__builtin_memcpy(&cx, c, sizeof(cx));
	return v->acl | (cx != c0);
}

/* first: see PERIM_RUN_FIRST_SHIFT (ignored with PERIM_RUN_BY_ROUTE). */
static __always_inline void perim_run_pack(const struct perim_pkt *pkt, __u64 l3_off, __u64 mode,
					   __u64 first, __u64 cand, struct perim_run_args *a)
{
	__builtin_memcpy(&a->addr_hi, &pkt->addr[0], sizeof(a->addr_hi));
	__builtin_memcpy(&a->addr_lo, &pkt->addr[2], sizeof(a->addr_lo));
	a->meta = (__u64)pkt->dport | (__u64)pkt->sport << PERIM_RUN_SPORT_SHIFT |
		  (__u64)pkt->proto << PERIM_RUN_PROTO_SHIFT | (l3_off & 0xff) << PERIM_RUN_L3_SHIFT |
		  (__u64)(pkt->tcp_flags & (PERIM_TCP_FLAG_SYN | PERIM_TCP_FLAG_ACK)) << PERIM_RUN_FLAGS_SHIFT |
		  (__u64)(pkt->has_ports & 1) << PERIM_RUN_HAS_PORTS_SHIFT |
		  (__u64)(pkt->is_v6 & 1) << PERIM_RUN_V6_SHIFT | (first & 0xff) << PERIM_RUN_FIRST_SHIFT | mode;
	a->cand = cand;
}

/* The packet as perim_run_pack packed it. */
static __always_inline void perim_run_unpack(const struct xdp_md *ctx, const struct perim_run_args *a,
					    struct perim_pkt *pkt)
{
	__builtin_memcpy(&pkt->addr[0], &a->addr_hi, sizeof(a->addr_hi));
	__builtin_memcpy(&pkt->addr[2], &a->addr_lo, sizeof(a->addr_lo));
	pkt->dport = a->meta;
	pkt->sport = a->meta >> PERIM_RUN_SPORT_SHIFT;
	pkt->proto = a->meta >> PERIM_RUN_PROTO_SHIFT;
	pkt->tcp_flags = (a->meta >> PERIM_RUN_FLAGS_SHIFT) & (PERIM_TCP_FLAG_SYN | PERIM_TCP_FLAG_ACK);
	pkt->has_ports = (a->meta >> PERIM_RUN_HAS_PORTS_SHIFT) & 1;
	pkt->is_v6 = (a->meta >> PERIM_RUN_V6_SHIFT) & 1;
	pkt->l3 = perim_run_l3(ctx, a->meta >> PERIM_RUN_L3_SHIFT);
}

/*
 * The verdict of the candidate a->cand, or with PERIM_RUN_BY_ROUTE of the
 * source's route when it decides, else -1 (the caller looks the prefix up).
 */
static __always_inline int perim_rule_run(struct xdp_md *ctx, struct perim_if_counters *ifc, __u64 len,
					  const struct perim_run_args *a, __u32 slot, bool cas)
{
	struct perim_route_hint hint = { .slot = slot };
	struct perim_candidate cand;
	struct perim_pkt pkt = {};

	perim_run_unpack(ctx, a, &pkt);
	if (a->meta & PERIM_RUN_BY_ROUTE) {
		hint.epoch = perim_route_epoch();
		if (!hint.epoch)
			return -1;
		hint.route = perim_route_lookup(slot, &pkt);
		if (!perim_route_decides(hint.route, hint.epoch, &pkt))
			return -1;
		cand = hint.route->cand;
	} else {
		if (!(a->meta >> PERIM_RUN_FIRST_SHIFT))
			hint.epoch = perim_route_epoch();
		__builtin_memcpy(&cand, &a->cand, sizeof(cand));
	}
	return perim_apply_rule(slot, ifc, &cand, &pkt, len, cas, &hint);
}

#endif /* PERIM_XDP_RULE_RUN_H */
