// SPDX-License-Identifier: GPL-2.0
/* The rule model, spec -> perim_rule conversion, and flattening into LPM entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define NSEC_PER_SEC 1000000000ULL

struct perim_model *perim_model_new(void)
{
	return calloc(1, sizeof(struct perim_model));
}

static void *copy_of(const void *src, size_t n, size_t size)
{
	void *dst = n ? malloc(n * size) : NULL;

	if (dst)
		memcpy(dst, src, n * size);
	return dst;
}

struct perim_model *perim_model_dup(const struct perim_model *m)
{
	struct perim_model *copy = malloc(sizeof(*copy));

	if (!copy)
		return NULL;
	*copy = *m;
	copy->rules = copy_of(m->rules, m->rules_end, sizeof(m->rules[0]));
	copy->acl = copy_of(m->acl, m->n_acl, sizeof(m->acl[0]));
	copy->acl_cap = m->n_acl;
	copy->fleet = copy_of(m->fleet, m->n_fleet, sizeof(m->fleet[0]));
	if ((m->rules_end && !copy->rules) || (m->n_acl && !copy->acl) || (m->n_fleet && !copy->fleet)) {
		perim_model_free(copy);
		return NULL;
	}
	return copy;
}

void perim_model_free(struct perim_model *m)
{
	if (!m)
		return;
	free(m->rules);
	free(m->acl);
	free(m->fleet);
	free(m);
}

/* Room for rule id `id`: the slot array doubled (new slots unused). 0 or -ENOMEM. */
static int rules_reserve(struct perim_model *m, uint32_t id)
{
	uint32_t end = m->rules_end ? m->rules_end : 16;
	struct perim_model_rule *r;

	if (id < m->rules_end)
		return 0;
	while (end <= id)
		end *= 2;
	if (end > PERIM_MAX_RULES)
		end = PERIM_MAX_RULES;
	r = realloc(m->rules, end * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r + m->rules_end, 0, (end - m->rules_end) * sizeof(*r));
	m->rules = r;
	m->rules_end = end;
	return 0;
}

/* Room for one more prefix. 0 or -ENOMEM. */
static int acl_reserve(struct perim_model *m)
{
	unsigned cap = m->acl_cap ? 2 * m->acl_cap : 16;
	struct perim_model_acl *a;

	if (m->n_acl < m->acl_cap)
		return 0;
	if (cap > PERIM_MAX_ACL)
		cap = PERIM_MAX_ACL;
	a = realloc(m->acl, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->acl = a;
	m->acl_cap = cap;
	return 0;
}

static bool rule_used(const struct perim_model *m, uint32_t id)
{
	return id < m->rules_end && m->rules[id].used;
}

/* ---- model edits ---- */

static int bad_arg(char *err, size_t errlen, const char *token, const char *why)
{
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, why);
	return PERIM_EXIT_BADINPUT;
}

int perim_model_iface_find(const struct perim_model *m, const char *dev)
{
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (m->ifaces[s].used && !strcmp(m->ifaces[s].dev, dev))
			return s;
	return -1;
}

int perim_model_iface_add(struct perim_model *m, const char *dev, enum perim_xdp_mode mode,
			  int slot, char *err, size_t errlen)
{
	char num[16];

	if (perim_model_iface_find(m, dev) >= 0)
		return bad_arg(err, errlen, dev, "interface is already attached");
	if (slot >= PERIM_MAX_IFACES) {
		snprintf(num, sizeof(num), "%d", slot);
		return bad_arg(err, errlen, num, "interface slot out of range");
	}
	if (slot >= 0 && m->ifaces[slot].used) {
		snprintf(num, sizeof(num), "%d", slot);
		return bad_arg(err, errlen, num, "interface slot already in use");
	}
	for (int s = 0; slot < 0 && s < PERIM_MAX_IFACES; s++)
		if (!m->ifaces[s].used)
			slot = s;
	if (slot < 0)
		return bad_arg(err, errlen, dev, "all interface slots are in use");
	m->ifaces[slot].used = true;
	m->ifaces[slot].mode = mode;
	snprintf(m->ifaces[slot].dev, sizeof(m->ifaces[slot].dev), "%s", dev);
	return 0;
}

void perim_model_iface_del(struct perim_model *m, int slot)
{
	unsigned i, kept = 0;

	for (uint32_t id = 1; id < m->rules_end; id++)
		if (m->rules[id].used && m->rules[id].iface == slot)
			memset(&m->rules[id], 0, sizeof(m->rules[id]));
	for (i = 0; i < m->n_acl; i++)
		if (m->acl[i].iface != slot)
			m->acl[kept++] = m->acl[i];
	m->n_acl = kept;
	memset(&m->ifaces[slot], 0, sizeof(m->ifaces[slot]));
}

