/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own counters of a perimeter NIC, to show beside perim's:
 * link stats64 through rtnetlink, and the driver's XDP drop counter (veth:
 * rx_queue_N_xdp_drops, summed over queues) through the ethtool ioctl.
 *
 * Why the ioctl: ethtool's netlink family (ETHTOOL_MSG_STATS_GET) carries
 * only the standard groups (eth-phy, eth-mac, eth-ctrl, rmon); a driver's
 * private counters, where XDP drops live, exist only as ETH_SS_STATS strings
 * and ETHTOOL_GSTATS values, which have no netlink message.
 *
 * Sampled at 1 Hz for rates. Per slot, a baseline of both perim's drops and
 * the driver's XDP drops is taken when perimd attaches to a new ifindex
 * (re-created or late NIC), so "since attach" compares the same span.
 */
#ifndef PERIMD_NICSTATS_H
#define PERIMD_NICSTATS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "perim.h"

struct perimd_netlink;

struct perimd_nic_counters {
	uint64_t rx_packets, rx_dropped, rx_missed_errors, rx_over_errors, rx_fifo_errors;
	bool has_xdp_drops;        /* the driver names an XDP drop counter */
	uint64_t xdp_drops;
};

struct perimd_nic_sample {
	uint64_t time_ns;
	bool valid;
	struct perimd_nic_counters c;
};

struct perimd_nic_slot {
	int ifindex;                       /* what the samples and baseline belong to */
	struct perimd_nic_sample prev, last;
	uint64_t base_perim_dropped, base_xdp_drops;
};

struct perimd_nicstats {
	struct perimd_netlink *nl;
	int ioctl_fd;
	struct perimd_nic_slot slot[PERIM_MAX_IFACES];
};

int perimd_nicstats_init(struct perimd_nicstats *ns, struct perimd_netlink *nl);
void perimd_nicstats_fini(struct perimd_nicstats *ns);

/* What the kernel sent, parsed (split from the I/O for the fuzzers): a link's stats64 and name. */
struct rtnl_link;
void perimd_nicstats_from_link(struct rtnl_link *link, struct perimd_nic_counters *out, char dev[IF_NAMESIZE]);
/* The driver's ETH_SS_STATS names and values (n asked for; each says how many it holds). */
struct ethtool_gstrings;
struct ethtool_stats;
void perimd_nicstats_sum_xdp_drops(const struct ethtool_gstrings *strings, const struct ethtool_stats *values,
				   int n, struct perimd_nic_counters *out);

/*
 * Start slot's "since attach" at ifindex now. Called just before perimd
 * attaches there, so neither side has counted a packet of the new span; a
 * slot first seen by a sample (perimd adopting at start) starts there.
 */
void perimd_nicstats_rebase(struct perimd_nicstats *ns, int slot, int ifindex, uint64_t perim_dropped);

/* Read the NIC now. 0, -ENODEV, or another -errno. */
int perimd_nicstats_read(struct perimd_nicstats *ns, int ifindex, struct perimd_nic_counters *out);

/*
 * obj gets "nic": {"ifindex", "rx_packets", "rx_dropped", "rx_missed_errors",
 * "rx_over_errors", "rx_fifo_errors", "xdp_drops" (null: the driver has none),
 * "source", "rates": {...}, "since_attach": {"perim_dropped", "xdp_drops",
 * "difference"}}, or "nic": null when the NIC cannot be read. snap: this
 * request's reading of slot (if_snapshot.h).
 */
struct perimd_if_snapshot;
void perimd_nicstats_json(struct perimd_nicstats *ns, int slot, int ifindex,
			  const struct perimd_if_snapshot *snap, struct json_object *obj);

/* The 1 Hz sample of every configured interface of perimd d. */
struct perimd;
void perimd_nicstats_tick(struct perimd *d);

#endif /* PERIMD_NICSTATS_H */
