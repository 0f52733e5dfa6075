// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: load perim_xdp (no pinning, its own maps), fill the
 * maps by hand, run crafted frames through BPF_PROG_TEST_RUN and assert the
 * verdict and the counters.
 *
 * Time: a test run with repeat=N takes microseconds while the buckets here
 * refill at 1 packet/s, so "burst B" admits exactly B of N back-to-back runs.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "test.h"
#include "perim.h"
#include "xdp/perim_xdp.skel.h"
#include "xdp_frames.h"

PERIM_TEST_GLOBALS;

#define SLOT 3
#define SEC_NS 1000000000ULL
#define RULE 7

static struct perim_xdp *load_prog(bool compat)
{
	struct perim_xdp *skel;
	struct bpf_map *map;
	int err;

	skel = perim_xdp__open();
	if (!ASSERT_OK_PTR(skel, "perim_xdp__open"))
		return NULL;
	/* No pinning: the tests must never adopt or touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	skel->rodata->perim_slot = SLOT;
	bpf_program__set_autoload(skel->progs.perim_xdp, !compat);
	bpf_program__set_autoload(skel->progs.perim_xdp_compat, compat);
	err = perim_xdp__load(skel);
	if (!ASSERT_OK(err, "perim_xdp__load")) {
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

static int prog_fd(struct perim_xdp *skel)
{
	int fd = bpf_program__fd(skel->progs.perim_xdp);

	return fd >= 0 ? fd : bpf_program__fd(skel->progs.perim_xdp_compat);
}

/* Runs the frame `repeat` times; returns the verdict of the last run or -errno. */
static int run_frame(struct perim_xdp *skel, const struct frame *f, int repeat)
{
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd(skel), &opts);

	if (err) {
		fprintf(stderr, "  bpf_prog_test_run_opts: %s\n", strerror(errno));
		return -errno;
	}
	return (int)opts.retval;
}

static int run_spec(struct perim_xdp *skel, const struct frame_spec *s, int repeat)
{
	struct frame f;

	frame_build(&f, s);
	return run_frame(skel, &f, repeat);
}

/* ---- map helpers ---- */

/* An IPv4 or IPv6 prefix as the key of the family's trie. */
struct test_lpm_key {
	bool v6;
	union {
		struct perim_lpm4_key k4;
		struct perim_lpm6_key k6;
	};
};

static bool parse_prefix(const char *text, struct test_lpm_key *key)
{
	char buf[64];
	char *slash;
	int len;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	len = atoi(slash + 1);
	memset(key, 0, sizeof(*key));
	if (inet_pton(AF_INET, buf, key->k4.addr) == 1) {
		key->k4.prefixlen = len;
		return true;
	}
	key->v6 = true;
	key->k6.prefixlen = len;
	return inet_pton(AF_INET6, buf, key->k6.addr) == 1;
}

static int lpm_update(struct perim_xdp *skel, const struct test_lpm_key *key, const struct perim_lpm_value *v)
{
	if (key->v6)
		return bpf_map__update_elem(skel->maps.perim_lpm6, &key->k6, sizeof(key->k6), v, sizeof(*v), BPF_ANY);
	return bpf_map__update_elem(skel->maps.perim_lpm4, &key->k4, sizeof(key->k4), v, sizeof(*v), BPF_ANY);
}

static bool lpm_add(struct perim_xdp *skel, const char *prefix, uint8_t acl,
		    const struct perim_candidate *cand, int n)
{
	struct perim_lpm_value v = { .acl = acl, .n_cand = (uint8_t)n };
	struct test_lpm_key key;

	if (!ASSERT_TRUE(parse_prefix(prefix, &key), prefix))
		return false;
	memcpy(v.cand, cand, sizeof(*cand) * n);
	return ASSERT_OK(lpm_update(skel, &key, &v), "lpm update");
}

static struct perim_candidate cand(uint16_t rule, uint8_t proto, uint16_t lo, uint16_t hi, uint8_t flags)
{
	return (struct perim_candidate){ .rule = rule, .proto = proto, .flags = flags,
					 .dport_lo = lo, .dport_hi = hi };
}

/* A rule admitting `burst` packets, then 1 packet/s. */
static struct perim_rule rule_burst(unsigned burst, uint32_t flags)
{
	return (struct perim_rule){
		.gen = 1,
		.flags = PERIM_RULE_ACTIVE | flags,
		.pkt_interval_ns = SEC_NS,
		.pkt_tolerance_ns = (burst - 1) * SEC_NS,
	};
}

static bool rule_set(struct perim_xdp *skel, uint32_t id, const struct perim_rule *r)
{
	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_rules, &id, sizeof(id),
					      r, sizeof(*r), BPF_ANY), "rule update");
}

/* One prefix, one rule matching any packet of it. */
static bool simple_rule(struct perim_xdp *skel, const char *prefix, const struct perim_rule *r)
{
	struct perim_candidate c = cand(RULE, PERIM_PROTO_ANY, 0, 0, 0);

	return lpm_add(skel, prefix, PERIM_ACL_NONE, &c, 1) && rule_set(skel, RULE, r);
}

static struct perim_if_counters if_stats(struct perim_xdp *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct perim_if_counters sum = { 0 }, *per = calloc(ncpu, sizeof(*per));
	uint32_t key = SLOT;

	if (!per || bpf_map__lookup_elem(skel->maps.perim_if_stats, &key, sizeof(key),
					 per, sizeof(*per) * ncpu, 0)) {
		fprintf(stderr, "  if_stats lookup: %s\n", strerror(errno));
		perim_test_failed = 1;
		free(per);
		return sum;
	}
	for (int c = 0; c < ncpu; c++) {
		uint64_t *d = (uint64_t *)&sum, *s = (uint64_t *)&per[c];

		for (size_t i = 0; i < sizeof(sum) / 8; i++)
			d[i] += s[i];
	}
	free(per);
	return sum;
}

