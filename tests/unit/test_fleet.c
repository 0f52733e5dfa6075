// SPDX-License-Identifier: GPL-2.0
/* The fleet's pure parts: a decision's key and JSON value, and fleet prefixes in the flattening. */
#include <stdlib.h>
#include <string.h>

#include "fleet/decisions/decision.h"
#include "fleet/nkey.h"
#include "fleet/options.h"
#include "model/rules.h"
#include "test.h"

static char err[256];

static struct perim_prefix pfx(const char *s)
{
	struct perim_prefix p;

	if (perim_prefix_parse(s, &p))
		fprintf(stderr, "  bad test prefix %s\n", s);
	return p;
}

static uint8_t verdict_of(const struct perim_lpm_set *set, int slot, const char *prefix)
{
	struct perim_prefix p = pfx(prefix);
	const struct perim_lpm_entry *e;
	struct perim_lpm_ukey key;

	perim_lpm_key_make(&key, slot, &p);
	e = perim_lpm_set_find(set, &key);
	return e ? e->value.acl : 0xff;
}

static void test_key_of(void)
{
	struct perim_prefix v6 = pfx("2001:db8:bad::/48"), v4 = pfx("203.0.113.0/24");
	char key[FLEET_KEY_MAX];

	perimd_fleet_key_of(&v4, key);
	ASSERT_STREQ(key, "203.0.113.0/24", "IPv4 key");
	perimd_fleet_key_of(&v6, key);
	ASSERT_STREQ(key, "2001_db8_bad__/48", "IPv6 key: ':' is no NATS key character");
}

static void test_decision_round_trip(void)
{
	struct perimd_fleet_decision d = { .ttl_s = 60, .created_ms = 1733480000123ULL }, back;
	char *text, why[256];

	d.prefix = pfx("2001:db8:bad::/48");
	perimd_fleet_key_of(&d.prefix, d.key);
	snprintf(d.reason, sizeof(d.reason), "scan from \"x\"");
	snprintf(d.author, sizeof(d.author), "gw1");
	text = perimd_fleet_decision_format(&d);
	if (!ASSERT_OK_PTR(text, "format"))
		return;
	ASSERT_OK(perimd_fleet_decision_parse(d.key, text, strlen(text), &back, why, sizeof(why)), why);
	ASSERT_EQ(back.ttl_s, 60, "ttl");
	ASSERT_EQ(back.created_ms, 1733480000123ULL, "created");
	ASSERT_STREQ(back.reason, d.reason, "reason");
	ASSERT_STREQ(back.author, "gw1", "author");
	ASSERT_TRUE(!memcmp(back.prefix.addr, d.prefix.addr, 16) && back.prefix.len == d.prefix.len, "prefix");
	ASSERT_EQ(perimd_fleet_decision_expires_ms(&back), 1733480000123ULL + 60000, "expiry");
	free(text);
}

/* Every bad value is refused with the field named, and out is left alone. */
static void test_decision_rejects(void)
{
	static const struct { const char *key, *value, *names; } bad[] = {
		{ "10.0.0.0/8", "not json", "value" },
		{ "10.0.0.0/8", "[1,2]", "value" },
		{ "10.0.0.0/8", "{\"created_ms\":1}", "\"prefix\" is missing" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.1/8\",\"created_ms\":1}", "\"prefix\"" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.1.0.0/16\",\"created_ms\":1}", "expected key 10.1.0.0/16" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.0/8\",\"created_ms\":1,\"ttl\":\"1h\"}", "\"ttl\" is not an integer" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.0/8\",\"created_ms\":1,\"ttl\":-1}", "\"ttl\" is out of range" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.0/8\"}", "\"created_ms\" is missing" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.0/8\",\"created_ms\":0}", "\"created_ms\" is 0" },
		{ "10.0.0.0/8", "{\"prefix\":\"10.0.0.0/8\",\"created_ms\":1,\"reason\":7}", "\"reason\" is not a string" },
	};
	struct perimd_fleet_decision out = { .ttl_s = 77 };
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ASSERT_EQ(perimd_fleet_decision_parse(bad[i].key, bad[i].value, strlen(bad[i].value), &out,
						      why, sizeof(why)), -1, bad[i].value);
		ASSERT_TRUE(strstr(why, bad[i].names) != NULL, why);
	}
	ASSERT_EQ(out.ttl_s, 77, "out untouched");
}

