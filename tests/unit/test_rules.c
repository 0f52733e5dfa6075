// SPDX-License-Identifier: GPL-2.0
/* perimd's rule model: spec -> rule conversion, flattening, transactional apply. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <bpf/bpf.h>

#include "model/rules.h"
#include "test.h"

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
	struct perim_lpm_ukey key;

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
		ASSERT_EQ(e4->key.family, PERIM_LPM_V4, "v4 trie");
		ASSERT_EQ(e6->key.family, PERIM_LPM_V6, "v6 trie");
		ASSERT_EQ(e4->key.prefixlen, 0, "v4 /0 prefixlen");
		ASSERT_EQ(e6->key.prefixlen, 0, "v6 /0 prefixlen");
		ASSERT_EQ(e4->value.n_cand, 1, "v4 cand");
		ASSERT_EQ(e4->value.cand[0].rule, id, "v4 rule");
		ASSERT_EQ(e6->value.cand[0].rule, id, "v6 rule");
	}
	perim_lpm_set_free(&set);
	perim_model_free(m);
}

/*
 * A prefix that covers IPv4-mapped space (::/0) reaches IPv4 sources through
 * a 0.0.0.0/0 entry in the IPv4 trie; a mapped prefix goes to the IPv4 trie.
 */
static void test_v6_prefix_covering_v4(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_prefix any6 = pfx("::/0");
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e;
	uint32_t id, mapped;

	id = add_limit(m, 0, spec_src("::/0", 100));
	mapped = add_limit(m, 0, spec_src("::ffff:10.0.0.0/104", 5));
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_DENY, &any6, err, sizeof(err)), err);
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	ASSERT_EQ(set.n, 3, "::/0, 0.0.0.0/0, 10.0.0.0/8");
	e = entry_of(&set, 0, "0.0.0.0/0");
	if (ASSERT_OK_PTR(e, "IPv4 /0 entry")) {
		ASSERT_EQ(e->value.acl, PERIM_ACL_DENY, "::/0's verdict");
		ASSERT_EQ(e->value.n_cand, 1, "::/0's rule");
		ASSERT_EQ(e->value.cand[0].rule, id, "rule id");
	}
	e = entry_of(&set, 0, "10.0.0.0/8");
	if (ASSERT_OK_PTR(e, "mapped prefix as IPv4 /8")) {
		ASSERT_EQ(e->key.family, PERIM_LPM_V4, "IPv4 trie");
		ASSERT_EQ(e->key.prefixlen, 8, "prefixlen");
		ASSERT_EQ(e->value.n_cand, 2, "own + ::/0");
		ASSERT_EQ(e->value.cand[0].rule, mapped, "own first");
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
		ASSERT_EQ(e->key.family, PERIM_LPM_V4, "IPv4 trie");
		ASSERT_EQ(e->key.prefixlen, 16, "prefixlen: address bits");
		ASSERT_EQ(e->key.addr[0] * 256 + e->key.addr[1], 10 * 256 + 1, "address in addr[0..3]");
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
		ASSERT_EQ(e->key.family, PERIM_LPM_V6, "IPv6 trie");
		ASSERT_EQ(e->key.prefixlen, 32, "v6 prefixlen");
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

/* Protect entries are the first candidates of the entries they cover, which are marked. */
static void test_protect_candidates_first(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_protect_spec p = { .prefix = pfx("10.1.0.0/16"), .proto = IPPROTO_TCP,
					.dport_lo = 22, .dport_hi = 22 };
	struct perim_prefix deny = pfx("0.0.0.0/0");
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e;

	add_limit(m, 0, spec_src("10.1.2.0/24", 10));
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_DENY, &deny, err, sizeof(err)), err);
	ASSERT_OK(perim_model_protect_add(m, 0, &p, err, sizeof(err)), err);
	ASSERT_EQ(perim_model_protect_add(m, 0, &p, err, sizeof(err)), PERIM_EXIT_BADINPUT, "twice");
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	e = entry_of(&set, 0, "10.1.2.0/24");
	if (ASSERT_OK_PTR(e, "rule under the protected prefix")) {
		ASSERT_EQ(e->value.acl, PERIM_ACL_DENY | PERIM_ACL_PROTECTED, "deny, marked");
		ASSERT_EQ(e->value.n_cand, 2, "protect + rule");
		ASSERT_EQ(e->value.cand[0].flags, PERIM_CAND_PROTECT, "protect first");
		ASSERT_EQ(e->value.cand[0].rule, 0, "no rule");
		ASSERT_EQ(e->value.cand[0].dport_lo, 22, "its port");
		ASSERT_EQ(e->value.cand[1].flags & PERIM_CAND_PROTECT, 0, "then the rule");
	}
	e = entry_of(&set, 0, "0.0.0.0/0");
	if (ASSERT_OK_PTR(e, "the deny"))
		ASSERT_EQ(e->value.acl, PERIM_ACL_DENY, "not marked outside the protected prefix");
	perim_lpm_set_free(&set);
	ASSERT_OK(perim_model_protect_del(m, 0, &p, err, sizeof(err)), err);
	ASSERT_EQ(m->n_protect, 0, "removed");
	perim_model_free(m);
}

