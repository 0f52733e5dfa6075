/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand-built frames for BPF_PROG_TEST_RUN: Ethernet, optional VLAN tags,
 * IPv4 (options, fragments) or IPv6 (extension headers), then TCP, UDP,
 * ICMP or ICMPv6. Checksums are left zero: the datapath never checks them.
 */
#ifndef PERIM_XDP_FRAMES_H
#define PERIM_XDP_FRAMES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 512

enum frame_frag {
	FRAG_NONE = 0,
	FRAG_FIRST,          /* offset 0, more fragments */
	FRAG_LATER,          /* offset > 0: no L4 header follows */
};

struct frame_spec {
	int family;              /* 4 or 6 */
	const char *src;         /* source address */
	uint8_t proto;           /* IPPROTO_TCP/UDP/ICMP/ICMPV6/... */
	uint16_t dport;
	uint8_t tcp_flags;       /* default SYN */
	int vlans;               /* 0..3 tags (alternating 802.1ad, 802.1Q) */
	int ipv4_opt_words;      /* 4-byte option words after the IPv4 header */
	int ipv6_ext_hdrs;       /* destination-options headers before L4 */
	enum frame_frag frag;
	uint16_t ethertype;      /* override (0: from family) */
	int ip_version;          /* override the version nibble (0: from family) */
	int ihl;                 /* override IPv4 ihl (0: computed) */
	size_t payload;          /* bytes after L4 */
};

struct frame {
	uint8_t buf[FRAME_MAX];
	size_t len;
};

static inline void frame_put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

static inline void frame_put_u16(struct frame *f, uint16_t v)
{
	v = htons(v);
	frame_put(f, &v, 2);
}

static inline void frame_put_zero(struct frame *f, size_t n)
{
	memset(f->buf + f->len, 0, n);
	f->len += n;
}

static inline void frame_put_l4(struct frame *f, const struct frame_spec *s)
{
	uint8_t hdr[20] = { 0 };

	switch (s->proto) {
	case IPPROTO_TCP:
		hdr[0] = 0x30; hdr[1] = 0x39;                /* sport 12345 */
		hdr[2] = s->dport >> 8; hdr[3] = s->dport & 0xff;
		hdr[12] = 5 << 4;                             /* doff */
		hdr[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		frame_put(f, hdr, 20);
		break;
	case IPPROTO_UDP:
		hdr[0] = 0x30; hdr[1] = 0x39;
		hdr[2] = s->dport >> 8; hdr[3] = s->dport & 0xff;
		hdr[4] = 0; hdr[5] = (uint8_t)(8 + s->payload);
		frame_put(f, hdr, 8);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hdr[0] = s->proto == IPPROTO_ICMP ? 8 : 128;  /* echo request */
		frame_put(f, hdr, 8);
		break;
	default:
		break;
	}
}

static inline size_t frame_l4_len(const struct frame_spec *s)
{
	switch (s->proto) {
	case IPPROTO_TCP: return 20;
	case IPPROTO_UDP: case IPPROTO_ICMP: case IPPROTO_ICMPV6: return 8;
	default: return 0;
	}
}

static inline void frame_put_ipv4(struct frame *f, const struct frame_spec *s)
{
	uint8_t hdr[20] = { 0 };
	int ihl = s->ihl ? s->ihl : 5 + s->ipv4_opt_words;
	size_t l4 = s->frag == FRAG_LATER ? 0 : frame_l4_len(s);
	uint16_t tot = (uint16_t)(4 * (5 + s->ipv4_opt_words) + l4 + s->payload);
	struct in_addr a;

	hdr[0] = (uint8_t)((s->ip_version ? s->ip_version : 4) << 4 | (ihl & 0xf));
	hdr[2] = tot >> 8; hdr[3] = tot & 0xff;
	if (s->frag == FRAG_FIRST)
		hdr[6] = 0x20;                                /* MF, offset 0 */
	else if (s->frag == FRAG_LATER)
		hdr[7] = 0xb9;                                /* offset 185 * 8 */
	hdr[8] = 64;
	hdr[9] = s->proto;
	inet_pton(AF_INET, s->src, &a);
	memcpy(hdr + 12, &a, 4);
	hdr[16] = 192; hdr[17] = 0; hdr[18] = 2; hdr[19] = 1;
	frame_put(f, hdr, 20);
	for (int i = 0; i < s->ipv4_opt_words; i++)
		frame_put(f, "\x01\x01\x01\x01", 4);          /* NOP options */
	if (s->frag != FRAG_LATER)
		frame_put_l4(f, s);
}

static inline void frame_put_ipv6(struct frame *f, const struct frame_spec *s)
{
	uint8_t hdr[40] = { 0 };
	uint8_t l4_proto = s->proto;
	size_t l4 = s->frag == FRAG_LATER ? 0 : frame_l4_len(s);
	uint16_t plen = (uint16_t)(8 * s->ipv6_ext_hdrs + (s->frag ? 8 : 0) + l4 + s->payload);

	hdr[0] = (uint8_t)((s->ip_version ? s->ip_version : 6) << 4);
	hdr[4] = plen >> 8; hdr[5] = plen & 0xff;
	hdr[6] = s->ipv6_ext_hdrs ? 60 : (s->frag ? 44 : l4_proto);
	hdr[7] = 64;
	inet_pton(AF_INET6, s->src, hdr + 8);
	inet_pton(AF_INET6, "2001:db8::1", hdr + 24);
	frame_put(f, hdr, 40);
	for (int i = 0; i < s->ipv6_ext_hdrs; i++) {
		uint8_t opt[8] = { 0 };
		bool last = i == s->ipv6_ext_hdrs - 1;

		opt[0] = !last ? 60 : (s->frag ? 44 : l4_proto);
		opt[2] = 1; opt[3] = 4;                       /* PadN filling the header */
		frame_put(f, opt, 8);
	}
	if (s->frag) {
		uint8_t fh[8] = { l4_proto, 0, 0, 0, 0, 0, 0, 42 };

		if (s->frag == FRAG_FIRST)
			fh[3] = 0x01;                         /* M flag, offset 0 */
		else
			fh[2] = 0x05, fh[3] = 0xc8;           /* offset 185 */
		frame_put(f, fh, 8);
	}
	if (s->frag != FRAG_LATER)
		frame_put_l4(f, s);
}

static inline void frame_build(struct frame *f, const struct frame_spec *s)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint16_t ethertype = s->ethertype ? s->ethertype : (s->family == 6 ? 0x86dd : 0x0800);

	f->len = 0;
	frame_put(f, macs, 12);
	for (int i = 0; i < s->vlans; i++) {
		frame_put_u16(f, i == 0 && s->vlans > 1 ? 0x88a8 : 0x8100);
		frame_put_u16(f, (uint16_t)(100 + i));
	}
	frame_put_u16(f, ethertype);
	if (ethertype == 0x0800)
		frame_put_ipv4(f, s);
	else if (ethertype == 0x86dd)
		frame_put_ipv6(f, s);
	frame_put_zero(f, s->payload);
}

#endif /* PERIM_XDP_FRAMES_H */