static struct perim_rule_counters rule_stats(struct perim_xdp *skel, uint32_t rule)
{
	int ncpu = libbpf_num_possible_cpus();
	struct perim_rule_counters sum = { 0 }, *per = calloc(ncpu, sizeof(*per));

	if (!per || bpf_map__lookup_elem(skel->maps.perim_rule_stats, &rule, sizeof(rule),
					 per, sizeof(*per) * ncpu, 0)) {
		fprintf(stderr, "  rule_stats lookup: %s\n", strerror(errno));
		perim_test_failed = 1;
		free(per);
		return sum;
	}
	for (int c = 0; c < ncpu; c++) {
		uint64_t *d = (uint64_t *)&sum, *s = (uint64_t *)&per[c];

		for (size_t i = 0; i < sizeof(sum) / 8; i++)
			d[i] += s[i];
	}
	free(per);
	return sum;
}

static int src_entries(struct perim_xdp *skel)
{
	struct perim_src_key key, next;
	int n = 0, fd = bpf_map__fd(skel->maps.perim_src);
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

#define V4(addr, pr, port) (struct frame_spec){ .family = 4, .src = (addr), .proto = (pr), .dport = (port) }
#define V6(addr, pr, port) (struct frame_spec){ .family = 6, .src = (addr), .proto = (pr), .dport = (port) }

/*
 * Parse-path check: a rule with burst 1 on the frame's source, run twice.
 * When the rule matched, the second run is dropped for rate.
 */
static void expect_limited(const struct frame_spec *s, const char *prefix, struct perim_candidate c,
			   bool want_match)
{
	struct perim_rule r = rule_burst(1, PERIM_RULE_PER_SOURCE);
	struct perim_xdp *skel = load_prog(false);
	struct perim_rule_counters rc;
	int ret;

	if (!skel)
		return;
	if (!lpm_add(skel, prefix, PERIM_ACL_NONE, &c, 1) || !rule_set(skel, c.rule, &r))
		goto out;
	ret = run_spec(skel, s, 2);
	ASSERT_EQ(ret, want_match ? XDP_DROP : XDP_PASS, "verdict of the second run");
	rc = rule_stats(skel, c.rule);
	ASSERT_EQ(rc.matched_packets, want_match ? 2 : 0, "rule matched");
	ASSERT_EQ(rc.dropped_packets, want_match ? 1 : 0, "rule dropped");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], want_match ? 1 : 0, "rate drops");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_MALFORMED], 0, "no malformed");
out:
	perim_xdp__destroy(skel);
}

static void expect_malformed_frame(const struct frame *f)
{
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	ASSERT_EQ(run_frame(skel, f, 1), XDP_DROP, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.rx_packets, 1, "rx");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_MALFORMED], 1, "malformed drops");
	ASSERT_EQ(ic.dropped_bytes[PERIM_REASON_MALFORMED], f->len, "malformed bytes");
	perim_xdp__destroy(skel);
}

/* Builds the spec, then cuts the frame to `len` bytes. */
static void expect_malformed(const struct frame_spec *s, size_t cut_to)
{
	struct frame f;

	frame_build(&f, s);
	if (cut_to)
		f.len = cut_to;
	expect_malformed_frame(&f);
}

#define UDP_ANY cand(RULE, PERIM_PROTO_ANY, 0, 0, 0)
#define UDP_53 cand(RULE, IPPROTO_UDP, 53, 53, 0)
#define TCP_80 cand(RULE, IPPROTO_TCP, 80, 80, 0)

/* ---- parse paths ---- */

static void test_parse_ipv4_udp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	expect_limited(&s, "10.0.0.0/8", UDP_53, true);
}

static void test_parse_ipv4_tcp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 80);

	expect_limited(&s, "10.1.2.3/32", TCP_80, true);
}

static void test_parse_ipv4_icmp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_ICMP, 0);

	expect_limited(&s, "10.1.2.0/24", cand(RULE, IPPROTO_ICMP, 0, 0, 0), true);
}

static void test_parse_ipv6_icmpv6_matches_icmp_rule(void)
{
	struct frame_spec s = V6("2001:db8:1::5", IPPROTO_ICMPV6, 0);

	expect_limited(&s, "2001:db8:1::/48", cand(RULE, IPPROTO_ICMP, 0, 0, 0), true);
}

static void test_parse_ipv6_tcp(void)
{
	struct frame_spec s = V6("2001:db8:1::5", IPPROTO_TCP, 80);

	expect_limited(&s, "2001:db8::/32", TCP_80, true);
}

static void test_parse_ipv6_udp(void)
{
	struct frame_spec s = V6("2001:db8:1::5", IPPROTO_UDP, 53);

	expect_limited(&s, "2001:db8:1::5/128", UDP_53, true);
}

static void test_parse_vlan_one_tag(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.vlans = 1;
	expect_limited(&s, "10.0.0.0/8", UDP_53, true);
}

static void test_parse_vlan_two_tags(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.vlans = 2;
	expect_limited(&s, "2001:db8::/32", UDP_53, true);
}

static void test_parse_vlan_three_tags_malformed(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.vlans = 3;
	expect_malformed(&s, 0);
}

static void test_parse_ipv4_options(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 80);

	s.ipv4_opt_words = 10;          /* ihl 15, the maximum */
	expect_limited(&s, "10.0.0.0/8", TCP_80, true);
}

static void test_parse_ipv4_first_fragment_has_ports(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.frag = FRAG_FIRST;
	expect_limited(&s, "10.0.0.0/8", UDP_53, true);
}

static void test_parse_ipv4_later_fragment_no_port_match(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.frag = FRAG_LATER;
	s.payload = 40;
	expect_limited(&s, "10.0.0.0/8", UDP_53, false);
}

