// SPDX-License-Identifier: GPL-2.0
/* Test-only synthetic processes (see proctable_synth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proctable_synth.h"

int perim_proctable_synthesize(struct perim_proctable *t, size_t n, size_t images)
{
	char exe[32], argv[64];

	if (!images || images > n)
		images = n;
	for (size_t i = 0; i < n; i++) {
		size_t img = i % images;
		/* 64 bytes with the final NUL: "worker", "--config", a path, "--verbose". */
		int len = snprintf(argv, sizeof(argv), "worker%c--config%c/etc/svc/%06zu.conf%c--verbose",
				   0, 0, img % 1000000, 0);

		snprintf(exe, sizeof(exe), "/usr/sbin/svc-%06zu.bin", img % 1000000);
		if (!perim_proctable_exec(t, PERIM_SYNTH_PID_BASE + (uint32_t)i, 0, "worker", exe,
					  argv, (size_t)len + 1))
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
	size_t n = 0, images = 0;
	char *end;
	int err;

	if (!s || !*s)
		return 0;
	err = parse_count(s, &end, &n);
	if (!err && *end == ':')
		err = parse_count(end + 1, &end, &images);
	if (err || *end) {
		pr_warn("tracers: PERIM_TEST_PROCS \"%s\" is wrong: N or N:IMAGES\n", s);
		return -EINVAL;
	}
	err = perim_proctable_synthesize(t, n, images ? images : n);
	if (err) {
		pr_warn("tracers: PERIM_TEST_PROCS: %zu synthetic processes do not fit: %s\n", n, strerror(-err));
		return err;
	}
	pr_info("tracers: %zu synthetic processes (%zu command lines) for a test\n", n, images ? images : n);
	return 0;
}
