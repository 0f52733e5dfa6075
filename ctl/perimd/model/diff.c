// SPDX-License-Identifier: GPL-2.0
/* The difference of two models on some interfaces, as ruleset lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model/diff.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "model/protect.h"
#include "model/syncookies.h"

struct diff_out {
	perim_diff_fn fn;
	void *ctx;
	unsigned *counts;
};

static void emit(struct diff_out *o, enum perim_diff_op op, const char *line)
{
	o->counts[op]++;
	if (o->fn)
		o->fn(o->ctx, op, line);
}

static const struct perim_model_rule *rule_at(const struct perim_model *m, uint32_t id)
{
	return id < m->rules_end && m->rules[id].used ? &m->rules[id] : NULL;
}

/* Rules are compared by their lines: what the state file would record of them. */
static int diff_rules(const struct perim_model *from, const struct perim_model *to, const bool *slots,
		      struct diff_out *o)
{
	uint32_t end = from->rules_end > to->rules_end ? from->rules_end : to->rules_end;
	char was[512], now[512];

	for (uint32_t id = 1; id < end; id++) {
		const struct perim_model_rule *a = rule_at(from, id), *b = rule_at(to, id);

		if (a && !slots[a->iface])
			a = NULL;
		if (b && !slots[b->iface])
			b = NULL;
		/* Only what is emitted is formatted, and only for a caller that takes the lines. */
		if (a && b && perim_limit_same_line(&a->spec, &b->spec))
			continue;
		if (o->fn && a && !b && perim_limit_format(from->ifaces[a->iface].dev, &a->spec, was, sizeof(was)) < 0)
			return -EINVAL;
		if (o->fn && b && perim_limit_format(to->ifaces[b->iface].dev, &b->spec, now, sizeof(now)) < 0)
			return -EINVAL;
		if (a && !b)
			emit(o, PERIM_DIFF_REMOVE, was);
		else if (!a && b)
			emit(o, PERIM_DIFF_ADD, now);
		else if (a && b)
			emit(o, PERIM_DIFF_REPLACE, now);
	}
	return 0;
}

static bool acl_has(const struct perim_model *m, const struct perim_model_acl *e)
{
	for (unsigned i = 0; i < m->n_acl; i++)
		if (m->acl[i].iface == e->iface && m->acl[i].verdict == e->verdict &&
		    m->acl[i].prefix.len == e->prefix.len && !memcmp(m->acl[i].prefix.addr, e->prefix.addr, 16))
			return true;
	return false;
}

/* Entries of `of` missing from `in`, reported as op. */
static void acl_missing(const struct perim_model *of, const struct perim_model *in, const bool *slots,
			enum perim_diff_op op, struct diff_out *o)
{
	char prefix[64], line[128];

	for (unsigned i = 0; i < of->n_acl; i++) {
		const struct perim_model_acl *e = &of->acl[i];

		if (!slots[e->iface] || acl_has(in, e))
			continue;
		perim_prefix_format(&e->prefix, prefix, sizeof(prefix));
		snprintf(line, sizeof(line), "%s add %s %s", e->verdict == PERIM_ACL_ALLOW ? "allow" : "deny",
			 of->ifaces[e->iface].dev, prefix);
		emit(o, op, line);
	}
}

static int diff_shapes(const struct perim_model *from, const struct perim_model *to, const bool *slots,
		       struct diff_out *o)
{
	char was[256], now[256];

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		bool a = slots[s] && from->shapes[s].used, b = slots[s] && to->shapes[s].used;

		if (a && perim_shape_format(from->ifaces[s].dev, &from->shapes[s].spec, was, sizeof(was)) < 0)
			return -EINVAL;
		if (b && perim_shape_format(to->ifaces[s].dev, &to->shapes[s].spec, now, sizeof(now)) < 0)
			return -EINVAL;
		if (a && !b)
			emit(o, PERIM_DIFF_REMOVE, was);
		else if (!a && b)
			emit(o, PERIM_DIFF_ADD, now);
		else if (a && b && strcmp(was, now))
			emit(o, PERIM_DIFF_REPLACE, now);
	}
	return 0;
}

static bool protect_has(const struct perim_model *m, const struct perim_model_protect *e)
{
	for (unsigned i = 0; i < m->n_protect; i++)
		if (m->protect[i].iface == e->iface && m->protect[i].spec.prefix.len == e->spec.prefix.len &&
		    !memcmp(m->protect[i].spec.prefix.addr, e->spec.prefix.addr, 16) &&
		    m->protect[i].spec.proto == e->spec.proto && m->protect[i].spec.dport_lo == e->spec.dport_lo &&
		    m->protect[i].spec.dport_hi == e->spec.dport_hi)
			return true;
	return false;
}

/* Entries of `of` missing from `in`, reported as op. */
static void protect_missing(const struct perim_model *of, const struct perim_model *in, const bool *slots,
			    enum perim_diff_op op, struct diff_out *o)
{
	char line[160];

	for (unsigned i = 0; i < of->n_protect; i++) {
		const struct perim_model_protect *e = &of->protect[i];

		if (!slots[e->iface] || protect_has(in, e))
			continue;
		perim_protect_format(of->ifaces[e->iface].dev, &e->spec, line, sizeof(line));
		emit(o, op, line);
	}
}

/* Compared as the lines they write: the line is what show and the state file say. */
static bool syn_has(const char *dev, const struct perim_model_syn *in, const char *line)
{
	char other[256];

	for (int i = 0; i < in->n; i++)
		if (perim_syn_format(dev, &in->spec[i], other, sizeof(other)) >= 0 && !strcmp(line, other))
			return true;
	return false;
}

/* SYN protections of `of` missing from `in` (any field differing), reported as op. */
static int syn_missing(const struct perim_model *of, const struct perim_model *in, const bool *slots,
		       enum perim_diff_op op, struct diff_out *o)
{
	char line[256];

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		const struct perim_model_syn *a = perim_model_syn_of(of, s), *b = perim_model_syn_of(in, s);

		for (int i = 0; slots[s] && i < a->n; i++) {
			if (perim_syn_format(of->ifaces[s].dev, &a->spec[i], line, sizeof(line)) < 0)
				return -EINVAL;
			if (!syn_has(of->ifaces[s].dev, b, line))
				emit(o, op, line);
		}
	}
	return 0;
}

int perim_model_diff(const struct perim_model *from, const struct perim_model *to,
		     const bool slots[PERIM_MAX_IFACES], perim_diff_fn fn, void *ctx,
		     unsigned counts[PERIM_DIFF_OPS])
{
	struct diff_out o = { .fn = fn, .ctx = ctx, .counts = counts };
	int ret;

	memset(counts, 0, PERIM_DIFF_OPS * sizeof(counts[0]));
	ret = diff_rules(from, to, slots, &o);
	if (ret)
		return ret;
	acl_missing(from, to, slots, PERIM_DIFF_REMOVE, &o);
	acl_missing(to, from, slots, PERIM_DIFF_ADD, &o);
	protect_missing(from, to, slots, PERIM_DIFF_REMOVE, &o);
	protect_missing(to, from, slots, PERIM_DIFF_ADD, &o);
	ret = syn_missing(from, to, slots, PERIM_DIFF_REMOVE, &o) ?: syn_missing(to, from, slots, PERIM_DIFF_ADD, &o);
	return ret ?: diff_shapes(from, to, slots, &o);
}

const char *perim_diff_op_name(enum perim_diff_op op)
{
	static const char *const names[PERIM_DIFF_OPS] = { "added", "removed", "replaced" };

	return op < PERIM_DIFF_OPS ? names[op] : "?";
}
