/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading tracers/perim_trace.bpf.c: open, size the rings, plan the hooks
 * (hooks.h), load, and retry without a program the kernel's verifier
 * refuses; then configure the loaded object (perimd's identity, guard
 * rails, which hooks are on).
 */
#ifndef PERIMD_TRACING_LOAD_H
#define PERIMD_TRACING_LOAD_H

#include "perim_events.h"
#include "tracing/hooks.h"

struct perim_trace;

/*
 * btf_path: custom BTF for CO-RE, NULL = the kernel's own. ring_bytes: both
 * rings' size, 0 = the defaults. Fills hooks (the plan) and rejects (the
 * programs left out). 0 and *skel, or -errno, logged.
 */
int perim_tracing_load(const char *btf_path, unsigned ring_bytes, struct perim_hook_state hooks[PERIM_HOOK_MAX],
		       struct perim_rejects *rejects, struct perim_trace **skel);

/* guard_rules: the guard rail file, NULL = none. 0 or -errno, logged. */
int perim_tracing_configure(struct perim_trace *skel, const struct perim_hook_state hooks[PERIM_HOOK_MAX],
			    const char *guard_rules, const char *pin_root);

#endif /* PERIMD_TRACING_LOAD_H */
