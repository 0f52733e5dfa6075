// SPDX-License-Identifier: GPL-2.0
/* The state file: perimctl commands, one a line, rewritten atomically. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define MAX_WORDS 64

#define MAX_EXTRAS 4

static struct {
	perimd_state_extra_fn fn;
	void *ctx;
} extras[MAX_EXTRAS];

void perimd_state_set_extra(perimd_state_extra_fn fn, void *ctx)
{
	for (int i = 0; i < MAX_EXTRAS; i++)
		if (!extras[i].fn || extras[i].fn == fn) {
			extras[i].fn = fn;
			extras[i].ctx = ctx;
			return;
		}
}

static int format_model(const struct perim_model *m, FILE *f)
{
	char line[512];

	fprintf(f, "# perim state, written by perimd; one perimctl command per line\n");
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!m->ifaces[s].used)
			continue;
		perim_attach_format(m->ifaces[s].dev, m->ifaces[s].mode, s, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	for (uint32_t id = 1; id < m->rules_end; id++) {
		const struct perim_model_rule *r = &m->rules[id];

		if (!r->used)
			continue;
		if (perim_limit_format(m->ifaces[r->iface].dev, &r->spec, line, sizeof(line)) < 0)
			return -EINVAL;
		fprintf(f, "%s\n", line);
	}
	for (unsigned i = 0; i < m->n_acl; i++) {
		const struct perim_model_acl *a = &m->acl[i];
		char prefix[64];

		perim_prefix_format(&a->prefix, prefix, sizeof(prefix));
		fprintf(f, "%s add %s %s\n", a->verdict == PERIM_ACL_ALLOW ? "allow" : "deny",
			m->ifaces[a->iface].dev, prefix);
	}
	for (int i = 0; i < MAX_EXTRAS && extras[i].fn; i++) {
		int ret = extras[i].fn(extras[i].ctx, f);

		if (ret)
			return ret;
	}
	return ferror(f) ? -EIO : 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int perimd_state_write(const char *path, const struct perim_model *m, char *err, size_t errlen)
{
	char dir[4096], tmp[4200];
	const char *step = "creating";
	bool tmp_exists = false;
	FILE *f = NULL;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	tmp_exists = true;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	step = "writing";
	ret = format_model(m, f);
	if (!ret && fflush(f) != 0)
		ret = -errno;
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	f = NULL;
	if (ret)
		goto fail;
	step = "renaming";
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto fail;
	}
	tmp_exists = false;
	step = "syncing the directory of";
	ret = fsync_dir(dir);
	if (ret)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s state file %s: %s", step, path, strerror(-ret));
	if (f)
		fclose(f);
	if (tmp_exists)
		unlink(tmp);
	return ret;
}

static int split_words(char *line, char **argv)
{
	int argc = 0;

	for (char *w = strtok(line, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
		if (argc == MAX_WORDS)
			return -E2BIG;
		argv[argc++] = w;
	}
	return argc;
}

int perimd_state_read(const char *path, perimd_state_fn fn, void *ctx, char *err, size_t errlen)
{
	char line[1024], copy[1024], perr[256];
	char *argv[MAX_WORDS];
	struct perim_cmd cmd;
	int lineno = 0, argc, ret = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "reading state file %s: %s", path, strerror(-ret));
		return PERIM_EXIT_FAIL;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\n")] = '\0';
		argc = split_words(line, argv);
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if (argc < 0 || perim_cmd_parse(argc, argv, &cmd, perr, sizeof(perr))) {
			snprintf(err, errlen, "state file %s line %d: %s", path, lineno,
				 argc < 0 ? "too many words" : perr);
			ret = PERIM_EXIT_BADINPUT;
			break;
		}
		ret = fn(ctx, &cmd, lineno, copy);
	}
	fclose(f);
	return ret;
}