static void test_fleet_set_dedups_and_covers(void)
{
	struct perim_model *m = perim_model_new(), *copy;
	struct perim_prefix list[] = { pfx("10.0.0.0/8"), pfx("2001:db8::/32"), pfx("10.0.0.0/8"), pfx("192.0.2.7") };
	struct perim_prefix inside = pfx("10.9.0.0/16"), outside = pfx("11.0.0.0/8"), host = pfx("192.0.2.7");

	if (!ASSERT_OK_PTR(m, "model"))
		return;
	ASSERT_OK(perim_model_fleet_set(m, list, 4), "set");
	ASSERT_EQ(m->n_fleet, 3, "duplicates merged");
	ASSERT_TRUE(perim_model_fleet_covers(m, &inside), "a longer prefix inside is covered");
	ASSERT_TRUE(!perim_model_fleet_covers(m, &outside), "a prefix outside is not");
	ASSERT_TRUE(perim_model_fleet_covers(m, &host), "a /32 decision covers its address");
	copy = perim_model_dup(m);
	if (ASSERT_OK_PTR(copy, "dup")) {
		ASSERT_EQ(copy->n_fleet, 3, "dup keeps the fleet prefixes");
		ASSERT_TRUE(copy->fleet != m->fleet, "own copy");
	}
	ASSERT_OK(perim_model_fleet_set(m, NULL, 0), "cleared");
	ASSERT_TRUE(!perim_model_fleet_covers(m, &inside), "nothing covered after clearing");
	perim_model_free(copy);
	perim_model_free(m);
}

/* Fleet prefixes land on every interface, under the local lists. */
static void test_flatten_fleet_under_local_lists(void)
{
	struct perim_model *m = perim_model_new();
	struct perim_prefix fleet[] = { pfx("10.0.0.0/8"), pfx("10.1.2.0/24"), pfx("2001:db8::/32") };
	struct perim_prefix allow = pfx("10.1.0.0/16"), deny = pfx("10.2.0.0/16");
	struct perim_lpm_set set;

	if (!ASSERT_OK_PTR(m, "model"))
		return;
	ASSERT_OK(perim_model_iface_add(m, "eth0", PERIM_MODE_DEFAULT, -1, err, sizeof(err)), err);
	ASSERT_OK(perim_model_iface_add(m, "eth1", PERIM_MODE_DEFAULT, -1, err, sizeof(err)), err);
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_ALLOW, &allow, err, sizeof(err)), err);
	ASSERT_OK(perim_model_acl_add(m, 0, PERIM_ACL_DENY, &deny, err, sizeof(err)), err);
	ASSERT_OK(perim_model_fleet_set(m, fleet, 3), "fleet");
	ASSERT_OK(perim_flatten(m, &set, err, sizeof(err)), err);
	ASSERT_EQ(verdict_of(&set, 0, "10.0.0.0/8"), PERIM_ACL_FLEET_DENY, "eth0: fleet deny");
	ASSERT_EQ(verdict_of(&set, 1, "10.0.0.0/8"), PERIM_ACL_FLEET_DENY, "eth1: fleet deny too");
	ASSERT_EQ(verdict_of(&set, 1, "2001:db8::/32"), PERIM_ACL_FLEET_DENY, "IPv6 fleet deny");
	ASSERT_EQ(verdict_of(&set, 0, "10.1.0.0/16"), PERIM_ACL_ALLOW, "a shorter local allow wins");
	ASSERT_EQ(verdict_of(&set, 0, "10.1.2.0/24"), PERIM_ACL_ALLOW,
		  "a longer fleet deny inside a local allow stays allowed");
	ASSERT_EQ(verdict_of(&set, 1, "10.1.2.0/24"), PERIM_ACL_FLEET_DENY, "eth1 has no allow list");
	ASSERT_EQ(verdict_of(&set, 0, "10.2.0.0/16"), PERIM_ACL_DENY, "a local deny stays a local deny");
	perim_lpm_set_free(&set);
	perim_model_free(m);
}

