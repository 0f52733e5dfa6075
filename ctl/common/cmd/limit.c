// SPDX-License-Identifier: GPL-2.0
/*
 * limit: rate-limit rules (set, del, list). One handler per keyword of
 * "limit set"; perim_limit_format() writes the state-file line this parser
 * reads back.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "perim.h"
#include "core.h"

#define RATE_MAX_PPS      1000000000ULL     /* 1000mpps */
#define BYTES_MAX_BITS    1000000000000ULL  /* 1000gbit */
#define BURST_MAX         1000000000ULL
#define BLOCK_MAX_S       86400ULL

/* ---- limit set: one handler per keyword ---- */

enum limit_kw_bit {
	KW_ID = 1 << 0, KW_SRC = 1 << 1, KW_PROTO = 1 << 2, KW_DPORT = 1 << 3, KW_SYN = 1 << 4,
	KW_RATE = 1 << 5, KW_BURST = 1 << 6, KW_BYTES = 1 << 7, KW_MODE = 1 << 8,
	KW_BLOCK = 1 << 9, KW_DRY_RUN = 1 << 10, KW_DIR = 1 << 11, KW_DST = 1 << 12, KW_CGROUP = 1 << 13,
};

struct limit_kw {
	const char *name;
	const char *value;         /* what follows it, for "missing ..."; NULL = a flag */
	unsigned bit;              /* keywords sharing a bit exclude each other */
	int (*apply)(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l);
};

static int kw_id(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	uint64_t id;
	int err = parse_number(ctx, val, "rule id", 1, PERIM_MAX_RULES - 1, &id);

	l->id = id;
	return err;
}

static int kw_src(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->has_src = true;
	return parse_prefix(ctx, val, &l->src);
}

/* The protocols a rule can match, spelled by perim_proto_name() both ways. */
static const uint8_t limit_protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, PERIM_PROTO_ANY };

static bool limit_proto_known(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(limit_protos); i++)
		if (limit_protos[i] == proto)
			return true;
	return false;
}

static int kw_proto(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	char name[PERIM_PROTO_NAME_MAX];

	for (size_t i = 0; i < sizeof(limit_protos); i++) {
		if (!strcmp(val, perim_proto_name(limit_protos[i], name))) {
			l->proto = limit_protos[i];
			return 0;
		}
	}
	return invarg(ctx, val, "proto must be tcp, udp, icmp or any");
}

static int kw_dport(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	return parse_port_range(ctx, val, &l->dport_lo, &l->dport_hi);
}

static int kw_syn(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->syn_only = true;
	return 0;
}

static int kw_rate(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	return parse_with_unit(ctx, val, "rate", perim_pps_units, "pps, kpps or mpps",
			       RATE_MAX_PPS, "1000mpps", &l->rate_pps);
}

static int kw_burst(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	return parse_number(ctx, val, "burst", 1, BURST_MAX, &l->burst);
}

static int kw_bytes(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	uint64_t bits;
	int err = parse_with_unit(ctx, val, "bytes", perim_bit_units, "kbit, mbit or gbit",
				  BYTES_MAX_BITS, "1000gbit", &bits);

	l->bytes_per_s = bits / 8;  /* exact: every unit is a multiple of 1000 bits */
	return err;
}

/* per-source, per-destination: one bucket per address; the direction picks which (limit_check). */
static int kw_per_address(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	ctx->mode_word = kw;
	l->per_source = true;
	return 0;
}

static int kw_aggregate(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	ctx->mode_word = kw;
	l->per_source = false;
	return 0;
}

static int kw_dir(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	if (!strcmp(val, "egress"))
		l->egress = true;
	else if (!strcmp(val, "ingress"))
		l->egress = false;
	else
		return invarg(ctx, val, "dir must be ingress or egress");
	return 0;
}

static int kw_dst(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->has_dst = true;
	return parse_prefix(ctx, val, &l->dst);
}

