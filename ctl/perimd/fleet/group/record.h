/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The group revision this gateway applied, kept beside the state file
 * (STATE.group) with the ruleset's text, so a gateway restarted while NATS
 * is unreachable knows which revision its restored configuration is:
 *
 *   # perim group ruleset v1, written by perimd
 *   group edge
 *   revision 7
 *   applied-ms 1796000000000
 *   ...the ruleset's lines...
 *   # perim-state lines 9 crc32 1a2b3c4d
 *
 * Written atomically (temp file, fsync, rename, fsync of the directory);
 * read back only whole and checksummed.
 */
#ifndef PERIMD_FLEET_GROUP_RECORD_H
#define PERIMD_FLEET_GROUP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_GROUP_RECORD_SUFFIX ".group"

struct group_record {
	char group[64];
	uint64_t revision;
	uint64_t applied_ms;
};

int fleet_group_record_write(const char *path, const struct group_record *r, const char *text,
			     char *err, size_t errlen);
/* 0; 1: no record; -1 with err: not an intact record (it is then ignored). */
int fleet_group_record_read(const char *path, struct group_record *r, char *err, size_t errlen);

#endif /* PERIMD_FLEET_GROUP_RECORD_H */
