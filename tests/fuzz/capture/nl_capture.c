// SPDX-License-Identifier: GPL-2.0
/*
 * Seed capture for the netlink fuzz targets: asks the kernel what perimd
 * asks it and writes the raw answers.
 *   nl_capture link DEV OUT     RTM_GETLINK for DEV (stats skipped, as perimd's
 *                               XDP query): the reply and the ack, as received
 *   nl_capture dump OUT         RTM_GETLINK dump of every link, with stats
 *   nl_capture ethtool DEV OUT  ETH_SS_STATS count, names and values
 *                               (tests/fuzz/fuzz_nicstats.c's ethtool_blob)
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct getlink_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	struct rtattr ext_mask;
	uint32_t ext_mask_val;
};

static int die(const char *what)
{
	fprintf(stderr, "nl_capture: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Sends req and writes every datagram until NLMSG_DONE or NLMSG_ERROR (the ack). */
static int capture(struct getlink_req *req, const char *out_path)
{
	static char buf[1 << 16];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), done = 0;
	FILE *out;

	if (fd < 0)
		return die("socket");
	if (send(fd, req, req->nh.nlmsg_len, 0) < 0)
		return die("send");
	out = fopen(out_path, "w");
	if (!out)
		return die(out_path);
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n <= 0)
			return die("recv");
		if (fwrite(buf, 1, n, out) != (size_t)n)
			return die("write");
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				done = 1;
	}
	close(fd);
	return fclose(out) ? die(out_path) : 0;
}

static int capture_link(const char *dev, const char *out, int dump)
{
	struct getlink_req req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0), .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC },
		.ext_mask = { .rta_len = RTA_LENGTH(4), .rta_type = IFLA_EXT_MASK },
		.ext_mask_val = dump ? 0 : RTEXT_FILTER_SKIP_STATS,
	};

	if (!dump) {
		req.ifi.ifi_index = if_nametoindex(dev);
		if (!req.ifi.ifi_index)
			return die(dev);
	}
	return capture(&req, out);
}

static int ethtool(int fd, const char *dev, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

static int capture_ethtool(const char *dev, const char *out_path)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} info = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ethtool_gstrings *strings;
	struct ethtool_stats *values;
	uint32_t blob[3];
	FILE *out;

	if (fd < 0 || ethtool(fd, dev, &info) < 0)
		return die("ETHTOOL_GSSET_INFO");
	strings = calloc(1, sizeof(*strings) + info.len * ETH_GSTRING_LEN);
	values = calloc(1, sizeof(*values) + info.len * 8);
	if (!strings || !values)
		return die("calloc");
	*strings = (struct ethtool_gstrings){ .cmd = ETHTOOL_GSTRINGS, .string_set = ETH_SS_STATS, .len = info.len };
	*values = (struct ethtool_stats){ .cmd = ETHTOOL_GSTATS, .n_stats = info.len };
	if (ethtool(fd, dev, strings) < 0 || ethtool(fd, dev, values) < 0)
		return die("ETHTOOL_GSTRINGS/GSTATS");
	blob[0] = info.len;
	blob[1] = strings->len;
	blob[2] = values->n_stats;
	out = fopen(out_path, "w");
	if (!out)
		return die(out_path);
	/* The fuzz target's sections: no netlink part, then the ethtool part. */
	fputs("\n%%\n", out);
	fwrite(blob, sizeof(blob), 1, out);
	fwrite(strings->data, ETH_GSTRING_LEN, info.len, out);
	fwrite(values->data, 8, info.len, out);
	close(fd);
	return fclose(out) ? die(out_path) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "link"))
		return capture_link(argv[2], argv[3], 0);
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return capture_link(NULL, argv[2], 1);
	if (argc == 4 && !strcmp(argv[1], "ethtool"))
		return capture_ethtool(argv[2], argv[3]);
	fprintf(stderr, "usage: nl_capture link DEV OUT | dump OUT | ethtool DEV OUT\n");
	return 2;
}
