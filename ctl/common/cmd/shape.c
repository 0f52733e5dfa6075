// SPDX-License-Identifier: GPL-2.0
/*
 * shape: the egress shaper (set, del, list); perim_shape_format() writes
 * the state-file line this parser reads back.
 */
#include <errno.h>
#include <string.h>

#include "core.h"

#define SHAPE_MAX_BITS    10000000000ULL    /* 10gbit: libnl's TBF rate is an int of bytes/s */
#define SHAPE_BURST_MAX   1000000000ULL
#define SHAPE_LATENCY_MAX 10000ULL

static int shape_rate(struct parse_ctx *ctx, const char *tok, struct perim_shape_spec *s)
{
	return parse_with_unit(ctx, tok, "rate", perim_bit_units, "kbit, mbit or gbit",
			       SHAPE_MAX_BITS, "10gbit", &s->rate_bits);
}

static int parse_shape_set(struct parse_ctx *ctx)
{
	struct perim_shape_spec *s = &ctx->cmd->shape;
	bool seen_rate = false, seen_burst = false, seen_latency = false;
	const char *kw, *val;
	uint64_t n;
	int err;

	ctx->cmd->kind = PERIM_CMD_SHAPE_SET;
	if ((err = take_dev(ctx, "set")))
		return err;
	while ((kw = take_arg(ctx))) {
		if (!strcmp(kw, "force")) {
			if (s->force)
				return invarg(ctx, kw, "given twice");
			s->force = true;
			continue;
		}
		if (!strcmp(kw, "rate")) {
			if (seen_rate)
				return invarg(ctx, kw, "given twice");
			seen_rate = true;
			if ((err = next_arg(ctx, kw, "N{kbit,mbit,gbit}", &val)) || (err = shape_rate(ctx, val, s)))
				return err;
		} else if (!strcmp(kw, "burst")) {
			if (seen_burst)
				return invarg(ctx, kw, "given twice");
			seen_burst = true;
			if ((err = next_arg(ctx, kw, "N (bytes)", &val)) ||
			    (err = parse_number(ctx, val, "burst (bytes)", 1, SHAPE_BURST_MAX, &s->burst_bytes)))
				return err;
		} else if (!strcmp(kw, "latency")) {
			if (seen_latency)
				return invarg(ctx, kw, "given twice");
			seen_latency = true;
			if ((err = next_arg(ctx, kw, "MS", &val)) ||
			    (err = parse_number(ctx, val, "latency (ms)", 1, SHAPE_LATENCY_MAX, &n)))
				return err;
			s->latency_ms = n;
		} else {
			return invarg(ctx, kw, "unknown keyword; expected rate, burst, latency or force");
		}
	}
	if (!seen_rate)
		return invarg(ctx, "set", "rate N{kbit,mbit,gbit} is required");
	return 0;
}

static int parse_shape_del(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_SHAPE_DEL;
	return take_dev(ctx, "del") ?: no_more_args(ctx);
}

static int parse_shape_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_SHAPE_LIST;
	return take_optional_dev(ctx);
}

static const struct cmd_handler shape_cmds[] = {
	{ "set", parse_shape_set }, { "del", parse_shape_del }, { "list", parse_shape_list }, { NULL },
};

static int parse_shape(struct parse_ctx *ctx)
{
	return dispatch_command(ctx, shape_cmds, "set, del or list");
}

static const char help_shape[] =
"Usage: perimctl shape set DEV rate N{kbit|mbit|gbit} [burst N] [latency MS] [force]\n"
"       perimctl shape del DEV\n"
"       perimctl shape list [DEV]\n"
"Shapes what DEV sends (queueing, not dropping): a root TBF qdisc with fq_codel\n"
"under it, installed by perimd over rtnetlink.\n"
"  rate        required; 1kbit = 1000 bit/s, at most 10gbit; counts Ethernet headers\n"
"  burst N     bytes sent back to back at line rate (default: 10 ms of rate,\n"
"              at least two full frames)\n"
"  latency MS  bound on queueing delay, 1..10000 (default 50): sizes the queue\n"
"  force       replace a root qdisc perim did not create; without it perimd\n"
"              refuses and leaves that qdisc in place\n"
"\"shape del\" removes only perim's own qdisc; the kernel's default comes back.\n"
"\"perimctl stats\" shows the shaper's kernel counters.\n";

const struct cmd_object cmd_object_shape = { "shape", parse_shape, help_shape };

/* ---- the state-file line ---- */

int perim_shape_format(const char *dev, const struct perim_shape_spec *s, char *buf, size_t len)
{
	char rate[32];
	struct out o;

	if (!s->rate_bits || s->rate_bits % 1000)
		return -EINVAL;
	o = out_start(buf, len);
	out_add(&o, "shape set %s rate %s", dev, perim_bits_text(rate, sizeof(rate), s->rate_bits));
	if (s->burst_bytes)
		out_add(&o, " burst %llu", (unsigned long long)s->burst_bytes);
	if (s->latency_ms)
		out_add(&o, " latency %u", s->latency_ms);
	return o.total;
}
