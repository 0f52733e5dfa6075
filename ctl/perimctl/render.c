// SPDX-License-Identifier: GPL-2.0
/*
 * One output path from the daemon's JSON result: -j prints it as returned,
 * otherwise each command kind has its human renderer. Keys are proto.h's.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "perim.h"
#include "names.h"
#include "perimctl.h"

/* ---- reading the result ---- */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v = get(o, key);

	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : dflt;
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v ? (uint64_t)json_object_get_int64(v) : 0;
}

static double get_double(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v ? json_object_get_double(v) : 0;
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v && json_object_get_boolean(v);
}

static size_t array_len(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* ---- number formatting ---- */

/* v with an SI suffix: 950, 12.3k, 4.56M, 1.20G. */
static const char *si(char *buf, size_t len, double v)
{
	static const char suffix[] = " kMGT";
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%c", v < 10 ? 2 : v < 100 ? 1 : 0, v, suffix[i]);
	return buf;
}

/* A rule's byte limit as typed ("8mbit"), "-" for none. */
static const char *fmt_byte_limit(char *buf, size_t len, uint64_t bytes_per_s)
{
	if (!bytes_per_s) {
		snprintf(buf, len, "-");
		return buf;
	}
	return perim_bits_text(buf, len, bytes_per_s * 8);
}

/* ---- one renderer per command ---- */

static void render_programs(struct json_object *programs)
{
	size_t n = array_len(programs);

	if (!n)
		return;
	printf("  programs:");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(programs, i);
		struct json_object *actions = get(p, "chain_call_actions");

		printf("%s %s (priority %" PRIu64, i ? "," : "", get_str(p, "name", "?"),
		       get_u64(p, "priority"));
		for (size_t a = 0; a < array_len(actions); a++)
			printf("%s%s", a ? "," : ", chains on ",
			       json_object_get_string(json_object_array_get_idx(actions, a)));
		printf(")");
	}
	printf("\n");
}

static void render_attach(struct json_object *r)
{
	printf("attached %s: ifindex %" PRIu64 ", slot %" PRIu64 ", mode %s, dispatcher %s\n",
	       get_str(r, "dev", "?"), get_u64(r, "ifindex"), get_u64(r, "slot"),
	       get_str(r, "mode", "?"), get_str(r, "dispatcher", "?"));
	render_programs(get(r, "programs"));
}

static void render_detach(struct json_object *r)
{
	if (!get_bool(r, "was_attached")) {
		printf("detached %s (no device was attached)\n", get_str(r, "dev", "?"));
		return;
	}
	printf("detached %s: ifindex %" PRIu64 ", prog id %" PRIu64 ", mode %s\n", get_str(r, "dev", "?"),
	       get_u64(r, "ifindex"), get_u64(r, "prog_id"), get_str(r, "mode", "?"));
}

static void render_limit_set(struct json_object *r)
{
	printf("rule %" PRIu64 " on %s%s\n", get_u64(r, "id"), get_str(r, "dev", "?"),
	       get_bool(r, "replaced") ? " replaced" : "");
}

static void render_limit_del(struct json_object *r)
{
	printf("deleted rule %" PRIu64 " on %s\n", get_u64(r, "id"), get_str(r, "dev", "?"));
}

/* "syn,dry-run,inactive (cgroup missing)", or "-". */
static void limit_flags(struct json_object *l, char *buf, size_t len)
{
	const char *why = get_str(l, "inactive_reason", NULL);
	size_t n;

	snprintf(buf, len, "%s%s%s%s%s", get_bool(l, "syn") ? "syn," : "", get_bool(l, "dry_run") ? "dry-run," : "",
		 why ? "inactive (" : "", why ? why : "", why ? ")," : "");
	n = strlen(buf);
	if (n)
		buf[n - 1] = '\0';
	else
		snprintf(buf, len, "-");
}

