// SPDX-License-Identifier: GPL-2.0
/*
 * The syncookie object of perimctl's command language:
 *
 *   syncookie set DEV [dst PREFIX] [dport P[-Q]] [mss N] [wscale N] [dry-run]
 *   syncookie del DEV [dst PREFIX] [dport P[-Q]]
 *   syncookie list [DEV]
 *
 * Same wording for bad input as cmd.c's invarg(); keywords matched exactly,
 * each at most once.
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "perim_syn.h"

struct syn_parse {
	int argc;
	char **argv;
	int *pos;
	struct perim_cmd *cmd;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int invarg(struct syn_parse *p, const char *token, const char *why, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, why);
	vsnprintf(reason, sizeof(reason), why, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "Error: argument \"%s\" is wrong: %s", token, reason);
	return PERIM_EXIT_BADINPUT;
}

static const char *take(struct syn_parse *p)
{
	return *p->pos < p->argc ? p->argv[(*p->pos)++] : NULL;
}

static int take_value(struct syn_parse *p, const char *kw, const char *what, const char **val)
{
	*val = take(p);
	return *val ? 0 : invarg(p, kw, "missing %s after it", what);
}

/* The kernel's dev_valid_name(), as cmd.c checks it. */
static int parse_dev(struct syn_parse *p, const char *tok)
{
	size_t len = strnlen(tok, IF_NAMESIZE);

	if (len == 0)
		return invarg(p, tok, "interface name is empty");
	if (len >= IF_NAMESIZE)
		return invarg(p, tok, "interface name is longer than 15 bytes");
	if (!strcmp(tok, ".") || !strcmp(tok, ".."))
		return invarg(p, tok, "not a valid interface name");
	for (const char *c = tok; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return invarg(p, tok, "interface name contains '/', ':' or whitespace");
	strcpy(p->cmd->dev, tok);
	return 0;
}

static int take_dev(struct syn_parse *p, const char *command)
{
	const char *tok;

	return take_value(p, command, "DEV", &tok) ?: parse_dev(p, tok);
}

/* A whole decimal token in [lo, hi]. */
static int parse_number(struct syn_parse *p, const char *tok, const char *what, unsigned long lo,
			unsigned long hi, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)tok[0]))
		return invarg(p, tok, "%s must be a decimal number", what);
	errno = 0;
	*v = strtoul(tok, &end, 10);
	if (*end)
		return invarg(p, tok, "%s must be a decimal number", what);
	if (errno == ERANGE || *v < lo || *v > hi)
		return invarg(p, tok, "%s must be %lu..%lu", what, lo, hi);
	return 0;
}

static int parse_port(struct syn_parse *p, const char *tok, const char *s, char **end, uint16_t *port)
{
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return invarg(p, tok, "port must be 1..65535");
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno == ERANGE || v < 1 || v > 65535)
		return invarg(p, tok, "port must be 1..65535");
	*port = (uint16_t)v;
	return 0;
}

static int parse_dport(struct syn_parse *p, const char *tok, struct perim_syn_spec *s)
{
	char *end;
	int err = parse_port(p, tok, tok, &end, &s->dport_lo);

	if (err)
		return err;
	s->dport_hi = s->dport_lo;
	if (*end == '-') {
		if ((err = parse_port(p, tok, end + 1, &end, &s->dport_hi)))
			return err;
		if (s->dport_lo > s->dport_hi)
			return invarg(p, tok, "port range must be low-high");
	}
	if (*end)
		return invarg(p, tok, "dport must be P or P-Q");
	return 0;
}

static int parse_dst(struct syn_parse *p, const char *tok, struct perim_syn_spec *s)
{
	if (perim_prefix_parse(tok, &s->dst))
		return invarg(p, tok, "not an IPv4 or IPv6 prefix without host bits");
	s->has_dst = true;
	return 0;
}

enum syn_kw { KW_DST = 1, KW_DPORT = 2, KW_MSS = 4, KW_WSCALE = 8, KW_DRY_RUN = 16 };

