// SPDX-License-Identifier: GPL-2.0
/*
 * The datapath's sampled drop events (include/perim_drops.h), through
 * BPF_PROG_TEST_RUN: what a sample holds, that the kernel bounds how many
 * there are, and that their weights account for every drop.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "perim.h"
#include "perim_drops.h"
#include "xdp/perim_xdp.skel.h"
#include "test.h"
#include "xdp_frames.h"

#define SLOT 3
#define RULE 5

struct collected {
	int n;
	uint64_t weights;
	struct perim_drop_event last;
};

static int collect(void *ctx, void *data, size_t size)
{
	struct collected *c = ctx;

	if (size >= sizeof(c->last))
		memcpy(&c->last, data, sizeof(c->last));
	c->n++;
	c->weights += c->last.weight;
	return 0;
}

static struct perim_xdp *load(uint32_t sample_rate)
{
	struct perim_xdp *skel = perim_xdp__open();
	struct bpf_map *map;

	if (!ASSERT_OK_PTR(skel, "perim_xdp__open"))
		return NULL;
	/* No pinning: never touch a running perimd's maps. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.perim_src, 4096);
	bpf_map__set_max_entries(skel->maps.perim_src4, 4096);
	skel->rodata->perim_slot = SLOT;
	skel->rodata->perim_drop_sample_rate = sample_rate;
	bpf_program__set_autoload(skel->progs.perim_xdp_compat, false);
	if (!ASSERT_OK(perim_xdp__load(skel), "perim_xdp__load")) {
		perim_xdp__destroy(skel);
		return NULL;
	}
	return skel;
}

static bool deny(struct perim_xdp *skel, const char *prefix4, int len)
{
	struct perim_lpm4_key k = { .prefixlen = len };
	struct perim_lpm_value v = { .acl = PERIM_ACL_DENY };

	inet_pton(AF_INET, prefix4, k.addr);
	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm4, &k, sizeof(k), &v, sizeof(v), BPF_ANY),
			 "deny entry");
}

static int run(struct perim_xdp *skel, const struct frame_spec *s, int repeat)
{
	struct frame f;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = repeat);

	frame_build(&f, s);
	opts.data_in = f.buf;
	opts.data_size_in = f.len;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.perim_xdp), &opts))
		return -errno;
	return opts.retval;
}

static int drain(struct perim_xdp *skel, struct collected *c)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.perim_drops), collect, c, NULL);
	int n;

	if (!rb)
		return -errno;
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

/* Every CPU's sampling budget, summed: the drops not yet in a sample, and the largest k. */
struct budgets {
	uint64_t pending;
	uint32_t max_k;
};

static struct budgets budgets(struct perim_xdp *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	struct perim_drop_budget *b = calloc(ncpus, sizeof(*b));
	struct budgets all = { 0 };
	__u32 zero = 0;

	if (b && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.perim_drop_budget), &zero, b)) {
		for (int c = 0; c < ncpus; c++) {
			all.pending += b[c].pending;
			all.max_k = b[c].k > all.max_k ? b[c].k : all.max_k;
		}
	}
	free(b);
	return all;
}

static void test_deny_sample_fields(void)
{
	struct frame_spec s = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_xdp *skel = load(PERIM_DROP_SAMPLE_RATE_DEFAULT);
	struct collected c = { 0 };
	char src[INET_ADDRSTRLEN];

	if (!skel)
		return;
	if (deny(skel, "10.9.8.0", 24) && ASSERT_EQ(run(skel, &s, 1), XDP_DROP, "verdict") &&
	    ASSERT_EQ(drain(skel, &c), 1, "one sample")) {
		inet_ntop(AF_INET, c.last.src + 12, src, sizeof(src));
		ASSERT_STREQ(src, "10.9.8.7", "src");
		ASSERT_EQ(c.last.src[10] & c.last.src[11], 0xff, "IPv4-mapped");
		ASSERT_EQ(c.last.slot, SLOT, "slot");
		ASSERT_EQ(c.last.reason, PERIM_REASON_DENY, "reason");
		ASSERT_EQ(c.last.rule, 0, "no rule");
		ASSERT_EQ(c.last.family, 4, "family");
		ASSERT_EQ(c.last.proto, IPPROTO_UDP, "proto");
		ASSERT_EQ(c.last.dport, 53, "dport");
		ASSERT_EQ(c.last.weight, 1, "weight");
		ASSERT_TRUE(c.last.len > 0 && c.last.ts > 0, "len and ts");
	}
	perim_xdp__destroy(skel);
}

