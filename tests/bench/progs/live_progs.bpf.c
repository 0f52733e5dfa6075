// SPDX-License-Identifier: GPL-2.0
/*
 * XDP programs of the live-traffic benchmark (tests/bench/xdp_live.c).
 *
 * gen_tx: the generator. Run by BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES,
 * its XDP_TX becomes a redirect out of the device named in the context, so
 * every test frame leaves through the veth into the gateway. With
 * src_count > 1 it gives each frame the next of src_count source addresses
 * from src_base, so many sources interleave packet by packet (with tcp_syn,
 * the TCP checksum follows the source, which its pseudo header covers).
 *
 * floor_drop and floor_parse: the receiver-side floors. floor_parse reads
 * what any filter must read (Ethernet, IPv4, the L4 ports) before dropping:
 * a live frame arrives cold in the cache, and touching it is the real floor.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP_BE bpf_htons(0x0800)

/* Set by the parse floor so the compiler cannot drop the reads. */
__u64 parsed_ports;

const volatile __u32 src_base;     /* host order */
const volatile __u32 src_count = 1;
/* Frames are TCP SYNs (xdp_live gen --tcp-syn): their checksum covers the source too. */
const volatile bool tcp_syn;
__u32 gen_seq;

/* RFC 1624: the IPv4 header checksum after one 16-bit word changed. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 saddr, old;
	__u16 check;

	if (src_count <= 1)
		return XDP_TX;
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	/* One generator thread runs this: a plain increment is enough. */
	saddr = bpf_htonl(src_base + gen_seq++ % src_count);
	old = ip->saddr;
	check = ip->check;
	check = csum_replace16(check, (__u16)old, (__u16)saddr);
	check = csum_replace16(check, (__u16)(old >> 16), (__u16)(saddr >> 16));
	ip->saddr = saddr;
	ip->check = check;
	if (tcp_syn) {
		struct tcphdr *tcp = (void *)(ip + 1);

		if ((void *)(tcp + 1) > data_end)
			return XDP_ABORTED;
		check = tcp->check;
		check = csum_replace16(check, (__u16)old, (__u16)saddr);
		tcp->check = csum_replace16(check, (__u16)(old >> 16), (__u16)(saddr >> 16));
	}
	return XDP_TX;
}

SEC("xdp")
int floor_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int floor_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *l4;

	if ((void *)(eth + 1) > data_end || eth->h_proto != ETH_P_IP_BE)
		return XDP_DROP;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_DROP;
	l4 = (void *)ip + ip->ihl * 4;
	if ((void *)(l4 + 1) > data_end)
		return XDP_DROP;
	if (ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_TCP)
		parsed_ports = ((__u64)ip->saddr << 32) | ((__u32)l4->source << 16) | l4->dest;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
