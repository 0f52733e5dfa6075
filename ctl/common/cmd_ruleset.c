// SPDX-License-Identifier: GPL-2.0
/*
 * show [DEV] | apply [--check] FILE | diff FILE: the whole configuration of
 * the interfaces a file names, as one change. perimctl reads FILE and sends
 * its content as "--text TEXT"; perimd parses every line of it with
 * perim_cmd_parse, so a ruleset line is exactly a state file line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_ruleset.h"

static const char help_show[] =
"Usage: perimctl show [DEV]\n"
"Prints the live configuration (attach, limit set, allow add, deny add,\n"
"shape set lines) of every interface, or of DEV, in the state file's line\n"
"format: \"perimctl show > f; perimctl apply f\" changes nothing.\n";

static const char help_apply[] =
"Usage: perimctl apply [--check] FILE\n"
"       perimctl diff FILE\n"
"Replaces the whole configuration of every interface FILE names (limits in\n"
"both directions, allow/deny prefixes, shapers) with FILE's, in one step:\n"
"the datapath switches from the old rules to the new ones so that no packet\n"
"is judged by a mix of both, or nothing changes. Interfaces FILE does not\n"
"name are untouched; each must already be attached. FILE holds the lines\n"
"\"perimctl show\" prints; '#' starts a comment, blank lines are allowed, ids\n"
"are optional (a rule whose selector equals a live rule's keeps that rule's\n"
"id and counters; other rules get ids not in use before). A bad line is\n"
"exit 2 naming FILE:LINE and the bad token, and nothing changes.\n"
"  --check   validate only, change nothing (same verdict as apply)\n"
"  diff      print what apply would change (-j: the list)\n";

static const char help_confirm[] =
"Usage: perimctl COMMAND ... --confirm SECONDS\n"
"       perimctl confirm\n"
"       perimctl rollback\n"
"A changing command (apply, limit set|del, allow|deny add|del, shape set|del)\n"
"given --confirm SECONDS (1-86400) is applied, then rolled back to the exact\n"
"previous configuration by perimd itself unless \"perimctl confirm\" comes\n"
"within SECONDS; \"perimctl rollback\" rolls back at once. The pending\n"
"rollback is in the state file (the previous configuration and the deadline,\n"
"wall-clock): a perimd restarted during the window still rolls back when it\n"
"ends. \"perimctl status\" shows it. While one is pending, any other change\n"
"is refused (exit 1).\n";

static const struct {
	const char *object;
	enum perim_cmd_kind kind;
	const char *help;
} ruleset_objects[] = {
	{ "show", PERIM_CMD_SHOW, help_show },
	{ "apply", PERIM_CMD_APPLY, help_apply },
	{ "diff", PERIM_CMD_DIFF, help_apply },
	{ "confirm", PERIM_CMD_CONFIRM, help_confirm },
	{ "rollback", PERIM_CMD_ROLLBACK, help_confirm },
	{ "rollback-at", PERIM_CMD_ROLLBACK_AT, help_confirm },
	{ "rollback-to", PERIM_CMD_NONE, help_confirm },
};

#define N_OBJECTS (sizeof(ruleset_objects) / sizeof(ruleset_objects[0]))

static int bad(char *err, size_t errlen, const char *token, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, why);
	return PERIM_EXIT_BADINPUT;
}

bool perim_cmd_ruleset_object(const char *object)
{
	for (size_t i = 0; i < N_OBJECTS; i++)
		if (!strcmp(ruleset_objects[i].object, object))
			return true;
	return false;
}

const char *perim_cmd_ruleset_help(const char *object)
{
	for (size_t i = 0; i < N_OBJECTS; i++)
		if (!strcmp(ruleset_objects[i].object, object))
			return ruleset_objects[i].help;
	return NULL;
}

bool perim_cmd_ruleset_line_kind(enum perim_cmd_kind kind)
{
	return kind == PERIM_CMD_ATTACH || kind == PERIM_CMD_LIMIT_SET || kind == PERIM_CMD_ALLOW_ADD ||
	       kind == PERIM_CMD_DENY_ADD || kind == PERIM_CMD_SHAPE_SET || kind == PERIM_CMD_PROTECT_ADD;
}

static bool is_help_word(const char *w)
{
	return !strcmp(w, "help") || !strcmp(w, "-h") || !strcmp(w, "--help");
}

static int parse_show(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	if (argc > 2)
		return bad(err, errlen, argv[2], "unexpected argument");
	if (argc == 2) {
		if (!argv[1][0] || strlen(argv[1]) >= sizeof(cmd->dev) || strpbrk(argv[1], "/: \t\n"))
			return bad(err, errlen, argv[1], "not an interface name");
		strcpy(cmd->dev, argv[1]);
	}
	return 0;
}

/* Whole decimal digits, no sign, no leading zero; 0 or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!s[0] || s[0] < '1' || s[0] > '9' || strlen(s) > 19)
		return -1;
	*v = strtoull(s, &end, 10);
	return *end || *v > max ? -1 : 0;
}

#define CONFIRM_MAX_S 86400

static int parse_confirm_seconds(const char *tok, struct perim_cmd *cmd, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(tok, CONFIRM_MAX_S, &v))
		return bad(err, errlen, tok, "--confirm takes whole SECONDS, 1 to 86400");
	cmd->confirm_s = v;
	return 0;
}

int perim_cmd_take_confirm(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	if (argc < 3 || strcmp(argv[argc - 2], "--confirm"))
		return argc;
	return parse_confirm_seconds(argv[argc - 1], cmd, err, errlen) ? -1 : argc - 2;
}

int perim_cmd_confirm_check(const struct perim_cmd *cmd, char *err, size_t errlen)
{
	switch (cmd->kind) {
	case PERIM_CMD_LIMIT_SET: case PERIM_CMD_LIMIT_DEL:
	case PERIM_CMD_ALLOW_ADD: case PERIM_CMD_ALLOW_DEL:
	case PERIM_CMD_DENY_ADD: case PERIM_CMD_DENY_DEL:
	case PERIM_CMD_SHAPE_SET: case PERIM_CMD_SHAPE_DEL:
	case PERIM_CMD_PROTECT_ADD: case PERIM_CMD_PROTECT_DEL:
		return 0;
	case PERIM_CMD_APPLY:
		if (!cmd->check)
			return 0;
		break;
	default:
		break;
	}
	if (!cmd->confirm_s)
		return 0;
	return bad(err, errlen, "--confirm", "only a change of limits, prefixes, shapers or an apply can be "
		   "confirmed (attach and detach cannot be rolled back)");
}

/* apply [--check] FILE [--text TEXT], diff FILE [--text TEXT] */
static int parse_file_command(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--check") && cmd->kind == PERIM_CMD_APPLY && !cmd->check) {
			cmd->check = true;
		} else if (!strcmp(w, "--confirm") && cmd->kind == PERIM_CMD_APPLY && !cmd->confirm_s) {
			if (i + 1 >= argc)
				return bad(err, errlen, w, "missing SECONDS after it");
			if (parse_confirm_seconds(argv[++i], cmd, err, errlen))
				return PERIM_EXIT_BADINPUT;
		} else if (!strcmp(w, "--text") && !cmd->text) {
			if (i + 1 >= argc)
				return bad(err, errlen, w, "missing TEXT after it");
			cmd->text = argv[++i];
		} else if (w[0] == '-' && w[1]) {
			return bad(err, errlen, w, cmd->kind == PERIM_CMD_APPLY ? "unknown or repeated option; "
				   "expected --check or --confirm SECONDS" : "unknown option");
		} else if (!cmd->file[0]) {
			if (!w[0] || strlen(w) >= sizeof(cmd->file))
				return bad(err, errlen, w, "FILE is empty or too long");
			strcpy(cmd->file, w);
		} else {
			return bad(err, errlen, w, "unexpected argument");
		}
	}
	if (!cmd->file[0])
		return bad(err, errlen, argv[0], "missing FILE after it");
	return perim_cmd_confirm_check(cmd, err, errlen);
}