/* A fleet decision covering a protected prefix: the entry carries both, the datapath passes protected first. */
static void test_protect_under_fleet_deny(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_protect_spec p = { .prefix = pfx("192.0.2.10/32") };
	struct perim_prefix fleet = pfx("192.0.2.0/24");
	struct perim_lpm_set set;
	const struct perim_lpm_entry *e;

	ASSERT_OK(perim_model_protect_add(m, 0, &p, err, sizeof(err)), err);
	ASSERT_OK(perim_model_fleet_set(m, &fleet, 1), "fleet set");
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	e = entry_of(&set, 0, "192.0.2.10/32");
	if (ASSERT_OK_PTR(e, "the protected prefix's entry")) {
		ASSERT_EQ(e->value.acl, PERIM_ACL_FLEET_DENY | PERIM_ACL_PROTECTED, "fleet deny, marked");
		ASSERT_EQ(e->value.n_cand, 1, "one protect candidate");
		ASSERT_EQ(e->value.cand[0].flags, PERIM_CAND_PROTECT, "protect");
	}
	e = entry_of(&set, 0, "192.0.2.0/24");
	if (ASSERT_OK_PTR(e, "the fleet prefix's entry"))
		ASSERT_EQ(e->value.acl, PERIM_ACL_FLEET_DENY, "not marked");
	perim_lpm_set_free(&set);
	perim_model_free(m);
}

/* The datapath checks at most PERIM_MAX_PROTECT_CAND protect candidates: a fifth over one prefix is refused. */
static void test_protect_candidates_capped(void)
{
	struct perim_model *m = model_with_iface("eth0");
	struct perim_lpm_set set;

	for (int i = 0; i <= PERIM_MAX_PROTECT_CAND; i++) {
		struct perim_protect_spec p = { .prefix = pfx("192.0.2.10/32"), .proto = IPPROTO_TCP,
						.dport_lo = 22 + i, .dport_hi = 22 + i };

		ASSERT_OK(perim_model_protect_add(m, 0, &p, err, sizeof(err)), err);
		if (i < PERIM_MAX_PROTECT_CAND) {
			ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
			perim_lpm_set_free(&set);
		}
	}
	ASSERT_EQ(perim_flatten(m, &set, err, sizeof(err)), PERIM_EXIT_BADINPUT, "a fifth refused");
	ASSERT_TRUE(strstr(err, "192.0.2.10/32") && strstr(err, "at most 4"), err);
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

static int lpm_map(int family, unsigned max_entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	uint32_t key_size = family == PERIM_LPM_V4 ? sizeof(struct perim_lpm4_key) : sizeof(struct perim_lpm6_key);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_lpm", key_size, sizeof(struct perim_lpm_value),
			      max_entries, &o);
}

static int rules_map(void)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_rules", 4, sizeof(struct perim_rule), PERIM_MAX_RULES, NULL);
}

static struct perim_maps test_maps(void)
{
	struct perim_maps maps;

	perim_maps_init(&maps);
	maps.rules_fd = rules_map();
	return maps;
}

static void test_maps_close(struct perim_maps *maps)
{
	perim_maps_close(maps);
	if (maps->rules_fd >= 0)
		close(maps->rules_fd);
}

static size_t map_count(int fd)
{
	uint8_t k[sizeof(struct perim_lpm6_key)], cur[sizeof(k)];
	void *prev = NULL;
	size_t n = 0;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, k)) {
		n++;
		memcpy(cur, k, sizeof(k));
		prev = cur;
	}
	return n;
}

