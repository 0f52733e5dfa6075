// SPDX-License-Identifier: GPL-2.0
/*
 * Flattening: a model's rules and allow/deny prefixes into the datapath's
 * entries, one per prefix in use, each with its ACL verdict and the ordered
 * rules that can apply (most specific first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/prefix_index.h"
#include "model/rules.h"
#include "cmd.h"
#include "perim.h"
#include "names.h"

void perim_lpm_set_free(struct perim_lpm_set *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct perim_lpm_ukey));
}

const struct perim_lpm_entry *perim_lpm_set_find(const struct perim_lpm_set *s,
						 const struct perim_lpm_ukey *key)
{
	return s->n ? bsearch(key, s->e, s->n, sizeof(s->e[0]), key_cmp) : NULL;
}

void perim_lpm_key_make(struct perim_lpm_ukey *key, int slot, const struct perim_prefix *p)
{
	uint8_t addr[16];

	memcpy(addr, p->addr, 16);
	perim_prefix_mask(addr, p->len);
	memset(key, 0, sizeof(*key));
	key->slot = slot;
	if (p->len >= 96 && perim_addr_is_v4_mapped(addr)) {
		key->family = PERIM_LPM_V4;
		key->prefixlen = p->len - 96;
		memcpy(key->addr, addr + 12, 4);
		return;
	}
	key->family = PERIM_LPM_V6;
	key->prefixlen = p->len;
	memcpy(key->addr, addr, 16);
}

static const struct perim_prefix v4_any = {
	.addr = { [10] = 0xff, [11] = 0xff }, .len = 96, .is_v4 = true,
};
static const struct perim_prefix v6_any = { .len = 0 };

/* The prefix a rule is keyed by (its destination for egress); NULL: every address. */
static const struct perim_prefix *rule_prefix(const struct perim_model_rule *r)
{
	if (r->spec.egress)
		return r->spec.has_dst ? &r->spec.dst : NULL;
	return r->spec.has_src ? &r->spec.src : NULL;
}

/* Ingress rules go to the XDP tries; egress rules to the egress tries, unless keyed by cgroup. */
static bool rule_in_tries(const struct perim_model_rule *r, int slot, bool egress)
{
	return r->used && r->iface == slot && r->spec.egress == egress && !(egress && r->spec.cgroup[0]);
}

static int match_specificity(const struct perim_limit_spec *s)
{
	return (s->proto != PERIM_PROTO_ANY) + (s->dport_lo || s->dport_hi) + s->syn_only;
}

struct cand_sort {
	const struct perim_model_rule *rule;
	int cover_len;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand_sort *x = a, *y = b;
	int sx, sy;

	if (x->cover_len != y->cover_len)
		return y->cover_len - x->cover_len;
	sx = match_specificity(&x->rule->spec);
	sy = match_specificity(&y->rule->spec);
	if (sx != sy)
		return sy - sx;
	return (int)x->rule->spec.id - (int)y->rule->spec.id;
}

static int set_push(struct perim_lpm_set *s, const struct perim_lpm_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct perim_lpm_entry *grown = realloc(s->e, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->e = grown;
		s->cap = cap;
	}
	s->e[s->n++] = *e;
	return 0;
}

/*
 * A prefix shorter than /96 that covers ::ffff:0:0/96 (::/0, say) applies to
 * IPv4 sources too, which the IPv4 trie only finds at 0.0.0.0/0.
 */
static void push_prefix(struct perim_prefix *p, size_t *k, const struct perim_prefix *pfx)
{
	p[(*k)++] = *pfx;
	if (pfx->len < v4_any.len && perim_prefix_covers(pfx, &v4_any))
		p[(*k)++] = v4_any;
}

/* The prefixes of one interface's LPM entries, duplicates included. */
static int collect_prefixes(const struct perim_model *m, int slot, bool egress, struct perim_prefix **out,
			    size_t *n)
{
	size_t cap = 2 * (m->rules_end + m->n_acl + m->n_fleet) + m->n_protect + 1, k = 0;
	struct perim_prefix *p = malloc(cap * sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];

		if (!rule_in_tries(r, slot, egress))
			continue;
		if (rule_prefix(r)) {
			push_prefix(p, &k, rule_prefix(r));
		} else {
			p[k++] = v4_any;
			p[k++] = v6_any;
		}
	}
	for (unsigned i = 0; i < m->n_acl && !egress; i++)
		if (m->acl[i].iface == slot)
			push_prefix(p, &k, &m->acl[i].prefix);
	for (unsigned i = 0; i < m->n_fleet && !egress; i++)
		push_prefix(p, &k, &m->fleet[i]);
	for (unsigned i = 0; i < m->n_protect && !egress; i++)
		if (m->protect[i].iface == slot)
			push_prefix(p, &k, &m->protect[i].spec.prefix);
	*out = p;
	*n = k;
	return 0;
}