/* state file: rollback-at UNIX_MS */
static int parse_rollback_at(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	if (argc != 2)
		return bad(err, errlen, argv[0], "takes one UNIX_MS");
	if (parse_u64(argv[1], UINT64_MAX / 2, &cmd->rollback_at_ms))
		return bad(err, errlen, argv[1], "not a time in milliseconds since 1970");
	return 0;
}

/* state file: rollback-to LINE: a ruleset line of the configuration a rollback restores */
static int parse_rollback_to(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	int ret;

	if (argc < 2)
		return bad(err, errlen, argv[0], "missing the command after it");
	ret = perim_cmd_parse(argc - 1, argv + 1, cmd, err, errlen);
	if (ret)
		return ret;
	if (!perim_cmd_ruleset_line_kind(cmd->kind) || cmd->confirm_s)
		return bad(err, errlen, argv[1], "not a configuration line");
	cmd->rollback_line = true;
	return 0;
}

static int no_arguments(int argc, char **argv, char *err, size_t errlen)
{
	return argc > 1 ? bad(err, errlen, argv[1], "unexpected argument") : 0;
}

int perim_cmd_ruleset_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_OBJECTS; i++) {
		if (strcmp(ruleset_objects[i].object, argv[0]))
			continue;
		if (argc == 2 && is_help_word(argv[1])) {
			cmd->kind = PERIM_CMD_HELP;
			cmd->help = ruleset_objects[i].help;
			return 0;
		}
		cmd->kind = ruleset_objects[i].kind;
		switch (cmd->kind) {
		case PERIM_CMD_SHOW:
			return parse_show(argc, argv, cmd, err, errlen);
		case PERIM_CMD_CONFIRM:
		case PERIM_CMD_ROLLBACK:
			return no_arguments(argc, argv, err, errlen);
		case PERIM_CMD_ROLLBACK_AT:
			return parse_rollback_at(argc, argv, cmd, err, errlen);
		case PERIM_CMD_NONE:
			return parse_rollback_to(argc, argv, cmd, err, errlen);
		default:
			return parse_file_command(argc, argv, cmd, err, errlen);
		}
	}
	return bad(err, errlen, argv[0], "unknown object; try \"perimctl help\"");
}
