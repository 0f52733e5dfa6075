// SPDX-License-Identifier: GPL-2.0
/*
 * The parse core of perimctl's command language. iproute2 style: keywords
 * matched exactly, every bad token reported by invarg() in one wording,
 * values read strictly (no signs, no leading zeros, units glued on).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int invarg(struct parse_ctx *ctx, const char *token, const char *why, ...)
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

/* ---- walking the words ---- */

static bool more_args(const struct parse_ctx *ctx)
{
	return ctx->pos < ctx->argc;
}

static const char *peek_arg(const struct parse_ctx *ctx)
{
	return more_args(ctx) ? ctx->argv[ctx->pos] : NULL;
}

const char *take_arg(struct parse_ctx *ctx)
{
	return more_args(ctx) ? ctx->argv[ctx->pos++] : NULL;
}

int next_arg(struct parse_ctx *ctx, const char *kw, const char *what, const char **val)
{
	*val = take_arg(ctx);
	if (!*val)
		return invarg(ctx, kw, "missing %s after it", what);
	return 0;
}

int no_more_args(struct parse_ctx *ctx)
{
	const char *extra = peek_arg(ctx);

	if (extra)
		return invarg(ctx, extra, "unexpected argument");
	return 0;
}

bool looks_like_option(const char *tok)
{
	return tok[0] == '-';
}

int dispatch_command(struct parse_ctx *ctx, const struct cmd_handler *table, const char *expected)
{
	const char *name = take_arg(ctx);

	if (!name)
		name = "list";
	for (const struct cmd_handler *h = table; h->name; h++)
		if (!strcmp(h->name, name))
			return h->parse(ctx);
	return invarg(ctx, name, "unknown command; expected %s", expected);
}

/* ---- numbers ---- */

int parse_digits(const char *s, uint64_t *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && isdigit((unsigned char)s[1]))
		return -EDOM;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*end = e;
	return 0;
}

int parse_number(struct parse_ctx *ctx, const char *tok, const char *what,
		 uint64_t lo, uint64_t hi, uint64_t *v)
{
	const char *end;
	int err = parse_digits(tok, v, &end);

	if (err == -ERANGE)
		return invarg(ctx, tok, "%s is too large (at most %llu)", what, (unsigned long long)hi);
	if (err == -EDOM)
		return invarg(ctx, tok, "%s must not have leading zeros", what);
	if (err || *end)
		return invarg(ctx, tok, "%s must be a decimal number", what);
	if (*v < lo || *v > hi)
		return invarg(ctx, tok, "%s must be %llu..%llu", what,
			      (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

int parse_with_unit(struct parse_ctx *ctx, const char *tok, const char *what,
		    const struct perim_unit *units, const char *unit_names,
		    uint64_t max, const char *max_text, uint64_t *out)
{
	const struct perim_unit *u;
	const char *end;
	uint64_t n;
	int err = parse_digits(tok, &n, &end);

	if (err == -ERANGE)
		return invarg(ctx, tok, "%s is too large (at most %s)", what, max_text);
	if (err == -EDOM)
		return invarg(ctx, tok, "%s must not have leading zeros", what);
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

int parse_port(struct parse_ctx *ctx, const char *tok, const char *s, const char **end, uint16_t *port)
{
	uint64_t v;
	int err = parse_digits(s, &v, end);

	if (err == -EDOM)
		return invarg(ctx, tok, "port must not have leading zeros");
	if (err || v < 1 || v > 65535)
		return invarg(ctx, tok, "port must be 1..65535");
	*port = v;
	return 0;
}

int parse_port_range(struct parse_ctx *ctx, const char *tok, uint16_t *lo, uint16_t *hi)
{
	const char *end;
	int err = parse_port(ctx, tok, tok, &end, lo);

	if (err)
		return err;
	*hi = *lo;
	if (*end == '-') {
		if ((err = parse_port(ctx, tok, end + 1, &end, hi)))
			return err;
		if (*lo > *hi)
			return invarg(ctx, tok, "port range must be low-high");
	}
	if (*end)
		return invarg(ctx, tok, "dport must be P or P-Q");
	return 0;
}

/* ---- devices ---- */

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

int parse_dev(struct parse_ctx *ctx, const char *tok, char dev[IF_NAMESIZE])
{
	const char *why = dev_name_problem(tok);

	if (why)
		return invarg(ctx, tok, "%s", why);
	strcpy(dev, tok);
	return 0;
}

int take_dev(struct parse_ctx *ctx, const char *command)
{
	const char *tok;
	int err = next_arg(ctx, command, "DEV", &tok);

	return err ?: parse_dev(ctx, tok, ctx->cmd->dev);
}

int take_optional_dev(struct parse_ctx *ctx)
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
		memcpy(p->addr, perim_v4_mapped_prefix, sizeof(perim_v4_mapped_prefix));
		max_len = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		max_len = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	len = max_len;
	if (slash && parse_digits(slash + 1, &len, &end) == -EDOM)
		return "prefix length must not have leading zeros";
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

int parse_prefix(struct parse_ctx *ctx, const char *tok, struct perim_prefix *p)
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

/* ---- formatter output ---- */

struct out out_start(char *buf, size_t len)
{
	if (buf && len)
		buf[0] = '\0';
	return (struct out){ .buf = buf, .len = buf ? len : 0 };
}

void out_str(struct out *o, const char *s)
{
	size_t n = strlen(s), used = (size_t)o->total < o->len ? (size_t)o->total : o->len, room;

	if (o->buf && used < o->len) {
		room = o->len - used - 1;
		memcpy(o->buf + used, s, n < room ? n : room);
		o->buf[used + (n < room ? n : room)] = '\0';
	}
	o->total += n;
}

void out_uint(struct out *o, uint64_t v)
{
	char digits[24], *p = digits + sizeof(digits) - 1;

	*p = '\0';
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	out_str(o, p);
}

void out_add(struct out *o, const char *fmt, ...)
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
