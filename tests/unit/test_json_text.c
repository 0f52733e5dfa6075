// SPDX-License-Identifier: GPL-2.0
/*
 * json_text.h: a tree whose objects and arrays print through it prints what
 * json-c prints for the same tree, byte for byte, whatever its strings hold
 * (what json-c escapes, in keys and values, with and without
 * NOSLASHESCAPE), its values (our numbers, json-c's own, doubles, booleans,
 * null, containers not attached), its size (past the stack buffer) and
 * depth, and with json-c's layout flags.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "events/json_number.h"
#include "events/json_text.h"

static const int flag_sets[] = {
	JSON_C_TO_STRING_PLAIN,
	JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	JSON_C_TO_STRING_SPACED,
	JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
	JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB,
	JSON_C_TO_STRING_NOZERO,
};

/* Strings json-c prints as they are, and strings it escapes. */
static const char *const texts[] = {
	"",
	"plain text",
	"/usr/bin/env",
	"a \"quoted\" word",
	"back\\slash",
	"tab\there, newline\nthere, cr\r, bell\b, feed\f",
	"\x01\x1f control bytes",
	"del \x7f and UTF-8 \xc3\xa9\xe2\x82\xac",
	"</script>",
};

static struct json_object *container(bool ours, bool array)
{
	struct json_object *o = array ? json_object_new_array() : json_object_new_object();

	if (ours)
		json_text_attach(o);
	return o;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	if (json_object_is_type(o, json_type_array))
		json_object_array_add(o, v);
	else
		json_object_object_add(o, key, v);
}

/* Every kind of value, under every kind of key, nested: attached (ours) or json-c's alone. */
static struct json_object *sample_tree(bool ours)
{
	struct json_object *root = container(ours, false), *arr = container(ours, true);
	struct json_object *inner = container(ours, false), *theirs = json_object_new_object();
	char key[64];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		add(root, key, json_object_new_string(texts[i]));
		add(root, texts[i], json_object_new_int64((int64_t)i));   /* the text as a key */
		add(arr, NULL, json_object_new_string(texts[i]));
	}
	add(root, "nul inside", json_object_new_string_len("a\0b", 3));
	add(root, "ours signed", json_number_new_int(-9223372036854775807ll - 1));
	add(root, "ours unsigned", json_number_new_u64(18446744073709551615ull));
	add(root, "json-c int", json_object_new_int64(-42));
	add(root, "json-c u64", json_object_new_uint64(18446744073709551615ull));
	add(root, "double", json_object_new_double(2.5));
	add(root, "double zero", json_object_new_double(1.0));
	add(root, "true", json_object_new_boolean(1));
	add(root, "false", json_object_new_boolean(0));
	add(root, "null", NULL);
	add(arr, NULL, NULL);
	add(arr, NULL, json_number_new_int(7));
	add(inner, "flow", json_object_new_string("tcp"));
	add(inner, "empty object", container(ours, false));
	add(inner, "empty array", container(ours, true));
	add(theirs, "not attached", json_object_new_string("x/y"));
	add(inner, "theirs", theirs);
	add(root, "array", arr);
	add(root, "inner", inner);
	return root;
}

static bool same_text(struct json_object *ours, struct json_object *theirs, int flags, const char *tag)
{
	char t[96];

	snprintf(t, sizeof(t), "%s, flags %#x", tag, flags);
	return ASSERT_STREQ(json_object_to_json_string_ext(ours, flags), json_object_to_json_string_ext(theirs, flags), t);
}

static void test_every_value_prints_as_json_c(void)
{
	struct json_object *ours = sample_tree(true), *theirs = sample_tree(false);

	ASSERT_TRUE(json_text_attached(ours) && !json_text_attached(theirs), "attached only to ours");
	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++)
		same_text(ours, theirs, flag_sets[i], "sample tree");
	json_object_put(ours);
	json_object_put(theirs);
}

/*
 * Every byte value at every place of a 17-byte string, among fillers that
 * are plain (and, for the eight-byte checks' borrows, high and low ones):
 * escaped or not exactly as json-c decides, in a value and in a key.
 */
