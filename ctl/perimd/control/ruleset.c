// SPDX-License-Identifier: GPL-2.0
/*
 * show, apply, diff. apply parses every line of the file before anything
 * happens, builds the new model (the named interfaces' limits, prefixes and
 * shapers replaced whole), and commits it with the one commit every change
 * uses (persist, then the maps in one generation switch, then shapers, one
 * undo): all of it or nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "control/commands.h"
#include "control/ruleset.h"
#include "daemon.h"
#include "datapath/egress.h"
#include "json_add.h"
#include "model/diff.h"
#include "model/rules.h"
#include "model/shapes.h"
#include "model/selector_index.h"
#include "model/syncookies.h"
#include "procs/cgroup_path.h"
#include "state/state_format.h"
#include "syn/apply.h"

#define LINE_MAX_BYTES 4096
#define LINE_MAX_WORDS 64

/*
 * What a line adds, without the rest of its parsed command: a command is
 * 1 KiB, a file may hold 16,383 lines, and every apply would fault that in.
 */
struct ruleset_line {
	unsigned lineno;
	enum perim_cmd_kind kind;
	int slot;
	union {
		struct perim_limit_spec limit;
		struct perim_prefix prefix;
		struct perim_protect_spec protect;
		struct perim_shape_spec shape;
		struct perim_syn_spec syn;
	};
};

struct ruleset {
	const char *file;
	struct ruleset_line *lines;
	size_t n;
	bool named[PERIM_MAX_IFACES];
};

/* "FILE:LINE: <why>", the why being a parser's or model's one-line message. */
static int at_line(const struct ruleset *rs, unsigned lineno, char *err, size_t errlen, const char *why)
{
	char copy[512];

	snprintf(copy, sizeof(copy), "%s", why);
	snprintf(err, errlen, "%s:%u: %s", rs->file, lineno, copy);
	return PERIM_EXIT_BADINPUT;
}

/* Words of one line, '#' to the end of it dropped. Returns the count, -1 if too many. */
static int split_words(char *line, char **words)
{
	char *save = NULL, *w;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	for (w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (n == LINE_MAX_WORDS)
			return -1;
		words[n++] = w;
	}
	return n;
}

static void line_keep(struct ruleset_line *l, unsigned lineno, int slot, const struct perim_cmd *cmd)
{
	l->lineno = lineno;
	l->kind = cmd->kind;
	l->slot = slot;
	switch (cmd->kind) {
	case PERIM_CMD_LIMIT_SET:   l->limit = cmd->limit; break;
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_DENY_ADD:    l->prefix = cmd->prefix; break;
	case PERIM_CMD_PROTECT_ADD: l->protect = cmd->protect; break;
	case PERIM_CMD_SHAPE_SET:   l->shape = cmd->shape; break;
	case PERIM_CMD_SYN_SET:     l->syn = cmd->syn; break;
	default:                    break;
	}
}

/* One line into the next free entry of rs->lines (parse_text sized it); kept unless blank. */
static int parse_line(struct ruleset *rs, const struct perim_model *m, unsigned lineno, char *line,
		      char *err, size_t errlen)
{
	char *words[LINE_MAX_WORDS], why[512];
	struct perim_cmd parsed, *cmd = &parsed;
	int n = split_words(line, words), slot;

	if (n < 0)
		return at_line(rs, lineno, err, errlen, "Error: the line has too many words");
	if (n == 0)
		return 0;
	if (perim_cmd_parse(n, words, cmd, why, sizeof(why)))
		return at_line(rs, lineno, err, errlen, why);
	if (!perim_cmd_ruleset_line_kind(cmd->kind)) {
		snprintf(why, sizeof(why), "Error: argument \"%s\" is wrong: a ruleset holds attach, limit set, "
			 "allow add, deny add, shape set and protect add lines", words[0]);
		return at_line(rs, lineno, err, errlen, why);
	}
	slot = perim_model_iface_find(m, cmd->dev);
	if (slot < 0) {
		snprintf(why, sizeof(why), "Error: argument \"%.*s\" is wrong: perim is not attached to this "
			 "interface; attach it first", (int)sizeof(cmd->dev), cmd->dev);
		return at_line(rs, lineno, err, errlen, why);
	}
	rs->named[slot] = true;
	line_keep(&rs->lines[rs->n++], lineno, slot, cmd);
	return 0;
}

/* Every line parsed and its interface known, or the first bad line. */
static int parse_text(struct ruleset *rs, const struct perim_model *m, const char *text,
		      char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES + 1];
	unsigned lineno = 0;
	size_t lines = 1;
	int ret;

	/* One entry per line at most, allocated once: a command is large, growing by copies is not cheap. */
	for (const char *p = strchr(text, '\n'); p; p = strchr(p + 1, '\n'))
		lines++;
	rs->lines = malloc(lines * sizeof(*rs->lines));
	if (!rs->lines) {
		snprintf(err, errlen, "out of memory reading %s", rs->file);
		return PERIM_EXIT_FAIL;
	}
	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len > LINE_MAX_BYTES)
			return at_line(rs, lineno, err, errlen, "Error: the line is too long");
		memcpy(line, p, len);
		line[len] = '\0';
		ret = parse_line(rs, m, lineno, line, err, errlen);
		if (ret)
			return ret;
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

