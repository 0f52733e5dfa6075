/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rule matching: the first candidate of the LPM entry (most specific prefix
 * first, as user space flattened them) whose protocol, port range and SYN
 * constraint fit the packet.
 */
#ifndef PERIM_XDP_MATCH_H
#define PERIM_XDP_MATCH_H

#include "vmlinux.h"
#include "perim.h"
#include "parse.h"

static __always_inline bool perim_proto_matches(__u8 want, __u8 proto)
{
	return want == PERIM_PROTO_ANY || want == proto ||
	       (want == IPPROTO_ICMP && proto == PERIM_IPPROTO_ICMPV6);
}

/* A port or SYN constraint never matches a packet without an L4 header. */
static __always_inline bool perim_candidate_matches(const struct perim_candidate *c,
						    const struct perim_pkt *pkt)
{
	if (!perim_proto_matches(c->proto, pkt->proto))
		return false;
	if (c->dport_lo | c->dport_hi) {
		if (!pkt->has_ports || pkt->dport < c->dport_lo || pkt->dport > c->dport_hi)
			return false;
	}
	if (c->flags & PERIM_CAND_SYN_ONLY) {
		if (pkt->proto != IPPROTO_TCP || !pkt->has_ports ||
		    (pkt->tcp_flags & (PERIM_TCP_FLAG_SYN | PERIM_TCP_FLAG_ACK)) != PERIM_TCP_FLAG_SYN)
			return false;
	}
	return true;
}

/* The index of the first candidate that fits, or -1. */
static __always_inline int perim_match_index(const struct perim_lpm_value *v, const struct perim_pkt *pkt)
{
	__u32 n = v->n_cand;

/* A bounded loop (5.3+): unrolled 16 times it would bloat the program. */
	for (__u32 i = 0; i < PERIM_MAX_CANDIDATES; i++) {
		if (i >= n)
			break;
		if (perim_candidate_matches(&v->cand[i], pkt))
			return i;
	}
	return -1;
}

static __always_inline const struct perim_candidate *
perim_match(const struct perim_lpm_value *v, const struct perim_pkt *pkt)
{
	int i = perim_match_index(v, pkt);

	return i < 0 ? NULL : &v->cand[i & (PERIM_MAX_CANDIDATES - 1)];
}

/*
 * Does a protect candidate fit? They come first in the entry, at most
 * PERIM_MAX_PROTECT_CAND of them (user space keeps to that), so the check is
 * unrolled: every way through it meets again at the same state, where a loop's
 * exits (one per candidate it could stop at) made the verifier follow the rest
 * of the program once per exit, past Debian 6.1's million instructions.
 */
static __always_inline bool perim_protected(const struct perim_lpm_value *v, const struct perim_pkt *pkt)
{
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < PERIM_MAX_PROTECT_CAND; i++) {
		const struct perim_candidate *c = &v->cand[i];

		if (i >= v->n_cand || !(c->flags & PERIM_CAND_PROTECT))
			return false;
		if (perim_candidate_matches(c, pkt))
			return true;
	}
	return false;
}

#endif /* PERIM_XDP_MATCH_H */