static void render_limit_list(struct json_object *r)
{
	struct json_object *limits = get(r, "limits");
	char rate[32], bytes[32], burst[32], block[32], flags[96], match[256];

	if (!array_len(limits)) {
		printf("no limits\n");
		return;
	}
	printf("%-15s %6s  %-24s %-5s %-11s %-9s %-8s %-9s %-10s %-6s %s\n", "DEV", "ID", "SRC / EGRESS",
	       "PROTO", "DPORT", "RATE", "BURST", "BYTES", "MODE", "BLOCK", "FLAGS");
	for (size_t i = 0; i < array_len(limits); i++) {
		struct json_object *l = json_object_array_get_idx(limits, i);

		if (get_u64(l, "burst"))
			snprintf(burst, sizeof(burst), "%" PRIu64, get_u64(l, "burst"));
		else
			snprintf(burst, sizeof(burst), "default");
		if (get_u64(l, "block_s"))
			snprintf(block, sizeof(block), "%" PRIu64 "s", get_u64(l, "block_s"));
		else
			snprintf(block, sizeof(block), "-");
		limit_flags(l, flags, sizeof(flags));

		/* Egress rules match a destination or a cgroup: shown in the same column, marked. */
		if (!strcmp(get_str(l, "dir", "ingress"), "egress"))
			snprintf(match, sizeof(match), "%s %s", get_str(l, "cgroup", NULL) ? "cgroup" : "dst",
				 get_str(l, "cgroup", get_str(l, "dst", "any")));
		else
			snprintf(match, sizeof(match), "%s", get_str(l, "src", "any"));
		printf("%-15s %6" PRIu64 "  %-24s %-5s %-11s %-9s %-8s %-9s %-10s %-6s %s\n",
		       get_str(l, "dev", "?"), get_u64(l, "id"), match,
		       get_str(l, "proto", "any"), get_str(l, "dport", "any"),
		       perim_pps_text(rate, sizeof(rate), get_u64(l, "rate_pps")), burst,
		       fmt_byte_limit(bytes, sizeof(bytes), get_u64(l, "bytes_per_s")),
		       get_str(l, "mode", "?"), block, flags);
	}
}

static void render_acl_change(struct json_object *r, const char *verb, const char *preposition)
{
	printf("%s %s %s the %s list of %s\n", verb, get_str(r, "prefix", "?"), preposition,
	       get_str(r, "list", "?"), get_str(r, "dev", "?"));
}

static void render_acl_add(struct json_object *r) { render_acl_change(r, "added", "to"); }
static void render_acl_del(struct json_object *r) { render_acl_change(r, "removed", "from"); }

static void render_acl_list(struct json_object *r)
{
	struct json_object *entries = get(r, "entries");

	if (!array_len(entries)) {
		printf("no entries\n");
		return;
	}
	printf("%-15s %-5s %s\n", "DEV", "LIST", "PREFIX");
	for (size_t i = 0; i < array_len(entries); i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);

		printf("%-15s %-5s %s\n", get_str(e, "dev", "?"), get_str(e, "list", "?"),
		       get_str(e, "prefix", "?"));
	}
}

/* ---- stats ---- */

static uint64_t dropped_total(struct json_object *dropped)
{
	uint64_t sum = 0;

	if (!json_object_is_type(dropped, json_type_object))
		return 0;
	json_object_object_foreach(dropped, reason, counts) {
		(void)reason;
		sum += get_u64(counts, "packets");
	}
	return sum;
}

