/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The egress program on a NIC: a clsact qdisc (libnl-route-3's qdisc API)
 * and perim_tc as a direct-action filter on its egress hook (libbpf's
 * bpf_tc_attach, which speaks rtnetlink itself: neither runs `tc`).
 *
 * One perim_tc instance per interface slot, like perim_xdp: its slot in
 * rodata, the shared rule/bucket maps pinned by name, its egress tables and
 * counters re-pointed at the per-slot pins of perim.h. perim's filter is the
 * one with handle PERIM_TC_HANDLE and priority PERIM_TC_PRIORITY; attaching
 * replaces it atomically (a restarted perimd takes over without a gap), and
 * it stays attached when perimd exits.
 */
#ifndef PERIMD_TC_H
#define PERIMD_TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perim_tc;
struct perim_loader;

struct perim_tc_attachment {
	bool attached;
	int ifindex;
	uint32_t prog_id;
	struct perim_tc *skel;
};

/* Load an instance for slot and attach it to ifindex's egress. 0 or PERIM_EXIT_FAIL, err set. */
int perim_tc_attach(const struct perim_loader *l, const char *dev, int ifindex, int slot,
		    struct perim_tc_attachment *a, char *err, size_t errlen);
/*
 * Forget without touching the NIC: the attachment is replaced, or perimd exits
 * and the filter goes on enforcing with the pinned maps.
 */
void perim_tc_release(struct perim_tc_attachment *a);
/* Remove perim's filter (the clsact qdisc stays: others may have filters there). */
int perim_tc_detach(struct perim_tc_attachment *a, char *err, size_t errlen);
/* The id of perim's egress filter's program on ifindex, 0 when there is none. */
uint32_t perim_tc_query(int ifindex);

#endif /* PERIMD_TC_H */
