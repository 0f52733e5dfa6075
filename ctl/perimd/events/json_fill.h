/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An event's fields, filled in order, one way of two: into a json-c object
 * (json_fill_begin: the document, which the tests and the few callers that
 * want an object use; its objects and arrays print through json_text.h), or
 * straight into the line (json_fill_begin_text: the text json-c prints for
 * the object the same calls build, written once, with no object; what the
 * event bus publishes).
 */
#ifndef PERIMD_EVENTS_JSON_FILL_H
#define PERIMD_EVENTS_JSON_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "events/json_text.h"

struct json_fill {
	struct json_object *o;           /* object mode: the object filled */
	struct json_text_writer *text;   /* text mode: the writer, else NULL */
	bool first;                      /* text mode: no key written yet at this level */
};

/* Object mode: o, a new empty object, gets the keys filled (string literals, or living as long as o). */
void json_fill_begin(struct json_fill *f, struct json_object *o);
/* Text mode: an object's fields written to w as they are filled, its braces by begin and end. */
void json_fill_begin_text(struct json_fill *f, struct json_text_writer *w);
void json_fill_end_text(const struct json_fill *f);

void json_fill_int(struct json_fill *f, const char *key, int64_t v);
void json_fill_u64(struct json_fill *f, const char *key, uint64_t v);
void json_fill_bool(struct json_fill *f, const char *key, bool v);
void json_fill_null(struct json_fill *f, const char *key);
/* v NULL: null. */
void json_fill_str(struct json_fill *f, const char *key, const char *v);
void json_fill_str_len(struct json_fill *f, const char *key, const char *v, size_t len);
/* An array of the NUL-separated strings in v[0..len) (an argv); v NULL: null. */
void json_fill_strings(struct json_fill *f, const char *key, const char *v, size_t len);
/* v (owned by the fill from now on) as the value. */
void json_fill_value(struct json_fill *f, const char *key, struct json_object *v);
/* The nested object under key, filled through child until json_fill_nested_end. */
void json_fill_nested(struct json_fill *f, const char *key, struct json_fill *child);
void json_fill_nested_end(struct json_fill *f, const struct json_fill *child);

#endif /* PERIMD_EVENTS_JSON_FILL_H */