static void test_options(void)
{
	struct perimd_fleet_opts o = { 0 };
	char why[256], shown[256];

	ASSERT_OK(perimd_fleet_opt_apply(&o, "fleet", "nats://a:1,tls://b:2", why, sizeof(why)), why);
	ASSERT_EQ(perimd_fleet_opt_apply(&o, "fleet", "http://a:1", why, sizeof(why)), -1, "scheme");
	ASSERT_EQ(perimd_fleet_opt_apply(&o, "fleet", "nats://a", why, sizeof(why)), -1, "no port");
	ASSERT_EQ(perimd_fleet_opt_apply(&o, "fleet-name", "gw.1", why, sizeof(why)), -1, "a dot in a name");
	ASSERT_EQ(perimd_fleet_opt_apply(&o, "fleet-events", "exec,nope", why, sizeof(why)), -1, "event type");
	ASSERT_EQ(perimd_fleet_opt_apply(&o, "interface", "x", why, sizeof(why)), 1, "not a fleet option");
	perimd_fleet_servers_display("nats://u:secret@h:1,nats://h2:2", shown, sizeof(shown));
	ASSERT_STREQ(shown, "nats://h:1,nats://h2:2", "password left out");
	perimd_fleet_servers_user("nats://u:secret@h:1,nats://h2:2", shown, sizeof(shown));
	ASSERT_STREQ(shown, "u", "user of the first URL");
	perimd_fleet_servers_user("nats://h:1,nats://v@h2:2", shown, sizeof(shown));
	ASSERT_STREQ(shown, "", "no user in the first URL");
}

/*
 * RFC 8032's first Ed25519 vector as a user nkey; the expected text was
 * computed apart from perimd (Python's base64.b32encode and binascii.crc_hqx).
 */
static const uint8_t RFC8032_SECRET[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
#define RFC8032_SEED "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"
#define RFC8032_PUBLIC "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"

static void test_nkey_known_answer(void)
{
	char seed[FLEET_NKEY_SEED_LEN + 1], pub[FLEET_NKEY_PUBLIC_LEN + 1], why[128];

	fleet_nkey_user_seed(RFC8032_SECRET, seed);
	ASSERT_STREQ(seed, RFC8032_SEED, "the seed's text");
	ASSERT_OK(fleet_nkey_user_public(seed, pub, why, sizeof(why)), why);
	ASSERT_STREQ(pub, RFC8032_PUBLIC, "the public key of RFC 8032's secret");
}

/* The same secret as an account and an operator nkey (computed apart, as above). */
static void test_nkey_kinds_known_answer(void)
{
	static const struct { enum fleet_nkey_kind kind; const char *seed, *pub; } kinds[] = {
		{ FLEET_NKEY_ACCOUNT, "SAAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YHY3Q",
		  "ADLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRVRTU" },
		{ FLEET_NKEY_OPERATOR, "SOAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YFUVY",
		  "ODLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRVH7S" },
	};
	char seed[FLEET_NKEY_SEED_LEN + 1], pub[FLEET_NKEY_PUBLIC_LEN + 1], why[128];
	uint8_t raw[32];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fleet_nkey_seed(kinds[i].kind, RFC8032_SECRET, seed);
		ASSERT_STREQ(seed, kinds[i].seed, "the seed's text");
		ASSERT_OK(fleet_nkey_public(kinds[i].kind, seed, pub, why, sizeof(why)), why);
		ASSERT_STREQ(pub, kinds[i].pub, "the public key");
		ASSERT_OK(fleet_nkey_seed_raw(kinds[i].kind, seed, raw, why, sizeof(why)), why);
		ASSERT_TRUE(!memcmp(raw, RFC8032_SECRET, sizeof(raw)), "the raw seed back");
	}
	ASSERT_EQ(fleet_nkey_seed_raw(FLEET_NKEY_ACCOUNT, kinds[1].seed, raw, why, sizeof(why)), -1, "kind");
	ASSERT_TRUE(strstr(why, "not an account seed") != NULL, why);
	ASSERT_EQ(fleet_nkey_user_public(kinds[0].seed, pub, why, sizeof(why)), -1, "an account seed as a user's");
}

/* RFC 4648's test vectors, without padding (as nkeys and a JWT's jti use base32). */
static void test_nkey_base32(void)
{
	char out[16];

	fleet_nkey_base32((const uint8_t *)"foobar", 6, out);
	ASSERT_STREQ(out, "MZXW6YTBOI", "foobar");
	fleet_nkey_base32((const uint8_t *)"f", 1, out);
	ASSERT_STREQ(out, "MY", "f");
}

static void test_nkey_rejects(void)
{
	static const struct { const char *seed, *names; } bad[] = {
		{ "SUAJ2YNRTXX62WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA", "checksum" },
		/* non-zero bits past the data in the last character */
		{ "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCB", "base32" },
		/* the same secret as an account seed */
		{ "SAAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YHY3Q", "not a user seed" },
		{ "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALC", "base32" },
		{ "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YAL1A", "base32" },
	};
	char pub[FLEET_NKEY_PUBLIC_LEN + 1], why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ASSERT_EQ(fleet_nkey_user_public(bad[i].seed, pub, why, sizeof(why)), -1, bad[i].seed);
		ASSERT_TRUE(strstr(why, bad[i].names) != NULL, why);
	}
}
