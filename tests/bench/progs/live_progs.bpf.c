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
 *
 * syn_reflect and syn_cookie: the floors of answering a SYN from XDP
 * (section_syn). syn_reflect turns a bare IPv4 SYN into a SYN-ACK in its own
 * frame with a fixed sequence number and sends it back (XDP_TX), checksums
 * updated incrementally; syn_cookie does the same with the kernel's cookie
 * helper choosing the sequence number. Neither matches a destination,
 * reads options or counts: what is left above them is the SYN stage's own.
 * Loaded only when attached ("?xdp": the helpers exist from 6.0).
 *
 * relay: sends every frame on out of relay_ifindex (bpf_redirect), so frames
 * that reach it as skbs (xdp_live gen's AF_PACKET path, where the kernel
 * refuses live frames) leave as XDP frames, flushed once per NAPI poll, as
 * the live generator's batches are.
 *
 * peer_pass: XDP_PASS, attached to a veth's peer so that the veth's XDP_TX
 * frames are delivered (a veth queues them to its peer's NAPI, and wakes
 * that NAPI only when the peer runs an XDP program).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP_BE bpf_htons(0x0800)
#define ETH_ALEN 6

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

/* The sum of 16-bit words after a 32-bit field changed from old to new (RFC 1624). */
static __always_inline __u16 csum_replace32(__u16 check, __u32 old, __u32 new)
{
	check = csum_replace16(check, (__u16)old, (__u16)new);
	return csum_replace16(check, (__u16)(old >> 16), (__u16)(new >> 16));
}

#define SYN_REFLECT_SEQ 0x5eed0001
#define TCP_FLAGS_OFF 13               /* the flags byte in the TCP header */
#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* A bare IPv4 SYN of the frame, or NULL; *ip is its IP header. */
static __always_inline struct tcphdr *bare_syn(void *data, void *data_end, struct iphdr **ip)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;

	if ((void *)(eth + 1) > data_end || eth->h_proto != ETH_P_IP_BE)
		return NULL;
	*ip = (void *)(eth + 1);
	if ((void *)(*ip + 1) > data_end || (*ip)->ihl != 5 || (*ip)->protocol != IPPROTO_TCP)
		return NULL;
	tcp = (void *)(*ip + 1);
	if ((void *)(tcp + 1) > data_end || ((__u8 *)tcp)[TCP_FLAGS_OFF] != TCP_SYN)
		return NULL;
	return tcp;
}

/* The SYN in place turned into its SYN-ACK with sequence number seq (host order), MACs swapped. */
static __always_inline int reflect(void *data, struct iphdr *ip, struct tcphdr *tcp, __u32 seq)
{
	struct ethhdr *eth = data;
	__u8 mac[ETH_ALEN];
	__u32 addr, old_seq = tcp->seq, old_ack = tcp->ack_seq;
	__u16 port, old_flags = ((__u16 *)tcp)[TCP_FLAGS_OFF / 2], check = tcp->check;

	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	/* Addresses and ports swap places: neither sum changes. */
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	port = tcp->source;
	tcp->source = tcp->dest;
	tcp->dest = port;
	tcp->ack_seq = bpf_htonl(bpf_ntohl(old_seq) + 1);
	tcp->seq = bpf_htonl(seq);
	((__u8 *)tcp)[TCP_FLAGS_OFF] = TCP_SYN | TCP_ACK;
	check = csum_replace32(check, old_seq, tcp->seq);
	check = csum_replace32(check, old_ack, tcp->ack_seq);
	tcp->check = csum_replace16(check, old_flags, ((__u16 *)tcp)[TCP_FLAGS_OFF / 2]);
	return XDP_TX;
}

SEC("?xdp")
int syn_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct tcphdr *tcp;
	struct iphdr *ip;

	tcp = bare_syn(data, (void *)(long)ctx->data_end, &ip);
	return tcp ? reflect(data, ip, tcp, SYN_REFLECT_SEQ) : XDP_PASS;
}

SEC("?xdp")
int syn_cookie(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct tcphdr *tcp;
	struct iphdr *ip;
	__s64 cookie;

	tcp = bare_syn(data, (void *)(long)ctx->data_end, &ip);
	if (!tcp)
		return XDP_PASS;
	cookie = bpf_tcp_raw_gen_syncookie_ipv4(ip, tcp, sizeof(*tcp));
	return cookie < 0 ? XDP_PASS : reflect(data, ip, tcp, (__u32)cookie);
}

SEC("?xdp")
int peer_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

const volatile __u32 relay_ifindex;

SEC("?xdp")
int relay(struct xdp_md *ctx)
{
	return bpf_redirect(relay_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
