/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal assertion kit in the style of the kernel's BPF selftests: every
 * ASSERT_* returns a bool and prints the failing expression with its values;
 * each test case ends with exactly one "PASS: name" or "FAIL: name" line,
 * which tests/run.sh counts.
 *
 *   static void test_parse_vlan(void) {
 *       if (!ASSERT_EQ(ret, XDP_PASS, "retval")) return;
 *   }
 *   static const struct perim_test tests[] = { TEST(test_parse_vlan), {0} };
 *   int main(int argc, char **argv) { return perim_test_main(tests, argc, argv); }
 */
#ifndef PERIM_TEST_H
#define PERIM_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct perim_test {
	const char *name;
	void (*fn)(void);
};
#define TEST(f) { #f, f }

extern int perim_test_failed;       /* set by a failing ASSERT in the running case */
extern char perim_test_skip[256];   /* set by TEST_SKIP */

#define TEST_SKIP(...) snprintf(perim_test_skip, sizeof(perim_test_skip), __VA_ARGS__)

#define ASSERT_TRUE(cond, tag) ({                                              \
	bool ___ok = !!(cond);                                                  \
	if (!___ok) {                                                           \
		fprintf(stderr, "  %s:%d: %s: expected true: %s\n",             \
			__FILE__, __LINE__, (tag), #cond);                     \
		perim_test_failed = 1;                                         \
	}                                                                       \
	___ok; })

#define ASSERT_EQ(a, b, tag) ({                                                \
	long long ___a = (long long)(a), ___b = (long long)(b);                 \
	bool ___ok = ___a == ___b;                                              \
	if (!___ok) {                                                           \
		fprintf(stderr, "  %s:%d: %s: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, (tag), #a, ___a, #b, ___b);        \
		perim_test_failed = 1;                                         \
	}                                                                       \
	___ok; })

#define ASSERT_NEQ(a, b, tag) ({                                               \
	long long ___a = (long long)(a), ___b = (long long)(b);                 \
	bool ___ok = ___a != ___b;                                              \
	if (!___ok) {                                                           \
		fprintf(stderr, "  %s:%d: %s: %s == %lld, expected otherwise\n", \
			__FILE__, __LINE__, (tag), #a, ___a);                  \
		perim_test_failed = 1;                                         \
	}                                                                       \
	___ok; })

/* lo <= a <= hi */
#define ASSERT_RANGE(a, lo, hi, tag) ({                                        \
	long long ___a = (long long)(a), ___l = (long long)(lo), ___h = (long long)(hi); \
	bool ___ok = ___a >= ___l && ___a <= ___h;                              \
	if (!___ok) {                                                           \
		fprintf(stderr, "  %s:%d: %s: %s == %lld, expected in [%lld, %lld]\n", \
			__FILE__, __LINE__, (tag), #a, ___a, ___l, ___h);      \
		perim_test_failed = 1;                                         \
	}                                                                       \
	___ok; })

#define ASSERT_OK(err, tag) ASSERT_EQ((err), 0, (tag))
#define ASSERT_OK_PTR(p, tag) ASSERT_TRUE((p) != NULL, (tag))
#define ASSERT_STREQ(a, b, tag) ({                                             \
	const char *___a = (a), *___b = (b);                                    \
	bool ___ok = ___a && ___b && !strcmp(___a, ___b);                       \
	if (!___ok) {                                                           \
		fprintf(stderr, "  %s:%d: %s: \"%s\", expected \"%s\"\n",       \
			__FILE__, __LINE__, (tag), ___a ? ___a : "(null)", ___b ? ___b : "(null)"); \
		perim_test_failed = 1;                                         \
	}                                                                       \
	___ok; })

/*
 * Runs every case (or those named on the command line), printing
 * PASS/FAIL/SKIP per case. Returns 1 when any case failed.
 */
static inline int perim_test_main(const struct perim_test *tests, int argc, char **argv)
{
	int failed = 0;

	for (const struct perim_test *t = tests; t->name; t++) {
		bool selected = argc < 2;
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], t->name))
				selected = true;
		if (!selected)
			continue;
		perim_test_failed = 0;
		perim_test_skip[0] = '\0';
		t->fn();
		if (perim_test_failed) {
			printf("FAIL: %s\n", t->name);
			failed = 1;
		} else if (perim_test_skip[0]) {
			printf("SKIP: %s: %s\n", t->name, perim_test_skip);
		} else {
			printf("PASS: %s\n", t->name);
		}
		fflush(stdout);
	}
	return failed;
}

#define PERIM_TEST_GLOBALS int perim_test_failed; char perim_test_skip[256]

#endif /* PERIM_TEST_H */
