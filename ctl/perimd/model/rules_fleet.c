// SPDX-License-Identifier: GPL-2.0
/*
 * The model's fleet prefixes: a sorted array and the set of lengths in use,
 * so "does a fleet decision cover this prefix" costs one binary search per
 * length in use instead of a scan of every decision (flattening asks it for
 * every prefix, and a fleet may hold thousands of decisions).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/rules.h"

static int fleet_cmp(const void *a, const void *b)
{
	const struct perim_prefix *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (int)x->len - (int)y->len;
}

static void lens_add(uint64_t lens[3], unsigned len)
{
	lens[len / 64] |= 1ULL << (len % 64);
}

static bool lens_has(const uint64_t lens[3], unsigned len)
{
	return lens[len / 64] & (1ULL << (len % 64));
}

int perim_model_fleet_set(struct perim_model *m, const struct perim_prefix *p, unsigned n)
{
	struct perim_prefix *sorted = n ? malloc(n * sizeof(*sorted)) : NULL;
	unsigned kept = 0;

	if (n && !sorted)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		sorted[i] = p[i];
		perim_prefix_mask(sorted[i].addr, sorted[i].len);
	}
	if (n)
		qsort(sorted, n, sizeof(*sorted), fleet_cmp);
	memset(m->fleet_lens, 0, sizeof(m->fleet_lens));
	for (unsigned i = 0; i < n; i++) {
		if (kept && !fleet_cmp(&sorted[kept - 1], &sorted[i]))
			continue;
		sorted[kept++] = sorted[i];
		lens_add(m->fleet_lens, sorted[i].len);
	}
	free(m->fleet);
	m->fleet = sorted;
	m->n_fleet = kept;
	return 0;
}

bool perim_model_fleet_covers(const struct perim_model *m, const struct perim_prefix *p)
{
	struct perim_prefix probe;

	if (!m->n_fleet)
		return false;
	for (unsigned len = 0; len <= p->len && len <= 128; len++) {
		if (!lens_has(m->fleet_lens, len))
			continue;
		memset(&probe, 0, sizeof(probe));
		memcpy(probe.addr, p->addr, sizeof(probe.addr));
		perim_prefix_mask(probe.addr, len);
		probe.len = len;
		if (bsearch(&probe, m->fleet, m->n_fleet, sizeof(probe), fleet_cmp))
			return true;
	}
	return false;
}
