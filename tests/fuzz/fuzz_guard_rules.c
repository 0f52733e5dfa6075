// SPDX-License-Identifier: GPL-2.0
/* The guard rail file (ctl/perimd/guard_rules.c): an input is the file. */
#include "fuzz_util.h"
#include "tracing/guard_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct perim_guard_config c;
	char path[PATH_MAX], err[512] = "";

	fuzz_path(path, sizeof(path), "guard.rules");
	fuzz_write(path, data, size);
	if (perim_guard_rules_parse(path, &c, err, sizeof(err)) && !err[0])
		abort();   /* a refused file is named with its reason */
	if (c.n_rules < 0 || c.n_rules > PERIM_GUARD_MAX_RULES || c.n_write < 0 || c.n_write > PERIM_GUARD_MAX_WRITE)
		abort();
	return 0;
}
