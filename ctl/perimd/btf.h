/* SPDX-License-Identifier: GPL-2.0 */
/* Which BTF perimd's CO-RE relocations use: the kernel's, --btf, or the bundled file. */
#ifndef PERIMD_BTF_H
#define PERIMD_BTF_H

#include <limits.h>

#include "config.h"

struct perimd_btf {
	char path[PATH_MAX];
	const char *source;        /* "kernel", "config" or "bundled" */
	const char *custom_path;   /* NULL for the kernel's own, else path: btf_custom_path */
};

/* 0, or -ENOENT after one line saying what to install or provide. */
int perimd_btf_select(const struct perimd_config *cfg, struct perimd_btf *out);

#endif /* PERIMD_BTF_H */
