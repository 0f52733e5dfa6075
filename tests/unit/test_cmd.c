// SPDX-License-Identifier: GPL-2.0
/* The command parser shared by perimctl and perimd: every keyword, unit and bad-input class. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "cmd.h"
#include "names.h"
#include "perim.h"
#include "test.h"

#define MAX_WORDS 64

struct parsed {
	struct perim_cmd cmd;
	char err[512];
	int ret;
};

/* Splits line on spaces (no quoting needed by any test) and parses it. */
static struct parsed parse_line(const char *line)
{
	static char copy[1024];
	char *argv[MAX_WORDS], *save = NULL, *w;
	struct parsed p;
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w && argc < MAX_WORDS; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	p.ret = perim_cmd_parse(argc, argv, &p.cmd, p.err, sizeof(p.err));
	return p;
}

static bool parses_ok(const char *line, struct parsed *out)
{
	*out = parse_line(line);
	if (out->ret)
		fprintf(stderr, "  \"%s\": %s\n", line, out->err);
	return ASSERT_OK(out->ret, line);
}

/* Bad input: exit code 2, one line, naming exactly token, with why in the reason. */
static bool rejects(const char *line, const char *token, const char *why)
{
	struct parsed p = parse_line(line);
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "Error: argument \"%s\" is wrong: ", token);
	if (!ASSERT_EQ(p.ret, PERIM_EXIT_BADINPUT, line))
		return false;
	if (!ASSERT_TRUE(!strncmp(p.err, prefix, strlen(prefix)), line)) {
		fprintf(stderr, "  got: %s\n  want prefix: %s\n", p.err, prefix);
		return false;
	}
	if (!ASSERT_TRUE(strchr(p.err, '\n') == NULL, "one line"))
		return false;
	if (why && !ASSERT_TRUE(strstr(p.err, why) != NULL, line)) {
		fprintf(stderr, "  got: %s\n  want it to contain: %s\n", p.err, why);
		return false;
	}
	return true;
}

static bool limit_eq(const struct perim_limit_spec *a, const struct perim_limit_spec *b)
{
	return a->id == b->id && a->has_src == b->has_src &&
	       (!a->has_src || (!memcmp(a->src.addr, b->src.addr, 16) && a->src.len == b->src.len &&
				a->src.is_v4 == b->src.is_v4)) &&
	       a->proto == b->proto && a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi &&
	       a->syn_only == b->syn_only && a->rate_pps == b->rate_pps && a->burst == b->burst &&
	       a->bytes_per_s == b->bytes_per_s && a->per_source == b->per_source &&
	       a->block_s == b->block_s && a->dry_run == b->dry_run && a->egress == b->egress &&
	       a->has_dst == b->has_dst &&
	       (!a->has_dst || (!memcmp(a->dst.addr, b->dst.addr, 16) && a->dst.len == b->dst.len &&
				a->dst.is_v4 == b->dst.is_v4)) &&
	       !strcmp(a->cgroup, b->cgroup);
}

/* format(spec) parses back to spec. */
static bool round_trips(const struct perim_limit_spec *l, const char *dev)
{
	char line[512];
	struct parsed p;
	int n = perim_limit_format(dev, l, line, sizeof(line));

	if (!ASSERT_RANGE(n, 1, (int)sizeof(line) - 1, "format length"))
		return false;
	if (!ASSERT_EQ(strlen(line), n, "returned length"))
		return false;
	if (!parses_ok(line, &p))
		return false;
	if (!ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_SET, line) || !ASSERT_STREQ(p.cmd.dev, dev, "dev"))
		return false;
	if (!ASSERT_TRUE(limit_eq(&p.cmd.limit, l), line))
		return false;
	return true;
}

/* ---- attach, detach ---- */

static void test_attach(void)
{
	struct parsed p;

	if (!parses_ok("attach eth0", &p))
		return;
	ASSERT_EQ(p.cmd.kind, PERIM_CMD_ATTACH, "kind");
	ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
	ASSERT_EQ(p.cmd.mode, PERIM_MODE_DEFAULT, "default mode");
	ASSERT_EQ(p.cmd.slot, -1, "slot unassigned");
	if (parses_ok("attach eth0 mode native", &p))
		ASSERT_EQ(p.cmd.mode, PERIM_MODE_NATIVE, "native");
	if (parses_ok("attach eth0 mode skb slot 7", &p)) {
		ASSERT_EQ(p.cmd.mode, PERIM_MODE_SKB, "skb");
		ASSERT_EQ(p.cmd.slot, 7, "slot");
	}
	if (parses_ok("attach eth0 slot 0 mode native", &p))
		ASSERT_EQ(p.cmd.slot, 0, "slot 0, any order");
	if (parses_ok("attach eth0 slot 63", &p))
		ASSERT_EQ(p.cmd.slot, 63, "last slot");
	rejects("attach", "attach", "missing DEV");
	rejects("attach eth0 mode", "mode", "missing native|skb");
	rejects("attach eth0 mode xdp", "xdp", "native or skb");
	rejects("attach eth0 mode Native", "Native", "native or skb");
	rejects("attach eth0 mode skb mode native", "mode", "twice");
	rejects("attach eth0 slot 64", "64", "0..63");
	rejects("attach eth0 slot -1", "-1", "decimal");
	rejects("attach eth0 slot 1 slot 2", "slot", "twice");
	rejects("attach eth0 nat", "nat", "unknown keyword");
}

static void test_detach(void)
{
	struct parsed p;

	if (parses_ok("detach veth-gw0", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_DETACH, "kind");
		ASSERT_STREQ(p.cmd.dev, "veth-gw0", "dev");
	}
	rejects("detach", "detach", "missing DEV");
	rejects("detach eth0 now", "now", "unexpected");
}

/* dev_valid_name(): 1..15 bytes, not . or .., no '/', ':' or whitespace. */
static void test_dev_names(void)
{
	struct parsed p;
	char line[128];

	if (parses_ok("detach abcdefghijklmno", &p))
		ASSERT_STREQ(p.cmd.dev, "abcdefghijklmno", "15 bytes");
	parses_ok("detach eth0.100", &p);
	parses_ok("detach br-lan_1", &p);
	rejects("detach abcdefghijklmnop", "abcdefghijklmnop", "15 bytes");
	rejects("detach eth/0", "eth/0", "'/'");
	rejects("detach eth0:1", "eth0:1", "':'");
	rejects("detach .", ".", "not a valid");
	rejects("detach ..", "..", "not a valid");
	rejects("limit set a/b rate 1pps", "a/b", NULL);
	rejects("stats x:y", "x:y", NULL);
	rejects("allow list a/b", "a/b", NULL);
	/* whitespace cannot come through parse_line's splitting: build argv by hand */
	{
		char *argv[] = { "detach", "eth 0" };
		char err[256];

		ASSERT_EQ(perim_cmd_parse(2, argv, &p.cmd, err, sizeof(err)), PERIM_EXIT_BADINPUT, "space");
		snprintf(line, sizeof(line), "Error: argument \"eth 0\" is wrong:");
		ASSERT_TRUE(!strncmp(err, line, strlen(line)), "space named");
		argv[1] = "";
		ASSERT_EQ(perim_cmd_parse(2, argv, &p.cmd, err, sizeof(err)), PERIM_EXIT_BADINPUT, "empty");
		ASSERT_TRUE(strstr(err, "empty") != NULL, "empty named");
	}
}

/* ---- limit set ---- */

