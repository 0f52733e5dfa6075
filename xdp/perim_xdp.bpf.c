// SPDX-License-Identifier: GPL-2.0
/*
 * perim's XDP datapath: parse, the source's route when it decides (one
 * lookup for a known source: lib/route.h), else the longest source prefix of
 * this interface (exact-match probes per prefix length, or the family's trie:
 * lib/fast.h), allow/deny, first matching rule; token bucket, counters.
 * The logic lives in lib/, in the order a packet flows through it.
 */
#define PERIM_SAMPLE_DROPS

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>
#include "perim.h"

/* Interface slot (counter row); perimd sets it per instance. */
const volatile __u32 perim_slot = 0;

/* In the order a packet flows through them. */
#include "lib/ctx.h"          /* the hook: xdp_md, verdicts */
#include "lib/maps.h"         /* tries, rules, buckets, counters */
#include "lib/parse.h"        /* Ethernet, VLAN, IPv4/IPv6, L4 ports */
#include "lib/route.h"        /* a known source's rule and bucket in one lookup */
#include "lib/fast.h"         /* the source's longest prefix (or trie.h) */
#include "lib/match.h"        /* the first candidate rule that fits */
#include "lib/rule.h"         /* its bucket (limit.h, gcra.h), dry-run */
#include "lib/counters.h"     /* the interface's and the rule's counters */
#include "lib/drop_sample.h"  /* a sampled drop for `perimctl top` */
#include "lib/syncookie.h"    /* SYN cookies (perim_xdp_syn only) */
#include "lib/rule_run.h"     /* the rule's application, on scalars (few verifier states) */

char LICENSE[] SEC("license") = "GPL";

/*
 * The rule's application (lib/rule_run.h), with and without compare-and-swap
 * (gcra.h). ifc is the same map value whichever way the parser left, so it
 * crosses as a pointer: the counter row is looked up once per packet, and
 * the frame's length once.
 */
static __always_inline int perim_rule_cas(struct xdp_md *ctx, struct perim_if_counters *ifc, __u64 len,
					  __u64 addr_hi, __u64 addr_lo, __u64 meta, __u64 cand)
{
	struct perim_run_args a = { addr_hi, addr_lo, meta, cand };

	return perim_rule_run(ctx, ifc, len, &a, perim_slot, true);
}

static __always_inline int perim_rule_plain(struct xdp_md *ctx, struct perim_if_counters *ifc, __u64 len,
					    __u64 addr_hi, __u64 addr_lo, __u64 meta, __u64 cand)
{
	struct perim_run_args a = { addr_hi, addr_lo, meta, cand };

	return perim_rule_run(ctx, ifc, len, &a, perim_slot, false);
}

/* c: the candidate, unless mode is PERIM_RUN_BY_ROUTE (then NULL). */
static __always_inline int perim_rule_call(struct xdp_md *ctx, struct perim_if_counters *ifc, __u64 len,
					   const struct perim_pkt *pkt, __u64 l3_off, __u64 mode, __u64 first,
					   const struct perim_candidate *c, bool cas)
{
	struct perim_run_args a;
	__u64 cand = 0;

	if (c)
		__builtin_memcpy(&cand, c, sizeof(cand));
	perim_run_pack(pkt, l3_off, mode, first, cand, &a);
	return cas ? perim_rule_cas(ctx, ifc, len, a.addr_hi, a.addr_lo, a.meta, a.cand)
		   : perim_rule_plain(ctx, ifc, len, a.addr_hi, a.addr_lo, a.meta, a.cand);
}