/* The kernel key of an entry: {prefixlen, addr[4]} or {prefixlen, addr[16]}. */
static void kernel_key(const struct perim_lpm_ukey *u, uint8_t out[sizeof(struct perim_lpm6_key)])
{
	memcpy(out, &u->prefixlen, 4);
	memcpy(out + 4, u->addr, u->family == PERIM_LPM_V4 || u->family == PERIM_LPM_FAST_V4 ? 4 : 16);
}

/* The slot's trie of that family holds exactly the entries of set that belong there. */
static bool map_equals(const struct perim_maps *maps, int family, int slot, const struct perim_lpm_set *set)
{
	int fd = maps->lpm_fd[family][slot];
	uint8_t k[sizeof(struct perim_lpm6_key)];
	struct perim_lpm_value v;
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct perim_lpm_entry *e = &set->e[i];

		if (e->key.family != family || e->key.slot != slot)
			continue;
		n++;
		kernel_key(&e->key, k);
		if (fd < 0 || bpf_map_lookup_elem(fd, k, &v) || memcmp(&v, &e->value, sizeof(v)))
			return false;
	}
	return map_count(fd) == n;
}

static bool maps_equal(const struct perim_maps *maps, const struct perim_lpm_set *set)
{
	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++)
		for (int f = 0; f < PERIM_LPM_FAMILIES; f++)
			if (!map_equals(maps, f, slot, set))
				return false;
	return true;
}

static void test_apply_update_then_delete(void)
{
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0");
	struct perim_rule r;
	uint32_t id, id6, key;

	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)"))
		goto out;
	id = add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	id6 = add_limit(m, 0, spec_src("2001:db8::/32", 100));
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_TRUE(maps.lpm_fd[PERIM_LPM_V4][0] >= 0 && maps.lpm_fd[PERIM_LPM_V6][0] >= 0,
		    "both tries of slot 0 created");
	ASSERT_TRUE(maps_equal(&maps, &in->lpm), "maps = installed");
	ASSERT_EQ(map_count(maps.lpm_fd[PERIM_LPM_V4][0]), 1, "one IPv4 entry");
	key = id;
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.flags & PERIM_RULE_ACTIVE, PERIM_RULE_ACTIVE, "active");
	ASSERT_EQ(r.gen, 1, "first use: gen 1");

	/* Re-reading the maps (a restarted daemon) and re-applying changes nothing. */
	perim_installed_free(in);
	in = perim_installed_new();
	ASSERT_OK(perim_installed_read(in, &maps, err, sizeof(err)), err);
	ASSERT_EQ(in->lpm.n, 4, "read back from both tries and both fast tables");
	ASSERT_TRUE(maps_equal(&maps, &in->lpm), "maps = read back");
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.gen, 1, "same parameters keep their gen");

	ASSERT_OK(perim_model_limit_del(m, 0, id, err, sizeof(err)), err);
	ASSERT_OK(perim_model_limit_del(m, 0, id6, err, sizeof(err)), err);
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_EQ(map_count(maps.lpm_fd[PERIM_LPM_V4][0]) + map_count(maps.lpm_fd[PERIM_LPM_V6][0]), 0,
		  "stale entries deleted");
	ASSERT_EQ(map_count(maps.lpm_fd[PERIM_LPM_FAST_V4][0]) + map_count(maps.lpm_fd[PERIM_LPM_FAST_V6][0]), 0,
		  "stale fast entries deleted");
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.flags, 0, "deactivated");
	ASSERT_EQ(add_limit(m, 0, spec_src("10.0.0.0/8", 100)), id, "slot reused");
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	ASSERT_OK(bpf_map_lookup_elem(maps.rules_fd, &key, &r), "rule");
	ASSERT_EQ(r.gen, 2, "reuse bumps gen");
out:
	perim_model_free(m);
	perim_installed_free(in);
	test_maps_close(&maps);
}

