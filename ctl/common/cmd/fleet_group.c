// SPDX-License-Identifier: GPL-2.0
/*
 * "fleet apply GROUP FILE" and "fleet gateways GROUP": group rulesets. A
 * group ruleset is a "perimctl apply" file published for every gateway
 * started with --fleet-group GROUP; perimctl sends FILE's content as
 * "--text TEXT", like apply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int group_invarg(char *err, size_t errlen, const char *token, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, why);
	return PERIM_EXIT_BADINPUT;
}

/* A NATS key token, as --fleet-group takes it: [A-Za-z0-9_-], 1..63 bytes. */
static int take_group(const char *tok, struct perim_cmd *cmd, char *err, size_t errlen)
{
	size_t len = tok ? strlen(tok) : 0;

	if (!len || len >= sizeof(cmd->fleet.group) || strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
							"UVWXYZ0123456789_-") != len)
		return group_invarg(err, errlen, tok ? tok : "GROUP",
				    "GROUP must be 1-63 of A-Z a-z 0-9 _ - (as --fleet-group)");
	memcpy(cmd->fleet.group, tok, len + 1);
	return 0;
}

/* fleet apply GROUP FILE [--check] [--text TEXT], options anywhere after GROUP, each once. */
static int parse_apply(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	int ret = take_group(argc > 2 ? argv[2] : NULL, cmd, err, errlen);

	for (int i = 3; !ret && i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--check") && !cmd->check)
			cmd->check = true;
		else if (!strcmp(w, "--text") && !cmd->text && i + 1 < argc)
			cmd->text = argv[++i];
		else if (w[0] == '-' && w[1])
			ret = group_invarg(err, errlen, w, "unknown, repeated or incomplete option; expected --check");
		else if (cmd->file[0])
			ret = group_invarg(err, errlen, w, "unexpected argument");
		else if (strlen(w) >= sizeof(cmd->file))
			ret = group_invarg(err, errlen, w, "FILE is too long");
		else
			strcpy(cmd->file, w);
	}
	if (!ret && !cmd->file[0])
		ret = group_invarg(err, errlen, argv[2], "missing FILE after GROUP");
	cmd->kind = PERIM_CMD_FLEET_APPLY;
	return ret;
}

/* fleet gateways GROUP [-j], or fleet status --group GROUP [-j]. */
static int parse_gateways(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	bool status = !strcmp(argv[1], "status");
	int ret = 0;

	for (int i = 2; !ret && i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			cmd->json_out = true;
		else if (status && !strcmp(argv[i], "--group") && !cmd->fleet.group[0])
			ret = take_group(i + 1 < argc ? argv[++i] : NULL, cmd, err, errlen);
		else if (!status && !cmd->fleet.group[0])
			ret = take_group(argv[i], cmd, err, errlen);
		else
			ret = group_invarg(err, errlen, argv[i], "unexpected argument");
	}
	if (!ret && !cmd->fleet.group[0])
		ret = group_invarg(err, errlen, argv[1], "missing GROUP");
	cmd->kind = PERIM_CMD_FLEET_GATEWAYS;
	return ret;
}

bool perim_cmd_fleet_group_verb(int argc, char **argv)
{
	if (argc < 2)
		return false;
	if (!strcmp(argv[1], "apply") || !strcmp(argv[1], "gateways"))
		return true;
	for (int i = 2; !strcmp(argv[1], "status") && i < argc; i++)
		if (!strcmp(argv[i], "--group"))
			return true;
	return false;
}

int perim_cmd_parse_fleet_group(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	if (!strcmp(argv[1], "apply"))
		return parse_apply(argc, argv, cmd, err, errlen);
	return parse_gateways(argc, argv, cmd, err, errlen);
}
