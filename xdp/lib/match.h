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

/*
 * Matching computes, it does not branch: clang turns the conditions into 0/1
 * values and branches on them anyway, and each branch forks the verifier's
 * state (it followed the match loop some 10,000 times per instruction).
 * perim_opaque hides a value's range from clang, so it cannot turn the
 * arithmetic below back into compares.
 */
static __always_inline __u64 perim_opaque(__u64 x)
{
	asm volatile("" : "+r"(x));
	return x;
}

/* 1 when a == b, else 0 (both below 2^32). */
static __always_inline __u64 perim_eq(__u64 a, __u64 b)
{
	return (perim_opaque(a ^ b) - 1) >> 63;
}

/* 1 when a <= b, else 0 (both below 2^32). */
static __always_inline __u64 perim_le(__u64 a, __u64 b)
{
	return ((perim_opaque(b) - a) >> 63) ^ 1;
}

/* A port or SYN constraint never matches a packet without an L4 header. */
static __always_inline bool perim_candidate_matches(const struct perim_candidate *c,
						    const struct perim_pkt *pkt)
{
	__u64 proto = pkt->proto, ports = pkt->has_ports & 1, dport = pkt->dport;
	__u64 want = c->proto, lo = c->dport_lo, hi = c->dport_hi;
	__u64 proto_ok = perim_eq(want, PERIM_PROTO_ANY) | perim_eq(want, proto) |
			 (perim_eq(want, IPPROTO_ICMP) & perim_eq(proto, PERIM_IPPROTO_ICMPV6));
	__u64 ports_ok = perim_eq(lo | hi, 0) | (ports & perim_le(lo, dport) & perim_le(dport, hi));
	__u64 syn = perim_eq(proto, IPPROTO_TCP) & ports &
		    perim_eq(pkt->tcp_flags & (PERIM_TCP_FLAG_SYN | PERIM_TCP_FLAG_ACK), PERIM_TCP_FLAG_SYN);
	__u64 syn_ok = ((c->flags & PERIM_CAND_SYN_ONLY) ^ PERIM_CAND_SYN_ONLY) | syn;

	return proto_ok & ports_ok & syn_ok;
}

/*
 * The first candidate that fits, copied to *out, or false. Nothing of the
 * loop leaves it but the copy: an index or a pointer into v->cand is one
 * value per iteration the loop can stop at, and the verifier followed the
 * rule's application once per such value.
 */
static __always_inline bool perim_match(const struct perim_lpm_value *v, const struct perim_pkt *pkt,
					struct perim_candidate *out)
{
	__u32 n = v->n_cand;

/* A bounded loop (5.3+): unrolled 16 times it would bloat the program. */
	for (__u32 i = 0; i < PERIM_MAX_CANDIDATES; i++) {
		if (i >= n)
			break;
		if (perim_candidate_matches(&v->cand[i], pkt)) {
			__builtin_memcpy(out, &v->cand[i], sizeof(*out));
			return true;
		}
	}
	return false;
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