static void render_rules(struct json_object *rules)
{
	char a[16], b[16];

	if (!array_len(rules))
		return;
	printf("  %6s %12s %12s %12s %12s %10s %10s\n", "RULE", "MATCHED", "PASSED", "DROPPED",
	       "WOULD-DROP", "MATCH/s", "DROP/s");
	for (size_t i = 0; i < array_len(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		struct json_object *rates = get(r, "rates");

		printf("  %6" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %10s %10s\n",
		       get_u64(r, "id"), get_u64(r, "matched_packets"), get_u64(r, "passed_packets"),
		       get_u64(r, "dropped_packets"), get_u64(r, "would_drop_packets"),
		       si(a, sizeof(a), get_double(rates, "matched_pps")),
		       si(b, sizeof(b), get_double(rates, "dropped_pps")));
	}
}

/* by_reason: perimd's per-second rates, or NULL (before its second sample). */
static void render_reasons(struct json_object *dropped, struct json_object *by_reason)
{
	char a[16];

	printf("  drops by reason:");
	for (int r = 1; r < PERIM_REASON_MAX; r++) {
		const char *name = perim_reason_names[r];

		printf(" %s %" PRIu64, name, get_u64(get(dropped, name), "packets"));
		if (by_reason)
			printf(" (%s/s)", si(a, sizeof(a), get_double(by_reason, name)));
	}
	printf("\n");
}

static bool is_null(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return !v || json_object_is_type(v, json_type_null);
}

/* A rate the daemon may not have yet (null until two samples): "-". */
static const char *si_or_dash(char *buf, size_t len, struct json_object *rates, const char *key)
{
	if (is_null(rates, key)) {
		snprintf(buf, len, "-");
		return buf;
	}
	return si(buf, len, get_double(rates, key));
}

/* The kernel's counters for the NIC beside perim's: a disagreement stays on screen. */
static void render_nic(struct json_object *ifc)
{
	struct json_object *nic = get(ifc, "nic"), *rates, *since;
	char a[16];
	int64_t diff;

	if (is_null(ifc, "nic"))
		return;
	rates = get(nic, "rates");
	since = get(nic, "since_attach");
	printf("  nic rx   %14" PRIu64 " pkts %10s pps  stats64 dropped %" PRIu64 ", missed %" PRIu64
	       ", over %" PRIu64 ", fifo %" PRIu64 "\n", get_u64(nic, "rx_packets"),
	       si_or_dash(a, sizeof(a), rates, "rx_pps"), get_u64(nic, "rx_dropped"),
	       get_u64(nic, "rx_missed_errors"), get_u64(nic, "rx_over_errors"), get_u64(nic, "rx_fifo_errors"));
	if (is_null(nic, "xdp_drops")) {
		printf("  driver xdp_drops: the driver offers no such counter (%s)\n", get_str(nic, "source", "?"));
		return;
	}
	printf("  driver xdp_drops %10" PRIu64 " pkts %10s pps  (%s)\n", get_u64(nic, "xdp_drops"),
	       si_or_dash(a, sizeof(a), rates, "xdp_drops_pps"), get_str(nic, "source", "?"));
	diff = json_object_get_int64(get(since, "difference"));
	printf("  since attach: perim dropped %" PRIu64 ", driver xdp_drops %" PRIu64 ", difference %" PRId64
	       "%s\n", get_u64(since, "perim_dropped"), get_u64(since, "xdp_drops"), diff,
	       diff ? "  MISMATCH" : "");
}

/* The SYN-cookie stage's counters, with rates under --watch. */
static void render_syncookie_stats(struct json_object *sc, struct json_object *pps)
{
	char a[16], b[16], c[16];

	if (!sc)
		return;
	printf("  syncookie  SYN-ACKs %" PRIu64 " (%s/s)  cookies valid %" PRIu64 " (%s/s)  bad %" PRIu64 " (%s/s)\n",
	       get_u64(sc, "synack_sent"), pps ? si(a, sizeof(a), get_double(pps, "synack_sent")) : "-",
	       get_u64(sc, "cookie_valid"), pps ? si(b, sizeof(b), get_double(pps, "cookie_valid")) : "-",
	       get_u64(sc, "cookie_bad"), pps ? si(c, sizeof(c), get_double(pps, "cookie_bad")) : "-");
}

static void render_interface_stats(struct json_object *ifc)
{
	struct json_object *c = get(ifc, "counters"), *rates = get(ifc, "rates");
	struct json_object *dropped = get(c, "dropped");
	char a[16], b[16];

	printf("%s  ifindex %" PRIu64 "  %s  %s\n", get_str(ifc, "dev", "?"), get_u64(ifc, "ifindex"),
	       get_str(ifc, "mode", "-"), get_str(ifc, "dispatcher", "-"));
	if (!is_null(ifc, "kernel_name") && strcmp(get_str(ifc, "kernel_name", ""), get_str(ifc, "dev", "")))
		printf("  now named %s; perim stays attached to it until a device is named %s again\n",
		       get_str(ifc, "kernel_name", "?"), get_str(ifc, "dev", "?"));
	if (get(ifc, "attached") && !get_bool(ifc, "attached")) {
		printf("  not attached\n");
		return;
	}
	printf("  received %14" PRIu64 " pkts %10s pps %10sbit/s\n", get_u64(c, "rx_packets"),
	       si(a, sizeof(a), get_double(rates, "rx_pps")), si(b, sizeof(b), get_double(rates, "rx_bps")));
	printf("  passed   %14" PRIu64 " pkts %10s pps\n", get_u64(c, "passed_packets"),
	       si(a, sizeof(a), get_double(rates, "passed_pps")));
	printf("  dropped  %14" PRIu64 " pkts %10s pps\n", dropped_total(dropped),
	       si(a, sizeof(a), get_double(rates, "dropped_pps")));
	printf("  protected %" PRIu64 ", allowed %" PRIu64 ", would drop %" PRIu64 "\n", get_u64(c, "protected_packets"),
	       get_u64(c, "allowed_packets"),
	       get_u64(c, "would_drop_packets"));
	render_reasons(dropped, get(rates, "dropped_pps_by_reason"));
	render_syncookie_stats(get(ifc, "syncookie"), get(get(ifc, "syncookie"), "rates"));
	render_nic(ifc);
	render_rules(get(ifc, "rules"));
}

/* ---- shape ---- */

/* A shaper's rate rounded to three digits ("1.20Gbit"), unlike a rule's exact one. */
static const char *fmt_bits_si(char *buf, size_t len, uint64_t bits)
{
	char n[16];

	snprintf(buf, len, "%sbit", si(n, sizeof(n), (double)bits));
	return buf;
}

static void render_qdisc_counters(const char *label, struct json_object *q)
{
	if (!q)
		return;
	printf("  %-6s %s %s  sent %" PRIu64 " bytes %" PRIu64 " pkts  dropped %" PRIu64 "  overlimits %" PRIu64
	       "  backlog %" PRIu64 "b %" PRIu64 "p\n", label, get_str(q, "kind", "?"), get_str(q, "handle", "?"),
	       get_u64(q, "sent_bytes"), get_u64(q, "sent_packets"), get_u64(q, "dropped"),
	       get_u64(q, "overlimits"), get_u64(q, "backlog_bytes"), get_u64(q, "qlen"));
}

static void render_egress(struct json_object *e)
{
	struct json_object *c = get(e, "counters"), *dropped = get(c, "dropped");

	if (!e || !get_bool(e, "attached"))
		return;
	printf("  egress   %14" PRIu64 " pkts sent, %" PRIu64 " passed, %" PRIu64 " dropped (tc prog id %" PRIu64 ")\n",
	       get_u64(c, "tx_packets"), get_u64(c, "passed_packets"), dropped_total(dropped), get_u64(e, "prog_id"));
}

static void render_shaper(struct json_object *s)
{
	char rate[32];

	if (!s || json_object_is_type(s, json_type_null))
		return;
	printf("  shaper rate %s burst %" PRIu64 " latency %" PRIu64 " ms%s\n",
	       fmt_bits_si(rate, sizeof(rate), get_u64(s, "rate_bits")), get_u64(s, "burst_bytes"),
	       get_u64(s, "latency_ms"), get_bool(s, "installed") ? "" : "  NOT INSTALLED");
	render_qdisc_counters("root", get(s, "root"));
	render_qdisc_counters("child", get(s, "child"));
}

static void render_shape_set(struct json_object *r)
{
	char rate[32];

	printf("shaper on %s: rate %s%s\n", get_str(r, "dev", "?"),
	       fmt_bits_si(rate, sizeof(rate), get_u64(r, "rate_bits")),
	       get_bool(r, "installed") ? "" : " (not installed: the interface is missing)");
}

static void render_shape_del(struct json_object *r)
{
	printf("removed the shaper of %s\n", get_str(r, "dev", "?"));
}

static void render_shape_list(struct json_object *r)
{
	struct json_object *list = get(r, "shapers");
	char rate[32], root[48];

	if (!array_len(list)) {
		printf("no shapers\n");
		return;
	}
	printf("%-15s %-10s %-10s %-8s %s\n", "DEV", "RATE", "BURST", "LATENCY", "ROOT QDISC");
	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *s = json_object_array_get_idx(list, i), *q = get(s, "root");

		snprintf(root, sizeof(root), "%s %s%s", get_str(q, "kind", "-"), get_str(q, "handle", ""),
			 get_bool(s, "installed") ? "" : " (not perim's)");
		printf("%-15s %-10s %-10" PRIu64 " %-8" PRIu64 " %s\n", get_str(s, "dev", "?"),
		       fmt_bits_si(rate, sizeof(rate), get_u64(s, "rate_bits")), get_u64(s, "burst_bytes"),
		       get_u64(s, "latency_ms"), root);
	}
}

