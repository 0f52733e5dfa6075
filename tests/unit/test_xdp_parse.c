// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: the parse paths (VLAN tags, IPv4 options and
 * fragments, IPv6 extension headers) seen through a matching rule.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

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

/* EtherType 0x0000 (an 802.3 length field) is not IP, not a cut frame (found by tests/fuzz/xdp_diff). */
static void test_parse_ethertype_zero_passes(void)
{
	struct frame_spec s = { .ethertype = 0x0806, .payload = 46 };   /* then zeroed */
	struct perim_xdp *skel = load_prog(false);
	struct frame f;

	if (!skel)
		return;
	frame_build(&f, &s);
	f.buf[12] = f.buf[13] = 0;
	ASSERT_EQ(run_frame(skel, &f, 1), XDP_PASS, "verdict");
	ASSERT_EQ(if_stats(skel).dropped_packets[PERIM_REASON_MALFORMED], 0, "malformed drops");
	perim_xdp__destroy(skel);
}
