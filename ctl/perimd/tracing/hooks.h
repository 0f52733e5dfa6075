/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hook planning: for every hook, probe the running kernel flavour by flavour
 * (kprobe, fentry, tp_btf, raw_tp, tracepoint, lsm), keep the first that can
 * work, turn autoload off for the rest, attach, and remember why not.
 */
#ifndef PERIM_HOOKS_H
#define PERIM_HOOKS_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "perim_events.h"

#define PERIM_HOOK_TEXT 512
#define PERIM_HOOK_MAX_LINKS 24

struct perim_hook_state {
	const char *name;
	const char *family;        /* of the flavour chosen (or the preferred one) */
	int flavour;               /* chosen flavour, -1 = none */
	bool attached;
	char how[PERIM_HOOK_TEXT];
	char reason[PERIM_HOOK_TEXT];
	struct bpf_link *links[PERIM_HOOK_MAX_LINKS];
	int n_links;
};

/* Programs the kernel's verifier refused: never planned again, their hook falls back. */
#define PERIM_REJECTS_MAX 8

struct perim_rejects {
	int n;
	struct {
		char prog[64];
		char why[192];
	} r[PERIM_REJECTS_MAX];
};

/* Before load: choose flavours, set autoload, skip rejected programs. Never fails for an optional hook. */
int perim_hooks_plan(struct bpf_object *obj, struct perim_hook_state hooks[PERIM_HOOK_MAX],
		     const struct perim_rejects *rejected);

/* After load: attach every planned program; a hook none of whose programs attach is reported. */
void perim_hooks_attach(struct bpf_object *obj, struct perim_hook_state hooks[PERIM_HOOK_MAX]);

/* One line per hook that is not attached, or attached without some of its programs. */
void perim_hooks_report(const struct perim_hook_state hooks[PERIM_HOOK_MAX]);

void perim_hooks_detach(struct perim_hook_state hooks[PERIM_HOOK_MAX]);

/* {"name","family","attached","how","reason"} */
struct json_object *perim_hook_json(const struct perim_hook_state *h);

#endif /* PERIM_HOOKS_H */
