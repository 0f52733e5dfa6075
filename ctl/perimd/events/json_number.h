/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json-c integers for the event lines, printed through json-c's own
 * per-object serializer hook with a digit loop instead of json-c's snprintf
 * ("%" PRId64): at a dozen integers per event line, snprintf was a quarter
 * of perimd's CPU in an event storm. json-c still writes the document; only
 * the digits of these numbers are produced here. The text is the same.
 */
#ifndef PERIMD_EVENTS_JSON_NUMBER_H
#define PERIMD_EVENTS_JSON_NUMBER_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

/* A new json-c integer (json_type_int) that prints its value as a signed / unsigned decimal. */
struct json_object *json_number_new_int(int64_t v);
struct json_object *json_number_new_u64(uint64_t v);

/* o was made by json_number_new_int / json_number_new_u64 (so json_object_set_int64 / _uint64 keeps it exact). */
bool json_number_is_int(struct json_object *o);
bool json_number_is_u64(struct json_object *o);

/* The longest text: a sign and 19 digits, or 20 digits. */
#define JSON_NUMBER_TEXT_MAX 24
/*
 * The text of o, a json_type_int, when json_number_new_* made it: it ends at
 * buf + JSON_NUMBER_TEXT_MAX (no NUL), the return value is where it starts;
 * NULL for json-c's own integers.
 */
const char *json_number_int_text(struct json_object *o, char buf[JSON_NUMBER_TEXT_MAX]);
/* The same for a value: v's decimal text, ending at buf + JSON_NUMBER_TEXT_MAX, where it starts. */
const char *json_number_signed_text(int64_t v, char buf[JSON_NUMBER_TEXT_MAX]);
const char *json_number_unsigned_text(uint64_t v, char buf[JSON_NUMBER_TEXT_MAX]);

#endif /* PERIMD_EVENTS_JSON_NUMBER_H */
