/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One request's reading of an interface's counters, shared by the `stats`
 * JSON and the comparison with the NIC's own counters.
 *
 * perim counts a drop in its per-CPU counters before the driver counts the
 * XDP_DROP, and the two cannot be read at one instant. So perim's drops are
 * read just before and just after the NIC: every drop the NIC counted by
 * then, perim counted by the second read, and every drop perim counted by
 * the first read the driver had counted by the time the NIC was read. Two
 * counters that agree put the NIC's count within [dropped_before,
 * perimd_if_dropped(&c)]; anything outside is a real difference.
 */
#ifndef PERIMD_IF_SNAPSHOT_H
#define PERIMD_IF_SNAPSHOT_H

#include <stdint.h>

#include "perim.h"
#include "links/nicstats.h"

struct perimd;

struct perimd_if_snapshot {
	struct perim_if_counters c;        /* perim's counters, read after the NIC */
	uint64_t dropped_before;           /* perim's drops, read before the NIC */
	int nic_err;                       /* 0: nic is valid; -ENODEV: not attached or gone */
	struct perimd_nic_counters nic;
};

/* 0, or -errno when perim's counters cannot be read. */
int perimd_if_snapshot(struct perimd *d, int slot, struct perimd_if_snapshot *out);

#endif /* PERIMD_IF_SNAPSHOT_H */
