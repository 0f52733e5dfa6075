// SPDX-License-Identifier: GPL-2.0
/*
 * show [DEV] | apply [--check] FILE | diff FILE: the whole configuration of
 * the interfaces a file names, as one change. perimctl reads FILE and sends
 * its content as "--text TEXT"; perimd parses every line of it with
 * perim_cmd_parse, so a ruleset line is exactly a state file line.
 */
#include <stdio.h>
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

static const struct {
	const char *object;
	enum perim_cmd_kind kind;
	const char *help;
} ruleset_objects[] = {
	{ "show", PERIM_CMD_SHOW, help_show },
	{ "apply", PERIM_CMD_APPLY, help_apply },
	{ "diff", PERIM_CMD_DIFF, help_apply },
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
	       kind == PERIM_CMD_DENY_ADD || kind == PERIM_CMD_SHAPE_SET;
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

/* apply [--check] FILE [--text TEXT], diff FILE [--text TEXT] */
static int parse_file_command(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--check") && cmd->kind == PERIM_CMD_APPLY && !cmd->check) {
			cmd->check = true;
		} else if (!strcmp(w, "--text") && !cmd->text) {
			if (i + 1 >= argc)
				return bad(err, errlen, w, "missing TEXT after it");
			cmd->text = argv[++i];
		} else if (w[0] == '-' && w[1]) {
			return bad(err, errlen, w, cmd->kind == PERIM_CMD_APPLY ? "unknown or repeated option; "
				   "expected --check" : "unknown option");
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
	return 0;
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
		if (cmd->kind == PERIM_CMD_SHOW)
			return parse_show(argc, argv, cmd, err, errlen);
		return parse_file_command(argc, argv, cmd, err, errlen);
	}
	return bad(err, errlen, argv[0], "unknown object; try \"perimctl help\"");
}
