/* SPDX-License-Identifier: GPL-2.0 */
/* Shorthands for building json-c objects, shared by perimd and perimctl. */
#ifndef PERIM_JSON_ADD_H
#define PERIM_JSON_ADD_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

void json_add_str(struct json_object *o, const char *key, const char *v);
void json_add_int(struct json_object *o, const char *key, int64_t v);
void json_add_u64(struct json_object *o, const char *key, uint64_t v);
void json_add_bool(struct json_object *o, const char *key, bool v);

#endif /* PERIM_JSON_ADD_H */
