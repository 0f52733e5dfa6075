// SPDX-License-Identifier: GPL-2.0
/* The link cache (libnl cache manager on RTNLGRP_LINK) and rtnetlink queries. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "log.h"
#include "links/netlink.h"
#include "loop.h"

/* Link events come in bursts (a namespace torn down): room for a few thousand. */
#define EVENT_RCVBUF (1 << 20)

struct perimd_netlink {
	struct perim_loop *loop;
	struct nl_sock *event_sock;    /* owned by the cache manager */
	struct nl_sock *sync_sock;     /* blocking request/reply */
	struct nl_cache_mngr *mngr;
	struct nl_cache *links;
	perimd_links_changed_fn changed;
	void *ctx;
	bool dirty;
};

int perimd_nl_errno(int nl_err)
{
	switch (nl_err < 0 ? -nl_err : nl_err) {
	case 0:                  return 0;
	case NLE_OBJ_NOTFOUND:   return -ENODEV;
	case NLE_NODEV:          return -ENODEV;
	case NLE_NOMEM:          return -ENOMEM;
	case NLE_AGAIN:          return -EAGAIN;
	case NLE_PERM:           return -EPERM;
	case NLE_BUSY:           return -EBUSY;
	case NLE_INVAL:          return -EINVAL;
	case NLE_OPNOTSUPP:      return -EOPNOTSUPP;
	case NLE_EXIST:          return -EEXIST;
	default:                 return -EIO;
	}
}

static const char *action_name(int action)
{
	switch (action) {
	case NL_ACT_NEW:    return "new";
	case NL_ACT_DEL:    return "deleted";
	case NL_ACT_CHANGE: return "changed";
	}
	return "event";
}

static void on_link_change(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	struct perimd_netlink *nl = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;

	pr_debug("perimd: netlink: link %s (ifindex %d) %s\n", rtnl_link_get_name(link),
		 rtnl_link_get_ifindex(link), action_name(action));
	nl->dirty = true;
}

/* After lost events (the socket overran) the cache is rebuilt from a dump. */
static void resync(struct perimd_netlink *nl, int why)
{
	int ret;

	pr_warn("perimd: netlink: link events lost (%s); re-reading every link\n", nl_geterror(why));
	ret = nl_cache_refill(nl->sync_sock, nl->links);
	if (ret < 0)
		pr_warn("perimd: netlink: re-reading the links: %s\n", nl_geterror(ret));
	nl->dirty = true;
}

static int on_readable(void *ctx, int fd, uint32_t events)
{
	struct perimd_netlink *nl = ctx;
	int ret = nl_cache_mngr_data_ready(nl->mngr);

	if (ret < 0 && ret != -NLE_AGAIN)
		resync(nl, ret);
	if (nl->dirty) {
		nl->dirty = false;
		nl->changed(nl->ctx);
	}
	return 0;
}

static int open_sync_sock(struct perimd_netlink *nl, char *err, size_t errlen)
{
	int ret;

	nl->sync_sock = nl_socket_alloc();
	if (!nl->sync_sock) {
		snprintf(err, errlen, "netlink: allocating a socket: out of memory");
		return -ENOMEM;
	}
	ret = nl_connect(nl->sync_sock, NETLINK_ROUTE);
	if (ret < 0) {
		snprintf(err, errlen, "netlink: connecting to rtnetlink: %s", nl_geterror(ret));
		return perimd_nl_errno(ret);
	}
	return 0;
}

