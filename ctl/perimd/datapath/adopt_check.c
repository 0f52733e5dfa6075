// SPDX-License-Identifier: GPL-2.0
/* Does an attached program use perimd's maps? Compared by map id. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/adopt_check.h"
#include "log.h"

int perim_prog_map_ids(uint32_t prog_id, uint32_t **ids, uint32_t *n)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), want;
	int fd, ret = 0;

	*ids = NULL;
	*n = 0;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		goto out;
	}
	want = info.nr_map_ids;
	*ids = calloc(want ? want : 1, sizeof(**ids));
	if (!*ids) {
		ret = -ENOMEM;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	info.nr_map_ids = want;
	info.map_ids = (uint64_t)(uintptr_t)*ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		goto out;
	}
	*n = info.nr_map_ids < want ? info.nr_map_ids : want;
out:
	close(fd);
	if (ret) {
		free(*ids);
		*ids = NULL;
	}
	return ret;
}

static void ids_text(const uint32_t *ids, uint32_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%u", i ? "," : "", ids[i]);
}

/* Does any of the program's maps carry this name (the kernel keeps 15 bytes of it)? */
static bool has_map_named(const uint32_t *ids, uint32_t n, const char *name)
{
	bool found = false;

	for (uint32_t i = 0; i < n && !found; i++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			found = !strncmp(info.name, name, sizeof(info.name) - 1);
		close(fd);
	}
	return found;
}

int perim_adopt_check(uint32_t prog_id, const struct perim_adopt_map *maps, size_t n, char *err, size_t errlen)
{
	struct bpf_map_info info;
	uint32_t *ids, n_ids, len;
	char have[256];
	int ret;

	ret = perim_prog_map_ids(prog_id, &ids, &n_ids);
	if (ret) {
		snprintf(err, errlen, "reading the maps of prog id %u: %s", prog_id, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		bool used = false, named;

		if (maps[i].fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(maps[i].fd, &info, &len) < 0) {
			ret = -errno;
			snprintf(err, errlen, "reading the id of %s: %s", maps[i].name, strerror(-ret));
			break;
		}
		for (uint32_t k = 0; k < n_ids && !used; k++)
			used = ids[k] == info.id;
		if (used)
			continue;
		ids_text(ids, n_ids, have, sizeof(have));
		named = has_map_named(ids, n_ids, maps[i].name);
		if (!named && maps[i].may_lack) {
			pr_warn("perimd: prog id %u has no map named %s (another build of the program): adopted as "
				"it is, running its own build's datapath until detached and attached again\n",
				prog_id, maps[i].name);
			continue;
		}
		if (!named) {
			pr_warn("perimd: prog id %u uses map ids %s, none named %s\n", prog_id, have, maps[i].name);
			snprintf(err, errlen, "prog id %u has no map named %s: it is another build of the program",
				 prog_id, maps[i].name);
			ret = -EPROTO;
			break;
		}
		pr_warn("perimd: prog id %u uses map ids %s, not perimd's %s (map id %u)\n", prog_id, have,
			maps[i].name, info.id);
		snprintf(err, errlen, "prog id %u does not use perimd's %s (map id %u)", prog_id, maps[i].name,
			 info.id);
		ret = -EXDEV;
	}
	free(ids);
	return ret;
}
