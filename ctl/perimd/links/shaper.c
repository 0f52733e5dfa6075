// SPDX-License-Identifier: GPL-2.0
/* perim's egress shaper (root TBF + fq_codel) over rtnetlink with libnl-route-3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fq_codel.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "log.h"
#include "links/shaper.h"
#include "cmd.h"
#include "json_add.h"

#define ETH_HEADER_BYTES 14
#define SHAPE_DEFAULT_BURST_DIV 100      /* 10 ms of rate */
#define CHILD_LIMIT_MIN_PKTS 64

static const uint32_t perim_root_handle = PERIM_SHAPE_MAJOR << 16;
static const uint32_t perim_child_handle = PERIM_SHAPE_CHILD_MAJOR << 16;

/*
 * Defaults filled in and checked against the MTU: a burst below one frame
 * (MTU + Ethernet header) would make TBF drop every full-size packet.
 * Returns 0 or PERIM_EXIT_BADINPUT with err naming the token.
 */
static int perim_shape_resolve(const struct perim_shape_spec *s, unsigned mtu, struct perim_shape_params *out,
			       char *err, size_t errlen)
{
	uint64_t frame = (uint64_t)mtu + ETH_HEADER_BYTES, burst, queue_bytes;
	char num[32];

	memset(out, 0, sizeof(*out));
	out->rate_bytes = s->rate_bits / 8;
	if (!out->rate_bytes) {
		snprintf(num, sizeof(num), "%llubit", (unsigned long long)s->rate_bits);
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: the rate is below one byte per second", num);
		return PERIM_EXIT_BADINPUT;
	}
	burst = s->burst_bytes;
	if (!burst) {
		burst = out->rate_bytes / SHAPE_DEFAULT_BURST_DIV;
		if (burst < 2 * frame)
			burst = 2 * frame;
	}
	if (burst < frame) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)burst);
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: burst is smaller than one frame "
			 "(mtu %u + %d bytes of Ethernet header): TBF would drop every full-size packet",
			 num, mtu, ETH_HEADER_BYTES);
		return PERIM_EXIT_BADINPUT;
	}
	out->burst_bytes = burst;
	out->latency_us = (s->latency_ms ? s->latency_ms : PERIM_SHAPE_LATENCY_MS_DEFAULT) * 1000;
	/* fq_codel counts packets: latency's worth of full frames bounds the queueing delay. */
	queue_bytes = out->rate_bytes * out->latency_us / 1000000;
	out->child_limit_pkts = queue_bytes / frame;
	if (out->child_limit_pkts < CHILD_LIMIT_MIN_PKTS)
		out->child_limit_pkts = CHILD_LIMIT_MIN_PKTS;
	return 0;
}

static struct nl_sock *route_sock(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk) {
		snprintf(err, errlen, "rtnetlink: out of memory");
		return NULL;
	}
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0) {
		snprintf(err, errlen, "rtnetlink: connecting: %s", nl_geterror(ret));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static void qdisc_info_fill(struct rtnl_qdisc *q, struct perim_qdisc_info *out)
{
	struct rtnl_tc *tc = TC_CAST(q);
	const char *kind = rtnl_tc_get_kind(tc);

	out->present = true;
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "?");
	out->handle = rtnl_tc_get_handle(tc);
	out->sent_bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
	out->sent_packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
	out->dropped = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
	out->overlimits = rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS);
	out->requeues = rtnl_tc_get_stat(tc, RTNL_TC_REQUEUES);
	out->backlog_bytes = rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG);
	out->qlen = rtnl_tc_get_stat(tc, RTNL_TC_QLEN);
	if (!strcmp(out->kind, "tbf")) {
		out->rate_bytes = rtnl_qdisc_tbf_get_rate(q);
		out->burst_bytes = rtnl_qdisc_tbf_get_rate_bucket(q);
	}
}

static int read_with(struct nl_sock *sk, int ifindex, struct perim_qdisc_info *root,
		     struct perim_qdisc_info *child, char *err, size_t errlen)
{
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	int ret;

