// SPDX-License-Identifier: GPL-2.0
/*
 * The caller's own SSH session is not cut by accident: a deny or an ingress
 * limit that would match the client of $SSH_CONNECTION (its address, TCP to
 * the server port) is refused, exit 2 naming the line, unless a protect
 * entry (live, or in the file being applied) covers that client or the
 * caller said --force. The interface is not known here, so every interface
 * counts: the check errs on the side of the session.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perim.h"
#include "perimctl.h"

struct ssh_peer {
	struct perim_prefix addr;  /* the client, as a full-length prefix */
	uint16_t port;             /* the server's port */
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

	if (c->kind == PERIM_CMD_DENY_ADD)
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

/* A live protect entry, from "protect list", that covers the session. */
static bool live_protected(const struct perimctl_opts *opts, const struct ssh_peer *peer)
{
	char *argv[] = { "protect", "list" };
	struct json_object *result = NULL, *list, *e, *v;
	bool found = false;

	if (perimctl_call(opts, 2, argv, &result))
		return false;
	if (json_object_object_get_ex(result, "protected", &list)) {
		for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
			struct perim_cmd c;
			char *words[8] = { "protect", "add", "x" };
			char dport[16] = "";
			int n = 4;

			e = json_object_array_get_idx(list, i);
			if (!json_object_object_get_ex(e, "prefix", &v))
				continue;
			words[3] = (char *)json_object_get_string(v);
			if (json_object_object_get_ex(e, "proto", &v) && strcmp(json_object_get_string(v), "any")) {
				words[n++] = "proto";
				words[n++] = (char *)json_object_get_string(v);
			}
			if (json_object_object_get_ex(e, "dport", &v) && json_object_get_string(v)) {
				snprintf(dport, sizeof(dport), "%s", json_object_get_string(v));
				words[n++] = "dport";
				words[n++] = dport;
			}
			found = !perim_cmd_parse(n, words, &c, NULL, 0) && protects(&c.protect, peer);
		}
	}
	json_object_put(result);
	return found;
}

/* The first line of text that hits the session, and whether a protect line of it covers it. */
static int scan_text(const char *text, const struct ssh_peer *peer, char *hit, size_t hitlen, bool *protected)
{
	char line[4097], raw[4097], *words[64], *save, *w;
	int found = 0;

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
			for (w = strtok_r(line, " \t\r", &save); w && n < 64; w = strtok_r(NULL, " \t\r", &save))
				words[n++] = w;
			if (n && !perim_cmd_parse(n, words, &c, NULL, 0)) {
				if (c.kind == PERIM_CMD_PROTECT_ADD && protects(&c.protect, peer))
					*protected = true;
				if (!found && hits(&c, peer)) {
					snprintf(hit, hitlen, "%s", raw);
					found = 1;
				}
			}
		}
		p += len + (nl ? 1 : 0);
	}
	return found;
}

int perimctl_ssh_guard(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv,
		       const char *text)
{
	char client[64], rule[512] = "";
	struct ssh_peer peer;
	bool protected = false;
	int hit = 0;

	if (opts->force || !ssh_peer(&peer))
		return 0;
	if (cmd->kind == PERIM_CMD_APPLY && !cmd->check && text) {
		hit = scan_text(text, &peer, rule, sizeof(rule), &protected);
	} else if (hits(cmd, &peer)) {
		hit = 1;
		for (int i = 0, n = 0; i < argc; i++)
			n += snprintf(rule + n, sizeof(rule) - n > 0 ? sizeof(rule) - n : 0, "%s%s", i ? " " : "", argv[i]);
	}
	if (!hit || protected || live_protected(opts, &peer))
		return 0;
	perim_prefix_format(&peer.addr, client, sizeof(client));
	fprintf(stderr, "Error: argument \"%s\" is wrong: it would drop or limit %s, the client of your own SSH "
		"session ($SSH_CONNECTION); protect it first (perimctl protect add DEV %s proto tcp dport %u) or "
		"say perimctl --force\n", rule, client, client, peer.port);
	return PERIM_EXIT_BADINPUT;
}
