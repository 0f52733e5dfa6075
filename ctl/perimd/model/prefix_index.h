/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which of many prefixes cover a given one, without comparing it to each:
 * the prefixes sorted by (masked address, length), probed once per length in
 * use. Flattening asks this for every LPM entry, so one rule change costs
 * O(entries x lengths in use x log rules) instead of entries x rules.
 */
#ifndef PERIMD_PREFIX_INDEX_H
#define PERIMD_PREFIX_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"

struct perim_prefix_ref {
	uint8_t addr[16];          /* masked to len */
	uint8_t len;
	const void *item;
};

struct perim_prefix_index {
	struct perim_prefix_ref *v;
	size_t n, cap;
	bool len_used[129];
};

/* 0 or -ENOMEM. Call perim_prefix_index_sort after the last add. */
int perim_prefix_index_add(struct perim_prefix_index *x, const struct perim_prefix *p, const void *item);
void perim_prefix_index_sort(struct perim_prefix_index *x);
void perim_prefix_index_free(struct perim_prefix_index *x);

/*
 * fn(item, covering prefix length, ctx) for every indexed prefix that covers
 * p (its length <= p's, equal on its bits), longest first; stops at the first
 * non-zero return, which it returns. 0 when every call returned 0.
 */
typedef int (*perim_prefix_cover_fn)(const void *item, unsigned len, void *ctx);
int perim_prefix_index_covering(const struct perim_prefix_index *x, const struct perim_prefix *p,
				perim_prefix_cover_fn fn, void *ctx);

#endif /* PERIMD_PREFIX_INDEX_H */
