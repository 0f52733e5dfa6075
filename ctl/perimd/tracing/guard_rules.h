/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guard rail file (perimd --guard-rules FILE), one rule a line:
 *   open|exec|bpf PREFIX [audit|enforce]   an LSM guard rail (default audit)
 *   write PREFIX                           one more sensitive prefix for the write hook
 * PREFIX is absolute, at most PERIM_PREFIX_MAX bytes; '#' starts a comment.
 * open and exec rules guard the named file, or everything below the named
 * directory (resolved when the tracers start); bpf rules guard perimd's maps
 * and programs by id (the first bpf rule over the pin root) and the pins in
 * their directory by inode.
 */
#ifndef PERIM_GUARD_RULES_H
#define PERIM_GUARD_RULES_H

#include <stddef.h>
#include "perim_events.h"

#define PERIM_GUARD_MAX_WRITE 64

struct perim_guard_rule {
	int op;                     /* enum perim_guard_op */
	int mode;                   /* PERIM_GUARD_AUDIT or _ENFORCE */
	int line;
	char prefix[PERIM_PREFIX_MAX + 1];
};

struct perim_guard_config {
	struct perim_guard_rule rules[PERIM_GUARD_MAX_RULES];
	int n_rules;
	char write_prefixes[PERIM_GUARD_MAX_WRITE][PERIM_PREFIX_MAX + 1];
	int n_write;
};

/* 0, or -errno with one line naming the bad token in err. */
int perim_guard_rules_parse(const char *path, struct perim_guard_config *c, char *err, size_t errlen);

#endif /* PERIM_GUARD_RULES_H */