/* The named interfaces keep their slot and mode, and nothing else. */
static void clear_named(struct perim_model *m, const bool *named)
{
	unsigned kept = 0;

	for (uint32_t id = 1; id < m->rules_end; id++)
		if (m->rules[id].used && named[m->rules[id].iface])
			m->rules[id].used = false;
	for (unsigned i = 0; i < m->n_acl; i++)
		if (!named[m->acl[i].iface])
			m->acl[kept++] = m->acl[i];
	m->n_acl = kept;
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!named[s])
			continue;
		m->shapes[s].used = false;
		perim_model_protect_clear(m, s);
		memset(&m->syn[s], 0, sizeof(m->syn[s]));
	}
}

static bool id_used(const struct perim_model *m, uint32_t id)
{
	return id < m->rules_end && m->rules[id].used;
}

/*
 * A rule the live model does not have gets an id neither model uses: an id
 * the old rules still hold until the switch would make an old entry name a
 * new rule while both are in the maps.
 */
static uint32_t fresh_id(const struct perim_model *old, const struct perim_model *next, uint32_t *cursor)
{
	for (; *cursor < PERIM_MAX_RULES; (*cursor)++)
		if (!id_used(old, *cursor) && !id_used(next, *cursor))
			return (*cursor)++;
	return 0;
}

struct build {
	struct perimd *d;
	struct perim_model *next;
	struct perim_selector_index live;   /* the live rules of the named interfaces */
	struct perim_selector_index added;  /* the file's rules so far */
	uint32_t cursor;
	bool shaped[PERIM_MAX_IFACES];
	bool check;                /* resolve cgroups only; attach no egress program */
};

static int add_limit(struct build *b, int slot, const struct perim_limit_spec *given, char *why, size_t len)
{
	struct perim_limit_spec spec = *given;
	uint32_t id;
	int ret;

	if (spec.egress && spec.cgroup[0] && b->check)
		ret = perimd_cgroup_resolve(spec.cgroup, spec.cgroup, &spec.cgroup_id, why, len);
	else
		ret = spec.egress ? perimd_egress_limit_prepare(b->d, slot, &spec, why, len) : 0;
	if (ret)
		return ret;
	if (perim_selector_index_find(&b->added, slot, &spec)) {
		snprintf(why, len, "Error: argument \"limit\" is wrong: a rule above on %s has the same selector",
			 b->next->ifaces[slot].dev);
		return PERIM_EXIT_BADINPUT;
	}
	spec.id = perim_selector_index_find(&b->live, slot, &spec);
	if (!spec.id)
		spec.id = fresh_id(b->d->model, b->next, &b->cursor);
	if (!spec.id) {
		snprintf(why, len, "Error: argument \"limit\" is wrong: all rule slots are in use");
		return PERIM_EXIT_BADINPUT;
	}
	ret = perim_model_limit_add(b->next, slot, &spec, &id, why, len);
	return ret ?: perim_selector_index_add(&b->added, slot, &spec, id);
}

static int add_line(struct build *b, const struct ruleset_line *l, char *why, size_t len)
{
	int slot = l->slot;
	const char *dev = b->next->ifaces[slot].dev;

	switch (l->kind) {
	case PERIM_CMD_ATTACH:
		return 0;
	case PERIM_CMD_LIMIT_SET:
		return add_limit(b, slot, &l->limit, why, len);
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_DENY_ADD:
		return perim_model_acl_add(b->next, slot, l->kind == PERIM_CMD_ALLOW_ADD ? PERIM_ACL_ALLOW
					   : PERIM_ACL_DENY, &l->prefix, why, len);
	case PERIM_CMD_PROTECT_ADD:
		return perim_model_protect_add(b->next, slot, &l->protect, why, len);
	case PERIM_CMD_SHAPE_SET:
		if (b->shaped[slot]) {
			snprintf(why, len, "Error: argument \"shape\" is wrong: %s already has a shaper above", dev);
			return PERIM_EXIT_BADINPUT;
		}
		b->shaped[slot] = true;
		perim_model_shape_set(b->next, slot, &l->shape);
		return 0;
	case PERIM_CMD_SYN_SET:
		/* As syncookie set: refused (exit 1, naming why) where this kernel cannot enforce it. */
		return perimd_syn_enforceable(b->d, slot, dev, why, len) ?:
		       perim_model_syn_set(b->next, slot, dev, &l->syn, why, len);
	default:
		return PERIM_EXIT_BADINPUT;
	}
}

