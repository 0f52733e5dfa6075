// SPDX-License-Identifier: GPL-2.0
/* perim's synproxy table, written as nftables syntax and run through libnftables. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "syn/synproxy.h"
#include "perim_syn.h"

#define RULESET_MAX 16384

struct ruleset {
	char table[64];
	char buf[RULESET_MAX];
	size_t len;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void emit(struct ruleset *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->buf) - r->len)
		r->overflow = true;
	else
		r->len += n;
}

int perim_synproxy_table_name(const char *dev, char *buf, size_t len)
{
	int n = snprintf(buf, len, "perim_synproxy_");

	/* nftables identifiers: letters, digits, '_' (a device name may hold more). */
	for (const char *c = dev; *c && n + 1 < (int)len; c++)
		buf[n++] = isalnum((unsigned char)*c) ? *c : '_';
	buf[n] = '\0';
	return n;
}

/* "ip daddr 192.0.2.0/24 " / "ip6 daddr ... " / "meta nfproto ipv4 " and "tcp dport 80-90 ". */
static void emit_match(struct ruleset *r, const struct perim_syn_spec *s, bool v6)
{
	char prefix[64];

	/*
	 * No iifname: what XDP passed on from DEV reaches the stack on DEV or on
	 * a VLAN device above it, whose name perim does not know.
	 */
	if (s->has_dst) {
		perim_prefix_format(&s->dst, prefix, sizeof(prefix));
		emit(r, "%s daddr %s ", s->dst.is_v4 ? "ip" : "ip6", prefix);
	} else {
		emit(r, "meta nfproto %s ", v6 ? "ipv6" : "ipv4");
	}
	emit(r, "meta l4proto tcp ");
	if (s->dport_hi)
		emit(r, s->dport_lo == s->dport_hi ? "tcp dport %u " : "tcp dport %u-%u ", s->dport_lo, s->dport_hi);
}

/* The families a spec covers: its prefix's, or both. */
static int families(const struct perim_syn_spec *s, bool fam[2])
{
	fam[0] = !s->has_dst || s->dst.is_v4;
	fam[1] = !s->has_dst || !s->dst.is_v4;
	return 2;
}

static void emit_synproxy_chain(struct ruleset *r, const struct perim_syn_spec *specs, int n,
				const char *chain, const char *hook)
{
	emit(r, "add chain inet %s %s { type filter hook %s priority filter; policy accept; }\n", r->table,
	     chain, hook);
	for (int i = 0; i < n; i++) {
		bool fam[2];

		if (specs[i].dry_run)
			continue;
		families(&specs[i], fam);
		for (int v6 = 0; v6 < 2; v6++) {
			unsigned mss = specs[i].mss ?: (v6 ? PERIM_SYN_MSS6_DEFAULT : PERIM_SYN_MSS4_DEFAULT);
			unsigned ws = specs[i].has_wscale ? specs[i].wscale : PERIM_SYN_WSCALE_DEFAULT;

			if (!fam[v6])
				continue;
			emit(r, "add rule inet %s %s ", r->table, chain);
			emit_match(r, &specs[i], v6);
			emit(r, "ct state invalid,untracked synproxy mss %u wscale %u timestamp sack-perm\n", mss, ws);
			emit(r, "add rule inet %s %s ", r->table, chain);
			emit_match(r, &specs[i], v6);
			emit(r, "ct state invalid drop\n");
		}
	}
}

static void emit_table(struct ruleset *r, const struct perim_syn_spec *specs, int n)
{
	emit(r, "add chain inet %s raw { type filter hook prerouting priority raw; policy accept; }\n", r->table);
	for (int i = 0; i < n; i++) {
		bool fam[2];

		if (specs[i].dry_run)
			continue;
		families(&specs[i], fam);
		for (int v6 = 0; v6 < 2; v6++) {
			if (!fam[v6])
				continue;
			emit(r, "add rule inet %s raw ", r->table);
			emit_match(r, &specs[i], v6);
			emit(r, "tcp flags & (fin|syn|rst|ack) == syn notrack\n");
		}
	}
	emit_synproxy_chain(r, specs, n, "input", "input");
	emit_synproxy_chain(r, specs, n, "forward", "forward");
}

static int active(const struct perim_syn_spec *specs, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += !specs[i].dry_run;
	return k;
}

static int run(const char *cmds, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int ret;

	if (!nft) {
		snprintf(err, errlen, "nftables: cannot create a libnftables context");
		return PERIM_EXIT_FAIL;
	}
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		nft_ctx_free(nft);
		snprintf(err, errlen, "nftables: cannot buffer libnftables' output");
		return PERIM_EXIT_FAIL;
	}
	ret = nft_run_cmd_from_buffer(nft, cmds);
	if (ret) {
		msg = nft_ctx_get_error_buffer(nft);
		snprintf(err, errlen, "nftables refused perim's synproxy table: %.*s",
			 (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "unknown error");
	}
	nft_ctx_free(nft);
	return ret ? PERIM_EXIT_FAIL : 0;
}

int perim_synproxy_apply(const char *dev, const struct perim_syn_spec *specs, int n, char *err, size_t errlen)
{
	struct ruleset *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		snprintf(err, errlen, "nftables: out of memory");
		return PERIM_EXIT_FAIL;
	}
	perim_synproxy_table_name(dev, r->table, sizeof(r->table));
	/* "add table" first: the delete that follows then always finds it, in the same transaction. */
	emit(r, "add table inet %s\ndelete table inet %s\n", r->table, r->table);
	if (active(specs, n)) {
		emit(r, "add table inet %s\n", r->table);
		emit_table(r, specs, n);
	}
	if (r->overflow) {
		snprintf(err, errlen, "nftables: perim's synproxy ruleset for %s is too long", dev);
		free(r);
		return PERIM_EXIT_FAIL;
	}
	ret = run(r->buf, err, errlen);
	free(r);
	return ret;
}
