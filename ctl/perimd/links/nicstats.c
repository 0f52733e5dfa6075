// SPDX-License-Identifier: GPL-2.0
/* NIC counters: stats64 over rtnetlink, the driver's XDP drops over SIOCETHTOOL. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/route/link.h>

#include "daemon.h"
#include "links/nicstats.h"
#include "telemetry/if_snapshot.h"
#include "telemetry/stats.h"
#include "links/netlink.h"
#include "perim.h"
#include "json_add.h"
#include "names.h"

#define XDP_DROPS_SOURCE "ethtool-ioctl"

int perimd_nicstats_init(struct perimd_nicstats *ns, struct perimd_netlink *nl)
{
	memset(ns, 0, sizeof(*ns));
	ns->nl = nl;
	ns->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return ns->ioctl_fd < 0 ? -errno : 0;
}

void perimd_nicstats_fini(struct perimd_nicstats *ns)
{
	if (ns->ioctl_fd >= 0)
		close(ns->ioctl_fd);
	ns->ioctl_fd = -1;
}

static int ethtool_ioctl(int fd, const char *dev, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* How many ETH_SS_STATS strings the driver has (0: none, or no ethtool support). */
static int stats_count(int fd, const char *dev)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 len;
	} info = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	int ret = ethtool_ioctl(fd, dev, &info);

	if (ret)
		return ret == -EOPNOTSUPP ? 0 : ret;
	return info.hdr.sset_mask & (1ULL << ETH_SS_STATS) ? (int)info.len : 0;
}

/*
 * A receive-side XDP drop counter, as drivers name theirs: veth and
 * virtio_net "rx_queue_N_xdp_drops", mlx5 "rx_xdp_drop", others "xdp_drop...".
 */
static bool is_xdp_drop_counter(const char *name)
{
	return strstr(name, "xdp_drop") && strncmp(name, "tx", 2) != 0;
}

void perimd_nicstats_sum_xdp_drops(const struct ethtool_gstrings *strings, const struct ethtool_stats *values,
				   int n, struct perimd_nic_counters *out)
{
	/* The driver may have changed its queue count between the calls: trust the smaller. */
	if (strings->len < (unsigned)n)
		n = strings->len;
	if (values->n_stats < (unsigned)n)
		n = values->n_stats;
	for (int i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, strings->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (!is_xdp_drop_counter(name))
			continue;
		out->has_xdp_drops = true;
		out->xdp_drops += values->data[i];
	}
}

static int sum_xdp_drops(int fd, const char *dev, int n, struct perimd_nic_counters *out)
{
	struct ethtool_gstrings *strings = calloc(1, sizeof(*strings) + (size_t)n * ETH_GSTRING_LEN);
	struct ethtool_stats *values = calloc(1, sizeof(*values) + (size_t)n * sizeof(__u64));
	int ret = -ENOMEM;

	if (!strings || !values)
		goto out;
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_STATS;
	strings->len = n;
	values->cmd = ETHTOOL_GSTATS;
	values->n_stats = n;
	ret = ethtool_ioctl(fd, dev, strings);
	if (!ret)
		ret = ethtool_ioctl(fd, dev, values);
	if (ret)
		goto out;
	perimd_nicstats_sum_xdp_drops(strings, values, n, out);
out:
	free(strings);
	free(values);
	return ret;
}

static int read_driver_xdp_drops(int fd, const char *dev, struct perimd_nic_counters *out)
{
	int n = stats_count(fd, dev);

	out->has_xdp_drops = false;
	out->xdp_drops = 0;
	if (n <= 0)
		return n;
	return sum_xdp_drops(fd, dev, n, out);
}

void perimd_nicstats_from_link(struct rtnl_link *link, struct perimd_nic_counters *out, char dev[IF_NAMESIZE])
{
	const char *name = rtnl_link_get_name(link);

	out->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	out->rx_dropped = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
	out->rx_missed_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_MISSED_ERR);
	out->rx_over_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_OVER_ERR);
	out->rx_fifo_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_FIFO_ERR);
	/* The name from this same reply: the ioctl addresses the device by name. */
	snprintf(dev, IF_NAMESIZE, "%s", name ? name : "");
}

int perimd_nicstats_read(struct perimd_nicstats *ns, int ifindex, struct perimd_nic_counters *out)
{
	struct rtnl_link *link = NULL;
	char dev[IF_NAMESIZE];
	int ret;

	memset(out, 0, sizeof(*out));
	if (ifindex <= 0)
		return -ENODEV;
	ret = rtnl_link_get_kernel(perimd_netlink_sync_sock(ns->nl), ifindex, NULL, &link);
	if (ret < 0 || !link)
		return ret < 0 ? perimd_nl_errno(ret) : -ENODEV;
	perimd_nicstats_from_link(link, out, dev);
	rtnl_link_put(link);
	/* A driver without ethtool statistics still has stats64: xdp_drops is then unknown. */
	if (read_driver_xdp_drops(ns->ioctl_fd, dev, out))
		out->has_xdp_drops = false;
	return 0;
}

static void rebase(struct perimd_nic_slot *s, int ifindex, uint64_t perim_dropped,
		   const struct perimd_nic_counters *c)
{
	memset(s, 0, sizeof(*s));
	s->ifindex = ifindex;
	s->base_perim_dropped = perim_dropped;
	s->base_xdp_drops = c->xdp_drops;
}

