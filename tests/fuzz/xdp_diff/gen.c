// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "gen.h"

void gen_seed(struct gen *g, uint64_t seed)
{
	g->state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

/* xorshift64*: fast, and enough for choosing bytes. */
uint32_t gen_u32(struct gen *g)
{
	g->state ^= g->state >> 12;
	g->state ^= g->state << 25;
	g->state ^= g->state >> 27;
	return (uint32_t)((g->state * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t below(struct gen *g, uint32_t n)
{
	return gen_u32(g) % n;
}

/* true with probability pct percent */
static int chance(struct gen *g, uint32_t pct)
{
	return below(g, 100) < pct;
}

/* Appends n bytes (random unless data); stops at the frame's end. */
static size_t put(struct gen_frame *f, const void *data, size_t n, struct gen *g)
{
	size_t at = f->len;

	if (n > GEN_FRAME_MAX - f->len)
		n = GEN_FRAME_MAX - f->len;
	for (size_t i = 0; i < n; i++)
		f->buf[at + i] = data ? ((const uint8_t *)data)[i] : (uint8_t)gen_u32(g);
	f->len += n;
	return at;
}

static void put16(struct gen_frame *f, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(f, b, 2, NULL);
}

/*
 * Sources: the test's deny and allow prefixes, IPv4-mapped, the sources
 * with a bucket already (10.88.0.1, 2001:db8:88::1, and ::ffff:10.88.0.1,
 * which has none: an IPv6 header's source is an IPv6 source), or anything.
 */
static void src4(struct gen *g, uint8_t a[4])
{
	static const uint8_t known[4] = { 10, 88, 0, 1 };

	switch (g->probe_known ? 2 : below(g, 5)) {
	case 0: a[0] = 10; a[1] = 66; break;
	case 1: a[0] = 10; a[1] = 77; break;
	case 2: memcpy(a, known, 4); return;
	default: a[0] = (uint8_t)gen_u32(g); a[1] = (uint8_t)gen_u32(g); break;
	}
	a[2] = (uint8_t)gen_u32(g);
	a[3] = (uint8_t)gen_u32(g);
}

static void src6(struct gen *g, uint8_t a[16])
{
	static const uint8_t deny[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x66 };
	static const uint8_t allow[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x77 };
	static const uint8_t known[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x88, [15] = 1 };
	static const uint8_t known_mapped[16] = { [10] = 0xff, [11] = 0xff, 10, 88, 0, 1 };

	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)gen_u32(g);

	switch (g->probe_known ? 3 + below(g, 2) : below(g, 6)) {
	case 0: memcpy(a, deny, 6); break;
	case 1: memcpy(a, allow, 6); break;
	case 2: memset(a, 0, 10); a[10] = a[11] = 0xff; break;   /* IPv4-mapped */
	case 3: memcpy(a, known, 16); break;
	case 4: memcpy(a, known_mapped, 16); break;
	default: break;
	}
}

static uint8_t l4_proto(struct gen *g)
{
	static const uint8_t common[] = { 6, 6, 6, 17, 17, 17, 1, 58, 47, 50, 59, 132, 0, 44 };

	if (g->probe_known)
		return 6;
	return chance(g, 90) ? common[below(g, sizeof(common))] : (uint8_t)gen_u32(g);
}

static uint16_t dport(struct gen *g)
{
	switch (g->probe_known ? 1 : below(g, 5)) {
	case 0: return 53;
	case 1: return 1000 + below(g, 1001);
	case 2: return chance(g, 50) ? 999 : 2001;
	default: return (uint16_t)gen_u32(g);
	}
}

static void put_l4(struct gen *g, struct gen_frame *f, uint8_t proto)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18, 0x01, 0x04, 0x03, 0x00, 0xff };

	switch (proto) {
	case 6: {
		unsigned doff = chance(g, 70) ? 5 : chance(g, 80) ? 5 + below(g, 11) : below(g, 5);
		size_t at;

		put16(f, (uint16_t)gen_u32(g));
		put16(f, dport(g));
		put(f, NULL, 8, g);
		at = put(f, NULL, 2, g);
		if (at + 1 < f->len) {
			f->buf[at] = (uint8_t)(doff << 4 | (f->buf[at] & 0x0f));
			f->buf[at + 1] = chance(g, 85) ? flags[below(g, sizeof(flags))] : f->buf[at + 1];
		}
		put(f, NULL, 6, g);
		if (doff > 5)
			put(f, NULL, (doff - 5) * 4, g);
		break;
	}
	case 17:
		put16(f, (uint16_t)gen_u32(g));
		put16(f, dport(g));
		put(f, NULL, 4, g);
		break;
	case 1:
	case 58:
		put(f, NULL, 8, g);
		break;
	default:
		put(f, NULL, below(g, 12), g);
		break;
	}
}

static void put_ipv4(struct gen *g, struct gen_frame *f)
{
	unsigned ihl = chance(g, 60) ? 5 : 5 + below(g, 11);
	uint8_t proto = l4_proto(g), a[4];
	size_t at = f->len;
	uint16_t frag = 0;

	if (chance(g, 3))
		ihl = below(g, 5);   /* below the minimum */
	switch (below(g, 6)) {
	case 0: frag = 0x2000; break;                              /* first fragment */
	case 1: frag = (uint16_t)(0x2000 * below(g, 2) | (1 + below(g, 0x1fff))); break;
	case 2: frag = 0x4000; break;                              /* DF */
	case 3: frag = (uint16_t)(chance(g, 50) ? 0x8000 : gen_u32(g)); break;
	default: break;
	}
	put(f, (uint8_t[]){ (uint8_t)((chance(g, 97) ? 4 : below(g, 16)) << 4 | ihl), (uint8_t)gen_u32(g) }, 2, NULL);
	put16(f, 0);                                               /* total length, below */
	put16(f, (uint16_t)gen_u32(g));
	put16(f, frag);
	put(f, (uint8_t[]){ 64, proto, 0, 0 }, 4, NULL);
	src4(g, a);
	put(f, a, 4, NULL);
	put(f, NULL, 4, g);
	if (ihl > 5)
		put(f, NULL, (ihl - 5) * 4, g);
	if (!(frag & 0x1fff))
		put_l4(g, f, proto);
	f->headers = f->len;
	put(f, NULL, below(g, 4) ? below(g, 32) : below(g, 600), g);
	/* The total length: right, or bogus (short, zero, huge). */
	if (at + 4 <= f->len) {
		uint16_t tot = (uint16_t)(f->len - at);

		switch (below(g, 8)) {
		case 0: tot = (uint16_t)below(g, 20 + 4 * ihl); break;
		case 1: tot = (uint16_t)gen_u32(g); break;
		case 2: tot = 0xffff; break;
		default: break;
		}
		f->buf[at + 2] = tot >> 8;
		f->buf[at + 3] = tot & 0xff;
	}
}

static uint8_t ext_kind(struct gen *g)
{
	static const uint8_t kinds[] = { 0, 43, 44, 51, 60 };

	return kinds[below(g, sizeof(kinds))];
}

/* One extension header of type `kind` whose next header is `next`. */
static void put_ext(struct gen *g, struct gen_frame *f, uint8_t kind, uint8_t next)
{
	unsigned hdrlen = chance(g, 80) ? below(g, 3) : chance(g, 70) ? below(g, 32) : below(g, 256);

	if (kind == 44) {
		uint16_t off = chance(g, 60) ? (uint16_t)(chance(g, 50) ? 1 : 0) : (uint16_t)gen_u32(g);

		put(f, (uint8_t[]){ next, 0 }, 2, NULL);
		put16(f, off);
		put(f, NULL, 4, g);
		return;
	}
	put(f, (uint8_t[]){ next, (uint8_t)hdrlen }, 2, NULL);
	put(f, NULL, (kind == 51 ? (hdrlen + 2) * 4 : (hdrlen + 1) * 8) - 2, g);
}

static void put_ipv6(struct gen *g, struct gen_frame *f)
{
	unsigned n_ext = chance(g, 40) ? 0 : below(g, 9);
	uint8_t kinds[8], proto = l4_proto(g), a[16];
	size_t at = f->len;

	for (unsigned i = 0; i < n_ext; i++)
		kinds[i] = ext_kind(g);
	put(f, (uint8_t[]){ (uint8_t)((chance(g, 97) ? 6 : below(g, 16)) << 4), 0, 0, 0 }, 4, NULL);
	put16(f, 0);                                               /* payload length, below */
	put(f, (uint8_t[]){ n_ext ? kinds[0] : proto, 64 }, 2, NULL);
	src6(g, a);
	put(f, a, 16, NULL);
	put(f, NULL, 16, g);
	for (unsigned i = 0; i < n_ext; i++)
		put_ext(g, f, kinds[i], i + 1 < n_ext ? kinds[i + 1] : proto);
	put_l4(g, f, proto);
	f->headers = f->len;
	put(f, NULL, below(g, 4) ? below(g, 32) : below(g, 600), g);
	if (at + 6 <= f->len) {
		uint16_t plen = chance(g, 75) ? (uint16_t)(f->len - at - 40) : (uint16_t)gen_u32(g);

		f->buf[at + 4] = plen >> 8;
		f->buf[at + 5] = plen & 0xff;
	}
}

void gen_frame(struct gen *g, struct gen_frame *f)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	static const uint16_t others[] = { 0x0806, 0x0000, 0x05dc, 0x0600, 0x88cc, 0x8847, 0xffff };
	unsigned vlans = chance(g, 50) ? 0 : 1 + below(g, 3), kind = below(g, 100);
	uint16_t type = kind < 45 ? 0x0800 : kind < 90 ? 0x86dd :
			chance(g, 70) ? others[below(g, sizeof(others) / 2)] : (uint16_t)gen_u32(g);

	/* Rule 4's per-source buckets are exact addresses: aimed at, not waited for. */
	g->probe_known = (type == 0x0800 || type == 0x86dd) && chance(g, 5);
	f->len = 0;
	put(f, NULL, 12, g);                                       /* MAC addresses */
	for (unsigned i = 0; i < vlans; i++) {
		put16(f, tpids[chance(g, 90) ? below(g, 2) : 2]);
		put16(f, (uint16_t)gen_u32(g));                    /* TCI */
	}
	put16(f, type);
	if (type == 0x0800)
		put_ipv4(g, f);
	else if (type == 0x86dd)
		put_ipv6(g, f);
	else
		put(f, NULL, below(g, 64), g);
	if (type != 0x0800 && type != 0x86dd)
		f->headers = f->len;
}

void gen_mutate(struct gen *g, struct gen_frame *f)
{
	size_t span = f->headers > 0 ? f->headers : f->len;
	unsigned flips = 1 + below(g, 4);

	if (!span)
		return;
	for (unsigned i = 0; i < flips; i++) {
		size_t at = below(g, (uint32_t)span);

		switch (below(g, 4)) {
		case 0: f->buf[at] ^= (uint8_t)(1u << below(g, 8)); break;
		case 1: f->buf[at] = (uint8_t)gen_u32(g); break;
		case 2: f->buf[at] = 0xff; break;
		default: f->buf[at] = 0; break;
		}
	}
	if (chance(g, 20))
		f->len = below(g, (uint32_t)f->len + 1);
}