int perim_model_limit_add(struct perim_model *m, int slot, const struct perim_limit_spec *spec,
			  uint32_t *id_out, char *err, size_t errlen)
{
	uint32_t id = spec->id;
	char num[16];

	if (id >= PERIM_MAX_RULES || rule_used(m, id)) {
		snprintf(num, sizeof(num), "%u", id);
		return bad_arg(err, errlen, num, id ? "rule id already in use" : "rule id out of range");
	}
	for (uint32_t i = 1; !id && i < PERIM_MAX_RULES; i++)
		if (!rule_used(m, i))
			id = i;
	if (!id)
		return bad_arg(err, errlen, "limit", "all rule slots are in use");
	if (rules_reserve(m, id)) {
		snprintf(err, errlen, "rule %u: out of memory", id);
		return PERIM_EXIT_FAIL;
	}
	m->rules[id].used = true;
	m->rules[id].iface = slot;
	m->rules[id].spec = *spec;
	m->rules[id].spec.id = id;
	*id_out = id;
	return 0;
}

int perim_model_limit_del(struct perim_model *m, int slot, uint32_t id, char *err, size_t errlen)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", id);
	if (id == 0 || !rule_used(m, id) || m->rules[id].iface != slot)
		return bad_arg(err, errlen, num, "no such rule on this interface");
	memset(&m->rules[id], 0, sizeof(m->rules[id]));
	return 0;
}

void perim_prefix_mask(uint8_t addr[16], unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static bool prefix_equal(const struct perim_prefix *a, const struct perim_prefix *b)
{
	uint8_t x[16], y[16];

	if (a->len != b->len)
		return false;
	memcpy(x, a->addr, 16);
	memcpy(y, b->addr, 16);
	perim_prefix_mask(x, a->len);
	perim_prefix_mask(y, b->len);
	return !memcmp(x, y, 16);
}

static int acl_find(const struct perim_model *m, int slot, const struct perim_prefix *p)
{
	for (unsigned i = 0; i < m->n_acl; i++)
		if (m->acl[i].iface == slot && prefix_equal(&m->acl[i].prefix, p))
			return i;
	return -1;
}

static const char *acl_name(uint8_t verdict)
{
	return verdict == PERIM_ACL_ALLOW ? "allow" : "deny";
}

int perim_model_acl_add(struct perim_model *m, int slot, uint8_t verdict,
			const struct perim_prefix *p, char *err, size_t errlen)
{
	char text[64], why[64];
	int i;

	perim_prefix_format(p, text, sizeof(text));
	i = acl_find(m, slot, p);
	if (i >= 0) {
		snprintf(why, sizeof(why), "prefix is already in the %s list", acl_name(m->acl[i].verdict));
		return bad_arg(err, errlen, text, why);
	}
	if (m->n_acl >= PERIM_MAX_ACL)
		return bad_arg(err, errlen, text, "the allow/deny lists are full");
	if (acl_reserve(m)) {
		snprintf(err, errlen, "%s: out of memory", text);
		return PERIM_EXIT_FAIL;
	}
	m->acl[m->n_acl].iface = slot;
	m->acl[m->n_acl].verdict = verdict;
	m->acl[m->n_acl].prefix = *p;
	perim_prefix_mask(m->acl[m->n_acl].prefix.addr, p->len);
	m->n_acl++;
	return 0;
}

int perim_model_acl_del(struct perim_model *m, int slot, uint8_t verdict,
			const struct perim_prefix *p, char *err, size_t errlen)
{
	char text[64], why[64];
	int i = acl_find(m, slot, p);

	perim_prefix_format(p, text, sizeof(text));
	if (i < 0 || m->acl[i].verdict != verdict) {
		snprintf(why, sizeof(why), "prefix is not in the %s list", acl_name(verdict));
		return bad_arg(err, errlen, text, why);
	}
	m->acl[i] = m->acl[--m->n_acl];
	return 0;
}

/* ---- spec -> perim_rule ---- */

uint64_t perim_clock_tick_ns(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) < 0 || (!res.tv_sec && !res.tv_nsec))
		return 4000000; /* HZ=250, the common case */
	return res.tv_sec * NSEC_PER_SEC + res.tv_nsec;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * GCRA parameters. The tolerance never drops below two clock ticks: the
 * datapath reads the coarse clock, so packets of one tick share a timestamp
 * and a smaller tolerance would admit less than the configured rate.
 */
