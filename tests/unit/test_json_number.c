// SPDX-License-Identifier: GPL-2.0
/*
 * json_number.h: its integers print exactly as json-c's own do, at the edges
 * of both ranges, after being set again, and inside an object.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "test.h"
#include "events/json_number.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const int64_t signed_values[] = { 0, 1, -1, 9, 10, -10, 99, 100, 4294967295ll, -2147483648ll,
					 INT64_MAX, INT64_MIN, INT64_MIN + 1 };
static const uint64_t unsigned_values[] = { 0, 1, 9, 10, 1000000000ull, (uint64_t)INT64_MAX,
					    (uint64_t)INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX };

/* ours and json-c's print the same text */
static bool same_as_json_c(struct json_object *ours, struct json_object *theirs, const char *tag)
{
	bool ok = ASSERT_OK_PTR(ours, tag) && ASSERT_OK_PTR(theirs, tag) &&
		  ASSERT_STREQ(json_object_to_json_string_ext(ours, JSON_FLAGS),
			       json_object_to_json_string_ext(theirs, JSON_FLAGS), tag);

	json_object_put(ours);
	json_object_put(theirs);
	return ok;
}

static void test_signed_edges_print_as_json_c(void)
{
	char tag[64];

	for (size_t i = 0; i < sizeof(signed_values) / sizeof(signed_values[0]); i++) {
		snprintf(tag, sizeof(tag), "int %" PRId64, signed_values[i]);
		same_as_json_c(json_number_new_int(signed_values[i]), json_object_new_int64(signed_values[i]), tag);
	}
}

static void test_unsigned_edges_print_as_json_c(void)
{
	char tag[64];

	for (size_t i = 0; i < sizeof(unsigned_values) / sizeof(unsigned_values[0]); i++) {
		snprintf(tag, sizeof(tag), "u64 %" PRIu64, unsigned_values[i]);
		same_as_json_c(json_number_new_u64(unsigned_values[i]), json_object_new_uint64(unsigned_values[i]), tag);
	}
}

/* A number set again (the event cache's refill) prints its new value, and keeps its kind. */
static void test_set_again_prints_the_new_value(void)
{
	struct json_object *s = json_number_new_int(7), *u = json_number_new_u64(7);

	if (!ASSERT_OK_PTR(s, "new int") || !ASSERT_OK_PTR(u, "new u64"))
		return;
	json_object_set_int64(s, INT64_MIN);
	json_object_set_uint64(u, UINT64_MAX);
	ASSERT_TRUE(json_number_is_int(s) && !json_number_is_u64(s), "int keeps its kind");
	ASSERT_TRUE(json_number_is_u64(u) && !json_number_is_int(u), "u64 keeps its kind");
	same_as_json_c(json_object_get(s), json_object_new_int64(INT64_MIN), "int set again");
	same_as_json_c(json_object_get(u), json_object_new_uint64(UINT64_MAX), "u64 set again");
	json_object_put(s);
	json_object_put(u);
}

/* json-c's own integers are neither kind. */
static void test_plain_json_c_int_is_not_ours(void)
{
	struct json_object *o = json_object_new_int64(1);

	ASSERT_TRUE(!json_number_is_int(o) && !json_number_is_u64(o), "a plain json-c int");
	json_object_put(o);
}

static void test_inside_an_object(void)
{
	struct json_object *ours = json_object_new_object(), *theirs = json_object_new_object();

	json_object_object_add(ours, "a", json_number_new_int(-42));
	json_object_object_add(ours, "b", json_number_new_u64(18446744073709551615ull));
	json_object_object_add(theirs, "a", json_object_new_int64(-42));
	json_object_object_add(theirs, "b", json_object_new_uint64(18446744073709551615ull));
	same_as_json_c(ours, theirs, "object");
}