/* A failure in the IPv6 trie undoes what was already written to the IPv4 trie and the rules. */
static void test_apply_rolls_back(void)
{
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0"), *next;
	struct perim_lpm_set before = { 0 };
	struct perim_rule r, rules_before[8];
	char p[32];

	/* Room for every IPv4 entry, one IPv6 entry only. */
	maps.lpm_fd[PERIM_LPM_V4][0] = lpm_map(PERIM_LPM_V4, 64);
	maps.lpm_fd[PERIM_LPM_V6][0] = lpm_map(PERIM_LPM_V6, 1);
	if (!ASSERT_TRUE(maps.lpm_fd[PERIM_LPM_V4][0] >= 0 && maps.lpm_fd[PERIM_LPM_V6][0] >= 0 &&
			 maps.rules_fd >= 0, "maps (needs root)"))
		goto out;
	add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	add_limit(m, 0, spec_src("10.1.0.0/16", 100));
	add_limit(m, 0, spec_src("fd00::/8", 100));
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	before.n = in->lpm.n;
	before.e = malloc(before.n * sizeof(*before.e));
	memcpy(before.e, in->lpm.e, before.n * sizeof(*before.e));
	memcpy(rules_before, in->rules, sizeof(rules_before));

	/* Change one rule, add three IPv4 prefixes (they fit) and one IPv6 prefix (it does not). */
	next = perim_model_dup(m);
	next->rules[1].spec.rate_pps = 7;
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "192.168.%d.0/24", i);
		add_limit(next, 0, spec_src(p, 1));
	}
	add_limit(next, 0, spec_src("2001:db8::/32", 1));
	ASSERT_EQ(perim_apply(&maps, in, next, err, sizeof(err)), PERIM_EXIT_FAIL, "apply fails");
	ASSERT_TRUE(strstr(err, "writing LPM entry 2001:db8::/32") != NULL, err);
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_V4, 0, &before), "IPv4 trie holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_V6, 0, &before), "IPv6 trie holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_FAST_V4, 0, &before), "IPv4 fast table holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_FAST_V6, 0, &before), "IPv6 fast table holds the old set");
	ASSERT_TRUE(!memcmp(maps.fast_lens[0], in->fast_lens[0], sizeof(in->fast_lens[0])),
		    "descriptors unchanged");
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
	test_maps_close(&maps);
}

/* Unpins whatever is in dir (whichever maps this perim version pins), then removes it. */
static int remove_pin_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && unlinkat(dirfd(d), e->d_name, 0))
			ret = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !ret)
		ret = -errno;
	return ret;
}

/*
 * With a pin root, a slot's tries are created and pinned on first write,
 * and a second perim_maps (a restarted daemon) finds them by their pins.
 */
static void test_apply_pins_per_slot(void)
{
	char root[64] = "", path[128];
	struct perim_maps maps = test_maps(), again = test_maps();
	struct perim_installed *in = perim_installed_new(), *in2 = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0");
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		TEST_SKIP("/sys/fs/bpf is not a bpf filesystem");
		goto out;
	}
	snprintf(root, sizeof(root), "/sys/fs/bpf/perim_test_rules_%d", (int)getpid());
	if (!ASSERT_OK(mkdir(root, 0700), "mkdir pin root")) {
		root[0] = '\0';
		goto out;
	}
	maps.pin_root = again.pin_root = root;
	ASSERT_OK(perim_model_iface_add(m, "eth1", PERIM_MODE_DEFAULT, 3, err, sizeof(err)), err);
	add_limit(m, 3, spec_src("10.0.0.0/8", 100));
	ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err);
	perim_lpm_pin_path(path, sizeof(path), root, PERIM_LPM_V4, 3);
	ASSERT_STREQ(path + strlen(root), "/perim_lpm4_3", "pin name");
	ASSERT_OK(access(path, F_OK), "slot 3's IPv4 trie pinned");
	perim_lpm_pin_path(path, sizeof(path), root, PERIM_LPM_V6, 3);
	ASSERT_NEQ(access(path, F_OK), 0, "no IPv6 trie without IPv6 entries");
	perim_lpm_pin_path(path, sizeof(path), root, PERIM_LPM_FAST_V4, 3);
	ASSERT_STREQ(path + strlen(root), "/perim_fast4_3", "fast table pin name");
	ASSERT_OK(access(path, F_OK), "slot 3's IPv4 fast table pinned");
	perim_fast_lens_pin_path(path, sizeof(path), root, 3);
	ASSERT_STREQ(path + strlen(root), "/perim_fastlens_3", "descriptor pin name");
	ASSERT_OK(access(path, F_OK), "slot 3's descriptor pinned");
	ASSERT_OK(perim_installed_read(in2, &again, err, sizeof(err)), err);
	ASSERT_EQ(in2->lpm.n, 2, "trie and fast entry read back through the pins");
	for (size_t i = 0; i < in2->lpm.n; i++) {
		ASSERT_EQ(in2->lpm.e[i].key.slot, 3, "slot");
		ASSERT_EQ(in2->lpm.e[i].key.prefixlen, 8, "prefixlen");
	}
	ASSERT_TRUE(!memcmp(in2->fast_lens, in->fast_lens, sizeof(in->fast_lens)), "descriptors read back");
	ASSERT_EQ(PERIM_FAST_STATE(in2->fast_lens[3][0]), 2, "slot 3 IPv4: one length");
	ASSERT_EQ(PERIM_FAST_LEN(in2->fast_lens[3][0], 0), 8, "slot 3 IPv4: /8");
