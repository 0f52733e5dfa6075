// SPDX-License-Identifier: GPL-2.0
/*
 * Many rule changes in a row, each applied to real maps the way perimd
 * applies a command (edit a copy, apply, keep the copy only on success).
 * After every change the maps, read back from the kernel, must hold exactly
 * what a naive flattening says: every prefix compared with every rule and
 * every allow/deny prefix. The indexed flattening (model/prefix_index.c)
 * must give the same entries, candidates in the same order, same verdicts.
 */
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "model/rules.h"
#include "test.h"

static char err[256];

#define STEPS 700
#define SLOTS 2

/* ---- the naive reference ---- */

static void mask(uint8_t a[16], unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		a[bit / 8] &= ~(0x80 >> (bit % 8));
}

static bool covers(const struct perim_prefix *outer, const struct perim_prefix *inner)
{
	uint8_t a[16], b[16];

	if (outer->len > inner->len)
		return false;
	memcpy(a, outer->addr, 16);
	memcpy(b, inner->addr, 16);
	mask(a, outer->len);
	mask(b, outer->len);
	return !memcmp(a, b, 16);
}

static const struct perim_prefix v4_any = { .addr = { [10] = 0xff, [11] = 0xff }, .len = 96, .is_v4 = true };
static const struct perim_prefix v6_any = { .len = 0 };

static int cover_len(const struct perim_model_rule *r, const struct perim_prefix *p)
{
	if (r->spec.has_src)
		return covers(&r->spec.src, p) ? r->spec.src.len : -1;
	return covers(&v4_any, p) ? 96 : 0;
}

struct ref_cand {
	int len, specificity;
	uint32_t id;
};

static int ref_cand_cmp(const void *a, const void *b)
{
	const struct ref_cand *x = a, *y = b;

	if (x->len != y->len)
		return y->len - x->len;
	if (x->specificity != y->specificity)
		return y->specificity - x->specificity;
	return (int)x->id - (int)y->id;
}

/* The entry a prefix needs on a slot, by scanning everything; false: more than 16 candidates. */
static bool ref_entry(const struct perim_model *m, int slot, const struct perim_prefix *p, struct perim_lpm_entry *e)
{
	struct ref_cand c[PERIM_MAX_RULES];
	int n = 0, best = -1;

	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];
		const struct perim_limit_spec *s = &r->spec;

		if (!r->used || r->iface != slot || cover_len(r, p) < 0)
			continue;
		c[n].len = cover_len(r, p);
		c[n].specificity = (s->proto != 0) + (s->dport_lo || s->dport_hi) + s->syn_only;
		c[n].id = id;
		n++;
	}
	if (n > PERIM_MAX_CANDIDATES)
		return false;
	qsort(c, n, sizeof(c[0]), ref_cand_cmp);
	memset(e, 0, sizeof(*e));
	perim_lpm_key_make(&e->key, slot, p);
	e->value.n_cand = n;
	for (int i = 0; i < n; i++) {
		const struct perim_limit_spec *s = &m->rules[c[i].id].spec;

		e->value.cand[i].rule = c[i].id;
		e->value.cand[i].proto = s->proto;
		e->value.cand[i].flags = s->syn_only ? PERIM_CAND_SYN_ONLY : 0;
		e->value.cand[i].dport_lo = s->dport_lo;
		e->value.cand[i].dport_hi = s->dport_hi;
	}
	for (unsigned i = 0; i < m->n_acl; i++) {
		if (m->acl[i].iface == slot && (int)m->acl[i].prefix.len > best && covers(&m->acl[i].prefix, p)) {
			best = m->acl[i].prefix.len;
			e->value.acl = m->acl[i].verdict;
		}
	}
	return true;
}

static void ref_add_prefix(struct perim_lpm_set *set, const struct perim_model *m, int slot,
			   const struct perim_prefix *p, bool *ok)
{
	struct perim_lpm_entry e;

	if (!ref_entry(m, slot, p, &e)) {
		*ok = false;
		return;
	}
	if (perim_lpm_set_find(set, &e.key))
		return;
	set->e[set->n++] = e;
	/* Kept sorted (insertion), so perim_lpm_set_find works on it as it grows. */
	for (size_t i = set->n - 1; i > 0 && memcmp(&set->e[i - 1].key, &set->e[i].key, sizeof(e.key)) > 0; i--) {
		struct perim_lpm_entry t = set->e[i];

		set->e[i] = set->e[i - 1];
		set->e[i - 1] = t;
	}
}

