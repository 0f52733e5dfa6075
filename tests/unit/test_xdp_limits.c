// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: per-source, aggregate, byte and block-time
 * limits, new-source admission, rule generations, counters, several CPUs on
 * one bucket, the compat program.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "names.h"
#include "xdp_harness.h"

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
	ASSERT_EQ(map_entries(skel->maps.perim_src4), 2, "two source buckets, in the IPv4 table");
	ASSERT_EQ(map_entries(skel->maps.perim_src), 0, "none in the IPv6 table");
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
	ASSERT_EQ(map_entries(skel->maps.perim_src), 2, "two source buckets, in the IPv6 table");
	ASSERT_EQ(map_entries(skel->maps.perim_src4), 0, "none in the IPv4 table");
out:
	perim_xdp__destroy(skel);
}

/* ::ffff:10.1.2.3 in an IPv6 header is an IPv6 source: its own bucket, apart from 10.1.2.3's. */
static void test_limit_per_source_v4_mapped(void)
{
	struct perim_rule r = rule_burst(3, PERIM_RULE_PER_SOURCE);
	struct frame_spec v4 = V4("10.1.2.3", IPPROTO_UDP, 53), mapped = V6("::ffff:10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!simple_rule(skel, "::/0", &r) || !simple_rule(skel, "0.0.0.0/0", &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &v4, 10), XDP_DROP, "IPv4 source limited");
	ASSERT_EQ(run_spec(skel, &mapped, 3), XDP_PASS, "the mapped source has its own burst");
	ASSERT_EQ(rule_stats(skel, RULE).passed_packets, 6, "3 per source");
	ASSERT_EQ(map_entries(skel->maps.perim_src4), 1, "one bucket in the IPv4 table");
	ASSERT_EQ(map_entries(skel->maps.perim_src), 1, "one in the IPv6 table");
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
	/* The rule has no byte limit: the source's bucket is its route (perim.h). */
	struct perim_src4_key key = { .rule = PERIM_SRC_ROUTE | SLOT };
	struct perim_src_route b;

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
	inet_pton(AF_INET, "10.1.2.3", key.addr);
	if (!ASSERT_OK(bpf_map__lookup_elem(skel->maps.perim_src4, &key, sizeof(key), &b, sizeof(b), 0),
		       "bucket lookup"))
		goto out;
	ASSERT_EQ(b.cand.rule, RULE, "the route names the rule");
	ASSERT_TRUE(b.blocked_until > 0, "blocked_until set");
	b.blocked_until = 1;
	b.pkt_tat = 0;
	ASSERT_OK(bpf_map__update_elem(skel->maps.perim_src4, &key, sizeof(key), &b, sizeof(b), 0),
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
 * compare-and-swap update the total admitted is exactly the burst plus the
 * refill during the run at 1 pps (one packet a second: a loaded machine
 * makes the run last several seconds). The plain-store twin
 * (perim_xdp_compat) admitted 2000-3075 in the same setup: lost updates.
 */
static void test_multi_cpu_one_bucket(void)
{
	struct perim_rule r = rule_burst(2000, 0);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel;
	struct cpu_run runs[2];
	pthread_t th[2];
	uint64_t passed, started, seconds;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		TEST_SKIP("needs 2 online CPUs");
		return;
	}
	skel = load_prog(false);
	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r))
		goto out;
	started = perim_mono_ns();
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
	seconds = (perim_mono_ns() - started) / 1000000000ull;
	passed = rule_stats(skel, RULE).passed_packets;
	ASSERT_RANGE(passed, 2000, 2001 + seconds, "admitted across CPUs");
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