static void test_parse_ipv4_later_fragment_proto_rule_matches(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.frag = FRAG_LATER;
	s.payload = 40;
	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_UDP, 0, 0, 0), true);
}

static void test_parse_ipv4_later_fragment_no_syn_match(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 80);

	s.frag = FRAG_LATER;
	s.payload = 40;
	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 0, 0, PERIM_CAND_SYN_ONLY), false);
}

static void test_parse_ipv6_ext_headers(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.ipv6_ext_hdrs = PERIM_MAX_IPV6_EXT_HDRS - 1;
	s.frag = FRAG_FIRST;            /* the fragment header is the last one allowed */
	expect_limited(&s, "2001:db8::/32", UDP_53, true);
}

static void test_parse_ipv6_later_fragment_no_port_match(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.ipv6_ext_hdrs = 1;
	s.frag = FRAG_LATER;
	s.payload = 40;
	expect_limited(&s, "2001:db8::/32", UDP_53, false);
}

static void test_parse_ipv6_later_fragment_proto_rule_matches(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.frag = FRAG_LATER;
	s.payload = 40;
	expect_limited(&s, "2001:db8::/32", cand(RULE, IPPROTO_UDP, 0, 0, 0), true);
}

static void test_parse_ipv6_too_many_ext_headers(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.ipv6_ext_hdrs = PERIM_MAX_IPV6_EXT_HDRS + 1;
	expect_malformed(&s, 0);
}

static void test_parse_non_ip_passes(void)
{
	struct frame_spec s = { .ethertype = 0x0806, .payload = 28 };   /* ARP */
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_PASS, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.rx_packets, 1, "rx");
	ASSERT_EQ(ic.passed_packets, 1, "passed");
	ASSERT_EQ(ic.rx_bytes, 14 + 28, "rx bytes");
	perim_xdp__destroy(skel);
}

/* ---- malformed frames: each layer cut short ---- */

/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header, so the
 * shortest frame tested is a bare Ethernet header announcing IPv4. */
static void test_malformed_eth_header_only(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	expect_malformed(&s, 14);
}

static void test_malformed_truncated_vlan(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.vlans = 2;
	expect_malformed(&s, 14 + 2);
}

static void test_malformed_truncated_ipv4(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	expect_malformed(&s, 14 + 19);
}

static void test_malformed_ipv4_ihl_below_5(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.ihl = 4;
	expect_malformed(&s, 0);
}

static void test_malformed_ipv4_options_beyond_frame(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.ipv4_opt_words = 4;
	expect_malformed(&s, 14 + 20 + 8);
}

static void test_malformed_ipv4_version_mismatch(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	s.ip_version = 6;
	expect_malformed(&s, 0);
}

static void test_malformed_ipv6_version_mismatch(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.ip_version = 4;
	expect_malformed(&s, 0);
}

static void test_malformed_truncated_tcp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 80);

	expect_malformed(&s, 14 + 20 + 19);
}

static void test_malformed_truncated_udp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);

	expect_malformed(&s, 14 + 20 + 7);
}

static void test_malformed_truncated_icmp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_ICMP, 0);

	expect_malformed(&s, 14 + 20 + 4);
}

static void test_malformed_truncated_ipv6(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	expect_malformed(&s, 14 + 39);
}

static void test_malformed_truncated_ipv6_ext_header(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.ipv6_ext_hdrs = 2;
	expect_malformed(&s, 14 + 40 + 8 + 1);
}

static void test_malformed_truncated_ipv6_frag_header(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_UDP, 53);

	s.frag = FRAG_FIRST;
	expect_malformed(&s, 14 + 40 + 4);
}

static void test_malformed_truncated_icmpv6(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_ICMPV6, 0);

	expect_malformed(&s, 14 + 40 + 7);
}

/* ---- rule matching ---- */

static void test_match_proto_mismatch(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 80);

	expect_limited(&s, "10.0.0.0/8", TCP_80, false);
}

static void test_match_port_range_inside(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 8080);

	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 8000, 8999, 0), true);
}

static void test_match_port_range_edges(void)
{
	struct frame_spec lo = V4("10.1.2.3", IPPROTO_TCP, 8000), hi = V4("10.1.2.3", IPPROTO_TCP, 8999);

	expect_limited(&lo, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 8000, 8999, 0), true);
	expect_limited(&hi, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 8000, 8999, 0), true);
}

static void test_match_port_range_outside(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 9000);

	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 8000, 8999, 0), false);
}

static void test_match_any_proto_port_rule_skips_icmp(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_ICMP, 0);

	expect_limited(&s, "10.0.0.0/8", cand(RULE, PERIM_PROTO_ANY, 1, 1024, 0), false);
}

static void test_match_syn_only_syn(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 22);

	s.tcp_flags = 0x02;
	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 22, 22, PERIM_CAND_SYN_ONLY), true);
}

static void test_match_syn_only_skips_synack(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 22);

	s.tcp_flags = 0x12;
	expect_limited(&s, "10.0.0.0/8", cand(RULE, IPPROTO_TCP, 22, 22, PERIM_CAND_SYN_ONLY), false);
}

static void test_match_syn_only_skips_ack(void)
{
	struct frame_spec s = V6("2001:db8::9", IPPROTO_TCP, 22);

	s.tcp_flags = 0x10;
	expect_limited(&s, "2001:db8::/32", cand(RULE, IPPROTO_TCP, 0, 0, PERIM_CAND_SYN_ONLY), false);
}

