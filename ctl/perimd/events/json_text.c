// SPDX-License-Identifier: GPL-2.0
/* Objects and arrays written in one pass, json-c's text (json_text.h). */
#include <stdint.h>
#include <sys/types.h>
#include <string.h>
#include <json-c/printbuf.h>

#include "events/json_number.h"
#include "events/json_text.h"

/* The serializer's userdata marks the objects and arrays that print here. */
static const char attached_tag;

/*
 * The flags this file writes itself (NOZERO is for doubles, which json-c
 * prints); with any other, json-c writes the document.
 */
#define OWN_FLAGS (JSON_C_TO_STRING_NOSLASHESCAPE | JSON_C_TO_STRING_NOZERO)

/* Deeper than any event: a deeper document (not one perimd makes) nests json-c's own text. */
#define DEPTH_MAX 8

static void flush(struct json_text_writer *t)
{
	if (t->used && printbuf_memappend(t->pb, t->buf, (int)t->used) < 0)
		t->failed = true;
	t->used = 0;
}

/*
 * n bytes (at most 16) copied with two overlapping fixed-size moves, which
 * the compiler emits inline: most of a line is keys, quotes and numbers this
 * short, and a call to memcpy for each cost more than the copy.
 */
static inline void copy_short(char *dst, const char *src, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

static void put_long(struct json_text_writer *t, const char *s, size_t n)
{
	if (n > sizeof(t->buf) - t->used) {
		flush(t);
		if (n > sizeof(t->buf)) {
			if (printbuf_memappend(t->pb, s, (int)n) < 0)
				t->failed = true;
			return;
		}
	}
	memcpy(t->buf + t->used, s, n);
	t->used += n;
}

static inline void put(struct json_text_writer *t, const char *s, size_t n)
{
	if (n <= 16 && n <= sizeof(t->buf) - t->used) {
		copy_short(t->buf + t->used, s, n);
		t->used += n;
	} else {
		put_long(t, s, n);
	}
}

#define put_literal(t, s) put((t), (s), sizeof(s) - 1)

/*
 * The bytes json-c's escaping changes: a quote, a backslash, control bytes,
 * and '/' (1 = always, 2 = unless JSON_C_TO_STRING_NOSLASHESCAPE).
 */
static const unsigned char escaped[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['/'] = 2,
};

static unsigned char escaped_mask(int flags)
{
	return flags & JSON_C_TO_STRING_NOSLASHESCAPE ? 1 : 3;
}

#define BYTES(c) (0x0101010101010101ull * (c))
/* Some byte of w is below 0x20 or is c (as a word of bytes: exact as a yes or no). */
#define HAS_BELOW_SPACE(w) (((w) - BYTES(0x20)) & ~(w) & BYTES(0x80))
#define HAS_ZERO(w) (((w) - BYTES(1)) & ~(w) & BYTES(0x80))
#define HAS_BYTE(w, c) HAS_ZERO((w) ^ BYTES(c))

/* json-c's escaping leaves s[0..n) as it is: eight bytes a step (paths and argv are long). */
static bool needs_no_escape(const char *s, size_t n, int flags)
{
	unsigned char mask = escaped_mask(flags);
	bool slash_as_is = mask == 1;
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (HAS_BELOW_SPACE(w) || HAS_BYTE(w, '"') || HAS_BYTE(w, '\\') || (!slash_as_is && HAS_BYTE(w, '/')))
			return false;
	}
	for (; i < n; i++)
		if (escaped[(unsigned char)s[i]] & mask)
			return false;
	return true;
}

/* The length of key when json-c's escaping leaves it as it is, else -1 (one pass: keys are short). */
static ssize_t plain_key_len(const char *key, int flags)
{
	unsigned char mask = escaped_mask(flags);
	size_t n = 0;

	for (; key[n]; n++)
		if (escaped[(unsigned char)key[n]] & mask)
			return -1;
	return (ssize_t)n;
}

/* v's text as json-c prints it, from v's own printbuf. */
static void put_json_c_text(struct json_text_writer *t, struct json_object *v)
{
	size_t n;
	const char *s = json_object_to_json_string_length(v, t->flags, &n);

	if (!s) {
		t->failed = true;
		return;
	}
	put(t, s, n);
}

/* A string whose bytes need no escaping, quoted. */
static void put_plain_string(struct json_text_writer *t, const char *s, size_t n)
{
	put_literal(t, "\"");
	put(t, s, n);
	put_literal(t, "\"");
}

/*
 * s[0..n) as json-c prints a string of those bytes; what needs escaping is
 * json-c's to print, from own (the json-c string holding s) or a new one.
 */
static void put_string(struct json_text_writer *t, const char *s, size_t n, struct json_object *own)
{
	struct json_object *v = own;

	if (needs_no_escape(s, n, t->flags)) {
		put_plain_string(t, s, n);
		return;
	}
	if (!v && !(v = json_object_new_string_len(s, (int)n))) {
		t->failed = true;
		return;
	}
	put_json_c_text(t, v);
	if (v != own)
		json_object_put(v);
}

/* A key and its colon: json-c escapes keys as it does strings. */
static void put_key(struct json_text_writer *t, const char *key)
{
	ssize_t n = plain_key_len(key, t->flags);
	struct json_object *k;

	if (n >= 0) {
		put_plain_string(t, key, (size_t)n);
	} else if ((k = json_object_new_string(key))) {
		put_json_c_text(t, k);
		json_object_put(k);
	} else {
		t->failed = true;
	}
	put_literal(t, ":");
}