static int parse_keyword(struct syn_parse *p, const char *kw, unsigned allowed, unsigned *seen)
{
	struct perim_syn_spec *s = &p->cmd->syn;
	static const struct { const char *name; unsigned bit; const char *what; } kws[] = {
		{ "dst", KW_DST, "PREFIX" }, { "dport", KW_DPORT, "P[-Q]" }, { "mss", KW_MSS, "N" },
		{ "wscale", KW_WSCALE, "N" }, { "dry-run", KW_DRY_RUN, NULL },
	};
	unsigned long v;
	const char *val = NULL;
	unsigned bit = 0;
	int err;

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (!strcmp(kw, kws[i].name) && (kws[i].bit & allowed)) {
			bit = kws[i].bit;
			if (kws[i].what && (err = take_value(p, kw, kws[i].what, &val)))
				return err;
		}
	if (!bit)
		return invarg(p, kw, allowed & KW_MSS ? "expected dst, dport, mss, wscale or dry-run"
						      : "expected dst or dport");
	if (*seen & bit)
		return invarg(p, kw, "given twice");
	*seen |= bit;
	switch (bit) {
	case KW_DST:
		return parse_dst(p, val, s);
	case KW_DPORT:
		return parse_dport(p, val, s);
	case KW_MSS:
		if ((err = parse_number(p, val, "mss", PERIM_SYN_MSS_MIN, PERIM_SYN_MSS_MAX, &v)))
			return err;
		s->mss = (uint16_t)v;
		return 0;
	case KW_WSCALE:
		if ((err = parse_number(p, val, "wscale", 0, PERIM_SYN_WSCALE_MAX, &v)))
			return err;
		s->wscale = (uint8_t)v;
		s->has_wscale = true;
		return 0;
	default:
		s->dry_run = true;
		return 0;
	}
}

static int parse_change(struct syn_parse *p, enum perim_cmd_kind kind, const char *command, unsigned allowed)
{
	unsigned seen = 0;
	const char *kw;
	int err;

	p->cmd->kind = kind;
	if ((err = take_dev(p, command)))
		return err;
	while ((kw = take(p)))
		if ((err = parse_keyword(p, kw, allowed, &seen)))
			return err;
	return 0;
}

static int parse_list(struct syn_parse *p)
{
	const char *tok = take(p);
	int err;

	p->cmd->kind = PERIM_CMD_SYN_LIST;
	if (tok && (err = parse_dev(p, tok)))
		return err;
	tok = take(p);
	return tok ? invarg(p, tok, "unexpected argument") : 0;
}

int perim_cmd_syncookie_parse(int argc, char **argv, int *pos, struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct syn_parse p = { argc, argv, pos, cmd, err, errlen };
	const char *verb = take(&p);

	if (!verb)
		return parse_list(&p);
	if (!strcmp(verb, "set"))
		return parse_change(&p, PERIM_CMD_SYN_SET, "set", KW_DST | KW_DPORT | KW_MSS | KW_WSCALE | KW_DRY_RUN);
	if (!strcmp(verb, "del"))
		return parse_change(&p, PERIM_CMD_SYN_DEL, "del", KW_DST | KW_DPORT);
	if (!strcmp(verb, "list"))
		return parse_list(&p);
	return invarg(&p, verb, "unknown command; expected set, del or list");
}

int perim_syn_format(const char *dev, const struct perim_syn_spec *s, char *buf, size_t len)
{
	char dst[64] = "", dport[24] = "", mss[16] = "";

	if (s->has_dst) {
		memcpy(dst, " dst ", 5);
		perim_prefix_format(&s->dst, dst + 5, sizeof(dst) - 5);
	}
	if (s->dport_hi)
		snprintf(dport, sizeof(dport), s->dport_lo == s->dport_hi ? " dport %u" : " dport %u-%u",
			 s->dport_lo, s->dport_hi);
	if (s->mss)
		snprintf(mss, sizeof(mss), " mss %u", s->mss);
	return snprintf(buf, len, "syncookie set %s%s%s%s wscale %u%s", dev, dst, dport, mss,
			s->has_wscale ? s->wscale : PERIM_SYN_WSCALE_DEFAULT, s->dry_run ? " dry-run" : "");
}

const char perim_cmd_help_syncookie[] =
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