out:
	if (root[0])
		ASSERT_OK(remove_pin_dir(root), "pin root and every pin in it removed");
	perim_model_free(m);
	perim_installed_free(in);
	perim_installed_free(in2);
	test_maps_close(&maps);
	test_maps_close(&again);
}

/* Every rule slot is read back, the first and the last included. */
static void test_installed_read_rules(void)
{
	static const uint32_t ids[] = { 1, 5000, PERIM_MAX_RULES - 1 };
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_rule r = { .flags = PERIM_RULE_ACTIVE };

	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)"))
		goto out;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		r.gen = i + 1;
		r.pkt_interval_ns = ids[i];
		ASSERT_OK(bpf_map_update_elem(maps.rules_fd, &ids[i], &r, BPF_ANY), "write rule");
	}
	if (!ASSERT_OK(perim_installed_read(in, &maps, err, sizeof(err)), err))
		goto out;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ASSERT_EQ(in->rules[ids[i]].gen, i + 1, "gen read back");
		ASSERT_EQ(in->rules[ids[i]].pkt_interval_ns, ids[i], "interval read back");
	}
	ASSERT_EQ(in->rules[2].flags, 0, "an unused slot reads as unused");
out:
	perim_installed_free(in);
	test_maps_close(&maps);
}

/*
 * A rules map shorter than the datapath's: the batch read comes back short,
 * the rule-by-rule read names the first slot missing.
 */
static void test_installed_read_short_rules_map(void)
{
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();

	close(maps.rules_fd);
	maps.rules_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_rules", 4, sizeof(struct perim_rule), 8, NULL);
	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)"))
		goto out;
	ASSERT_EQ(perim_installed_read(in, &maps, err, sizeof(err)), -ENOENT, "short map refused");
	ASSERT_TRUE(strstr(err, "reading rule 8 from perim_rules") != NULL, err);
	ASSERT_TRUE(strstr(err, "batch lookup: 8 of 16384 rules") != NULL, err);
out:
	perim_installed_free(in);
	test_maps_close(&maps);
}

/* ---- the fast path ---- */

static __u64 lens_of(int n, const int *len)
{
	__u64 d = n + 1;

	for (int i = 0; i < n; i++)
		d |= (__u64)len[i] << (8 * (i + 1));
	return d;
}

static struct perim_lpm_set copy_set(const struct perim_lpm_set *s)
{
	struct perim_lpm_set c = { .n = s->n, .cap = s->n };

	c.e = malloc(s->n * sizeof(*c.e) + 1);
	memcpy(c.e, s->e, s->n * sizeof(*c.e));
	return c;
}

/*
 * Each slot's descriptor lists its lengths longest first; the fast tables
 * hold what the tries hold; past PERIM_FAST_MAX_LENGTHS lengths the
 * descriptor says "trie" (the tables stay filled) and below it again "fast".
 */
