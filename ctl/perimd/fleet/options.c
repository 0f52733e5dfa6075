// SPDX-License-Identifier: GPL-2.0
/* The fleet options' syntax: server URLs, names that become subject tokens, readable files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events/events_json.h"
#include "fleet/creds.h"
#include "fleet/options.h"

bool perimd_fleet_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= PERIMD_FLEET_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

int perimd_fleet_servers_split(const char *servers, char *buf, size_t buflen, const char **urls)
{
	char *save = NULL, *tok;
	int n = 0;

	snprintf(buf, buflen, "%s", servers);
	for (tok = strtok_r(buf, ",", &save); tok && n < PERIMD_FLEET_MAX_SERVERS;
	     tok = strtok_r(NULL, ",", &save))
		urls[n++] = tok;
	return n;
}

void perimd_fleet_servers_display(const char *servers, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	while (*servers && used + 1 < len) {
		const char *end = strchr(servers, ','), *scheme = strstr(servers, "://"), *at;
		size_t n = end ? (size_t)(end - servers) : strlen(servers);

		at = memchr(servers, '@', n);
		if (scheme && at && scheme < at) {
			/* scheme "://" then host after the '@' */
			used += snprintf(out + used, len - used, "%.*s%.*s", (int)(scheme + 3 - servers), servers,
					 (int)(servers + n - at - 1), at + 1);
		} else {
			used += snprintf(out + used, len - used, "%.*s", (int)n, servers);
		}
		if (used >= len)
			break;
		servers += n;
		if (*servers == ',') {
			used += snprintf(out + used, len - used, ",");
			servers++;
		}
	}
}

void perimd_fleet_servers_user(const char *servers, char *out, size_t len)
{
	const char *scheme = strstr(servers, "://"), *end = strchr(servers, ',');
	const char *at, *user, *colon;

	out[0] = '\0';
	if (!scheme || (end && scheme > end))
		return;
	user = scheme + 3;
	at = strchr(user, '@');
	if (!at || (end && at > end))
		return;
	colon = memchr(user, ':', at - user);
	snprintf(out, len, "%.*s", (int)((colon ? colon : at) - user), user);
}

static int why_set(char *why, size_t whylen, const char *text)
{
	snprintf(why, whylen, "%s", text);
	return -1;
}

static int servers_check(const char *value, char *why, size_t whylen)
{
	char buf[1024], *save = NULL, *tok;
	int n = 0;

	if (strlen(value) >= sizeof(buf))
		return why_set(why, whylen, "too long");
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *hostport = strstr(tok, "://");

		if (++n > PERIMD_FLEET_MAX_SERVERS)
			return why_set(why, whylen, "more than 8 servers");
		if (!hostport || (strncmp(tok, "nats://", 7) && strncmp(tok, "tls://", 6)))
			return snprintf(why, whylen, "\"%s\" is not nats://HOST:PORT or tls://HOST:PORT", tok), -1;
		if (!strchr(hostport + 3, ':') || !hostport[3])
			return snprintf(why, whylen, "\"%s\" has no :PORT", tok), -1;
	}
	if (!n || value[strlen(value) - 1] == ',')
		return why_set(why, whylen, "expected nats://HOST:PORT[,nats://HOST:PORT...]");
	return 0;
}

static int events_check(const char *value, char *why, size_t whylen)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(value) >= sizeof(buf))
		return why_set(why, whylen, "too long");
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (perim_ev_type_parse(tok) < 0)
			return snprintf(why, whylen, "unknown event type \"%s\"", tok), -1;
	return 0;
}

static int copy_name(char *dst, const char *value, char *why, size_t whylen)
{
	if (!perimd_fleet_name_ok(value))
		return why_set(why, whylen, "a name is 1-63 of A-Z a-z 0-9 _ - (it becomes a NATS subject token)");
	snprintf(dst, PERIMD_FLEET_NAME_MAX, "%s", value);
	return 0;
}

static int copy_file(char *dst, size_t len, const char *value, char *why, size_t whylen)
{
	if (!*value || strlen(value) >= len)
		return why_set(why, whylen, "empty or too long");
	if (access(value, R_OK) < 0)
		return snprintf(why, whylen, "cannot read it: %m"), -1;
	snprintf(dst, len, "%s", value);
	return 0;
}

int perimd_fleet_opt_apply(struct perimd_fleet_opts *o, const char *name, const char *value,
			   char *why, size_t whylen)
{
	if (!strcmp(name, "fleet")) {
		if (servers_check(value, why, whylen))
			return -1;
		snprintf(o->servers, sizeof(o->servers), "%s", value);
		return 0;
	}
	if (!strcmp(name, "fleet-name"))
		return copy_name(o->name, value, why, whylen);
	if (!strcmp(name, "fleet-group"))
		return copy_name(o->group, value, why, whylen);
	if (!strcmp(name, "fleet-creds")) {
		struct fleet_creds c;

		if (copy_file(o->creds, sizeof(o->creds), value, why, whylen) || fleet_creds_read(value, &c, why, whylen))
			return -1;
		snprintf(o->creds_nkey, sizeof(o->creds_nkey), "%s", c.nkey_public);
		return 0;
	}
	if (!strcmp(name, "fleet-tls-ca"))
		return copy_file(o->tls_ca, sizeof(o->tls_ca), value, why, whylen);
	if (!strcmp(name, "fleet-events")) {
		if (events_check(value, why, whylen))
			return -1;
		snprintf(o->events, sizeof(o->events), "%s", value);
		return 0;
	}
	return 1;
}

int perimd_fleet_opts_check(const struct perimd_fleet_opts *o, char *why, size_t whylen)
{
	if (o->servers[0])
		return 0;
	if (o->name[0] || o->group[0] || o->creds[0] || o->tls_ca[0] || o->events[0])
		return why_set(why, whylen, "needs --fleet nats://HOST:PORT");
	return 0;
}
