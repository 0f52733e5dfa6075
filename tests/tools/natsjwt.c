// SPDX-License-Identifier: GPL-2.0
/*
 * natsjwt: NATS operator-mode credentials for the fleet tests (Debian has no
 * `nsc`): an operator, accounts and users as v2 JWTs, and a user's .creds
 * file, with the nkey encoding perimd itself reads (ctl/perimd/fleet/nkey.c).
 *
 *   natsjwt operator DIR NAME
 *       DIR/NAME.seed (SO...) and DIR/NAME.jwt, self-signed.
 *   natsjwt account DIR OPERATOR NAME [system]
 *       DIR/NAME.seed (SA...) and DIR/NAME.jwt, signed by DIR/OPERATOR.seed,
 *       JetStream enabled without limits (nats-server enables it per account
 *       only when the account's claims give it storage); "system": without
 *       JetStream, for the server's system account (which JetStream needs,
 *       and which may not have it).
 *   natsjwt user DIR ACCOUNT NAME [pub SUBJECT]... [sub SUBJECT]...
 *       DIR/NAME.creds: the user's JWT, signed by DIR/ACCOUNT.seed, allowing
 *       exactly the subjects given (none given: everything), and its seed.
 *
 * Each prints the new public key. Exit 0, or 1 with the reason.
 *
 * A JWT is base64url(header).base64url(claims).base64url(signature), no
 * padding, the Ed25519 signature by the issuer's nkey over the first two
 * parts. The claims' "jti" is the base32 (no padding) SHA-512/256 of the
 * claims' standard fields (iat, iss, name, sub) without it, as nats-io/jwt
 * v2 computes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fleet/nkey.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define JWT_MAX 16384

struct nkey {
	enum fleet_nkey_kind kind;
	uint8_t raw[32];
	char seed[FLEET_NKEY_SEED_LEN + 1];
	char pub[FLEET_NKEY_PUBLIC_LEN + 1];
};

__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "natsjwt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int key_new(struct nkey *k, enum fleet_nkey_kind kind)
{
	char why[128];

	k->kind = kind;
	if (RAND_bytes(k->raw, sizeof(k->raw)) != 1)
		return die("no random bytes from OpenSSL");
	fleet_nkey_seed(kind, k->raw, k->seed);
	if (fleet_nkey_public(kind, k->seed, k->pub, why, sizeof(why)))
		return die("%s", why);
	return 0;
}

static int write_file(const char *dir, const char *name, const char *ext, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return die("%s: %s", path, strerror(errno));
	ok = write(fd, text, len) == (ssize_t)len;
	if (close(fd) < 0 || !ok)
		return die("writing %s failed", path);
	return 0;
}

static int key_load(struct nkey *k, enum fleet_nkey_kind kind, const char *dir, const char *name)
{
	char path[PATH_MAX], why[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s.seed", dir, name);
	f = fopen(path, "r");
	if (!f)
		return die("%s: %s", path, strerror(errno));
	ok = fscanf(f, "%58s", k->seed) == 1;
	fclose(f);
	k->kind = kind;
	if (!ok || fleet_nkey_seed_raw(kind, k->seed, k->raw, why, sizeof(why)) ||
	    fleet_nkey_public(kind, k->seed, k->pub, why, sizeof(why)))
		return die("%s: %s", path, ok ? why : "empty");
	return 0;
}

/* base64url without padding, of n bytes, into out (at least 4 * (n + 2) / 3 + 1). */
static void base64url(const uint8_t *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	for (char *c = out; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
}

static int append_b64(char *jwt, size_t cap, const void *data, size_t n)
{
	size_t at = strlen(jwt);

	if (at + 4 * (n + 2) / 3 + 2 > cap)
		return die("the JWT is over %d bytes", JWT_MAX);
	if (at)
		jwt[at++] = '.';
	base64url(data, n, jwt + at);
	return 0;
}

static int sha512_256(const char *text, uint8_t out[32])
{
	unsigned len = 32;

	if (EVP_Digest(text, strlen(text), out, &len, EVP_sha512_256(), NULL) != 1 || len != 32)
		return die("OpenSSL has no SHA-512/256");
	return 0;
}

static int sign(const struct nkey *k, const char *text, uint8_t sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->raw, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	int ok = pk && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		 EVP_DigestSign(ctx, sig, &len, (const unsigned char *)text, strlen(text)) == 1 && len == 64;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok ? 0 : die("OpenSSL could not sign with Ed25519");
}

/* The standard fields in nats-io/jwt's order; their JSON without jti is what jti hashes. */
static struct json_object *standard_claims(const char *name, const struct nkey *issuer, const char *subject)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "iat", json_object_new_int64(time(NULL)));
	json_object_object_add(c, "iss", json_object_new_string(issuer->pub));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "sub", json_object_new_string(subject));
	return c;
}

/* The signed JWT of name's claims, nats (taken) their "nats" part, into jwt[JWT_MAX]. */
static int encode(const char *name, const struct nkey *issuer, const char *subject, struct json_object *nats,
		  char *jwt)
{
	static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
	struct json_object *c = standard_claims(name, issuer, subject), *full = json_object_new_object();
	uint8_t hash[32], sig[64];
	char jti[64];
	const char *text;
	int ret = -1;

	if (sha512_256(json_object_to_json_string_ext(c, JSON_FLAGS), hash))
		goto out;
	fleet_nkey_base32(hash, sizeof(hash), jti);
	json_object_object_add(full, "jti", json_object_new_string(jti));
	json_object_object_foreach(c, key, val)
		json_object_object_add(full, key, json_object_get(val));
	json_object_object_add(full, "nats", json_object_get(nats));
	text = json_object_to_json_string_ext(full, JSON_FLAGS);
	jwt[0] = '\0';
	if (append_b64(jwt, JWT_MAX, header, strlen(header)) || append_b64(jwt, JWT_MAX, text, strlen(text)) ||
	    sign(issuer, jwt, sig) || append_b64(jwt, JWT_MAX, sig, sizeof(sig)))
		goto out;
	ret = 0;
out:
	json_object_put(c);
	json_object_put(full);
	json_object_put(nats);
	return ret;
}