/* Absolute, no whitespace (the state file splits on it), no "." or ".." components. */
static const char *cgroup_path_problem(const char *path)
{
	const char *c;

	if (path[0] != '/')
		return "cgroup must be absolute: its path below the cgroup2 mount or its directory under it";
	if (strlen(path) >= PERIM_CGROUP_PATH_MAX)
		return "cgroup path is too long (at most 191 bytes)";
	for (c = path; *c; c++)
		if (isspace((unsigned char)*c) || !isprint((unsigned char)*c))
			return "cgroup path contains whitespace or control characters";
	if (strstr(path, "/./") || strstr(path, "/../") || !strcmp(path + strlen(path) - 2, "/.") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return "cgroup path must not contain \".\" or \"..\" components";
	return NULL;
}

static int kw_cgroup(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	const char *why = cgroup_path_problem(val);

	if (why)
		return invarg(ctx, val, "%s", why);
	strcpy(l->cgroup, val);
	return 0;
}

static int kw_block(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	uint64_t s;
	int err = parse_number(ctx, val, "block", 1, BLOCK_MAX_S, &s);

	l->block_s = s;
	return err;
}

static int kw_dry_run(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->dry_run = true;
	return 0;
}

static const struct limit_kw limit_kws[] = {
	{ "id",         "N",                     KW_ID,      kw_id },
	{ "src",        "PREFIX",                KW_SRC,     kw_src },
	{ "proto",      "tcp|udp|icmp|any",      KW_PROTO,   kw_proto },
	{ "dport",      "P[-Q]",                 KW_DPORT,   kw_dport },
	{ "syn",        NULL,                    KW_SYN,     kw_syn },
	{ "rate",       "N{pps,kpps,mpps}",      KW_RATE,    kw_rate },
	{ "burst",      "N",                     KW_BURST,   kw_burst },
	{ "bytes",      "N{kbit,mbit,gbit}",     KW_BYTES,   kw_bytes },
	{ "per-source", NULL,                    KW_MODE,    kw_per_address },
	{ "per-destination", NULL,               KW_MODE,    kw_per_address },
	{ "aggregate",  NULL,                    KW_MODE,    kw_aggregate },
	{ "block",      "SECONDS",               KW_BLOCK,   kw_block },
	{ "dry-run",    NULL,                    KW_DRY_RUN, kw_dry_run },
	{ "dir",        "ingress|egress",        KW_DIR,     kw_dir },
	{ "dst",        "PREFIX",                KW_DST,     kw_dst },
	{ "cgroup",     "PATH",                  KW_CGROUP,  kw_cgroup },
	{ NULL },
};

static const struct limit_kw *find_limit_kw(const char *name)
{
	for (const struct limit_kw *k = limit_kws; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/*
 * Direction: ingress rules match sources (src, per-source), egress rules
 * destinations (dst, per-destination) or the sending cgroup. A cgroup rule
 * limits the cgroup as a whole unless per-destination is asked for.
 */
static int direction_check(struct parse_ctx *ctx, unsigned seen, struct perim_limit_spec *l)
{
	if (!l->egress) {
		if (seen & KW_DST)
			return invarg(ctx, "dst", "dst needs dir egress (ingress rules match src)");
		if (seen & KW_CGROUP)
			return invarg(ctx, "cgroup", "cgroup needs dir egress");
		if (ctx->mode_word && !strcmp(ctx->mode_word, "per-destination"))
			return invarg(ctx, "per-destination", "per-destination needs dir egress; ingress uses per-source");
		return 0;
	}
	if (seen & KW_SRC)
		return invarg(ctx, "src", "egress rules match dst, not src");
	if (ctx->mode_word && !strcmp(ctx->mode_word, "per-source"))
		return invarg(ctx, "per-source", "egress rules use per-destination");
	if ((seen & KW_CGROUP) && (seen & KW_DST))
		return invarg(ctx, "dst", "a cgroup rule covers every destination; dst and cgroup exclude each other");
	if ((seen & KW_CGROUP) && !ctx->mode_word)
		l->per_source = false;
	return 0;
}

/*
 * Checks between keywords, after all are read so that order does not
 * matter. `syn` without a proto means TCP; with another proto it is an error.
 */
static int limit_check(struct parse_ctx *ctx, unsigned seen, struct perim_limit_spec *l)
{
	int err = direction_check(ctx, seen, l);

	if (err)
		return err;
	if (!(seen & KW_RATE))
		return invarg(ctx, "set", "rate N{pps,kpps,mpps} is required");
	if (l->syn_only) {
		if (!(seen & KW_PROTO))
			l->proto = IPPROTO_TCP;
		else if (l->proto != IPPROTO_TCP)
			return invarg(ctx, "syn", "syn needs proto tcp");
	}
	if ((seen & KW_DPORT) && l->proto == IPPROTO_ICMP)
		return invarg(ctx, "dport", "icmp has no ports");
	return 0;
}

static int parse_limit_set(struct parse_ctx *ctx)
{
	struct perim_limit_spec *l = &ctx->cmd->limit;
	const struct limit_kw *k;
	const char *kw, *val = NULL;
	unsigned seen = 0;
	int err;

	ctx->cmd->kind = PERIM_CMD_LIMIT_SET;
	if ((err = take_dev(ctx, "set")))
		return err;
	while ((kw = take_arg(ctx))) {
		k = find_limit_kw(kw);
		if (!k)
			return invarg(ctx, kw, "unknown keyword");
		if (seen & k->bit)
			return invarg(ctx, kw, k->bit == KW_MODE ? "per-source, per-destination or aggregate given twice"
								 : "given twice");
		seen |= k->bit;
		if (k->value && (err = next_arg(ctx, kw, k->value, &val)))
			return err;
		if ((err = k->apply(ctx, kw, val, l)))
			return err;
	}
	return limit_check(ctx, seen, l);
}

static int parse_limit_del(struct parse_ctx *ctx)
{
	const char *tok;
	uint64_t id;
	int err;

	ctx->cmd->kind = PERIM_CMD_LIMIT_DEL;
	if ((err = take_dev(ctx, "del")) || (err = next_arg(ctx, "del", "ID", &tok)) ||
	    (err = parse_number(ctx, tok, "rule id", 1, PERIM_MAX_RULES - 1, &id)))
		return err;
	ctx->cmd->rule_id = id;
	return no_more_args(ctx);
}

static int parse_limit_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_LIMIT_LIST;
	return take_optional_dev(ctx);
}

static const struct cmd_handler limit_cmds[] = {
	{ "set", parse_limit_set }, { "del", parse_limit_del }, { "list", parse_limit_list }, { NULL },
};

static int parse_limit(struct parse_ctx *ctx)
{
	return dispatch_command(ctx, limit_cmds, "set, del or list");
}

static const char help_limit[] =
"Usage: perimctl limit set DEV [src PREFIX] [proto tcp|udp|icmp|any] [dport P[-Q]] [syn]\n"
"                          rate N{pps|kpps|mpps} [burst N] [bytes N{kbit|mbit|gbit}]\n"
"                          [per-source|aggregate] [block SECONDS] [dry-run]\n"
"       perimctl limit set DEV dir egress [dst PREFIX | cgroup PATH] [proto ...] [dport P[-Q]]\n"
"                          rate ... [burst N] [bytes ...] [per-destination|aggregate] [dry-run]\n"
"       perimctl limit del DEV ID\n"
"       perimctl limit list [DEV]\n"
"  dir            ingress (default: XDP, matched on the source) or egress (tc on the\n"
"                 clsact egress hook, matched on the destination)\n"
"  dst PREFIX     egress: destination prefix (default: every destination)\n"
"  cgroup PATH    egress: only what sockets of this cgroup v2 cgroup send: its path\n"
"                 below the cgroup2 mount (/system.slice/x.service) or its directory\n"
"                 under the mount; the cgroup shares one bucket unless per-destination\n"
"  per-destination  egress: every destination address gets its own bucket (default\n"
"                 for dst rules)\n"
"  src PREFIX     IPv4 or IPv6 source prefix, host bits zero (default: every source,\n"
"                 both families); without /len a single address\n"
"  proto          tcp, udp, icmp (ICMP and ICMPv6) or any (default)\n"
"  dport P[-Q]    destination port or range, 1..65535; not with proto icmp; with\n"
"                 proto any it matches TCP and UDP packets only\n"
"  syn            only TCP SYN without ACK; implies proto tcp, any other proto is an error\n"
"  rate           required; packets per second with a unit: 1kpps = 1000pps, at most 1000mpps\n"
"  burst N        packets admitted back to back (default: one second's worth)\n"
"  bytes          also limit bytes per second: 1kbit = 1000 bit, at most 1000gbit\n"
"  per-source     every source address in the prefix gets its own bucket (default)\n"
"  aggregate      the whole prefix shares one bucket\n"
"  block SECONDS  drop a source outright for 1..86400 s after it exceeds the rule\n"
"  dry-run        count \"would drop\" packets, drop none\n"
"\"limit set\" prints the rule's id (\"rule N on DEV\"); \"limit\" alone lists.\n"
"A \"limit set\" with the selector (dir, src/dst/cgroup, proto, dport, syn) of an\n"
"existing rule replaces it: same id, counters kept, \"replaced\" in the reply; so\n"
"retrying a \"limit set\" whose reply was lost is safe.\n"
"Each keyword may be given once, in any order.\n";

const struct cmd_object cmd_object_limit = { "limit", parse_limit, help_limit };

/* ---- the state-file line ---- */

/*
 * Writes what perim_cmd_parse reads back into the same spec. A byte rate is
 * printed in the largest exact unit; one that is no whole number of kbit
 * (never produced by the parser) is rounded up to the next kbit.
 */
int perim_limit_format(const char *dev, const struct perim_limit_spec *l, char *buf, size_t len)
{
	char src[64], name[PERIM_PROTO_NAME_MAX], rate[32];
	struct out o;

	if (!limit_proto_known(l->proto) || !l->rate_pps)
		return -EINVAL;
	o = out_start(buf, len);
	out_str(&o, "limit set ");
	out_str(&o, dev);
	if (l->id) {
		out_str(&o, " id ");
		out_uint(&o, l->id);
	}
	if (l->egress)
		out_str(&o, " dir egress");
	if (l->egress && l->has_dst) {
		if (perim_prefix_format(&l->dst, src, sizeof(src)) < 0)
			return -EINVAL;
		out_str(&o, " dst ");
		out_str(&o, src);
	}
	if (l->egress && l->cgroup[0]) {
		if (cgroup_path_problem(l->cgroup))
			return -EINVAL;
		out_str(&o, " cgroup ");
		out_str(&o, l->cgroup);
	}
	if (l->has_src && !l->egress) {
		if (perim_prefix_format(&l->src, src, sizeof(src)) < 0)
			return -EINVAL;
		out_str(&o, " src ");
		out_str(&o, src);
	}
	if (l->proto != PERIM_PROTO_ANY) {
		out_str(&o, " proto ");
		out_str(&o, perim_proto_name(l->proto, name));
	}
	if (l->dport_lo) {
		out_str(&o, " dport ");
		out_uint(&o, l->dport_lo);
	}
	if (l->dport_lo && l->dport_lo != l->dport_hi) {
		out_str(&o, "-");
		out_uint(&o, l->dport_hi);
	}
	if (l->syn_only)
		out_str(&o, " syn");
	out_str(&o, " rate ");
	out_str(&o, perim_pps_text(rate, sizeof(rate), l->rate_pps));
	if (l->burst) {
		out_str(&o, " burst ");
		out_uint(&o, l->burst);
	}
	if (l->bytes_per_s) {
		uint64_t bits = l->bytes_per_s * 8;

		if (bits % 1000)
			bits += 1000 - bits % 1000;
		out_str(&o, " bytes ");
		out_str(&o, perim_bits_text(rate, sizeof(rate), bits));
	}
	out_str(&o, !l->per_source ? " aggregate" : l->egress ? " per-destination" : " per-source");
	if (l->block_s) {
		out_str(&o, " block ");
		out_uint(&o, l->block_s);
	}
	if (l->dry_run)
		out_str(&o, " dry-run");
	return o.total;
}

static bool prefix_same(const struct perim_prefix *a, const struct perim_prefix *b)
{
	return a->len == b->len && a->is_v4 == b->is_v4 && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool perim_limit_same_line(const struct perim_limit_spec *a, const struct perim_limit_spec *b)
{
	bool src = !a->egress && a->has_src, dst = a->egress && a->has_dst;

	return a->id == b->id && a->egress == b->egress && src == (!b->egress && b->has_src) &&
	       (!src || prefix_same(&a->src, &b->src)) && dst == (b->egress && b->has_dst) &&
	       (!dst || prefix_same(&a->dst, &b->dst)) && (!a->egress || !strcmp(a->cgroup, b->cgroup)) &&
	       a->proto == b->proto && a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi &&
	       a->syn_only == b->syn_only && a->rate_pps == b->rate_pps && a->burst == b->burst &&
	       a->bytes_per_s == b->bytes_per_s && a->per_source == b->per_source && a->block_s == b->block_s &&
	       a->dry_run == b->dry_run;
}
