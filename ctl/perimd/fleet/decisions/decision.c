// SPDX-License-Identifier: GPL-2.0
/* A fleet decision's KV key and JSON value: written by `fleet block`, checked by every gateway. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fleet/decisions/decision.h"

void perimd_fleet_key_of(const struct perim_prefix *p, char key[FLEET_KEY_MAX])
{
	perim_prefix_format(p, key, FLEET_KEY_MAX);
	for (char *c = key; *c; c++)
		if (*c == ':')
			*c = '_';
}

static int bad(char *why, size_t whylen, const char *field, const char *problem)
{
	snprintf(why, whylen, "\"%s\" %s", field, problem);
	return -1;
}

static int get_string(struct json_object *o, const char *field, bool required, char *dst, size_t len,
		      char *why, size_t whylen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, field, &v))
		return required ? bad(why, whylen, field, "is missing") : 0;
	if (!json_object_is_type(v, json_type_string))
		return bad(why, whylen, field, "is not a string");
	if ((size_t)json_object_get_string_len(v) >= len)
		return bad(why, whylen, field, "is too long");
	snprintf(dst, len, "%s", json_object_get_string(v));
	return 0;
}

static int get_uint(struct json_object *o, const char *field, bool required, uint64_t max, uint64_t *dst,
		    char *why, size_t whylen)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, field, &v))
		return required ? bad(why, whylen, field, "is missing") : 0;
	if (!json_object_is_type(v, json_type_int))
		return bad(why, whylen, field, "is not an integer");
	n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n > max)
		return bad(why, whylen, field, "is out of range");
	*dst = n;
	return 0;
}

static int prefix_check(const char *key, const char *text, struct perim_prefix *p, char *why, size_t whylen)
{
	char want[FLEET_KEY_MAX];

	if (perim_prefix_parse(text, p))
		return bad(why, whylen, "prefix", "is not an address prefix with host bits zero");
	perimd_fleet_key_of(p, want);
	if (strcmp(want, key)) {
		snprintf(why, whylen, "\"prefix\" %s does not belong under this key (expected key %s)", text, want);
		return -1;
	}
	return 0;
}

int perimd_fleet_decision_parse(const char *key, const char *value, size_t len,
				struct perimd_fleet_decision *out, char *why, size_t whylen)
{
	struct perimd_fleet_decision d = { 0 };
	struct json_tokener *tok;
	struct json_object *o;
	char prefix[64];
	uint64_t ttl = 0;
	int ret = -1;

	if (len > PERIMD_FLEET_VALUE_MAX || strlen(value) != len)
		return bad(why, whylen, "value", "is too long or not text");
	tok = json_tokener_new();
	if (!tok)
		return bad(why, whylen, "value", "could not be parsed: out of memory");
	o = json_tokener_parse_ex(tok, value, len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		bad(why, whylen, "value", "is not a JSON object");
		goto out;
	}
	snprintf(d.key, sizeof(d.key), "%s", key);
	if (get_string(o, "prefix", true, prefix, sizeof(prefix), why, whylen) ||
	    prefix_check(key, prefix, &d.prefix, why, whylen) ||
	    get_uint(o, "ttl", false, PERIMD_FLEET_TTL_MAX_S, &ttl, why, whylen) ||
	    get_uint(o, "created_ms", true, UINT64_MAX >> 1, &d.created_ms, why, whylen) ||
	    get_string(o, "reason", false, d.reason, sizeof(d.reason), why, whylen) ||
	    get_string(o, "author", false, d.author, sizeof(d.author), why, whylen))
		goto out;
	if (!d.created_ms) {
		bad(why, whylen, "created_ms", "is 0");
		goto out;
	}
	d.ttl_s = ttl;
	*out = d;
	ret = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

char *perimd_fleet_decision_format(const struct perimd_fleet_decision *d)
{
	struct json_object *o = json_object_new_object();
	char prefix[64];
	char *text;

	if (!o)
		return NULL;
	perim_prefix_format(&d->prefix, prefix, sizeof(prefix));
	json_object_object_add(o, "prefix", json_object_new_string(prefix));
	json_object_object_add(o, "ttl", json_object_new_int64(d->ttl_s));
	json_object_object_add(o, "reason", json_object_new_string(d->reason));
	json_object_object_add(o, "created_ms", json_object_new_int64(d->created_ms));
	json_object_object_add(o, "author", json_object_new_string(d->author));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

uint64_t perimd_fleet_decision_expires_ms(const struct perimd_fleet_decision *d)
{
	return d->ttl_s ? d->created_ms + (uint64_t)d->ttl_s * 1000 : 0;
}
