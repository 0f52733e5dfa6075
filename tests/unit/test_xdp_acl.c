// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: allow and deny prefixes.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

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

/*
 * A protected entry (PERIM_ACL_PROTECTED, protect candidates first): its
 * matching packets pass before a deny, local or fleet (issue 20), and are
 * counted as protected; the rest of the prefix gets the deny.
 */
static void protected_passes(uint8_t verdict, enum perim_reason reason)
{
	struct perim_candidate c = cand(0, IPPROTO_TCP, 22, 22, PERIM_CAND_PROTECT);
	struct frame_spec ssh = V4("198.51.100.7", IPPROTO_TCP, 22);
	struct frame_spec other = V4("198.51.100.7", IPPROTO_UDP, 53);
	struct perim_xdp *skel = load_prog(false);
	struct perim_if_counters ic;

	if (!skel)
		return;
	if (!lpm_add(skel, "198.51.100.0/24", verdict | PERIM_ACL_PROTECTED, &c, 1))
		goto out;
	ASSERT_EQ(run_spec(skel, &ssh, 3), XDP_PASS, "protected verdict");
	ASSERT_EQ(run_spec(skel, &other, 2), XDP_DROP, "unprotected port's verdict");
	ic = if_stats(skel);
	ASSERT_EQ(ic.protected_packets, 3, "protected");
	ASSERT_EQ(ic.passed_packets, 3, "passed");
	ASSERT_EQ(ic.dropped_packets[reason], 2, "denied");
out:
	perim_xdp__destroy(skel);
}

static void test_acl_protected_passes_deny(void)
{
	protected_passes(PERIM_ACL_DENY, PERIM_REASON_DENY);
}

static void test_acl_protected_passes_fleet_deny(void)
{
	protected_passes(PERIM_ACL_FLEET_DENY, PERIM_REASON_FLEET_DENY);
}

/* No deny, a rule that admits one packet: the protected source's packets skip the rule. */
static void test_acl_protected_skips_rules(void)
{
	struct perim_candidate c[2] = { cand(0, IPPROTO_TCP, 22, 22, PERIM_CAND_PROTECT),
					cand(RULE, PERIM_PROTO_ANY, 0, 0, 0) };
	struct perim_rule r = rule_burst(1, 0);
	struct frame_spec ssh = V4("10.9.0.1", IPPROTO_TCP, 22);
	struct frame_spec web = V4("10.9.0.1", IPPROTO_TCP, 80);
	struct perim_xdp *skel = load_prog(false);

	if (!skel)
		return;
	if (!lpm_add(skel, "10.9.0.0/16", PERIM_ACL_NONE | PERIM_ACL_PROTECTED, c, 2) || !rule_set(skel, RULE, &r))
		goto out;
	ASSERT_EQ(run_spec(skel, &ssh, 5), XDP_PASS, "protected verdict");
	ASSERT_EQ(rule_stats(skel, RULE).matched_packets, 0, "rule untouched by protected packets");
	ASSERT_EQ(run_spec(skel, &web, 3), XDP_DROP, "the rule still limits the rest");
	ASSERT_EQ(if_stats(skel).protected_packets, 5, "protected");
out:
	perim_xdp__destroy(skel);
}
