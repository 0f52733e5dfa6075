// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: frames cut short or lying at each layer, dropped
 * and counted as malformed.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

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

/* Found by the differential test (tests/fuzz/xdp_diff): cut TCP options, a long extension header. */
static void test_malformed_tcp_options_beyond_frame(void)
{
	struct frame_spec s = V4("10.1.2.3", IPPROTO_TCP, 80);
	struct frame f;

	frame_build(&f, &s);
	f.buf[14 + 20 + 12] = 8 << 4;                 /* doff 8: 12 option bytes the frame lacks */
	expect_malformed_frame(&f);
}

static void test_malformed_ipv6_ext_header_beyond_frame(void)
{
	struct frame_spec s = V6("2001:db8::9", 59, 0);   /* no next header: nothing after the chain */
	struct frame f;

	s.ipv6_ext_hdrs = 1;
	frame_build(&f, &s);
	f.buf[14 + 40 + 1] = 200;                     /* hdrlen 200: 1608 bytes claimed, 8 there */
	expect_malformed_frame(&f);
}