static void test_limit_defaults(void)
{
	struct parsed p;

	if (!parses_ok("limit set eth0 rate 100pps", &p))
		return;
	ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_SET, "kind");
	ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
	ASSERT_EQ(p.cmd.limit.id, 0, "id: assign");
	ASSERT_EQ(p.cmd.limit.has_src, false, "src any");
	ASSERT_EQ(p.cmd.limit.proto, PERIM_PROTO_ANY, "proto any");
	ASSERT_EQ(p.cmd.limit.dport_lo, 0, "dport any");
	ASSERT_EQ(p.cmd.limit.dport_hi, 0, "dport any");
	ASSERT_EQ(p.cmd.limit.syn_only, false, "syn");
	ASSERT_EQ(p.cmd.limit.rate_pps, 100, "rate");
	ASSERT_EQ(p.cmd.limit.burst, 0, "burst default");
	ASSERT_EQ(p.cmd.limit.bytes_per_s, 0, "no byte limit");
	ASSERT_EQ(p.cmd.limit.per_source, true, "per-source default");
	ASSERT_EQ(p.cmd.limit.block_s, 0, "no block");
	ASSERT_EQ(p.cmd.limit.dry_run, false, "dry-run");
}

static void test_limit_every_keyword(void)
{
	struct parsed p;
	const struct perim_limit_spec *l = &p.cmd.limit;

	if (!parses_ok("limit set eth1 id 42 src 192.0.2.0/24 proto udp dport 1000-2000 rate 5kpps "
		       "burst 300 bytes 8mbit aggregate block 60 dry-run", &p))
		return;
	ASSERT_STREQ(p.cmd.dev, "eth1", "dev");
	ASSERT_EQ(l->id, 42, "id");
	ASSERT_TRUE(l->has_src, "has_src");
	ASSERT_TRUE(l->src.is_v4, "v4");
	ASSERT_EQ(l->src.len, 96 + 24, "mapped len");
	ASSERT_EQ(l->src.addr[10], 0xff, "mapped");
	ASSERT_EQ(l->src.addr[12], 192, "addr");
	ASSERT_EQ(l->src.addr[14], 2, "addr");
	ASSERT_EQ(l->proto, IPPROTO_UDP, "udp");
	ASSERT_EQ(l->dport_lo, 1000, "dport lo");
	ASSERT_EQ(l->dport_hi, 2000, "dport hi");
	ASSERT_EQ(l->rate_pps, 5000, "rate");
	ASSERT_EQ(l->burst, 300, "burst");
	ASSERT_EQ(l->bytes_per_s, 1000000, "8mbit = 1 MB/s");
	ASSERT_EQ(l->per_source, false, "aggregate");
	ASSERT_EQ(l->block_s, 60, "block");
	ASSERT_EQ(l->dry_run, true, "dry-run");

	if (parses_ok("limit set eth0 per-source proto tcp syn dport 22 rate 1pps", &p)) {
		ASSERT_EQ(l->per_source, true, "per-source");
		ASSERT_EQ(l->proto, IPPROTO_TCP, "tcp");
		ASSERT_EQ(l->syn_only, true, "syn");
		ASSERT_EQ(l->dport_lo, 22, "single port lo");
		ASSERT_EQ(l->dport_hi, 22, "single port hi");
	}
	if (parses_ok("limit set eth0 proto icmp rate 10pps", &p))
		ASSERT_EQ(l->proto, IPPROTO_ICMP, "icmp");
	if (parses_ok("limit set eth0 proto any dport 53 rate 10pps", &p))
		ASSERT_EQ(l->proto, PERIM_PROTO_ANY, "explicit any");
	if (parses_ok("limit set eth0 src 2001:db8::/32 rate 1pps", &p)) {
		ASSERT_TRUE(!l->src.is_v4, "v6");
		ASSERT_EQ(l->src.len, 32, "v6 len");
	}
}

static void test_limit_units(void)
{
	static const struct {
		const char *word;
		uint64_t pps;
	} rates[] = {
		{ "1pps", 1 }, { "250pps", 250 }, { "1kpps", 1000 }, { "12kpps", 12000 },
		{ "1mpps", 1000000 }, { "3mpps", 3000000 }, { "1000mpps", 1000000000 },
		{ "1000000000pps", 1000000000 }, { "1000000kpps", 1000000000 },
	};
	static const struct {
		const char *word;
		uint64_t bytes;
	} bytes[] = {
		{ "1kbit", 125 }, { "8kbit", 1000 }, { "1mbit", 125000 }, { "100mbit", 12500000 },
		{ "1gbit", 125000000 }, { "10gbit", 1250000000 }, { "1000gbit", 125000000000ULL },
	};
	char line[128];
	struct parsed p;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		snprintf(line, sizeof(line), "limit set eth0 rate %s", rates[i].word);
		if (parses_ok(line, &p))
			ASSERT_EQ(p.cmd.limit.rate_pps, rates[i].pps, line);
	}
	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
		snprintf(line, sizeof(line), "limit set eth0 rate 1pps bytes %s", bytes[i].word);
		if (parses_ok(line, &p))
			ASSERT_EQ(p.cmd.limit.bytes_per_s, bytes[i].bytes, line);
	}
}

static void test_limit_bad_numbers(void)
{
	rejects("limit set eth0 rate 100", "100", "needs a unit");
	rejects("limit set eth0 rate 10Kpps", "10Kpps", "needs a unit");
	rejects("limit set eth0 rate 10bps", "10bps", "needs a unit");
	rejects("limit set eth0 rate 10kbit", "10kbit", "pps, kpps or mpps");
	rejects("limit set eth0 rate kpps", "kpps", "number");
	rejects("limit set eth0 rate -5pps", "-5pps", "number");
	rejects("limit set eth0 rate +5pps", "+5pps", "number");
	rejects("limit set eth0 rate 1.5kpps", "1.5kpps", "needs a unit");
	rejects("limit set eth0 rate 0pps", "0pps", "greater than 0");
	rejects("limit set eth0 rate 0mpps", "0mpps", "greater than 0");
	rejects("limit set eth0 rate 1001mpps", "1001mpps", "1000mpps");
	rejects("limit set eth0 rate 1000000001pps", "1000000001pps", "1000mpps");
	rejects("limit set eth0 rate 18446744073709551615mpps", "18446744073709551615mpps", "too large");
	rejects("limit set eth0 rate 18446744073709551616pps", "18446744073709551616pps", "too large");
	rejects("limit set eth0 rate 99999999999999999999999pps", "99999999999999999999999pps", "too large");
	rejects("limit set eth0 rate 1pps bytes 100", "100", "kbit, mbit or gbit");
	rejects("limit set eth0 rate 1pps bytes 1kpps", "1kpps", "kbit, mbit or gbit");
	rejects("limit set eth0 rate 1pps bytes 0kbit", "0kbit", "greater than 0");
	rejects("limit set eth0 rate 1pps bytes 1001gbit", "1001gbit", "1000gbit");
	rejects("limit set eth0 rate 1pps bytes 18446744073709551615gbit", "18446744073709551615gbit", "too large");
	rejects("limit set eth0 rate 1pps burst 0", "0", "1..");
	rejects("limit set eth0 rate 1pps burst 1000000001", "1000000001", "1..");
	rejects("limit set eth0 rate 1pps burst 10p", "10p", "decimal");
	rejects("limit set eth0 rate 1pps burst 99999999999999999999", "99999999999999999999", "too large");
	rejects("limit set eth0 rate 1pps block 0", "0", "1..86400");
	rejects("limit set eth0 rate 1pps block 86401", "86401", "1..86400");
	rejects("limit set eth0 rate 1pps block 10s", "10s", "decimal");
	rejects("limit set eth0 rate 1pps id 0", "0", "1..");
	rejects("limit set eth0 rate 1pps id 4294967296", "4294967296", "1..16383");
	rejects("limit set eth0 rate 1pps id 16384", "16384", "rule id must be 1..16383");
	rejects("limit set eth0 rate 1pps id 4294967295", "4294967295", "rule id must be 1..16383");
	rejects("limit del eth0 16384", "16384", "rule id must be 1..16383");
	rejects("limit del eth0 4294967295", "4294967295", "rule id must be 1..16383");
	rejects("limit set eth0 rate 1pps id x", "x", "decimal");

	struct parsed p;

	if (parses_ok("limit set eth0 rate 1pps burst 1 block 86400 id 16383", &p)) {
		ASSERT_EQ(p.cmd.limit.burst, 1, "burst 1");
		ASSERT_EQ(p.cmd.limit.block_s, 86400, "block max");
		ASSERT_EQ(p.cmd.limit.id, 16383u, "id max");
	}
}

