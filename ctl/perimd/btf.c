// SPDX-License-Identifier: GPL-2.0
/* BTF selection: kernel BTF if present, else --btf, else the bundled <release>.btf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "btf.h"
#include "config.h"

static int use(struct perimd_btf *out, const char path[PATH_MAX], const char *source, bool custom)
{
	snprintf(out->path, sizeof(out->path), "%s", path);
	out->source = source;
	out->custom_path = custom ? out->path : NULL;
	return 0;
}

int perimd_btf_select(const struct perimd_config *cfg, struct perimd_btf *out)
{
	char bundled[PATH_MAX];
	struct utsname u;

	if (!access(cfg->kernel_btf, R_OK))
		return use(out, cfg->kernel_btf, "kernel", false);
	if (cfg->btf[0]) {
		if (!access(cfg->btf, R_OK))
			return use(out, cfg->btf, "config", true);
		fprintf(stderr, "perimd: --btf %s: %s\n", cfg->btf, strerror(errno));
		return -ENOENT;
	}
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	if (snprintf(bundled, sizeof(bundled), "%s/%s.btf", cfg->btf_dir, u.release) >= (int)sizeof(bundled))
		bundled[0] = '\0';
	if (bundled[0] && !access(bundled, R_OK))
		return use(out, bundled, "bundled", true);
	fprintf(stderr,
		"perimd: no BTF for kernel %s: %s is missing; install %s (e.g. from BTFHub) "
		"or pass --btf PATH\n", u.release, cfg->kernel_btf, bundled);
	return -ENOENT;
}
