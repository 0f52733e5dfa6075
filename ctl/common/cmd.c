// SPDX-License-Identifier: GPL-2.0
/*
 * The one parser of perimctl's command language, used by perimctl (to reject
 * bad input before it leaves the shell) and perimd (control socket, state
 * file). iproute2 style: OBJECT COMMAND [ARGS], a {name, handler} table per
 * level, keywords matched exactly, every bad token reported by invarg().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perim.h"
#include "cmd.h"

#define RATE_MAX_PPS      1000000000ULL     /* 1000mpps */
#define BYTES_MAX_BITS    1000000000000ULL  /* 1000gbit */
#define BURST_MAX         1000000000ULL
#define BLOCK_MAX_S       86400ULL
#define SHAPE_MAX_BITS    10000000000ULL    /* 10gbit: libnl's TBF rate is an int of bytes/s */
#define SHAPE_BURST_MAX   1000000000ULL
#define SHAPE_LATENCY_MAX 10000ULL

struct parse_ctx {
	int argc;
	char **argv;
	int pos;                   /* index of the next unread word */
	struct perim_cmd *cmd;
	char *err;
	size_t errlen;
	const char *mode_word;     /* limit set: the per-source/per-destination/aggregate word given */
};

/* The one wording for every bad argument. Returns PERIM_EXIT_BADINPUT. */
__attribute__((format(printf, 3, 4)))
static int invarg(struct parse_ctx *ctx, const char *token, const char *why, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, why);
	vsnprintf(reason, sizeof(reason), why, ap);
	va_end(ap);
	if (ctx->err && ctx->errlen)
		snprintf(ctx->err, ctx->errlen, "Error: argument \"%s\" is wrong: %s", token, reason);
	return PERIM_EXIT_BADINPUT;
}

static bool more_args(const struct parse_ctx *ctx)
{
	return ctx->pos < ctx->argc;
}

static const char *peek_arg(const struct parse_ctx *ctx)
{
	return more_args(ctx) ? ctx->argv[ctx->pos] : NULL;
}

static const char *take_arg(struct parse_ctx *ctx)
{
	return more_args(ctx) ? ctx->argv[ctx->pos++] : NULL;
}

/* NEXT_ARG: the value after keyword kw, or a clean error naming kw. */
static int next_arg(struct parse_ctx *ctx, const char *kw, const char *what, const char **val)
{
	*val = take_arg(ctx);
	if (!*val)
		return invarg(ctx, kw, "missing %s after it", what);
	return 0;
}

static int no_more_args(struct parse_ctx *ctx)
{
	const char *extra = peek_arg(ctx);

	if (extra)
		return invarg(ctx, extra, "unexpected argument");
	return 0;
}

/* ---- values ---- */

/* Leading decimal digits of s as a u64; *end points past them. Rejects signs, spaces, overflow. */
static int parse_digits(const char *s, uint64_t *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*end = e;
	return 0;
}

