// SPDX-License-Identifier: GPL-2.0
/*
 * The egress program through BPF_PROG_TEST_RUN: perim_tc shares the XDP
 * program's parser, lookup, buckets and counters (xdp/lib/ctx.h), so these
 * tests check what differs: the destination is the matched address, the
 * per-address bucket is keyed by it, the verdicts are tc's, and the cgroup
 * table is consulted only for traffic of a local socket.
 *
 * Frames from tests/unit/xdp_frames.h go to 192.0.2.1 or 2001:db8::1.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "perim.h"
#include "xdp/perim_tc.skel.h"
#include "xdp_frames.h"

#define SLOT 5
#define RULE 9
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

static struct perim_tc *load_prog(void)
{
	struct perim_tc *skel = perim_tc__open();
	struct bpf_map *map;

	if (!ASSERT_OK_PTR(skel, "perim_tc__open"))
		return NULL;
	/* No pinning: never touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	skel->rodata->perim_slot = SLOT;
	bpf_program__set_autoload(skel->progs.perim_tc_compat, false);
	if (!ASSERT_OK(perim_tc__load(skel), "perim_tc__load")) {
		perim_tc__destroy(skel);
		return NULL;
	}
	return skel;
}

static int run(struct perim_tc *skel, const struct frame_spec *s, int repeat)
{
	struct frame f;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = repeat);
	int err;

	frame_build(&f, s);
	opts.data_in = f.buf;
	opts.data_size_in = (uint32_t)f.len;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.perim_tc), &opts);
	if (err) {
		fprintf(stderr, "  bpf_prog_test_run_opts: %s\n", strerror(errno));
		return -errno;
	}
	return (int)opts.retval;
}

static bool add_v4(struct perim_tc *skel, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t len, uint16_t rule)
{
	struct perim_lpm4_key k = { .prefixlen = len, .addr = { a, b, c, d } };
	struct perim_lpm_value v = { .n_cand = 1, .cand[0] = { .rule = rule } };

	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm4, &k, sizeof(k), &v, sizeof(v), BPF_ANY),
			 "egress trie update");
}

static bool set_rule(struct perim_tc *skel, uint32_t id, uint32_t flags, uint64_t burst)
{
	struct perim_rule r = {
		.gen = 1, .flags = PERIM_RULE_ACTIVE | flags,
		.pkt_interval_ns = 1000000000ULL,                 /* 1 pps: no refill during a test */
		.pkt_tolerance_ns = (burst - 1) * 1000000000ULL,
		.newsrc_interval_ns = 1, .newsrc_tolerance_ns = 1000000000ULL,
	};

	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_rules, &id, sizeof(id), &r, sizeof(r), BPF_ANY),
			 "rule update");
}

static struct perim_if_counters egress_counters(struct perim_tc *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	struct perim_if_counters *pc = calloc(ncpus, sizeof(*pc)), sum = { 0 };
	__u32 key = SLOT;

	if (pc && !bpf_map__lookup_elem(skel->maps.perim_if_stats, &key, sizeof(key), pc,
					ncpus * sizeof(*pc), 0)) {
		for (int c = 0; c < ncpus; c++) {
			sum.rx_packets += pc[c].rx_packets;
			sum.passed_packets += pc[c].passed_packets;
			sum.dropped_packets[PERIM_REASON_RATE_PPS] += pc[c].dropped_packets[PERIM_REASON_RATE_PPS];
		}
	}
	free(pc);
	return sum;
}

