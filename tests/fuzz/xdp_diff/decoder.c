// SPDX-License-Identifier: GPL-2.0
/*
 * The contract, per header (every header the parser reads or skips must lie
 * wholly inside the frame; a header that does not is malformed):
 *   Ethernet: 14 bytes. Up to two VLAN tags (TPID 0x8100 or 0x88a8, 4 bytes
 *     each); a third tag is malformed. Any EtherType other than IPv4 and
 *     IPv6 after the tags is not IP (0x0000 and 802.3 length values too).
 *   IPv4: 20 bytes, version 4, IHL >= 5, IHL*4 bytes present, total length
 *     >= IHL*4 (a total length beyond the frame is not checked: only the
 *     headers are). A fragment with a non-zero offset is IP without ports.
 *   IPv6: 40 bytes, version 6. Extension headers hop-by-hop, routing,
 *     destination options ((len+1)*8 bytes), AH ((len+2)*4 bytes), fragment
 *     (8 bytes): at most PERIM_MAX_IPV6_EXT_HDRS, one more is malformed. A
 *     fragment header with a non-zero offset ends the parse: IP, its next
 *     header as the protocol, no ports.
 *   L4 (first fragments and unfragmented packets): TCP 20 bytes and its data
 *     offset >= 5, the whole data offset present; UDP 8 bytes; ICMP (1) and
 *     ICMPv6 (58) 8 bytes; any other protocol has nothing to check.
 */
#include <string.h>

#include "decoder.h"
#include "perim.h"

#define ETH_LEN 14
#define VLAN_LEN 4
#define MAX_VLANS 2

struct cursor {
	const uint8_t *p;
	size_t len;
};

static bool has(const struct cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void malformed(struct decoded *d, const char *why)
{
	d->kind = DECODED_MALFORMED;
	d->why = why;
}

static void decode_l4(const struct cursor *c, size_t off, struct decoded *d)
{
	d->kind = DECODED_IP;
	switch (d->proto) {
	case 6:
		if (!has(c, off, 20))
			return malformed(d, "tcp header cut");
		if ((c->p[off + 12] >> 4) < 5)
			return malformed(d, "tcp data offset < 5");
		if (!has(c, off, (c->p[off + 12] >> 4) * 4u))
			return malformed(d, "tcp options cut");
		d->dport = be16(c->p + off + 2);
		d->tcp_flags = c->p[off + 13];
		d->has_ports = true;
		return;
	case 17:
		if (!has(c, off, 8))
			return malformed(d, "udp header cut");
		d->dport = be16(c->p + off + 2);
		d->has_ports = true;
		return;
	case 1:
	case 58:
		if (!has(c, off, 8))
			return malformed(d, "icmp header cut");
		return;
	default:
		return;
	}
}

static void decode_ipv4(const struct cursor *c, size_t off, struct decoded *d)
{
	const uint8_t *ip = c->p + off;
	size_t ihl;

	if (!has(c, off, 20))
		return malformed(d, "ipv4 header cut");
	ihl = (ip[0] & 0x0f) * 4u;
	if (ip[0] >> 4 != 4)
		return malformed(d, "ipv4 version");
	if (ihl < 20)
		return malformed(d, "ipv4 ihl < 5");
	if (!has(c, off, ihl))
		return malformed(d, "ipv4 options cut");
	if (be16(ip + 2) < ihl)
		return malformed(d, "ipv4 total length < header");
	d->src[10] = 0xff;
	d->src[11] = 0xff;
	memcpy(d->src + 12, ip + 12, 4);
	d->proto = ip[9];
	if (be16(ip + 6) & 0x1fff) {
		d->kind = DECODED_IP;   /* a later fragment: payload, no L4 header */
		return;
	}
	decode_l4(c, off + ihl, d);
}

static bool is_ipv6_ext(uint8_t next)
{
	return next == 0 || next == 43 || next == 44 || next == 51 || next == 60;
}

static void decode_ipv6(const struct cursor *c, size_t off, struct decoded *d)
{
	uint8_t next;

	if (!has(c, off, 40))
		return malformed(d, "ipv6 header cut");
	if (c->p[off] >> 4 != 6)
		return malformed(d, "ipv6 version");
	d->v6 = true;
	memcpy(d->src, c->p + off + 8, 16);
	next = c->p[off + 6];
	off += 40;
	for (int n = 0; is_ipv6_ext(next); n++) {
		size_t len;

		if (n == PERIM_MAX_IPV6_EXT_HDRS)
			return malformed(d, "too many ipv6 extension headers");
		if (next == 44) {
			if (!has(c, off, 8))
				return malformed(d, "ipv6 fragment header cut");
			if (be16(c->p + off + 2) & 0xfff8) {
				d->kind = DECODED_IP;
				d->proto = c->p[off];
				return;
			}
			len = 8;
		} else {
			if (!has(c, off, 2))
				return malformed(d, "ipv6 extension header cut");
			len = next == 51 ? (c->p[off + 1] + 2u) * 4 : (c->p[off + 1] + 1u) * 8;
			if (!has(c, off, len))
				return malformed(d, "ipv6 extension header longer than the frame");
		}
		next = c->p[off];
		off += len;
	}
	d->proto = next;
	decode_l4(c, off, d);
}

void decode_frame(const uint8_t *frame, size_t len, struct decoded *d)
{
	struct cursor c = { frame, len };
	size_t off = ETH_LEN;
	uint16_t type;

	memset(d, 0, sizeof(*d));
	if (!has(&c, 0, ETH_LEN))
		return malformed(d, "ethernet header cut");
	type = be16(frame + 12);
	for (int tags = 0; type == 0x8100 || type == 0x88a8; tags++) {
		if (tags == MAX_VLANS)
			return malformed(d, "more than two vlan tags");
		if (!has(&c, off, VLAN_LEN))
			return malformed(d, "vlan tag cut");
		type = be16(frame + off + 2);
		off += VLAN_LEN;
	}
	if (type == 0x0800)
		return decode_ipv4(&c, off, d);
	if (type == 0x86dd)
		return decode_ipv6(&c, off, d);
	d->kind = DECODED_NOT_IP;
	d->why = "not ip";
}
