// SPDX-License-Identifier: GPL-2.0
/*
 * syncookie: SYN protection per interface and destination (set, del, list);
 * perim_syn_format() writes the state-file line this parser reads back.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "perim_syn.h"

enum syn_kw { KW_DST = 1, KW_DPORT = 2, KW_MSS = 4, KW_WSCALE = 8, KW_DRY_RUN = 16 };

static const struct {
	const char *name;
	unsigned bit;
	const char *what;          /* the value's shape; NULL: a flag */
} syn_keywords[] = {
	{ "dst", KW_DST, "PREFIX" }, { "dport", KW_DPORT, "P[-Q]" }, { "mss", KW_MSS, "N" },
	{ "wscale", KW_WSCALE, "N" }, { "dry-run", KW_DRY_RUN, NULL },
};

static int syn_value(struct parse_ctx *ctx, unsigned bit, const char *val)
{
	struct perim_syn_spec *s = &ctx->cmd->syn;
	uint64_t v;
	int err;

	switch (bit) {
	case KW_DST:
		s->has_dst = true;
		return parse_prefix(ctx, val, &s->dst);
	case KW_DPORT:
		return parse_port_range(ctx, val, &s->dport_lo, &s->dport_hi);
	case KW_MSS:
		if ((err = parse_number(ctx, val, "mss", PERIM_SYN_MSS_MIN, PERIM_SYN_MSS_MAX, &v)))
			return err;
		s->mss = v;
		return 0;
	case KW_WSCALE:
		if ((err = parse_number(ctx, val, "wscale", 0, PERIM_SYN_WSCALE_MAX, &v)))
			return err;
		s->wscale = v;
		s->has_wscale = true;
		return 0;
	default:
		s->dry_run = true;
		return 0;
	}
}

/* One keyword (and its value) of those allowed, each at most once. */
static int syn_keyword(struct parse_ctx *ctx, const char *kw, unsigned allowed, unsigned *seen)
{
	const char *val = NULL;
	int err;

	for (size_t i = 0; i < sizeof(syn_keywords) / sizeof(syn_keywords[0]); i++) {
		unsigned bit = syn_keywords[i].bit;

		if (strcmp(kw, syn_keywords[i].name) || !(bit & allowed))
			continue;
		if (*seen & bit)
			return invarg(ctx, kw, "given twice");
		*seen |= bit;
		if (syn_keywords[i].what && (err = next_arg(ctx, kw, syn_keywords[i].what, &val)))
			return err;
		return syn_value(ctx, bit, val);
	}
	return invarg(ctx, kw, allowed & KW_MSS ? "expected dst, dport, mss, wscale or dry-run"
						: "expected dst or dport");
}

static int parse_syn_change(struct parse_ctx *ctx, enum perim_cmd_kind kind, const char *command,
			    unsigned allowed)
{
	unsigned seen = 0;
	const char *kw;
	int err;

	ctx->cmd->kind = kind;
	if ((err = take_dev(ctx, command)))
		return err;
	while ((kw = take_arg(ctx)))
		if ((err = syn_keyword(ctx, kw, allowed, &seen)))
			return err;
	return 0;
}

static int parse_syn_set(struct parse_ctx *ctx)
{
	return parse_syn_change(ctx, PERIM_CMD_SYN_SET, "set", KW_DST | KW_DPORT | KW_MSS | KW_WSCALE | KW_DRY_RUN);
}

static int parse_syn_del(struct parse_ctx *ctx)
{
	return parse_syn_change(ctx, PERIM_CMD_SYN_DEL, "del", KW_DST | KW_DPORT);
}

static int parse_syn_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_SYN_LIST;
	return take_optional_dev(ctx);
}

static const struct cmd_handler syn_cmds[] = {
	{ "set", parse_syn_set }, { "del", parse_syn_del }, { "list", parse_syn_list }, { NULL },
};

static int parse_syncookie(struct parse_ctx *ctx)
{
	return dispatch_command(ctx, syn_cmds, "set, del or list");
}

static const char help_syncookie[] =
"Usage: perimctl syncookie set DEV [dst PREFIX] [dport P[-Q]] [mss N] [wscale N] [dry-run]\n"
"       perimctl syncookie del DEV [dst PREFIX] [dport P[-Q]]\n"
"       perimctl syncookie list [DEV]\n"
"Answers TCP SYNs to the protected destinations of DEV from XDP with SYN cookies;\n"
"an ACK that carries a valid cookie goes on to netfilter's SYNPROXY (perim installs\n"
"its rules in a table of its own), a bad one is dropped as bad-cookie.\n"
"  dst PREFIX     IPv4 or IPv6 destination prefix (default: every destination)\n"
"  dport P[-Q]    destination port or range, 1..65535 (default: every port)\n"
"  mss N          MSS advertised to clients, 536..9000 (default 1460, 1440 for IPv6)\n"
"  wscale N       window scale advertised, 0..14 (default 7): the servers' own\n"
"  dry-run        count the SYNs that would be answered and the bad cookies, pass all\n"
"\"set\" for a DEV, dst and dport already protected replaces its options; \"del\" with\n"
"DEV alone removes every protection of DEV. Needs Linux 6.0 or later (status says\n"
"why not).\n";

const struct cmd_object cmd_object_syncookie = { "syncookie", parse_syncookie, help_syncookie };

/* ---- the state-file line ---- */

int perim_syn_format(const char *dev, const struct perim_syn_spec *s, char *buf, size_t len)
{
	struct out o = out_start(buf, len);
	char prefix[64];

	out_add(&o, "syncookie set %s", dev);
	if (s->has_dst) {
		if (perim_prefix_format(&s->dst, prefix, sizeof(prefix)) < 0)
			return -EINVAL;
		out_add(&o, " dst %s", prefix);
	}
	if (s->dport_lo && s->dport_lo == s->dport_hi)
		out_add(&o, " dport %u", s->dport_lo);
	else if (s->dport_lo)
		out_add(&o, " dport %u-%u", s->dport_lo, s->dport_hi);
	if (s->mss)
		out_add(&o, " mss %u", s->mss);
	out_add(&o, " wscale %u", s->has_wscale ? s->wscale : PERIM_SYN_WSCALE_DEFAULT);
	if (s->dry_run)
		out_add(&o, " dry-run");
	return o.total;
}
