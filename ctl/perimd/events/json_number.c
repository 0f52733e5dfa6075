// SPDX-License-Identifier: GPL-2.0
/* json-c integers printed without snprintf (json_number.h). */
#include <json-c/printbuf.h>

#include "events/json_number.h"

/* The serializer's userdata says which of the two an object is. */
static const char signed_tag, unsigned_tag;

/* v's decimal digits, ending at end (exclusive): where they start. */
static char *digits_before(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* json-c's serializer contract: 0, or -1 when the buffer could not grow. */
static int print_digits(struct printbuf *pb, const char *text, const char *end)
{
	return printbuf_memappend(pb, text, (int)(end - text)) < 0 ? -1 : 0;
}

static const char *signed_text(int64_t v, char *end)
{
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	char *text = digits_before(end, v < 0 ? -(uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--text = '-';
	return text;
}

const char *json_number_signed_text(int64_t v, char buf[JSON_NUMBER_TEXT_MAX])
{
	return signed_text(v, buf + JSON_NUMBER_TEXT_MAX);
}

const char *json_number_unsigned_text(uint64_t v, char buf[JSON_NUMBER_TEXT_MAX])
{
	return digits_before(buf + JSON_NUMBER_TEXT_MAX, v);
}

const char *json_number_int_text(struct json_object *o, char buf[JSON_NUMBER_TEXT_MAX])
{
	const void *tag = json_object_get_userdata(o);
	char *end = buf + JSON_NUMBER_TEXT_MAX;

	if (tag == &signed_tag)
		return signed_text(json_object_get_int64(o), end);
	if (tag == &unsigned_tag)
		return digits_before(end, json_object_get_uint64(o));
	return NULL;
}

static int signed_to_json(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	char buf[JSON_NUMBER_TEXT_MAX], *end = buf + sizeof(buf);

	return print_digits(pb, signed_text(json_object_get_int64(o), end), end);
}

static int unsigned_to_json(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	char buf[JSON_NUMBER_TEXT_MAX], *end = buf + sizeof(buf);

	return print_digits(pb, digits_before(end, json_object_get_uint64(o)), end);
}

struct json_object *json_number_new_int(int64_t v)
{
	struct json_object *o = json_object_new_int64(v);

	if (o)
		json_object_set_serializer(o, signed_to_json, (void *)&signed_tag, NULL);
	return o;
}

struct json_object *json_number_new_u64(uint64_t v)
{
	struct json_object *o = json_object_new_uint64(v);

	if (o)
		json_object_set_serializer(o, unsigned_to_json, (void *)&unsigned_tag, NULL);
	return o;
}

bool json_number_is_int(struct json_object *o)
{
	return json_object_is_type(o, json_type_int) && json_object_get_userdata(o) == &signed_tag;
}

bool json_number_is_u64(struct json_object *o)
{
	return json_object_is_type(o, json_type_int) && json_object_get_userdata(o) == &unsigned_tag;
}