/* "08" is not 8: every number of the grammar is refused with a leading zero, naming the token. */
static void test_no_leading_zeros(void)
{
	struct parsed p;

	rejects("allow add eth0 10.0.0.0/08", "10.0.0.0/08", "leading zeros");
	rejects("allow add eth0 2001:db8::/032", "2001:db8::/032", "leading zeros");
	rejects("limit set eth0 src 10.0.0.0/08 rate 1pps", "10.0.0.0/08", "leading zeros");
	rejects("limit set eth0 dir egress dst 10.0.0.0/00 rate 1pps", "10.0.0.0/00", "leading zeros");
	rejects("limit set eth0 proto udp dport 053 rate 1pps", "053", "leading zeros");
	rejects("limit set eth0 proto udp dport 53-080 rate 1pps", "53-080", "leading zeros");
	rejects("limit set eth0 rate 010pps", "010pps", "leading zeros");
	rejects("limit set eth0 rate 00pps", "00pps", "leading zeros");
	rejects("limit set eth0 rate 1pps bytes 01mbit", "01mbit", "leading zeros");
	rejects("limit set eth0 rate 1pps burst 010", "010", "leading zeros");
	rejects("limit set eth0 rate 1pps block 09", "09", "leading zeros");
	rejects("limit set eth0 rate 1pps id 07", "07", "leading zeros");
	rejects("limit del eth0 01", "01", "leading zeros");
	rejects("attach eth0 slot 01", "01", "leading zeros");
	rejects("shape set eth0 rate 010mbit", "010mbit", "leading zeros");
	rejects("shape set eth0 rate 1mbit latency 050", "050", "leading zeros");
	/* zero itself is still a number (and refused or taken on its own merits) */
	if (parses_ok("allow add eth0 0.0.0.0/0", &p))
		ASSERT_EQ(p.cmd.prefix.len, 96, "0.0.0.0/0");
	if (parses_ok("attach eth0 slot 0", &p))
		ASSERT_EQ(p.cmd.slot, 0, "slot 0");
}

static void test_limit_ports(void)
{
	struct parsed p;

	if (parses_ok("limit set eth0 proto tcp dport 1-65535 rate 1pps", &p)) {
		ASSERT_EQ(p.cmd.limit.dport_lo, 1, "lo");
		ASSERT_EQ(p.cmd.limit.dport_hi, 65535, "hi");
	}
	if (parses_ok("limit set eth0 proto udp dport 53-53 rate 1pps", &p))
		ASSERT_EQ(p.cmd.limit.dport_hi, 53, "P-P");
	rejects("limit set eth0 dport 0 rate 1pps", "0", "1..65535");
	rejects("limit set eth0 dport 65536 rate 1pps", "65536", "1..65535");
	rejects("limit set eth0 dport 2000-1000 rate 1pps", "2000-1000", "low-high");
	rejects("limit set eth0 dport 80- rate 1pps", "80-", "1..65535");
	rejects("limit set eth0 dport -80 rate 1pps", "-80", "1..65535");
	rejects("limit set eth0 dport 80x rate 1pps", "80x", "P or P-Q");
	rejects("limit set eth0 dport 80-90-100 rate 1pps", "80-90-100", "P or P-Q");
	rejects("limit set eth0 dport 1-70000 rate 1pps", "1-70000", "1..65535");
	rejects("limit set eth0 proto icmp dport 80 rate 1pps", "dport", "icmp");
	rejects("limit set eth0 dport 80 rate 1pps proto icmp", "dport", "icmp");
}

/* syn implies proto tcp; with any other explicit proto it is an error. */
static void test_limit_syn(void)
{
	struct parsed p;

	if (parses_ok("limit set eth0 syn rate 1kpps", &p)) {
		ASSERT_EQ(p.cmd.limit.syn_only, true, "syn");
		ASSERT_EQ(p.cmd.limit.proto, IPPROTO_TCP, "syn implies tcp");
	}
	if (parses_ok("limit set eth0 syn proto tcp rate 1kpps", &p))
		ASSERT_EQ(p.cmd.limit.proto, IPPROTO_TCP, "tcp after syn");
	rejects("limit set eth0 proto udp syn rate 1pps", "syn", "proto tcp");
	rejects("limit set eth0 syn proto icmp rate 1pps", "syn", "proto tcp");
	rejects("limit set eth0 syn proto any rate 1pps", "syn", "proto tcp");
}

static void test_limit_structure(void)
{
	rejects("limit set eth0", "set", "rate");
	rejects("limit set eth0 burst 5", "set", "rate");
	rejects("limit set", "set", "missing DEV");
	rejects("limit set eth0 rate", "rate", "missing N{pps,kpps,mpps}");
	rejects("limit set eth0 rate 1pps src", "src", "missing PREFIX");
	rejects("limit set eth0 rate 1pps proto", "proto", "missing");
	rejects("limit set eth0 rate 1pps dport", "dport", "missing");
	rejects("limit set eth0 rate 1pps burst", "burst", "missing");
	rejects("limit set eth0 rate 1pps bytes", "bytes", "missing");
	rejects("limit set eth0 rate 1pps block", "block", "missing");
	rejects("limit set eth0 rate 1pps id", "id", "missing");
	rejects("limit set eth0 rate 1pps proto sctp", "sctp", "tcp, udp, icmp or any");
	rejects("limit set eth0 rate 1pps proto TCP", "TCP", "tcp, udp, icmp or any");
	rejects("limit set eth0 rate 1pps foo", "foo", "unknown keyword");
	/* no prefix matching */
	rejects("limit set eth0 ra 1pps", "ra", "unknown keyword");
	rejects("limit set eth0 rate 1pps dry", "dry", "unknown keyword");
	rejects("limit set eth0 rate 1pps per", "per", "unknown keyword");
	rejects("limi set eth0 rate 1pps", "limi", "unknown object");
	rejects("limit s eth0 rate 1pps", "s", "unknown command");
}