/* The first matching candidate wins: later ones see nothing. */
static void test_match_candidate_order(void)
{
	struct perim_candidate c[3] = {
		cand(10, IPPROTO_TCP, 0, 0, 0),         /* does not match UDP */
		cand(11, IPPROTO_UDP, 53, 53, 0),       /* the most specific match */
		cand(12, PERIM_PROTO_ANY, 0, 0, 0),     /* a covering prefix's rule */
	};
	struct perim_rule r = rule_burst(100, 0);
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "10.1.2.0/24", PERIM_ACL_NONE, c, 3) || !rule_set(skel, 10, &r) ||
	    !rule_set(skel, 11, &r) || !rule_set(skel, 12, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 3), XDP_PASS, "verdict");
	ASSERT_EQ(rule_stats(skel, 10).matched_packets, 0, "rule 10");
	ASSERT_EQ(rule_stats(skel, 11).matched_packets, 3, "rule 11");
	ASSERT_EQ(rule_stats(skel, 12).matched_packets, 0, "rule 12");
	s.dport = 54;
	ASSERT_EQ(run_spec(skel, &s, 2), XDP_PASS, "verdict");
	ASSERT_EQ(rule_stats(skel, 12).matched_packets, 2, "rule 12 after a port miss");
out:
	perim_xdp__destroy(skel);
}

/* The longest prefix's entry is the one used. */
static void test_match_longest_prefix(void)
{
	struct perim_candidate wide = cand(20, PERIM_PROTO_ANY, 0, 0, 0);
	struct perim_candidate narrow = cand(21, PERIM_PROTO_ANY, 0, 0, 0);
	struct perim_rule r = rule_burst(100, 0);
	struct frame_spec in = V4("10.1.2.3", IPPROTO_UDP, 53), out = V4("10.9.9.9", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "10.0.0.0/8", PERIM_ACL_NONE, &wide, 1) ||
	    !lpm_add(skel, "10.1.2.0/24", PERIM_ACL_NONE, &narrow, 1) ||
	    !rule_set(skel, 20, &r) || !rule_set(skel, 21, &r))
		goto done;
	run_spec(skel, &in, 2);
	run_spec(skel, &out, 3);
	ASSERT_EQ(rule_stats(skel, 21).matched_packets, 2, "narrow rule");
	ASSERT_EQ(rule_stats(skel, 20).matched_packets, 3, "wide rule");
done:
	perim_xdp__destroy(skel);
}

static void test_match_no_prefix_passes(void)
{
	struct frame_spec s = V4("192.168.1.1", IPPROTO_UDP, 53);

	expect_limited(&s, "10.0.0.0/8", UDP_53, false);
}

static void test_match_inactive_rule_passes(void)
{
	struct perim_rule r = rule_burst(1, 0);
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	r.flags &= ~PERIM_RULE_ACTIVE;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 5), XDP_PASS, "verdict");
	ASSERT_EQ(if_stats(skel).passed_packets, 5, "passed");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 0, "not matched");
out:
	perim_xdp__destroy(skel);
}

/* Each instance (interface) has its own tries: another interface's entries never apply. */
static void test_match_other_slot_ignored(void)
{
	struct perim_candidate c = UDP_ANY;
	struct perim_rule r = rule_burst(1, 0);
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false), *other = load_prog(false);

	if (!skel || !other)
		goto out;
	if (!lpm_add(other, "10.0.0.0/8", PERIM_ACL_NONE, &c, 1) || !rule_set(skel, RULE, &r) ||
	    !rule_set(other, RULE, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 3), XDP_PASS, "verdict");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 0, "not matched");
	ASSERT_EQ(run_spec(other, &s, 3), XDP_DROP, "the other interface's verdict");
out:
	perim_xdp__destroy(other);
	perim_xdp__destroy(skel);
}

/*
 * The families have their own tries: an IPv6 ::/0 entry never matches an
 * IPv4 source (perimd adds 0.0.0.0/0 for that), and an IPv4 entry never
 * matches an IPv4-mapped IPv6 source.
 */
static void test_match_family_tries(void)
{
	struct perim_candidate c = UDP_ANY;
	struct perim_rule r = rule_burst(1, 0);
	struct frame_spec s4 = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct frame_spec mapped = V6("::ffff:10.1.2.3", IPPROTO_UDP, 53);
	struct frame_spec s6 = V6("2001:db8::1", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "::/0", PERIM_ACL_NONE, &c, 1) || !lpm_add(skel, "10.0.0.0/8", PERIM_ACL_DENY, NULL, 0) ||
	    !rule_set(skel, RULE, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &s4, 1), XDP_DROP, "IPv4 source: its own trie (deny)");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 0, "IPv4 source: ::/0 not matched");
	ASSERT_EQ(run_spec(skel, &mapped, 1), XDP_PASS, "mapped source: ::/0 rule, burst 1");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 1, "mapped source: matched ::/0 only");
	ASSERT_EQ(run_spec(skel, &s6, 1), XDP_DROP, "IPv6 source: same bucket spent");
out:
	perim_xdp__destroy(skel);
}

/* ---- allow / deny ---- */

static void test_acl_deny(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	if (!lpm_add(skel, "10.1.0.0/16", PERIM_ACL_DENY, NULL, 0))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 4), XDP_DROP, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_DENY], 4, "deny drops");
	ASSERT_EQ(ic.passed_packets, 0, "passed");
out:
	perim_xdp__destroy(skel);
}

static void test_acl_deny_ipv6(void)
{
	struct frame_spec s = V6("2001:db8:bad::1", IPPROTO_TCP, 443);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "2001:db8:bad::/48", PERIM_ACL_DENY, NULL, 0))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 2), XDP_DROP, "verdict");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_DENY], 2, "deny drops");
out:
	perim_xdp__destroy(skel);
}

/* A fleet decision's entry: dropped like a deny, counted under its own reason. */
static void test_acl_fleet_deny(void)
{
	struct frame_spec s = V4("203.0.113.9", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	if (!lpm_add(skel, "203.0.113.0/24", PERIM_ACL_FLEET_DENY, NULL, 0))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 3), XDP_DROP, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_FLEET_DENY], 3, "fleet-deny drops");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_DENY], 0, "not counted as a local deny");
out:
	perim_xdp__destroy(skel);
}