void perimd_nicstats_rebase(struct perimd_nicstats *ns, int slot, int ifindex, uint64_t perim_dropped)
{
	struct perimd_nic_counters c;

	if (perimd_nicstats_read(ns, ifindex, &c))
		memset(&c, 0, sizeof(c));
	rebase(&ns->slot[slot], ifindex, perim_dropped, &c);
}

/* The 1 Hz sample of slot's NIC (ifindex 0: not attached, forget it). */
static void perimd_nicstats_sample(struct perimd_nicstats *ns, int slot, int ifindex, uint64_t perim_dropped)
{
	struct perimd_nic_slot *s = &ns->slot[slot];
	struct perimd_nic_counters c;

	if (!ifindex || perimd_nicstats_read(ns, ifindex, &c)) {
		memset(s, 0, sizeof(*s));
		return;
	}
	if (s->ifindex != ifindex)
		rebase(s, ifindex, perim_dropped, &c);
	s->prev = s->last;
	s->last = (struct perimd_nic_sample){ .time_ns = perim_mono_ns(), .valid = true, .c = c };
}

/* Per second between the slot's last two samples; null until there are two. */
static void add_rate(struct json_object *o, const char *key, const struct perimd_nic_slot *s,
		     uint64_t before, uint64_t after)
{
	double r;

	if (!s->prev.valid || !s->last.valid || !perimd_rate(s->prev.time_ns, s->last.time_ns, before, after, &r)) {
		json_object_object_add(o, key, NULL);
		return;
	}
	json_add_u64(o, key, (uint64_t)(r + 0.5));
}

static struct json_object *rates_json(const struct perimd_nic_slot *s)
{
	struct json_object *o = json_object_new_object();
	const struct perimd_nic_counters *a = &s->prev.c, *b = &s->last.c;

	add_rate(o, "rx_pps", s, a->rx_packets, b->rx_packets);
	add_rate(o, "rx_dropped_pps", s, a->rx_dropped, b->rx_dropped);
	if (b->has_xdp_drops)
		add_rate(o, "xdp_drops_pps", s, a->xdp_drops, b->xdp_drops);
	else
		json_object_object_add(o, "xdp_drops_pps", NULL);
	return o;
}

/*
 * perim's drops and the driver's over the same span. The driver's count is
 * compared with perim's read before and after it (if_snapshot.h): within
 * that bracket they agree; outside it the distance is a real difference,
 * shown, not explained away.
 */
static struct json_object *since_attach_json(const struct perimd_nic_slot *s, uint64_t dropped_before,
					     uint64_t dropped_after, const struct perimd_nic_counters *c)
{
	struct json_object *o = json_object_new_object();
	int64_t low = (int64_t)(dropped_before - s->base_perim_dropped);
	int64_t high = (int64_t)(dropped_after - s->base_perim_dropped);
	int64_t theirs;

	json_add_u64(o, "perim_dropped", high);
	if (!c->has_xdp_drops) {
		json_object_object_add(o, "xdp_drops", NULL);
		json_object_object_add(o, "difference", NULL);
		return o;
	}
	theirs = (int64_t)(c->xdp_drops - s->base_xdp_drops);
	json_add_u64(o, "xdp_drops", theirs);
	json_add_int(o, "difference", theirs < low ? low - theirs : theirs > high ? high - theirs : 0);
	return o;
}

void perimd_nicstats_json(struct perimd_nicstats *ns, int slot, int ifindex,
			  const struct perimd_if_snapshot *snap, struct json_object *obj)
{
	struct perimd_nic_slot *s = &ns->slot[slot];
	const struct perimd_nic_counters *nic = &snap->nic;
	uint64_t perim_dropped = perimd_if_dropped(&snap->c);
	struct json_object *o;

	if (!ifindex || snap->nic_err) {
		json_object_object_add(obj, "nic", NULL);
		return;
	}
	if (s->ifindex != ifindex)
		rebase(s, ifindex, snap->dropped_before, nic);
	o = json_object_new_object();
	json_add_u64(o, "ifindex", ifindex);
	json_add_u64(o, "rx_packets", nic->rx_packets);
	json_add_u64(o, "rx_dropped", nic->rx_dropped);
	json_add_u64(o, "rx_missed_errors", nic->rx_missed_errors);
	json_add_u64(o, "rx_over_errors", nic->rx_over_errors);
	json_add_u64(o, "rx_fifo_errors", nic->rx_fifo_errors);
	if (nic->has_xdp_drops)
		json_add_u64(o, "xdp_drops", nic->xdp_drops);
	else
		json_object_object_add(o, "xdp_drops", NULL);
	json_object_object_add(o, "source", json_object_new_string(XDP_DROPS_SOURCE));
	json_object_object_add(o, "rates", rates_json(s));
	json_object_object_add(o, "since_attach", since_attach_json(s, snap->dropped_before, perim_dropped, nic));
	json_object_object_add(obj, "nic", o);
}

void perimd_nicstats_tick(struct perimd *d)
{
	if (!d->nl || !d->model)
		return;
	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		if (!d->model->ifaces[s].used)
			continue;
		perimd_nicstats_sample(&d->nic, s, d->att[s].attached ? d->att[s].ifindex : 0,
				       perimd_stats_if_dropped(&d->stats, s));
	}
}