/* A whole-token decimal number in [lo, hi]. */
static int parse_number(struct parse_ctx *ctx, const char *tok, const char *what,
			uint64_t lo, uint64_t hi, uint64_t *v)
{
	const char *end;
	int err = parse_digits(tok, v, &end);

	if (err == -ERANGE)
		return invarg(ctx, tok, "%s is too large (at most %llu)", what, (unsigned long long)hi);
	if (err || *end)
		return invarg(ctx, tok, "%s must be a decimal number", what);
	if (*v < lo || *v > hi)
		return invarg(ctx, tok, "%s must be %llu..%llu", what,
			      (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit rate_units[] = {
	{ "pps", 1 }, { "kpps", 1000 }, { "mpps", 1000000 }, { NULL, 0 },
};

static const struct unit bit_units[] = {
	{ "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 }, { NULL, 0 },
};

/* N{unit}: a positive number with one of units glued on, scaled, at most max. */
static int parse_with_unit(struct parse_ctx *ctx, const char *tok, const char *what,
			   const struct unit *units, const char *unit_names,
			   uint64_t max, const char *max_text, uint64_t *out)
{
	const struct unit *u;
	const char *end;
	uint64_t n;
	int err = parse_digits(tok, &n, &end);

	if (err == -ERANGE)
		return invarg(ctx, tok, "%s is too large (at most %s)", what, max_text);
	if (err)
		return invarg(ctx, tok, "%s must be a number with a unit: %s", what, unit_names);
	for (u = units; u->name; u++)
		if (!strcmp(end, u->name))
			break;
	if (!u->name)
		return invarg(ctx, tok, "%s needs a unit: %s", what, unit_names);
	if (n == 0)
		return invarg(ctx, tok, "%s must be greater than 0", what);
	if (n > max / u->mult)
		return invarg(ctx, tok, "%s is too large (at most %s)", what, max_text);
	*out = n * u->mult;
	return 0;
}

/* The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or space. */
static const char *dev_name_problem(const char *name)
{
	size_t len = strnlen(name, IF_NAMESIZE);

	if (len == 0)
		return "interface name is empty";
	if (len >= IF_NAMESIZE)
		return "interface name is longer than 15 bytes";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "not a valid interface name";
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return "interface name contains '/', ':' or whitespace";
	return NULL;
}

static int parse_dev(struct parse_ctx *ctx, const char *tok, char dev[IF_NAMESIZE])
{
	const char *why = dev_name_problem(tok);

	if (why)
		return invarg(ctx, tok, "%s", why);
	strcpy(dev, tok);
	return 0;
}

/* The DEV a command requires, named after the command word when missing. */
static int take_dev(struct parse_ctx *ctx, const char *command)
{
	const char *tok;
	int err = next_arg(ctx, command, "DEV", &tok);

	return err ?: parse_dev(ctx, tok, ctx->cmd->dev);
}

/* An optional trailing DEV (list, stats). */
static int take_optional_dev(struct parse_ctx *ctx)
{
	const char *tok = take_arg(ctx);

	if (!tok)
		return 0;
	return parse_dev(ctx, tok, ctx->cmd->dev) ?: no_more_args(ctx);
}

/* ---- prefixes ---- */

static void prefix_mask_host_bits(struct perim_prefix *p)
{
	for (int bit = p->len; bit < 128; bit++)
		p->addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static bool prefix_has_host_bits(const struct perim_prefix *p)
{
	struct perim_prefix masked = *p;

	prefix_mask_host_bits(&masked);
	return memcmp(masked.addr, p->addr, sizeof(p->addr)) != 0;
}

/* Parses s into p; on failure returns why (a static string). */
static const char *prefix_parse_problem(const char *s, struct perim_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t len = 0;
	const char *end;
	unsigned max_len;

	memset(p, 0, sizeof(*p));
	if (addr_len == 0 || addr_len >= sizeof(addr))
		return "not an IPv4 or IPv6 address";
	memcpy(addr, s, addr_len);
	addr[addr_len] = '\0';
	if (inet_pton(AF_INET, addr, p->addr + 12) == 1) {
		p->is_v4 = true;
		p->addr[10] = p->addr[11] = 0xff;
		max_len = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		max_len = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	len = max_len;
	if (slash && (parse_digits(slash + 1, &len, &end) || *end))
		return "prefix length must be a decimal number";
	if (len > max_len)
		return p->is_v4 ? "IPv4 prefix length must be 0..32" : "IPv6 prefix length must be 0..128";
	p->len = p->is_v4 ? 96 + len : len;
	if (prefix_has_host_bits(p))
		return "host bits are set";
	return NULL;
}

int perim_prefix_parse(const char *s, struct perim_prefix *p)
{
	return prefix_parse_problem(s, p) ? -EINVAL : 0;
}

int perim_prefix_format(const struct perim_prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (p->is_v4) {
		if (!inet_ntop(AF_INET, p->addr + 12, addr, sizeof(addr)))
			return -errno;
		return snprintf(buf, len, "%s/%u", addr, p->len - 96);
	}
	if (!inet_ntop(AF_INET6, p->addr, addr, sizeof(addr)))
		return -errno;
	return snprintf(buf, len, "%s/%u", addr, p->len);
}

static int parse_prefix(struct parse_ctx *ctx, const char *tok, struct perim_prefix *p)
{
	const char *why = prefix_parse_problem(tok, p);
	struct perim_prefix masked;
	char suggestion[64];

	if (!why)
		return 0;
	if (strcmp(why, "host bits are set"))
		return invarg(ctx, tok, "%s", why);
	masked = *p;
	prefix_mask_host_bits(&masked);
	perim_prefix_format(&masked, suggestion, sizeof(suggestion));
	return invarg(ctx, tok, "host bits are set; did you mean %s?", suggestion);
}

/* ---- attach, detach ---- */

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
	int err = parse_number(ctx, val, "id", 1, UINT32_MAX, &id);

	l->id = id;
	return err;
}

static int kw_src(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->has_src = true;
	return parse_prefix(ctx, val, &l->src);
}

static int kw_proto(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	if (!strcmp(val, "tcp"))
		l->proto = IPPROTO_TCP;
	else if (!strcmp(val, "udp"))
		l->proto = IPPROTO_UDP;
	else if (!strcmp(val, "icmp"))
		l->proto = IPPROTO_ICMP;
	else if (!strcmp(val, "any"))
		l->proto = PERIM_PROTO_ANY;
	else
		return invarg(ctx, val, "proto must be tcp, udp, icmp or any");
	return 0;
}

static int parse_port(struct parse_ctx *ctx, const char *tok, const char *s, const char **end, uint16_t *port)
{
	uint64_t v;

	if (parse_digits(s, &v, end) || v < 1 || v > 65535)
		return invarg(ctx, tok, "port must be 1..65535");
	*port = v;
	return 0;
}

static int kw_dport(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	const char *end;
	int err = parse_port(ctx, val, val, &end, &l->dport_lo);

	if (err)
		return err;
	l->dport_hi = l->dport_lo;
	if (*end == '-') {
		if ((err = parse_port(ctx, val, end + 1, &end, &l->dport_hi)))
			return err;
		if (l->dport_lo > l->dport_hi)
			return invarg(ctx, val, "port range must be low-high");
	}
	if (*end)
		return invarg(ctx, val, "dport must be P or P-Q");
	return 0;
}

static int kw_syn(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	l->syn_only = true;
	return 0;
}

static int kw_rate(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	return parse_with_unit(ctx, val, "rate", rate_units, "pps, kpps or mpps",
			       RATE_MAX_PPS, "1000mpps", &l->rate_pps);
}

static int kw_burst(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	return parse_number(ctx, val, "burst", 1, BURST_MAX, &l->burst);
}

static int kw_bytes(struct parse_ctx *ctx, const char *kw, const char *val, struct perim_limit_spec *l)
{
	uint64_t bits;
	int err = parse_with_unit(ctx, val, "bytes", bit_units, "kbit, mbit or gbit",
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
		return "cgroup must be an absolute path of a cgroup v2 directory";
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
 * Checks between keywords, after all are read so that order does not
 * matter. `syn` without a proto means TCP; with another proto it is an error.
 */
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
	    (err = parse_number(ctx, tok, "rule id", 1, UINT32_MAX, &id)))
		return err;
	ctx->cmd->rule_id = id;
	return no_more_args(ctx);
}

static int parse_limit_list(struct parse_ctx *ctx)
{
	ctx->cmd->kind = PERIM_CMD_LIMIT_LIST;
	return take_optional_dev(ctx);
}

/* ---- shape ---- */

static int shape_rate(struct parse_ctx *ctx, const char *tok, struct perim_shape_spec *s)
{
	return parse_with_unit(ctx, tok, "rate", bit_units, "kbit, mbit or gbit",
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

/* ---- allow, deny ---- */

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

/* ---- stats, status, events ---- */

static bool looks_like_option(const char *tok)
{
	return tok[0] == '-';
}

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

/* ---- help texts ---- */

static const char help_main[] =
"Usage: perimctl [-j|--json] [-s|--socket PATH] [-h|--help] OBJECT COMMAND [ARGS]\n"
"OBJECT := { attach | detach | limit | shape | syncookie | allow | deny | stats | top | status |\n"
"           events | help }\n"
"  -j, --json     print the daemon's JSON result as one line\n"
"  -s, --socket   the control socket (default: $PERIM_SOCKET, else " "/run/perim/perimd.sock)\n"
"  -h, --help     this text\n"
"Global options come before OBJECT.\n"
"\"perimctl help OBJECT\" or \"perimctl OBJECT help\" explains one object.\n"
"Exit status: 0 success, 1 failure (daemon unreachable, kernel refused), 2 bad input.\n";

static const char help_attach[] =
"Usage: perimctl attach DEV [mode native|skb]\n"
"       perimctl detach DEV\n"
"Attaches perim's XDP program to DEV (a perimeter NIC), or detaches it.\n"
"  mode native   driver mode (XDP_FLAGS_DRV_MODE)\n"
"  mode skb      generic mode, for drivers without XDP\n"
"Without mode, native is tried first and skb is the fallback.\n"
"perim runs in a libxdp dispatcher beside other XDP programs; where the kernel\n"
"cannot host one it loads alone, and \"perimctl status\" says so.\n";

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
"  cgroup PATH    egress: only what sockets of this cgroup v2 directory send\n"
"                 (absolute path); the cgroup shares one bucket unless per-destination\n"
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
"\"limit set\" prints the new rule's id (\"rule N on DEV\"); \"limit\" alone lists.\n"
"Each keyword may be given once, in any order.\n";

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

static const char help_help[] =
"Usage: perimctl help [OBJECT]\n"
"       perimctl OBJECT help\n"
"Prints the help of one object, or the overview.\n";

static const struct {
	const char *object;
	const char *text;
} help_texts[] = {
	{ "attach", help_attach }, { "detach", help_attach }, { "limit", help_limit },
	{ "allow", help_allow }, { "deny", help_deny }, { "stats", help_stats },
	{ "status", help_status }, { "events", help_events }, { "help", help_help },
	{ "top", help_top },
	{ "shape", help_shape }, { "syncookie", perim_cmd_help_syncookie },
};

const char *perim_cmd_help(const char *object)
{
	if (!object)
		return help_main;
	for (size_t i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++)
		if (!strcmp(help_texts[i].object, object))
			return help_texts[i].text;
	return NULL;
}

static bool is_help_word(const char *w)
{
	return !strcmp(w, "-h") || !strcmp(w, "--help");
}

static int parse_help(struct parse_ctx *ctx)
{
	const char *object = take_arg(ctx);

	ctx->cmd->kind = PERIM_CMD_HELP;
	ctx->cmd->help = perim_cmd_help(object && is_help_word(object) ? "help" : object);
	if (!ctx->cmd->help)
		return invarg(ctx, object, "unknown object; try \"perimctl help\"");
	return no_more_args(ctx);
}

/* ---- dispatch ---- */

struct cmd_handler {
	const char *name;
	int (*parse)(struct parse_ctx *ctx);
};

static const struct cmd_handler limit_cmds[] = {
	{ "set", parse_limit_set }, { "del", parse_limit_del }, { "list", parse_limit_list }, { NULL },
};
static const struct cmd_handler allow_cmds[] = {
	{ "add", parse_allow_add }, { "del", parse_allow_del }, { "list", parse_allow_list }, { NULL },
};
static const struct cmd_handler shape_cmds[] = {
	{ "set", parse_shape_set }, { "del", parse_shape_del }, { "list", parse_shape_list }, { NULL },
};
static const struct cmd_handler deny_cmds[] = {
	{ "add", parse_deny_add }, { "del", parse_deny_del }, { "list", parse_deny_list }, { NULL },
};

/* OBJECT COMMAND: the object alone means its "list". */
static int dispatch(struct parse_ctx *ctx, const struct cmd_handler *table, const char *expected)
{
	const char *name = take_arg(ctx);

	if (!name)
		name = "list";
	for (const struct cmd_handler *h = table; h->name; h++)
		if (!strcmp(h->name, name))
			return h->parse(ctx);
	return invarg(ctx, name, "unknown command; expected %s", expected);
}

static int parse_limit(struct parse_ctx *ctx) { return dispatch(ctx, limit_cmds, "set, del or list"); }
static int parse_allow(struct parse_ctx *ctx) { return dispatch(ctx, allow_cmds, "add, del or list"); }
static int parse_deny(struct parse_ctx *ctx) { return dispatch(ctx, deny_cmds, "add, del or list"); }
static int parse_shape(struct parse_ctx *ctx) { return dispatch(ctx, shape_cmds, "set, del or list"); }
static int parse_syncookie(struct parse_ctx *ctx)
{
	return perim_cmd_syncookie_parse(ctx->argc, ctx->argv, &ctx->pos, ctx->cmd, ctx->err, ctx->errlen);
}

static const struct cmd_handler objects[] = {
	{ "attach", parse_attach }, { "detach", parse_detach }, { "limit", parse_limit },
	{ "allow", parse_allow }, { "deny", parse_deny }, { "stats", parse_stats },
	{ "status", parse_status }, { "events", parse_events }, { "help", parse_help },
	{ "top", parse_top },
	{ "shape", parse_shape }, { "syncookie", parse_syncookie }, { NULL },
};

/* "OBJECT help" or "-h"/"--help" anywhere after OBJECT asks for its help. */
static bool wants_object_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help"))
		return true;
	for (int i = 1; i < argc; i++)
		if (is_help_word(argv[i]))
			return true;
	return false;
}

int perim_cmd_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct parse_ctx ctx = {
		.argc = argc, .argv = argv, .pos = 1, .cmd = cmd, .err = err, .errlen = errlen,
	};

	memset(cmd, 0, sizeof(*cmd));
	cmd->slot = -1;
	cmd->limit.per_source = true;
	if (err && errlen)
		err[0] = '\0';
	if (argc < 1)
		return invarg(&ctx, "", "missing OBJECT; try \"perimctl help\"");
	for (const struct cmd_handler *o = objects; o->name; o++) {
		if (strcmp(o->name, argv[0]))
			continue;
		if (o->parse != parse_help && wants_object_help(argc, argv)) {
			cmd->kind = PERIM_CMD_HELP;
			cmd->help = perim_cmd_help(o->name);
			return 0;
		}
		return o->parse(&ctx);
	}
	if (is_help_word(argv[0])) {
		cmd->kind = PERIM_CMD_HELP;
		cmd->help = help_main;
		return 0;
	}
	return invarg(&ctx, argv[0], "unknown object; try \"perimctl help\"");
}

/* ---- formatting for the state file ---- */

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case PERIM_PROTO_ANY: return "any";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	default: return NULL;
	}
}

/* The largest unit that expresses v exactly (units ascend). */
static const struct unit *exact_unit(const struct unit *units, uint64_t v)
{
	const struct unit *best = units;

	for (const struct unit *u = units; u->name; u++)
		if (v % u->mult == 0)
			best = u;
	return best;
}

struct out {
	char *buf;
	size_t len;
	int total;
};

__attribute__((format(printf, 2, 3)))
static void out_add(struct out *o, const char *fmt, ...)
{
	size_t used = (size_t)o->total < o->len ? (size_t)o->total : o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + used : NULL, o->len - used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->total += n;
}

/*
 * Writes what perim_cmd_parse reads back into the same spec. A byte rate is
 * printed in the largest exact unit; one that is no whole number of kbit
 * (never produced by the parser) is rounded up to the next kbit.
 */
int perim_limit_format(const char *dev, const struct perim_limit_spec *l, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = buf ? len : 0 };
	const char *proto = proto_name(l->proto);
	const struct unit *u;
	char src[64];

	if (!proto || !l->rate_pps)
		return -EINVAL;
	if (buf && len)
		buf[0] = '\0';
	out_add(&o, "limit set %s", dev);
	if (l->id)
		out_add(&o, " id %u", l->id);
	if (l->egress)
		out_add(&o, " dir egress");
	if (l->egress && l->has_dst) {
		if (perim_prefix_format(&l->dst, src, sizeof(src)) < 0)
			return -EINVAL;
		out_add(&o, " dst %s", src);
	}
	if (l->egress && l->cgroup[0]) {
		if (cgroup_path_problem(l->cgroup))
			return -EINVAL;
		out_add(&o, " cgroup %s", l->cgroup);
	}
	if (l->has_src && !l->egress) {
		if (perim_prefix_format(&l->src, src, sizeof(src)) < 0)
			return -EINVAL;
		out_add(&o, " src %s", src);
	}
	if (l->proto != PERIM_PROTO_ANY)
		out_add(&o, " proto %s", proto);
	if (l->dport_lo && l->dport_lo == l->dport_hi)
		out_add(&o, " dport %u", l->dport_lo);
	else if (l->dport_lo)
		out_add(&o, " dport %u-%u", l->dport_lo, l->dport_hi);
	if (l->syn_only)
		out_add(&o, " syn");
	u = exact_unit(rate_units, l->rate_pps);
	out_add(&o, " rate %llu%s", (unsigned long long)(l->rate_pps / u->mult), u->name);
	if (l->burst)
		out_add(&o, " burst %llu", (unsigned long long)l->burst);
	if (l->bytes_per_s) {
		uint64_t bits = l->bytes_per_s * 8;

		if (bits % 1000)
			bits += 1000 - bits % 1000;
		u = exact_unit(bit_units, bits);
		out_add(&o, " bytes %llu%s", (unsigned long long)(bits / u->mult), u->name);
	}
	out_add(&o, " %s", !l->per_source ? "aggregate" : l->egress ? "per-destination" : "per-source");
	if (l->block_s)
		out_add(&o, " block %u", l->block_s);
	if (l->dry_run)
		out_add(&o, " dry-run");
	return o.total;
}

int perim_shape_format(const char *dev, const struct perim_shape_spec *s, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = buf ? len : 0 };
	const struct unit *u;

	if (!s->rate_bits || s->rate_bits % 1000)
		return -EINVAL;
	if (buf && len)
		buf[0] = '\0';
	u = exact_unit(bit_units, s->rate_bits);
	out_add(&o, "shape set %s rate %llu%s", dev, (unsigned long long)(s->rate_bits / u->mult), u->name);
	if (s->burst_bytes)
		out_add(&o, " burst %llu", (unsigned long long)s->burst_bytes);
	if (s->latency_ms)
		out_add(&o, " latency %u", s->latency_ms);
	return o.total;
}

int perim_attach_format(const char *dev, enum perim_xdp_mode mode, int slot, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = buf ? len : 0 };

	if (buf && len)
		buf[0] = '\0';
	out_add(&o, "attach %s", dev);
	if (mode == PERIM_MODE_NATIVE)
		out_add(&o, " mode native");
	else if (mode == PERIM_MODE_SKB)
		out_add(&o, " mode skb");
	if (slot >= 0)
		out_add(&o, " slot %d", slot);
	return o.total;
}
