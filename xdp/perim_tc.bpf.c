// SPDX-License-Identifier: GPL-2.0
/*
 * perim's egress datapath, on the clsact egress hook: the XDP program's
 * parser, rule lookup, buckets and counters (lib/, through the ctx.h shim)
 * with the destination as the matched address. Before the destination
 * trie, traffic of local sockets is looked up by its cgroup: a rule for the
 * sending process's cgroup, when one matches, decides alone.
 */
#define PERIM_CTX_TC
#define PERIM_MATCH_DST

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"

/* In the order a packet flows through them. */
#include "lib/ctx.h"          /* the hook: __sk_buff, verdicts */
#include "lib/maps.h"         /* tries, rules, buckets, counters */
#include "lib/parse.h"        /* Ethernet, VLAN, IPv4/IPv6, L4 ports */
#include "lib/trie.h"         /* the destination's longest prefix */
#include "lib/match.h"        /* the first candidate rule that fits */
#include "lib/rule.h"         /* its bucket (limit.h, gcra.h), dry-run */
#include "lib/counters.h"     /* the interface's and the rule's counters */

char LICENSE[] SEC("license") = "GPL";

/* Interface slot (egress counter row); perimd sets it per instance. */
const volatile __u32 perim_slot = 0;

/* Per instance, pinned per slot by perimd (perim.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PERIM_EGRESS_CGROUP_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct perim_lpm_value);
} perim_ecgroup SEC(".maps");

/* The rule of the sending socket's cgroup v2 that matches, if any (0: no socket, e.g. forwarded). */
static __always_inline bool perim_cgroup_match(struct __sk_buff *skb, const struct perim_pkt *pkt,
					       struct perim_candidate *c)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	struct perim_lpm_value *v;

	if (!id)
		return false;
	v = bpf_map_lookup_elem(&perim_ecgroup, &id);
	return v && perim_match(v, pkt, c);
}

static __always_inline int perim_run_egress(struct __sk_buff *skb, bool cas)
{
	struct perim_candidate c;
	struct perim_if_counters *ifc;
	struct perim_lpm_value *v;
	struct perim_pkt pkt = {};
	__u32 slot = perim_slot;
	__u64 len;
	int parsed;

	ifc = bpf_map_lookup_elem(&perim_if_stats, &slot);
	if (!ifc)
		return PERIM_VERDICT_PASS;
	perim_ctx_prepare(skb);
	len = perim_ctx_len(skb);
	perim_count_rx(ifc, len);

	parsed = perim_parse(perim_ctx_data(skb), perim_ctx_data_end(skb), &pkt);
	if (parsed == PERIM_PARSE_NOT_IP)
		return perim_count_pass(ifc, len);
	if (parsed == PERIM_PARSE_MALFORMED)
		return perim_count_drop(ifc, PERIM_REASON_MALFORMED, len);
	perim_pkt_blur(&pkt, len);

	if (!perim_cgroup_match(skb, &pkt, &c)) {
		v = perim_lpm_lookup(&pkt);
		if (!v || !perim_match(v, &pkt, &c))
			return perim_count_pass(ifc, len);
	}
	return perim_apply_rule(slot, ifc, &c, &pkt, len, cas, NULL);
}

SEC("tc")
int perim_tc(struct __sk_buff *skb)
{
	return perim_run_egress(skb, true);
}

/* Before 5.12 (no cmpxchg): plain bucket stores, as perim_xdp_compat. */
SEC("?tc")
int perim_tc_compat(struct __sk_buff *skb)
{
	return perim_run_egress(skb, false);
}
