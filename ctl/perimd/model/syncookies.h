/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An interface's SYN protections (syncookie set/del), part of the model like
 * its shaper: copied with it, written to the state file with it, and put in
 * the kernel (syn/apply.h: perim's nftables table and perim_syn_table) by the
 * same commit, whose one undo puts back the model before it.
 */
#ifndef PERIMD_MODEL_SYNCOOKIES_H
#define PERIMD_MODEL_SYNCOOKIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "perim_syn.h"

struct perim_model;

struct perim_model_syn {
	int n;
	struct perim_syn_spec spec[PERIM_SYN_MAX_PROT];
};

/*
 * Add spec to slot's protections, or replace the one with its destination
 * and ports. PERIM_EXIT_BADINPUT naming dev when the slot is full.
 */
int perim_model_syn_set(struct perim_model *m, int slot, const char *dev, const struct perim_syn_spec *spec,
			char *err, size_t errlen);
/*
 * Remove the protection with spec's destination and ports, or every one of
 * slot's when spec names neither. PERIM_EXIT_BADINPUT naming dev when none
 * matches.
 */
int perim_model_syn_del(struct perim_model *m, int slot, const char *dev, const struct perim_syn_spec *spec,
			char *err, size_t errlen);

/* Does committing `to` over `from` change slot's protections? (from NULL: nothing installed) */
bool perim_model_syn_changed(const struct perim_model *from, const struct perim_model *to, int slot);
/* slot's protections in m (none when the slot is unused or m is NULL). */
const struct perim_model_syn *perim_model_syn_of(const struct perim_model *m, int slot);

/* The "syncookie set" lines of slot (-1: every slot), as the state file and show write them. 0 or -EINVAL. */
int perim_model_syn_format(const struct perim_model *m, int slot, FILE *f);

#endif /* PERIMD_MODEL_SYNCOOKIES_H */
