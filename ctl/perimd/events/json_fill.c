// SPDX-License-Identifier: GPL-2.0
/* An event's fields into a json-c object or straight into its line (json_fill.h). */
#include <string.h>

#include "events/json_fill.h"
#include "events/json_number.h"
#include "events/json_text.h"

void json_fill_begin(struct json_fill *f, struct json_object *o)
{
	*f = (struct json_fill){ .o = o, .first = true };
	if (o)
		json_text_attach(o);
}

void json_fill_begin_text(struct json_fill *f, struct json_text_writer *w)
{
	*f = (struct json_fill){ .text = w, .first = true };
	json_text_put_punct(w, '{');
}

void json_fill_end_text(const struct json_fill *f)
{
	json_text_put_punct(f->text, '}');
}

/* Text mode: the comma before every key but the first, and the key. */
static void text_key(struct json_fill *f, const char *key)
{
	if (!f->first)
		json_text_put_punct(f->text, ',');
	f->first = false;
	json_text_put_key(f->text, key);
}

/* Object mode: v (NULL: null) under key; false, v dropped, when there is no object (it could not be made). */
static bool add(struct json_fill *f, const char *key, struct json_object *v)
{
	if (f->o && !json_object_object_add_ex(f->o, key, v, JSON_C_OBJECT_ADD_CONSTANT_KEY))
		return true;
	json_object_put(v);
	return false;
}

void json_fill_int(struct json_fill *f, const char *key, int64_t v)
{
	if (!f->text) {
		add(f, key, json_number_new_int(v));
		return;
	}
	text_key(f, key);
	json_text_put_int(f->text, v);
}

void json_fill_u64(struct json_fill *f, const char *key, uint64_t v)
{
	if (!f->text) {
		add(f, key, json_number_new_u64(v));
		return;
	}
	text_key(f, key);
	json_text_put_u64(f->text, v);
}

void json_fill_bool(struct json_fill *f, const char *key, bool v)
{
	if (!f->text) {
		add(f, key, json_object_new_boolean(v));
		return;
	}
	text_key(f, key);
	json_text_put_bool(f->text, v);
}

void json_fill_null(struct json_fill *f, const char *key)
{
	if (!f->text) {
		add(f, key, NULL);
		return;
	}
	text_key(f, key);
	json_text_put_null(f->text);
}

void json_fill_str_len(struct json_fill *f, const char *key, const char *v, size_t len)
{
	if (!f->text) {
		add(f, key, json_object_new_string_len(v, (int)len));
		return;
	}
	text_key(f, key);
	json_text_put_string(f->text, v, len);
}

void json_fill_str(struct json_fill *f, const char *key, const char *v)
{
	if (v)
		json_fill_str_len(f, key, v, strlen(v));
	else
		json_fill_null(f, key);
}

/* Object mode: the NUL-separated v[0..len) as an array of strings. */
static struct json_object *strings_array(const char *v, size_t len)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	json_text_attach(a);
	for (size_t i = 0; i < len;) {
		size_t sl = strnlen(v + i, len - i);

		json_object_array_add(a, json_object_new_string_len(v + i, (int)sl));
		i += sl + 1;
	}
	return a;
}

/* Text mode: the same array, written. */
static void text_strings(struct json_text_writer *w, const char *v, size_t len)
{
	json_text_put_punct(w, '[');
	for (size_t i = 0; i < len;) {
		size_t sl = strnlen(v + i, len - i);

		if (i)
			json_text_put_punct(w, ',');
		json_text_put_string(w, v + i, sl);
		i += sl + 1;
	}
	json_text_put_punct(w, ']');
}

void json_fill_strings(struct json_fill *f, const char *key, const char *v, size_t len)
{
	if (!f->text) {
		add(f, key, v ? strings_array(v, len) : NULL);
		return;
	}
	text_key(f, key);
	if (v)
		text_strings(f->text, v, len);
	else
		json_text_put_null(f->text);
}

void json_fill_value(struct json_fill *f, const char *key, struct json_object *v)
{
	if (!f->text) {
		add(f, key, v);
		return;
	}
	text_key(f, key);
	json_text_put_value(f->text, v);
	json_object_put(v);
}

void json_fill_nested(struct json_fill *f, const char *key, struct json_fill *child)
{
	struct json_object *o;

	if (f->text) {
		text_key(f, key);
		json_fill_begin_text(child, f->text);
		return;
	}
	o = json_object_new_object();
	json_fill_begin(child, add(f, key, o) ? o : NULL);
}

void json_fill_nested_end(struct json_fill *f, const struct json_fill *child)
{
	if (f->text)
		json_fill_end_text(child);
}