/* The rule being set, when it is one of these candidates. */
static const struct perim_model_rule *changing_candidate(const struct perim_model *m,
							  const struct cand_sort *cand, int n)
{
	for (int i = 0; i < n && m->changing_rule; i++)
		if (cand[i].rule->spec.id == m->changing_rule)
			return cand[i].rule;
	return NULL;
}

/* Names the prefix of the rule being set, not another rule's prefix where the excess shows. */
static int too_many_candidates(const struct perim_model *m, int slot, const struct perim_prefix *p,
			       const struct cand_sort *cand, int n, char *err, size_t errlen)
{
	const struct perim_model_rule *mine = changing_candidate(m, cand, n);
	char text[64], where[64];

	perim_prefix_format(p, where, sizeof(where));
	if (!mine) {
		snprintf(err, errlen,
			 "Error: argument \"%s\" is wrong: on %s, %d rules would cover this prefix, at most %d can",
			 where, m->ifaces[slot].dev, n, PERIM_MAX_CANDIDATES);
		return PERIM_EXIT_BADINPUT;
	}
	if (rule_prefix(mine))
		perim_prefix_format(rule_prefix(mine), text, sizeof(text));
	else
		snprintf(text, sizeof(text), "%s", mine->spec.egress ? "dst any" : "src any");
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: on %s, with this rule %d rules would cover %s, "
		 "at most %d can", text, m->ifaces[slot].dev, n, where, PERIM_MAX_CANDIDATES);
	return PERIM_EXIT_BADINPUT;
}

static void fill_candidates(struct perim_lpm_entry *e, const struct cand_sort *sorted, int n)
{
	e->value.n_cand = n;
	for (int i = 0; i < n; i++) {
		const struct perim_limit_spec *s = &sorted[i].rule->spec;
		struct perim_candidate *c = &e->value.cand[i];

		c->rule = s->id;
		c->proto = s->proto;
		c->flags = s->syn_only ? PERIM_CAND_SYN_ONLY : 0;
		c->dport_lo = s->dport_lo;
		c->dport_hi = s->dport_hi;
	}
}

/* What one interface's entries are computed from: its rules and prefixes, indexed by prefix. */
struct iface_index {
	struct perim_prefix_index rules;       /* items: const struct perim_model_rule * */
	struct perim_prefix_index acl;         /* items: const struct perim_model_acl * */
	const struct perim_model_rule **global; /* rules without a prefix: they cover everything */
	size_t n_global;
};

static void iface_index_free(struct iface_index *x)
{
	perim_prefix_index_free(&x->rules);
	perim_prefix_index_free(&x->acl);
	free(x->global);
}

static int iface_index_build(const struct perim_model *m, int slot, bool egress, struct iface_index *x)
{
	int ret = 0;

	memset(x, 0, sizeof(*x));
	x->global = malloc((m->rules_end + 1) * sizeof(*x->global));
	if (!x->global)
		return -ENOMEM;
	for (uint32_t id = 1; id < m->rules_end && !ret; id++) {
		const struct perim_model_rule *r = &m->rules[id];

		if (!rule_in_tries(r, slot, egress))
			continue;
		if (rule_prefix(r))
			ret = perim_prefix_index_add(&x->rules, rule_prefix(r), r);
		else
			x->global[x->n_global++] = r;
	}
	for (unsigned i = 0; i < m->n_acl && !egress && !ret; i++)
		if (m->acl[i].iface == slot)
			ret = perim_prefix_index_add(&x->acl, &m->acl[i].prefix, &m->acl[i]);
	perim_prefix_index_sort(&x->rules);
	perim_prefix_index_sort(&x->acl);
	return ret;
}

struct cand_collect {
	struct cand_sort *scratch;
	int n;
};

static int collect_candidate(const void *item, unsigned len, void *ctx)
{
	struct cand_collect *c = ctx;

	c->scratch[c->n].rule = item;
	c->scratch[c->n].cover_len = len;
	c->n++;
	return 0;
}

