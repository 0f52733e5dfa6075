// SPDX-License-Identifier: GPL-2.0
/*
 * The read-only commands: stats, top, status, events. None changes the
 * daemon, so none has a state-file line.
 */
#include <ctype.h>
#include <string.h>

#include "core.h"

static int parse_stats(struct parse_ctx *ctx)
{
	struct perim_cmd *cmd = ctx->cmd;
	const char *tok;
	int err;

	cmd->kind = PERIM_CMD_STATS;
	while ((tok = take_arg(ctx))) {
		if (!strcmp(tok, "--watch") || !strcmp(tok, "-w")) {
			if (cmd->watch)
				return invarg(ctx, tok, "given twice");
			cmd->watch = true;
		} else if (looks_like_option(tok)) {
			return invarg(ctx, tok, "unknown option; expected --watch");
		} else if (cmd->dev[0]) {
			return invarg(ctx, tok, "unexpected argument");
		} else if ((err = parse_dev(ctx, tok, cmd->dev))) {
			return err;
		}
	}
	return 0;
}

static int parse_top(struct parse_ctx *ctx)
{
	struct perim_cmd *cmd = ctx->cmd;
	bool once = false;
	const char *tok;
	int err;

	cmd->kind = PERIM_CMD_TOP;
	while ((tok = take_arg(ctx))) {
		if (!strcmp(tok, "--once")) {
			if (once)
				return invarg(ctx, tok, "given twice");
			once = true;
		} else if (looks_like_option(tok)) {
			return invarg(ctx, tok, "unknown option; expected --once");
		} else if (cmd->dev[0]) {
			return invarg(ctx, tok, "unexpected argument");
		} else if ((err = parse_dev(ctx, tok, cmd->dev))) {
			return err;
		}
	}
	cmd->watch = !once;
	return 0;
}

static int parse_status(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_STATUS;
	return no_more_args(ctx);
}

/* T,...: comma-separated names of [a-z0-9_-], none empty. */
static int parse_event_types(struct parse_ctx *ctx, const char *tok)
{
	bool item_empty = true;

	if (strlen(tok) >= sizeof(ctx->cmd->types))
		return invarg(ctx, tok, "type list is too long");
	for (const char *c = tok; ; c++) {
		if (*c == ',' || !*c) {
			if (item_empty)
				return invarg(ctx, tok, "empty event type");
			if (!*c)
				break;
			item_empty = true;
		} else if (islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' || *c == '-') {
			item_empty = false;
		} else {
			return invarg(ctx, tok, "event types are names separated by ','");
		}
	}
	strcpy(ctx->cmd->types, tok);
	return 0;
}

static int parse_events(struct parse_ctx *ctx)
{
	struct perim_cmd *cmd = ctx->cmd;
	const char *tok, *val;
	int err;

	cmd->kind = PERIM_CMD_EVENTS;
	while ((tok = take_arg(ctx))) {
		if (!strcmp(tok, "--follow") || !strcmp(tok, "-f")) {
			if (cmd->follow)
				return invarg(ctx, tok, "given twice");
			cmd->follow = true;
		} else if (!strcmp(tok, "--type")) {
			if (cmd->types[0])
				return invarg(ctx, tok, "given twice");
			if ((err = next_arg(ctx, tok, "T,...", &val)) || (err = parse_event_types(ctx, val)))
				return err;
		} else {
			return invarg(ctx, tok, "unknown option; expected --follow or --type");
		}
	}
	return 0;
}

static const char help_stats[] =
"Usage: perimctl stats [DEV] [--watch|-w]\n"
"Per interface: received, passed and dropped packets with their rates per second,\n"
"drops by reason, and per rule: matched, passed, dropped, would-drop and rates.\n"
"  --watch, -w    redraw every second until interrupted (one block per second\n"
"                 when the output is not a terminal)\n";

static const char help_top[] =
"Usage: perimctl top [DEV] [--once]\n"
"The sources perim dropped most over the last 10 s, from drop events the\n"
"datapath samples (at most 1000 per second per CPU, bounded in the kernel;\n"
"each sample carries how many drops it stands for): per source an estimate\n"
"of its dropped packets per second, its share of the interface's drops, the\n"
"reason and rule of its latest sample. Redraws every second until interrupted.\n"
"  --once         print one table and exit\n";

static const char help_status[] =
"Usage: perimctl status\n"
"The daemon's pid and version, the BTF it uses, the attached interfaces (mode,\n"
"dispatcher, program chain) and every hook with how it attached or why not.\n";

static const char help_events[] =
"Usage: perimctl events [--follow|-f] [--type T,...]\n"
"Prints the events perimd's tracers recorded, one per line.\n"
"  --follow, -f   keep printing new events until interrupted\n"
"  --type T,...   only these event types\n";

const struct cmd_object cmd_object_stats = { "stats", parse_stats, help_stats };
const struct cmd_object cmd_object_top = { "top", parse_top, help_top };
const struct cmd_object cmd_object_status = { "status", parse_status, help_status };
const struct cmd_object cmd_object_events = { "events", parse_events, help_events };
