/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsing: Ethernet, up to two VLAN tags, IPv4 (options, fragments),
 * IPv6 (a bounded number of extension headers), TCP/UDP/ICMP/ICMPv6.
 * Every access is checked against data_end right before it happens.
 */
#ifndef PERIM_XDP_PARSE_H
#define PERIM_XDP_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "perim.h"

#define PERIM_ETH_P_IP     0x0800
#define PERIM_ETH_P_IPV6   0x86DD
#define PERIM_ETH_P_8021Q  0x8100
#define PERIM_ETH_P_8021AD 0x88A8
#define PERIM_MAX_VLANS    2

/* IPv6 protocol numbers are macros in linux/in6.h, absent from vmlinux.h. */
#define PERIM_IPPROTO_HOPOPTS  0
#define PERIM_IPPROTO_ROUTING  43
#define PERIM_IPPROTO_FRAGMENT 44
#define PERIM_IPPROTO_ICMPV6   58
#define PERIM_IPPROTO_DSTOPTS  60

#define PERIM_IP_OFFSET_MASK 0x1fff
#define PERIM_IP6_FRAG_OFFSET_MASK 0xfff8

#define PERIM_TCP_FLAG_SYN 0x02
#define PERIM_TCP_FLAG_ACK 0x10

/*
 * Past the deepest L4 header the parser reaches: two VLAN tags, an IPv6
 * header and PERIM_MAX_IPV6_EXT_HDRS extension headers of the largest size
 * (IPv4 with options is shallower). Small enough that a packet pointer this
 * far plus a header stays within the verifier's 64 KiB.
 */
#define PERIM_L4_OFF_MAX 0x3fff
_Static_assert(14 + PERIM_MAX_VLANS * 4 + 40 + PERIM_MAX_IPV6_EXT_HDRS * 256 * 8 <= PERIM_L4_OFF_MAX,
	       "PERIM_L4_OFF_MAX holds the deepest L4 header");

enum perim_parse_result {
	PERIM_PARSE_IP = 0,
	PERIM_PARSE_NOT_IP = 1,       /* ARP, LLDP, ...: passed untouched */
	PERIM_PARSE_MALFORMED = 2,
	PERIM_PARSE_L4 = 3,           /* within the parser: the L4 header is next */
};

struct perim_pkt {
	__u32 addr[4];                /* the matched address (source; destination with
				       * PERIM_MATCH_DST), IPv4-mapped for IPv4 */
	__u16 dport;                  /* host order; valid when has_ports */
	__u16 sport;                  /* host order; valid when has_ports */
	__u8 proto;                   /* L4 protocol number */
	__u8 has_ports;               /* a TCP/UDP header was read */
	__u8 tcp_flags;               /* valid when proto is TCP and has_ports */
	__u8 is_v6;
	/*
	 * The IP header, so the drop path (drop_sample.h) can read the other
	 * address there instead of every packet copying it. Set only once the
	 * whole fixed header is known to be in the frame: the verifier keeps
	 * that bound with the pointer. Valid when perim_parse returned
	 * PERIM_PARSE_IP.
	 */
	void *l3;
};

/*
 * x, unknown to the verifier wherever noise is: x ^ noise ^ noise, whose two
 * XORs it does not cancel. Two instructions; noise is any value it does not
 * know (the frame's length).
 */
static __always_inline __u64 perim_blur(__u64 x, __u64 noise)
{
	asm volatile("%[x] ^= %[n]\n\t%[x] ^= %[n]" : [x] "+r"(x) : [n] "r"(noise));
	return x;
}

struct perim_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/*
 * The EtherType after the VLAN tags, or -1 when the frame is cut inside
 * them or has too many (0x0000 is an EtherType like any other, not IP).
 */
static __always_inline int perim_parse_eth(void **pos, void *data_end)
{
	struct ethhdr *eth = *pos;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	*pos = eth + 1;

#pragma unroll
	for (int i = 0; i < PERIM_MAX_VLANS; i++) {
		struct perim_vlan_hdr *vlan = *pos;

		if (proto != PERIM_ETH_P_8021Q && proto != PERIM_ETH_P_8021AD)
			return proto;
		if ((void *)(vlan + 1) > data_end)
			return -1;
		proto = bpf_ntohs(vlan->encap_proto);
		*pos = vlan + 1;
	}
	if (proto == PERIM_ETH_P_8021Q || proto == PERIM_ETH_P_8021AD)
		return -1;
	return proto;
}

