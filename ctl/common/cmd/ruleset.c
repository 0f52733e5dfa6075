// SPDX-License-Identifier: GPL-2.0
/*
 * show, apply, diff: the whole configuration of the interfaces a file names,
 * as one change. perimctl reads FILE and sends its content as "--text TEXT";
 * perimd parses every line of it with perim_cmd_parse, so a ruleset line is
 * exactly a state file line. confirm, rollback and the "--confirm SECONDS"
 * any changing command may end with: confirm-or-roll-back.
 */
#include <string.h>

#include "core.h"

#define CONFIRM_MAX_S 86400

/* ---- --confirm SECONDS ---- */

static int parse_confirm_seconds(struct parse_ctx *ctx, const char *tok)
{
	uint64_t s;
	int err = parse_number(ctx, tok, "--confirm SECONDS", 1, CONFIRM_MAX_S, &s);

	ctx->cmd->confirm_s = s;
	return err;
}

int take_confirm(struct parse_ctx *ctx)
{
	if (ctx->argc < 3 || strcmp(ctx->argv[ctx->argc - 2], "--confirm"))
		return 0;
	ctx->argc -= 2;
	return parse_confirm_seconds(ctx, ctx->argv[ctx->argc + 1]);
}

bool perim_cmd_changes_config(const struct perim_cmd *cmd)
{
	switch (cmd->kind) {
	case PERIM_CMD_LIMIT_SET: case PERIM_CMD_LIMIT_DEL:
	case PERIM_CMD_ALLOW_ADD: case PERIM_CMD_ALLOW_DEL:
	case PERIM_CMD_DENY_ADD: case PERIM_CMD_DENY_DEL:
	case PERIM_CMD_SHAPE_SET: case PERIM_CMD_SHAPE_DEL:
	case PERIM_CMD_PROTECT_ADD: case PERIM_CMD_PROTECT_DEL:
	case PERIM_CMD_SYN_SET: case PERIM_CMD_SYN_DEL:
		return true;
	case PERIM_CMD_APPLY:
		return !cmd->check;
	default:
		return false;
	}
}

int confirm_allowed(struct parse_ctx *ctx)
{
	if (!ctx->cmd->confirm_s || perim_cmd_changes_config(ctx->cmd))
		return 0;
	return invarg(ctx, "--confirm", "only a change of limits, prefixes, shapers, protect entries, SYN protections or an apply "
		      "can be confirmed (attach and detach cannot be rolled back)");
}

bool perim_cmd_ruleset_line_kind(enum perim_cmd_kind kind)
{
	return kind == PERIM_CMD_ATTACH || kind == PERIM_CMD_LIMIT_SET || kind == PERIM_CMD_ALLOW_ADD ||
	       kind == PERIM_CMD_DENY_ADD || kind == PERIM_CMD_SHAPE_SET || kind == PERIM_CMD_PROTECT_ADD ||
	       kind == PERIM_CMD_SYN_SET;
}

/* ---- the objects ---- */

static int parse_show(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_SHOW;
	return take_optional_dev(ctx);
}

static int take_file(struct parse_ctx *ctx, const char *tok)
{
	if (ctx->cmd->file[0])
		return invarg(ctx, tok, "unexpected argument");
	if (!tok[0] || strlen(tok) >= sizeof(ctx->cmd->file))
		return invarg(ctx, tok, "FILE is empty or longer than %zu bytes", sizeof(ctx->cmd->file) - 1);
	strcpy(ctx->cmd->file, tok);
	return 0;
}

/*
 * [--check] [--confirm SECONDS] FILE [--text TEXT] [--counts-only], options
 * in any order, each once. perimctl adds --text and, for an apply whose list
 * of changes it will not print, --counts-only.
 */
