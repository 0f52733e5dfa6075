// SPDX-License-Identifier: GPL-2.0
/*
 * main() of every unit test: runs the cases of perim_tests[] (all, or those
 * named on the command line), printing PASS/FAIL/SKIP per case. Exits 1 when
 * any case failed.
 */
#include <stdarg.h>
#include <bpf/libbpf.h>

#include "test.h"

int perim_test_failed;
char perim_test_skip[256];

/*
 * libbpf's warnings and errors reach stderr, its debug and info chatter does
 * not; nor does its notice that it skips libxdp's .xdp_run_config section.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN || strstr(fmt, "unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static bool run_case(const struct perim_test *t)
{
	perim_test_failed = 0;
	perim_test_skip[0] = '\0';
	t->fn();
	if (perim_test_failed)
		printf("FAIL: %s\n", t->name);
	else if (perim_test_skip[0])
		printf("SKIP: %s: %s\n", t->name, perim_test_skip);
	else
		printf("PASS: %s\n", t->name);
	fflush(stdout);
	return !perim_test_failed;
}

int main(int argc, char **argv)
{
	int failed = 0;

	libbpf_set_print(libbpf_print);
	for (const struct perim_test *t = perim_tests; t->name; t++)
		if (selected(t->name, argc, argv) && !run_case(t))
			failed = 1;
	return failed;
}