/* L4: reads the ports (the same bytes) and TCP flags; false when truncated. */
static __always_inline bool perim_parse_l4(void *pos, void *data_end, struct perim_pkt *pkt)
{
	switch (pkt->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = pos;

		/* The options too: a segment cut inside its header is malformed. */
		if ((void *)(tcp + 1) > data_end || tcp->doff < 5 || pos + tcp->doff * 4 > data_end)
			return false;
		pkt->dport = bpf_ntohs(tcp->dest);
		pkt->sport = bpf_ntohs(tcp->source);
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		pkt->has_ports = 1;
		return true;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = pos;

		if ((void *)(udp + 1) > data_end)
			return false;
		pkt->dport = bpf_ntohs(udp->dest);
		pkt->sport = bpf_ntohs(udp->source);
		pkt->has_ports = 1;
		return true;
	}
	case IPPROTO_ICMP:
	case PERIM_IPPROTO_ICMPV6:
		/* type, code, checksum and the 4-byte rest-of-header */
		return pos + 8 <= data_end;
	default:
		return true;
	}
}

/* *pos: the L4 header's place when PERIM_PARSE_L4 is returned. */
static __always_inline int perim_parse_ipv4(void **pos, void *data_end, struct perim_pkt *pkt)
{
	struct iphdr *ip = *pos;
	__u32 hdr_len;

	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return PERIM_PARSE_MALFORMED;
	hdr_len = ip->ihl * 4;
	if (*pos + hdr_len > data_end || bpf_ntohs(ip->tot_len) < hdr_len)
		return PERIM_PARSE_MALFORMED;

	pkt->addr[0] = 0;
	pkt->addr[1] = 0;
	pkt->addr[2] = bpf_htonl(0x0000ffff);
#ifdef PERIM_MATCH_DST
	pkt->addr[3] = ip->daddr;
#else
	pkt->addr[3] = ip->saddr;
#endif
	pkt->proto = ip->protocol;
	pkt->l3 = ip;

	/* A non-first fragment carries payload where the L4 header would be. */
	if (ip->frag_off & bpf_htons(PERIM_IP_OFFSET_MASK))
		return PERIM_PARSE_IP;
	*pos += hdr_len;
	return PERIM_PARSE_L4;
}

static __always_inline bool perim_ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == PERIM_IPPROTO_HOPOPTS || nexthdr == PERIM_IPPROTO_ROUTING ||
	       nexthdr == PERIM_IPPROTO_DSTOPTS || nexthdr == PERIM_IPPROTO_FRAGMENT ||
	       nexthdr == IPPROTO_AH;
}