static int parse_file_command(struct parse_ctx *ctx, enum perim_cmd_kind kind, const char *command)
{
	struct perim_cmd *cmd = ctx->cmd;
	bool apply = kind == PERIM_CMD_APPLY;
	const char *w, *val;
	int err = 0;

	cmd->kind = kind;
	while (!err && (w = take_arg(ctx))) {
		if (apply && !strcmp(w, "--check") && !cmd->check)
			cmd->check = true;
		else if (apply && !strcmp(w, "--confirm") && !cmd->confirm_s)
			err = next_arg(ctx, w, "SECONDS", &val) ?: parse_confirm_seconds(ctx, val);
		else if (!strcmp(w, "--text") && !cmd->text)
			err = next_arg(ctx, w, "TEXT", &cmd->text);
		else if (apply && !strcmp(w, "--counts-only") && !cmd->counts_only)
			cmd->counts_only = true;
		else if (looks_like_option(w) && w[1])
			err = invarg(ctx, w, apply ? "unknown or repeated option; expected --check or --confirm SECONDS"
					       : "unknown or repeated option");
		else
			err = take_file(ctx, w);
	}
	if (!err && !cmd->file[0])
		err = invarg(ctx, command, "missing FILE after it");
	return err;
}

static int parse_apply(struct parse_ctx *ctx) { return parse_file_command(ctx, PERIM_CMD_APPLY, "apply"); }
static int parse_diff(struct parse_ctx *ctx) { return parse_file_command(ctx, PERIM_CMD_DIFF, "diff"); }

static int parse_confirm(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_CONFIRM;
	return no_more_args(ctx);
}

static int parse_rollback(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_ROLLBACK;
	return no_more_args(ctx);
}

static const char help_show[] =
"Usage: perimctl show [DEV]\n"
"Prints the live configuration (attach, limit set, allow add, deny add,\n"
"shape set, protect add lines) of every interface, or of DEV, in the state\n"
"file's line format: \"perimctl show > f; perimctl apply f\" changes nothing.\n";

static const char help_apply[] =
"Usage: perimctl apply [--check] [--confirm SECONDS] FILE\n"
"       perimctl diff FILE\n"
"Replaces the whole configuration of every interface FILE names (limits in\n"
"both directions, allow/deny prefixes, shapers, protect entries) with FILE's,\n"
"in one step: the datapath switches from the old rules to the new ones so\n"
"that no packet is judged by a mix of both, or nothing changes. Interfaces\n"
"FILE does not name are untouched; each must already be attached. FILE (\"-\"\n"
"is standard input) holds the lines \"perimctl show\" prints; '#' starts a\n"
"comment, blank lines are allowed, ids are optional (a rule whose selector\n"
"equals a live rule's keeps that rule's id and counters; other rules get ids\n"
"not in use before). A bad line is exit 2 naming FILE:LINE and the bad\n"
"token, and nothing changes.\n"
"  --check    validate only, change nothing (same verdict as apply)\n"
"  --confirm  roll back by itself unless \"perimctl confirm\" comes in time\n"
"  diff       print what apply would change (-j: the list)\n";

static const char help_diff[] =
"Usage: perimctl diff FILE\n"
"Prints what \"perimctl apply FILE\" would change: + added, - removed and\n"
"~ replaced lines (-j: the list), or apply's error for a bad line, changing\n"
"nothing. \"perimctl help apply\" describes FILE.\n";

#define CONFIRM_TEXT \
"A changing command (apply, limit set|del, allow|deny add|del, shape set|del,\n" \
"protect add|del) given --confirm SECONDS (1-86400) is applied, then rolled\n" \
"back to the exact previous configuration by perimd itself unless \"perimctl\n" \
"confirm\" comes within SECONDS; \"perimctl rollback\" rolls back at once. The\n" \
"pending rollback is in the state file (the previous configuration and the\n" \
"deadline, wall-clock): a perimd restarted during the window still rolls back\n" \
"when it ends. \"perimctl status\" shows it. While one is pending, any other\n" \
"change is refused (exit 1).\n"

static const char help_confirm[] =
"Usage: perimctl confirm\n"
"       perimctl rollback\n"
"       perimctl COMMAND ... --confirm SECONDS\n"
CONFIRM_TEXT;

static const char help_rollback[] =
"Usage: perimctl rollback\n"
"       perimctl confirm\n"
"       perimctl COMMAND ... --confirm SECONDS\n"
CONFIRM_TEXT;

const struct cmd_object cmd_object_show = { "show", parse_show, help_show };
const struct cmd_object cmd_object_apply = { "apply", parse_apply, help_apply };
const struct cmd_object cmd_object_diff = { "diff", parse_diff, help_diff };
const struct cmd_object cmd_object_confirm = { "confirm", parse_confirm, help_confirm };
const struct cmd_object cmd_object_rollback = { "rollback", parse_rollback, help_rollback };
