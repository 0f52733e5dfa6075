/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guard rails into the loaded tracer object: the write filter's
 * prefixes (a built-in set of sensitive places, plus the guard file's
 * "write" lines), and the guard file's rules (guard_rules.h) by inode, with
 * perimd's own maps and programs guarded by id (guard_objects.h).
 */
#ifndef PERIMD_GUARD_SETUP_H
#define PERIMD_GUARD_SETUP_H

struct perim_trace;
struct perim_hook_state;

/*
 * hooks: the attach plan (which LSM hooks can enforce a rule here); guard_rules:
 * the guard file, NULL = none; pin_root: perimd's. 0 or -errno, logged.
 */
int perim_guard_setup(struct perim_trace *skel, const struct perim_hook_state *hooks,
		      const char *guard_rules, const char *pin_root);

#endif /* PERIMD_GUARD_SETUP_H */
