// SPDX-License-Identifier: GPL-2.0
/*
 * The caller's own SSH session is not cut by accident. The client of
 * $SSH_CONNECTION (its address, TCP to the server port) is hit by a deny, an
 * ingress limit or a fleet block that matches it, and protected by a protect
 * entry that matches it. A change is refused (exit 2, naming it) when after
 * it the client is hit and not protected, and the change either adds the hit
 * (deny add, limit set, fleet block, a line of an applied file) or takes
 * away the protection the client had (protect del, an applied file without
 * the protect line of an interface it names); perimctl --force skips the
 * check. The interface the session uses is not known here, so every
 * interface counts. The live configuration comes from perimd ("show",
 * "fleet list": perimd's own copy of the fleet's decisions), never from the
 * NATS server, so a refusal does not depend on the server being there.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perim.h"
#include "perimctl.h"

#define LINE_MAX_BYTES 4096
#define LINE_MAX_WORDS 64
#define RULE_TEXT_MAX 512

struct ssh_peer {
	struct perim_prefix addr;  /* the client, as a full-length prefix */
	uint16_t port;             /* the server's port */
};

/* What a configuration does to the session: the first line that hits it, whether one protects it. */
struct session_view {
	bool hit, protected;
	char hit_line[RULE_TEXT_MAX];
};

/* Interfaces an applied file names: their live lines are replaced by the file's. */
struct dev_set {
	char dev[PERIM_MAX_IFACES][IF_NAMESIZE];
	unsigned n;
};

/* Live lines a change takes away: those of the file's interfaces, or the protect entry deleted. */
struct live_skip {
	const struct dev_set *devs;
	const struct perim_cmd *removed;
};

static bool ssh_peer(struct ssh_peer *peer)
{
	const char *env = getenv("SSH_CONNECTION");
	char client[64], server[64];
	unsigned cport, sport;

	if (!env || sscanf(env, "%63s %u %63s %u", client, &cport, server, &sport) != 4 || sport > 65535)
		return false;
	if (perim_prefix_parse(client, &peer->addr))
		return false;
	peer->port = sport;
	return true;
}

static bool covers(const struct perim_prefix *outer, const struct perim_prefix *inner)
{
	for (unsigned bit = 0; bit < outer->len; bit++) {
		uint8_t m = 0x80 >> (bit % 8);

		if ((outer->addr[bit / 8] & m) != (inner->addr[bit / 8] & m))
			return false;
	}
	return outer->len <= inner->len;
}

static bool port_in(uint16_t port, uint16_t lo, uint16_t hi)
{
	return !lo || (port >= lo && port <= hi);
}

/* Would this command drop or limit the session's packets? */
static bool hits(const struct perim_cmd *c, const struct ssh_peer *peer)
{
	const struct perim_limit_spec *l = &c->limit;

	if (c->kind == PERIM_CMD_DENY_ADD || c->kind == PERIM_CMD_FLEET_BLOCK)
		return covers(&c->prefix, &peer->addr);
	if (c->kind != PERIM_CMD_LIMIT_SET || l->egress)
		return false;
	return (!l->has_src || covers(&l->src, &peer->addr)) &&
	       (l->proto == PERIM_PROTO_ANY || l->proto == IPPROTO_TCP) && port_in(peer->port, l->dport_lo, l->dport_hi);
}

static bool protects(const struct perim_protect_spec *p, const struct ssh_peer *peer)
{
	return covers(&p->prefix, &peer->addr) && (p->proto == PERIM_PROTO_ANY || p->proto == IPPROTO_TCP) &&
	       port_in(peer->port, p->dport_lo, p->dport_hi);
}

static void view_add(struct session_view *v, const struct perim_cmd *c, const struct ssh_peer *peer,
		     const char *line)
{
	if (c->kind == PERIM_CMD_PROTECT_ADD && protects(&c->protect, peer))
		v->protected = true;
	if (!v->hit && hits(c, peer)) {
		v->hit = true;
		snprintf(v->hit_line, sizeof(v->hit_line), "%s", line);
	}
}