static void test_rule_and_malformed_samples(void)
{
	struct frame_spec s = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .dport = 9 };
	struct frame_spec bad = { .family = 4, .src = "10.1.1.1", .proto = IPPROTO_UDP, .ihl = 3 };
	struct perim_lpm4_key k = { .prefixlen = 8, .addr = { 10 } };
	struct perim_lpm_value v = { .n_cand = 1, .cand = { { .rule = RULE } } };
	/* 1 pps, burst 1: the second packet is over the limit. */
	struct perim_rule r = { .flags = PERIM_RULE_ACTIVE, .pkt_interval_ns = 1000000000ULL,
				.pkt_tolerance_ns = 4000000 };
	struct perim_xdp *skel = load(PERIM_DROP_SAMPLE_RATE_DEFAULT);
	struct collected c = { 0 };
	__u32 id = RULE;

	if (!skel)
		return;
	if (ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm4, &k, sizeof(k), &v, sizeof(v), BPF_ANY), "lpm") &&
	    ASSERT_OK(bpf_map__update_elem(skel->maps.perim_rules, &id, sizeof(id), &r, sizeof(r), BPF_ANY), "rule") &&
	    ASSERT_EQ(run(skel, &s, 2), XDP_DROP, "second packet over the limit") &&
	    ASSERT_EQ(drain(skel, &c), 1, "one sample")) {
		ASSERT_EQ(c.last.rule, RULE, "rule");
		ASSERT_EQ(c.last.reason, PERIM_REASON_RATE_PPS, "reason");
	}
	c.n = 0;
	if (ASSERT_EQ(run(skel, &bad, 1), XDP_DROP, "malformed dropped") && ASSERT_EQ(drain(skel, &c), 1, "sample")) {
		ASSERT_EQ(c.last.reason, PERIM_REASON_MALFORMED, "reason");
		ASSERT_EQ(c.last.family, 0, "no family");
	}
	perim_xdp__destroy(skel);
}

static bool deny6(struct perim_xdp *skel, const char *prefix6, int len)
{
	struct perim_lpm6_key k = { .prefixlen = len };
	struct perim_lpm_value v = { .acl = PERIM_ACL_DENY };

	inet_pton(AF_INET6, prefix6, k.addr);
	return ASSERT_OK(bpf_map__update_elem(skel->maps.perim_lpm6, &k, sizeof(k), &v, sizeof(v), BPF_ANY),
			 "deny6 entry");
}

/* The flow a drop sample names: both ports and the destination (xdp_frames.h: sport 12345). */
static void test_sample_carries_the_flow(void)
{
	struct frame_spec v4 = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_TCP, .dport = 8080,
				 .vlans = 2, .ipv4_opt_words = 2 };
	struct frame_spec v6 = { .family = 6, .src = "2001:db8:9::7", .proto = IPPROTO_UDP, .dport = 5353,
				 .ipv6_ext_hdrs = 1 };
	/* 26 bytes of data: the minimal Ethernet frame (60 bytes) an IPv4 fragment arrives in. */
	struct frame_spec later = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .frag = FRAG_LATER,
				    .payload = 26 };
	struct frame_spec tiny = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .frag = FRAG_LATER };
	struct perim_xdp *skel = load(PERIM_DROP_SAMPLE_RATE_DEFAULT);
	struct collected c = { 0 };
	char dst[INET6_ADDRSTRLEN];

	if (!skel)
		return;
	if (deny(skel, "10.9.8.0", 24) && ASSERT_EQ(run(skel, &v4, 1), XDP_DROP, "IPv4 verdict") &&
	    ASSERT_EQ(drain(skel, &c), 1, "IPv4 sample")) {
		inet_ntop(AF_INET, c.last.dst + 12, dst, sizeof(dst));
		ASSERT_STREQ(dst, "192.0.2.1", "IPv4 dst");
		ASSERT_EQ(c.last.dst[10] & c.last.dst[11], 0xff, "dst IPv4-mapped");
		ASSERT_EQ(c.last.sport, 12345, "IPv4 sport");
		ASSERT_EQ(c.last.dport, 8080, "IPv4 dport");
		ASSERT_EQ(c.last.proto, IPPROTO_TCP, "IPv4 proto");
	}
	c.n = 0;
	if (deny6(skel, "2001:db8:9::", 48) && ASSERT_EQ(run(skel, &v6, 1), XDP_DROP, "IPv6 verdict") &&
	    ASSERT_EQ(drain(skel, &c), 1, "IPv6 sample")) {
		inet_ntop(AF_INET6, c.last.dst, dst, sizeof(dst));
		ASSERT_STREQ(dst, "2001:db8::1", "IPv6 dst");
		ASSERT_EQ(c.last.sport, 12345, "IPv6 sport");
		ASSERT_EQ(c.last.dport, 5353, "IPv6 dport after an extension header");
	}
	c.n = 0;
	if (ASSERT_EQ(run(skel, &later, 1), XDP_DROP, "fragment verdict") &&
	    ASSERT_EQ(drain(skel, &c), 1, "fragment sample")) {
		inet_ntop(AF_INET, c.last.dst + 12, dst, sizeof(dst));
		ASSERT_STREQ(dst, "192.0.2.1", "fragment dst");
		ASSERT_EQ(c.last.sport | c.last.dport, 0, "no ports in a later fragment");
	}
	/* Shorter than an IPv6 header behind the IP header (xdp/lib/rule_run.h): sampled, no destination. */
	c.n = 0;
	if (ASSERT_EQ(run(skel, &tiny, 1), XDP_DROP, "tiny fragment verdict") &&
	    ASSERT_EQ(drain(skel, &c), 1, "tiny fragment sample")) {
		inet_ntop(AF_INET, c.last.src + 12, dst, sizeof(dst));
		ASSERT_STREQ(dst, "10.9.8.7", "tiny fragment src");
		inet_ntop(AF_INET, c.last.dst + 12, dst, sizeof(dst));
		ASSERT_STREQ(dst, "0.0.0.0", "tiny fragment: no dst");
	}
	perim_xdp__destroy(skel);
}

