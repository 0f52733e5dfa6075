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
#include <json-c/json.h>

/* o (an object or an array; anything else is left alone) prints through this serializer from now on. */
void json_text_attach(struct json_object *o);
/* o prints through this serializer. */
bool json_text_attached(struct json_object *o);

#endif /* PERIMD_EVENTS_JSON_TEXT_H */