static bool dev_set_has(const struct dev_set *s, const char *dev)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->dev[i], dev))
			return true;
	return false;
}

static void dev_set_add(struct dev_set *s, const char *dev)
{
	if (dev[0] && !dev_set_has(s, dev) && s->n < PERIM_MAX_IFACES)
		snprintf(s->dev[s->n++], IF_NAMESIZE, "%s", dev);
}

static bool same_protect(const struct perim_cmd *a, const struct perim_cmd *b)
{
	return !strcmp(a->dev, b->dev) && a->protect.prefix.len == b->protect.prefix.len &&
	       !memcmp(a->protect.prefix.addr, b->protect.prefix.addr, sizeof(a->protect.prefix.addr)) &&
	       a->protect.proto == b->protect.proto && a->protect.dport_lo == b->protect.dport_lo &&
	       a->protect.dport_hi == b->protect.dport_hi;
}

static bool skipped(const struct live_skip *skip, const struct perim_cmd *c)
{
	if (!skip)
		return false;
	if (skip->devs && dev_set_has(skip->devs, c->dev))
		return true;
	return skip->removed && c->kind == PERIM_CMD_PROTECT_ADD && same_protect(c, skip->removed);
}

/*
 * Every line of text (a ruleset: '#' comments, blank lines) into v, but the
 * skipped ones; the interfaces the lines name into devs, when given. A line
 * perimctl cannot parse is left to perimd, which refuses it.
 */
static void scan_text(const char *text, const struct ssh_peer *peer, const struct live_skip *skip,
		      struct session_view *v, struct dev_set *devs)
{
	char line[LINE_MAX_BYTES + 1], raw[LINE_MAX_BYTES + 1], *words[LINE_MAX_WORDS], *save, *w;

	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct perim_cmd c;
		int n = 0;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			line[strcspn(line, "#")] = '\0';
			memcpy(raw, line, strlen(line) + 1);
			for (w = strtok_r(line, " \t\r", &save); w && n < LINE_MAX_WORDS; w = strtok_r(NULL, " \t\r", &save))
				words[n++] = w;
			if (n && !perim_cmd_parse(n, words, &c, NULL, 0) && !skipped(skip, &c)) {
				view_add(v, &c, peer, raw);
				if (devs)
					dev_set_add(devs, c.dev);
			}
		}
		p += len + (nl ? 1 : 0);
	}
}

/* A look-up of the guard's own: its failure is handled here, not printed. */
static int look_up(const struct perimctl_opts *opts, int argc, char **argv, struct json_object **result)
{
	struct perimctl_opts quiet = *opts;

	quiet.quiet = true;
	return perimctl_call(&quiet, argc, argv, result);
}

/* perimd's configuration as ruleset lines ("show"); NULL when perimd does not answer. */
static char *live_config(const struct perimctl_opts *opts)
{
	char *argv[] = { "show" };
	struct json_object *result = NULL, *text;
	char *copy = NULL;

	if (!look_up(opts, 1, argv, &result) && json_object_object_get_ex(result, "text", &text))
		copy = strdup(json_object_get_string(text));
	json_object_put(result);
	return copy;
}

/* The fleet's block decisions as perimd holds them; none when perimd runs without --fleet. */
static void fleet_decisions(const struct perimctl_opts *opts, const struct ssh_peer *peer, struct session_view *v)
{
	char *argv[] = { "fleet", "list" }, line[RULE_TEXT_MAX];
	struct json_object *result = NULL, *list, *prefix;
	struct perim_cmd c = { .kind = PERIM_CMD_FLEET_BLOCK };

	if (look_up(opts, 2, argv, &result) || !json_object_object_get_ex(result, "decisions", &list)) {
		json_object_put(result);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(list, i), "prefix", &prefix) ||
		    perim_prefix_parse(json_object_get_string(prefix), &c.prefix))
			continue;
		snprintf(line, sizeof(line), "fleet block %s", json_object_get_string(prefix));
		view_add(v, &c, peer, line);
	}
	json_object_put(result);
}