void perim_rule_from_spec(const struct perim_limit_spec *spec, uint64_t tick_ns, struct perim_rule *out)
{
	uint64_t rate = spec->rate_pps ? spec->rate_pps : 1;
	uint64_t burst = spec->burst ? spec->burst : rate;
	uint64_t floor = 2 * tick_ns;

	memset(out, 0, sizeof(*out));
	out->flags = PERIM_RULE_ACTIVE;
	if (spec->per_source)
		out->flags |= PERIM_RULE_PER_SOURCE;
	if (spec->dry_run)
		out->flags |= PERIM_RULE_DRY_RUN;

	out->pkt_interval_ns = max_u64(NSEC_PER_SEC / rate, 1);
	out->pkt_tolerance_ns = max_u64((burst - 1) * out->pkt_interval_ns, floor);

	/*
	 * Bytes: the cost of one byte in ns, 16.16 fixed point. The byte
	 * tolerance spans the same time window as the packet burst
	 * (burst x packet interval: one second with the default burst), so a
	 * burst may carry that many seconds' worth of bytes.
	 */
	if (spec->bytes_per_s) {
		out->byte_cost_fp16 = max_u64((NSEC_PER_SEC << 16) / spec->bytes_per_s, 1);
		out->byte_tolerance_ns = max_u64(burst * out->pkt_interval_ns, floor);
	}

	out->block_ns = (uint64_t)spec->block_s * NSEC_PER_SEC;

	/*
	 * Per-source rules admit unseen sources at max(16 x rate, 1024)/s with
	 * one second of burst: this bounds how fast a spoofed flood can insert
	 * new keys into the LRU and so evict the buckets of known sources.
	 */
	if (spec->per_source) {
		uint64_t newsrc_rate = max_u64(16 * rate, 1024);

		out->newsrc_interval_ns = max_u64(NSEC_PER_SEC / newsrc_rate, 1);
		out->newsrc_tolerance_ns = max_u64((newsrc_rate - 1) * out->newsrc_interval_ns, floor);
	}
}

/* ---- flattening ---- */

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

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

void perim_lpm_key_make(struct perim_lpm_ukey *key, int slot, const struct perim_prefix *p)
{
	uint8_t addr[16];

	memcpy(addr, p->addr, 16);
	perim_prefix_mask(addr, p->len);
	memset(key, 0, sizeof(*key));
	key->slot = slot;
	if (p->len >= 96 && !memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix))) {
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

static bool prefix_covers(const struct perim_prefix *outer, const struct perim_prefix *inner)
{
	uint8_t a[16], b[16];

	if (outer->len > inner->len)
		return false;
	memcpy(a, outer->addr, 16);
	memcpy(b, inner->addr, 16);
	perim_prefix_mask(a, outer->len);
	perim_prefix_mask(b, outer->len);
	return !memcmp(a, b, 16);
}

/*
 * How specifically rule r covers prefix p: the length of its covering prefix,
 * or -1. A rule without src is 0.0.0.0/0 plus ::/0.
 */
static const struct perim_prefix *rule_prefix(const struct perim_model_rule *r)
{
	if (r->spec.egress)
		return r->spec.has_dst ? &r->spec.dst : NULL;
	return r->spec.has_src ? &r->spec.src : NULL;
}

static int rule_cover_len(const struct perim_model_rule *r, const struct perim_prefix *p)
{
	const struct perim_prefix *mine = rule_prefix(r);

	if (mine)
		return prefix_covers(mine, p) ? mine->len : -1;
	return prefix_covers(&v4_any, p) ? 96 : 0;
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
	if (pfx->len < v4_any.len && prefix_covers(pfx, &v4_any))
		p[(*k)++] = v4_any;
}

/* The prefixes of one interface's LPM entries, duplicates included. */
static int collect_prefixes(const struct perim_model *m, int slot, bool egress, struct perim_prefix **out,
			    size_t *n)
{
	size_t cap = 2 * (m->rules_end + m->n_acl + m->n_fleet) + 1, k = 0;
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
	*out = p;
	*n = k;
	return 0;
}

static uint8_t acl_verdict(const struct perim_model *m, int slot, const struct perim_prefix *p)
{
	int best_len = -1;
	uint8_t verdict = PERIM_ACL_NONE;

	for (unsigned i = 0; i < m->n_acl; i++) {
		const struct perim_model_acl *a = &m->acl[i];

		if (a->iface == slot && a->prefix.len > best_len && prefix_covers(&a->prefix, p)) {
			best_len = a->prefix.len;
			verdict = a->verdict;
		}
	}
	/* The local lists win: a fleet decision never overrides an allow (or a local deny). */
	if (verdict == PERIM_ACL_NONE && perim_model_fleet_covers(m, p))
		verdict = PERIM_ACL_FLEET_DENY;
	return verdict;
}

static int too_many_candidates(const struct perim_model *m, int slot, const struct perim_prefix *p,
			       int n, char *err, size_t errlen)
{
	char text[64];

	perim_prefix_format(p, text, sizeof(text));
	snprintf(err, errlen,
		 "Error: argument \"%s\" is wrong: on %s, %d rules would cover this prefix, at most %d can",
		 text, m->ifaces[slot].dev, n, PERIM_MAX_CANDIDATES);
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

static int flatten_prefix(const struct perim_model *m, int slot, bool egress, const struct perim_prefix *p,
			  struct cand_sort *scratch, struct perim_lpm_entry *e, char *err, size_t errlen)
{
	int n = 0;

	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];
		int len;

		if (!rule_in_tries(r, slot, egress))
			continue;
		len = rule_cover_len(r, p);
		if (len < 0)
			continue;
		scratch[n].rule = r;
		scratch[n].cover_len = len;
		n++;
	}
	if (n > PERIM_MAX_CANDIDATES)
		return too_many_candidates(m, slot, p, n, err, errlen);
	qsort(scratch, n, sizeof(scratch[0]), cand_cmp);

	memset(e, 0, sizeof(*e));
	perim_lpm_key_make(&e->key, slot, p);
	if (egress)
		e->key.family += PERIM_LPM_EGRESS_V4;
	else
		e->value.acl = acl_verdict(m, slot, p);
	fill_candidates(e, scratch, n);
	return 0;
}

