// SPDX-License-Identifier: GPL-2.0
/*
 * allow, deny: the prefix lists (add, del, list); perim_acl_format() writes
 * the state-file line this parser reads back.
 */
#include <errno.h>

#include "core.h"

static int parse_acl_change(struct parse_ctx *ctx, enum perim_cmd_kind kind, const char *command)
{
	const char *tok;
	int err;

	ctx->cmd->kind = kind;
	if ((err = take_dev(ctx, command)) || (err = next_arg(ctx, command, "PREFIX", &tok)) ||
	    (err = parse_prefix(ctx, tok, &ctx->cmd->prefix)))
		return err;
	return no_more_args(ctx);
}

static int parse_allow_add(struct parse_ctx *ctx) { return parse_acl_change(ctx, PERIM_CMD_ALLOW_ADD, "add"); }
static int parse_allow_del(struct parse_ctx *ctx) { return parse_acl_change(ctx, PERIM_CMD_ALLOW_DEL, "del"); }
static int parse_deny_add(struct parse_ctx *ctx) { return parse_acl_change(ctx, PERIM_CMD_DENY_ADD, "add"); }
static int parse_deny_del(struct parse_ctx *ctx) { return parse_acl_change(ctx, PERIM_CMD_DENY_DEL, "del"); }

static int parse_allow_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_ALLOW_LIST;
	return take_optional_dev(ctx);
}

static int parse_deny_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_DENY_LIST;
	return take_optional_dev(ctx);
}

static const struct cmd_handler allow_cmds[] = {
	{ "add", parse_allow_add }, { "del", parse_allow_del }, { "list", parse_allow_list }, { NULL },
};
static const struct cmd_handler deny_cmds[] = {
	{ "add", parse_deny_add }, { "del", parse_deny_del }, { "list", parse_deny_list }, { NULL },
};

static int parse_allow(struct parse_ctx *ctx) { return dispatch_command(ctx, allow_cmds, "add, del or list"); }
static int parse_deny(struct parse_ctx *ctx) { return dispatch_command(ctx, deny_cmds, "add, del or list"); }

static const char help_allow[] =
"Usage: perimctl allow { add | del } DEV PREFIX\n"
"       perimctl allow list [DEV]\n"
"Sources in an allowed prefix bypass every limit. PREFIX is IPv4 or IPv6 with an\n"
"optional /len (default: one address); host bits must be zero. \"allow\" alone lists.\n";

static const char help_deny[] =
"Usage: perimctl deny { add | del } DEV PREFIX\n"
"       perimctl deny list [DEV]\n"
"Packets from a denied prefix are dropped (reason \"deny\"). PREFIX is IPv4 or IPv6\n"
"with an optional /len (default: one address); host bits must be zero.\n"
"\"deny\" alone lists. The longest matching prefix of allow and deny wins.\n";

const struct cmd_object cmd_object_allow = { "allow", parse_allow, help_allow };
const struct cmd_object cmd_object_deny = { "deny", parse_deny, help_deny };

/* ---- the state-file line ---- */

int perim_acl_format(const char *dev, bool deny, const struct perim_prefix *prefix, char *buf, size_t len)
{
	char text[64];
	struct out o;

	if (perim_prefix_format(prefix, text, sizeof(text)) < 0)
		return -EINVAL;
	o = out_start(buf, len);
	out_add(&o, "%s add %s %s", deny ? "deny" : "allow", dev, text);
	return o.total;
}