/* The longest covering prefix decides: the first one the index reports. */
static int take_verdict(const void *item, unsigned len, void *ctx)
{
	(void)len;
	*(uint8_t *)ctx = ((const struct perim_model_acl *)item)->verdict;
	return 1;
}

static int flatten_prefix(const struct perim_model *m, int slot, bool egress, const struct iface_index *x,
			  const struct perim_prefix *p, struct cand_sort *scratch, struct perim_lpm_entry *e,
			  char *err, size_t errlen)
{
	struct perim_candidate protect[PERIM_MAX_CANDIDATES];
	struct cand_collect c = { .scratch = scratch };
	uint8_t verdict = PERIM_ACL_NONE;
	int n_protect = egress ? 0 : perim_model_protect_candidates(m, slot, p, protect, PERIM_MAX_CANDIDATES);

	perim_prefix_index_covering(&x->rules, p, collect_candidate, &c);
	for (size_t i = 0; i < x->n_global; i++)
		collect_candidate(x->global[i], perim_prefix_covers(&v4_any, p) ? v4_any.len : 0, &c);
	if (n_protect > PERIM_MAX_PROTECT_CAND) {
		char where[64];

		perim_prefix_format(p, where, sizeof(where));
		snprintf(err, errlen, "Error: argument \"protect\" is wrong: on %s, %d protect entries would cover %s, "
			 "at most %d can", m->ifaces[slot].dev, n_protect, where, PERIM_MAX_PROTECT_CAND);
		return PERIM_EXIT_BADINPUT;
	}
	if (c.n + n_protect > PERIM_MAX_CANDIDATES)
		return too_many_candidates(m, slot, p, c.scratch, c.n, err, errlen);
	qsort(scratch, c.n, sizeof(scratch[0]), cand_cmp);

	memset(e, 0, sizeof(*e));
	perim_lpm_key_make(&e->key, slot, p);
	if (egress) {
		e->key.family += PERIM_LPM_EGRESS_V4;
	} else {
		perim_prefix_index_covering(&x->acl, p, take_verdict, &verdict);
		/* The local lists win: a fleet decision never overrides an allow (or a local deny). */
		if (verdict == PERIM_ACL_NONE && perim_model_fleet_covers(m, p))
			verdict = PERIM_ACL_FLEET_DENY;
		e->value.acl = verdict | (n_protect ? PERIM_ACL_PROTECTED : 0);
	}
	fill_candidates(e, scratch, c.n);
	/* Protected access first: the datapath passes on the first candidate that is one. */
	if (n_protect) {
		memmove(&e->value.cand[n_protect], &e->value.cand[0], c.n * sizeof(e->value.cand[0]));
		memcpy(&e->value.cand[0], protect, n_protect * sizeof(protect[0]));
		e->value.n_cand = c.n + n_protect;
	}
	return 0;
}

static bool rule_by_cgroup(const struct perim_model_rule *r, int slot)
{
	return r->used && r->iface == slot && r->spec.egress && r->spec.cgroup[0];
}

/* By cgroup, then by rule id: each cgroup's rules adjacent, its lowest id first. */
static int cgroup_rule_cmp(const void *a, const void *b)
{
	const struct perim_model_rule *x = *(const struct perim_model_rule *const *)a;
	const struct perim_model_rule *y = *(const struct perim_model_rule *const *)b;

	if (x->spec.cgroup_id != y->spec.cgroup_id)
		return x->spec.cgroup_id < y->spec.cgroup_id ? -1 : 1;
	return (x->spec.id > y->spec.id) - (x->spec.id < y->spec.id);
}

/* The entry of one cgroup: rules[0..n) name it. */
static int flatten_cgroup(const struct perim_model *m, int slot, const struct perim_model_rule **rules, size_t n,
			  struct perim_lpm_set *out, struct cand_sort *scratch, char *err, size_t errlen)
{
	uint64_t cg = rules[0]->spec.cgroup_id;
	struct perim_lpm_entry e;

	if (n > PERIM_MAX_CANDIDATES) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: on %s, more than %d rules "
			 "name this cgroup", rules[0]->spec.cgroup, m->ifaces[slot].dev, PERIM_MAX_CANDIDATES);
		return PERIM_EXIT_BADINPUT;
	}
	for (size_t i = 0; i < n; i++) {
		scratch[i].rule = rules[i];
		scratch[i].cover_len = 0;
	}
	qsort(scratch, n, sizeof(scratch[0]), cand_cmp);
	memset(&e, 0, sizeof(e));
	e.key.slot = slot;
	e.key.family = PERIM_LPM_EGRESS_CGROUP;
	e.key.prefixlen = 64;
	memcpy(e.key.addr, &cg, sizeof(cg));
	fill_candidates(&e, scratch, n);
	return set_push(out, &e);
}

