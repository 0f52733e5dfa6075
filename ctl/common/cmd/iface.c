// SPDX-License-Identifier: GPL-2.0
/*
 * attach, detach: perim on an interface; perim_attach_format() writes the
 * state-file line this parser reads back.
 */
#include <string.h>

#include "perim.h"
#include "core.h"

static int parse_attach(struct parse_ctx *ctx)
{
	struct perim_cmd *cmd = ctx->cmd;
	bool seen_mode = false, seen_slot = false;
	const char *kw, *val;
	uint64_t slot;
	int err;

	cmd->kind = PERIM_CMD_ATTACH;
	err = take_dev(ctx, "attach");
	if (err)
		return err;
	while ((kw = take_arg(ctx))) {
		if (!strcmp(kw, "mode")) {
			if (seen_mode)
				return invarg(ctx, kw, "given twice");
			seen_mode = true;
			if ((err = next_arg(ctx, kw, "native|skb", &val)))
				return err;
			if (!strcmp(val, "native"))
				cmd->mode = PERIM_MODE_NATIVE;
			else if (!strcmp(val, "skb"))
				cmd->mode = PERIM_MODE_SKB;
			else
				return invarg(ctx, val, "mode must be native or skb");
		} else if (!strcmp(kw, "slot")) {
			if (seen_slot)
				return invarg(ctx, kw, "given twice");
			seen_slot = true;
			if ((err = next_arg(ctx, kw, "N", &val)) ||
			    (err = parse_number(ctx, val, "slot", 0, PERIM_MAX_IFACES - 1, &slot)))
				return err;
			cmd->slot = slot;
		} else {
			return invarg(ctx, kw, "unknown keyword; expected mode");
		}
	}
	return 0;
}

static int parse_detach(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_DETACH;
	return take_dev(ctx, "detach") ?: no_more_args(ctx);
}

static const char help_attach[] =
"Usage: perimctl attach DEV [mode native|skb]\n"
"       perimctl detach DEV\n"
"Attaches perim's XDP program to DEV (a perimeter NIC), or detaches it.\n"
"  mode native   driver mode (XDP_FLAGS_DRV_MODE)\n"
"  mode skb      generic mode, for drivers without XDP\n"
"Without mode, native is tried first and skb is the fallback.\n"
"perim runs in a libxdp dispatcher beside other XDP programs; where the kernel\n"
"cannot host one it loads alone, and \"perimctl status\" says so.\n";

/* detach shares attach's help. */
const struct cmd_object cmd_object_attach = { "attach", parse_attach, help_attach };
const struct cmd_object cmd_object_detach = { "detach", parse_detach, help_attach };

/* ---- the state-file line ---- */

int perim_attach_format(const char *dev, enum perim_xdp_mode mode, int slot, char *buf, size_t len)
{
	struct out o = out_start(buf, len);

	out_add(&o, "attach %s", dev);
	if (mode == PERIM_MODE_NATIVE)
		out_add(&o, " mode native");
	else if (mode == PERIM_MODE_SKB)
		out_add(&o, " mode skb");
	if (slot >= 0)
		out_add(&o, " slot %d", slot);
	return o.total;
}