/* Allow bypasses a rule that would otherwise drop (user space flattened it in). */
static void test_acl_allow_bypasses_rules(void)
{
	struct perim_candidate c = UDP_ANY;
	struct perim_rule r = rule_burst(1, 0);
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	if (!lpm_add(skel, "10.1.2.0/24", PERIM_ACL_ALLOW, &c, 1) || !rule_set(skel, RULE, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 10), XDP_PASS, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.allowed_packets, 10, "allowed");
	ASSERT_EQ(ic.passed_packets, 10, "passed");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 0, "rule untouched");
out:
	perim_xdp__destroy(skel);
}

/* ---- limits ---- */

static void test_limit_per_source(void)
{
	struct perim_rule r = rule_burst(5, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53), b = V4("10.1.2.4", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_rule_counters rc;

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 20), XDP_DROP, "a verdict");
	ASSERT_EQ(run_spec(skel, &b, 20), XDP_DROP, "b verdict");
	rc = rule_stats(skel, RULE);
	ASSERT_EQ(rc.matched_packets, 40, "matched");
	ASSERT_EQ(rc.passed_packets, 10, "5 per source");
	ASSERT_EQ(rc.dropped_packets, 30, "dropped");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], 30, "rate drops");
	ASSERT_EQ(src_entries(skel), 2, "two source buckets");
out:
	perim_xdp__destroy(skel);
}

static void test_limit_per_source_ipv6(void)
{
	struct perim_rule r = rule_burst(3, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V6("2001:db8::1", IPPROTO_TCP, 80), b = V6("2001:db8::2", IPPROTO_TCP, 80);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!simple_rule(skel, "2001:db8::/64", &r))
		goto out;
	run_spec(skel, &a, 10);
	run_spec(skel, &b, 10);
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 6, "3 per source");
	ASSERT_EQ(src_entries(skel), 2, "two source buckets");
out:
	perim_xdp__destroy(skel);
}

static void test_limit_aggregate(void)
{
	struct perim_rule r = rule_burst(5, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53), b = V4("10.1.2.4", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	run_spec(skel, &a, 20);
	run_spec(skel, &b, 20);
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 5, "5 for the whole prefix");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], 35, "rate drops");
	ASSERT_EQ(src_entries(skel), 0, "no source buckets");
out:
	perim_xdp__destroy(skel);
}

static void test_limit_aggregate_ipv6(void)
{
	struct perim_rule r = rule_burst(4, 0);
	struct frame_spec a = V6("2001:db8::1", IPPROTO_UDP, 53), b = V6("2001:db8::2", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!simple_rule(skel, "2001:db8::/64", &r))
		goto out;
	run_spec(skel, &a, 10);
	run_spec(skel, &b, 10);
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 4, "4 for the whole prefix");
out:
	perim_xdp__destroy(skel);
}

static void test_limit_block_time(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;
	struct perim_src_key key = { .rule = RULE };
	struct perim_bucket b;

	if (!skel)
		return;
	r.block_ns = 600 * SEC_NS;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 10), XDP_DROP, "verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.passed_packets, 2, "burst passed");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_RATE_PPS], 1, "the first excess packet");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_BLOCKED], 7, "then blocked");

	/* Block expired (blocked_until in the past) and tokens back: passes again. */
	key.addr[10] = key.addr[11] = 0xff;
	inet_pton(AF_INET, "10.1.2.3", key.addr + 12);
	if (!ASSERT_OK(bpf_map__lookup_elem(skel->maps.perim_src, &key, sizeof(key), &b, sizeof(b), 0),
		       "bucket lookup"))
		goto out;
	ASSERT_TRUE(b.blocked_until > 0, "blocked_until set");
	b.blocked_until = 1;
	b.pkt_tat = 0;
	ASSERT_OK(bpf_map__update_elem(skel->maps.perim_src, &key, sizeof(key), &b, sizeof(b), 0),
		  "bucket update");
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_PASS, "after the block");
out:
	perim_xdp__destroy(skel);
}

static void test_limit_dry_run(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE | PERIM_RULE_DRY_RUN);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_rule_counters rc;
	struct perim_if_counters ic;

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 10), XDP_PASS, "verdict");
	rc = rule_stats(skel, RULE);
	ic = if_stats(skel);
	ASSERT_EQ(rc.passed_packets, 10, "all passed");
	ASSERT_EQ(rc.would_drop_packets, 8, "rule would drop");
	ASSERT_EQ(rc.would_drop_bytes, 8 * (14 + 20 + 8), "rule would-drop bytes");
	ASSERT_EQ(rc.dropped_packets, 0, "rule dropped");
	ASSERT_EQ(ic.would_drop_packets, 8, "interface would drop");
	ASSERT_EQ(ic.passed_packets, 10, "interface passed");
	ASSERT_EQ(ic.dropped_packets[PERIM_REASON_RATE_PPS], 0, "no drops");
out:
	perim_xdp__destroy(skel);
}

/*
 * Byte rate only: 100-byte frames, tolerance for 3 of them. Then the packet
 * bucket alone: the byte drops must not have consumed packet tokens.
 */
static void test_limit_byte_rate(void)
{
	struct perim_rule r = rule_burst(5, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct frame f;

	if (!skel)
		return;
	a.payload = 100 - (14 + 20 + 8);
	frame_build(&f, &a);
	if (!ASSERT_EQ(f.len, 100, "frame length"))
		goto out;
	r.byte_cost_fp16 = (10 * 1000000ULL) << 16;   /* 100 bytes/s: 10 ms per byte */
	r.byte_tolerance_ns = 2 * 100 * 10 * 1000000ULL;   /* 3 frames of 100 bytes */
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_frame(skel, &f, 10), XDP_DROP, "verdict");
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 3, "3 frames of bytes");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_BYTES], 7, "byte drops");
	ASSERT_EQ(if_stats(skel).dropped_bytes[PERIM_REASON_RATE_BYTES], 700, "byte drops bytes");

	r.byte_cost_fp16 = 0;
	if (!rule_set(skel, RULE, &r))
		goto out;
	run_frame(skel, &f, 10);
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 5, "2 packet tokens were left");
out:
	perim_xdp__destroy(skel);
}

