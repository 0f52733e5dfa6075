// SPDX-License-Identifier: GPL-2.0
/* perimd's rule model: spec -> rule conversion, flattening, transactional apply. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "rules.h"
#include "test.h"

PERIM_TEST_GLOBALS;

static char err[256];

static struct perim_prefix pfx(const char *s)
{
	struct perim_prefix p;

	if (perim_prefix_parse(s, &p))
		fprintf(stderr, "  bad test prefix %s\n", s);
	return p;
}

static struct perim_limit_spec spec_rate(uint64_t pps)
{
	struct perim_limit_spec s = { .rate_pps = pps, .per_source = true };

	return s;
}

static struct perim_limit_spec spec_src(const char *prefix, uint64_t pps)
{
	struct perim_limit_spec s = spec_rate(pps);

	s.has_src = true;
	s.src = pfx(prefix);
	return s;
}

static uint32_t add_limit(struct perim_model *m, int slot, struct perim_limit_spec s)
{
	uint32_t id = 0;

	if (perim_model_limit_add(m, slot, &s, &id, err, sizeof(err)))
		fprintf(stderr, "  limit_add: %s\n", err);
	return id;
}

static const struct perim_lpm_entry *entry_of(const struct perim_lpm_set *set, int slot, const char *prefix)
{
	struct perim_prefix p = pfx(prefix);
	struct perim_lpm_key key;

	perim_lpm_key_make(&key, slot, &p);
	return perim_lpm_set_find(set, &key);
}

static struct perim_model *model_with_iface(const char *dev)
{
	struct perim_model *m = perim_model_new();

	if (m && perim_model_iface_add(m, dev, PERIM_MODE_DEFAULT, -1, err, sizeof(err)))
		fprintf(stderr, "  iface_add: %s\n", err);
	return m;
}

static void test_spec_to_rule_defaults(void)
{
	struct perim_limit_spec s = spec_rate(1000);
	struct perim_rule r;

	perim_rule_from_spec(&s, 4000000, &r);
	ASSERT_EQ(r.flags, PERIM_RULE_ACTIVE | PERIM_RULE_PER_SOURCE, "flags");
	ASSERT_EQ(r.pkt_interval_ns, 1000000, "interval = 1e9 / rate");
	/* default burst = one second's worth */
	ASSERT_EQ(r.pkt_tolerance_ns, 999ULL * 1000000, "tolerance = (burst - 1) * interval");
	ASSERT_EQ(r.byte_cost_fp16, 0, "no byte limit");
	ASSERT_EQ(r.block_ns, 0, "no block");
	/* new sources: max(16 * 1000, 1024) = 16000/s */
	ASSERT_EQ(r.newsrc_interval_ns, 1000000000ULL / 16000, "newsrc interval");
	ASSERT_EQ(r.newsrc_tolerance_ns, 15999ULL * (1000000000ULL / 16000), "newsrc: one second of burst");
}

static void test_spec_to_rule_floors_and_bytes(void)
{
	struct perim_limit_spec s = spec_rate(100000);
	struct perim_rule r;

	s.burst = 1;
	s.bytes_per_s = 125000; /* 1 mbit */
	s.block_s = 7;
	s.per_source = false;
	s.dry_run = true;
	perim_rule_from_spec(&s, 4000000, &r);
	ASSERT_EQ(r.flags, PERIM_RULE_ACTIVE | PERIM_RULE_DRY_RUN, "aggregate dry-run flags");
	ASSERT_EQ(r.pkt_interval_ns, 10000, "interval");
	ASSERT_EQ(r.pkt_tolerance_ns, 8000000, "burst 1 still gets two coarse-clock ticks");
	ASSERT_EQ(r.byte_cost_fp16, (1000000000ULL << 16) / 125000, "byte cost 16.16");
	ASSERT_EQ(r.byte_tolerance_ns, 8000000, "byte tolerance floored at two ticks");
	ASSERT_EQ(r.block_ns, 7000000000ULL, "block");
	ASSERT_EQ(r.newsrc_interval_ns, 0, "aggregate: no new-source admission");

	s = spec_rate(10);
	perim_rule_from_spec(&s, 4000000, &r);
	ASSERT_EQ(r.newsrc_interval_ns, 1000000000ULL / 1024, "newsrc rate floor 1024/s");
	ASSERT_TRUE(perim_clock_tick_ns() > 0, "clock tick");
}

