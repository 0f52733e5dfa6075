// SPDX-License-Identifier: GPL-2.0
/* The rule model, spec -> perim_rule conversion, and flattening into LPM entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/prefix_index.h"
#include "model/rules.h"
#include "model/selector_index.h"
#include "cmd.h"
#include "perim.h"
#include "names.h"

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
	memset(&m->shapes[slot], 0, sizeof(m->shapes[slot]));
	perim_model_protect_clear(m, slot);
	memset(&m->syn[slot], 0, sizeof(m->syn[slot]));
	memset(&m->ifaces[slot], 0, sizeof(m->ifaces[slot]));
}

int perim_model_limit_add(struct perim_model *m, int slot, const struct perim_limit_spec *spec,
			  uint32_t *id_out, char *err, size_t errlen)
{
	uint32_t id = spec->id;
	char num[16];

	if (id >= PERIM_MAX_RULES || rule_used(m, id)) {
		snprintf(num, sizeof(num), "%u", id);
		return bad_arg(err, errlen, num, id < PERIM_MAX_RULES ? "rule id already in use"
								      : "rule id out of range (1..16383)");
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

uint32_t perim_model_limit_find_selector(const struct perim_model *m, int slot,
					 const struct perim_limit_spec *spec)
{
	for (uint32_t id = 1; id < m->rules_end; id++)
		if (m->rules[id].used && m->rules[id].iface == slot && perim_limit_same_selector(&m->rules[id].spec, spec))
			return id;
	return 0;
}

void perim_model_limit_replace(struct perim_model *m, uint32_t id, const struct perim_limit_spec *spec)
{
	m->rules[id].spec = *spec;
	m->rules[id].spec.id = id;
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

bool perim_prefix_covers(const struct perim_prefix *outer, const struct perim_prefix *inner)
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

bool perim_prefix_equal(const struct perim_prefix *a, const struct perim_prefix *b)
{
	return a->len == b->len && perim_prefix_covers(a, b);
}

static int acl_find(const struct perim_model *m, int slot, const struct perim_prefix *p)
{
	for (unsigned i = 0; i < m->n_acl; i++)
		if (m->acl[i].iface == slot && perim_prefix_equal(&m->acl[i].prefix, p))
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