/* An exhausted packet bucket drops before the byte bucket is charged. */
static void test_limit_pps_drop_keeps_byte_tokens(void)
{
	struct perim_rule r = rule_burst(2, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct frame f;

	if (!skel)
		return;
	a.payload = 100 - (14 + 20 + 8);
	frame_build(&f, &a);
	r.byte_cost_fp16 = (10 * 1000000ULL) << 16;
	r.byte_tolerance_ns = 4 * 100 * 10 * 1000000ULL;   /* 5 frames */
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	run_frame(skel, &f, 10);
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], 8, "pps drops");
	r.pkt_interval_ns = 0;
	if (!rule_set(skel, RULE, &r))
		goto out;
	run_frame(skel, &f, 10);
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 5, "3 byte frames were left");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_BYTES], 7, "byte drops");
out:
	perim_xdp__destroy(skel);
}

/* New-source admission: 2 new sources, then refused without an LRU insert. */
static void test_limit_new_source_admission(void)
{
	struct perim_rule r = rule_burst(5, PERIM_RULE_PER_SOURCE);
	struct perim_xdp *skel = load_prog(false);
	char src[32];
	int dropped = 0;

	if (!skel)
		return;
	r.newsrc_interval_ns = SEC_NS;
	r.newsrc_tolerance_ns = SEC_NS;               /* burst 2 */
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	for (int i = 1; i <= 6; i++) {
		struct frame_spec s = V4(src, IPPROTO_UDP, 53);

		snprintf(src, sizeof(src), "10.0.0.%d", i);
		dropped += run_spec(skel, &s, 1) == XDP_DROP;
	}
	ASSERT_EQ(dropped, 4, "refused sources");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_NEW_SOURCE], 4, "new-source drops");
	ASSERT_EQ(src_entries(skel), 2, "only admitted sources have buckets");
	/* An admitted source keeps its own bucket. */
	{
		struct frame_spec s = V4("10.0.0.1", IPPROTO_UDP, 53);

		ASSERT_EQ(run_spec(skel, &s, 4), XDP_PASS, "known source passes");
		ASSERT_EQ(run_spec(skel, &s, 1), XDP_DROP, "known source limited");
		ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_RATE_PPS], 1, "its rate drop");
	}
out:
	perim_xdp__destroy(skel);
}

/* A reused rule slot (new gen) starts from full buckets. */
static void test_limit_gen_reset(void)
{
	struct perim_rule r = rule_burst(3, PERIM_RULE_PER_SOURCE);
	struct perim_rule agg = rule_burst(3, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	r.block_ns = 600 * SEC_NS;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 10), XDP_DROP, "exhausted and blocked");
	r.gen = 2;
	if (!rule_set(skel, RULE, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 3), XDP_PASS, "fresh bucket under gen 2");
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_DROP, "then limited again");

	/* The same for an aggregate bucket. */
	agg.gen = 5;
	if (!rule_set(skel, RULE, &agg))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 3), XDP_PASS, "aggregate fresh");
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_DROP, "aggregate limited");
	agg.gen = 6;
	if (!rule_set(skel, RULE, &agg))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_PASS, "aggregate reset by gen");
out:
	perim_xdp__destroy(skel);
}

static void test_counters_bytes_and_rows(void)
{
	struct perim_rule r = rule_burst(1, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V6("2001:db8::1", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_rule_counters rc;
	struct perim_if_counters ic;
	size_t len = 14 + 40 + 8;

	if (!skel)
		return;
	if (!simple_rule(skel, "2001:db8::/32", &r))
		goto out;
	run_spec(skel, &a, 3);
	ic = if_stats(skel);
	rc = rule_stats(skel, RULE);
	ASSERT_EQ(ic.rx_packets, 3, "rx");
	ASSERT_EQ(ic.rx_bytes, 3 * len, "rx bytes");
	ASSERT_EQ(ic.passed_bytes, len, "passed bytes");
	ASSERT_EQ(ic.dropped_bytes[PERIM_REASON_RATE_PPS], 2 * len, "dropped bytes");
	ASSERT_EQ(rc.matched_bytes, 3 * len, "rule matched bytes");
	ASSERT_EQ(rc.passed_bytes, len, "rule passed bytes");
	ASSERT_EQ(rc.dropped_bytes, 2 * len, "rule dropped bytes");
out:
	perim_xdp__destroy(skel);
}

/* ---- several CPUs on one bucket ---- */

struct cpu_run {
	struct perim_xdp *skel;
	struct frame f;
	int cpu;
	int repeat;
	int err;
};

static void *run_on_cpu(void *arg)
{
	struct cpu_run *cr = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cr->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		cr->err = -errno;
		return NULL;
	}
	cr->err = run_frame(cr->skel, &cr->f, cr->repeat) < 0;
	return NULL;
}

/*
 * Two CPUs hammer one bucket of burst 2000 at the same time. With the
 * compare-and-swap update the total admitted is exactly the burst (plus at
 * most one packet of refill during the run at 1 pps). The plain-store twin
 * (perim_xdp_compat) admitted 2000-3075 in the same setup: lost updates.
 */
static void test_multi_cpu_one_bucket(void)
{
	struct perim_rule r = rule_burst(2000, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel;
	struct cpu_run runs[2];
	pthread_t th[2];
	uint64_t passed;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		TEST_SKIP("needs 2 online CPUs");
		return;
	}
	skel = load_prog(false);
	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	for (int i = 0; i < 2; i++) {
		runs[i] = (struct cpu_run){ .skel = skel, .cpu = i, .repeat = 200000 };
		frame_build(&runs[i].f, &a);
		if (!ASSERT_OK(pthread_create(&th[i], NULL, run_on_cpu, &runs[i]), "pthread_create"))
			goto out;
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ASSERT_OK(runs[i].err, "run on cpu");
	}
	passed = rule_stats(skel, RULE).passed_packets;
	ASSERT_RANGE(passed, 2000, 2001, "admitted across CPUs");
	ASSERT_EQ(if_stats(skel).rx_packets, 400000, "rx");
out:
	perim_xdp__destroy(skel);
}

/* The pre-5.12 twin verifies here too and limits the same way on one CPU. */
static void test_compat_program(void)
{
	struct perim_rule r = rule_burst(5, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(true);

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 20), XDP_DROP, "verdict");
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 5, "burst");
out:
	perim_xdp__destroy(skel);
}


