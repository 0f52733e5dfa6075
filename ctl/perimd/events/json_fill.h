/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Refilling a json-c object in place: an event of a given shape has the same
 * keys in the same order every time, so its object is kept and only the
 * values change (json_object_set_*), instead of a fresh tree of objects, key
 * copies and hash inserts per event. The first fill of an empty object builds
 * it (keys are string literals, stored without a copy); a later fill walks
 * its keys in order. A fill whose keys differ from the object's reports it
 * (json_fill_end false) and its caller rebuilds from an empty object.
 * The objects and arrays it builds print through json_text.h.
 *
 * In text mode (json_fill_begin_text) the same calls write the line itself
 * through a json_text_writer, with no object: the text json-c prints for the
 * object the calls would build, at the cost of writing it once.
 */
#ifndef PERIMD_EVENTS_JSON_FILL_H
#define PERIMD_EVENTS_JSON_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "events/json_text.h"

struct json_fill {
	struct json_object *o;
	struct lh_entry *at;       /* the key expected next (refilling) */
	bool building;             /* o started empty: every key is appended */
	bool mismatch;             /* a key not where the object has it */
	struct json_text_writer *text;   /* text mode: the writer, else NULL */
	bool first;                /* text mode: no key written yet at this level */
};

/* Keys must be string literals (or live as long as o). */
void json_fill_begin(struct json_fill *f, struct json_object *o);
/* True when o now holds exactly the keys filled, in order. */
bool json_fill_end(const struct json_fill *f);
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
/* v (owned by the fill from now on) as the value: for values rebuilt every time. */
void json_fill_value(struct json_fill *f, const char *key, struct json_object *v);
/* The nested object under key, filled through child until json_fill_nested_end. */
void json_fill_nested(struct json_fill *f, const char *key, struct json_fill *child);
void json_fill_nested_end(struct json_fill *f, const struct json_fill *child);

#endif /* PERIMD_EVENTS_JSON_FILL_H */
