// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: rule matching (protocol, port ranges, SYN,
 * candidate order, longest prefix, slots, families).
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

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
