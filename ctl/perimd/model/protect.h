/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protected management access in the model: per interface, prefixes (with
 * an optional protocol and port range) whose packets pass before any deny,
 * limit, block or SYN check. Flattened as the first candidates of the
 * entries they cover (PERIM_CAND_PROTECT, perim.h).
 */
#ifndef PERIMD_MODEL_PROTECT_H
#define PERIMD_MODEL_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "perim.h"

#define PERIM_MAX_PROTECT 64   /* over all interfaces: a handful of management sources */

struct perim_model;

struct perim_model_protect {
	uint8_t iface;
	struct perim_protect_spec spec;
};

/* Each returns 0 or PERIM_EXIT_BADINPUT with a one-line message naming the entry. */
int perim_model_protect_add(struct perim_model *m, int slot, const struct perim_protect_spec *p,
			    char *err, size_t errlen);
int perim_model_protect_del(struct perim_model *m, int slot, const struct perim_protect_spec *p,
			    char *err, size_t errlen);
/* Every entry of slot goes (its interface is removed, or an apply replaces it). */
void perim_model_protect_clear(struct perim_model *m, int slot);

/* Has slot exactly this entry? */
bool perim_model_protect_has(const struct perim_model *m, int slot, const struct perim_protect_spec *p);

/*
 * The protect candidates of an entry for prefix p on slot, most specific
 * first, into out (at most max). Returns how many cover p (may exceed max).
 */
int perim_model_protect_candidates(const struct perim_model *m, int slot, const struct perim_prefix *p,
				   struct perim_candidate *out, int max);

/* The state file's "protect add" lines, of every slot or of one (slot >= 0). 0 or -EINVAL. */
int perim_model_protect_format(const struct perim_model *m, int slot, FILE *f);

#endif /* PERIMD_MODEL_PROTECT_H */