/* Every ingress trie entry of the model (no fast copies); false: some prefix has too many candidates. */
static bool ref_flatten(const struct perim_model *m, struct perim_lpm_set *set)
{
	bool ok = true;

	set->n = 0;
	for (int slot = 0; slot < SLOTS; slot++) {
		for (uint32_t id = 1; id < m->rules_end; id++) {
			const struct perim_model_rule *r = &m->rules[id];

			if (!r->used || r->iface != slot)
				continue;
			if (r->spec.has_src) {
				ref_add_prefix(set, m, slot, &r->spec.src, &ok);
				if (r->spec.src.len < 96 && covers(&r->spec.src, &v4_any))
					ref_add_prefix(set, m, slot, &v4_any, &ok);
			} else {
				ref_add_prefix(set, m, slot, &v4_any, &ok);
				ref_add_prefix(set, m, slot, &v6_any, &ok);
			}
		}
		for (unsigned i = 0; i < m->n_acl; i++) {
			if (m->acl[i].iface != slot)
				continue;
			ref_add_prefix(set, m, slot, &m->acl[i].prefix, &ok);
			if (m->acl[i].prefix.len < 96 && covers(&m->acl[i].prefix, &v4_any))
				ref_add_prefix(set, m, slot, &v4_any, &ok);
		}
	}
	return ok;
}

/* ---- random changes ---- */

static unsigned rnd(unsigned n)
{
	return (unsigned)random() % n;
}

/* Few distinct addresses and lengths, so prefixes nest and repeat. */
static struct perim_prefix random_prefix(void)
{
	struct perim_prefix p = { 0 };
	unsigned a = rnd(3), b = rnd(6), c = rnd(60);
	char text[64];

	switch (rnd(8)) {
	case 0: snprintf(text, sizeof(text), "10.0.0.0/8"); break;
	case 1: snprintf(text, sizeof(text), "10.%u.0.0/16", a); break;
	case 2: case 3: snprintf(text, sizeof(text), "10.%u.%u.0/24", a, b); break;
	case 4: case 5: snprintf(text, sizeof(text), "10.%u.%u.%u/32", a, b, c); break;
	case 6: snprintf(text, sizeof(text), "2001:db8:%x::/48", a); break;
	default: snprintf(text, sizeof(text), "2001:db8:%x:%x::/64", a, b); break;
	}
	if (perim_prefix_parse(text, &p))
		fprintf(stderr, "  bad test prefix %s\n", text);
	return p;
}

static struct perim_limit_spec random_spec(void)
{
	static const uint8_t protos[] = { 0, 6, 17 };
	struct perim_limit_spec s = { .rate_pps = 10 + rnd(1000), .per_source = rnd(2) };

	s.has_src = rnd(100) != 0;
	if (s.has_src)
		s.src = random_prefix();
	s.proto = protos[rnd(3)];
	if (s.proto && rnd(2))
		s.dport_lo = s.dport_hi = 1 + rnd(3);
	s.syn_only = s.proto == 6 && !rnd(4);
	return s;
}

/* One change to next; false when the model refuses it (a duplicate prefix, an unknown rule). */
static bool random_change(struct perim_model *next)
{
	unsigned what = rnd(10), slot = rnd(SLOTS);
	struct perim_model_acl acl;
	struct perim_limit_spec s;
	struct perim_prefix p;
	uint32_t id;

	if (what < 6) {
		s = random_spec();
		return !perim_model_limit_add(next, slot, &s, &id, err, sizeof(err));
	}
	if (what < 8) {
		for (id = 1 + rnd(next->rules_end ? next->rules_end : 1); id < next->rules_end; id++)
			if (next->rules[id].used)
				return !perim_model_limit_del(next, next->rules[id].iface, id, err, sizeof(err));
		return false;
	}
	if (what == 8) {
		p = random_prefix();
		return !perim_model_acl_add(next, slot, rnd(2) ? PERIM_ACL_ALLOW : PERIM_ACL_DENY, &p, err, sizeof(err));
	}
	if (!next->n_acl)
		return false;
	acl = next->acl[rnd(next->n_acl)];
	return !perim_model_acl_del(next, acl.iface, acl.verdict, &acl.prefix, err, sizeof(err));
}

