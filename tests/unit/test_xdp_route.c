// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: routes (xdp/lib/route.h): a known source's rule and
 * bucket in one entry of its bucket table, deciding without a prefix lookup
 * while its epoch is perim_rules[0].gen, and only where the rule is every
 * packet's rule of that source.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

#define RULE_TCP 8

/* What perimd does after an apply that changed prefix entries (rules_apply.c). */
static bool epoch_set(struct perim_xdp *skel, uint32_t epoch)
{
	struct perim_rule r = { .gen = epoch };

	return rule_set(skel, PERIM_RULE_EPOCH_SLOT, &r);
}

static int route_get(struct perim_xdp *skel, const char *src, struct perim_src_route *route)
{
	struct perim_src4_key key = { .rule = PERIM_SRC_ROUTE | SLOT };

	inet_pton(AF_INET, src, key.addr);
	return bpf_map__lookup_elem(skel->maps.perim_src4, &key, sizeof(key), route, sizeof(*route), 0);
}

static bool lpm_del(struct perim_xdp *skel, const char *prefix)
{
	struct test_lpm_key key;

	if (!ASSERT_TRUE(parse_prefix(prefix, &key), prefix))
		return false;
	return ASSERT_OK(bpf_map__delete_elem(skel->maps.perim_lpm4, &key.k4, sizeof(key.k4), 0), "lpm delete");
}

/*
 * The route decides: with the source's prefix entry gone, its packets still
 * meet the rule until the epoch moves on; then the prefix lookup decides
 * again (no entry: they pass, and the rule sees none of them).
 */
static void test_route_decides_until_new_epoch(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_src_route route;
	uint64_t matched;

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r) || !epoch_set(skel, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_PASS, "first packet");
	if (!ASSERT_OK(route_get(skel, "10.1.2.3", &route), "route created"))
		goto out;
	ASSERT_EQ(route.cand.rule, RULE, "route names the rule");
	ASSERT_EQ(route.epoch, 1, "route decides in epoch 1");

	if (!lpm_del(skel, "10.0.0.0/8"))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 3), XDP_DROP, "decided by the route: burst 2 spent");
	matched = rule_stats(skel, RULE).matched_packets;
	ASSERT_EQ(matched, 4, "the rule saw every packet");

	if (!epoch_set(skel, 2))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 3), XDP_PASS, "new epoch: no entry, no rule");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, matched, "the rule saw none of them");
out:
	perim_xdp__destroy(skel);
}

/*
 * A rule that is not the entry's first candidate is not every packet's
 * rule: its route homes the bucket but decides nothing, and a packet the
 * first candidate fits meets that rule.
 */
static void test_route_later_candidate_does_not_decide(void)
{
	struct perim_candidate c[2] = { cand(RULE_TCP, IPPROTO_TCP, 80, 80, 0), cand(RULE, PERIM_PROTO_ANY, 0, 0, 0) };
	struct perim_rule r = rule_burst(100, PERIM_RULE_PER_SOURCE);
	struct frame_spec udp = V4("10.1.2.3", IPPROTO_UDP, 53), tcp = V4("10.1.2.3", IPPROTO_TCP, 80);
	struct perim_xdp *skel = load_prog(false);
	struct perim_src_route route;

	if (!skel)
		return;
	if (!lpm_add(skel, "10.0.0.0/8", PERIM_ACL_NONE, c, 2) || !rule_set(skel, RULE, &r) ||
	    !rule_set(skel, RULE_TCP, &r) || !epoch_set(skel, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &udp, 1), XDP_PASS, "udp packet");
	if (!ASSERT_OK(route_get(skel, "10.1.2.3", &route), "route created"))
		goto out;
	ASSERT_EQ(route.cand.rule, RULE, "route homes the any-protocol rule's bucket");
	ASSERT_EQ(route.epoch, 0, "and decides nothing");
	ASSERT_EQ(run_spec(skel, &tcp, 1), XDP_PASS, "tcp/80 packet");
	ASSERT_EQ(rule_stats(skel, RULE_TCP).matched_packets, 1, "tcp/80 met its own rule");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 1, "not the route's");
out:
	perim_xdp__destroy(skel);
}

/* A new epoch with the same entry: the bucket is kept (no new burst) and the route decides again. */
static void test_route_new_epoch_keeps_bucket(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_src_route route;

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r) || !epoch_set(skel, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 3), XDP_DROP, "burst 2 spent");
	if (!epoch_set(skel, 2))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_DROP, "still spent after the new epoch");
	ASSERT_EQ(if_stats(skel).passed_packets, 2, "only the burst passed");
	if (ASSERT_OK(route_get(skel, "10.1.2.3", &route), "route"))
		ASSERT_EQ(route.epoch, 2, "route decides in the new epoch");
out:
	perim_xdp__destroy(skel);
}

/* A byte limit needs byte_tat, which a route has not: the bucket keeps its {rule, address} key. */
static void test_route_byte_limit_keeps_rule_key(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_src4_key key = { .rule = RULE };
	struct perim_xdp *skel = load_prog(false);
	struct perim_src_route route;
	struct perim_bucket b;

	if (!skel)
		return;
	r.byte_cost_fp16 = 1 << 16;
	r.byte_tolerance_ns = SEC_NS;
	if (!simple_rule(skel, "10.0.0.0/8", &r) || !epoch_set(skel, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_PASS, "first packet");
	inet_pton(AF_INET, "10.1.2.3", key.addr);
	ASSERT_OK(bpf_map__lookup_elem(skel->maps.perim_src4, &key, sizeof(key), &b, sizeof(b), 0),
		  "bucket under {rule, address}");
	ASSERT_TRUE(b.byte_tat > 0, "its byte bucket charged");
	ASSERT_EQ(route_get(skel, "10.1.2.3", &route), -ENOENT, "no route");
out:
	perim_xdp__destroy(skel);
}

/* The plain-store twin (kernels < 5.12) decides by route the same way. */
static void test_route_compat_program(void)
{
	struct perim_rule r = rule_burst(2, PERIM_RULE_PER_SOURCE);
	struct frame_spec a = V4("10.1.2.3", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(true);

	if (!skel)
		return;
	if (!simple_rule(skel, "10.0.0.0/8", &r) || !epoch_set(skel, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 1), XDP_PASS, "first packet");
	if (!lpm_del(skel, "10.0.0.0/8"))
		goto out;
	ASSERT_EQ(run_spec(skel, &a, 2), XDP_DROP, "decided by the route");
	ASSERT_EQ(rule_stats(skel, RULE).dropped_packets, 1, "dropped by the rule");
out:
	perim_xdp__destroy(skel);
}
