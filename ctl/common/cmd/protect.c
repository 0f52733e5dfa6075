// SPDX-License-Identifier: GPL-2.0
/*
 * protect: sources whose matching packets pass before any deny, limit, block
 * or SYN check (the management access an operator must not cut).
 * perim_protect_format() writes the state-file line this parser reads back.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "perim.h"
#include "core.h"

static int protect_proto(struct parse_ctx *ctx, const char *val, struct perim_protect_spec *p)
{
	if (!strcmp(val, "tcp"))
		p->proto = IPPROTO_TCP;
	else if (!strcmp(val, "udp"))
		p->proto = IPPROTO_UDP;
	else
		return invarg(ctx, val, "proto must be tcp or udp");
	return 0;
}

static int protect_dport(struct parse_ctx *ctx, const char *val, struct perim_protect_spec *p)
{
	const char *end;
	int err = parse_port(ctx, val, val, &end, &p->dport_lo);

	if (err)
		return err;
	p->dport_hi = p->dport_lo;
	if (*end == '-') {
		if ((err = parse_port(ctx, val, end + 1, &end, &p->dport_hi)))
			return err;
		if (p->dport_lo > p->dport_hi)
			return invarg(ctx, val, "port range must be low-high");
	}
	if (*end)
		return invarg(ctx, val, "dport must be P or P-Q");
	return 0;
}

/* DEV PREFIX [proto tcp|udp] [dport P[-Q]], keywords once each, in any order. */
static int parse_protect_change(struct parse_ctx *ctx, enum perim_cmd_kind kind, const char *command)
{
	struct perim_protect_spec *p = &ctx->cmd->protect;
	bool seen_proto = false, seen_dport = false;
	const char *tok, *kw, *val;
	int err;

	ctx->cmd->kind = kind;
	if ((err = take_dev(ctx, command)) || (err = next_arg(ctx, command, "PREFIX", &tok)) ||
	    (err = parse_prefix(ctx, tok, &p->prefix)))
		return err;
	while ((kw = take_arg(ctx))) {
		bool *seen = !strcmp(kw, "proto") ? &seen_proto : !strcmp(kw, "dport") ? &seen_dport : NULL;

		if (!seen)
			return invarg(ctx, kw, "unknown keyword; expected proto or dport");
		if (*seen)
			return invarg(ctx, kw, "given twice");
		*seen = true;
		if ((err = next_arg(ctx, kw, seen == &seen_proto ? "tcp|udp" : "P[-Q]", &val)))
			return err;
		err = seen == &seen_proto ? protect_proto(ctx, val, p) : protect_dport(ctx, val, p);
		if (err)
			return err;
	}
	if (seen_dport && !seen_proto)
		return invarg(ctx, "dport", "needs proto tcp or udp");
	return 0;
}

static int parse_protect_add(struct parse_ctx *ctx) { return parse_protect_change(ctx, PERIM_CMD_PROTECT_ADD, "add"); }
static int parse_protect_del(struct parse_ctx *ctx) { return parse_protect_change(ctx, PERIM_CMD_PROTECT_DEL, "del"); }

static int parse_protect_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_PROTECT_LIST;
	return take_optional_dev(ctx);
}

static const struct cmd_handler protect_cmds[] = {
	{ "add", parse_protect_add }, { "del", parse_protect_del }, { "list", parse_protect_list }, { NULL },
};

static int parse_protect(struct parse_ctx *ctx)
{
	return dispatch_command(ctx, protect_cmds, "add, del or list");
}

static const char help_protect[] =
"Usage: perimctl protect { add | del } DEV PREFIX [proto tcp|udp] [dport P[-Q]]\n"
"       perimctl protect list [DEV]\n"
"Packets from PREFIX (to port P..Q of that protocol, if given) arriving on DEV\n"
"pass before any deny (local or fleet), limit, block or SYN check, counted as\n"
"protected (perimctl stats). For the management access an operator must keep:\n"
"  perimctl protect add eth0 192.0.2.10/32 proto tcp dport 22\n"
"perimctl refuses a deny, limit or fleet block that would hit the source of the\n"
"caller's own SSH session ($SSH_CONNECTION) unless that source is protected,\n"
"and a protect del that would leave it hit and unprotected, unless the command\n"
"is given as perimctl --force. \"protect\" alone lists.\n";

const struct cmd_object cmd_object_protect = { "protect", parse_protect, help_protect };

/* ---- the state-file line ---- */

int perim_protect_format(const char *dev, const struct perim_protect_spec *p, char *buf, size_t len)
{
	char prefix[64];
	struct out o;

	if (perim_prefix_format(&p->prefix, prefix, sizeof(prefix)) < 0)
		return -EINVAL;
	if (p->proto != PERIM_PROTO_ANY && p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return -EINVAL;
	o = out_start(buf, len);
	out_add(&o, "protect add %s %s", dev, prefix);
	if (p->proto)
		out_add(&o, " proto %s", p->proto == IPPROTO_TCP ? "tcp" : "udp");
	if (p->dport_lo && p->dport_lo == p->dport_hi)
		out_add(&o, " dport %u", p->dport_lo);
	else if (p->dport_lo)
		out_add(&o, " dport %u-%u", p->dport_lo, p->dport_hi);
	return o.total;
}