/*
 * The session before the change (live) and, when asked, after it (live
 * without the skipped lines, plus the fleet's decisions). A perimd that does
 * not answer protects nothing: the check errs on the side of the session.
 */
static void live_views(const struct perimctl_opts *opts, const struct ssh_peer *peer, const struct live_skip *skip,
		       struct session_view *before, struct session_view *after)
{
	char *live = live_config(opts);

	if (live) {
		scan_text(live, peer, NULL, before, NULL);
		if (after)
			scan_text(live, peer, skip, after, NULL);
	}
	free(live);
	if (after)
		fleet_decisions(opts, peer, after);
}

static void join_words(char *buf, size_t len, int argc, char **argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
}

static int refuse_hit(const char *rule, const struct ssh_peer *peer)
{
	char client[64];

	perim_prefix_format(&peer->addr, client, sizeof(client));
	fprintf(stderr, "Error: argument \"%s\" is wrong: it would drop or limit %s, the client of your own SSH "
		"session ($SSH_CONNECTION); protect it first (perimctl protect add DEV %s proto tcp dport %u) or "
		"say perimctl --force\n", rule, client, client, peer->port);
	return PERIM_EXIT_BADINPUT;
}

static int refuse_unprotect(const char *rule, const struct ssh_peer *peer, const char *hit_line)
{
	char client[64];

	perim_prefix_format(&peer->addr, client, sizeof(client));
	fprintf(stderr, "Error: argument \"%s\" is wrong: it takes away the protection of %s, the client of your "
		"own SSH session ($SSH_CONNECTION), which \"%s\" would then drop or limit; keep a protect entry "
		"that covers it or say perimctl --force\n", rule, client, hit_line);
	return PERIM_EXIT_BADINPUT;
}

/* apply FILE: the file's lines replace the live lines of the interfaces it names. */
static int guard_apply(const struct perimctl_opts *opts, const struct perim_cmd *cmd, const char *text,
		       const struct ssh_peer *peer)
{
	struct session_view file = { 0 }, before = { 0 }, after = { 0 };
	struct dev_set named = { 0 };
	struct live_skip skip = { .devs = &named };

	scan_text(text, peer, NULL, &file, &named);
	if (file.hit && file.protected)
		return 0;
	after = file;
	live_views(opts, peer, &skip, &before, &after);
	if (!after.hit || after.protected)
		return 0;
	if (file.hit)
		return refuse_hit(file.hit_line, peer);
	return before.protected ? refuse_unprotect(cmd->file, peer, after.hit_line) : 0;
}

/* protect del: refused when the entry protects the session and nothing else would while a line hits it. */
static int guard_protect_del(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc,
			     char **argv, const struct ssh_peer *peer)
{
	struct session_view before = { 0 }, after = { 0 };
	struct live_skip skip = { .removed = cmd };
	char rule[RULE_TEXT_MAX];

	if (!protects(&cmd->protect, peer))
		return 0;
	live_views(opts, peer, &skip, &before, &after);
	if (!after.hit || after.protected)
		return 0;
	join_words(rule, sizeof(rule), argc, argv);
	return refuse_unprotect(rule, peer, after.hit_line);
}

/* One command that may add a hit: deny add, limit set, fleet block. */
static int guard_command(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv,
			 const struct ssh_peer *peer)
{
	struct session_view live = { 0 };
	char rule[RULE_TEXT_MAX];

	if (!hits(cmd, peer))
		return 0;
	live_views(opts, peer, NULL, &live, NULL);
	if (live.protected)
		return 0;
	join_words(rule, sizeof(rule), argc, argv);
	return refuse_hit(rule, peer);
}

int perimctl_ssh_guard(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv,
		       const char *text)
{
	struct ssh_peer peer;

	if (opts->force || !ssh_peer(&peer))
		return 0;
	if (cmd->kind == PERIM_CMD_APPLY)
		return !cmd->check && text ? guard_apply(opts, cmd, text, &peer) : 0;
	if (cmd->kind == PERIM_CMD_PROTECT_DEL)
		return guard_protect_del(opts, cmd, argc, argv, &peer);
	return guard_command(opts, cmd, argc, argv, &peer);
}