/* *pos: as perim_parse_ipv4. */
static __always_inline int perim_parse_ipv6(void **where, void *data_end, struct perim_pkt *pkt)
{
	struct ipv6hdr *ip6 = *where;
	void *pos;
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return PERIM_PARSE_MALFORMED;
#ifdef PERIM_MATCH_DST
	pkt->addr[0] = ip6->daddr.in6_u.u6_addr32[0];
	pkt->addr[1] = ip6->daddr.in6_u.u6_addr32[1];
	pkt->addr[2] = ip6->daddr.in6_u.u6_addr32[2];
	pkt->addr[3] = ip6->daddr.in6_u.u6_addr32[3];
#else
	pkt->addr[0] = ip6->saddr.in6_u.u6_addr32[0];
	pkt->addr[1] = ip6->saddr.in6_u.u6_addr32[1];
	pkt->addr[2] = ip6->saddr.in6_u.u6_addr32[2];
	pkt->addr[3] = ip6->saddr.in6_u.u6_addr32[3];
#endif
	pkt->is_v6 = 1;
	pkt->l3 = ip6;
	nexthdr = ip6->nexthdr;
	pos = ip6 + 1;

#pragma unroll
	for (int i = 0; i < PERIM_MAX_IPV6_EXT_HDRS; i++) {
		struct ipv6_opt_hdr *opt = pos;

		if (!perim_ipv6_is_ext(nexthdr))
			break;
		if ((void *)(opt + 1) > data_end)
			return PERIM_PARSE_MALFORMED;
		if (nexthdr == PERIM_IPPROTO_FRAGMENT) {
			struct frag_hdr *frag = pos;

			if ((void *)(frag + 1) > data_end)
				return PERIM_PARSE_MALFORMED;
			if (frag->frag_off & bpf_htons(PERIM_IP6_FRAG_OFFSET_MASK)) {
				pkt->proto = frag->nexthdr;
				return PERIM_PARSE_IP;
			}
			nexthdr = frag->nexthdr;
			pos = frag + 1;
		} else if (nexthdr == IPPROTO_AH) {
			nexthdr = opt->nexthdr;
			pos += (opt->hdrlen + 2) * 4;
		} else {
			nexthdr = opt->nexthdr;
			pos += (opt->hdrlen + 1) * 8;
		}
	}
	/* An extension header that claims more bytes than the frame has is cut short. */
	if (perim_ipv6_is_ext(nexthdr) || pos > data_end)
		return PERIM_PARSE_MALFORMED;
	pkt->proto = nexthdr;
	*where = pos;
	return PERIM_PARSE_L4;
}

static __always_inline int perim_parse(void *data, void *data_end, struct perim_pkt *pkt)
{
	void *pos = data;
	int proto = perim_parse_eth(&pos, data_end), parsed;
	__u64 l4_off;

	if (proto == PERIM_ETH_P_IP)
		parsed = perim_parse_ipv4(&pos, data_end, pkt);
	else if (proto == PERIM_ETH_P_IPV6)
		parsed = perim_parse_ipv6(&pos, data_end, pkt);
	else
		/* A frame cut inside its Ethernet or VLAN header is not a frame. */
		return proto < 0 ? PERIM_PARSE_MALFORMED : PERIM_PARSE_NOT_IP;
	if (parsed != PERIM_PARSE_L4)
		return parsed;
	/*
	 * The L4 header once for every way here (VLAN tags, IPv4 options, IPv6
	 * extension headers): its offset, blurred (perim_blur), is one state
	 * where each way's pointer was its own. The mask only tells the
	 * verifier the bound the headers already keep to (PERIM_L4_OFF_MAX).
	 */
	l4_off = perim_blur(pos - data, data_end - data) & PERIM_L4_OFF_MAX;
	return perim_parse_l4(data + l4_off, data_end, pkt) ? PERIM_PARSE_IP : PERIM_PARSE_MALFORMED;
}

/*
 * The parsed fields (ports, protocol, flags, family) as values the verifier
 * does not know. Each way out of the parser leaves its own constants there
 * (TCP, has_ports 1, IPv6, ...), and every branch after the parser that one
 * decides marks it precise: the verifier then followed the prefix lookup,
 * the match and the rule once per way out (perim_xdp: 490k instructions
 * verified on 6.18, with the match's branches). Blurred, the ways out are one state. noise: see
 * perim_blur; 32 bits of it are enough.
 */
_Static_assert(__builtin_offsetof(struct perim_pkt, sport) == __builtin_offsetof(struct perim_pkt, dport) + 2 &&
	       __builtin_offsetof(struct perim_pkt, is_v6) == __builtin_offsetof(struct perim_pkt, proto) + 3,
	       "perim_pkt_blur's two words");

static __always_inline void perim_pkt_blur(struct perim_pkt *pkt, __u64 noise)
{
	__u32 ports, meta;

	__builtin_memcpy(&ports, &pkt->dport, sizeof(ports));
	__builtin_memcpy(&meta, &pkt->proto, sizeof(meta));
	ports = perim_blur(ports, noise);
	meta = perim_blur(meta, noise);
	__builtin_memcpy(&pkt->dport, &ports, sizeof(ports));
	__builtin_memcpy(&pkt->proto, &meta, sizeof(meta));
}

#endif /* PERIM_XDP_PARSE_H */
