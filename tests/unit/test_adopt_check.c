// SPDX-License-Identifier: GPL-2.0
/*
 * datapath/adopt_check.c against a real loaded perim_xdp: a program is
 * adoptable when it uses perimd's maps (both bucket tables among them), not
 * when a map of the same name is another one (its pin was replaced); a
 * program without a map of that name is another build, refused unless the
 * map may be lacking (an older build without perim_src4, on an upgrade).
 */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/adopt_check.h"
#include "xdp_harness.h"

static uint32_t prog_id_of(struct perim_xdp *skel)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd(skel), &info, &len))
		return 0;
	return info.id;
}

/* A bucket table like the program's, but not the one it uses. */
static int other_map(const char *name, uint32_t key_size)
{
	return bpf_map_create(BPF_MAP_TYPE_LRU_HASH, name, key_size, sizeof(struct perim_bucket), 1024, NULL);
}

static void test_uses_both_bucket_tables(void)
{
	struct perim_xdp *skel = load_prog(false);
	struct perim_adopt_map maps[] = { { PERIM_MAP_RULES, -1 }, { PERIM_MAP_SRC4, -1 }, { PERIM_MAP_SRC, -1 } };
	char err[256] = "";

	if (!skel)
		return;
	maps[0].fd = bpf_map__fd(skel->maps.perim_rules);
	maps[1].fd = bpf_map__fd(skel->maps.perim_src4);
	maps[2].fd = bpf_map__fd(skel->maps.perim_src);
	ASSERT_EQ(perim_adopt_check(prog_id_of(skel), maps, 3, err, sizeof(err)), 0, "adoptable");
	ASSERT_STREQ(err, "", "no error text");
	perim_xdp__destroy(skel);
}

static void test_replaced_src4_refused(void)
{
	struct perim_xdp *skel = load_prog(false);
	int fd = other_map(PERIM_MAP_SRC4, sizeof(struct perim_src4_key));
	struct perim_adopt_map maps[] = { { PERIM_MAP_RULES, -1 }, { PERIM_MAP_SRC4, fd } };
	char err[256] = "", want[128];
	uint32_t id;

	if (!skel || !ASSERT_TRUE(fd >= 0, "creating another perim_src4"))
		goto out;
	maps[0].fd = bpf_map__fd(skel->maps.perim_rules);
	id = prog_id_of(skel);
	ASSERT_EQ(perim_adopt_check(id, maps, 2, err, sizeof(err)), -EXDEV, "refused");
	snprintf(want, sizeof(want), "prog id %u does not use perimd's perim_src4 (map id ", id);
	ASSERT_TRUE(!strncmp(err, want, strlen(want)), "names the map");
out:
	if (fd >= 0)
		close(fd);
	perim_xdp__destroy(skel);
}

static void test_map_missing_is_another_build(void)
{
	struct perim_xdp *skel = load_prog(false);
	int fd = other_map("perim_src9", sizeof(struct perim_src4_key));
	struct perim_adopt_map maps[] = { { PERIM_MAP_SRC, -1 }, { "perim_src9", fd } };
	char err[256] = "", want[160];
	uint32_t id;

	if (!skel || !ASSERT_TRUE(fd >= 0, "creating perim_src9"))
		goto out;
	maps[0].fd = bpf_map__fd(skel->maps.perim_src);
	id = prog_id_of(skel);
	ASSERT_EQ(perim_adopt_check(id, maps, 2, err, sizeof(err)), -EPROTO, "refused as another build");
	snprintf(want, sizeof(want), "prog id %u has no map named perim_src9: it is another build of the program", id);
	ASSERT_STREQ(err, want, "says so");
out:
	if (fd >= 0)
		close(fd);
	perim_xdp__destroy(skel);
}

static void test_map_that_may_lack_is_adopted(void)
{
	struct perim_xdp *skel = load_prog(false);
	int fd = other_map("perim_src9", sizeof(struct perim_src4_key));
	struct perim_adopt_map maps[] = { { PERIM_MAP_SRC, -1 }, { "perim_src9", fd, .may_lack = true } };
	char err[256] = "";

	if (!skel || !ASSERT_TRUE(fd >= 0, "creating perim_src9"))
		goto out;
	maps[0].fd = bpf_map__fd(skel->maps.perim_src);
	ASSERT_EQ(perim_adopt_check(prog_id_of(skel), maps, 2, err, sizeof(err)), 0, "adopted");
	ASSERT_STREQ(err, "", "no error text");
out:
	if (fd >= 0)
		close(fd);
	perim_xdp__destroy(skel);
}
