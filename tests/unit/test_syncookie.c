// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP SYN-cookie stage (xdp/lib/syncookie.h) through BPF_PROG_TEST_RUN:
 * perim_xdp_syn answers a SYN with a SYN-ACK whose cookie the kernel's own
 * check then accepts in the client's ACK, drops a made-up ACK as bad-cookie,
 * handles VLAN tags and IPv6, leaves other ports alone. Skipped where the
 * kernel lacks the helpers (the probe perimd uses says why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "perim.h"
#include "perim_syn.h"
#include "syn/probe.h"
#include "xdp/perim_xdp.skel.h"

#define SLOT 5
#define PORT 8080
#define CLIENT_ISN 0x11223344u
#define CLIENT_TSVAL 0xa1b2c3d4u
#define MSS 1400
#define WSCALE 9
#define FRAME_MAX 256

struct pkt {
	uint8_t b[FRAME_MAX];
	size_t len;
};

/* What a test frame carries. */
struct seg {
	bool v6;
	int vlans;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	bool opts;                 /* MSS 1460, SACK-permitted, timestamps, window scale 7 */
	uint32_t tsval, tsecr;
};

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t server_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t tcp_csum(bool v6, const uint8_t *ip, const uint8_t *tcp, size_t tcp_len)
{
	uint32_t sum = v6 ? sum16(ip + 8, 32, 0) : sum16(ip + 12, 8, 0);

	sum += IPPROTO_TCP + (uint32_t)tcp_len;
	return fold(sum16(tcp, tcp_len, sum));
}

static void put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void put16(struct pkt *p, uint16_t v)
{
	v = htons(v);
	put(p, &v, 2);
}

static void put32(struct pkt *p, uint32_t v)
{
	v = htonl(v);
	put(p, &v, 4);
}

static size_t build(struct pkt *p, const struct seg *s)
{
	size_t l3, l4, tcp_len = s->opts ? 40 : 20;
	uint8_t a[16];

	memset(p, 0, sizeof(*p));
	put(p, server_mac, 6);
	put(p, client_mac, 6);
	for (int i = 0; i < s->vlans; i++) {
		put16(p, i == 0 && s->vlans > 1 ? 0x88a8 : 0x8100);
		put16(p, 100 + i);
	}
	put16(p, s->v6 ? 0x86dd : 0x0800);
	l3 = p->len;
	if (s->v6) {
		put32(p, 0x60000000);
		put16(p, tcp_len);
		p->b[p->len++] = IPPROTO_TCP;
		p->b[p->len++] = 64;
		inet_pton(AF_INET6, s->src, a);
		put(p, a, 16);
		inet_pton(AF_INET6, s->dst, a);
		put(p, a, 16);
	} else {
		p->b[p->len++] = 0x45;
		p->b[p->len++] = 0;
		put16(p, 20 + tcp_len);
		put32(p, 0x00004000);
		p->b[p->len++] = 64;
		p->b[p->len++] = IPPROTO_TCP;
		put16(p, 0);
		inet_pton(AF_INET, s->src, a);
		put(p, a, 4);
		inet_pton(AF_INET, s->dst, a);
		put(p, a, 4);
		uint16_t c = htons(fold(sum16(p->b + l3, 20, 0)));
		memcpy(p->b + l3 + 10, &c, 2);
	}
	l4 = p->len;
	put16(p, s->sport);
	put16(p, s->dport);
	put32(p, s->seq);
	put32(p, s->ack);
	p->b[p->len++] = (uint8_t)(tcp_len / 4) << 4;
	p->b[p->len++] = s->flags;
	put16(p, 64240);
	put16(p, 0);
	put16(p, 0);
	if (s->opts) {
		static const uint8_t head[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
		static const uint8_t tail[] = { 1, 3, 3, 7 };

		put(p, head, sizeof(head));
		put32(p, s->tsval);
		put32(p, s->tsecr);
		put(p, tail, sizeof(tail));
	}
	uint16_t c = htons(tcp_csum(s->v6, p->b + l3, p->b + l4, tcp_len));
	memcpy(p->b + l4 + 16, &c, 2);
	return l3;
}

static struct perim_xdp *load_syn(void)
{
	char why[256];
	struct perim_xdp *skel;
	struct bpf_map *map;
	int err;

	if (!perim_syn_probe(why, sizeof(why))) {
		TEST_SKIP("%s", why);
		return NULL;
	}
	skel = perim_xdp__open();
	if (!ASSERT_OK_PTR(skel, "perim_xdp__open"))
		return NULL;
	/* No pinning: the tests must never adopt or touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	skel->rodata->perim_slot = SLOT;
	bpf_program__set_autoload(skel->progs.perim_xdp, false);
	bpf_program__set_autoload(skel->progs.perim_xdp_syn, true);
	err = perim_xdp__load(skel);
	if (!ASSERT_OK(err, "perim_xdp__load (perim_xdp_syn)")) {
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Protect dst_prefix (text, e.g. "192.0.2.1/32") on dport lo..hi. */
static void protect(struct perim_xdp *skel, const char *prefix, uint16_t lo, uint16_t hi, uint8_t flags)
{
	struct perim_syn_table t = { .n = 1 };
	struct perim_syn_prot *p = &t.prot[0];
	uint32_t key = SLOT, mask[4] = { 0 };
	char buf[64];
	int len, bits;

	snprintf(buf, sizeof(buf), "%s", prefix);
	*strchr(buf, '/') = '\0';
	len = atoi(strchr(prefix, '/') + 1);
	if (inet_pton(AF_INET, buf, &p->addr[3]) == 1) {
		p->addr[2] = htonl(0xffff);
		len += 96;
	} else {
		inet_pton(AF_INET6, buf, p->addr);
	}
	for (int w = 0; w < 4; w++) {
		bits = len - 32 * w;
		mask[w] = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : htonl(~0u << (32 - bits));
		p->mask[w] = mask[w];
		p->addr[w] &= mask[w];
	}
	p->dport_lo = lo;
	p->dport_hi = hi;
	p->mss = MSS;
	p->wscale = WSCALE;
	p->flags = flags;
	ASSERT_OK(bpf_map__update_elem(skel->maps.perim_syn_table, &key, sizeof(key), &t, sizeof(t), 0),
		  "perim_syn_table update");
}

static int run(struct perim_xdp *skel, const struct pkt *in, struct pkt *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b, .data_size_in = (uint32_t)in->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.perim_xdp_syn), &opts);

	if (err) {
		fprintf(stderr, "  bpf_prog_test_run_opts: %s\n", strerror(errno));
		return -errno;
	}
	out->len = opts.data_size_out;
	return (int)opts.retval;
}

static struct perim_syn_counters syn_stats(struct perim_xdp *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct perim_syn_counters *rows = calloc(ncpu, sizeof(*rows)), sum = { 0 };
	uint32_t key = SLOT;

	if (!bpf_map__lookup_elem(skel->maps.perim_syn_stats, &key, sizeof(key), rows, ncpu * sizeof(*rows), 0))
		for (int i = 0; i < ncpu; i++) {
			sum.synack_sent += rows[i].synack_sent;
			sum.cookie_valid += rows[i].cookie_valid;
			sum.cookie_bad += rows[i].cookie_bad;
			sum.dry_run_syns += rows[i].dry_run_syns;
			sum.dry_run_bad += rows[i].dry_run_bad;
			sum.unhandled += rows[i].unhandled;
		}
	free(rows);
	return sum;
}

static uint64_t drops(struct perim_xdp *skel, int reason)
{
	int ncpu = libbpf_num_possible_cpus();
	struct perim_if_counters *rows = calloc(ncpu, sizeof(*rows));
	uint32_t key = SLOT;
	uint64_t n = 0;

	if (!bpf_map__lookup_elem(skel->maps.perim_if_stats, &key, sizeof(key), rows, ncpu * sizeof(*rows), 0))
		for (int i = 0; i < ncpu; i++)
			n += rows[i].dropped_packets[reason];
	free(rows);
	return n;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The SYN-ACK's fields a client reads. */
struct synack {
	uint32_t cookie, ack, tsval, tsecr;
	uint16_t mss;
	int wscale;                /* -1: absent */
	bool sack;
};

/* Checks the SYN-ACK in out against the SYN s (l3: where its IP header starts). */
static bool check_synack(const struct pkt *out, const struct seg *s, size_t l3, struct synack *sa, int mss)
{
	const uint8_t *ip = out->b + l3;
	size_t ip_len = s->v6 ? 40 : 20, l4 = l3 + ip_len, tcp_len;
	const uint8_t *tcp = out->b + l4;
	struct pkt syn;
	bool ok = true;

	build(&syn, s);
	ok &= ASSERT_TRUE(!memcmp(out->b, client_mac, 6) && !memcmp(out->b + 6, server_mac, 6), "MACs swapped");
	ok &= ASSERT_TRUE(!memcmp(out->b + 12, syn.b + 12, l3 - 12), "VLAN tags and EtherType kept");
	if (s->v6) {
		ok &= ASSERT_TRUE(!memcmp(ip + 8, syn.b + l3 + 24, 16) && !memcmp(ip + 24, syn.b + l3 + 8, 16),
				  "IPv6 addresses swapped");
	} else {
		ok &= ASSERT_TRUE(!memcmp(ip + 12, syn.b + l3 + 16, 4) && !memcmp(ip + 16, syn.b + l3 + 12, 4),
				  "IPv4 addresses swapped");
		ok &= ASSERT_EQ(fold(sum16(ip, 20, 0)), 0, "IPv4 header checksum");
		ok &= ASSERT_EQ(rd16(ip + 2), 20 + ((ip[20 + 12] >> 4) * 4), "IPv4 total length: the segment");
	}
	tcp_len = (tcp[12] >> 4) * 4;
	/* The SYN-ACK is written into the SYN's frame as it came (callers padding it check the length). */
	ok &= ASSERT_EQ(out->len, syn.len > out->len ? syn.len : out->len, "the frame not shrunk");
	ok &= ASSERT_TRUE(out->len >= l4 + tcp_len, "the segment inside the frame");
	for (size_t i = l4 + tcp_len; i < out->len; i++)
		ok &= ASSERT_EQ(out->b[i], 0, "padding past the segment zeroed");
	if (s->v6)
		ok &= ASSERT_EQ(rd16(ip + 4), tcp_len, "IPv6 payload length: the segment");
	ok &= ASSERT_EQ(tcp_csum(s->v6, ip, tcp, tcp_len), 0, "TCP checksum");
	ok &= ASSERT_EQ(rd16(tcp), s->dport, "source port");
	ok &= ASSERT_EQ(rd16(tcp + 2), s->sport, "destination port");
	ok &= ASSERT_EQ(tcp[13], 0x12, "flags SYN|ACK");
	sa->cookie = rd32(tcp + 4);
	sa->ack = rd32(tcp + 8);
	ok &= ASSERT_EQ(sa->ack, s->seq + 1, "acknowledges the SYN");
	sa->wscale = -1;
	sa->sack = false;
	sa->mss = 0;
	for (size_t i = 20; i < tcp_len;) {
		uint8_t kind = tcp[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (kind == 2)
			sa->mss = rd16(tcp + i + 2);
		else if (kind == 3)
			sa->wscale = tcp[i + 2];
		else if (kind == 4)
			sa->sack = true;
		else if (kind == 8) {
			sa->tsval = rd32(tcp + i + 2);
			sa->tsecr = rd32(tcp + i + 6);
		}
		i += tcp[i + 1];
	}
	ok &= ASSERT_EQ(sa->mss, mss, "MSS option: the protection's (0: none)");
	return ok;
}

static struct seg client_syn(bool v6, int vlans)
{
	struct seg s = {
		.v6 = v6, .vlans = vlans,
		.src = v6 ? "2001:db8::1" : "198.51.100.7", .dst = v6 ? "2001:db8:1::80" : "192.0.2.80",
		.sport = 40000, .dport = PORT, .flags = 0x02, .seq = CLIENT_ISN,
		.opts = true, .tsval = CLIENT_TSVAL,
	};
	return s;
}

/* The handshake: SYN answered with options as SYNPROXY decodes them, the ACK's cookie valid. */
static void handshake(bool v6, int vlans)
{
	struct perim_xdp *skel = load_syn();
	struct seg s = client_syn(v6, vlans);
	struct pkt in, out;
	struct synack sa;
	size_t l3;

	if (!skel)
		return;
	protect(skel, v6 ? "2001:db8:1::/64" : "192.0.2.0/24", PORT, PORT, 0);
	l3 = build(&in, &s);
	if (!ASSERT_EQ(run(skel, &in, &out), XDP_TX, "SYN answered with XDP_TX"))
		goto out;
	if (!check_synack(&out, &s, l3, &sa, MSS))
		goto out;
	ASSERT_EQ(out.len, in.len, "the SYN's frame, not resized");
	ASSERT_EQ(sa.tsecr, CLIENT_TSVAL, "timestamp echo: the client's tsval");
	ASSERT_EQ(sa.tsval & 0xf, 7, "tsval low bits: the client's window scale");
	ASSERT_TRUE(sa.tsval & 0x10, "tsval bit 4: SACK permitted");
	ASSERT_TRUE(sa.sack, "SACK-permitted option");
	ASSERT_EQ(sa.wscale, WSCALE, "window scale option: the protection's");
	ASSERT_EQ(syn_stats(skel).synack_sent, 1, "synack_sent");

	/* The client's ACK: the kernel's own cookie check must accept it. */
	s.flags = 0x10;
	s.seq = CLIENT_ISN + 1;
	s.ack = sa.cookie + 1;
	s.tsval = CLIENT_TSVAL + 1;
	s.tsecr = sa.tsval;
	build(&in, &s);
	ASSERT_EQ(run(skel, &in, &out), XDP_PASS, "ACK with the cookie passed");
	ASSERT_EQ(syn_stats(skel).cookie_valid, 1, "cookie_valid");
	ASSERT_EQ(drops(skel, PERIM_REASON_BAD_COOKIE), 0, "no bad-cookie drop");

	/*
	 * The same ACK with the cookie's middle bits changed: a forgery. (Its low
	 * bits are the MSS index, so cookie + 1 can be another valid cookie.)
	 */
	s.ack = (sa.cookie ^ 0x00555000) + 1;
	build(&in, &s);
	ASSERT_EQ(run(skel, &in, &out), XDP_DROP, "ACK with a wrong cookie dropped");
	ASSERT_EQ(syn_stats(skel).cookie_bad, 1, "cookie_bad");
	ASSERT_EQ(drops(skel, PERIM_REASON_BAD_COOKIE), 1, "bad-cookie drop counted per interface");
out:
	perim_xdp__destroy(skel);
}

static void test_syn_answered_cookie_accepted_ipv4(void)
{
	handshake(false, 0);
}
static void test_syn_answered_cookie_accepted_ipv6(void)
{
	handshake(true, 0);
}
static void test_syn_answered_cookie_accepted_vlan(void)
{
	handshake(false, 1);
}
static void test_syn_answered_cookie_accepted_qinq_ipv6(void)
{
	handshake(true, 2);
}

/* A SYN without options gets the MSS option only, and a frame that grew to hold it. */
static void test_syn_without_options(void)
{
	struct perim_xdp *skel = load_syn();
	struct seg s = client_syn(false, 0);
	struct pkt in, out;
	struct synack sa;
	size_t l3;

	if (!skel)
		return;
	protect(skel, "192.0.2.80/32", 0, 0, 0);
	s.opts = false;
	l3 = build(&in, &s);
	/* 54 bytes (a veth's frame) have no room for the MSS option: answered without options. */
	if (ASSERT_EQ(run(skel, &in, &out), XDP_TX, "bare SYN answered") && check_synack(&out, &s, l3, &sa, 0)) {
		ASSERT_EQ(out.len, in.len, "the SYN's frame");
		ASSERT_EQ(out.b[l3 + 20 + 12] >> 4, 5, "no options");
	}
	/* As a NIC delivers it, padded to Ethernet's 60 bytes: room for the MSS option. */
	in.len = 60;
	if (ASSERT_EQ(run(skel, &in, &out), XDP_TX, "padded SYN answered") &&
	    check_synack(&out, &s, l3, &sa, MSS)) {
		ASSERT_EQ(out.len, 60, "the SYN's frame");
		ASSERT_EQ(sa.wscale, -1, "no window scale without timestamps");
		ASSERT_TRUE(!sa.sack, "no SACK without timestamps");
	}
	ASSERT_EQ(syn_stats(skel).unhandled, 0, "none left to the stack");
	perim_xdp__destroy(skel);
}

static void test_bogus_ack_dropped(void)
{
	struct perim_xdp *skel = load_syn();
	struct seg s = client_syn(false, 0);
	struct pkt in, out;
	int dropped = 0;

	if (!skel)
		return;
	protect(skel, "192.0.2.0/24", PORT, PORT, 0);
	s.flags = 0x10;
	srand(19);
	for (int i = 0; i < 100; i++) {
		s.seq = (uint32_t)rand();
		s.ack = (uint32_t)rand();
		s.sport = (uint16_t)(1024 + i);
		build(&in, &s);
		dropped += run(skel, &in, &out) == XDP_DROP;
	}
	ASSERT_EQ(dropped, 100, "random cookies dropped");
	ASSERT_EQ(syn_stats(skel).cookie_bad, 100, "cookie_bad");
	ASSERT_EQ(drops(skel, PERIM_REASON_BAD_COOKIE), 100, "bad-cookie drops");
	perim_xdp__destroy(skel);
}

/* Another port, another destination, a SYN-ACK, an RST: untouched and not counted. */
static void test_unprotected_untouched(void)
{
	struct perim_xdp *skel = load_syn();
	struct seg cases[4];
	struct pkt in, out;

	if (!skel)
		return;
	protect(skel, "192.0.2.0/24", PORT, PORT + 10, 0);
	for (int i = 0; i < 4; i++)
		cases[i] = client_syn(false, 0);
	cases[0].dport = PORT + 11;
	cases[1].dst = "192.0.3.80";
	cases[2].flags = 0x12;
	cases[3].flags = 0x04;
	for (int i = 0; i < 4; i++) {
		build(&in, &cases[i]);
		ASSERT_EQ(run(skel, &in, &out), XDP_PASS, "passed");
		ASSERT_TRUE(out.len == in.len && !memcmp(out.b, in.b, in.len), "frame unchanged");
	}
	struct perim_syn_counters c = syn_stats(skel);
	ASSERT_EQ(c.synack_sent + c.cookie_valid + c.cookie_bad, 0, "nothing counted");
	perim_xdp__destroy(skel);
}

static void test_dry_run_passes(void)
{
	struct perim_xdp *skel = load_syn();
	struct seg s = client_syn(false, 0);
	struct pkt in, out;

	if (!skel)
		return;
	protect(skel, "192.0.2.0/24", PORT, PORT, PERIM_SYN_DRY_RUN);
	build(&in, &s);
	ASSERT_EQ(run(skel, &in, &out), XDP_PASS, "SYN passed");
	s.flags = 0x10;
	s.ack = 12345;
	build(&in, &s);
	ASSERT_EQ(run(skel, &in, &out), XDP_PASS, "bad cookie passed");
	struct perim_syn_counters c = syn_stats(skel);
	ASSERT_EQ(c.dry_run_syns, 1, "dry_run_syns");
	ASSERT_EQ(c.dry_run_bad, 1, "dry_run_bad");
	ASSERT_EQ(c.synack_sent + c.cookie_bad, 0, "nothing answered or dropped");
	perim_xdp__destroy(skel);
}

/*
 * An ACK with a valid cookie goes on through the rules: an aggregate rule of
 * burst 1 on the client's prefix passes the first and drops the second as
 * rate-pps, while the SYNs before it were answered whatever the rule says.
 */
static void test_rules_apply_after_cookie(void)
{
	struct perim_xdp *skel = load_syn();
	struct seg s = client_syn(false, 0);
	struct perim_candidate c = { .rule = 7, .proto = PERIM_PROTO_ANY };
	struct perim_rule rule = {
		.gen = 1, .flags = PERIM_RULE_ACTIVE, .pkt_interval_ns = 1000000000ULL,
	};
	struct perim_lpm_value v = { .n_cand = 1, .cand = { c } };
	struct perim_lpm4_key key = { .prefixlen = 24 };
	uint32_t id = 7;
	struct pkt in, out;
	struct synack sa;
	size_t l3;

	if (!skel)
		return;
	protect(skel, "192.0.2.0/24", PORT, PORT, 0);
	inet_pton(AF_INET, "198.51.100.0", key.addr);
	if (!ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm4, &key, sizeof(key), &v, sizeof(v), BPF_ANY),
		       "lpm update") ||
	    !ASSERT_OK(bpf_map__update_elem(skel->maps.perim_rules, &id, sizeof(id), &rule, sizeof(rule), BPF_ANY),
		       "rule update"))
		goto out;
	l3 = build(&in, &s);
	if (!ASSERT_EQ(run(skel, &in, &out), XDP_TX, "SYN answered before the rules") ||
	    !check_synack(&out, &s, l3, &sa, MSS))
		goto out;
	s.flags = 0x10;
	s.seq = CLIENT_ISN + 1;
	s.ack = sa.cookie + 1;
	s.tsecr = sa.tsval;
	build(&in, &s);
	ASSERT_EQ(run(skel, &in, &out), XDP_PASS, "first valid ACK within the rule's burst");
	ASSERT_EQ(run(skel, &in, &out), XDP_DROP, "second valid ACK over the rule's rate");
	ASSERT_EQ(drops(skel, PERIM_REASON_RATE_PPS), 1, "dropped as rate-pps");
	ASSERT_EQ(syn_stats(skel).cookie_valid, 2, "both cookies valid");
	ASSERT_EQ(drops(skel, PERIM_REASON_BAD_COOKIE), 0, "no bad-cookie drop");
out:
	perim_xdp__destroy(skel);
}