/* One entry per cgroup that egress rules of this slot name: its rules, most specific first. */
static int flatten_cgroups(const struct perim_model *m, int slot, struct perim_lpm_set *out,
			   struct cand_sort *scratch, char *err, size_t errlen)
{
	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];
		struct perim_lpm_entry e;
		uint64_t cg = r->spec.cgroup_id;
		bool seen = false;
		int n = 0, ret;

		if (!r->used || r->iface != slot || !r->spec.egress || !r->spec.cgroup[0])
			continue;
		for (uint32_t j = 1; j < id && !seen; j++)
			seen = m->rules[j].used && m->rules[j].iface == slot && m->rules[j].spec.egress &&
			       m->rules[j].spec.cgroup[0] && m->rules[j].spec.cgroup_id == cg;
		if (seen)
			continue;
		for (uint32_t j = id; j < m->rules_end; j++) {
			const struct perim_model_rule *o = &m->rules[j];

			if (!o->used || o->iface != slot || !o->spec.egress || !o->spec.cgroup[0] ||
			    o->spec.cgroup_id != cg)
				continue;
			if (n == PERIM_MAX_CANDIDATES) {
				snprintf(err, errlen, "Error: argument \"%s\" is wrong: on %s, more than %d rules "
					 "name this cgroup", r->spec.cgroup, m->ifaces[slot].dev, PERIM_MAX_CANDIDATES);
				return PERIM_EXIT_BADINPUT;
			}
			scratch[n].rule = o;
			scratch[n].cover_len = 0;
			n++;
		}
		qsort(scratch, n, sizeof(scratch[0]), cand_cmp);
		memset(&e, 0, sizeof(e));
		e.key.slot = slot;
		e.key.family = PERIM_LPM_EGRESS_CGROUP;
		e.key.prefixlen = 64;
		memcpy(e.key.addr, &cg, sizeof(cg));
		fill_candidates(&e, scratch, n);
		ret = set_push(out, &e);
		if (ret)
			return ret;
	}
	return 0;
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
	size_t n;
	int ret;

	ret = collect_prefixes(m, slot, egress, &prefixes, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		perim_prefix_mask(prefixes[i].addr, prefixes[i].len);
	qsort(prefixes, n, sizeof(prefixes[0]), prefix_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !prefix_cmp(&prefixes[i - 1], &prefixes[i]))
			continue;
		ret = flatten_prefix(m, slot, egress, &prefixes[i], scratch, &e, err, errlen);
		if (!ret)
			ret = set_push(out, &e);
		if (ret)
			break;
	}
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