static void put_container(struct json_text_writer *t, struct json_object *o, int depth);

/* Values of the kinds events hold are written here; any other prints through json-c. */
static void put_value(struct json_text_writer *t, struct json_object *v, int depth)
{
	char digits[JSON_NUMBER_TEXT_MAX];
	const char *text;
	void *tag;

	if (!v) {
		put_literal(t, "null");
		return;
	}
	/* A string or boolean with a serializer of its own (userdata) is json-c's to print. */
	tag = json_object_get_userdata(v);
	switch (json_object_get_type(v)) {
	case json_type_string:
		if (!tag) {
			put_string(t, json_object_get_string(v), (size_t)json_object_get_string_len(v), v);
			return;
		}
		break;
	case json_type_int:
		text = json_number_int_text(v, digits);
		if (text) {
			put(t, text, (size_t)(digits + sizeof(digits) - text));
			return;
		}
		break;
	case json_type_boolean:
		if (!tag) {
			if (json_object_get_boolean(v))
				put_literal(t, "true");
			else
				put_literal(t, "false");
			return;
		}
		break;
	case json_type_object:
	case json_type_array:
		if (tag == &attached_tag && depth < DEPTH_MAX) {
			put_container(t, v, depth + 1);
			return;
		}
		break;
	default:
		break;
	}
	put_json_c_text(t, v);
}

static void put_object(struct json_text_writer *t, struct json_object *o, int depth)
{
	bool first = true;

	put_literal(t, "{");
	json_object_object_foreach(o, key, val) {
		if (!first)
			put_literal(t, ",");
		first = false;
		put_key(t, key);
		put_value(t, val, depth);
	}
	put_literal(t, "}");
}

static void put_array(struct json_text_writer *t, struct json_object *a, int depth)
{
	size_t n = json_object_array_length(a);

	put_literal(t, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_literal(t, ",");
		put_value(t, json_object_array_get_idx(a, i), depth);
	}
	put_literal(t, "]");
}

static void put_container(struct json_text_writer *t, struct json_object *o, int depth)
{
	if (json_object_is_type(o, json_type_object))
		put_object(t, o, depth);
	else
		put_array(t, o, depth);
}

/* o's plain text into pb: 0, or -1 (json-c's serializer contract). */
static int plain_text(struct json_object *o, struct printbuf *pb, int flags)
{
	struct json_text_writer t;

	/* Not an initializer: that would clear the buffer, the cost of a whole line. */
	t.pb = pb;
	t.flags = flags;
	t.used = 0;
	t.failed = false;
	put_container(&t, o, 0);
	flush(&t);
	return t.failed ? -1 : 0;
}

/*
 * Pretty or spaced: json-c lays the document out. Its tree is rebuilt from
 * the plain text (parsed objects print through json-c's own serializers);
 * these flags are for people reading, never for the event stream.
 */
static int text_by_json_c(struct json_object *o, struct printbuf *pb, int flags)
{
	struct printbuf *plain = printbuf_new();
	struct json_object *copy = NULL;
	const char *s;
	size_t n;
	int ret = -1;

	if (plain && plain_text(o, plain, flags & OWN_FLAGS) == 0)
		copy = json_tokener_parse(plain->buf);
	if (copy && (s = json_object_to_json_string_length(copy, flags, &n)))
		ret = printbuf_memappend(pb, s, (int)n) < 0 ? -1 : 0;
	json_object_put(copy);
	if (plain)
		printbuf_free(plain);
	return ret;
}

static int container_to_json(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	if (flags & ~OWN_FLAGS)
		return text_by_json_c(o, pb, flags);
	return plain_text(o, pb, flags);
}

void json_text_attach(struct json_object *o)
{
	if (json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array))
		json_object_set_serializer(o, container_to_json, (void *)&attached_tag, NULL);
}

bool json_text_attached(struct json_object *o)
{
	return o && json_object_get_userdata(o) == &attached_tag;
}

/* ---- the writer without a document ---- */

void json_text_writer_begin(struct json_text_writer *w, struct printbuf *pb, int flags)
{
	w->pb = pb;
	w->flags = flags & OWN_FLAGS;
	w->used = 0;
	w->failed = false;
}

int json_text_writer_end(struct json_text_writer *w)
{
	flush(w);
	return w->failed ? -1 : 0;
}

void json_text_put_punct(struct json_text_writer *w, char c)
{
	put(w, &c, 1);
}

void json_text_put_key(struct json_text_writer *w, const char *key)
{
	put_key(w, key);
}

void json_text_put_string(struct json_text_writer *w, const char *s, size_t n)
{
	put_string(w, s, n, NULL);
}

void json_text_put_int(struct json_text_writer *w, int64_t v)
{
	char digits[JSON_NUMBER_TEXT_MAX];
	const char *text = json_number_signed_text(v, digits);

	put(w, text, (size_t)(digits + sizeof(digits) - text));
}

void json_text_put_u64(struct json_text_writer *w, uint64_t v)
{
	char digits[JSON_NUMBER_TEXT_MAX];
	const char *text = json_number_unsigned_text(v, digits);

	put(w, text, (size_t)(digits + sizeof(digits) - text));
}

void json_text_put_bool(struct json_text_writer *w, bool v)
{
	if (v)
		put_literal(w, "true");
	else
		put_literal(w, "false");
}

void json_text_put_null(struct json_text_writer *w)
{
	put_literal(w, "null");
}

void json_text_put_value(struct json_text_writer *w, struct json_object *v)
{
	put_value(w, v, 0);
}
