/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's view of the links, from rtnetlink (libnl-route-3): a link cache
 * kept current by RTNLGRP_LINK events on a non-blocking socket in perimd's
 * event loop, plus synchronous queries on a second socket for what the cache
 * does not hold (a link's XDP state, fresh stats64).
 */
#ifndef PERIMD_NETLINK_H
#define PERIMD_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct perim_loop;


struct perimd_netlink;
struct nl_sock;

/* Called after a batch of link events has updated the cache (or after a resync). */
typedef void (*perimd_links_changed_fn)(void *ctx);

/* Subscribe and fill the cache. 0 or -errno with err set. */
int perimd_netlink_open(struct perim_loop *loop, perimd_links_changed_fn fn, void *ctx,
			struct perimd_netlink **out, char *err, size_t errlen);
void perimd_netlink_close(struct perimd_netlink *nl);

/* From the cache: ifindex of the link named name (0: none), name of ifindex (false: none). */
int perimd_netlink_cached_ifindex(struct perimd_netlink *nl, const char *name);
bool perimd_netlink_cached_name(struct perimd_netlink *nl, int ifindex, char name[IF_NAMESIZE]);
bool perimd_netlink_cached_up(struct perimd_netlink *nl, int ifindex);

/* Cache first, then the kernel (a link created a moment ago may not be in the cache yet). */
int perimd_netlink_ifindex(struct perimd_netlink *nl, const char *name);

/* IFLA_XDP of a link: what the kernel has attached there now. */
struct perimd_xdp_state {
	uint8_t attached;          /* XDP_ATTACHED_NONE, _DRV, _SKB, _HW, _MULTI */
	uint32_t prog_id;          /* the one program, when attached is not MULTI */
	uint32_t drv_prog_id, skb_prog_id;
};

/* 0, -ENODEV (no such link) or another -errno. */
int perimd_netlink_xdp(struct perimd_netlink *nl, int ifindex, struct perimd_xdp_state *out);
const char *perimd_xdp_attached_name(uint8_t attached);
/* One RTM_NEWLINK message's IFLA_XDP into out; false (out untouched) for another message. */
struct nl_msg;
bool perimd_netlink_parse_xdp(struct nl_msg *msg, struct perimd_xdp_state *out);

/* The synchronous socket, for other rtnetlink queries (nicstats). */
struct nl_sock *perimd_netlink_sync_sock(struct perimd_netlink *nl);

/* libnl's error (negative NLE_*) as -errno, for messages and callers. */
int perimd_nl_errno(int nl_err);

#endif /* PERIMD_NETLINK_H */