static void test_every_byte_at_every_place(void)
{
	static const char fillers[] = { 'a', (char)0xff, (char)0x80, ' ', '!', '0' };
	static const int flags[] = { JSON_C_TO_STRING_PLAIN, JSON_C_TO_STRING_NOSLASHESCAPE };
	char s[18], tag[64];
	int bad = 0;

	for (size_t f = 0; f < sizeof(fillers); f++)
		for (int b = 0; b < 256; b++)
			for (int at = 0; at < 17; at++) {
				struct json_object *t[2];

				memset(s, fillers[f], 17);
				s[at] = (char)b;
				s[17] = '\0';
				for (int k = 0; k < 2; k++) {
					t[k] = container(k == 0, false);
					json_object_object_add(t[k], "v", json_object_new_string_len(s, 17));
					if (b)  /* a key ends at its NUL */
						json_object_object_add(t[k], s, json_object_new_boolean(1));
				}
				for (size_t i = 0; i < 2; i++)
					if (strcmp(json_object_to_json_string_ext(t[0], flags[i]),
						   json_object_to_json_string_ext(t[1], flags[i])) && !bad++) {
						snprintf(tag, sizeof(tag), "byte %#x at %d among %#x, flags %#x", b, at,
							 (unsigned char)fillers[f], flags[i]);
						same_text(t[0], t[1], flags[i], tag);
					}
				json_object_put(t[0]);
				json_object_put(t[1]);
			}
	ASSERT_EQ(bad, 0, "strings printed otherwise than json-c");
}

/* Strings and documents longer than the stack buffer: the flushes in between lose nothing. */
static void test_longer_than_the_buffer(void)
{
	static char big[10000];
	struct json_object *t[2];

	for (size_t i = 0; i + 1 < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (int k = 0; k < 2; k++) {
		struct json_object *arr = container(k == 0, true);

		t[k] = container(k == 0, false);
		json_object_object_add(t[k], "big", json_object_new_string(big));
		for (int i = 0; i < 500; i++)
			json_object_array_add(arr, json_number_new_int(i * 1000003));
		json_object_object_add(t[k], "many", arr);
		json_object_object_add(t[k], "big again", json_object_new_string(big + 17));
	}
	same_text(t[0], t[1], JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, "long document");
	json_object_put(t[0]);
	json_object_put(t[1]);
}

/* Nested deeper than this file follows: json-c's text of the deep part, the same document. */
static void test_deep_nesting(void)
{
	struct json_object *t[2];

	for (int k = 0; k < 2; k++) {
		t[k] = container(k == 0, false);
		for (int d = 0; d < 20; d++) {
			struct json_object *outer = container(k == 0, d % 2);

			add(outer, "d", t[k]);
			t[k] = outer;
		}
	}
	same_text(t[0], t[1], JSON_C_TO_STRING_PLAIN, "20 levels");
	json_object_put(t[0]);
	json_object_put(t[1]);
}

/* A value changed in place prints its new text (perimd refills its objects per event). */
static void test_refilled_values(void)
{
	struct json_object *o = container(true, false), *s = json_object_new_string("first"), *n = json_number_new_int(1);

	json_object_object_add(o, "s", s);
	json_object_object_add(o, "n", n);
	ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{\"s\":\"first\",\"n\":1}", "first");
	json_object_set_string(s, "a/b\"c");
	json_object_set_int64(n, -5);
	ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{\"s\":\"a\\/b\\\"c\",\"n\":-5}",
		     "refilled");
	json_object_put(o);
}

static void test_attach_leaves_other_types_alone(void)
{
	struct json_object *s = json_object_new_string("x");

	json_text_attach(s);
	ASSERT_TRUE(!json_text_attached(s), "a string is not attached");
	ASSERT_STREQ(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN), "\"x\"", "prints as json-c's");
	ASSERT_TRUE(!json_text_attached(NULL), "NULL");
	json_object_put(s);
}
