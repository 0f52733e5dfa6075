/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules by selector (interface slot, direction, src/dst/cgroup, proto, ports,
 * syn) in a hash: an apply of N rules looks each up in O(1) instead of
 * scanning every rule (perim_model_limit_find_selector).
 */
#ifndef PERIMD_SELECTOR_INDEX_H
#define PERIMD_SELECTOR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"

struct perim_model;

/* Rules of model m, which must hold every id added (it may grow meanwhile). */
struct perim_selector_index {
	const struct perim_model *m;
	size_t cap;                /* power of two */
	struct perim_selector_slot *slots;
};

/*
 * Do a and b match the same packets: direction, src/dst/cgroup, proto, ports,
 * syn (not rate, burst, mode or action)? A "limit set" with the selector of
 * an existing rule replaces it; an apply keeps such a rule's id.
 */
bool perim_limit_same_selector(const struct perim_limit_spec *a, const struct perim_limit_spec *b);

/* Every rule of m on the slots marked in slots[] (NULL: all). 0 or -ENOMEM. */
int perim_selector_index_build(struct perim_selector_index *x, const struct perim_model *m, size_t expect,
			       const bool *slots);
/* The rule id with this selector on slot, 0 if none. */
uint32_t perim_selector_index_find(const struct perim_selector_index *x, int slot,
				   const struct perim_limit_spec *spec);
/* Records rule id (a rule of m now) under spec's selector. 0 (the index is sized for it by build). */
int perim_selector_index_add(struct perim_selector_index *x, int slot, const struct perim_limit_spec *spec,
			     uint32_t id);
void perim_selector_index_free(struct perim_selector_index *x);

#endif /* PERIMD_SELECTOR_INDEX_H */