static void test_no_src_covers_both_families(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e4, *e6;
	uint32_t id = add_limit(m, 0, spec_rate(100));

	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	ASSERT_EQ(set.n, 2, "two entries");
	e4 = entry_of(&set, 0, "0.0.0.0/0");
	e6 = entry_of(&set, 0, "::/0");
	if (ASSERT_OK_PTR(e4, "v4 entry") && ASSERT_OK_PTR(e6, "v6 entry")) {
		ASSERT_EQ(e4->key.prefixlen, 32 + 96, "v4 /0 prefixlen");
		ASSERT_EQ(e6->key.prefixlen, 32, "v6 /0 prefixlen");
		ASSERT_EQ(e4->value.n_cand, 1, "v4 cand");
		ASSERT_EQ(e4->value.cand[0].rule, id, "v4 rule");
		ASSERT_EQ(e6->value.cand[0].rule, id, "v6 rule");
	}
	perim_lpm_set_free(&set);
	perim_model_free(m);
}

static void test_covering_prefixes_and_order(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_limit_spec udp53 = spec_src("10.0.0.0/8", 50);
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e;
	uint32_t wide, narrow, port, other6;

	udp53.proto = IPPROTO_UDP;
	udp53.dport_lo = udp53.dport_hi = 53;
	wide = add_limit(m, 0, spec_src("10.0.0.0/8", 1000));
	narrow = add_limit(m, 0, spec_src("10.1.0.0/16", 10));
	port = add_limit(m, 0, udp53);
	other6 = add_limit(m, 0, spec_src("2001:db8::/32", 5));

	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	ASSERT_EQ(set.n, 3, "three distinct prefixes");
	e = entry_of(&set, 0, "10.1.0.0/16");
	if (ASSERT_OK_PTR(e, "10.1/16")) {
		ASSERT_EQ(e->key.prefixlen, 32 + 96 + 16, "prefixlen");
		ASSERT_EQ(e->value.n_cand, 3, "own rule + two covering");
		ASSERT_EQ(e->value.cand[0].rule, narrow, "most specific prefix first");
		ASSERT_EQ(e->value.cand[1].rule, port, "then the more specific match");
		ASSERT_EQ(e->value.cand[2].rule, wide, "then the plain covering rule");
		ASSERT_EQ(e->value.cand[1].proto, IPPROTO_UDP, "proto copied");
		ASSERT_EQ(e->value.cand[1].dport_lo, 53, "port copied");
	}
	e = entry_of(&set, 0, "10.0.0.0/8");
	if (ASSERT_OK_PTR(e, "10/8")) {
		ASSERT_EQ(e->value.n_cand, 2, "the /16 rule does not cover the /8");
		ASSERT_EQ(e->value.cand[0].rule, port, "same prefix: specific match first");
		ASSERT_EQ(e->value.cand[1].rule, wide, "then lower id");
	}
	e = entry_of(&set, 0, "2001:db8::/32");
	if (ASSERT_OK_PTR(e, "v6 entry")) {
		ASSERT_EQ(e->key.prefixlen, 32 + 32, "v6 prefixlen");
		ASSERT_EQ(e->value.n_cand, 1, "v4 rules do not cover v6");
		ASSERT_EQ(e->value.cand[0].rule, other6, "v6 rule");
	}
	perim_lpm_set_free(&set);
	perim_model_free(m);
}