	memset(root, 0, sizeof(*root));
	if (child)
		memset(child, 0, sizeof(*child));
	ret = rtnl_qdisc_alloc_cache(sk, &cache);
	if (ret < 0) {
		snprintf(err, errlen, "rtnetlink: dumping qdiscs: %s", nl_geterror(ret));
		return PERIM_EXIT_FAIL;
	}
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	if (q) {
		qdisc_info_fill(q, root);
		rtnl_qdisc_put(q);
	}
	if (child && perim_shaper_owner(root) == PERIM_ROOT_PERIM) {
		q = rtnl_qdisc_get(cache, ifindex, perim_child_handle);
		if (q) {
			qdisc_info_fill(q, child);
			rtnl_qdisc_put(q);
		}
	}
	nl_cache_free(cache);
	return 0;
}

int perim_shaper_read(int ifindex, struct perim_qdisc_info *root, struct perim_qdisc_info *child,
		      char *err, size_t errlen)
{
	struct nl_sock *sk = route_sock(err, errlen);
	int ret;

	if (!sk)
		return PERIM_EXIT_FAIL;
	ret = read_with(sk, ifindex, root, child, err, errlen);
	nl_socket_free(sk);
	return ret;
}

enum perim_root_owner perim_shaper_owner(const struct perim_qdisc_info *root)
{
	if (!root->present || root->handle == 0)
		return PERIM_ROOT_DEFAULT;
	if (root->handle == perim_root_handle && !strcmp(root->kind, "tbf"))
		return PERIM_ROOT_PERIM;
	return PERIM_ROOT_FOREIGN;
}

static void handle_text(uint32_t handle, char *buf, size_t len)
{
	snprintf(buf, len, "%x:", handle >> 16);
}

static int link_mtu(struct nl_sock *sk, int ifindex, unsigned *mtu, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL;
	int ret = rtnl_link_get_kernel(sk, ifindex, NULL, &link);

	if (ret < 0) {
		snprintf(err, errlen, "rtnetlink: reading link %d: %s", ifindex, nl_geterror(ret));
		return PERIM_EXIT_FAIL;
	}
	*mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	return 0;
}

/* A qdisc object for ifindex with parent, handle and kind set. */
static struct rtnl_qdisc *qdisc_new(int ifindex, uint32_t parent, uint32_t handle, const char *kind,
				    char *err, size_t errlen)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int ret;

	if (!q) {
		snprintf(err, errlen, "rtnetlink: out of memory");
		return NULL;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	ret = rtnl_tc_set_kind(TC_CAST(q), kind);
	if (ret < 0) {
		snprintf(err, errlen, "rtnetlink: qdisc kind %s: %s", kind, nl_geterror(ret));
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

static int install_root(struct nl_sock *sk, const char *dev, int ifindex, const struct perim_shape_params *p,
			char *err, size_t errlen)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_ROOT, perim_root_handle, "tbf", err, errlen);
	int ret;

	if (!q)
		return PERIM_EXIT_FAIL;
	rtnl_qdisc_tbf_set_rate(q, (int)p->rate_bytes, (int)p->burst_bytes, 0);
	ret = rtnl_qdisc_tbf_set_limit_by_latency(q, p->latency_us);
	if (!ret)
		ret = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (ret < 0) {
		snprintf(err, errlen, "%s: installing the root tbf qdisc: %s", dev, nl_geterror(ret));
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

/*
 * fq_codel under the TBF. A kernel built without it (CONFIG_NET_SCH_FQ_CODEL
 * unset: the kernel answers ENOENT, "qdisc kind is unknown") keeps TBF's own
 * byte FIFO, sized by latency: the rate is shaped all the same, only the
 * queue is not fair between flows. Said in the log and in `stats`.
 */
static int install_child(struct nl_sock *sk, const char *dev, int ifindex, const struct perim_shape_params *p,
			 char *err, size_t errlen)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, perim_root_handle | 1, perim_child_handle, "fq_codel",
					 err, errlen);
	int ret;

	if (!q)
		return PERIM_EXIT_FAIL;
	ret = rtnl_qdisc_fq_codel_set_limit(q, p->child_limit_pkts);
	if (!ret)
		ret = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (ret == -NLE_OBJ_NOTFOUND) {
		pr_warn("perimd: %s: this kernel has no fq_codel qdisc; the tbf keeps its own fifo\n", dev);
		return 0;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s: installing fq_codel under the tbf: %s", dev, nl_geterror(ret));
		return PERIM_EXIT_FAIL;
	}
	return 0;
}

static int delete_root(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int ret;

	if (!q)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), perim_root_handle);
	ret = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	return ret;
}