static void render_stats(struct json_object *r)
{
	struct json_object *ifaces = get(r, "interfaces");

	if (!array_len(ifaces)) {
		printf("no interfaces attached\n");
		return;
	}
	for (size_t i = 0; i < array_len(ifaces); i++) {
		if (i)
			printf("\n");
		render_interface_stats(json_object_array_get_idx(ifaces, i));
		render_egress(get(json_object_array_get_idx(ifaces, i), "egress"));
		render_shaper(get(json_object_array_get_idx(ifaces, i), "shaper"));
	}
}

/* ---- top ---- */

static void render_top_totals(struct json_object *totals, uint64_t window_s)
{
	char a[16];

	for (size_t i = 0; i < array_len(totals); i++) {
		struct json_object *t = json_object_array_get_idx(totals, i);

		printf("%s: %" PRIu64 " samples standing for %" PRIu64 " drops in %" PRIu64 " s", get_str(t, "dev", "?"),
		       get_u64(t, "samples"), get_u64(t, "est_drops"), window_s);
		if (get_u64(t, "untracked"))
			printf(" (%" PRIu64 " from sources beyond the table)", get_u64(t, "untracked"));
		printf(", dropping %s pps now\n", si(a, sizeof(a), get_double(t, "dropped_pps")));
	}
}