static void test_acl_inheritance(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_prefix allow = pfx("10.0.0.0/8"), deny = pfx("10.9.0.0/16");
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e;

	add_limit(m, 0, spec_src("10.1.2.0/24", 10));
	add_limit(m, 0, spec_src("10.9.1.0/24", 10));
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_ALLOW, &allow, err, sizeof(err)), err);
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_DENY, &deny, err, sizeof(err)), err);
	ASSERT_EQ(perim_model_acl_add(m, 0, PERIM_ACL_DENY, &allow, err, sizeof(err)), PERIM_EXIT_BADINPUT,
		  "same prefix in both lists");
	ASSERT_TRUE(strstr(err, "\"10.0.0.0/8\"") != NULL, "error names the prefix");

	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	e = entry_of(&set, 0, "10.1.2.0/24");
	if (ASSERT_OK_PTR(e, "rule under allow"))
		ASSERT_EQ(e->value.acl, PERIM_ACL_ALLOW, "inherits allow");
	e = entry_of(&set, 0, "10.9.1.0/24");
	if (ASSERT_OK_PTR(e, "rule under deny"))
		ASSERT_EQ(e->value.acl, PERIM_ACL_DENY, "longest covering ACL wins");
	e = entry_of(&set, 0, "10.0.0.0/8");
	if (ASSERT_OK_PTR(e, "acl entry")) {
		ASSERT_EQ(e->value.acl, PERIM_ACL_ALLOW, "own verdict");
		ASSERT_EQ(e->value.n_cand, 0, "no covering rule");
	}
	perim_lpm_set_free(&set);

	ASSERT_EQ(perim_model_acl_del(m, 0, PERIM_ACL_DENY, &allow, err, sizeof(err)), PERIM_EXIT_BADINPUT,
		  "wrong list");
	ASSERT_OK(perim_model_acl_del(m, 0, PERIM_ACL_ALLOW, &allow, err, sizeof(err)), err);
	ASSERT_EQ(m->n_acl, 1, "one left");
	perim_model_free(m);
}

static void test_slots_are_separate(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_lpm_set set;
	uint32_t a, b;

	ASSERT_OK(perim_model_iface_add(m, "eth1", PERIM_MODE_SKB, 5, err, sizeof(err)), err);
	ASSERT_EQ(perim_model_iface_add(m, "eth1", PERIM_MODE_SKB, -1, err, sizeof(err)), PERIM_EXIT_BADINPUT,
		  "duplicate interface");
	ASSERT_EQ(perim_model_iface_find(m, "eth1"), 5, "requested slot kept");
	a = add_limit(m, 0, spec_src("10.0.0.0/8", 1));
	b = add_limit(m, 5, spec_src("10.0.0.0/8", 2));
	ASSERT_EQ(a, 1, "first id");
	ASSERT_EQ(b, 2, "second id");
	ASSERT_EQ(perim_model_limit_del(m, 0, b, err, sizeof(err)), PERIM_EXIT_BADINPUT, "rule of another interface");
	ASSERT_TRUE(strstr(err, "\"2\"") != NULL, "error names the id");
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	ASSERT_EQ(set.n, 2, "one entry per slot");
	if (ASSERT_OK_PTR(entry_of(&set, 5, "10.0.0.0/8"), "slot 5"))
		ASSERT_EQ(entry_of(&set, 5, "10.0.0.0/8")->value.cand[0].rule, b, "slot 5 rule");
	perim_lpm_set_free(&set);

	perim_model_iface_del(m, 5);
	ASSERT_EQ(m->rules[b].used, 0, "rules go with the interface");
	ASSERT_OK(perim_model_limit_del(m, 0, a, err, sizeof(err)), err);
	ASSERT_EQ(add_limit(m, 0, spec_rate(5)), 1, "lowest free id reused");
	perim_model_free(m);
}

static void test_too_many_candidates(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_lpm_set set;
	char p[32];

	for (int i = 0; i < PERIM_MAX_CANDIDATES; i++) {
		snprintf(p, sizeof(p), "10.0.0.0/%d", 8 + i);
		add_limit(m, 0, spec_src(p, 10));
	}
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), "16 nested rules fit");
	perim_lpm_set_free(&set);
	add_limit(m, 0, spec_src("10.0.0.0/30", 10));
	ASSERT_EQ(perim_flatten(m, &set, err, sizeof(err)), PERIM_EXIT_BADINPUT, "17 do not");
	ASSERT_TRUE(strstr(err, "\"10.0.0.0/30\"") && strstr(err, "17"), err);
	perim_model_free(m);
}

/* ---- apply against real maps ---- */

static int lpm_map(unsigned max_entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_lpm", sizeof(struct perim_lpm_key),
			      sizeof(struct perim_lpm_value), max_entries, &o);
}

static int rules_map(void)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_rules", 4, sizeof(struct perim_rule), PERIM_MAX_RULES, NULL);
}

static size_t map_count(int fd)
{
	struct perim_lpm_key k, *prev = NULL, cur;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		n++;
		cur = k;
		prev = &cur;
	}
	return n;
}