/* ---- the fast path (lib/fast.h): exact-match probes per length vs the trie ---- */

static bool fast_add(struct perim_xdp *skel, const char *prefix, uint8_t acl, uint16_t rule)
{
	struct perim_lpm_value v = { .acl = acl, .n_cand = rule ? 1 : 0 };
	struct test_lpm_key key;
	int err;

	if (!ASSERT_TRUE(parse_prefix(prefix, &key), prefix))
		return false;
	v.cand[0] = cand(rule, PERIM_PROTO_ANY, 0, 0, 0);
	if (key.v6)
		err = bpf_map__update_elem(skel->maps.perim_fast6, &key.k6, sizeof(key.k6), &v, sizeof(v), BPF_ANY);
	else
		err = bpf_map__update_elem(skel->maps.perim_fast4, &key.k4, sizeof(key.k4), &v, sizeof(v), BPF_ANY);
	return ASSERT_OK(err, "fast table update");
}

/* A descriptor: n lengths, longest first (perim.h). */
static bool lens_set(struct perim_xdp *skel, int fam, int n, const int *len)
{
	__u64 d = n < 0 ? PERIM_FAST_USE_TRIE : (__u64)n + 1;
	uint32_t key = fam;

	for (int i = 0; i < n; i++)
		d |= (__u64)len[i] << (8 * (i + 1));
	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_fastlens, &key, sizeof(key), &d, sizeof(d),
					      BPF_ANY), "descriptor update");
}

/* The rule whose matched counter one packet from src moves (0: none). */
static uint16_t matched_rule(struct perim_xdp *skel, const char *src, const uint16_t *rules, int n)
{
	struct frame_spec s = { .family = strchr(src, ':') ? 6 : 4, .src = src, .proto = IPPROTO_UDP, .dport = 53 };
	uint64_t before[16];
	uint16_t hit = 0;

	for (int i = 0; i < n; i++)
		before[i] = rule_stats(skel, rules[i]).matched_packets;
	run_spec(skel, &s, 1);
	for (int i = 0; i < n; i++)
		if (rule_stats(skel, rules[i]).matched_packets != before[i])
			hit = hit ? 0xffff : rules[i];
	return hit;
}

struct fast_case {
	const char *prefix;
	uint16_t rule;
};

struct fast_probe {
	const char *src;
	uint16_t want;
};

/*
 * The same entries in the trie and the fast table: every probe finds the
 * same rule through both, and the one expected (odd lengths, /0, /32, /128).
 */
static void expect_fast_equals_trie(const struct fast_case *cases, int n_cases, const int *lens, int n_lens,
				    const struct fast_probe *probes, int n_probes, int fam)
{
	struct perim_rule r = rule_burst(1000, 0);
	struct perim_xdp *skel = load_prog(false);
	uint16_t rules[16];

	if (!skel)
		return;
	for (int i = 0; i < n_cases; i++) {
		struct perim_candidate c = cand(cases[i].rule, PERIM_PROTO_ANY, 0, 0, 0);

		rules[i] = cases[i].rule;
		if (!lpm_add(skel, cases[i].prefix, PERIM_ACL_NONE, &c, 1) ||
		    !fast_add(skel, cases[i].prefix, PERIM_ACL_NONE, cases[i].rule) ||
		    !rule_set(skel, cases[i].rule, &r))
			goto out;
	}
	for (int i = 0; i < n_probes; i++) {
		uint16_t by_trie, by_fast;

		if (!lens_set(skel, fam, -1, NULL))
			goto out;
		by_trie = matched_rule(skel, probes[i].src, rules, n_cases);
		if (!lens_set(skel, fam, n_lens, lens))
			goto out;
		by_fast = matched_rule(skel, probes[i].src, rules, n_cases);
		ASSERT_EQ(by_trie, probes[i].want, probes[i].src);
		ASSERT_EQ(by_fast, by_trie, probes[i].src);
	}
out:
	perim_xdp__destroy(skel);
}

static void test_fast_ipv4_same_as_trie(void)
{
	static const struct fast_case cases[] = {
		{ "0.0.0.0/0", 30 }, { "10.0.0.0/8", 31 }, { "10.16.0.0/12", 32 },
		{ "10.17.2.0/23", 33 }, { "10.17.3.7/32", 34 }, { "192.168.0.0/16", 35 },
	};
	static const int lens[] = { 32, 23, 16, 12, 8, 0 };
	static const struct fast_probe probes[] = {
		{ "10.17.3.7", 34 }, { "10.17.3.8", 33 }, { "10.17.2.1", 33 }, { "10.17.4.1", 32 },
		{ "10.31.255.255", 32 }, { "10.32.0.1", 31 }, { "11.0.0.1", 30 }, { "192.168.5.5", 35 },
	};

	expect_fast_equals_trie(cases, 6, lens, 6, probes, 8, 0);
}

