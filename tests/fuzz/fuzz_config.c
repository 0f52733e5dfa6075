// SPDX-License-Identifier: GPL-2.0
/*
 * perimd --config FILE (ctl/perimd/config.c): an input is the file. Its
 * lines may name other files (config, guard-rules): those read what is
 * there, as perimd would.
 */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct perimd_config cfg;
	char path[PATH_MAX];
	char *argv[] = { "perimd", "--config", path, NULL };

	fuzz_path(path, sizeof(path), "perimd.conf");
	fuzz_write(path, data, size);
	perimd_config_parse(3, argv, &cfg);
	if (cfg.n_ifaces < 0 || cfg.n_ifaces > PERIM_MAX_IFACES)
		abort();
	return 0;
}