static int open_link_cache(struct perimd_netlink *nl, char *err, size_t errlen)
{
	int ret;

	nl->event_sock = nl_socket_alloc();
	if (!nl->event_sock) {
		snprintf(err, errlen, "netlink: allocating a socket: out of memory");
		return -ENOMEM;
	}
	/* The manager connects the socket, makes it non-blocking and joins RTNLGRP_LINK. */
	ret = nl_cache_mngr_alloc(nl->event_sock, NETLINK_ROUTE, 0, &nl->mngr);
	if (ret < 0) {
		nl_socket_free(nl->event_sock);
		nl->event_sock = NULL;
		snprintf(err, errlen, "netlink: link cache manager: %s", nl_geterror(ret));
		return perimd_nl_errno(ret);
	}
	ret = nl_socket_set_buffer_size(nl->event_sock, EVENT_RCVBUF, 0);
	if (ret < 0)
		pr_warn("perimd: netlink: receive buffer of %d bytes: %s\n", EVENT_RCVBUF, nl_geterror(ret));
	ret = nl_cache_mngr_add(nl->mngr, "route/link", on_link_change, nl, &nl->links);
	if (ret < 0) {
		snprintf(err, errlen, "netlink: subscribing to link events: %s", nl_geterror(ret));
		return perimd_nl_errno(ret);
	}
	return 0;
}

int perimd_netlink_open(struct perim_loop *loop, perimd_links_changed_fn fn, void *ctx,
			struct perimd_netlink **out, char *err, size_t errlen)
{
	struct perimd_netlink *nl = calloc(1, sizeof(*nl));
	int ret;

