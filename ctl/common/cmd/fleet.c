// SPDX-License-Identifier: GPL-2.0
/*
 * "fleet ...": block decisions shared by every gateway of a fleet (perimd
 * --fleet), stored in a NATS JetStream key-value bucket. Same grammar rules
 * as cmd.c: exact keywords, each once, one wording for a bad argument.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core.h"

#define TTL_MAX_S (366ULL * 86400ULL)

const char perim_cmd_fleet_help[] =
"Usage: perimctl fleet block PREFIX [ttl DURATION] [reason TEXT]\n"
"       perimctl fleet unblock PREFIX\n"
"       perimctl fleet list [-j]\n"
"       perimctl fleet status [-j]\n"
"       perimctl fleet apply GROUP FILE [--check]\n"
"       perimctl fleet gateways GROUP [-j]   (also: fleet status --group GROUP)\n"
"Block decisions every gateway of the fleet enforces on all its perimeter NICs\n"
"(drop reason \"fleet-deny\"); perimd must run with --fleet. Local allow lists win.\n"
"  PREFIX        IPv4 or IPv6 prefix, host bits zero\n"
"  ttl DURATION  N{s|m|h|d}, at most 366d: the block lifts itself, judged by the\n"
"                decision's own creation time (default: until unblocked)\n"
"  reason TEXT   one word or a quoted phrase, at most 127 bytes\n"
"\"fleet list\" shows the decisions in force; \"fleet status\" the NATS connection,\n"
"the last decision revision applied, the group revision running here and any\n"
"refusal, and events published and dropped.\n"
"\"fleet apply\" checks FILE as \"perimctl apply --check\" does on this gateway (a bad\n"
"line: exit 2, nothing published), then publishes it (at most 960 KiB) to the\n"
"bucket perim-rulesets under GROUP; every gateway started with --fleet-group GROUP\n"
"applies it all-or-nothing. \"fleet gateways\" lists each gateway of GROUP with the\n"
"revision it runs and its refusal, if any.\n";

__attribute__((format(printf, 4, 5)))
static int fleet_invarg(char *err, size_t errlen, const char *token, const char *why, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, why);
	vsnprintf(reason, sizeof(reason), why, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, reason);
	return PERIM_EXIT_BADINPUT;
}

static int parse_ttl(const char *tok, uint32_t *ttl_s, char *err, size_t errlen)
{
	static const struct { char unit; uint64_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	uint64_t n = 0, mult = 1;
	const char *c = tok;

	for (; *c >= '0' && *c <= '9' && n <= TTL_MAX_S; c++)
		n = n * 10 + (*c - '0');
	if (c == tok)
		return fleet_invarg(err, errlen, tok, "ttl must be N{s|m|h|d}");
	if (*c) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *c; i++)
			;
		if (i == sizeof(units) / sizeof(units[0]) || c[1])
			return fleet_invarg(err, errlen, tok, "ttl must be N{s|m|h|d}");
		mult = units[i].mult;
	}
	if (!n)
		return fleet_invarg(err, errlen, tok, "ttl must be greater than 0");
	if (n > TTL_MAX_S || n * mult > TTL_MAX_S)
		return fleet_invarg(err, errlen, tok, "ttl is too long (at most 366d)");
	*ttl_s = n * mult;
	return 0;
}

static int parse_reason(const char *tok, char reason[PERIM_FLEET_REASON_MAX], char *err, size_t errlen)
{
	size_t len = strlen(tok);

	if (!len || len >= PERIM_FLEET_REASON_MAX)
		return fleet_invarg(err, errlen, tok, "reason must be 1..%d bytes", PERIM_FLEET_REASON_MAX - 1);
	for (const unsigned char *c = (const unsigned char *)tok; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return fleet_invarg(err, errlen, tok, "reason must not hold control characters");
	memcpy(reason, tok, len + 1);
	return 0;
}

static int parse_prefix_arg(char **argv, int argc, int i, struct perim_prefix *p, char *err, size_t errlen)
{
	if (i >= argc)
		return fleet_invarg(err, errlen, argv[i - 1], "missing PREFIX after it");
	if (perim_prefix_parse(argv[i], p))
		return fleet_invarg(err, errlen, argv[i], "not an IPv4 or IPv6 prefix with host bits zero");
	return 0;
}

static int parse_block(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	bool seen_ttl = false, seen_reason = false;
	int ret = parse_prefix_arg(argv, argc, 2, &cmd->prefix, err, errlen);

	if (ret)
		return ret;
	for (int i = 3; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool *seen = !strcmp(kw, "ttl") ? &seen_ttl : !strcmp(kw, "reason") ? &seen_reason : NULL;

		if (!seen)
			return fleet_invarg(err, errlen, kw, "unknown keyword; expected ttl or reason");
		if (*seen)
			return fleet_invarg(err, errlen, kw, "given twice");
		if (!val)
			return fleet_invarg(err, errlen, kw, "missing %s after it", seen == &seen_ttl ? "DURATION" : "TEXT");
		*seen = true;
		ret = seen == &seen_ttl ? parse_ttl(val, &cmd->fleet.ttl_s, err, errlen)
					: parse_reason(val, cmd->fleet.reason, err, errlen);
		if (ret)
			return ret;
	}
	cmd->kind = PERIM_CMD_FLEET_BLOCK;
	return 0;
}

static int parse_unblock(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	int ret = parse_prefix_arg(argv, argc, 2, &cmd->prefix, err, errlen);

	if (ret)
		return ret;
	if (argc > 3)
		return fleet_invarg(err, errlen, argv[3], "unexpected argument");
	cmd->kind = PERIM_CMD_FLEET_UNBLOCK;
	return 0;
}

/* list and status take only -j (also accepted before OBJECT, as everywhere). */
static int parse_show(int argc, char **argv, struct perim_cmd *cmd, enum perim_cmd_kind kind,
		      char *err, size_t errlen)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-j") && strcmp(argv[i], "--json"))
			return fleet_invarg(err, errlen, argv[i], "unexpected argument; expected -j");
		cmd->json_out = true;
	}
	cmd->kind = kind;
	return 0;
}

int perim_cmd_parse_fleet(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	const char *verb = argc > 1 ? argv[1] : "list";

	for (int i = 1; i < argc; i++) {
		if ((i == 1 && !strcmp(argv[i], "help")) || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cmd->kind = PERIM_CMD_HELP;
			cmd->help = perim_cmd_fleet_help;
			return 0;
		}
	}
	if (perim_cmd_fleet_group_verb(argc, argv))
		return perim_cmd_parse_fleet_group(argc, argv, cmd, err, errlen);
	if (!strcmp(verb, "block"))
		return parse_block(argc, argv, cmd, err, errlen);
	if (!strcmp(verb, "unblock"))
		return parse_unblock(argc, argv, cmd, err, errlen);
	if (!strcmp(verb, "list"))
		return parse_show(argc, argv, cmd, PERIM_CMD_FLEET_LIST, err, errlen);
	if (!strcmp(verb, "status"))
		return parse_show(argc, argv, cmd, PERIM_CMD_FLEET_STATUS, err, errlen);
	return fleet_invarg(err, errlen, verb, "unknown command; expected block, unblock, list, status, apply or gateways");
}

static int parse_fleet(struct parse_ctx *ctx)
{
	return perim_cmd_parse_fleet(ctx->argc, ctx->argv, ctx->cmd, ctx->err, ctx->errlen);
}

const struct cmd_object cmd_object_fleet = { "fleet", parse_fleet, perim_cmd_fleet_help };