/* A flood on one CPU: samples stay within the budget, weights account for every drop. */
static void test_budget_bounds_a_flood(void)
{
	struct frame_spec s = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_xdp *skel = load(PERIM_DROP_SAMPLE_RATE_DEFAULT);
	struct collected c = { 0 };
	const int flood = 300000;
	struct timespec t0, t1;
	double secs;

	if (!skel)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (deny(skel, "10.9.8.0", 24) && ASSERT_EQ(run(skel, &s, flood), XDP_DROP, "verdict")) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		ASSERT_TRUE(drain(skel, &c) > 0, "some samples");
		/* burst + rate * elapsed, plus a coarse-clock tick of slack */
		ASSERT_RANGE(c.n, 1, PERIM_DROP_SAMPLE_BURST + (int)(PERIM_DROP_SAMPLE_RATE_DEFAULT * (secs + 0.01)) + 1,
			     "samples within the budget");
		ASSERT_TRUE(c.n < flood / 100, "far fewer samples than drops");
		/* Every drop is in a sample's weight or still pending on its CPU. */
		ASSERT_EQ(c.weights + budgets(skel).pending, flood, "weights + pending = drops");
	}
	perim_xdp__destroy(skel);
}

/*
 * A flood lasting several sampling periods: from the second period on a
 * CPU selects about 1 drop in k, each sample standing for the drops since
 * the previous one, and the weights still account for every drop.
 */
static void test_selection_after_the_first_period(void)
{
	struct frame_spec s = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_xdp *skel = load(PERIM_DROP_SAMPLE_RATE_DEFAULT);
	struct collected c = { 0 }, last = { 0 };
	const int chunk = 20000;
	struct timespec t0, t1;
	cpu_set_t one, before;
	bool pinned = false;
	uint64_t drops = 0;
	double secs = 0;

	if (!skel)
		return;
	/* The budget is per CPU: one CPU runs every chunk, so one budget bounds the samples. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	if (!deny(skel, "10.9.8.0", 24) ||
	    !ASSERT_OK(sched_getaffinity(0, sizeof(before), &before), "sched_getaffinity") ||
	    !ASSERT_OK(sched_setaffinity(0, sizeof(one), &one), "sched_setaffinity"))
		goto out;
	pinned = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Three periods of PERIM_DROP_PERIOD_NS at least; drained per chunk so the ring never fills. */
	while (secs < 3.5 * PERIM_DROP_PERIOD_NS / 1e9) {
		if (!ASSERT_EQ(run(skel, &s, chunk), XDP_DROP, "verdict"))
			goto out;
		drops += chunk;
		last = (struct collected){ 0 };
		if (!ASSERT_TRUE(drain(skel, &last) >= 0, "drain"))
			goto out;
		c.n += last.n;
		c.weights += last.weights;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	ASSERT_EQ(c.weights + budgets(skel).pending, drops, "weights + pending = drops, over several periods");
	ASSERT_TRUE(budgets(skel).max_k > 1, "a flood makes the CPU select 1 drop in k > 1");
	ASSERT_RANGE(c.n, 1, PERIM_DROP_SAMPLE_BURST + (int)(PERIM_DROP_SAMPLE_RATE_DEFAULT * (secs + 0.01)) + 1,
		     "samples within the budget");
	if (last.n > 0)
		ASSERT_TRUE(last.weights / last.n > 1, "a late sample stands for several drops");
out:
	if (pinned)
		sched_setaffinity(0, sizeof(before), &before);
	perim_xdp__destroy(skel);
}

static void test_rate_zero_samples_nothing(void)
{
	struct frame_spec s = { .family = 4, .src = "10.9.8.7", .proto = IPPROTO_UDP, .dport = 53 };
	struct perim_xdp *skel = load(0);
	struct collected c = { 0 };

	if (!skel)
		return;
	if (deny(skel, "10.9.8.0", 24) && ASSERT_EQ(run(skel, &s, 1000), XDP_DROP, "verdict"))
		ASSERT_EQ(drain(skel, &c), 0, "no samples");
	perim_xdp__destroy(skel);
}
