// SPDX-License-Identifier: GPL-2.0
/*
 * protect add|del DEV PREFIX [proto tcp|udp] [dport P[-Q]], protect list [DEV]:
 * sources whose matching packets pass before any deny, limit, block or SYN
 * check (the management access an operator must not cut).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_protect.h"
#include "perim.h"

const char perim_cmd_protect_help[] =
"Usage: perimctl protect add DEV PREFIX [proto tcp|udp] [dport P[-Q]]\n"
"       perimctl protect del DEV PREFIX [proto tcp|udp] [dport P[-Q]]\n"
"       perimctl protect list [DEV]\n"
"Packets from PREFIX (to port P..Q of that protocol, if given) arriving on DEV\n"
"pass before any deny, limit, block or SYN check, counted as protected\n"
"(perimctl stats). For the management access an operator must keep: e.g.\n"
"  perimctl protect add eth0 192.0.2.10/32 proto tcp dport 22\n"
"perimctl refuses a deny or limit that would hit the source of the caller's\n"
"own SSH session ($SSH_CONNECTION) unless that source is protected or the\n"
"command ends in --force.\n";

static int bad(char *err, size_t errlen, const char *token, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, why);
	return PERIM_EXIT_BADINPUT;
}

static int parse_port(const char *s, const char **end, uint16_t *port)
{
	char *e;
	unsigned long v;

	if (*s < '1' || *s > '9')
		return -1;
	v = strtoul(s, &e, 10);
	if (v > 65535)
		return -1;
	*port = v;
	*end = e;
	return 0;
}

static int parse_dport(const char *tok, struct perim_protect_spec *p, char *err, size_t errlen)
{
	const char *end;

	if (parse_port(tok, &end, &p->dport_lo))
		return bad(err, errlen, tok, "dport is a port 1-65535 or a range P-Q");
	p->dport_hi = p->dport_lo;
	if (*end == '-' && (parse_port(end + 1, &end, &p->dport_hi) || p->dport_hi < p->dport_lo))
		return bad(err, errlen, tok, "dport is a port 1-65535 or a range P-Q");
	if (*end)
		return bad(err, errlen, tok, "dport is a port 1-65535 or a range P-Q");
	return 0;
}

static int parse_dev(const char *tok, struct perim_cmd *cmd, char *err, size_t errlen)
{
	if (!tok[0] || strlen(tok) >= sizeof(cmd->dev) || strpbrk(tok, "/: \t\n"))
		return bad(err, errlen, tok, "not an interface name");
	strcpy(cmd->dev, tok);
	return 0;
}

/* DEV PREFIX [proto tcp|udp] [dport P[-Q]] */
static int parse_entry(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct perim_protect_spec *p = &cmd->protect;
	bool seen_proto = false, seen_dport = false;
	int ret;

	if (argc < 4)
		return bad(err, errlen, argv[argc - 1], argc < 3 ? "missing DEV after it" : "missing PREFIX after it");
	if ((ret = parse_dev(argv[2], cmd, err, errlen)))
		return ret;
	if (perim_prefix_parse(argv[3], &p->prefix))
		return bad(err, errlen, argv[3], "not an address prefix (ADDR/LEN, host bits clear)");
	for (int i = 4; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return bad(err, errlen, kw, strcmp(kw, "proto") && strcmp(kw, "dport") ? "unexpected argument"
				   : "missing its value after it");
		if (!strcmp(kw, "proto") && !seen_proto) {
			seen_proto = true;
			if (!strcmp(val, "tcp"))
				p->proto = IPPROTO_TCP;
			else if (!strcmp(val, "udp"))
				p->proto = IPPROTO_UDP;
			else
				return bad(err, errlen, val, "proto is tcp or udp");
		} else if (!strcmp(kw, "dport") && !seen_dport) {
			seen_dport = true;
			if ((ret = parse_dport(val, p, err, errlen)))
				return ret;
		} else {
			return bad(err, errlen, kw, "unknown or repeated keyword; expected proto or dport");
		}
	}
	if (seen_dport && !seen_proto)
		return bad(err, errlen, "dport", "needs proto tcp or udp");
	return 0;
}

int perim_cmd_protect_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	const char *sub = argc > 1 ? argv[1] : "list";

	if (!strcmp(sub, "help") || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		cmd->kind = PERIM_CMD_HELP;
		cmd->help = perim_cmd_protect_help;
		return 0;
	}
	if (!strcmp(sub, "list")) {
		cmd->kind = PERIM_CMD_PROTECT_LIST;
		if (argc > 3)
			return bad(err, errlen, argv[3], "unexpected argument");
		return argc == 3 ? parse_dev(argv[2], cmd, err, errlen) : 0;
	}
	if (strcmp(sub, "add") && strcmp(sub, "del"))
		return bad(err, errlen, sub, "unknown command; expected add, del or list");
	cmd->kind = !strcmp(sub, "add") ? PERIM_CMD_PROTECT_ADD : PERIM_CMD_PROTECT_DEL;
	return parse_entry(argc, argv, cmd, err, errlen);
}

int perim_protect_format(const char *dev, const struct perim_protect_spec *p, char *buf, size_t len)
{
	char prefix[64];
	int n;

	if (perim_prefix_format(&p->prefix, prefix, sizeof(prefix)) < 0)
		return -1;
	n = snprintf(buf, len, "protect add %s %s", dev, prefix);
	if (p->proto && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " proto %s", p->proto == IPPROTO_TCP ? "tcp" : "udp");
	if (p->dport_lo && n >= 0 && (size_t)n < len) {
		if (p->dport_lo == p->dport_hi)
			n += snprintf(buf + n, len - n, " dport %u", p->dport_lo);
		else
			n += snprintf(buf + n, len - n, " dport %u-%u", p->dport_lo, p->dport_hi);
	}
	return n;
}