static int refuse_foreign(const char *dev, const struct perim_qdisc_info *root, const char *what,
			  char *err, size_t errlen)
{
	char handle[16];

	handle_text(root->handle, handle, sizeof(handle));
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: its root qdisc (%s %s) was not created by perim; "
		 "%s", dev, root->kind, handle, what);
	return PERIM_EXIT_BADINPUT;
}

int perim_shaper_apply(const char *dev, int ifindex, const struct perim_shape_spec *s, char *err,
		       size_t errlen)
{
	struct nl_sock *sk = route_sock(err, errlen);
	struct perim_shape_params p;
	struct perim_qdisc_info root;
	enum perim_root_owner owner;
	char undo_err[128];
	unsigned mtu;
	int ret;

	if (!sk)
		return PERIM_EXIT_FAIL;
	ret = link_mtu(sk, ifindex, &mtu, err, errlen);
	if (!ret)
		ret = perim_shape_resolve(s, mtu, &p, err, errlen);
	if (!ret)
		ret = read_with(sk, ifindex, &root, NULL, err, errlen);
	if (ret)
		goto out;
	owner = perim_shaper_owner(&root);
	if (owner == PERIM_ROOT_FOREIGN && !s->force) {
		ret = refuse_foreign(dev, &root, "left in place (add force to replace it)", err, errlen);
		goto out;
	}
	if (owner == PERIM_ROOT_FOREIGN)
		pr_warn("perimd: %s: replacing root qdisc %s %x: (force)\n", dev, root.kind, root.handle >> 16);
	ret = install_root(sk, dev, ifindex, &p, err, errlen);
	if (!ret)
		ret = install_child(sk, dev, ifindex, &p, err, errlen);
	if (ret && owner != PERIM_ROOT_PERIM) {
		/* A half-built shaper of our own making goes; the kernel's default comes back. */
		int dret = delete_root(sk, ifindex);

		if (dret < 0 && dret != -NLE_OBJ_NOTFOUND) {
			snprintf(undo_err, sizeof(undo_err), "; removing the half-built shaper failed too: %s",
				 nl_geterror(dret));
			strncat(err, undo_err, errlen - strlen(err) - 1);
		}
	}
out:
	nl_socket_free(sk);
	return ret;
}

int perim_shaper_remove(const char *dev, int ifindex, char *err, size_t errlen)
{
	struct nl_sock *sk = route_sock(err, errlen);
	struct perim_qdisc_info root;
	int ret;

	if (!sk)
		return PERIM_EXIT_FAIL;
	ret = read_with(sk, ifindex, &root, NULL, err, errlen);
	if (ret)
		goto out;
	switch (perim_shaper_owner(&root)) {
	case PERIM_ROOT_DEFAULT:
		ret = 0;
		break;
	case PERIM_ROOT_FOREIGN:
		ret = refuse_foreign(dev, &root, "not removed", err, errlen);
		break;
	case PERIM_ROOT_PERIM:
		ret = delete_root(sk, ifindex);
		if (ret < 0 && ret != -NLE_OBJ_NOTFOUND) {
			snprintf(err, errlen, "%s: deleting perim's root qdisc: %s", dev, nl_geterror(ret));
			ret = PERIM_EXIT_FAIL;
		} else {
			ret = 0;
		}
		break;
	}
out:
	nl_socket_free(sk);
	return ret;
}

struct json_object *perim_qdisc_json(const struct perim_qdisc_info *q)
{
	struct json_object *o;
	char handle[16];

	if (!q->present)
		return NULL;
	o = json_object_new_object();
	handle_text(q->handle, handle, sizeof(handle));
	json_object_object_add(o, "kind", json_object_new_string(q->kind));
	json_object_object_add(o, "handle", json_object_new_string(handle));
	json_add_u64(o, "sent_bytes", q->sent_bytes);
	json_add_u64(o, "sent_packets", q->sent_packets);
	json_add_u64(o, "dropped", q->dropped);
	json_add_u64(o, "overlimits", q->overlimits);
	json_add_u64(o, "requeues", q->requeues);
	json_add_u64(o, "backlog_bytes", q->backlog_bytes);
	json_add_u64(o, "qlen", q->qlen);
	if (q->rate_bytes) {
		json_add_u64(o, "rate_bits", q->rate_bytes * 8);
		json_add_u64(o, "burst_bytes", q->burst_bytes);
	}
	return o;
}
