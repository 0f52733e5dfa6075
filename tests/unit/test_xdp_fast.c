// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath unit tests: the fast path (xdp/lib/fast.h): exact-match probes
 * per prefix length against the trie.
 * The harness (loading, maps, counters) is xdp_harness.h.
 */
#include "xdp_harness.h"

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
