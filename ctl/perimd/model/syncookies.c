// SPDX-License-Identifier: GPL-2.0
/* SYN protections in the model (syncookies.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "perim.h"
#include "model/rules.h"
#include "model/syncookies.h"

static const struct perim_model_syn no_protection;

/* The same protected destination and ports: a set replaces it, a del removes it. */
static bool same_target(const struct perim_syn_spec *a, const struct perim_syn_spec *b)
{
	if (a->has_dst != b->has_dst || a->dport_lo != b->dport_lo || a->dport_hi != b->dport_hi)
		return false;
	return !a->has_dst || (a->dst.len == b->dst.len && !memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr)));
}

int perim_model_syn_set(struct perim_model *m, int slot, const char *dev, const struct perim_syn_spec *spec,
			char *err, size_t errlen)
{
	struct perim_model_syn *s = &m->syn[slot];
	int i;

	for (i = 0; i < s->n && !same_target(&s->spec[i], spec); i++)
		;
	if (i == PERIM_SYN_MAX_PROT) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: it has %d SYN protections already, the most "
			 "an interface can have", dev, PERIM_SYN_MAX_PROT);
		return PERIM_EXIT_BADINPUT;
	}
	s->spec[i] = *spec;
	if (i == s->n)
		s->n++;
	return 0;
}

int perim_model_syn_del(struct perim_model *m, int slot, const char *dev, const struct perim_syn_spec *spec,
			char *err, size_t errlen)
{
	struct perim_model_syn *s = &m->syn[slot];
	bool all = !spec->has_dst && !spec->dport_hi;
	int kept = 0;

	for (int i = 0; i < s->n; i++)
		if (!all && !same_target(&s->spec[i], spec))
			s->spec[kept++] = s->spec[i];
	if (kept == s->n) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such SYN protection on it", dev);
		return PERIM_EXIT_BADINPUT;
	}
	s->n = kept;
	return 0;
}

/* Field by field: specs are copied by assignment, which need not copy their padding. */
static bool same_spec(const struct perim_syn_spec *a, const struct perim_syn_spec *b)
{
	return same_target(a, b) && a->dst.is_v4 == b->dst.is_v4 && a->mss == b->mss &&
	       a->has_wscale == b->has_wscale && (!a->has_wscale || a->wscale == b->wscale) &&
	       a->dry_run == b->dry_run;
}

const struct perim_model_syn *perim_model_syn_of(const struct perim_model *m, int slot)
{
	return m && m->ifaces[slot].used ? &m->syn[slot] : &no_protection;
}

bool perim_model_syn_changed(const struct perim_model *from, const struct perim_model *to, int slot)
{
	const struct perim_model_syn *a = perim_model_syn_of(from, slot), *b = perim_model_syn_of(to, slot);

	if (a->n != b->n)
		return true;
	for (int i = 0; i < a->n; i++)
		if (!same_spec(&a->spec[i], &b->spec[i]))
			return true;
	return false;
}

int perim_model_syn_format(const struct perim_model *m, int only, FILE *f)
{
	char line[256];

	for (int slot = 0; slot < PERIM_MAX_IFACES; slot++) {
		const struct perim_model_syn *s = perim_model_syn_of(m, slot);

		if (only >= 0 && slot != only)
			continue;
		for (int i = 0; i < s->n; i++) {
			int n = perim_syn_format(m->ifaces[slot].dev, &s->spec[i], line, sizeof(line));

			if (n < 0 || n >= (int)sizeof(line))
				return -EINVAL;
			fprintf(f, "%s\n", line);
		}
	}
	return 0;
}