static __always_inline int perim_run(struct xdp_md *ctx, bool cas, bool syn)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct perim_if_counters *ifc;
	struct perim_lpm_value *v;
	struct perim_pkt pkt = {};
	__u32 slot = perim_slot;
	struct perim_candidate c;
	int parsed, ruled;
	__u64 l3_off;

	ifc = bpf_map_lookup_elem(&perim_if_stats, &slot);
	if (!ifc)
		return XDP_PASS;
	perim_count_rx(ifc, len);

	parsed = perim_parse(data, data_end, &pkt);
	if (parsed == PERIM_PARSE_NOT_IP)
		return perim_count_pass(ifc, len);
	if (parsed == PERIM_PARSE_MALFORMED) {
		perim_sample_drop(slot, 0, PERIM_REASON_MALFORMED, NULL, len);
		return perim_count_drop(ifc, PERIM_REASON_MALFORMED, len);
	}
	/* A scalar from here on (rule_run.h, perim_run_l3); blurred, as the fields: the parser's exits merge. */
	l3_off = perim_blur(pkt.l3 - data, len);
	pkt.l3 = NULL;
	perim_pkt_blur(&pkt, len);

	/* The SYN guard comes before any rule: a packet it may act on takes the long way. */
	if (!syn || !perim_syn_candidate(&pkt)) {
		ruled = perim_rule_call(ctx, ifc, len, &pkt, l3_off, PERIM_RUN_BY_ROUTE, 0, NULL, cas);
		if (ruled >= 0)
			return ruled;
	}

	v = perim_prefix_lookup(&pkt);
	/* Protected access first: before the deny lists, every limit, block and SYN check. */
	if (v && perim_protected(v, &pkt)) {
		ifc->protected_packets++;
		return perim_count_pass(ifc, len);
	}
	if (v && v->acl) {
		__u8 verdict = PERIM_ACL_VERDICT(v->acl);

		if (verdict == PERIM_ACL_DENY || verdict == PERIM_ACL_FLEET_DENY) {
			__u32 reason = verdict == PERIM_ACL_DENY ? PERIM_REASON_DENY : PERIM_REASON_FLEET_DENY;

			pkt.l3 = perim_run_l3(ctx, l3_off);
			perim_sample_drop(slot, 0, reason, &pkt, len);
			return perim_count_drop(ifc, reason, len);
		}
	}
	/* SYN cookies before the rules: a handshake completed is then limited like any traffic. */
	if (syn) {
		/* Its drop samples read the IP header (or none: perim_run_l3). */
		pkt.l3 = perim_run_l3(ctx, l3_off);
		ruled = perim_syn_guard(ctx, ifc, &pkt, slot, len);
		pkt.l3 = NULL;
		if (ruled >= 0)
			return ruled;
	}
	if (!v)
		return perim_count_pass(ifc, len);
	if (PERIM_ACL_VERDICT(v->acl) == PERIM_ACL_ALLOW) {
		ifc->allowed_packets++;
		return perim_count_pass(ifc, len);
	}
	if (!perim_match(v, &pkt, &c))
		return perim_count_pass(ifc, len);
	ruled = perim_rule_call(ctx, ifc, len, &pkt, l3_off, 0, perim_run_first(v, &c), &c, cas);
	return ruled >= 0 ? ruled : perim_count_pass(ifc, len);
}

/* Dispatcher slot: run early, let the next program see what perim passes. */
struct {
	__uint(priority, PERIM_XDP_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(perim_xdp);

SEC("xdp")
int perim_xdp(struct xdp_md *ctx)
{
	return perim_run(ctx, true, false);
}

/*
 * Kernels before 5.12 refuse a cmpxchg instruction anywhere in a program,
 * even in a branch the verifier would prune, so they get this twin with
 * plain bucket stores (gcra.h states the error). Not loaded by default:
 * the loader enables it and disables perim_xdp when the kernel is < 5.12.
 */
struct {
	__uint(priority, PERIM_XDP_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(perim_xdp_compat);

SEC("?xdp")
int perim_xdp_compat(struct xdp_md *ctx)
{
	return perim_run(ctx, false, false);
}

/*
 * With the SYN-cookie stage (lib/syncookie.h): its helpers and conntrack
 * kfuncs exist from 6.0, so perimd loads this twin instead of perim_xdp only
 * where its probe finds them (ctl/perimd/syn/probe.c).
 */
struct {
	__uint(priority, PERIM_XDP_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(perim_xdp_syn);

SEC("?xdp")
int perim_xdp_syn(struct xdp_md *ctx)
{
	return perim_run(ctx, true, true);
}