static struct json_object *typed(const char *type)
{
	struct json_object *n = json_object_new_object();

	json_object_object_add(n, "type", json_object_new_string(type));
	json_object_object_add(n, "version", json_object_new_int(2));
	return n;
}

static void add_unlimited(struct json_object *o, const char *const *keys)
{
	for (; *keys; keys++)
		json_object_object_add(o, *keys, json_object_new_int(-1));
}

static int make_operator(const char *dir, const char *name)
{
	struct nkey op;
	char jwt[JWT_MAX];

	if (key_new(&op, FLEET_NKEY_OPERATOR) || encode(name, &op, op.pub, typed("operator"), jwt) ||
	    write_file(dir, name, "seed", op.seed) || write_file(dir, name, "jwt", jwt))
		return -1;
	printf("%s\n", op.pub);
	return 0;
}

static int make_account(const char *dir, const char *operator, const char *name, bool system)
{
	static const char *const limits[] = { "subs", "data", "payload", "imports", "exports", "conn", "leaf", NULL };
	static const char *const jetstream[] = { "mem_storage", "disk_storage", "streams", "consumer", NULL };
	struct json_object *nats = typed("account"), *lim = json_object_new_object();
	struct nkey op, acc;
	char jwt[JWT_MAX];

	add_unlimited(lim, limits);
	if (!system)
		add_unlimited(lim, jetstream);
	json_object_object_add(lim, "wildcards", json_object_new_boolean(1));
	json_object_object_add(nats, "limits", lim);
	if (key_load(&op, FLEET_NKEY_OPERATOR, dir, operator) || key_new(&acc, FLEET_NKEY_ACCOUNT)) {
		json_object_put(nats);
		return -1;
	}
	if (encode(name, &op, acc.pub, nats, jwt) || write_file(dir, name, "seed", acc.seed) ||
	    write_file(dir, name, "jwt", jwt))
		return -1;
	printf("%s\n", acc.pub);
	return 0;
}

/* "pub SUBJECT" / "sub SUBJECT" pairs into {"pub":{"allow":[...]},"sub":{"allow":[...]}}. */
static int add_permissions(struct json_object *nats, int argc, char **argv)
{
	struct json_object *allow[2] = { NULL, NULL };
	static const char *const dirs[2] = { "pub", "sub" };

	for (int i = 0; i < argc; i += 2) {
		int d = !strcmp(argv[i], "pub") ? 0 : !strcmp(argv[i], "sub") ? 1 : -1;

		if (d < 0 || i + 1 == argc)
			return die("\"%s\": expected pub SUBJECT or sub SUBJECT", argv[i]);
		if (!allow[d]) {
			struct json_object *p = json_object_new_object();

			allow[d] = json_object_new_array();
			json_object_object_add(p, "allow", allow[d]);
			json_object_object_add(nats, dirs[d], p);
		}
		json_object_array_add(allow[d], json_object_new_string(argv[i + 1]));
	}
	return 0;
}

static int write_creds(const char *dir, const char *name, const char *jwt, const char *seed)
{
	char text[JWT_MAX + 1024];
	int ret;

	snprintf(text, sizeof(text),
		 "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
		 "************************* IMPORTANT *************************\n"
		 "NKEY Seed printed below can be used to sign and prove identity.\n"
		 "NKEYs are sensitive and should be treated as secrets.\n\n"
		 "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
		 "*************************************************************\n",
		 jwt, seed);
	ret = write_file(dir, name, "creds", text);
	OPENSSL_cleanse(text, sizeof(text));
	return ret;
}

static int make_user(const char *dir, const char *account, const char *name, int argc, char **argv)
{
	static const char *const limits[] = { "subs", "data", "payload", NULL };
	struct json_object *nats = typed("user");
	struct nkey acc, user;
	char jwt[JWT_MAX];

	add_unlimited(nats, limits);
	if (add_permissions(nats, argc, argv) || key_load(&acc, FLEET_NKEY_ACCOUNT, dir, account) ||
	    key_new(&user, FLEET_NKEY_USER)) {
		json_object_put(nats);
		return -1;
	}
	if (encode(name, &acc, user.pub, nats, jwt) || write_creds(dir, name, jwt, user.seed))
		return -1;
	printf("%s\n", user.pub);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = -1;

	if (argc == 4 && !strcmp(argv[1], "operator"))
		ret = make_operator(argv[2], argv[3]);
	else if ((argc == 5 || (argc == 6 && !strcmp(argv[5], "system"))) && !strcmp(argv[1], "account"))
		ret = make_account(argv[2], argv[3], argv[4], argc == 6);
	else if (argc >= 5 && !strcmp(argv[1], "user"))
		ret = make_user(argv[2], argv[3], argv[4], argc - 5, argv + 5);
	else
		fprintf(stderr, "usage: natsjwt operator DIR NAME | account DIR OPERATOR NAME [system] |"
				" user DIR ACCOUNT NAME [pub SUBJECT]... [sub SUBJECT]...\n");
	return ret ? 1 : 0;
}
