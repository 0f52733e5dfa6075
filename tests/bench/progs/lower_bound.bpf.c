// SPDX-License-Identifier: GPL-2.0
/*
 * The least any per-source rate limiter must do on its drop path, as
 * reference rows of the datapath benchmark (tests/bench/xdp_bench.c):
 *
 * lb_bucket: parse Ethernet + IPv4/IPv6 + UDP/TCP ports, look the source's
 *   bucket up in an LRU hash, read the coarse clock, test GCRA, count the
 *   drop per CPU. No prefix lookup: every source has a bucket, i.e. one
 *   rule for the whole address space.
 * lb_prefix_bucket: the same after one exact-match probe of a prefix table
 *   (which rule holds this source?): what a limiter with rules per prefix
 *   needs at least, and the shape of perim's fast path.
 *
 * No VLANs, IP options, extension headers or fragments: every shortcut is in
 * the bound's favour.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lb_bucket {
	__u64 tat;
	__u64 tolerance;
};

struct lb_prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u8[16]);
	__type(value, struct lb_bucket);
} lb_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct lb_prefix_key);
	__type(value, __u32);
} lb_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lb_drops SEC(".maps");

const volatile __u8 lb_prefix_len = 8;

/* The source address, IPv4-mapped for IPv4; false when not IP/TCP/UDP. */
static __always_inline bool lb_parse(struct xdp_md *ctx, __u8 src[16])
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *l4;

	if ((void *)(eth + 1) > data_end)
		return false;
	if (eth->h_proto == bpf_htons(0x0800)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl != 5)
			return false;
		l4 = (void *)(ip + 1);
		__builtin_memset(src, 0, 10);
		src[10] = src[11] = 0xff;
		__builtin_memcpy(src + 12, &ip->saddr, 4);
	} else if (eth->h_proto == bpf_htons(0x86dd)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return false;
		l4 = (void *)(ip6 + 1);
		__builtin_memcpy(src, &ip6->saddr, 16);
	} else {
		return false;
	}
	return (void *)(l4 + 1) <= data_end && l4->dest != 0;
}

static __always_inline int lb_limit(const __u8 src[16])
{
	struct lb_bucket *b = bpf_map_lookup_elem(&lb_buckets, src);
	__u64 now = bpf_ktime_get_coarse_ns();
	__u32 zero = 0;
	__u64 *drops;

	if (!b || b->tat <= now + b->tolerance)
		return XDP_PASS;
	drops = bpf_map_lookup_elem(&lb_drops, &zero);
	if (drops)
		(*drops)++;
	return XDP_DROP;
}

SEC("xdp")
int lb_bucket(struct xdp_md *ctx)
{
	__u8 src[16];

	if (!lb_parse(ctx, src))
		return XDP_PASS;
	return lb_limit(src);
}

SEC("xdp")
int lb_prefix_bucket(struct xdp_md *ctx)
{
	struct lb_prefix_key k = { .prefixlen = lb_prefix_len };
	__u8 src[16];

	if (!lb_parse(ctx, src))
		return XDP_PASS;
	/* Unmasked (the table holds the whole address): in the bound's favour again. */
	__builtin_memcpy(k.addr, src, 16);
	if (!bpf_map_lookup_elem(&lb_prefixes, &k))
		return XDP_PASS;
	return lb_limit(src);
}

char LICENSE[] SEC("license") = "GPL";
