// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel answers perimd's NIC counter reads (ctl/perimd/nicstats.c):
 * an input is sections RTM_NEWLINK messages %% an ethtool reply, the latter
 * as struct ethtool_blob below, then the strings (ETH_GSTRING_LEN each) and
 * the values (u64 each), zero-filled when the input is short.
 */
#include <linux/ethtool.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>

#include "fuzz_util.h"
#include "links/nicstats.h"

#define MAX_STATS 256

struct ethtool_blob {
	uint32_t asked;        /* the count ETHTOOL_GSSET_INFO gave */
	uint32_t strings_len;  /* what ETHTOOL_GSTRINGS then said it filled */
	uint32_t n_stats;      /* what ETHTOOL_GSTATS said */
};

static void on_link(struct nl_object *obj, void *arg)
{
	struct perimd_nic_counters *out = arg;
	char dev[IF_NAMESIZE];

	perimd_nicstats_from_link((struct rtnl_link *)obj, out, dev);
	if (!memchr(dev, '\0', sizeof(dev)))
		abort();
}

static void parse_links(const struct fuzz_section *s)
{
	struct perimd_nic_counters out;
	int left = (int)s->len;
	struct nlmsghdr *hdr;
	void *buf = malloc(s->len ? s->len : 1);

	if (!buf)
		abort();
	memcpy(buf, s->data, s->len);
	for (hdr = buf; nlmsg_ok(hdr, left); hdr = nlmsg_next(hdr, &left)) {
		struct nl_msg *msg = nlmsg_convert(hdr);

		if (!msg)
			abort();
		nl_msg_parse(msg, on_link, &out);
		nlmsg_free(msg);
	}
	free(buf);
}

static void parse_ethtool(const struct fuzz_section *s)
{
	struct ethtool_blob b = { 0 };
	struct ethtool_gstrings *strings;
	struct ethtool_stats *values;
	struct perimd_nic_counters out = { 0 };
	size_t off = sizeof(b), n;

	memcpy(&b, s->data, s->len < sizeof(b) ? s->len : sizeof(b));
	n = b.asked % (MAX_STATS + 1);
	/* The kernel never fills more than it was asked for: the buffers are that big. */
	strings = calloc(1, sizeof(*strings) + n * ETH_GSTRING_LEN);
	values = calloc(1, sizeof(*values) + n * sizeof(uint64_t));
	if (!strings || !values)
		abort();
	strings->len = b.strings_len < n ? b.strings_len : n;
	values->n_stats = b.n_stats < n ? b.n_stats : n;
	if (s->len > off)
		memcpy(strings->data, s->data + off, s->len - off < n * ETH_GSTRING_LEN ? s->len - off : n * ETH_GSTRING_LEN);
	off += n * ETH_GSTRING_LEN;
	if (s->len > off)
		memcpy(values->data, s->data + off, s->len - off < n * 8 ? s->len - off : n * 8);
	perimd_nicstats_sum_xdp_drops(strings, values, (int)n, &out);
	free(strings);
	free(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_section s[2];

	if (size > 65536)
		return -1;
	fuzz_sections(data, size, s, 2);
	parse_links(&s[0]);
	parse_ethtool(&s[1]);
	return 0;
}