static void render_top(struct json_object *r)
{
	struct json_object *sources = get(r, "sources");
	char a[16];

	if (get(r, "sampling") && !get_bool(r, "sampling")) {
		printf("top: %s\n", get_str(r, "reason", "drop sampling is off"));
		return;
	}
	render_top_totals(get(r, "totals"), get_u64(r, "window_s"));
	if (!array_len(sources)) {
		printf("no drops sampled in the last %" PRIu64 " s\n", get_u64(r, "window_s"));
		return;
	}
	printf("\n%-15s %-39s %6s %9s %8s %-10s %5s %-6s %5s  %s\n", "DEV", "SOURCE", "SHARE", "EST PPS",
	       "SAMPLES", "REASON", "RULE", "PROTO", "DPORT", "AIMED AT");
	for (size_t i = 0; i < array_len(sources); i++) {
		struct json_object *s = json_object_array_get_idx(sources, i);
		struct json_object *target = get(s, "target");
		char aimed[64] = "-";

		if (target)
			snprintf(aimed, sizeof(aimed), "%s[%" PRIu64 "]", get_str(target, "comm", "?"), get_u64(target, "pid"));
		printf("%-15s %-39s %5.1f%% %9s %8" PRIu64 " %-10s %5" PRIu64 " %-6s %5" PRIu64 "  %s\n",
		       get_str(s, "dev", "?"), get_str(s, "src", "?"), 100 * get_double(s, "share"),
		       si(a, sizeof(a), get_double(s, "est_pps")), get_u64(s, "samples"),
		       get_str(s, "reason", "?"), get_u64(s, "rule"), get_str(s, "proto", "?"), get_u64(s, "dport"), aimed);
	}
}

/* ---- status ---- */

static void render_status_interfaces(struct json_object *ifaces)
{
	printf("interfaces:%s\n", array_len(ifaces) ? "" : " none");
	for (size_t i = 0; i < array_len(ifaces); i++) {
		struct json_object *ifc = json_object_array_get_idx(ifaces, i);

		printf("  %-15s ifindex %-4" PRIu64 " %-6s %-10s %s\n", get_str(ifc, "dev", "?"),
		       get_u64(ifc, "ifindex"), get_str(ifc, "mode", "-"), get_str(ifc, "dispatcher", "-"),
		       !get(ifc, "attached") || get_bool(ifc, "attached") ? "attached" : "not attached");
		if (get(ifc, "programs"))
			render_programs(get(ifc, "programs"));
	}
}

