// SPDX-License-Identifier: GPL-2.0
/* Guard rails and write prefixes into the tracer maps (guard_setup.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/libbpf.h>

#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "log.h"
#include "tracing/guard_objects.h"
#include "tracing/guard_rules.h"
#include "tracing/guard_setup.h"
#include "tracing/hooks.h"

/* Written to when nothing else is configured: sensitive places to write to. */
static const char *const default_write_prefixes[] = {
	"/etc/", "/boot/", "/root/.ssh/", "/usr/bin/", "/usr/sbin/", "/usr/lib/",
	"/bin/", "/sbin/", "/lib/", "/var/spool/cron/",
};

static int add_write_prefix(struct perim_trace *skel, const char *prefix)
{
	struct perim_prefix_key key = {};
	size_t len = strlen(prefix);
	uint8_t one = 1;

	if (len == 0 || len > PERIM_PREFIX_MAX || prefix[0] != '/') {
		pr_warn("tracers: write prefix \"%s\" is wrong: an absolute path of at most %d bytes\n",
			prefix, PERIM_PREFIX_MAX);
		return -EINVAL;
	}
	key.prefixlen = len * 8;
	memcpy(key.path, prefix, len);
	if (bpf_map__update_elem(skel->maps.perim_write_prefixes, &key, sizeof(key), &one, sizeof(one), 0)) {
		pr_warn("tracers: adding write prefix %s: %s\n", prefix, strerror(errno));
		return -errno;
	}
	return 0;
}

static const char *const guard_op_names[PERIM_GUARD_OP_MAX] = {
	[PERIM_GUARD_OPEN] = "open", [PERIM_GUARD_EXEC] = "exec", [PERIM_GUARD_BPF] = "bpf",
};

static const int guard_op_hooks[PERIM_GUARD_OP_MAX] = {
	[PERIM_GUARD_OPEN] = PERIM_HOOK_LSM_FILE_OPEN, [PERIM_GUARD_EXEC] = PERIM_HOOK_LSM_BPRM,
	[PERIM_GUARD_BPF] = PERIM_HOOK_LSM_BPF,
};

/*
 * A rule's file or directory, by inode, in the kernel's dev_t encoding: what
 * open and exec guard, and for bpf the directory no other process may pin
 * into or unlink or rename pins from.
 */
static int add_guard_inode(struct perim_trace *skel, const struct perim_guard_rule *r,
			   const struct perim_guard_verdict *v)
{
	struct perim_guard_ino_key key = { .op = r->op };
	struct stat st;

	if (stat(r->prefix, &st)) {
		pr_warn("tracers: guard rule %s %s (line %d) not applied: %s\n",
			guard_op_names[r->op], r->prefix, r->line, strerror(errno));
		return 0;
	}
	key.ino = st.st_ino;
	key.dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	if (bpf_map__update_elem(skel->maps.perim_guard_inodes, &key, sizeof(key), v, sizeof(*v), 0)) {
		pr_warn("tracers: guard rule %s (line %d): %s\n", r->prefix, r->line, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Is dir (a rule's PATH, with or without a trailing '/') pin_root or above it? */
static bool covers(const char *dir, const char *pin_root)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 1)
		return true;                /* "/" */
	return !strncmp(dir, pin_root, len) && (pin_root[len] == '\0' || pin_root[len] == '/');
}

/*
 * The first bpf rule over perimd's pin root guards its maps and programs by
 * id: every one perimd holds now, and those it makes or adopts later
 * (pinned_map.c).
 */
static int guard_own_objects(struct perim_trace *skel, const struct perim_guard_config *c, const char *pin_root)
{
	for (int i = 0; pin_root && i < c->n_rules; i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		struct perim_guard_verdict v = { .rule = i, .mode = r->mode };

		if (r->op != PERIM_GUARD_BPF || !covers(r->prefix, pin_root))
			continue;
		perim_guard_objects_start(bpf_map__fd(skel->maps.perim_guard_objs), &v);
		return perim_guard_objects_sync();
	}
	return 0;
}

/* One line naming every rule whose LSM hook cannot run here, and why. */
static void warn_unenforced(const struct perim_hook_state *hooks, const struct perim_guard_config *c)
{
	char rules[1024] = "", why[PERIM_HOOK_TEXT + 32] = "";
	size_t used = 0;

	for (int i = 0; i < c->n_rules && used < sizeof(rules); i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		const struct perim_hook_state *h = &hooks[guard_op_hooks[r->op]];

		if (h->flavour >= 0)
			continue;
		used += snprintf(rules + used, sizeof(rules) - used, "%s%s %s (line %d)", used ? ", " : "",
				 guard_op_names[r->op], r->prefix, r->line);
		if (!why[0])
			snprintf(why, sizeof(why), "hook %s: %s", h->name, h->reason[0] ? h->reason : "unavailable");
	}
	if (rules[0])
		pr_warn("tracers: guard rules NOT enforced: %s: %s\n", rules, why);
}

/* The guard rail file (guard_rules.h) into the maps; write prefixes into the write filter. */
static int load_guard_rules(struct perim_trace *skel, const struct perim_hook_state *hooks, const char *path, const char *pin_root)
{
	struct perim_guard_config *c = calloc(1, sizeof(*c));
	char why[512];
	uint32_t mask = 0;
	int err;

	if (!c)
		return -ENOMEM;
	err = perim_guard_rules_parse(path, c, why, sizeof(why));
	if (err)
		pr_warn("tracers: guard rules: %s\n", why);
	for (int i = 0; !err && i < c->n_write; i++)
		err = add_write_prefix(skel, c->write_prefixes[i]);
	for (int i = 0; !err && i < c->n_rules; i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		struct perim_guard_verdict v = { .rule = i, .mode = r->mode };

		err = add_guard_inode(skel, r, &v);
		mask |= 1u << r->op;
	}
	if (!err)
		err = guard_own_objects(skel, c, pin_root);
	if (!err) {
		warn_unenforced(hooks, c);
		skel->bss->guard_op_mask = mask;
	}
	free(c);
	return err;
}

int perim_guard_setup(struct perim_trace *skel, const struct perim_hook_state *hooks,
		      const char *guard_rules, const char *pin_root)
{
	int err;

	for (size_t i = 0; i < sizeof(default_write_prefixes) / sizeof(default_write_prefixes[0]); i++) {
		err = add_write_prefix(skel, default_write_prefixes[i]);
		if (err)
			return err;
	}
	return guard_rules ? load_guard_rules(skel, hooks, guard_rules, pin_root) : 0;
}
