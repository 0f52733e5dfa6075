// SPDX-License-Identifier: GPL-2.0
/* Open a pinned per-slot map, or create and pin it (pinned_map.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracing/guard_objects.h"
#include "datapath/pinned_map.h"

int perim_slot_pin_path(char *buf, size_t len, const char *pin_root, const char *stem, int slot)
{
	int n = snprintf(buf, len, "%s/%s_%d", pin_root, stem, slot);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A pin left by another layout would make every access fail or be misread: refuse it up front. */
static int check_shape(int fd, const struct perim_map_shape *shape, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ret;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "inspecting %s: %s", path, strerror(-ret));
		return ret;
	}
	if (info.type != shape->type || info.key_size != shape->key_size ||
	    info.value_size != shape->value_size || info.max_entries != shape->max_entries ||
	    (info.map_flags & shape->map_flags) != shape->map_flags) {
		snprintf(err, errlen,
			 "%s is not a %s map of this perim version (type %u, key %u, value %u bytes, %u entries, flags %#x)",
			 path, shape->name, info.type, info.key_size, info.value_size, info.max_entries,
			 info.map_flags);
		return -EINVAL;
	}
	return 0;
}

static int create_map(const struct perim_map_shape *shape, const char *path, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = shape->map_flags);
	int fd, ret;

	fd = bpf_map_create(shape->type, shape->name, shape->key_size, shape->value_size,
			    shape->max_entries, &opts);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", path ? path : shape->name, strerror(-ret));
		return ret;
	}
	/* listed before it is pinned: no other process may reach it through the pin first */
	perim_guard_objects_sync();
	if (path && bpf_obj_pin(fd, path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "pinning %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int perim_slot_map_open(const struct perim_map_shape *shape, const char *pin_root, int slot, bool create,
			char *path, size_t path_len, char *err, size_t errlen)
{
	int fd, ret;

	if (!pin_root) {
		snprintf(path, path_len, "%s", shape->name);
		return create ? create_map(shape, NULL, err, errlen) : -ENOENT;
	}
	ret = perim_slot_pin_path(path, path_len, pin_root, shape->name, slot);
	if (ret) {
		snprintf(err, errlen, "pin path under %s: %s", pin_root, strerror(-ret));
		return ret;
	}
	fd = bpf_obj_get(path);
	if (fd < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "opening %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fd < 0)
		return create ? create_map(shape, path, err, errlen) : -ENOENT;
	ret = check_shape(fd, shape, path, err, errlen);
	if (ret) {
		close(fd);
		return ret;
	}
	perim_guard_objects_sync();         /* adopted from its pin: perimd's from now on */
	return fd;
}