static void test_limit_duplicates(void)
{
	static const char *const lines[][2] = {
		{ "limit set eth0 id 1 id 2 rate 1pps", "id" },
		{ "limit set eth0 src 10.0.0.0/8 src 10.0.0.0/8 rate 1pps", "src" },
		{ "limit set eth0 proto tcp proto tcp rate 1pps", "proto" },
		{ "limit set eth0 dport 1 dport 2 rate 1pps", "dport" },
		{ "limit set eth0 syn syn rate 1pps", "syn" },
		{ "limit set eth0 rate 1pps rate 2pps", "rate" },
		{ "limit set eth0 rate 1pps burst 1 burst 2", "burst" },
		{ "limit set eth0 rate 1pps bytes 1kbit bytes 2kbit", "bytes" },
		{ "limit set eth0 rate 1pps per-source per-source", "per-source" },
		{ "limit set eth0 rate 1pps aggregate aggregate", "aggregate" },
		{ "limit set eth0 rate 1pps per-source aggregate", "aggregate" },
		{ "limit set eth0 rate 1pps aggregate per-source", "per-source" },
		{ "limit set eth0 rate 1pps block 1 block 2", "block" },
		{ "limit set eth0 rate 1pps dry-run dry-run", "dry-run" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		rejects(lines[i][0], lines[i][1], "twice");
}

/* ---- prefixes ---- */

static void test_prefixes(void)
{
	static const struct {
		const char *in, *out;
		uint8_t len;
		bool v4;
	} good[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", 104, true },
		{ "192.0.2.7", "192.0.2.7/32", 128, true },
		{ "0.0.0.0/0", "0.0.0.0/0", 96, true },
		{ "203.0.113.128/25", "203.0.113.128/25", 121, true },
		{ "2001:db8::/32", "2001:db8::/32", 32, false },
		{ "2001:db8::1", "2001:db8::1/128", 128, false },
		{ "::/0", "::/0", 0, false },
		{ "fe80::/10", "fe80::/10", 10, false },
		{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", 104, false },
	};
	struct perim_prefix p;
	char buf[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!ASSERT_OK(perim_prefix_parse(good[i].in, &p), good[i].in))
			continue;
		ASSERT_EQ(p.len, good[i].len, good[i].in);
		ASSERT_EQ(p.is_v4, good[i].v4, good[i].in);
		perim_prefix_format(&p, buf, sizeof(buf));
		ASSERT_STREQ(buf, good[i].out, good[i].in);
	}
	if (ASSERT_OK(perim_prefix_parse("198.51.100.9", &p), "mapped")) {
		static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9 };

		ASSERT_TRUE(!memcmp(p.addr, want, 16), "stored IPv4-mapped");
	}
	ASSERT_EQ(perim_prefix_parse("10.0.0.1/8", &p), -EINVAL, "host bits");
	rejects("allow add eth0 10.0.0.1/8", "10.0.0.1/8", "host bits are set; did you mean 10.0.0.0/8?");
	rejects("deny add eth0 2001:db8::1/32", "2001:db8::1/32", "did you mean 2001:db8::/32?");
	rejects("allow add eth0 10.0.0.0/33", "10.0.0.0/33", "0..32");
	rejects("allow add eth0 ::/129", "::/129", "0..128");
	rejects("allow add eth0 10.0.0.0/", "10.0.0.0/", "decimal");
	rejects("allow add eth0 10.0.0.0/x", "10.0.0.0/x", "decimal");
	rejects("allow add eth0 10.0.0.0/-1", "10.0.0.0/-1", "decimal");
	rejects("allow add eth0 /8", "/8", "IPv4 or IPv6");
	rejects("allow add eth0 10.0.0", "10.0.0", "IPv4 or IPv6");
	rejects("allow add eth0 10.0.0.256", "10.0.0.256", "IPv4 or IPv6");
	rejects("allow add eth0 example.com", "example.com", "IPv4 or IPv6");
	rejects("allow add eth0 fe80::1%eth0", "fe80::1%eth0", "IPv4 or IPv6");
	rejects("limit set eth0 src 10.1.2.3/16 rate 1pps", "10.1.2.3/16", "did you mean 10.1.0.0/16?");
}

/* ---- other commands ---- */

static void test_limit_del_list(void)
{
	struct parsed p;

	if (parses_ok("limit del eth0 17", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_DEL, "kind");
		ASSERT_EQ(p.cmd.rule_id, 17, "id");
	}
	rejects("limit del eth0", "del", "missing ID");
	rejects("limit del", "del", "missing DEV");
	rejects("limit del eth0 0", "0", "1..");
	rejects("limit del eth0 x1", "x1", "decimal");
	rejects("limit del eth0 1 2", "2", "unexpected");
	if (parses_ok("limit list", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_LIST, "list");
		ASSERT_STREQ(p.cmd.dev, "", "all devs");
	}
	if (parses_ok("limit list eth2", &p))
		ASSERT_STREQ(p.cmd.dev, "eth2", "one dev");
	if (parses_ok("limit", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_LIST, "limit alone lists");
	rejects("limit list eth0 eth1", "eth1", "unexpected");
}

static void test_allow_deny(void)
{
	static const struct {
		const char *line;
		enum perim_cmd_kind kind;
	} good[] = {
		{ "allow add eth0 10.0.0.0/8", PERIM_CMD_ALLOW_ADD },
		{ "allow del eth0 10.0.0.0/8", PERIM_CMD_ALLOW_DEL },
		{ "deny add eth0 2001:db8::/48", PERIM_CMD_DENY_ADD },
		{ "deny del eth0 2001:db8::/48", PERIM_CMD_DENY_DEL },
		{ "allow list", PERIM_CMD_ALLOW_LIST },
		{ "allow list eth0", PERIM_CMD_ALLOW_LIST },
		{ "allow", PERIM_CMD_ALLOW_LIST },
		{ "deny list", PERIM_CMD_DENY_LIST },
		{ "deny list eth0", PERIM_CMD_DENY_LIST },
		{ "deny", PERIM_CMD_DENY_LIST },
	};
	struct parsed p;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parses_ok(good[i].line, &p))
			ASSERT_EQ(p.cmd.kind, good[i].kind, good[i].line);
	if (parses_ok("deny add eth0 203.0.113.5", &p)) {
		ASSERT_EQ(p.cmd.prefix.len, 128, "host prefix");
		ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
	}
	rejects("allow add eth0", "add", "missing PREFIX");
	rejects("deny del", "del", "missing DEV");
	rejects("allow add eth0 10.0.0.0/8 extra", "extra", "unexpected");
	rejects("allow insert eth0 10.0.0.0/8", "insert", "add, del or list");
	rejects("deny ad eth0 10.0.0.0/8", "ad", "unknown command");
}

static void test_stats_status(void)
{
	struct parsed p;

	if (parses_ok("stats", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_STATS, "kind");
		ASSERT_EQ(p.cmd.watch, false, "no watch");
	}
	if (parses_ok("stats eth0 --watch", &p)) {
		ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
		ASSERT_EQ(p.cmd.watch, true, "watch");
	}
	if (parses_ok("stats -w eth0", &p)) {
		ASSERT_STREQ(p.cmd.dev, "eth0", "dev before");
		ASSERT_EQ(p.cmd.watch, true, "-w");
	}
	rejects("stats eth0 eth1", "eth1", "unexpected");
	rejects("stats --watch -w", "-w", "twice");
	rejects("stats --wat", "--wat", "unknown option");
	if (parses_ok("status", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_STATUS, "status");
	rejects("status eth0", "eth0", "unexpected");
}

static void test_events(void)
{
	struct parsed p;

	if (parses_ok("events", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_EVENTS, "kind");
		ASSERT_EQ(p.cmd.follow, false, "follow");
		ASSERT_STREQ(p.cmd.types, "", "types");
	}
	if (parses_ok("events --follow --type exec,tcp_state", &p)) {
		ASSERT_EQ(p.cmd.follow, true, "follow");
		ASSERT_STREQ(p.cmd.types, "exec,tcp_state", "types");
	}
	if (parses_ok("events --type drop -f", &p))
		ASSERT_EQ(p.cmd.follow, true, "-f");
	rejects("events --type", "--type", "missing");
	rejects("events --type a,,b", "a,,b", "empty");
	rejects("events --type a,", "a,", "empty");
	rejects("events --type Exec", "Exec", "names");
	rejects("events --type a --type b", "--type", "twice");
	rejects("events -f --follow", "--follow", "twice");
	rejects("events now", "now", "unknown option");
}

static void test_help(void)
{
	static const char *const objects[] = {
		"attach", "detach", "limit", "allow", "deny", "stats", "status", "events", "help",
	};
	struct parsed p;
	char line[64];

	ASSERT_OK_PTR(perim_cmd_help(NULL), "overview");
	ASSERT_TRUE(perim_cmd_help(NULL) && strstr(perim_cmd_help(NULL), "Usage: perimctl"), "overview text");
	ASSERT_TRUE(perim_cmd_help("bogus") == NULL, "unknown object");
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		const char *text = perim_cmd_help(objects[i]);

		if (!ASSERT_OK_PTR(text, objects[i]))
			continue;
		ASSERT_TRUE(strstr(text, objects[i]) != NULL, objects[i]);
		snprintf(line, sizeof(line), "help %s", objects[i]);
		if (parses_ok(line, &p)) {
			ASSERT_EQ(p.cmd.kind, PERIM_CMD_HELP, line);
			ASSERT_TRUE(p.cmd.help == text, line);
		}
		snprintf(line, sizeof(line), "%s help", objects[i]);
		if (parses_ok(line, &p))
			ASSERT_TRUE(p.cmd.help == text, line);
		snprintf(line, sizeof(line), "%s -h", objects[i]);
		if (parses_ok(line, &p))
			ASSERT_TRUE(p.cmd.help == text, line);
	}
	if (parses_ok("help", &p))
		ASSERT_TRUE(p.cmd.help == perim_cmd_help(NULL), "help alone");
	if (parses_ok("--help", &p))
		ASSERT_TRUE(p.cmd.help == perim_cmd_help(NULL), "--help");
	if (parses_ok("limit set eth0 rate 1pps --help", &p))
		ASSERT_TRUE(p.cmd.help == perim_cmd_help("limit"), "trailing --help");
	ASSERT_TRUE(strstr(perim_cmd_help("limit"), "implies proto tcp") != NULL, "syn rule documented");
	rejects("help bogus", "bogus", "unknown object");
	rejects("help limit set", "set", "unexpected");
}

static void test_no_object(void)
{
	struct perim_cmd cmd;
	char err[128];

	ASSERT_EQ(perim_cmd_parse(0, NULL, &cmd, err, sizeof(err)), PERIM_EXIT_BADINPUT, "empty argv");
	ASSERT_TRUE(strstr(err, "missing OBJECT") != NULL, "names what is missing");
	rejects("-j limit list", "-j", "unknown object");
	rejects("frobnicate", "frobnicate", "unknown object");
	/* a truncated error buffer still holds a terminated prefix */
	{
		char *argv[] = { "frobnicate" };
		char small[16];

		ASSERT_EQ(perim_cmd_parse(1, argv, &cmd, small, sizeof(small)), PERIM_EXIT_BADINPUT, "small");
		ASSERT_EQ(strlen(small), sizeof(small) - 1, "truncated");
		ASSERT_EQ(perim_cmd_parse(1, argv, &cmd, NULL, 0), PERIM_EXIT_BADINPUT, "no buffer");
	}
}

/* ---- formatting for the state file ---- */

static void test_format_canonical(void)
{
	struct parsed p;
	char line[256];

	if (!parses_ok("limit set eth0 dry-run block 30 aggregate bytes 16000kbit burst 50 rate 20000pps "
		       "syn dport 443 src 10.1.0.0/16 id 3", &p))
		return;
	perim_limit_format("eth0", &p.cmd.limit, line, sizeof(line));
	ASSERT_STREQ(line, "limit set eth0 id 3 src 10.1.0.0/16 proto tcp dport 443 syn rate 20kpps "
		     "burst 50 bytes 16mbit aggregate block 30 dry-run", "canonical order and units");
	if (parses_ok("limit set eth1 rate 1500pps", &p)) {
		perim_limit_format("eth1", &p.cmd.limit, line, sizeof(line));
		ASSERT_STREQ(line, "limit set eth1 rate 1500pps per-source", "minimal");
	}
	ASSERT_EQ(perim_limit_format("eth1", &p.cmd.limit, NULL, 0), strlen(line), "length without buffer");
	{
		char small[10];
		int n = perim_limit_format("eth1", &p.cmd.limit, small, sizeof(small));

		ASSERT_EQ(n, strlen(line), "snprintf-like length");
		ASSERT_STREQ(small, "limit set", "truncated, terminated");
	}
	perim_attach_format("eth3", PERIM_MODE_SKB, 5, line, sizeof(line));
	ASSERT_STREQ(line, "attach eth3 mode skb slot 5", "attach line");
	if (parses_ok(line, &p)) {
		ASSERT_EQ(p.cmd.mode, PERIM_MODE_SKB, "attach round trip mode");
		ASSERT_EQ(p.cmd.slot, 5, "attach round trip slot");
	}
	perim_attach_format("eth3", PERIM_MODE_DEFAULT, -1, line, sizeof(line));
	ASSERT_STREQ(line, "attach eth3", "attach defaults");
	{
		struct perim_limit_spec bad = { .rate_pps = 1, .proto = 99 };

		ASSERT_EQ(perim_limit_format("eth0", &bad, line, sizeof(line)), -EINVAL, "unknown proto");
		bad.proto = 0;
		bad.rate_pps = 0;
		ASSERT_EQ(perim_limit_format("eth0", &bad, line, sizeof(line)), -EINVAL, "no rate");
	}
}

static void test_format_round_trip(void)
{
	static const char *const lines[] = {
		"limit set eth0 rate 1pps",
		"limit set eth0 rate 1mpps aggregate",
		"limit set eth0 rate 1000mpps bytes 1000gbit",
		"limit set eth0 id 9 src ::/0 rate 7kpps",
		"limit set eth0 src 0.0.0.0/0 rate 7kpps",
		"limit set eth0 src 2001:db8:1::/48 proto udp dport 53 rate 100pps burst 1",
		"limit set eth0 src 198.51.100.1 proto tcp dport 1024-65535 syn rate 3kpps block 86400",
		"limit set eth0 proto icmp rate 10pps bytes 1kbit dry-run",
		"limit set eth0 proto any dport 7 rate 10pps bytes 1001kbit",
	};
	struct parsed p;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (parses_ok(lines[i], &p))
			round_trips(&p.cmd.limit, "eth0");
}

/* Random specs of every shape the parser can produce: format, parse back, compare. */
static void test_format_round_trip_random(void)
{
	static const uint8_t protos[] = { PERIM_PROTO_ANY, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	static const uint64_t rate_mult[] = { 1, 1000, 1000000 };
	static const uint64_t bit_mult[] = { 1000, 1000000, 1000000000 };

	srandom(8);
	for (int i = 0; i < 5000; i++) {
		struct perim_limit_spec l = { 0 };

		l.id = random() % 3 ? (uint32_t)(random() % (PERIM_MAX_RULES - 1)) + 1 : 0;
		l.has_src = random() % 2;
		if (l.has_src) {
			l.src.is_v4 = random() % 2;
			for (int b = 0; b < 16; b++)
				l.src.addr[b] = random();
			if (l.src.is_v4) {
				memset(l.src.addr, 0, 10);
				l.src.addr[10] = l.src.addr[11] = 0xff;
				l.src.len = 96 + random() % 33;
			} else {
				l.src.len = random() % 129;
			}
			for (int bit = l.src.len; bit < 128; bit++)
				l.src.addr[bit / 8] &= ~(0x80 >> (bit % 8));
		}
		l.proto = protos[random() % 4];
		if (l.proto != IPPROTO_ICMP && random() % 2) {
			l.dport_lo = 1 + random() % 65535;
			l.dport_hi = l.dport_lo + random() % (65536 - l.dport_lo);
		}
		l.syn_only = l.proto == IPPROTO_TCP && random() % 2;
		l.rate_pps = (1 + random() % 1000) * rate_mult[random() % 3];
		l.burst = random() % 2 ? 1 + random() % 1000000 : 0;
		l.bytes_per_s = random() % 2 ? (1 + random() % 1000) * bit_mult[random() % 3] / 8 : 0;
		l.per_source = random() % 2;
		l.block_s = random() % 2 ? 1 + random() % 86400 : 0;
		l.dry_run = random() % 2;
		if (!round_trips(&l, "veth-perim0"))
			return;
	}
}

/* ---- dir egress ---- */

static void test_egress_limits(void)
{
	struct parsed p;

	if (parses_ok("limit set eth0 dir egress dst 198.51.100.0/24 proto udp dport 53 rate 1kpps", &p)) {
		ASSERT_TRUE(p.cmd.limit.egress, "egress");
		ASSERT_TRUE(p.cmd.limit.has_dst, "has dst");
		ASSERT_EQ(p.cmd.limit.dst.len, 96 + 24, "dst len");
		ASSERT_TRUE(p.cmd.limit.per_source, "per-destination by default");
		ASSERT_TRUE(!(p.cmd.limit.has_src), "no src");
	}
	if (parses_ok("limit set eth0 rate 1kpps dir egress aggregate", &p)) {
		ASSERT_TRUE(p.cmd.limit.egress, "dir after rate");
		ASSERT_TRUE(!(p.cmd.limit.per_source), "aggregate");
	}
	if (parses_ok("limit set eth0 dir egress dst 2001:db8::/32 rate 5pps per-destination", &p))
		ASSERT_TRUE(p.cmd.limit.per_source, "per-destination");
	if (parses_ok("limit set eth0 dir ingress src 10.0.0.0/8 rate 5pps", &p))
		ASSERT_TRUE(!(p.cmd.limit.egress), "explicit ingress");
	if (parses_ok("limit set eth0 dir egress cgroup /sys/fs/cgroup/unified/app rate 100pps", &p)) {
		ASSERT_STREQ(p.cmd.limit.cgroup, "/sys/fs/cgroup/unified/app", "cgroup path");
		ASSERT_TRUE(!(p.cmd.limit.per_source), "a cgroup shares one bucket by default");
	}
	if (parses_ok("limit set eth0 dir egress cgroup /a per-destination proto tcp dport 443 rate 1pps", &p))
		ASSERT_TRUE(p.cmd.limit.per_source, "cgroup per-destination");

	rejects("limit set eth0 dir sideways rate 1pps", "sideways", "ingress or egress");
	rejects("limit set eth0 dir", "dir", "missing ingress|egress");
	rejects("limit set eth0 dir egress dir egress rate 1pps", "dir", "given twice");
	rejects("limit set eth0 dst 10.0.0.0/8 rate 1pps", "dst", "needs dir egress");
	rejects("limit set eth0 dir ingress dst 10.0.0.0/8 rate 1pps", "dst", "needs dir egress");
	rejects("limit set eth0 cgroup /a rate 1pps", "cgroup", "needs dir egress");
	rejects("limit set eth0 per-destination rate 1pps", "per-destination", "needs dir egress");
	rejects("limit set eth0 dir egress src 10.0.0.0/8 rate 1pps", "src", "match dst");
	rejects("limit set eth0 dir egress per-source rate 1pps", "per-source", "per-destination");
	rejects("limit set eth0 dir egress per-destination aggregate rate 1pps", "aggregate", "given twice");
	rejects("limit set eth0 dir egress dst 10.0.0.1/8 rate 1pps", "10.0.0.1/8", "did you mean 10.0.0.0/8");
	rejects("limit set eth0 dir egress dst 10.0.0.0/8 cgroup /a rate 1pps", "dst", "exclude");
	rejects("limit set eth0 dir egress cgroup relative/path rate 1pps", "relative/path", "absolute");
	rejects("limit set eth0 dir egress cgroup /a/../b rate 1pps", "/a/../b", "components");
	rejects("limit set eth0 dir egress cgroup /a/.. rate 1pps", "/a/..", "components");
	rejects("limit set eth0 dir egress cgroup", "cgroup", "missing PATH");
	rejects("limit set eth0 dir egress dst 10.0.0.0/8", "set", "rate");
	{
		char line[400], path[256];

		snprintf(path, sizeof(path), "/%0200d", 0);
		snprintf(line, sizeof(line), "limit set eth0 dir egress cgroup %s rate 1pps", path);
		rejects(line, path, "too long");
	}
	{
		char *argv[] = { "limit", "set", "eth0", "dir", "egress", "cgroup", "/a b", "rate", "1pps" };
		struct perim_cmd cmd;
		char err[256];

		ASSERT_EQ(perim_cmd_parse(9, argv, &cmd, err, sizeof(err)), PERIM_EXIT_BADINPUT, "space in path");
		ASSERT_TRUE(strstr(err, "whitespace") != NULL, "names the whitespace");
	}
}

/* ---- shape ---- */

static void test_shape(void)
{
	struct parsed p;

	if (parses_ok("shape set eth0 rate 100mbit", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SHAPE_SET, "kind");
		ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
		ASSERT_EQ(p.cmd.shape.rate_bits, 100000000ULL, "rate");
		ASSERT_EQ(p.cmd.shape.burst_bytes, 0, "default burst");
		ASSERT_EQ(p.cmd.shape.latency_ms, 0, "default latency");
		ASSERT_TRUE(!(p.cmd.shape.force), "no force");
	}
	if (parses_ok("shape set eth0 force latency 20 burst 30000 rate 10gbit", &p)) {
		ASSERT_EQ(p.cmd.shape.rate_bits, 10000000000ULL, "10gbit");
		ASSERT_EQ(p.cmd.shape.burst_bytes, 30000, "burst");
		ASSERT_EQ(p.cmd.shape.latency_ms, 20, "latency");
		ASSERT_TRUE(p.cmd.shape.force, "force");
	}
	if (parses_ok("shape del eth0", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SHAPE_DEL, "del");
	if (parses_ok("shape", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SHAPE_LIST, "shape alone lists");
	if (parses_ok("shape list eth1", &p))
		ASSERT_STREQ(p.cmd.dev, "eth1", "list dev");
	if (parses_ok("shape help", &p))
		ASSERT_TRUE(p.cmd.help && strstr(p.cmd.help, "fq_codel"), "shape help");

	rejects("shape set eth0", "set", "rate");
	rejects("shape set", "set", "missing DEV");
	rejects("shape set eth0 rate 100", "100", "needs a unit");
	rejects("shape set eth0 rate 100mbps", "100mbps", "needs a unit");
	rejects("shape set eth0 rate 0mbit", "0mbit", "greater than 0");
	rejects("shape set eth0 rate 11gbit", "11gbit", "at most 10gbit");
	rejects("shape set eth0 rate 1mbit rate 2mbit", "rate", "given twice");
	rejects("shape set eth0 rate 1mbit burst 0", "0", "burst");
	rejects("shape set eth0 rate 1mbit burst 1k", "1k", "decimal");
	rejects("shape set eth0 rate 1mbit latency 10001", "10001", "1..10000");
	rejects("shape set eth0 rate 1mbit latency", "latency", "missing MS");
	rejects("shape set eth0 rate 1mbit force force", "force", "given twice");
	rejects("shape set eth0 rate 1mbit ceil 2mbit", "ceil", "unknown keyword");
	rejects("shape del eth0 force", "force", "unexpected");
	rejects("shape del", "del", "missing DEV");
	rejects("shape frob eth0", "frob", "set, del or list");
	rejects("shape set eth0/1 rate 1mbit", "eth0/1", "interface name");
}

static void test_format_egress_shape(void)
{
	static const char *const lines[] = {
		"limit set eth0 dir egress rate 1pps",
		"limit set eth0 dir egress dst 192.0.2.0/24 proto udp dport 5000-5100 rate 2kpps bytes 8mbit aggregate",
		"limit set eth0 dir egress dst 2001:db8::1 rate 10pps per-destination dry-run",
		"limit set eth0 id 4 dir egress cgroup /sys/fs/cgroup/unified/perim.slice/x.service rate 3kpps",
		"limit set eth0 dir egress cgroup /x per-destination proto tcp syn rate 3kpps block 5",
	};
	struct perim_shape_spec shape = { .rate_bits = 250000000, .burst_bytes = 15000, .latency_ms = 7, .force = true };
	struct parsed p;
	char line[512];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (parses_ok(lines[i], &p))
			round_trips(&p.cmd.limit, "eth0");
	if (parses_ok("limit set eth0 aggregate rate 7pps dst 10.9.0.0/16 dir egress", &p)) {
		perim_limit_format("eth0", &p.cmd.limit, line, sizeof(line));
		ASSERT_STREQ(line, "limit set eth0 dir egress dst 10.9.0.0/16 rate 7pps aggregate", "egress canonical");
	}
	if (parses_ok("limit set eth0 dir egress cgroup /c rate 7pps", &p)) {
		perim_limit_format("eth0", &p.cmd.limit, line, sizeof(line));
		ASSERT_STREQ(line, "limit set eth0 dir egress cgroup /c rate 7pps aggregate", "cgroup canonical");
	}

	ASSERT_EQ(perim_shape_format("eth2", &shape, line, sizeof(line)), strlen(line), "shape length");
	ASSERT_STREQ(line, "shape set eth2 rate 250mbit burst 15000 latency 7", "shape line, force not kept");
	if (parses_ok(line, &p)) {
		ASSERT_EQ(p.cmd.shape.rate_bits, shape.rate_bits, "shape rate round trip");
		ASSERT_EQ(p.cmd.shape.burst_bytes, shape.burst_bytes, "shape burst round trip");
		ASSERT_EQ(p.cmd.shape.latency_ms, shape.latency_ms, "shape latency round trip");
		ASSERT_TRUE(!(p.cmd.shape.force), "force is never persisted");
	}
	shape = (struct perim_shape_spec){ .rate_bits = 1000 };
	perim_shape_format("eth2", &shape, line, sizeof(line));
	ASSERT_STREQ(line, "shape set eth2 rate 1kbit", "minimal shape");
	shape.rate_bits = 1500;
	ASSERT_EQ(perim_shape_format("eth2", &shape, line, sizeof(line)), -EINVAL, "no whole kbit");
	shape.rate_bits = 0;
	ASSERT_EQ(perim_shape_format("eth2", &shape, line, sizeof(line)), -EINVAL, "no rate");
}

/* allow/deny state lines parse back to the same list, device and prefix. */
static void test_format_acl(void)
{
	static const struct {
		bool deny;
		const char *prefix, *line;
	} cases[] = {
		{ false, "10.1.0.0/16", "allow add eth0 10.1.0.0/16" },
		{ true, "198.51.100.7", "deny add eth0 198.51.100.7/32" },
		{ true, "2001:db8::/32", "deny add eth0 2001:db8::/32" },
		{ false, "::/0", "allow add eth0 ::/0" },
	};
	struct perim_prefix prefix;
	struct parsed p;
	char line[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!ASSERT_OK(perim_prefix_parse(cases[i].prefix, &prefix), cases[i].prefix))
			continue;
		ASSERT_EQ(perim_acl_format("eth0", cases[i].deny, &prefix, line, sizeof(line)),
			  strlen(cases[i].line), "acl line length");
		ASSERT_STREQ(line, cases[i].line, cases[i].prefix);
		if (!parses_ok(line, &p))
			continue;
		ASSERT_EQ(p.cmd.kind, cases[i].deny ? PERIM_CMD_DENY_ADD : PERIM_CMD_ALLOW_ADD, "acl kind");
		ASSERT_STREQ(p.cmd.dev, "eth0", "acl dev");
		ASSERT_TRUE(!memcmp(&p.cmd.prefix.addr, prefix.addr, 16) && p.cmd.prefix.len == prefix.len &&
			    p.cmd.prefix.is_v4 == prefix.is_v4, "acl prefix round trip");
	}
	ASSERT_EQ(perim_acl_format("eth0", false, &prefix, NULL, 0), strlen(line), "length without buffer");
}

/* Rates print in the largest unit that is exact, so the text reads back as typed. */
static void test_unit_texts(void)
{
	static const struct {
		uint64_t v;
		const char *pps, *bits;
	} cases[] = {
		{ 0, "0pps", "0kbit" },
		{ 12, "12pps", "12bit" },
		{ 1500, "1500pps", "1500bit" },
		{ 2000, "2kpps", "2kbit" },
		{ 3000000, "3mpps", "3mbit" },
		{ 1001000, "1001kpps", "1001kbit" },
		{ 7000000000ULL, "7000mpps", "7gbit" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_STREQ(perim_pps_text(buf, sizeof(buf), cases[i].v), cases[i].pps, cases[i].pps);
		ASSERT_STREQ(perim_bits_text(buf, sizeof(buf), cases[i].v), cases[i].bits, cases[i].bits);
	}
}

static void test_protect(void)
{
	struct parsed p;
	char line[160];

	if (parses_ok("protect add eth0 192.0.2.10/32 proto tcp dport 22", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_PROTECT_ADD, "kind");
		ASSERT_STREQ(p.cmd.dev, "eth0", "dev");
		ASSERT_EQ(p.cmd.protect.proto, IPPROTO_TCP, "proto");
		ASSERT_EQ(p.cmd.protect.dport_lo, 22, "dport");
		ASSERT_EQ(p.cmd.protect.dport_hi, 22, "dport hi");
		ASSERT_TRUE(perim_protect_format(p.cmd.dev, &p.cmd.protect, line, sizeof(line)) > 0, "format");
		ASSERT_STREQ(line, "protect add eth0 192.0.2.10/32 proto tcp dport 22", "round trip");
	}
	if (parses_ok("protect del eth0 2001:db8::/64 dport 1000-2000 proto udp", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_PROTECT_DEL, "kind");
		ASSERT_EQ(p.cmd.protect.dport_hi, 2000, "range");
	}
	if (parses_ok("protect", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_PROTECT_LIST, "alone lists");
	if (parses_ok("protect list eth0", &p))
		ASSERT_STREQ(p.cmd.dev, "eth0", "list DEV");
	rejects("protect add eth0 192.0.2.10/32 dport 22", "dport", "needs proto");
	rejects("protect add eth0 192.0.2.10/32 proto icmp", "icmp", "tcp or udp");
	rejects("protect add eth0 192.0.2.10/32 proto tcp proto udp", "proto", "given twice");
	rejects("protect add eth0 192.0.2.10/24", "192.0.2.10/24", "host bits");
	rejects("protect add eth0 192.0.2.10/32 proto tcp dport 022", "022", "leading zeros");
	rejects("protect add eth0 192.0.2.10/32 proto tcp dport 30-20", "30-20", "low-high");
	rejects("protect add eth0 192.0.2.10/32 port 22", "port", "expected proto or dport");
	rejects("protect add eth0", "add", "missing PREFIX");
	rejects("protect list eth0 eth1", "eth1", "unexpected");
}

static void test_ruleset_commands(void)
{
	struct parsed p;

	if (parses_ok("show", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SHOW, "show");
	if (parses_ok("show eth0", &p))
		ASSERT_STREQ(p.cmd.dev, "eth0", "show DEV");
	if (parses_ok("apply --check rules.txt", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_APPLY, "apply");
		ASSERT_TRUE(p.cmd.check, "--check");
		ASSERT_STREQ(p.cmd.file, "rules.txt", "FILE");
		ASSERT_TRUE(p.cmd.text == NULL, "no text yet");
	}
	if (parses_ok("apply - --confirm 30", &p)) {
		ASSERT_STREQ(p.cmd.file, "-", "stdin");
		ASSERT_EQ(p.cmd.confirm_s, 30, "--confirm at the end");
	}
	if (parses_ok("apply --confirm 5 f --text x", &p)) {
		ASSERT_EQ(p.cmd.confirm_s, 5, "--confirm before FILE");
		ASSERT_STREQ(p.cmd.text, "x", "--text");
	}
	if (parses_ok("diff f", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_DIFF, "diff");
	if (parses_ok("apply f --text x --counts-only", &p))
		ASSERT_TRUE(p.cmd.counts_only, "--counts-only");
	if (parses_ok("apply f", &p))
		ASSERT_TRUE(!p.cmd.counts_only, "the list of changes unless asked otherwise");
	rejects("apply --counts-only f --counts-only", "--counts-only", "unknown or repeated option");
	rejects("diff --counts-only f", "--counts-only", "unknown or repeated option");
	rejects("diff --check f", "--check", "unknown or repeated option");
	rejects("apply --check --check f", "--check", "unknown or repeated option");
	rejects("apply", "apply", "missing FILE");
	rejects("apply f g", "g", "unexpected");
	rejects("apply f --text", "--text", "missing TEXT");
	if (parses_ok("confirm", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_CONFIRM, "confirm");
	if (parses_ok("rollback", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_ROLLBACK, "rollback");
	rejects("confirm now", "now", "unexpected");
	rejects("rollback-at 5", "rollback-at", "unknown object");
	rejects("rollback-to attach eth0", "rollback-to", "unknown object");
}

static void test_confirm_suffix(void)
{
	struct parsed p;

	if (parses_ok("limit set eth0 rate 10pps --confirm 3", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_LIMIT_SET, "limit set");
		ASSERT_EQ(p.cmd.confirm_s, 3, "seconds");
	}
	if (parses_ok("deny add eth0 10.0.0.0/8 --confirm 86400", &p))
		ASSERT_EQ(p.cmd.confirm_s, 86400, "at most a day");
	if (parses_ok("protect del eth0 10.0.0.1 --confirm 1", &p))
		ASSERT_EQ(p.cmd.confirm_s, 1, "protect del");
	rejects("limit set eth0 rate 10pps --confirm 0", "0", "1..86400");
	rejects("limit set eth0 rate 10pps --confirm 86401", "86401", "1..86400");
	rejects("limit set eth0 rate 10pps --confirm 03", "03", "leading zeros");
	rejects("attach eth0 --confirm 3", "--confirm", "cannot be rolled back");
	rejects("apply --check f --confirm 3", "--confirm", "cannot be rolled back");
	rejects("limit list --confirm 3", "--confirm", "can be confirmed");
	rejects("limit set eth0 --confirm 3 rate 10pps", "--confirm", "unknown keyword");
}

/* perim_limit_same_line: true exactly when perim_limit_format writes one line for both. */
static void test_limit_same_line(void)
{
	static const char *const lines[] = {
		"limit set eth0 rate 10pps",
		"limit set eth0 rate 11pps",
		"limit set eth0 id 3 rate 10pps",
		"limit set eth0 src 10.0.0.0/8 rate 10pps",
		"limit set eth0 src ::ffff:10.0.0.0/104 rate 10pps",
		"limit set eth0 src 10.0.0.0/8 proto udp dport 53 rate 10pps",
		"limit set eth0 src 10.0.0.0/8 rate 10pps aggregate block 5",
		"limit set eth0 dir egress dst 10.0.0.0/8 rate 10pps",
		"limit set eth0 dir egress cgroup /a.slice rate 10pps",
		"limit set eth0 rate 10pps bytes 8kbit dry-run",
	};
	char fa[512], fb[512];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		for (size_t j = 0; j < sizeof(lines) / sizeof(lines[0]); j++) {
			struct parsed a, b;

			if (!parses_ok(lines[i], &a) || !parses_ok(lines[j], &b))
				return;
			perim_limit_format("eth0", &a.cmd.limit, fa, sizeof(fa));
			perim_limit_format("eth0", &b.cmd.limit, fb, sizeof(fb));
			if (!ASSERT_EQ(perim_limit_same_line(&a.cmd.limit, &b.cmd.limit), !strcmp(fa, fb), lines[i]))
				fprintf(stderr, "  against: %s\n", lines[j]);
		}
	}
}

/* The syncookie grammar: every keyword, its bounds, and the state-file line read back. */
static void test_syncookie(void)
{
	struct parsed p;
	char line[256];

	if (parses_ok("syncookie set eth0", &p)) {
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SYN_SET, "kind");
		ASSERT_TRUE(!p.cmd.syn.has_dst && !p.cmd.syn.dport_hi && !p.cmd.syn.mss, "defaults");
		ASSERT_TRUE(!p.cmd.syn.has_wscale && !p.cmd.syn.dry_run, "defaults");
	}
	if (parses_ok("syncookie set eth0 dst 192.0.2.0/24 dport 80-90 mss 536 wscale 14 dry-run", &p)) {
		ASSERT_TRUE(p.cmd.syn.has_dst && p.cmd.syn.dst.is_v4 && p.cmd.syn.dst.len == 96 + 24, "dst");
		ASSERT_EQ(p.cmd.syn.dport_lo, 80, "dport lo");
		ASSERT_EQ(p.cmd.syn.dport_hi, 90, "dport hi");
		ASSERT_EQ(p.cmd.syn.mss, 536, "mss");
		ASSERT_EQ(p.cmd.syn.wscale, 14, "wscale");
		ASSERT_TRUE(p.cmd.syn.dry_run, "dry-run");
		perim_syn_format("eth0", &p.cmd.syn, line, sizeof(line));
		ASSERT_STREQ(line, "syncookie set eth0 dst 192.0.2.0/24 dport 80-90 mss 536 wscale 14 dry-run",
			     "format");
	}
	if (parses_ok("syncookie set eth0 dst 2001:db8::/32 dport 9000-9010 mss 9000 wscale 0", &p)) {
		perim_syn_format("eth0", &p.cmd.syn, line, sizeof(line));
		ASSERT_STREQ(line, "syncookie set eth0 dst 2001:db8::/32 dport 9000-9010 mss 9000 wscale 0",
			     "format round trip");
	}
	if (parses_ok("syncookie del eth0 dport 443", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SYN_DEL, "del");
	if (parses_ok("syncookie", &p))
		ASSERT_EQ(p.cmd.kind, PERIM_CMD_SYN_LIST, "alone lists");
	if (parses_ok("syncookie list eth1", &p))
		ASSERT_STREQ(p.cmd.dev, "eth1", "list dev");

	rejects("syncookie set eth0 dport 90-80", "90-80", "low-high");
	rejects("syncookie set eth0 dport 0", "0", "1..65535");
	rejects("syncookie set eth0 dport 80-", "80-", "1..65535");
	rejects("syncookie set eth0 dst 10.0.0.1/8", "10.0.0.1/8", "host bits");
	rejects("syncookie set eth0 dst 10.0.0.0/33", "10.0.0.0/33", "prefix");
	rejects("syncookie set eth0 mss 535", "535", "536..9000");
	rejects("syncookie set eth0 mss 9001", "9001", "536..9000");
	rejects("syncookie set eth0 mss 1k", "1k", "decimal");
	rejects("syncookie set eth0 wscale 15", "15", "0..14");
	rejects("syncookie set eth0 wscale", "wscale", "missing N");
	rejects("syncookie set eth0 mss 600 mss 700", "mss", "given twice");
	rejects("syncookie set eth0 rate 1kpps", "rate", "expected dst");
	rejects("syncookie del eth0 mss 600", "mss", "expected dst or dport");
	rejects("syncookie set", "set", "missing DEV");
	rejects("syncookie frob eth0", "frob", "set, del or list");
	rejects("syncookie list eth0 eth1", "eth1", "unexpected");
}