/* The map holds exactly the entries of set. */
static bool map_equals(int fd, const struct perim_lpm_set *set)
{
	struct perim_lpm_value v;

	if (map_count(fd) != set->n)
		return false;
	for (size_t i = 0; i < set->n; i++)
		if (bpf_map_lookup_elem(fd, &set->e[i].key, &v) ||
		    memcmp(&v, &set->e[i].value, sizeof(v)))
			return false;
	return true;
}

static void test_apply_update_then_delete(void)
{
	struct perim_maps maps = { .lpm_fd = lpm_map(64), .rules_fd = rules_map(), .rule_stats_fd = -1 };
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0");
	struct perim_rule r;
	uint32_t id, key;

	if (!ASSERT_TRUE(maps.lpm_fd >= 0 && maps.rules_fd >= 0, "maps (needs root)"))
		goto out;
	id = add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_TRUE(map_equals(maps.lpm_fd, &in->lpm), "map = installed");
	key = id;
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.flags & PERIM_RULE_ACTIVE, PERIM_RULE_ACTIVE, "active");
	ASSERT_EQ(r.gen, 1, "first use: gen 1");

	/* Re-reading the maps (a restarted daemon) and re-applying changes nothing. */
	perim_installed_free(in);
	in = perim_installed_new();
	ASSERT_OK(perim_installed_read(in, &maps, err, sizeof(err)), err);
	ASSERT_EQ(in->lpm.n, 1, "read back");
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.gen, 1, "same parameters keep their gen");

	ASSERT_OK(perim_model_limit_del(m, 0, id, err, sizeof(err)), err);
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_EQ(map_count(maps.lpm_fd), 0, "stale entry deleted");
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.flags, 0, "deactivated");
	ASSERT_EQ(add_limit(m, 0, spec_src("10.0.0.0/8", 100)), id, "slot reused");
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.gen, 2, "reuse bumps gen");
out:
	perim_model_free(m);
	perim_installed_free(in);
	close(maps.lpm_fd);
	close(maps.rules_fd);
}

static void test_apply_rolls_back(void)
{
	struct perim_maps maps = { .lpm_fd = lpm_map(4), .rules_fd = rules_map(), .rule_stats_fd = -1 };
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0"), *next;
	struct perim_lpm_set before = { 0 };
	struct perim_rule r, rules_before[8];
	char p[32];

	if (!ASSERT_TRUE(maps.lpm_fd >= 0 && maps.rules_fd >= 0, "maps (needs root)"))
		goto out;
	add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	add_limit(m, 0, spec_src("10.1.0.0/16", 100));
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	before.n = in->lpm.n;
	before.e = malloc(before.n * sizeof(*before.e));
	memcpy(before.e, in->lpm.e, before.n * sizeof(*before.e));
	memcpy(rules_before, in->rules, sizeof(rules_before));

	/* Change one rule and add three prefixes: five entries do not fit in four. */
	next = perim_model_dup(m);
	next->rules[1].spec.rate_pps = 7;
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "192.168.%d.0/24", i);
		add_limit(next, 0, spec_src(p, 1));
	}
	ASSERT_EQ(perim_apply(&maps, in, next, err, sizeof(err)), PERIM_EXIT_FAIL, "apply fails");
	ASSERT_TRUE(strstr(err, "writing LPM entry") != NULL, err);
	ASSERT_TRUE(map_equals(maps.lpm_fd, &before), "LPM map holds the old set");
	ASSERT_EQ(in->lpm.n, before.n, "installed set unchanged");
	for (uint32_t id = 1; id < 8; id++) {
		ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &id, &r), "rule");
		ASSERT_TRUE(!memcmp(&r, &rules_before[id], sizeof(r)), "rule restored");
	}
	perim_model_free(next);
out:
	free(before.e);
	perim_model_free(m);
	perim_installed_free(in);
	close(maps.lpm_fd);
	close(maps.rules_fd);
}

static const struct perim_test tests[] = {
	TEST(test_spec_to_rule_defaults),
	TEST(test_spec_to_rule_floors_and_bytes),
	TEST(test_no_src_covers_both_families),
	TEST(test_covering_prefixes_and_order),
	TEST(test_acl_inheritance),
	TEST(test_slots_are_separate),
	TEST(test_too_many_candidates),
	TEST(test_apply_update_then_delete),
	TEST(test_apply_rolls_back),
	{ 0 },
};

int main(int argc, char **argv)
{
	return perim_test_main(tests, argc, argv);
}