static void test_fast_descriptor(void)
{
	static const int v4[] = { 16, 8 }, v6[] = { 48 }, none[] = { 0 };
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0");
	uint32_t extra[PERIM_FAST_MAX_LENGTHS];
	char p[32];

	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)"))
		goto out;
	ASSERT_OK(perim_model_iface_add(m, "eth1", PERIM_MODE_DEFAULT, 1, err, sizeof(err)), err);
	add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	add_limit(m, 0, spec_src("10.1.0.0/16", 100));
	add_limit(m, 0, spec_src("11.0.0.0/8", 100));
	add_limit(m, 0, spec_src("2001:db8:1::/48", 100));
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	ASSERT_TRUE(maps_equal(&maps, &in->lpm), "tries and fast tables = installed");
	ASSERT_EQ(map_count(maps.lpm_fd[PERIM_LPM_FAST_V4][0]), 3, "three IPv4 fast entries");
	if (!ASSERT_TRUE(maps.fast_lens[0] && maps.fast_lens[1], "descriptors of both attached slots"))
		goto out;
	ASSERT_EQ(maps.fast_lens[0][0], lens_of(2, v4), "IPv4: /16 then /8");
	ASSERT_EQ(maps.fast_lens[0][1], lens_of(1, v6), "IPv6: /48");
	ASSERT_EQ(maps.fast_lens[1][0], lens_of(0, none), "no rules: fast path with no lengths");
	ASSERT_TRUE(!memcmp(in->fast_lens[0], maps.fast_lens[0], sizeof(in->fast_lens[0])), "installed = kernel");

	/* /17 ../23 make 2 + 7 lengths: over the cap, the trie decides. */
	for (int i = 0; i < PERIM_FAST_MAX_LENGTHS; i++) {
		snprintf(p, sizeof(p), "10.1.0.0/%d", 17 + i);
		extra[i] = add_limit(m, 0, spec_src(p, 100));
	}
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	ASSERT_EQ(maps.fast_lens[0][0], PERIM_FAST_USE_TRIE, "IPv4 over the cap: trie");
	ASSERT_EQ(maps.fast_lens[0][1], lens_of(1, v6), "IPv6 unaffected");
	ASSERT_TRUE(maps_equal(&maps, &in->lpm), "fast tables still mirror the tries");

	for (int i = 0; i < PERIM_FAST_MAX_LENGTHS; i++)
		perim_model_limit_del(m, 0, extra[i], err, sizeof(err));
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	ASSERT_EQ(maps.fast_lens[0][0], lens_of(2, v4), "back under the cap: fast again");
	ASSERT_TRUE(maps_equal(&maps, &in->lpm), "stale entries gone from both");
out:
	perim_model_free(m);
	perim_installed_free(in);
	test_maps_close(&maps);
}

static int fast_map(int family, unsigned max_entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	uint32_t key_size = family == PERIM_LPM_FAST_V4 ? sizeof(struct perim_lpm4_key) : sizeof(struct perim_lpm6_key);

	return bpf_map_create(BPF_MAP_TYPE_HASH, "t_fast", key_size, sizeof(struct perim_lpm_value),
			      max_entries, &o);
}

/* A fast table that refuses an entry undoes the trie writes before it; the descriptor never moved. */
static void test_fast_write_fails_rolls_back(void)
{
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0"), *next = NULL;
	struct perim_lpm_set before = { 0 };
	__u64 lens_before[PERIM_FAST_FAMILIES];

	maps.lpm_fd[PERIM_LPM_FAST_V4][0] = fast_map(PERIM_LPM_FAST_V4, 2);
	if (!ASSERT_TRUE(maps.lpm_fd[PERIM_LPM_FAST_V4][0] >= 0 && maps.rules_fd >= 0, "maps (needs root)"))
		goto out;
	add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	add_limit(m, 0, spec_src("10.1.0.0/16", 100));
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	before = copy_set(&in->lpm);
	memcpy(lens_before, maps.fast_lens[0], sizeof(lens_before));

	next = perim_model_dup(m);
	add_limit(next, 0, spec_src("10.1.2.0/24", 100));
	ASSERT_EQ(perim_apply(&maps, in, next, err, sizeof(err)), PERIM_EXIT_FAIL, "apply fails");
	ASSERT_TRUE(strstr(err, "writing LPM entry 10.1.2.0/24") && strstr(err, PERIM_MAP_FAST4), err);
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_V4, 0, &before), "IPv4 trie holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_FAST_V4, 0, &before), "IPv4 fast table holds the old set");
	ASSERT_TRUE(!memcmp(maps.fast_lens[0], lens_before, sizeof(lens_before)), "descriptor unchanged");
	ASSERT_EQ(in->lpm.n, before.n, "installed set unchanged");
out:
	free(before.e);
	perim_model_free(next);
	perim_model_free(m);
	perim_installed_free(in);
	test_maps_close(&maps);
}

/*
 * A failure after the descriptors were published (deleting a stale entry
 * from a frozen trie) puts the old descriptors back with the old entries.
 */
