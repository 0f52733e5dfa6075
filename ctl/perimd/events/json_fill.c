// SPDX-License-Identifier: GPL-2.0
/* Refilling a json-c object in place (json_fill.h). */
#include <string.h>

#include "events/json_fill.h"
#include "events/json_number.h"
#include "events/json_text.h"

void json_fill_begin(struct json_fill *f, struct json_object *o)
{
	f->o = o;
	f->at = lh_table_head(json_object_get_object(o));
	f->building = f->at == NULL;
	f->mismatch = false;
	f->text = NULL;
	f->first = true;
	if (f->building)
		json_text_attach(o);
}

bool json_fill_end(const struct json_fill *f)
{
	return !f->mismatch && f->at == NULL;
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

static bool same_key(const struct lh_entry *e, const char *key)
{
	const char *k = lh_entry_k(e);

	return k == key || !strcmp(k, key);
}

/* The entry of key when refilling, NULL when building (or on a mismatch). */
static struct lh_entry *take_entry(struct json_fill *f, const char *key)
{
	struct lh_entry *e = f->at;

	if (f->building || f->mismatch)
		return NULL;
	if (!e || !same_key(e, key)) {
		f->mismatch = true;
		return NULL;
	}
	f->at = lh_entry_next(e);
	return e;
}

/* The value under e when it has type t, else NULL. */
static struct json_object *value_of(const struct lh_entry *e, enum json_type t)
{
	struct json_object *v = e ? (struct json_object *)lh_entry_v(e) : NULL;

	return v && json_object_is_type(v, t) ? v : NULL;
}

/* v (may be NULL: null) under key, at e or appended; dropped on a mismatch. */
static void place(struct json_fill *f, const char *key, struct lh_entry *e, struct json_object *v)
{
	if (e) {
		json_object_put((struct json_object *)lh_entry_v(e));
		lh_entry_set_val(e, v);
	} else if (f->building) {
		json_object_object_add_ex(f->o, key, v, JSON_C_OBJECT_ADD_CONSTANT_KEY);
	} else {
		json_object_put(v);
	}
}

void json_fill_int(struct json_fill *f, const char *key, int64_t v)
{
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		json_text_put_int(f->text, v);
		return;
	}
	e = take_entry(f, key);
	cur = e ? (struct json_object *)lh_entry_v(e) : NULL;
	if (cur && json_number_is_int(cur))
		json_object_set_int64(cur, v);
	else
		place(f, key, e, json_number_new_int(v));
}

void json_fill_u64(struct json_fill *f, const char *key, uint64_t v)
{
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		json_text_put_u64(f->text, v);
		return;
	}
	e = take_entry(f, key);
	cur = e ? (struct json_object *)lh_entry_v(e) : NULL;
	if (cur && json_number_is_u64(cur))
		json_object_set_uint64(cur, v);
	else
		place(f, key, e, json_number_new_u64(v));
}

void json_fill_bool(struct json_fill *f, const char *key, bool v)
{
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		json_text_put_bool(f->text, v);
		return;
	}
	e = take_entry(f, key);
	cur = value_of(e, json_type_boolean);
	if (cur)
		json_object_set_boolean(cur, v);
	else
		place(f, key, e, json_object_new_boolean(v));
}

void json_fill_null(struct json_fill *f, const char *key)
{
	struct lh_entry *e;

	if (f->text) {
		text_key(f, key);
		json_text_put_null(f->text);
		return;
	}
	e = take_entry(f, key);
	if (!e || lh_entry_v(e))
		place(f, key, e, NULL);
}

void json_fill_str_len(struct json_fill *f, const char *key, const char *v, size_t len)
{
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		json_text_put_string(f->text, v, len);
		return;
	}
	e = take_entry(f, key);
	cur = value_of(e, json_type_string);
	if (cur)
		json_object_set_string_len(cur, v, (int)len);
	else
		place(f, key, e, json_object_new_string_len(v, (int)len));
}

void json_fill_str(struct json_fill *f, const char *key, const char *v)
{
	if (v)
		json_fill_str_len(f, key, v, strlen(v));
	else
		json_fill_null(f, key);
}

/* a's strings become the NUL-separated v[0..len), its elements reused. */
static void refill_strings(struct json_object *a, const char *v, size_t len)
{
	size_t have = json_object_array_length(a), n = 0;

	for (size_t i = 0; i < len; n++) {
		size_t sl = strnlen(v + i, len - i);
		struct json_object *s = n < have ? json_object_array_get_idx(a, n) : NULL;

		if (s && json_object_is_type(s, json_type_string))
			json_object_set_string_len(s, v + i, (int)sl);
		else if (n < have)
			json_object_array_put_idx(a, n, json_object_new_string_len(v + i, (int)sl));
		else
			json_object_array_add(a, json_object_new_string_len(v + i, (int)sl));
		i += sl + 1;
	}
	if (n < have)
		json_object_array_del_idx(a, n, have - n);
}

/* Text mode: the NUL-separated v[0..len) as an array of strings, as refill_strings makes it. */
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
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		if (v)
			text_strings(f->text, v, len);
		else
			json_text_put_null(f->text);
		return;
	}
	e = take_entry(f, key);
	cur = value_of(e, json_type_array);
	if (!v) {
		if (!e || lh_entry_v(e))
			place(f, key, e, NULL);
		return;
	}
	if (!cur) {
		if (!e && !f->building)
			return;
		cur = json_object_new_array();
		json_text_attach(cur);
		place(f, key, e, cur);
	}
	refill_strings(cur, v, len);
}

void json_fill_value(struct json_fill *f, const char *key, struct json_object *v)
{
	if (f->text) {
		text_key(f, key);
		json_text_put_value(f->text, v);
		json_object_put(v);
		return;
	}
	place(f, key, take_entry(f, key), v);
}

void json_fill_nested(struct json_fill *f, const char *key, struct json_fill *child)
{
	struct lh_entry *e;
	struct json_object *cur;

	if (f->text) {
		text_key(f, key);
		json_fill_begin_text(child, f->text);
		return;
	}
	e = take_entry(f, key);
	cur = value_of(e, json_type_object);
	if (!cur && (e || f->building)) {
		cur = json_object_new_object();
		place(f, key, e, cur);
	}
	if (!cur) {
		/* The parent is rebuilt anyway: the child's fills go nowhere. */
		*child = (struct json_fill){ .mismatch = true };
		return;
	}
	json_fill_begin(child, cur);
}

void json_fill_nested_end(struct json_fill *f, const struct json_fill *child)
{
	if (f->text) {
		json_fill_end_text(child);
		return;
	}
	if (!json_fill_end(child))
		f->mismatch = true;
}
