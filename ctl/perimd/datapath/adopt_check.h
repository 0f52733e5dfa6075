/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Before perimd adopts a perim_xdp it finds attached, it checks that the
 * program reads the maps perimd is about to write. A perimd that sees another
 * bpffs than the one the program's maps are pinned in (started under
 * `ip netns exec`, which mounts a fresh /sys) would otherwise pin new maps,
 * write every change into them and report success while the program kept
 * enforcing the old rules.
 */
#ifndef PERIMD_ADOPT_CHECK_H
#define PERIMD_ADOPT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perim_adopt_map {
	const char *name;
	int fd;                    /* perimd's fd of the map; < 0: skipped */
	/*
	 * A program with no map of this name at all is adopted all the same
	 * (logged): one perimd writes nothing into, which an older build of the
	 * program does without (the IPv4 bucket table), so an upgrade adopts it.
	 */
	bool may_lack;
};

/* The ids of the maps prog_id uses, allocated in *ids (free it), their count in *n. 0 or -errno. */
int perim_prog_map_ids(uint32_t prog_id, uint32_t **ids, uint32_t *n);

/*
 * 0 when program prog_id uses every map in maps[0..n); -EXDEV with err naming
 * the first map it does not use (the program's map ids go to the log), or
 * -EPROTO when it has no map of that name at all (another build), unless
 * the map may be lacking; other -errno with err set when the kernel could
 * not be asked.
 */
int perim_adopt_check(uint32_t prog_id, const struct perim_adopt_map *maps, size_t n, char *err, size_t errlen);

#endif /* PERIMD_ADOPT_CHECK_H */