static void test_fast_descriptor_rolled_back(void)
{
	struct perim_maps maps = test_maps();
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = model_with_iface("eth0"), *next = NULL;
	struct perim_lpm_set before = { 0 };
	__u64 lens_before[PERIM_FAST_FAMILIES];
	uint32_t narrow;

	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)"))
		goto out;
	add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	narrow = add_limit(m, 0, spec_src("10.1.0.0/16", 100));
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	before = copy_set(&in->lpm);
	memcpy(lens_before, maps.fast_lens[0], sizeof(lens_before));
	if (!ASSERT_OK(bpf_map_freeze(maps.lpm_fd[PERIM_LPM_V4][0]), "freeze the IPv4 trie"))
		goto out;

	next = perim_model_dup(m);
	perim_model_limit_del(next, 0, narrow, err, sizeof(err));
	add_limit(next, 0, spec_src("2001:db8::/32", 100));
	ASSERT_EQ(perim_apply(&maps, in, next, err, sizeof(err)), PERIM_EXIT_FAIL, "apply fails");
	ASSERT_TRUE(strstr(err, "deleting LPM entry 10.1.0.0/16") != NULL, err);
	ASSERT_TRUE(!memcmp(maps.fast_lens[0], lens_before, sizeof(lens_before)), "both descriptors restored");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_FAST_V4, 0, &before), "IPv4 fast table holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_FAST_V6, 0, &before), "IPv6 fast table holds the old set");
	ASSERT_TRUE(map_equals(&maps, PERIM_LPM_V6, 0, &before), "IPv6 trie holds the old set");
out:
	free(before.e);
	perim_model_free(next);
	perim_model_free(m);
	perim_installed_free(in);
	test_maps_close(&maps);
}

/* ---- egress ---- */

static struct perim_limit_spec spec_egress(const char *dst, const char *cgroup, uint64_t cgroup_id, uint64_t pps)
{
	struct perim_limit_spec s = spec_rate(pps);

	s.egress = true;
	if (dst) {
		s.has_dst = true;
		s.dst = pfx(dst);
	}
	if (cgroup) {
		snprintf(s.cgroup, sizeof(s.cgroup), "%s", cgroup);
		s.cgroup_id = cgroup_id;
		s.per_source = false;
	}
	return s;
}

static const struct perim_lpm_entry *family_entry(const struct perim_lpm_set *set, int family, int slot,
						  uint32_t prefixlen, const void *addr, size_t addr_len)
{
	struct perim_lpm_ukey key = { .slot = slot, .family = family, .prefixlen = prefixlen };

	memcpy(key.addr, addr, addr_len);
	return perim_lpm_set_find(set, &key);
}

/*
 * Egress rules never reach the XDP tries and ingress rules never the egress
 * ones; dst rules go to the destination tries, cgroup rules to one entry per
 * cgroup id, most specific first.
 */
static void test_egress_flatten(void)
{
	static const uint8_t net[4] = { 192, 0, 2, 0 }, any4[4] = { 0 };
	struct perim_model *m = perim_model_new();
	const struct perim_lpm_entry *e;
	struct perim_lpm_set set;
	uint64_t cg = 4242;
	uint32_t in, out, anyout, cg1, cg2, cg3;
	struct perim_limit_spec tcp;

	perim_model_iface_add(m, "eth0", PERIM_MODE_DEFAULT, -1, err, sizeof(err));
	in = add_limit(m, 0, spec_src("10.0.0.0/8", 100));
	out = add_limit(m, 0, spec_egress("192.0.2.0/24", NULL, 0, 200));
	anyout = add_limit(m, 0, spec_egress(NULL, NULL, 0, 300));
	cg1 = add_limit(m, 0, spec_egress(NULL, "/sys/fs/cgroup/a", cg, 400));
	tcp = spec_egress(NULL, "/sys/fs/cgroup/a", cg, 500);
	tcp.proto = IPPROTO_TCP;
	cg2 = add_limit(m, 0, tcp);
	cg3 = add_limit(m, 0, spec_egress(NULL, "/sys/fs/cgroup/b", cg + 1, 600));
	if (!ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err))
		goto out;

	e = entry_of(&set, 0, "10.0.0.0/8");
	if (ASSERT_TRUE(e != NULL, "ingress entry")) {
		ASSERT_EQ(e->value.n_cand, 1, "ingress entry holds only the ingress rule");
		ASSERT_EQ(e->value.cand[0].rule, in, "ingress rule");
	}
	ASSERT_TRUE(entry_of(&set, 0, "192.0.2.0/24") == NULL, "no egress prefix in the XDP trie");
	ASSERT_TRUE(entry_of(&set, 0, "0.0.0.0/0") == NULL, "no egress default in the XDP trie");

	e = family_entry(&set, PERIM_LPM_EGRESS_V4, 0, 24, net, 4);
	if (ASSERT_TRUE(e != NULL, "egress dst entry")) {
		ASSERT_EQ(e->value.n_cand, 2, "dst rule and the every-destination rule");
		ASSERT_EQ(e->value.cand[0].rule, out, "most specific first");
		ASSERT_EQ(e->value.cand[1].rule, anyout, "then the covering one");
		ASSERT_EQ(e->value.acl, PERIM_ACL_NONE, "no ACL on egress");
	}
	e = family_entry(&set, PERIM_LPM_EGRESS_V4, 0, 0, any4, 4);
	ASSERT_TRUE(e && e->value.n_cand == 1 && e->value.cand[0].rule == anyout, "egress IPv4 default");
	e = family_entry(&set, PERIM_LPM_EGRESS_V6, 0, 0, any4, 0);
	ASSERT_TRUE(e && e->value.n_cand == 1 && e->value.cand[0].rule == anyout, "egress IPv6 default");

	e = family_entry(&set, PERIM_LPM_EGRESS_CGROUP, 0, 64, &cg, sizeof(cg));
	if (ASSERT_TRUE(e != NULL, "cgroup entry")) {
		ASSERT_EQ(e->value.n_cand, 2, "both rules of the cgroup");
		ASSERT_EQ(e->value.cand[0].rule, cg2, "proto tcp is more specific");
		ASSERT_EQ(e->value.cand[1].rule, cg1, "then the plain one");
	}
	cg++;
	e = family_entry(&set, PERIM_LPM_EGRESS_CGROUP, 0, 64, &cg, sizeof(cg));
	ASSERT_TRUE(e && e->value.n_cand == 1 && e->value.cand[0].rule == cg3, "second cgroup");
	for (size_t i = 0; i < set.n; i++)
		for (int c = 0; c < set.e[i].value.n_cand; c++)
			ASSERT_TRUE(!(set.e[i].key.family >= PERIM_LPM_EGRESS_V4) || set.e[i].value.cand[c].rule != in,
				    "ingress rule never in an egress table");
	perim_lpm_set_free(&set);