/* The ingress trie entries the kernel maps hold now. */
static bool kernel_matches(struct perim_maps *maps, const struct perim_lpm_set *want)
{
	struct perim_installed *now = perim_installed_new();
	size_t k = 0;
	bool same = true;

	if (!now || perim_installed_read(now, maps, err, sizeof(err))) {
		fprintf(stderr, "  reading the maps back: %s\n", err);
		perim_installed_free(now);
		return false;
	}
	for (size_t i = 0; i < now->lpm.n && same; i++) {
		const struct perim_lpm_entry *e = &now->lpm.e[i];
		const struct perim_lpm_entry *fast;
		struct perim_lpm_ukey fk;

		if (e->key.family != PERIM_LPM_V4 && e->key.family != PERIM_LPM_V6)
			continue;
		same = k < want->n && !memcmp(&want->e[k], e, sizeof(*e));
		k++;
		/* And its fast-path copy, the same value. */
		fk = e->key;
		fk.family = e->key.family == PERIM_LPM_V4 ? PERIM_LPM_FAST_V4 : PERIM_LPM_FAST_V6;
		fast = perim_lpm_set_find(&now->lpm, &fk);
		same = same && fast && !memcmp(&fast->value, &e->value, sizeof(e->value));
	}
	perim_installed_free(now);
	return same && k == want->n;
}

static void test_many_changes_match_naive_flattening(void)
{
	struct perim_maps maps;
	struct perim_installed *in = perim_installed_new();
	struct perim_model *m = perim_model_new(), *next;
	struct perim_lpm_set want = { 0 };
	int applied = 0, refused = 0, ret;
	char dev[16];

	srandom(15);
	perim_maps_init(&maps);
	maps.rules_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_rules", 4, sizeof(struct perim_rule),
				       PERIM_MAX_RULES, NULL);
	want.e = calloc(2 * (STEPS + 2) * SLOTS, sizeof(*want.e));
	if (!ASSERT_TRUE(maps.rules_fd >= 0, "rules map (needs root)") || !ASSERT_OK_PTR(want.e, "memory"))
		goto out;
	for (int s = 0; s < SLOTS; s++) {
		snprintf(dev, sizeof(dev), "eth%d", s);
		ASSERT_OK(perim_model_iface_add(m, dev, PERIM_MODE_DEFAULT, s, err, sizeof(err)), err);
	}
	for (int step = 0; step < STEPS && !perim_test_failed; step++) {
		bool model_ok;

		next = perim_model_dup(m);
		if (!ASSERT_OK_PTR(next, "dup"))
			break;
		if (!random_change(next)) {
			perim_model_free(next);
			continue;
		}
		model_ok = ref_flatten(next, &want);
		ret = perim_apply(&maps, in, next, err, sizeof(err));
		if (ret) {
			/* Refused only for a prefix with more than 16 candidates, and then nothing changed. */
			ASSERT_EQ(ret, PERIM_EXIT_BADINPUT, err);
			ASSERT_TRUE(!model_ok, "refused although every prefix has at most 16 candidates");
			perim_model_free(next);
			refused++;
			ref_flatten(m, &want);
		} else {
			ASSERT_TRUE(model_ok, "applied although a prefix has more than 16 candidates");
			perim_model_free(m);
			m = next;
			applied++;
		}
		if (!ASSERT_TRUE(kernel_matches(&maps, &want), "kernel maps = naive flattening"))
			fprintf(stderr, "  after step %d (%d applied, %zu entries expected)\n", step, applied, want.n);
	}
	ASSERT_TRUE(applied > STEPS / 2, "most changes applied");
out:
	free(want.e);
	perim_maps_close(&maps);
	if (maps.rules_fd >= 0)
		close(maps.rules_fd);
	perim_installed_free(in);
	perim_model_free(m);
}
