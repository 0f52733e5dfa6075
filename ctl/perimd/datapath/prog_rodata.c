// SPDX-License-Identifier: GPL-2.0
/* Reading an attached program's .rodata variable by name, through its map's BTF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "datapath/adopt_check.h"
#include "datapath/prog_rodata.h"

/* var's offset in the datasec .rodata that is type_id of btf, or -ENOENT. */
static long rodata_offset(const struct btf *btf, uint32_t type_id, const char *var)
{
	const struct btf_type *sec = btf__type_by_id(btf, type_id);
	const struct btf_var_secinfo *vs;

	if (!sec || !btf_is_datasec(sec) || strcmp(btf__name_by_offset(btf, sec->name_off), ".rodata"))
		return -ENOENT;
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (v && btf_is_var(v) && !strcmp(btf__name_by_offset(btf, v->name_off), var) && vs->size == 4)
			return vs->offset;
	}
	return -ENOENT;
}

/* The variable from map fd when it is that program's .rodata: 0, -ENOENT (not this map), -errno. */
static int map_var(int fd, const char *var, uint32_t *value)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), zero = 0;
	struct btf *btf;
	unsigned char *buf;
	long off;
	int ret;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || !info.btf_id || !info.btf_value_type_id)
		return -ENOENT;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return -errno;
	off = rodata_offset(btf, info.btf_value_type_id, var);
	btf__free(btf);
	if (off < 0 || (uint64_t)off + sizeof(*value) > info.value_size)
		return -ENOENT;
	buf = malloc(info.value_size);
	if (!buf)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(fd, &zero, buf) < 0 ? -errno : 0;
	if (!ret)
		memcpy(value, buf + off, sizeof(*value));
	free(buf);
	return ret;
}

int perim_prog_rodata_u32(uint32_t prog_id, const char *var, uint32_t *value, char *err, size_t errlen)
{
	uint32_t *ids, n = 0;
	int ret, fd;

	ret = perim_prog_map_ids(prog_id, &ids, &n);
	for (uint32_t i = 0; !ret && i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		ret = map_var(fd, var, value);
		close(fd);
		if (ret != -ENOENT) {
			free(ids);
			goto done;
		}
		ret = 0;
	}
	free(ids);
	if (!ret)
		ret = -ENOENT;
done:
	if (ret)
		snprintf(err, errlen, "reading %s of program %u: %s", var, prog_id,
			 ret == -ENOENT ? "not in its .rodata" : strerror(-ret));
	return ret;
}