static void render_hooks(struct json_object *hooks)
{
	printf("hooks:%s\n", array_len(hooks) ? "" : " none");
	if (!array_len(hooks))
		return;
	printf("  %-24s %-11s %s\n", "NAME", "FAMILY", "STATE");
	for (size_t i = 0; i < array_len(hooks); i++) {
		struct json_object *h = json_object_array_get_idx(hooks, i);
		bool attached = get_bool(h, "attached");

		printf("  %-24s %-11s %s%s%s\n", get_str(h, "name", "?"), get_str(h, "family", "?"),
		       attached ? "attached" : "not attached",
		       attached ? (get_str(h, "how", NULL) ? " via " : "") : (get_str(h, "reason", NULL) ? ": " : ""),
		       attached ? get_str(h, "how", "") : get_str(h, "reason", ""));
	}
}

static void render_state_file(struct json_object *st)
{
	if (!st)
		return;
	if (get_bool(st, "writable"))
		printf("state file: %s (writable)\n", get_str(st, "path", "?"));
	else
		printf("state file: %s NOT WRITABLE, changes are refused: %s\n", get_str(st, "path", "?"),
		       get_str(st, "error", "?"));
}

static void render_inactive_rules(struct json_object *rules)
{
	for (size_t i = 0; i < array_len(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);

		printf("rule %" PRIu64 " on %s: inactive (%s)\n", get_u64(r, "id"), get_str(r, "dev", "?"),
		       get_str(r, "reason", "?"));
	}
}

static void render_syncookie_status(struct json_object *sc)
{
	struct json_object *prots = get(sc, "protections");

	if (!sc)
		return;
	if (!get_bool(sc, "available")) {
		printf("SYN protection: unavailable: %s\n", get_str(sc, "reason", "?"));
		return;
	}
	printf("SYN protection: available (%s), %zu protected destination%s\n", get_str(sc, "program", "?"),
	       array_len(prots), array_len(prots) == 1 ? "" : "s");
}

/* "source tables: perim_src4 (ipv4) 1200 of 262144 (0.5%), ...": a flood filling one shows here. */
static void render_source_tables(struct json_object *tables)
{
	if (!array_len(tables))
		return;
	printf("source tables:");
	for (size_t i = 0; i < array_len(tables); i++) {
		struct json_object *t = json_object_array_get_idx(tables, i);
		uint64_t n = get_u64(t, "entries"), max = get_u64(t, "max_entries");

		printf("%s %s (%s) %" PRIu64 " of %" PRIu64 " (%.1f%%)", i ? "," : "", get_str(t, "table", "?"),
		       get_str(t, "family", "?"), n, max, max ? 100.0 * n / max : 0.0);
	}
	printf("\n");
}

/* "processes: 812 tracked (40 exited), 0 dropped, 0 evicted": a full table drops, and shows here. */
static void render_processes(struct json_object *p)
{
	if (!p)
		return;
	printf("processes: %" PRIu64 " tracked (%" PRIu64 " exited), %" PRIu64 " dropped, %" PRIu64 " evicted\n",
	       get_u64(p, "tracked"), get_u64(p, "exited"), get_u64(p, "dropped"), get_u64(p, "evicted"));
}

/*
 * "drop samples: at most 1000/s per CPU, 5963 sent, 5963 received", and any
 * interface whose program samples at another rate.
 */
static void render_drop_samples(struct json_object *r)
{
	struct json_object *ifaces = get(r, "interfaces"), *ds = get(r, "drop_samples");
	uint64_t want = get_u64(ds, "rate");

	if (!ds)
		return;
	if (want)
		printf("drop samples: at most %" PRIu64 "/s per CPU", want);
	else
		printf("drop samples: off");
	if (get(ds, "sent"))
		printf(", %" PRIu64 " sent", get_u64(ds, "sent"));
	printf(", %" PRIu64 " received\n", get_u64(ds, "received"));
	for (size_t i = 0; i < array_len(ifaces); i++) {
		struct json_object *ifc = json_object_array_get_idx(ifaces, i);

		if (!get_bool(ifc, "attached") || (get(ifc, "drop_sample_rate") && get_u64(ifc, "drop_sample_rate") == want))
			continue;
		if (get(ifc, "drop_sample_rate"))
			printf("  %s: its adopted program samples at most %" PRIu64 "/s per CPU (detach and attach to apply)\n",
			       get_str(ifc, "dev", "?"), get_u64(ifc, "drop_sample_rate"));
		else
			printf("  %s: its adopted program's rate is unknown\n", get_str(ifc, "dev", "?"));
	}
}

