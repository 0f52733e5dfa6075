// SPDX-License-Identifier: GPL-2.0
/* perim_tc on the clsact egress hook: clsact over libnl, the filter with libbpf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/loader.h"
#include "datapath/tc.h"
#include "xdp/perim_tc.skel.h"
#include "model/rules.h"
#include "cmd.h"
#include "perim.h"

/* clsact exists already (ours from before, or another tool's): that is fine. */
static int ensure_clsact(const char *dev, int ifindex, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_qdisc *q = NULL;
	int ret;

	if (!sk) {
		snprintf(err, errlen, "%s: rtnetlink: out of memory", dev);
		return PERIM_EXIT_FAIL;
	}
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0)
		goto out;
	q = rtnl_qdisc_alloc();
	if (!q) {
		ret = -NLE_NOMEM;
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
	ret = rtnl_tc_set_kind(TC_CAST(q), "clsact");
	if (!ret)
		ret = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	if (ret == -NLE_EXIST)
		ret = 0;
out:
	if (ret < 0)
		snprintf(err, errlen, "%s: adding the clsact qdisc: %s", dev, nl_geterror(ret));
	rtnl_qdisc_put(q);
	nl_socket_free(sk);
	return ret < 0 ? PERIM_EXIT_FAIL : 0;
}

static int set_pin(struct bpf_map *map, const char *pin_root, int family, int slot, const char *name)
{
	char path[4200];
	int ret;

	if (name)
		ret = snprintf(path, sizeof(path), "%s/%s", pin_root, name) >= (int)sizeof(path) ? -ENAMETOOLONG : 0;
	else
		ret = perim_lpm_pin_path(path, sizeof(path), pin_root, family, slot);
	return ret ?: bpf_map__set_pin_path(map, path);
}

static struct perim_tc *open_instance(const struct perim_loader *l, int slot, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = l->pin_root,
		    .btf_custom_path = l->btf_custom_path);
	bool compat = !strcmp(l->prog_name, "perim_xdp_compat");
	struct perim_tc *skel;
	char msg[256];
	int ret;

	skel = perim_tc__open_opts(&opts);
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening the perim_tc object: %s", strerror(-ret));
		return NULL;
	}
	skel->rodata->perim_slot = slot;
	ret = bpf_map__set_max_entries(skel->maps.perim_src, l->src_buckets);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.perim_src4, l->src_buckets);
	if (!ret)
		ret = set_pin(skel->maps.perim_lpm4, l->pin_root, PERIM_LPM_EGRESS_V4, slot, NULL);
	if (!ret)
		ret = set_pin(skel->maps.perim_lpm6, l->pin_root, PERIM_LPM_EGRESS_V6, slot, NULL);
	if (!ret)
		ret = set_pin(skel->maps.perim_ecgroup, l->pin_root, PERIM_LPM_EGRESS_CGROUP, slot, NULL);
	if (!ret)
		ret = set_pin(skel->maps.perim_if_stats, l->pin_root, 0, slot, PERIM_MAP_EGRESS_IF_STATS);
	if (!ret)
		ret = bpf_program__set_autoload(skel->progs.perim_tc, !compat);
	if (!ret)
		ret = bpf_program__set_autoload(skel->progs.perim_tc_compat, compat);
	if (!ret)
		ret = perim_tc__load(skel);
	if (ret) {
		libbpf_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "loading perim_tc for slot %d: %s", slot, msg);
		perim_tc__destroy(skel);
		return NULL;
	}
	return skel;
}

static int tc_prog_fd(const struct perim_loader *l, struct perim_tc *skel)
{
	return strcmp(l->prog_name, "perim_xdp_compat") ? bpf_program__fd(skel->progs.perim_tc)
						       : bpf_program__fd(skel->progs.perim_tc_compat);
}

void perim_tc_release(struct perim_tc_attachment *a)
{
	perim_tc__destroy(a->skel);
	memset(a, 0, sizeof(*a));
}

int perim_tc_attach(const struct perim_loader *l, const char *dev, int ifindex, int slot,
		    struct perim_tc_attachment *a, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PERIM_TC_HANDLE, .priority = PERIM_TC_PRIORITY,
		    .flags = BPF_TC_F_REPLACE);
	struct perim_tc *skel;
	char msg[256];
	int ret;

	ret = ensure_clsact(dev, ifindex, err, errlen);
	if (ret)
		return ret;
	skel = open_instance(l, slot, err, errlen);
	if (!skel)
		return PERIM_EXIT_FAIL;
	opts.prog_fd = tc_prog_fd(l, skel);
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		libbpf_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "%s: attaching perim_tc to the clsact egress hook: %s", dev, msg);
		perim_tc__destroy(skel);
		return PERIM_EXIT_FAIL;
	}
	perim_tc_release(a);
	a->attached = true;
	a->ifindex = ifindex;
	a->prog_id = opts.prog_id;
	a->skel = skel;
	return 0;
}

int perim_tc_detach(struct perim_tc_attachment *a, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PERIM_TC_HANDLE, .priority = PERIM_TC_PRIORITY);
	char msg[256];
	int ret;

	if (!a->attached)
		return 0;
	ret = bpf_tc_detach(&hook, &opts);
	/* Gone with its NIC, or with the clsact someone removed: nothing left to detach. */
	if (ret && ret != -ENOENT && ret != -ENODEV && ret != -EINVAL) {
		libbpf_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "detaching perim_tc from ifindex %d: %s", a->ifindex, msg);
		return PERIM_EXIT_FAIL;
	}
	perim_tc_release(a);
	return 0;
}

uint32_t perim_tc_query(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PERIM_TC_HANDLE, .priority = PERIM_TC_PRIORITY);

	if (ifindex <= 0 || bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}
