// SPDX-License-Identifier: GPL-2.0
/*
 * The minimal per-source limiter with rules per prefix (issue 21), a
 * reference row of the datapath benchmark (tests/bench/xdp_bench.c): parse
 * Ethernet + IPv4/IPv6 + UDP, find the source's rule in an LPM trie keyed by
 * the bare address (4 bytes, or 16), count the rule per CPU, look the
 * source's token bucket up in an LRU keyed by rule + address (8 bytes, or
 * 20), test GCRA on the coarse clock, drop. An unseen source gets a bucket
 * and passes. The rule's rate travels in the trie's value: no rule table.
 * No VLANs, IP options, extension headers, fragments, counters per reason,
 * dry run, block time, new-source admission or drop sampling.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct ml_rule {
	__u32 id;
	__u32 _pad;
	__u64 interval_ns;
	__u64 tolerance_ns;
};

struct ml_lpm4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct ml_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct ml_src4_key {
	__u32 rule;
	__u32 addr;
};

struct ml_src6_key {
	__u32 rule;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct ml_lpm4_key);
	__type(value, struct ml_rule);
} ml_rules4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct ml_lpm6_key);
	__type(value, struct ml_rule);
} ml_rules6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ml_src4_key);
	__type(value, __u64);
} ml_src4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ml_src6_key);
	__type(value, __u64);
} ml_src6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} ml_rule_packets SEC(".maps");

/* GCRA on the bucket's theoretical arrival time: XDP_PASS when it conforms (and is charged). */
static __always_inline int ml_charge(__u64 *tat, const struct ml_rule *r)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	__u64 *n = bpf_map_lookup_elem(&ml_rule_packets, &r->id);

	if (n)
		(*n)++;
	if (*tat > now + r->tolerance_ns)
		return XDP_DROP;
	*tat = (*tat > now ? *tat : now) + r->interval_ns;
	return XDP_PASS;
}

static __always_inline int ml_ipv4(struct iphdr *ip, void *data_end)
{
	struct ml_lpm4_key lk = { .prefixlen = 32 };
	struct ml_src4_key sk;
	struct udphdr *udp = (void *)(ip + 1);
	struct ml_rule *r;
	__u64 *tat, fresh = 0;

	if ((void *)(udp + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	lk.addr = ip->saddr;
	r = bpf_map_lookup_elem(&ml_rules4, &lk);
	if (!r)
		return XDP_PASS;
	sk.rule = r->id;
	sk.addr = ip->saddr;
	tat = bpf_map_lookup_elem(&ml_src4, &sk);
	if (!tat) {
		bpf_map_update_elem(&ml_src4, &sk, &fresh, BPF_NOEXIST);
		return XDP_PASS;
	}
	return ml_charge(tat, r);
}

static __always_inline int ml_ipv6(struct ipv6hdr *ip6, void *data_end)
{
	struct ml_lpm6_key lk = { .prefixlen = 128 };
	struct ml_src6_key sk;
	struct udphdr *udp = (void *)(ip6 + 1);
	struct ml_rule *r;
	__u64 *tat, fresh = 0;

	if ((void *)(udp + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
		return XDP_PASS;
	__builtin_memcpy(lk.addr, &ip6->saddr, 16);
	r = bpf_map_lookup_elem(&ml_rules6, &lk);
	if (!r)
		return XDP_PASS;
	sk.rule = r->id;
	__builtin_memcpy(sk.addr, &ip6->saddr, 16);
	tat = bpf_map_lookup_elem(&ml_src6, &sk);
	if (!tat) {
		bpf_map_update_elem(&ml_src6, &sk, &fresh, BPF_NOEXIST);
		return XDP_PASS;
	}
	return ml_charge(tat, r);
}

SEC("xdp")
int min_limiter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(0x0800)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		return ml_ipv4(ip, data_end);
	}
	if (eth->h_proto == bpf_htons(0x86dd)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		return ml_ipv6(ip6, data_end);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