static void render_status(struct json_object *r)
{
	struct json_object *btf = get(r, "btf");

	printf("perimd pid %" PRIu64 ", version %s, pins under %s\n", get_u64(r, "pid"),
	       get_str(r, "version", "?"), get_str(r, "pin_root", "?"));
	printf("BTF: %s (%s)\n", get_str(btf, "path", "?"), get_str(btf, "source", "?"));
	render_status_interfaces(get(r, "interfaces"));
	render_drop_samples(r);
	render_hooks(get(r, "hooks"));
	render_syncookie_status(get(r, "syncookie"));
	render_source_tables(get(r, "source_tables"));
	render_processes(get(r, "processes"));
	render_state_file(get(r, "state"));
	render_inactive_rules(get(r, "inactive_rules"));
	if (get_bool(get(r, "confirm"), "pending"))
		printf("a change awaits confirmation until %s (%" PRIu64 " ms left): perimctl confirm | perimctl rollback\n",
		       get_str(get(r, "confirm"), "deadline", "?"), get_u64(get(r, "confirm"), "ms_left"));
}

/* ---- events ---- */

/* key=value per top-level member; nested values as compact JSON. */
static void render_event_human(struct json_object *e)
{
	bool first = true;

	if (!json_object_is_type(e, json_type_object)) {
		printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	json_object_object_foreach(e, key, val) {
		const char *text = json_object_is_type(val, json_type_string) ? json_object_get_string(val)
			: json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		printf("%s%s=%s", first ? "" : " ", key, text);
		first = false;
	}
	printf("\n");
}

void perimctl_render_event(const struct perimctl_opts *opts, struct json_object *event)
{
	if (opts->json)
		printf("%s\n", json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		render_event_human(event);
	fflush(stdout);
}

static void render_events(struct json_object *r)
{
	struct json_object *events = get(r, "events");
	struct perimctl_opts human = { .json = false };

	if (!events) {
		render_event_human(r);
		return;
	}
	for (size_t i = 0; i < array_len(events); i++)
		perimctl_render_event(&human, json_object_array_get_idx(events, i));
}

/* ---- fleet ---- */

static void render_fleet_block(struct json_object *r)
{
	printf("fleet: %s blocked (revision %llu)\n", get_str(r, "prefix", "?"),
	       (unsigned long long)get_u64(r, "revision"));
}

static void render_fleet_unblock(struct json_object *r)
{
	printf("fleet: %s unblocked\n", get_str(r, "prefix", "?"));
}

static void render_fleet_list(struct json_object *r)
{
	struct json_object *list = get(r, "decisions");
	time_t now = time(NULL);

	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *d = json_object_array_get_idx(list, i);
		uint64_t expires_ms = get_u64(d, "expires_ms");

		printf("%s", get_str(d, "prefix", "?"));
		if (expires_ms)
			printf(" ttl %llds left", (long long)(expires_ms / 1000 - now));
		else
			printf(" permanent");
		printf(" by %s revision %llu", get_str(d, "author", "?"), (unsigned long long)get_u64(d, "revision"));
		if (*get_str(d, "reason", ""))
			printf(" reason \"%s\"", get_str(d, "reason", ""));
		printf("\n");
	}
	printf("%llu decisions (cap %llu)\n", (unsigned long long)get_u64(r, "count"),
	       (unsigned long long)get_u64(r, "cap"));
}

static void render_fleet_status(struct json_object *r)
{
	printf("fleet %s%s%s: %s %s\n", get_str(r, "name", "?"), *get_str(r, "group", "") ? " group " : "",
	       get_str(r, "group", ""), get_bool(r, "connected") ? "connected to" : "not connected; servers",
	       get_bool(r, "connected") ? get_str(r, "server", "?") : get_str(r, "servers", "?"));
	if (*get_str(r, "user", ""))
		printf("  user %s\n", get_str(r, "user", ""));
	printf("  decisions %llu (cap %llu), last revision %llu, lag %llu entries, last apply %llu ms after creation\n",
	       (unsigned long long)get_u64(r, "decisions"), (unsigned long long)get_u64(r, "decisions_cap"),
	       (unsigned long long)get_u64(r, "last_revision"), (unsigned long long)get_u64(r, "lag_entries"),
	       (unsigned long long)get_u64(r, "last_apply_latency_ms"));
	printf("  rejected %llu malformed, %llu over the cap; %llu reconnects\n",
	       (unsigned long long)get_u64(r, "rejected_malformed"), (unsigned long long)get_u64(r, "rejected_cap"),
	       (unsigned long long)get_u64(r, "reconnects"));
	printf("  events published %llu, dropped %llu, queued %llu\n",
	       (unsigned long long)get_u64(r, "events_published"), (unsigned long long)get_u64(r, "events_dropped"),
	       (unsigned long long)get_u64(r, "events_queued"));
	perimctl_render_fleet_group_status(r);
	if (*get_str(r, "last_error", ""))
		printf("  last error: %s\n", get_str(r, "last_error", ""));
}

/* ---- dispatch ---- */

/* ---- protect ---- */

static void render_protect_change(struct json_object *r)
{
	printf("protect %s: %s\n", get_str(r, "entry", "?"), get_str(r, "done", "?"));
}

static void render_protect_list(struct json_object *r)
{
	struct json_object *list = get(r, "protected");

	if (!array_len(list)) {
		printf("no protect entries\n");
		return;
	}
	printf("%-15s %-43s %-5s %s\n", "DEV", "PREFIX", "PROTO", "DPORT");
	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);

		printf("%-15s %-43s %-5s %s\n", get_str(e, "dev", "?"), get_str(e, "prefix", "?"),
		       get_str(e, "proto", "?"), get_str(e, "dport", "any"));
	}
}