out:
	perim_model_free(m);
}

/* Apply creates the egress tables with their own types and reads them back. */
static void test_egress_apply(void)
{
	struct perim_model *m = perim_model_new();
	struct perim_installed *in = perim_installed_new();
	struct perim_lpm_value v;
	struct perim_maps maps;
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	uint64_t cg = 77;
	struct perim_lpm4_key k4 = { .prefixlen = 32, .addr = { 192, 0, 2, 9 } };
	uint32_t out, cgr;
	int fd;

	perim_maps_init(&maps);
	maps.rules_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_rules", 4, sizeof(struct perim_rule),
				       PERIM_MAX_RULES, NULL);
	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map"))
		goto out;
	perim_model_iface_add(m, "eth0", PERIM_MODE_DEFAULT, -1, err, sizeof(err));
	out = add_limit(m, 0, spec_egress("192.0.2.0/24", NULL, 0, 200));
	cgr = add_limit(m, 0, spec_egress(NULL, "/sys/fs/cgroup/a", cg, 400));
	if (!ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err))
		goto out;
	fd = maps.lpm_fd[PERIM_LPM_EGRESS_V4][0];
	if (ASSERT_TRUE(fd >= 0, "egress IPv4 trie created")) {
		ASSERT_OK(bpf_map_lookup_elem(fd, &k4, &v), "longest-prefix lookup of a destination");
		ASSERT_EQ(v.cand[0].rule, out, "finds the dst rule");
	}
	ASSERT_TRUE(maps.lpm_fd[PERIM_LPM_V4][0] < 0 && maps.lpm_fd[PERIM_LPM_V6][0] < 0, "no XDP tries needed");
	fd = maps.lpm_fd[PERIM_LPM_EGRESS_CGROUP][0];
	if (ASSERT_TRUE(fd >= 0, "cgroup table created")) {
		ASSERT_OK(bpf_obj_get_info_by_fd(fd, &info, &info_len), "info");
		ASSERT_EQ(info.type, BPF_MAP_TYPE_HASH, "a hash");
		ASSERT_OK(bpf_map_lookup_elem(fd, &cg, &v), "lookup by cgroup id");
		ASSERT_EQ(v.cand[0].rule, cgr, "the cgroup's rule");
	}
	perim_model_limit_del(m, 0, cgr, err, sizeof(err));
	if (ASSERT_OK(perim_apply(&maps, in, m, err, sizeof(err)), err) && fd >= 0)
		ASSERT_TRUE(bpf_map_lookup_elem(fd, &cg, &v) < 0, "cgroup entry deleted with its rule");
out:
	test_maps_close(&maps);
	perim_installed_free(in);
	perim_model_free(m);
}