	*out = NULL;
	if (!nl) {
		snprintf(err, errlen, "netlink: out of memory");
		return -ENOMEM;
	}
	nl->loop = loop;
	nl->changed = fn;
	nl->ctx = ctx;
	ret = open_sync_sock(nl, err, errlen);
	if (!ret)
		ret = open_link_cache(nl, err, errlen);
	if (!ret) {
		ret = perim_loop_add(loop, nl_cache_mngr_get_fd(nl->mngr), EPOLLIN, on_readable, nl);
		if (ret)
			snprintf(err, errlen, "netlink: watching the event socket: %s", strerror(-ret));
	}
	if (ret) {
		perimd_netlink_close(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

void perimd_netlink_close(struct perimd_netlink *nl)
{
	if (!nl)
		return;
	if (nl->mngr) {
		perim_loop_del(nl->loop, nl_cache_mngr_get_fd(nl->mngr));
		/* Frees the caches and closes the event socket, which it does not free. */
		nl_cache_mngr_free(nl->mngr);
	}
	nl_socket_free(nl->event_sock);
	nl_socket_free(nl->sync_sock);
	free(nl);
}

/*
 * The cache also holds per-family link objects (IPv6 sends RTM_NEWLINK with
 * family AF_INET6 when a link comes up) that no RTM_DELLINK removes, so
 * libnl's own lookups can return a deleted device: only AF_UNSPEC objects,
 * the devices themselves, count. Not referenced: valid until the next event.
 */
static struct rtnl_link *find_link(struct perimd_netlink *nl, int ifindex, const char *name)
{
	struct nl_object *obj;

	for (obj = nl_cache_get_first(nl->links); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *link = (struct rtnl_link *)obj;

		if (rtnl_link_get_family(link) != AF_UNSPEC)
			continue;
		if (name ? !strcmp(rtnl_link_get_name(link), name) : rtnl_link_get_ifindex(link) == ifindex)
			return link;
	}
	return NULL;
}

int perimd_netlink_cached_ifindex(struct perimd_netlink *nl, const char *name)
{
	struct rtnl_link *link = find_link(nl, 0, name);

	return link ? rtnl_link_get_ifindex(link) : 0;
}

bool perimd_netlink_cached_name(struct perimd_netlink *nl, int ifindex, char name[IF_NAMESIZE])
{
	struct rtnl_link *link = ifindex > 0 ? find_link(nl, ifindex, NULL) : NULL;

	if (!link)
		return false;
	snprintf(name, IF_NAMESIZE, "%s", rtnl_link_get_name(link));
	return true;
}

bool perimd_netlink_cached_up(struct perimd_netlink *nl, int ifindex)
{
	struct rtnl_link *link = ifindex > 0 ? find_link(nl, ifindex, NULL) : NULL;

	return link && (rtnl_link_get_flags(link) & IFF_UP);
}

int perimd_netlink_ifindex(struct perimd_netlink *nl, const char *name)
{
	struct rtnl_link *link = NULL;
	int ifindex = perimd_netlink_cached_ifindex(nl, name);

	if (ifindex)
		return ifindex;
	if (rtnl_link_get_kernel(nl->sync_sock, 0, name, &link) < 0 || !link)
		return 0;
	ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return ifindex;
}

struct xdp_reply {
	struct perimd_xdp_state *out;
	bool seen;
};

static uint32_t attr_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

/* Without a policy libnl takes any length: a short attribute would be read past its end. */
static struct nla_policy xdp_policy[IFLA_XDP_MAX + 1] = {
	[IFLA_XDP_ATTACHED] = { .type = NLA_U8 },
	[IFLA_XDP_PROG_ID] = { .type = NLA_U32 },
	[IFLA_XDP_DRV_PROG_ID] = { .type = NLA_U32 },
	[IFLA_XDP_SKB_PROG_ID] = { .type = NLA_U32 },
};

bool perimd_netlink_parse_xdp(struct nl_msg *msg, struct perimd_xdp_state *out)
{
	struct nlattr *tb[IFLA_MAX + 1], *xdp[IFLA_XDP_MAX + 1];

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(nlmsg_hdr(msg), sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	if (!tb[IFLA_XDP] || nla_parse_nested(xdp, IFLA_XDP_MAX, tb[IFLA_XDP], xdp_policy) < 0)
		return true;
	if (xdp[IFLA_XDP_ATTACHED])
		out->attached = nla_get_u8(xdp[IFLA_XDP_ATTACHED]);
	out->prog_id = attr_u32(xdp[IFLA_XDP_PROG_ID]);
	out->drv_prog_id = attr_u32(xdp[IFLA_XDP_DRV_PROG_ID]);
	out->skb_prog_id = attr_u32(xdp[IFLA_XDP_SKB_PROG_ID]);
	return true;
}

static int parse_xdp_reply(struct nl_msg *msg, void *arg)
{
	struct xdp_reply *r = arg;

	if (!perimd_netlink_parse_xdp(msg, r->out))
		return NL_SKIP;
	r->seen = true;
	return NL_OK;
}

static int request_xdp(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int ret;

	if (!msg)
		return -NLE_NOMEM;
	ret = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	/* The reply is only read for IFLA_XDP: spare the kernel the statistics. */
	if (!ret)
		ret = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (!ret)
		ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	return ret < 0 ? ret : 0;
}

int perimd_netlink_xdp(struct perimd_netlink *nl, int ifindex, struct perimd_xdp_state *out)
{
	struct xdp_reply r = { .out = out };
	struct nl_cb *cb, *sock_cb;
	int ret;

	memset(out, 0, sizeof(*out));
	if (ifindex <= 0)
		return -ENODEV;
	ret = request_xdp(nl->sync_sock, ifindex);
	if (ret < 0)
		return perimd_nl_errno(ret);
	/* nl_socket_get_cb takes a reference: without the put, the socket's callbacks leak. */
	sock_cb = nl_socket_get_cb(nl->sync_sock);
	cb = nl_cb_clone(sock_cb);
	nl_cb_put(sock_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, parse_xdp_reply, &r);
	/* The reply, or the kernel's error (which is then also the ack). */
	ret = nl_recvmsgs(nl->sync_sock, cb);
	nl_cb_put(cb);
	if (ret < 0)
		return perimd_nl_errno(ret);
	ret = nl_wait_for_ack(nl->sync_sock);
	if (ret < 0)
		return perimd_nl_errno(ret);
	return r.seen ? 0 : -ENODEV;
}

const char *perimd_xdp_attached_name(uint8_t attached)
{
	switch (attached) {
	case XDP_ATTACHED_NONE:  return "none";
	case XDP_ATTACHED_DRV:   return "native";
	case XDP_ATTACHED_SKB:   return "skb";
	case XDP_ATTACHED_HW:    return "hw";
	case XDP_ATTACHED_MULTI: return "multi";
	}
	return "unknown";
}

struct nl_sock *perimd_netlink_sync_sock(struct perimd_netlink *nl)
{
	return nl->sync_sock;
}
