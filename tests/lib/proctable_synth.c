// SPDX-License-Identifier: GPL-2.0
/* Test-only synthetic processes (see proctable_synth.h), linked into tests/perimd-test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proctable_synth.h"

/* A small set of programs, as on a real machine. */
static const char *const synth_exes[] = {
	"/usr/sbin/nginx", "/usr/bin/python3.11", "/usr/sbin/sshd", "/usr/bin/bash",
	"/usr/sbin/php-fpm8.2", "/usr/bin/node", "/usr/lib/postgresql/15/bin/postgres",
	"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
};
#define SYNTH_EXES (sizeof(synth_exes) / sizeof(synth_exes[0]))

/* Command line number `line` (61 bytes with the final NUL) into buf; returns its length. */
static size_t synth_argv(char *buf, size_t size, size_t line)
{
	int len = snprintf(buf, size, "worker%c--conf%c/etc/svc/%06zu.conf%c--log%c/var/log/%06zu.log",
			   0, 0, line % 1000000, 0, 0, line % 1000000);

	return (size_t)len + 1;
}

int perim_proctable_synthesize(struct perim_proctable *t, size_t n, size_t lines)
{
	char argv[96];

	if (!lines || lines > n)
		lines = n;
	for (size_t i = 0; i < n; i++) {
		uint32_t pid = PERIM_SYNTH_PID_BASE + (uint32_t)i;
		struct perim_proc *p;

		if (i < lines)
			p = perim_proctable_exec(t, pid, 0, "worker", synth_exes[i % SYNTH_EXES], argv,
						 synth_argv(argv, sizeof(argv), i));
		else  /* a worker forked from the process holding its command line */
			p = perim_proctable_fork(t, PERIM_SYNTH_PID_BASE + (uint32_t)(i % lines), 0, pid, 0);
		if (!p)
			return -ENOSPC;
	}
	return 0;
}

static int parse_count(const char *s, char **end, size_t *out)
{
	unsigned long long v;

	errno = 0;
	v = strtoull(s, end, 10);
	if (errno || *end == s || v > 0x7fffffffull)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

int perim_proctable_synthesize_from_env(struct perim_proctable *t)
{
	const char *s = getenv("PERIM_TEST_PROCS");
	size_t n = 0, lines = 0;
	char *end;
	int err;

	if (!s || !*s)
		return 0;
	err = parse_count(s, &end, &n);
	if (!err && *end == ':')
		err = parse_count(end + 1, &end, &lines);
	if (err || *end) {
		pr_warn("tracers: PERIM_TEST_PROCS \"%s\" is wrong: N or N:LINES\n", s);
		return -EINVAL;
	}
	err = perim_proctable_synthesize(t, n, lines ? lines : n);
	if (err) {
		pr_warn("tracers: PERIM_TEST_PROCS: %zu synthetic processes do not fit: %s\n", n, strerror(-err));
		return err;
	}
	pr_info("tracers: %zu synthetic processes (%zu command lines) for a test\n", n, lines ? lines : n);
	return 0;
}