static const struct {
	enum perim_cmd_kind kind;
	void (*render)(struct json_object *result);
} renderers[] = {
	{ PERIM_CMD_ATTACH, render_attach },
	{ PERIM_CMD_DETACH, render_detach },
	{ PERIM_CMD_LIMIT_SET, render_limit_set },
	{ PERIM_CMD_LIMIT_DEL, render_limit_del },
	{ PERIM_CMD_LIMIT_LIST, render_limit_list },
	{ PERIM_CMD_ALLOW_ADD, render_acl_add },
	{ PERIM_CMD_ALLOW_DEL, render_acl_del },
	{ PERIM_CMD_DENY_ADD, render_acl_add },
	{ PERIM_CMD_DENY_DEL, render_acl_del },
	{ PERIM_CMD_ALLOW_LIST, render_acl_list },
	{ PERIM_CMD_DENY_LIST, render_acl_list },
	{ PERIM_CMD_STATS, render_stats },
	{ PERIM_CMD_STATUS, render_status },
	{ PERIM_CMD_TOP, render_top },
	{ PERIM_CMD_EVENTS, render_events },
	{ PERIM_CMD_SHAPE_SET, render_shape_set },
	{ PERIM_CMD_SHAPE_DEL, render_shape_del },
	{ PERIM_CMD_SHAPE_LIST, render_shape_list },
	{ PERIM_CMD_FLEET_BLOCK, render_fleet_block },
	{ PERIM_CMD_FLEET_UNBLOCK, render_fleet_unblock },
	{ PERIM_CMD_FLEET_LIST, render_fleet_list },
	{ PERIM_CMD_FLEET_STATUS, render_fleet_status },
	{ PERIM_CMD_FLEET_APPLY, perimctl_render_fleet_apply },
	{ PERIM_CMD_FLEET_GATEWAYS, perimctl_render_fleet_gateways },
	{ PERIM_CMD_PROTECT_ADD, render_protect_change },
	{ PERIM_CMD_PROTECT_DEL, render_protect_change },
	{ PERIM_CMD_PROTECT_LIST, render_protect_list },
};

void perimctl_render_confirm(struct json_object *result)
{
	if (get(result, "confirm_deadline"))
		printf("rolled back at %s unless \"perimctl confirm\" comes first\n",
		       get_str(result, "confirm_deadline", "?"));
}

void perimctl_render(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
		     struct json_object *result)
{
	if (opts->json || cmd->json_out) {
		printf("%s\n", json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		if (renderers[i].kind == cmd->kind) {
			renderers[i].render(result);
			perimctl_render_confirm(result);
			return;
		}
	}
	printf("%s\n", json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}