static void test_fast_ipv6_same_as_trie(void)
{
	static const struct fast_case cases[] = {
		{ "::/0", 40 }, { "2001:db8::/32", 41 }, { "2001:db8:8::/45", 42 },
		{ "2001:db8:f::1/128", 43 }, { "2001:db8:8:1::/64", 44 }, { "2001:db8:8:1:8000::/65", 45 },
	};
	static const int lens[] = { 128, 65, 64, 45, 32, 0 };
	static const struct fast_probe probes[] = {
		{ "2001:db8:f::1", 43 }, { "2001:db8:f::2", 42 }, { "2001:db8:8:1::5", 44 },
		{ "2001:db8:8:1:8000::5", 45 }, { "2001:db8:10::1", 41 }, { "2002::1", 40 },
		{ "::ffff:10.0.0.1", 40 },
	};

	expect_fast_equals_trie(cases, 6, lens, 6, probes, 7, 1);
}

/* The descriptor decides: "fast" with no lengths finds nothing, "trie" finds the trie's entry. */
static void test_fast_descriptor_decides(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_UDP, 53), s6 = V6("2001:db8::1", IPPROTO_UDP, 53);
	static const int len8[] = { 8 };
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "10.0.0.0/8", PERIM_ACL_DENY, NULL, 0) ||
	    !lpm_add(skel, "2001:db8::/32", PERIM_ACL_DENY, NULL, 0))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_DROP, "fresh descriptor: the trie");
	lens_set(skel, 0, 0, NULL);
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_PASS, "fast, no lengths: no lookup, no entry");
	ASSERT_EQ(run_spec(skel, &s6, 1), XDP_DROP, "IPv6 has its own descriptor");
	lens_set(skel, 0, 1, len8);
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_PASS, "fast, /8 not in the fast table");
	if (!fast_add(skel, "10.0.0.0/8", PERIM_ACL_DENY, 0))
		goto out;
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_DROP, "fast, /8 in the fast table");
	lens_set(skel, 0, -1, NULL);
	ASSERT_EQ(run_spec(skel, &s, 1), XDP_DROP, "back to the trie");
out:
	perim_xdp__destroy(skel);
}

static const struct perim_test tests[] = {
	TEST(test_parse_ipv4_udp),
	TEST(test_parse_ipv4_tcp),
	TEST(test_parse_ipv4_icmp),
	TEST(test_parse_ipv6_icmpv6_matches_icmp_rule),
	TEST(test_parse_ipv6_tcp),
	TEST(test_parse_ipv6_udp),
	TEST(test_parse_vlan_one_tag),
	TEST(test_parse_vlan_two_tags),
	TEST(test_parse_vlan_three_tags_malformed),
	TEST(test_parse_ipv4_options),
	TEST(test_parse_ipv4_first_fragment_has_ports),
	TEST(test_parse_ipv4_later_fragment_no_port_match),
	TEST(test_parse_ipv4_later_fragment_proto_rule_matches),
	TEST(test_parse_ipv4_later_fragment_no_syn_match),
	TEST(test_parse_ipv6_ext_headers),
	TEST(test_parse_ipv6_later_fragment_no_port_match),
	TEST(test_parse_ipv6_later_fragment_proto_rule_matches),
	TEST(test_parse_ipv6_too_many_ext_headers),
	TEST(test_parse_non_ip_passes),
	TEST(test_malformed_eth_header_only),
	TEST(test_malformed_truncated_vlan),
	TEST(test_malformed_truncated_ipv4),
	TEST(test_malformed_ipv4_ihl_below_5),
	TEST(test_malformed_ipv4_options_beyond_frame),
	TEST(test_malformed_ipv4_version_mismatch),
	TEST(test_malformed_ipv6_version_mismatch),
	TEST(test_malformed_truncated_tcp),
	TEST(test_malformed_truncated_udp),
	TEST(test_malformed_truncated_icmp),
	TEST(test_malformed_truncated_ipv6),
	TEST(test_malformed_truncated_ipv6_ext_header),
	TEST(test_malformed_truncated_ipv6_frag_header),
	TEST(test_malformed_truncated_icmpv6),
	TEST(test_match_proto_mismatch),
	TEST(test_match_port_range_inside),
	TEST(test_match_port_range_edges),
	TEST(test_match_port_range_outside),
	TEST(test_match_any_proto_port_rule_skips_icmp),
	TEST(test_match_syn_only_syn),
	TEST(test_match_syn_only_skips_synack),
	TEST(test_match_syn_only_skips_ack),
	TEST(test_match_candidate_order),
	TEST(test_match_longest_prefix),
	TEST(test_match_no_prefix_passes),
	TEST(test_match_inactive_rule_passes),
	TEST(test_match_other_slot_ignored),
	TEST(test_match_family_tries),
	TEST(test_acl_deny),
	TEST(test_acl_deny_ipv6), TEST(test_acl_fleet_deny),
	TEST(test_acl_allow_bypasses_rules),
	TEST(test_limit_per_source),
	TEST(test_limit_per_source_ipv6),
	TEST(test_limit_aggregate),
	TEST(test_limit_aggregate_ipv6),
	TEST(test_limit_block_time),
	TEST(test_limit_dry_run),
	TEST(test_limit_byte_rate),
	TEST(test_limit_pps_drop_keeps_byte_tokens),
	TEST(test_limit_new_source_admission),
	TEST(test_limit_gen_reset),
	TEST(test_counters_bytes_and_rows),
	TEST(test_multi_cpu_one_bucket),
	TEST(test_compat_program),
	TEST(test_fast_ipv4_same_as_trie),
	TEST(test_fast_ipv6_same_as_trie),
	TEST(test_fast_descriptor_decides),
	{ 0 },
};

/* libbpf warnings and errors reach stderr; its debug chatter does not. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* .xdp_run_config is libxdp's section; plain libbpf warns that it skips it. */
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO || strstr(fmt, "unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	return perim_test_main(tests, argc, argv);
}
