// SPDX-License-Identifier: GPL-2.0
/* Protected management access in the model (protect.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model/protect.h"
#include "model/rules.h"

static bool same_entry(const struct perim_model_protect *e, int slot, const struct perim_protect_spec *p)
{
	return e->iface == slot && e->spec.prefix.len == p->prefix.len &&
	       !memcmp(e->spec.prefix.addr, p->prefix.addr, 16) && e->spec.proto == p->proto &&
	       e->spec.dport_lo == p->dport_lo && e->spec.dport_hi == p->dport_hi;
}

static int find(const struct perim_model *m, int slot, const struct perim_protect_spec *p)
{
	for (unsigned i = 0; i < m->n_protect; i++)
		if (same_entry(&m->protect[i], slot, p))
			return i;
	return -1;
}

static int bad(char *err, size_t errlen, const struct perim_model *m, int slot,
	       const struct perim_protect_spec *p, const char *why)
{
	char line[160];

	perim_protect_format(m->ifaces[slot].dev, p, line, sizeof(line));
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", line, why);
	return PERIM_EXIT_BADINPUT;
}

bool perim_model_protect_has(const struct perim_model *m, int slot, const struct perim_protect_spec *p)
{
	return find(m, slot, p) >= 0;
}

int perim_model_protect_add(struct perim_model *m, int slot, const struct perim_protect_spec *p,
			    char *err, size_t errlen)
{
	struct perim_model_protect *e;

	if (find(m, slot, p) >= 0)
		return bad(err, errlen, m, slot, p, "already protected");
	if (m->n_protect >= PERIM_MAX_PROTECT)
		return bad(err, errlen, m, slot, p, "the protect list is full (64 entries)");
	e = &m->protect[m->n_protect++];
	e->iface = slot;
	e->spec = *p;
	perim_prefix_mask(e->spec.prefix.addr, e->spec.prefix.len);
	return 0;
}

int perim_model_protect_del(struct perim_model *m, int slot, const struct perim_protect_spec *p,
			    char *err, size_t errlen)
{
	int i = find(m, slot, p);

	if (i < 0)
		return bad(err, errlen, m, slot, p, "no such protect entry");
	m->protect[i] = m->protect[--m->n_protect];
	return 0;
}

void perim_model_protect_clear(struct perim_model *m, int slot)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < m->n_protect; i++)
		if (m->protect[i].iface != slot)
			m->protect[kept++] = m->protect[i];
	m->n_protect = kept;
}

int perim_model_protect_candidates(const struct perim_model *m, int slot, const struct perim_prefix *p,
				   struct perim_candidate *out, int max)
{
	int n = 0;

	/* Longest prefix first: a few entries, so a selection pass per length is cheap enough. */
	for (int len = 128; len >= 0; len--) {
		for (unsigned i = 0; i < m->n_protect; i++) {
			const struct perim_model_protect *e = &m->protect[i];

			if (e->iface != slot || e->spec.prefix.len != len || !perim_prefix_covers(&e->spec.prefix, p))
				continue;
			if (n < max) {
				memset(&out[n], 0, sizeof(out[n]));
				out[n].proto = e->spec.proto;
				out[n].flags = PERIM_CAND_PROTECT;
				out[n].dport_lo = e->spec.dport_lo;
				out[n].dport_hi = e->spec.dport_hi;
			}
			n++;
		}
	}
	return n;
}

int perim_model_protect_format(const struct perim_model *m, int slot, FILE *f)
{
	char line[160];

	for (unsigned i = 0; i < m->n_protect; i++) {
		const struct perim_model_protect *e = &m->protect[i];

		if (slot >= 0 && e->iface != slot)
			continue;
		if (perim_protect_format(m->ifaces[e->iface].dev, &e->spec, line, sizeof(line)) < 0)
			return -EINVAL;
		fprintf(f, "%s\n", line);
	}
	return 0;
}