/* One entry per cgroup that egress rules of this slot name: its rules, most specific first. */
static int flatten_cgroups(const struct perim_model *m, int slot, struct perim_lpm_set *out,
			   struct cand_sort *scratch, char *err, size_t errlen)
{
	const struct perim_model_rule **rules = malloc((m->rules_end + 1) * sizeof(*rules));
	size_t n = 0, start;
	int ret = 0;

	if (!rules)
		return -ENOMEM;
	for (uint32_t id = 1; id < m->rules_end; id++)
		if (rule_by_cgroup(&m->rules[id], slot))
			rules[n++] = &m->rules[id];
	qsort(rules, n, sizeof(rules[0]), cgroup_rule_cmp);
	for (start = 0; start < n && !ret; ) {
		size_t end = start + 1;

		while (end < n && rules[end]->spec.cgroup_id == rules[start]->spec.cgroup_id)
			end++;
		ret = flatten_cgroup(m, slot, rules + start, end - start, out, scratch, err, errlen);
		start = end;
	}
	free(rules);
	return ret;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct perim_prefix *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c ? c : (int)x->len - (int)y->len;
}

static int flatten_iface(const struct perim_model *m, int slot, bool egress, struct perim_lpm_set *out,
			 struct cand_sort *scratch, char *err, size_t errlen)
{
	struct perim_prefix *prefixes;
	struct perim_lpm_entry e;
	struct iface_index x;
	size_t n;
	int ret;

	ret = collect_prefixes(m, slot, egress, &prefixes, &n);
	if (ret)
		return ret;
	ret = iface_index_build(m, slot, egress, &x);
	if (ret) {
		iface_index_free(&x);
		free(prefixes);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		perim_prefix_mask(prefixes[i].addr, prefixes[i].len);
	qsort(prefixes, n, sizeof(prefixes[0]), prefix_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !prefix_cmp(&prefixes[i - 1], &prefixes[i]))
			continue;
		ret = flatten_prefix(m, slot, egress, &x, &prefixes[i], scratch, &e, err, errlen);
		if (!ret)
			ret = set_push(out, &e);
		if (ret)
			break;
	}
	iface_index_free(&x);
	free(prefixes);
	return ret;
}

/* Sorted by key, so the entries of one trie are adjacent. */
static int check_trie_sizes(const struct perim_model *m, struct perim_lpm_set *out, char *err, size_t errlen)
{
	size_t run = 0;

	for (size_t i = 0; i < out->n; i++) {
		const struct perim_lpm_ukey *k = &out->e[i].key;

		if (i && (k->slot != out->e[i - 1].key.slot || k->family != out->e[i - 1].key.family))
			run = 0;
		if (++run <= PERIM_LPM_MAX_ENTRIES)
			continue;
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: its %s%s rules need more than %d LPM entries",
			 m->ifaces[k->slot].dev, k->family >= PERIM_LPM_EGRESS_V4 ? "egress " : "",
			 k->family == PERIM_LPM_V4 || k->family == PERIM_LPM_EGRESS_V4 ? "IPv4" : "IPv6",
			 PERIM_LPM_MAX_ENTRIES);
		perim_lpm_set_free(out);
		return PERIM_EXIT_BADINPUT;
	}
	return 0;
}

int perim_flatten(const struct perim_model *m, struct perim_lpm_set *out, char *err, size_t errlen)
{
	struct cand_sort *scratch = malloc((m->rules_end + 1) * sizeof(*scratch));
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!scratch)
		return -ENOMEM;
	for (int slot = 0; slot < PERIM_MAX_IFACES && !ret; slot++) {
		if (!m->ifaces[slot].used)
			continue;
		ret = flatten_iface(m, slot, false, out, scratch, err, errlen);
		if (!ret)
			ret = flatten_iface(m, slot, true, out, scratch, err, errlen);
		if (!ret)
			ret = flatten_cgroups(m, slot, out, scratch, err, errlen);
	}
	free(scratch);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory while flattening rules");
	if (ret) {
		perim_lpm_set_free(out);
		return ret;
	}
	if (out->n)
		qsort(out->e, out->n, sizeof(out->e[0]), key_cmp);
	return check_trie_sizes(m, out, err, errlen);
}

