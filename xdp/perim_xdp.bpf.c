// SPDX-License-Identifier: GPL-2.0
/*
 * perim's XDP datapath: parse, the longest source prefix of this interface
 * (exact-match probes per prefix length, or the family's trie: lib/fast.h),
 * allow/deny, first matching rule, token bucket, counters.
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
#include "lib/fast.h"         /* the source's longest prefix (or trie.h) */
#include "lib/match.h"        /* the first candidate rule that fits */
#include "lib/rule.h"         /* its bucket (limit.h, gcra.h), dry-run */
#include "lib/counters.h"     /* the interface's and the rule's counters */
#include "lib/drop_sample.h"  /* a sampled drop for `perimctl top` */
#include "lib/syncookie.h"    /* SYN cookies (perim_xdp_syn only) */

char LICENSE[] SEC("license") = "GPL";

static __always_inline int perim_run(struct xdp_md *ctx, bool cas, bool syn)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	const struct perim_candidate *c;
	struct perim_if_counters *ifc;
	struct perim_lpm_value *v;
	struct perim_pkt pkt = {};
	__u32 slot = perim_slot;
	int parsed;

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

			perim_sample_drop(slot, 0, reason, &pkt, len);
			return perim_count_drop(ifc, reason, len);
		}
	}
	/* SYN cookies before the rules: a handshake completed is then limited like any traffic. */
	if (syn) {
		int verdict = perim_syn_guard(ctx, ifc, &pkt, slot, len);

		if (verdict >= 0)
			return verdict;
	}
	if (!v)
		return perim_count_pass(ifc, len);
	if (PERIM_ACL_VERDICT(v->acl) == PERIM_ACL_ALLOW) {
		ifc->allowed_packets++;
		return perim_count_pass(ifc, len);
	}
	c = perim_match(v, &pkt);
	if (!c)
		return perim_count_pass(ifc, len);
	return perim_apply_rule(slot, ifc, c, &pkt, len, cas);
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