/* The live model with the named interfaces' configuration replaced by the file's. */
static int build_model(struct perimd *d, const struct ruleset *rs, bool check, struct perim_model **out,
		       char *err, size_t errlen)
{
	struct build b = { .d = d, .cursor = 1, .check = check };
	static const bool none[PERIM_MAX_IFACES];
	char why[512];
	int ret = 0;

	b.next = perim_model_dup(d->model);
	/* live: the rules the file's may keep the ids of; added: the file's, empty so far. */
	if (!b.next || perim_selector_index_build(&b.live, d->model, 0, rs->named) ||
	    perim_selector_index_build(&b.added, b.next, rs->n, none)) {
		perim_model_free(b.next);
		perim_selector_index_free(&b.live);
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	clear_named(b.next, rs->named);
	for (size_t i = 0; i < rs->n && !ret; i++) {
		ret = add_line(&b, &rs->lines[i], why, sizeof(why));
		if (ret) {
			perim_model_free(b.next);
			perim_selector_index_free(&b.live);
			perim_selector_index_free(&b.added);
			if (ret == PERIM_EXIT_BADINPUT)
				return at_line(rs, rs->lines[i].lineno, err, errlen, why);
			snprintf(err, errlen, "%s:%u: %s", rs->file, rs->lines[i].lineno, why);
			return ret;
		}
	}
	perim_selector_index_free(&b.live);
	perim_selector_index_free(&b.added);
	*out = b.next;
	return 0;
}

/* ---- the reply ---- */

static void change_json(void *ctx, enum perim_diff_op op, const char *line)
{
	struct json_object *o = json_object_new_object();

	json_add_str(o, "op", perim_diff_op_name(op));
	json_add_str(o, "line", line);
	json_object_array_add(ctx, o);
}

/* {"file","interfaces":[...],"added","removed","replaced","changed","applied","changes":[...]}, "changes" unless counts_only */
static int diff_json(struct perimd *d, const struct ruleset *rs, const struct perim_model *next, bool counts_only,
		     struct json_object **result, char *err, size_t errlen)
{
	struct json_object *changes = counts_only ? NULL : json_object_new_array(), *ifaces = json_object_new_array();
	unsigned counts[PERIM_DIFF_OPS];

	if (perim_model_diff(d->model, next, rs->named, counts_only ? NULL : change_json, changes, counts)) {
		json_object_put(changes);
		json_object_put(ifaces);
		snprintf(err, errlen, "formatting the difference: a rule cannot be written as a line");
		return PERIM_EXIT_FAIL;
	}
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (rs->named[s])
			json_object_array_add(ifaces, json_object_new_string(next->ifaces[s].dev));
	*result = json_object_new_object();
	json_add_str(*result, "file", rs->file);
	json_object_object_add(*result, "interfaces", ifaces);
	for (int op = 0; op < PERIM_DIFF_OPS; op++)
		json_add_int(*result, perim_diff_op_name(op), counts[op]);
	json_add_bool(*result, "changed", counts[0] + counts[1] + counts[2] > 0);
	if (changes)
		json_object_object_add(*result, "changes", changes);
	return 0;
}

/* ---- the commands ---- */

static int do_show(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		   char *err, size_t errlen)
{
	int slot = -1, ret;
	size_t len = 0;
	char *body = NULL;

	if (cmd->dev[0] && (slot = perim_model_iface_find(d->model, cmd->dev)) < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: perim is not attached to this interface",
			 cmd->dev);
		return PERIM_EXIT_BADINPUT;
	}
	ret = perimd_state_render_show(d->model, slot, &body, &len);
	if (ret) {
		snprintf(err, errlen, "formatting the configuration: %s", strerror(-ret));
		return PERIM_EXIT_FAIL;
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "text", json_object_new_string_len(body, len));
	free(body);
	return 0;
}

static void egress_sync_named(struct perimd *d, const bool *named)
{
	for (int s = 0; s < PERIM_MAX_IFACES; s++)
		if (named[s])
			perimd_egress_sync(d, s);
}

static int apply_or_diff(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			 char *err, size_t errlen)
{
	bool only_look = cmd->kind == PERIM_CMD_DIFF || cmd->check;
	struct ruleset rs = { .file = cmd->file };
	struct perim_model *next = NULL;
	struct json_object *changed;
	int ret;

	if (!cmd->text) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: the file's content is missing (perimctl "
			 "sends it as --text)", cmd->file);
		return PERIM_EXIT_BADINPUT;
	}
	ret = parse_text(&rs, d->model, cmd->text, err, errlen);
	if (!ret)
		ret = build_model(d, &rs, only_look, &next, err, errlen);
	if (!ret)
		ret = diff_json(d, &rs, next, cmd->counts_only, result, err, errlen);
	if (ret || only_look || !json_object_object_get_ex(*result, "changed", &changed) ||
	    !json_object_get_boolean(changed)) {
		if (!only_look)
			egress_sync_named(d, rs.named);
		if (!ret)
			json_add_bool(*result, "applied", false);
		perim_model_free(next);
		free(rs.lines);
		return ret;
	}
	ret = perimd_commit(d, next, err, errlen);
	egress_sync_named(d, rs.named);
	if (ret) {
		json_object_put(*result);
		*result = NULL;
	} else {
		json_add_bool(*result, "applied", true);
	}
	free(rs.lines);
	return ret;
}

int perimd_ruleset_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen)
{
	if (cmd->kind == PERIM_CMD_SHOW)
		return do_show(d, cmd, result, err, errlen);
	return apply_or_diff(d, cmd, result, err, errlen);
}
