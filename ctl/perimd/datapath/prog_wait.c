// SPDX-License-Identifier: GPL-2.0
/* A grace period on demand: one update of a private map-in-map (prog_wait.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/prog_wait.h"

static int inner_fd = -1, outer_fd = -1;

static int make_maps(char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int ret;

	inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "perim_wait_in", sizeof(__u32), sizeof(__u32), 1, NULL);
	if (inner_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating the map that waits for running programs: %s", strerror(-ret));
		return ret;
	}
	opts.inner_map_fd = inner_fd;
	outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "perim_wait", sizeof(__u32), sizeof(__u32), 1, &opts);
	if (outer_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating the map-in-map that waits for running programs: %s", strerror(-ret));
		close(inner_fd);
		inner_fd = -1;
		return ret;
	}
	return 0;
}

int perim_wait_for_programs(char *err, size_t errlen)
{
	__u32 key = 0, value;
	int ret;

	if (outer_fd < 0 && (ret = make_maps(err, errlen)))
		return ret;
	value = inner_fd;
	if (bpf_map_update_elem(outer_fd, &key, &value, BPF_ANY) < 0) {
		ret = -errno;
		snprintf(err, errlen, "waiting for running programs (map-in-map update): %s", strerror(-ret));
		return ret;
	}
	return 0;
}
