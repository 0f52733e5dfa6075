/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event lines' objects and arrays written in one pass, through json-c's
 * per-object serializer hook: json-c's own serializer appends every comma,
 * quote, key and value to its printbuf separately (five to seven appends and
 * a strlen per field), which was half of perimd's CPU in an event storm.
 * Here a field is copied into a buffer on the stack and the buffer appended
 * once. The text is json-c's, byte for byte: strings that json-c would
 * escape (a quote, a backslash, a control byte, '/' unless
 * JSON_C_TO_STRING_NOSLASHESCAPE), numbers not made by json_number.h and
 * any other value are printed by json-c itself, and flags other than
 * PLAIN and NOSLASHESCAPE (pretty, spaced) hand the whole document to
 * json-c.
 */
#ifndef PERIMD_EVENTS_JSON_TEXT_H
#define PERIMD_EVENTS_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

/* o (an object or an array; anything else is left alone) prints through this serializer from now on. */
void json_text_attach(struct json_object *o);
/* o prints through this serializer. */
bool json_text_attached(struct json_object *o);

/*
 * The same text written as it is made, without a document (json_fill's text
 * mode): the caller puts the punctuation, keys and values in order, and the
 * writer gathers them on the stack and appends them to pb a buffer at a time.
 * flags: JSON_C_TO_STRING_PLAIN, optionally with NOSLASHESCAPE; the text is
 * what json-c prints with them for the document the same calls would build.
 */
struct json_text_writer {
	struct printbuf *pb;
	int flags;
	size_t used;
	bool failed;
	char buf[2048];
};

void json_text_writer_begin(struct json_text_writer *w, struct printbuf *pb, int flags);
/* Appends what is gathered: 0, or -1 when pb could not grow (its text is then incomplete). */
int json_text_writer_end(struct json_text_writer *w);
/* One of { } [ ] , */
void json_text_put_punct(struct json_text_writer *w, char c);
/* "key": */
void json_text_put_key(struct json_text_writer *w, const char *key);
void json_text_put_string(struct json_text_writer *w, const char *s, size_t n);
void json_text_put_int(struct json_text_writer *w, int64_t v);
void json_text_put_u64(struct json_text_writer *w, uint64_t v);
void json_text_put_bool(struct json_text_writer *w, bool v);
void json_text_put_null(struct json_text_writer *w);
/* Any value, as json-c (or this file, for attached containers) prints it. */
void json_text_put_value(struct json_text_writer *w, struct json_object *v);

#endif /* PERIMD_EVENTS_JSON_TEXT_H */