/* A destination rule cuts to its burst; a rule on the source prefix is never consulted. */
static void test_matches_destination_not_source(void)
{
	struct frame_spec s = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_tc *skel = load_prog();
	struct perim_if_counters c;

	if (!skel)
		return;
	if (!add_v4(skel, 10, 0, 0, 0, 8, RULE + 1) || !set_rule(skel, RULE + 1, 0, 1))
		goto out;
	ASSERT_EQ(run(skel, &s, 5), TC_ACT_OK, "a source-prefix entry does not match on egress");
	if (!add_v4(skel, 192, 0, 2, 0, 24, RULE) || !set_rule(skel, RULE, 0, 3))
		goto out;
	ASSERT_EQ(run(skel, &s, 3), TC_ACT_OK, "burst of 3 passes");
	ASSERT_EQ(run(skel, &s, 1), TC_ACT_SHOT, "the 4th is shot");
	c = egress_counters(skel);
	ASSERT_EQ(c.rx_packets, 9, "egress counter row of the instance's slot");
	ASSERT_EQ(c.passed_packets, 8, "passed");
	ASSERT_EQ(c.dropped_packets[PERIM_REASON_RATE_PPS], 1, "dropped by rate");
out:
	perim_tc__destroy(skel);
}

/* per-destination: the bucket key is the destination, whatever the source. */
static void test_per_destination_bucket(void)
{
	struct frame_spec a = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .dport = 53 };
	struct frame_spec b = a;
	struct perim_src4_key key = { .rule = RULE, .addr = { 192, 0, 2, 1 } };
	struct perim_bucket bucket;
	struct perim_tc *skel = load_prog();

	if (!skel)
		return;
	b.src = "10.9.9.9";
	if (!add_v4(skel, 192, 0, 2, 0, 24, RULE) || !set_rule(skel, RULE, PERIM_RULE_PER_SOURCE, 2))
		goto out;
	ASSERT_EQ(run(skel, &a, 2), TC_ACT_OK, "two from the first source");
	ASSERT_EQ(run(skel, &b, 1), TC_ACT_SHOT, "another source to the same destination shares its bucket");
	ASSERT_OK(bpf_map__lookup_elem(skel->maps.perim_src4, &key, sizeof(key), &bucket, sizeof(bucket), 0),
		  "bucket keyed by the IPv4 destination");
out:
	perim_tc__destroy(skel);
}

static void test_ipv6_destination(void)
{
	struct frame_spec s = { .family = 6, .src = "2001:db8:ffff::7", .proto = IPPROTO_TCP, .dport = 443 };
	struct perim_lpm6_key k = { .prefixlen = 32, .addr = { 0x20, 0x01, 0x0d, 0xb8 } };
	struct perim_lpm_value v = { .n_cand = 1, .cand[0] = { .rule = RULE, .proto = IPPROTO_TCP } };
	struct perim_tc *skel = load_prog();

	if (!skel)
		return;
	if (!ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm6, &k, sizeof(k), &v, sizeof(v), BPF_ANY), "v6") ||
	    !set_rule(skel, RULE, 0, 1))
		goto out;
	ASSERT_EQ(run(skel, &s, 1), TC_ACT_OK, "first passes");
	ASSERT_EQ(run(skel, &s, 1), TC_ACT_SHOT, "second shot");
out:
	perim_tc__destroy(skel);
}

/* A frame without a socket (forwarded, or this test run) has cgroup id 0: the table is not consulted. */
static void test_cgroup_table_needs_a_socket(void)
{
	struct frame_spec s = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_lpm_value v = { .n_cand = 1, .cand[0] = { .rule = RULE } };
	struct perim_tc *skel = load_prog();
	__u64 id = 0;

	if (!skel)
		return;
	if (!ASSERT_OK(bpf_map__update_elem(skel->maps.perim_ecgroup, &id, sizeof(id), &v, sizeof(v), BPF_ANY),
		       "cgroup entry") || !set_rule(skel, RULE, 0, 1))
		goto out;
	ASSERT_EQ(run(skel, &s, 3), TC_ACT_OK, "no socket: no cgroup rule, not even id 0");
out:
	perim_tc__destroy(skel);
}

static void test_not_ip_and_malformed(void)
{
	struct frame_spec arp = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .ethertype = 0x0806 };
	struct frame_spec bad = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .ihl = 4 };
	struct perim_tc *skel = load_prog();

	if (!skel)
		return;
	ASSERT_EQ(run(skel, &arp, 1), TC_ACT_OK, "ARP passes");
	ASSERT_EQ(run(skel, &bad, 1), TC_ACT_SHOT, "malformed IPv4 header is shot, as on ingress");
	perim_tc__destroy(skel);
}
